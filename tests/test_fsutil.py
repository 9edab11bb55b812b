"""Atomic writes: the final path holds the old file or the complete new one, never a part."""

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from broadcast.errors import BroadcastError
from broadcast.fsutil import atomic_path, atomic_write_text


def test_failure_inside_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "ban-tin.txt"
    target.write_text("bản cũ", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("bản mới chưa xong", encoding="utf-8")
            raise RuntimeError("hỏng giữa chừng")
    assert target.read_text(encoding="utf-8") == "bản cũ"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ban-tin.txt"]


def test_full_disk_is_a_clear_error_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "ban-tin.txt"
    target.write_text("bản cũ", encoding="utf-8")

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(BroadcastError, match="Hết dung lượng đĩa"):
        atomic_write_text(target, "bản mới")
    assert target.read_text(encoding="utf-8") == "bản cũ"
    assert len(list(tmp_path.iterdir())) == 1


def test_killed_writer_never_leaves_a_partial_file(tmp_path):
    target = tmp_path / "ban-tin.mp3"
    target.write_bytes(b"OLD" * 10)
    code = textwrap.dedent(f"""
        import time
        from broadcast.fsutil import atomic_path
        with atomic_path({str(target)!r}) as tmp:
            with open(tmp, "wb") as fh:
                fh.write(b"NEW" * 1000)
                fh.flush()
                print("writing", flush=True)
                time.sleep(30)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert target.read_bytes() == b"OLD" * 10
