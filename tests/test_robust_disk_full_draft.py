"""The data disk fills up (a real tmpfs of a few MB) while a draft is recorded: the script on disk stays the
last one the store knows, so the next run never takes the program's own draft for a staff edit."""

from __future__ import annotations

import datetime as dt
import errno
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from broadcast import api
from broadcast.config import load_config
from offline import offline_config

DAY = dt.date(2026, 3, 12)
NOW = dt.datetime(2026, 3, 12, 4, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))


def station(name: str) -> str:
    return f'''
[[stations]]
id = "hoa-phu"
name = "{name}"
target_minutes = 1
publish = "approved"
'''


@pytest.fixture
def small_data_disk(tmp_path):
    """`tmp_path/data` on its own 16 MB filesystem (root only); yields a function that fills it up."""
    data = tmp_path / "data"
    data.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(data)],
                                           capture_output=True).returncode != 0:
        pytest.skip("a small filesystem needs root and mount")
    fillers: list[Path] = []

    def fill() -> None:
        filler = data / f"filler-{uuid.uuid4().hex}"
        fillers.append(filler)
        with open(filler, "wb") as fh:
            try:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        # Whatever blocks are still free go too.
        try:
            with open(filler, "ab") as fh:
                while True:
                    fh.write(b"\0" * 512)
                    fh.flush()
        except OSError:
            pass

    def free() -> None:
        for f in fillers:
            f.unlink(missing_ok=True)

    try:
        yield fill, free
    finally:
        free()
        subprocess.run(["umount", "-l", str(data)], check=False)


def test_a_draft_the_store_could_not_record_is_not_left_as_a_staff_edit(tmp_path, small_data_disk):
    fill, free = small_data_disk
    out = tmp_path / "audio_out"
    config = load_config(offline_config(tmp_path, station("Đài truyền thanh xã Hòa Phú")))
    report = api.draft(config, out, DAY, NOW)
    assert [r.status for r in report.results] == ["script"], [r.message for r in report.results]
    script = out / DAY.isoformat() / "hoa-phu.txt"
    first = script.read_text(encoding="utf-8")

    # The station is renamed; the refreshed draft would read differently, but the data disk is full.
    config = load_config(offline_config(tmp_path, station("Đài phát thanh xã Hòa Phú")))
    # The disk fills up while the run is under way (the store already open), as a long night's build does.
    report = api.draft(config, out, DAY, NOW, fetch=False, refresh=True, progress=lambda p: fill())
    failed = report.results[0]
    assert failed.status == "failed"
    assert "Hết dung lượng đĩa" in failed.message and "\n" not in failed.message
    assert script.read_text(encoding="utf-8") == first, "the last good script stays"
    assert not [p for p in script.parent.iterdir() if p.name.startswith(".")], "no temporary file left"

    free()
    report = api.draft(config, out, DAY, NOW, fetch=False)
    again = report.results[0]
    assert again.status == "script" and not again.edited, again.warnings
    assert not any("sửa tay" in w for w in again.warnings), again.warnings
    assert api.bulletin_status(config, out, "hoa-phu", DAY).state.value == "drafted"
    # And the refresh the full disk stopped now goes through, with no --force.
    report = api.draft(config, out, DAY, NOW, fetch=False, refresh=True)
    assert report.results[0].status == "script", report.results[0].message
    assert "Đài phát thanh xã Hòa Phú" in script.read_text(encoding="utf-8")
