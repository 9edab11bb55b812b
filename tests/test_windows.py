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
