"""A nightly build killed (SIGKILL) after it has made new audio for approved bulletins that staff edited since:
the day's playlist, which is what the loudspeakers play, never names a file holding audio nobody approved."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from broadcast import api
from broadcast.bulletin import read_manifest
from broadcast.config import load_config
from broadcast.pipeline import sha
from broadcast.store import Store
from offline import offline_config

DAY = dt.date(2026, 3, 12)
VN = dt.timezone(dt.timedelta(hours=7))
NOW = dt.datetime(2026, 3, 12, 4, 30, tzinfo=VN)
STATIONS = ("hoa-phu", "ea-tieu")

KILLER = textwrap.dedent('''
    import datetime as dt, os, signal, sys
    from pathlib import Path
    from broadcast import api
    from broadcast.config import load_config

    config, out, victim = load_config(Path(sys.argv[1])), Path(sys.argv[2]), sys.argv[3]

    def progress(p):
        # The audio of the bulletins before `victim` is made and recorded; the playlist not yet written.
        if p.stage == "audio" and p.label.startswith(victim):
            os.kill(os.getpid(), signal.SIGKILL)

    api.build(config, out, dt.date(2026, 3, 12), dt.datetime(2026, 3, 12, 5, 0, tzinfo=dt.timezone(dt.timedelta(hours=7))),
              fetch=False, jobs=2, progress=progress)
''')


def playlist(out: Path) -> list[str]:
    return [line for line in (out / DAY.isoformat() / "playlist.m3u").read_text().splitlines()
            if line and not line.startswith("#")]


def test_a_killed_build_leaves_no_unapproved_audio_in_the_playlist(tmp_path):
    config_path = offline_config(tmp_path, "".join(f'''
[[stations]]
id = "{sid}"
name = "Đài truyền thanh xã {sid}"
target_minutes = 1
publish = "approved"
''' for sid in STATIONS))
    config = load_config(config_path)
    out = tmp_path / "audio_out"
    report = api.build(config, out, DAY, NOW, jobs=1)
    assert not report.failed, [r.message for r in report.failed]
    for sid in STATIONS:
        api.approve(config, out, sid, DAY, NOW, by="Chị Lan")
    assert sorted(playlist(out)) == sorted(f"{sid}.mp3" for sid in STATIONS)
    approved_audio = {sid: (out / DAY.isoformat() / f"{sid}.mp3").read_bytes() for sid in STATIONS}

    # Staff change both scripts after approval; the new versions wait for a new approval.
    for sid in STATIONS:
        text = (out / DAY.isoformat() / f"{sid}.txt").read_text(encoding="utf-8")
        edited = text.replace("[kết thúc]\n", "[kết thúc]\nXin bà con lưu ý lịch tiếp công dân thay đổi.\n\n", 1)
        assert edited != text
        api.save_script(config, out, sid, DAY, edited, NOW, base_sha=sha(text), by="Anh Tuấn")

    killed = subprocess.run([sys.executable, "-c", KILLER, str(config_path), str(out), STATIONS[1]],
                            capture_output=True, text=True, timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    day = out / DAY.isoformat()
    with Store(tmp_path / "data" / "broadcast.sqlite3") as store:
        rows = {sid: store.bulletin_row(sid, DAY) for sid in STATIONS}
    assert read_manifest(day / "hoa-phu.json").script_sha256 == rows["hoa-phu"]["rendered_sha"] != \
        rows["hoa-phu"]["approved_sha"], "the first bulletin was remade before the kill"
    for name in playlist(out):
        sid = name.removesuffix(".mp3")
        assert (day / name).read_bytes() == approved_audio[sid], f"{name} in the playlist is not what was approved"
    # What the record says aired is what the playlist plays.
    with Store(tmp_path / "data" / "broadcast.sqlite3") as store:
        aired = {sid for sid in STATIONS if store.aired(sid, DAY)}
    assert aired == {name.removesuffix(".mp3") for name in playlist(out)}

    # The next run finishes the work; approving makes them play again.
    report = api.build(config, out, DAY, NOW, fetch=False, jobs=1)
    assert not report.failed, [r.message for r in report.failed]
    assert playlist(out) == []
    for sid in STATIONS:
        api.approve(config, out, sid, DAY, NOW, by="Chị Lan")
    assert sorted(playlist(out)) == sorted(f"{sid}.mp3" for sid in STATIONS)


def test_a_render_that_fails_before_replacing_the_audio_keeps_it_in_the_playlist(tmp_path):
    stations = '''
[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"
target_minutes = 1
publish = "approved"
'''
    config = load_config(offline_config(tmp_path, stations))
    out = tmp_path / "audio_out"
    assert not api.build(config, out, DAY, NOW, jobs=1).failed
    api.approve(config, out, "hoa-phu", DAY, NOW, by="Chị Lan")
    approved = (out / DAY.isoformat() / "hoa-phu.mp3").read_bytes()
    assert playlist(out) == ["hoa-phu.mp3"]

    # A new station jingle, copied only half-way: the render is refused and the approved audio stands.
    jingle = tmp_path / "nhac-hieu.mp3"
    jingle.write_bytes(approved[: len(approved) // 2])
    config = load_config(offline_config(tmp_path, f'[audio]\njingle = "{jingle}"\n' + stations))
    report = api.build(config, out, DAY, NOW, fetch=False, jobs=1)
    assert [r.status for r in report.results] == ["failed"]
    assert (out / DAY.isoformat() / "hoa-phu.mp3").read_bytes() == approved
    assert playlist(out) == ["hoa-phu.mp3"]
