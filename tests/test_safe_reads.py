"""Files staff name are read only when they are regular files of sensible size.

A path pointing at /dev/zero, /dev/urandom or a FIFO must be refused at once
with a message naming it, never read for ever or block the run (and its lock).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from broadcast.config import FeedConfig, load_config
from broadcast.errors import BroadcastError, ConfigError, FeedError, TemplateError
from broadcast.feeds import fetch_local
from broadcast.fsutil import MAX_STAFF_TEXT_BYTES, read_limited, read_staff_text
from broadcast.relevance import load_vocabulary
from broadcast.script import ScriptContext, render_script
from broadcast.textnorm import load_lexicon

DEVICES = ["/dev/zero", "/dev/urandom"]


def special(path: Path, kind: str) -> Path:
    """Make `path` a FIFO or a link to a device."""
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(kind)
    return path


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    return special(tmp_path / "ong-dan.txt", "fifo")


def finishes(fn, timeout: float = 10.0) -> BaseException | None:
    """Run `fn` in a thread; fail the test when it is still running after `timeout`."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            fn()
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome.append(exc)

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), "the read blocked"
    return outcome[0]


@pytest.mark.parametrize("device", DEVICES)
def test_devices_are_refused_by_name(device):
    exc = finishes(lambda: read_staff_text(device, "tệp thông báo"))
    assert isinstance(exc, BroadcastError)
    assert device in str(exc) and "không phải tệp thường" in str(exc)


def test_a_fifo_is_refused_without_blocking(fifo):
    exc = finishes(lambda: read_staff_text(fifo, "tệp thông báo"))
    assert isinstance(exc, BroadcastError)
    assert str(fifo) in str(exc) and "không phải tệp thường" in str(exc)


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(BroadcastError, match="là thư mục"):
        read_staff_text(tmp_path, "kịch bản")


def test_a_file_over_the_cap_is_refused_and_one_at_the_cap_is_read(tmp_path):
    big = tmp_path / "kich-ban.txt"
    big.write_bytes(b"a" * (MAX_STAFF_TEXT_BYTES + 1))
    with pytest.raises(BroadcastError, match=r"Kịch bản .*kich-ban\.txt lớn .* vượt giới hạn"):
        read_staff_text(big, "kịch bản")
    big.write_bytes(b"a" * MAX_STAFF_TEXT_BYTES)
    assert len(read_staff_text(big, "kịch bản")) == MAX_STAFF_TEXT_BYTES


def test_the_error_class_is_the_callers(fifo):
    exc = finishes(lambda: read_limited(fifo, "tệp cấu hình", 1000, ConfigError))
    assert isinstance(exc, ConfigError)


CONFIG = """
[general]
{general}

[[feeds]]
name = "dia-phuong"
url = "{feed}"

[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"
"""


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero"])
def test_config_file_that_is_not_a_regular_file(tmp_path, kind):
    path = special(tmp_path / "broadcast.toml", kind)
    exc = finishes(lambda: load_config(path))
    assert isinstance(exc, ConfigError) and "không phải tệp thường" in str(exc)


@pytest.mark.parametrize("device", DEVICES)
def test_lexicon_on_a_device(device):
    exc = finishes(lambda: load_lexicon(Path(device)))
    assert isinstance(exc, ConfigError) and device in str(exc)


def test_lexicon_and_topics_on_a_fifo(fifo):
    assert isinstance(finishes(lambda: load_lexicon(fifo)), ConfigError)
    assert isinstance(finishes(lambda: load_vocabulary(fifo)), ConfigError)


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "/dev/urandom"])
def test_local_feed_path_that_is_not_a_regular_file(tmp_path, kind):
    path = special(tmp_path / "tin.xml", kind)
    feed = FeedConfig(name="dia-phuong", url=str(path))
    exc = finishes(lambda: fetch_local(feed, 5_000_000))
    assert isinstance(exc, FeedError)
    assert "dia-phuong" in str(exc) and "không phải tệp thường" in str(exc)


def test_template_that_is_a_fifo(tmp_path):
    folder = tmp_path / "mau"
    folder.mkdir()
    os.mkfifo(folder / "ban-tin.txt.j2")
    import datetime as dt

    ctx = ScriptContext(station_name="Đài Hòa Phú", date=dt.date(2025, 3, 12), items=[], standing="")
    exc = finishes(lambda: render_script(ctx, folder))
    assert isinstance(exc, TemplateError) and "ban-tin.txt.j2" in str(exc)


def _cli(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "broadcast", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def test_notice_file_on_dev_zero_is_one_clear_line(tmp_path):
    proc = _cli("--out", str(tmp_path / "out"), "notice", "--file", "/dev/zero", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith("Lỗi: ") and "/dev/zero" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_notices_file_on_a_fifo_fails_the_station_not_the_machine(tmp_path):
    fifo = tmp_path / "thong-bao.txt"
    os.mkfifo(fifo)
    feed = tmp_path / "tin.xml"
    feed.write_text('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
                    encoding="utf-8")
    cfg = tmp_path / "broadcast.toml"
    cfg.write_text(CONFIG.format(general="", feed=feed) + f'notices_file = "{fifo}"\n'
                   + '[tts]\nengine = "espeak"\n', encoding="utf-8")
    proc = _cli("--config", str(cfg), "--out", str(tmp_path / "out"), "script", cwd=tmp_path)
    assert proc.returncode == 1
    assert str(fifo) in proc.stderr and "không phải tệp thường" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_oversized_staff_script_is_refused_before_any_speech(tmp_path):
    feed = tmp_path / "tin.xml"
    feed.write_text('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
                    encoding="utf-8")
    cfg = tmp_path / "broadcast.toml"
    cfg.write_text(CONFIG.format(general=f'data_dir = "{tmp_path / "data"}"', feed=feed)
                   + '[tts]\nengine = "espeak"\n', encoding="utf-8")
    day = tmp_path / "out" / "2025-03-12"
    day.mkdir(parents=True)
    script = day / "hoa-phu.txt"
    script.write_text("[tin 1] Tin dài\n" + "Bà con chú ý nghe thông báo. " * 20_000, encoding="utf-8")
    proc = _cli("--config", str(cfg), "--out", str(tmp_path / "out"), "--date", "2025-03-12",
                "build", "--no-fetch", cwd=tmp_path)
    assert proc.returncode == 1
    assert str(script) in proc.stderr and "vượt giới hạn" in proc.stderr
    assert not list((tmp_path / "data" / "speech-cache").glob("*/*.wav"))


@pytest.mark.parametrize("name", ["thong-diep.txt", "thong-diep.toml"])
@pytest.mark.parametrize("kind", ["fifo", "/dev/zero"])
def test_a_standing_message_file_that_is_not_a_regular_file_is_named(tmp_path, kind, name):
    from broadcast.config import StationConfig
    from broadcast.messages import standing_messages

    path = special(tmp_path / name, kind)
    for station in (StationConfig(id="a", name="Đài A", templates=tmp_path),
                    StationConfig(id="a", name="Đài A", standing_file=path)):
        exc = finishes(lambda: standing_messages(None, station))
        assert isinstance(exc, BroadcastError) and str(path) in str(exc)
        assert "không phải tệp thường" in str(exc)
