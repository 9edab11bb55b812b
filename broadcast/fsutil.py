"""Atomic file writes and small filesystem helpers."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import tempfile
from pathlib import Path
from typing import Iterator

from broadcast.errors import BroadcastError

log = logging.getLogger(__name__)


def _disk_error(path: Path, exc: OSError) -> BroadcastError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return BroadcastError(
            f"Hết dung lượng đĩa khi ghi {path}: hãy giải phóng dung lượng rồi chạy lại "
            "(tệp cũ vẫn được giữ nguyên)."
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return BroadcastError(f"Không có quyền ghi {path}: hãy kiểm tra quyền thư mục.")
    return BroadcastError(f"Không ghi được {path}: {exc.strerror or exc}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to `path`; move it into place only on success.

    A killed process leaves at most a hidden temporary file, never a truncated
    file at the final path, and the previous file stays until the new one is
    complete.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{final.name}.", suffix=suffix or ".tmp", dir=final.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates 0600; outputs are read by staff and the loudspeaker
    # platform, so give them the usual mode for new files.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        log.info("wrote %s", final)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _disk_error(final, exc) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write bytes to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 text to `path` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))
