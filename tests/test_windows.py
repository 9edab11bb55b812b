"""Windows behaviour at the seams where it differs from Linux, simulated faithfully here.

Each test reproduces one rule of Windows (or of a FAT32 USB stick) at the
smallest seam: the call that behaves differently there is replaced by one
that behaves as Windows documents it. Tests marked "Windows-only rule" would
pass on Linux without the fix; they exist because the rule does not hold here.
"""

from __future__ import annotations

import errno
import os
import stat

import pytest

from broadcast import fsutil
from broadcast.errors import BroadcastError
from broadcast.fsutil import atomic_write_bytes, atomic_write_text


def _windows_fsync(real):
    """os.fsync as on Windows: FlushFileBuffers needs a handle opened for writing, else EBADF."""

    def fsync(fd: int) -> None:
        import fcntl

        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY:
            raise OSError(errno.EBADF, "Bad file descriptor")
        real(fd)

    return fsync


def _held_open(winerror: int):
    """os.replace as on Windows when a media player or antivirus holds the target open."""

    def replace(src, dst):
        exc = PermissionError(errno.EACCES, "The process cannot access the file because it is being used "
                                            "by another process" if winerror == 32 else "Access is denied")
        exc.winerror = winerror  # set by Python on Windows for every OSError from a Win32 call
        raise exc

    return replace


# -- atomic writes --------------------------------------------------------------------------------------------


def test_atomic_write_syncs_through_a_handle_windows_accepts(tmp_path, monkeypatch):
    # Windows-only rule: fsync of a read-only handle fails there, so every atomic write failed.
    monkeypatch.setattr(os, "fsync", _windows_fsync(os.fsync))
    target = tmp_path / "ban-tin.txt"
    target.write_text("bản cũ", encoding="utf-8")
    atomic_write_text(target, "bản mới")
    assert target.read_text(encoding="utf-8") == "bản mới"
    assert [p.name for p in tmp_path.iterdir()] == ["ban-tin.txt"]


@pytest.mark.parametrize("winerror", [32, 5])
def test_mp3_open_in_a_player_keeps_the_old_file_and_says_to_close_it(tmp_path, monkeypatch, winerror):
    monkeypatch.setattr(fsutil, "REPLACE_RETRY_DELAYS", (0.0, 0.0))
    calls = []
    held = _held_open(winerror)

    def replace(src, dst):
        calls.append(dst)
        held(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    target = tmp_path / "hoa-phu.mp3"
    target.write_bytes(b"OLD")
    with pytest.raises(BroadcastError) as err:
        atomic_write_bytes(target, b"NEW")
    msg = str(err.value)
    assert "đang được mở trong một chương trình khác" in msg and "Hãy đóng" in msg
    assert "tệp cũ vẫn được giữ nguyên" in msg and str(target) in msg
    assert target.read_bytes() == b"OLD"
    assert [p.name for p in tmp_path.iterdir()] == ["hoa-phu.mp3"]
    assert len(calls) == 3  # tried again while an antivirus scan may let go


def test_a_brief_hold_by_the_antivirus_is_waited_out(tmp_path, monkeypatch):
    monkeypatch.setattr(fsutil, "REPLACE_RETRY_DELAYS", (0.0, 0.0))
    real = os.replace
    failures = [32]

    def replace(src, dst):
        if failures:
            _held_open(failures.pop())(src, dst)
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    target = tmp_path / "hoa-phu.mp3"
    target.write_bytes(b"OLD")
    atomic_write_bytes(target, b"NEW")
    assert target.read_bytes() == b"NEW"


def test_permission_refused_on_linux_is_still_a_permission_message(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "replace", refuse)
    target = tmp_path / "hoa-phu.txt"
    with pytest.raises(BroadcastError, match="Không có quyền ghi"):
        atomic_write_text(target, "x")


# -- delivery into a folder (a USB stick, a shared folder on the amplifier PC) ---------------------------------

import datetime as dt  # noqa: E402
import hashlib  # noqa: E402

from broadcast.config import load_config  # noqa: E402
from broadcast.errors import ConfigError  # noqa: E402
from broadcast.publish.folder import FolderTarget  # noqa: E402
from broadcast.publish.targets import DeliveryError, Upload, file_name  # noqa: E402

AUDIO = b"ID3" + bytes(range(256)) * 8
CONFIG = '''
[[feeds]]
name = "baochinhphu"
url = "https://baochinhphu.vn/rss"

[[stations]]
id = "{station}"
name = "Đài truyền thanh xã Hòa Phú"
{deliver}
'''


def _upload(station: str = "hoa-phu") -> Upload:
    return Upload(station=station, date=dt.date(2026, 3, 12), slot="sang", slot_time="06:00", kind="bulletin",
                  title="Bản tin", base=f"{station}-sang", data=AUDIO, checksum=hashlib.sha256(AUDIO).hexdigest(),
                  version="v1")


def _config(tmp_path, deliver: str = "", station: str = "hoa-phu"):
    p = tmp_path / "broadcast.toml"
    p.write_text(CONFIG.format(station=station, deliver=deliver), encoding="utf-8")
    return load_config(p)


def test_mp3_on_the_stick_open_in_a_player_is_a_clear_retryable_failure(tmp_path, monkeypatch):
    monkeypatch.setattr(fsutil, "REPLACE_RETRY_DELAYS", (0.0,))
    monkeypatch.setattr(os, "replace", _held_open(32))
    stick = tmp_path / "usb"
    stick.mkdir()
    (stick / "hoa-phu_2026-03-12_sang.mp3").write_bytes(b"OLD")
    target = FolderTarget(stick, "{station}_{date}_{slot}.mp3")
    with pytest.raises(DeliveryError) as err:
        target.send(_upload(), "hoa-phu_2026-03-12_sang.mp3")
    assert "đang được mở trong một chương trình khác" in str(err.value)
    assert err.value.retry  # the player may close it before the next attempt
    assert (stick / "hoa-phu_2026-03-12_sang.mp3").read_bytes() == b"OLD"
    assert sorted(p.name for p in stick.iterdir()) == ["hoa-phu_2026-03-12_sang.mp3"]


@pytest.mark.parametrize("pattern,shown", [
    ("{station} {date}: {slot}.mp3", "':'"),
    ("{station}?{date}.mp3", "'?'"),
    ('{station}_\\"{date}\\".mp3', "'\"'"),
    ("{station}_{date}.mp3.", "dấu chấm"),
    ("{station}_{date}.mp3 ", "khoảng trắng"),
])
def test_a_pattern_windows_or_a_fat32_stick_refuses_is_a_config_error(tmp_path, pattern, shown):
    # FAT32 refuses these names on Linux too (vfat); NTFS on Windows refuses them as well.
    deliver = f'[[stations.deliver]]\nkind = "folder"\npath = "usb"\npattern = "{pattern}"\n'
    with pytest.raises(ConfigError) as err:
        _config(tmp_path, deliver)
    assert "pattern" in str(err.value) and shown in str(err.value)


@pytest.mark.parametrize("station", ["con", "nul", "aux", "prn", "com1", "lpt9"])
def test_a_station_id_windows_keeps_for_a_device_is_refused(tmp_path, station):
    # Windows-only rule: 'con.txt' or 'nul.mp3' opens a device, not a file, on Windows 10.
    with pytest.raises(ConfigError) as err:
        _config(tmp_path, station=station)
    assert f"'{station}'" in str(err.value) and "Windows" in str(err.value)


def test_a_delivered_name_that_is_a_device_on_windows_is_not_sent():
    with pytest.raises(DeliveryError) as err:
        file_name("{slot}.mp3", _upload())  # fine
        file_name("{slot}.mp3", Upload(**{**_upload().__dict__, "slot": "aux"}))
    assert "aux.mp3" in str(err.value) and not err.value.retry


# -- Windows paths typed into the configuration --------------------------------------------------------------


def test_a_windows_path_in_double_quotes_that_toml_refuses_says_how_to_write_it(tmp_path):
    deliver = '[[stations.deliver]]\nkind = "folder"\npath = "E:\\BanTin"\n'
    with pytest.raises(ConfigError) as err:
        _config(tmp_path, deliver)
    msg = str(err.value)
    assert "dòng 11" in msg and "'E:\\BanTin'" in msg and "E:/BanTin" in msg


@pytest.mark.parametrize("typed", ["D:\\bantin", "D:\\tin", "D:\\new", "C:\\Users\\loa\\file"])
def test_a_windows_path_toml_reads_as_control_characters_is_refused(tmp_path, typed):
    # "\b", "\t", "\n" and "\f" are escapes in a TOML "..." string: D:\bantin silently became D:<backspace>antin.
    deliver = f'[[stations.deliver]]\nkind = "folder"\npath = "{typed}"\n'
    with pytest.raises(ConfigError) as err:
        _config(tmp_path, deliver)
    assert "dấu nháy đơn" in str(err.value) and "/" in str(err.value)


def test_a_windows_path_in_single_quotes_is_taken_as_written(tmp_path):
    cfg = _config(tmp_path, "[[stations.deliver]]\nkind = \"folder\"\npath = 'D:\\bantin'\n")
    assert str(cfg.station("hoa-phu").deliver[0].path).endswith("D:\\bantin")


def test_a_file_url_with_a_drive_letter_names_the_windows_file(tmp_path, monkeypatch):
    # Windows-only rule: urllib.request.url2pathname is nturl2path's there; file:///C:/... is C:\..., not \C:\...
    import nturl2path

    import broadcast.config

    monkeypatch.setattr(broadcast.config, "url2pathname", nturl2path.url2pathname)
    text = CONFIG.format(station="hoa-phu", deliver="").replace(
        "https://baochinhphu.vn/rss", "file:///C:/Tin%20xa/ban-tin.xml")
    (tmp_path / "broadcast.toml").write_text(text, encoding="utf-8")
    assert load_config(tmp_path / "broadcast.toml").feeds[0].url == "C:\\Tin xa\\ban-tin.xml"


def test_a_file_url_still_names_the_posix_file(tmp_path):
    text = CONFIG.format(station="hoa-phu", deliver="").replace(
        "https://baochinhphu.vn/rss", f"file://{tmp_path}/tin%20xa.xml")
    (tmp_path / "broadcast.toml").write_text(text, encoding="utf-8")
    assert load_config(tmp_path / "broadcast.toml").feeds[0].url == f"{tmp_path}/tin xa.xml"


# -- a station's own speech program ---------------------------------------------------------------------------

import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from broadcast.config import TTSConfig  # noqa: E402
from broadcast.speech import create_engine  # noqa: E402
from broadcast.speech.base import EngineFailure  # noqa: E402

FAKE_TTS = str(Path(__file__).parent / "fake_tts.py")


def test_a_timed_out_speech_program_on_windows_ends_with_the_helpers_it_started(tmp_path, monkeypatch):
    # Windows has no os.killpg (nor SIGKILL): killing only the wrapper (a .bat that started piper.exe)
    # left the helper holding the pipes, and the run waited for it.
    killpg = os.killpg
    monkeypatch.delattr(os, "killpg")
    calls = []

    def taskkill(argv, **_kw):
        # What taskkill /F /T /PID does there: end the process and every process it started.
        calls.append(argv)
        killpg(int(argv[-1]), signal.SIGKILL)
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setattr(subprocess, "run", taskkill)
    wrapper = ["/bin/sh", "-c", f"'{sys.executable}' '{FAKE_TTS}' --mode sleep \"$0\" \"$1\"; true",
               "{input}", "{output}"]
    engine = create_engine("command", TTSConfig(engine="command", command=wrapper, command_timeout=1.0))
    start = time.monotonic()
    with pytest.raises(EngineFailure, match="chạy quá 1 giây"):
        engine.synthesize("chào", tmp_path / "t.wav")
    assert time.monotonic() - start < 20  # the helper sleeps 60 s
    assert calls and calls[0][:4] == ["taskkill", "/F", "/T", "/PID"]


# -- what a failed system call says ---------------------------------------------------------------------------

from broadcast.vitext import os_reason  # noqa: E402


@pytest.mark.parametrize("exc,said", [
    (PermissionError(errno.EACCES, "The process cannot access the file because it is being used by another "
                                   "process"), 32),
    (FileNotFoundError(errno.ENOENT, "The filename or extension is too long"), 206),
    (OSError(errno.EINVAL, "The filename, directory name, or volume label syntax is incorrect"), 123),
])
def test_windows_reasons_are_said_in_vietnamese_not_as_the_errno_guess(exc, said):
    # Python maps these Windows errors to EACCES/ENOENT/EINVAL: "no permission" or "not found" would mislead.
    exc.winerror = said
    reason = os_reason(exc)
    expected = {32: "đang được mở trong một chương trình khác", 206: "đường dẫn quá dài",
                123: "ký tự Windows không cho dùng"}[said]
    assert expected in reason


# -- speech cache statistics from two runs at once ------------------------------------------------------------

import threading  # noqa: E402

from broadcast.speech import cache as speech_cache  # noqa: E402


def test_cache_statistics_of_simultaneous_runs_add_up_where_fcntl_is_missing(tmp_path, monkeypatch):
    # Windows-only rule: there is no fcntl module there, and the statistics went unlocked.
    monkeypatch.setattr(speech_cache, "fcntl", None, raising=False)
    read = speech_cache.SpeechCache._read_stats

    def slow_read(self):  # a slow disk or an antivirus scan: another run reads the same counts meanwhile
        data = read(self)
        time.sleep(0.02)
        return data

    monkeypatch.setattr(speech_cache.SpeechCache, "_read_stats", slow_read)

    def flush():
        c = speech_cache.SpeechCache(tmp_path)
        c._hits = 1  # one cached sentence read by this run
        c.flush_stats("run-1")

    threads = [threading.Thread(target=flush) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert speech_cache.SpeechCache(tmp_path).stats().last_run_hits == 6


# -- taking a published bulletin off the web ------------------------------------------------------------------

from broadcast.publish import podcast  # noqa: E402


def test_a_public_copy_briefly_held_by_a_listener_or_antivirus_is_still_removed(tmp_path, monkeypatch):
    # Windows-only rule: a file being streamed or scanned cannot be deleted until it is let go.
    monkeypatch.setattr(fsutil, "REPLACE_RETRY_DELAYS", (0.0, 0.0))
    public = tmp_path / "hoa-phu" / "2026-03-12_sang_v.mp3"
    public.parent.mkdir()
    public.write_bytes(b"ID3")
    monkeypatch.setattr(podcast, "public_path", lambda ws, ep: public)
    real_unlink = type(public).unlink
    holds = [32]

    def unlink(self, missing_ok=False):
        if self == public and holds:
            exc = PermissionError(errno.EACCES, "The process cannot access the file")
            exc.winerror = holds.pop()
            raise exc
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(type(public), "unlink", unlink)
    podcast.drop_public_audio(None, type("Ep", (), {"station": "hoa-phu"})())
    assert not public.exists()
