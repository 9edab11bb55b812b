"""Atomic file writes and small filesystem helpers."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from broadcast.errors import BroadcastError, DiskFullError
from broadcast.vitext import os_reason, size_text

log = logging.getLogger(__name__)


# Windows refuses to replace a file another program holds open: ERROR_ACCESS_DENIED (5),
# ERROR_SHARING_VIOLATION (32), ERROR_LOCK_VIOLATION (33). An antivirus scanning the new
# file lets go within a second; a media player or Excel holds it until closed.
HELD_OPEN_WINERRORS = (5, 32, 33)
REPLACE_RETRY_DELAYS = (0.2, 0.8)


def held_open(exc: OSError) -> bool:
    """Whether Windows refused because another program has the file open (or it is read-only)."""
    return isinstance(exc, PermissionError) and getattr(exc, "winerror", None) in HELD_OPEN_WINERRORS


def held_open_error(path: Path) -> BroadcastError:
    """The message for a file another program holds open: close it and run again."""
    return BroadcastError(
        f"Không thay được {path}: tệp đang được mở trong một chương trình khác (trình phát nhạc, Notepad, "
        "Excel, phần mềm diệt virus) hoặc đặt chỉ đọc. Hãy đóng chương trình đó rồi chạy lại "
        "(tệp cũ vẫn được giữ nguyên)."
    )


def _waiting_out_holds(action: Callable[..., object], *args: object) -> None:
    for delay in (*REPLACE_RETRY_DELAYS, None):
        try:
            action(*args)
            return
        except OSError as exc:
            if delay is None or not held_open(exc):
                raise
        time.sleep(delay)


def replace_file(src: Path, dst: Path) -> None:
    """os.replace, waiting out an antivirus that briefly holds the target open on Windows."""
    _waiting_out_holds(os.replace, src, dst)


def remove_file(path: Path) -> None:
    """Delete `path` if it is there, waiting out a program that briefly holds it open on Windows."""
    _waiting_out_holds(lambda: path.unlink(missing_ok=True))


# Names Windows keeps for devices, with or without an extension ('con.txt' is the console).
WINDOWS_DEVICES = frozenset(["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
                            + [f"{d}{i}" for d in ("COM", "LPT") for i in range(1, 10)])
WINDOWS_FORBIDDEN = '<>:"/\\|?*'


def windows_device(name: str) -> bool:
    """Whether a file name is a device on Windows: its part before the first dot is CON, NUL, COM1..."""
    return name.split(".", 1)[0].rstrip(" ").upper() in WINDOWS_DEVICES


def windows_name_problem(name: str) -> str | None:
    """Why Windows or a FAT32 USB stick would refuse `name` as a file name, in Vietnamese; None if it takes it."""
    bad = sorted({c for c in name if c in WINDOWS_FORBIDDEN or ord(c) < 32})
    if bad:
        shown = ", ".join(repr(c) if ord(c) >= 32 else f"mã {ord(c)}" for c in bad)
        return f"có ký tự {shown} mà Windows và USB FAT32 không cho dùng trong tên tệp ({WINDOWS_FORBIDDEN})"
    if name.endswith((".", " ")):
        return "tận cùng bằng dấu chấm hoặc khoảng trắng, Windows sẽ tự cắt đi"
    if windows_device(name):
        return "trùng tên thiết bị dành riêng của Windows (CON, PRN, AUX, NUL, COM1–COM9, LPT1–LPT9)"
    if len(name) > 255:
        return "dài quá 255 ký tự"
    return None


def _disk_error(path: Path, exc: OSError) -> BroadcastError:
    if held_open(exc):
        return held_open_error(path)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError(
            f"Hết dung lượng đĩa khi ghi {path}: hãy giải phóng dung lượng rồi chạy lại "
            "(tệp cũ vẫn được giữ nguyên)."
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return BroadcastError(f"Không có quyền ghi {path}: hãy kiểm tra quyền thư mục.")
    return BroadcastError(f"Không ghi được {path}: {os_reason(exc)}.")


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
        # Opened for writing: Windows flushes only a handle that may write (else EBADF).
        with open(tmp, "r+b") as fh:
            os.fsync(fh.fileno())
        replace_file(tmp, final)
        log.debug("wrote %s", final)  # one per file: too many for the operator's log file
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


# A bulletin script is a few KB; the longest bulletin the configuration
# allows (120 minutes) is about 200 KB of Vietnamese text.
MAX_STAFF_TEXT_BYTES = 400_000
# Configuration, topic vocabularies, pronunciation dictionaries, templates.
MAX_SETTINGS_BYTES = 5_000_000

E = TypeVar("E", bound=BroadcastError)




def resolved_inside(path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> Path | None:
    """`path` with its links resolved, or None when they lead outside `folder`.

    Staff folders are often shares anyone may drop a file into: a link there
    must never make the server read one of its own files aloud. Read the
    returned path with `follow=False`, so no link is swapped in meanwhile.
    """
    real = Path(path).resolve()
    return real if Path(folder).resolve() in real.parents else None


def read_limited(path: str | os.PathLike[str], what: str, limit: int,
                 error: type[E] = BroadcastError, *, follow: bool = True) -> bytes:  # type: ignore[assignment]
    """Read a regular file of at most `limit` bytes; refuse devices, pipes and folders.

    The file is opened non-blocking so a FIFO named by mistake never hangs the
    run, and is read no further than the limit so /dev/zero or a runaway file
    cannot fill memory. With `follow` false a symbolic link at `path` itself is
    refused. Every refusal is an `error` naming `what` and the path.
    """
    p = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(p, flags)
    except FileNotFoundError:
        raise error(f"Không tìm thấy {what} {p}: hãy kiểm tra đường dẫn.") from None
    except PermissionError:
        raise error(f"Không có quyền đọc {what} {p}: hãy kiểm tra quyền tệp.") from None
    except OSError as exc:
        raise error(f"Không đọc được {what} {p}: {exc.strerror or exc}.") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise error(f"{p} là thư mục, không phải {what}: hãy chỉ tới một tệp.")
        if not stat.S_ISREG(st.st_mode):
            raise error(
                f"{p} không phải tệp thường (là thiết bị hoặc ống dẫn) nên không đọc làm {what}: "
                "hãy chỉ tới một tệp văn bản."
            )
        if st.st_size > limit:
            raise error(
                f"{what.capitalize()} {p} lớn {size_text(st.st_size)}, vượt giới hạn "
                f"{size_text(limit)}: hãy kiểm tra có chỉ nhầm tệp không."
            )
        # The file may grow while being read: never take more than the limit.
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise error(f"Không đọc được {what} {p}: {exc.strerror or exc}.") from None
    finally:
        os.close(fd)
    if total > limit:
        raise error(
            f"{what.capitalize()} {p} vượt giới hạn {size_text(limit)}: hãy kiểm tra có chỉ nhầm tệp không."
        )
    return b"".join(chunks)


def read_staff_text(path: str | os.PathLike[str], what: str, limit: int = MAX_STAFF_TEXT_BYTES,
                    error: type[E] = BroadcastError, *, follow: bool = True) -> str:  # type: ignore[assignment]
    """Read a text file staff wrote: UTF-8 (with or without BOM) or UTF-16 with BOM.

    Editors on Windows save either; anything else is an error that names the
    file and says how to save it. `what` names the file in that message.
    """
    p = Path(path)
    raw = read_limited(p, what, limit, error, follow=follow)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(
            f"{what.capitalize()} {p}, dòng {line}: không phải chữ mã UTF-8. "
            "Hãy mở tệp và lưu lại với bảng mã UTF-8 (Save As → Encoding: UTF-8)."
        ) from None
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def check_script_size(text: str, what: str = "Kịch bản") -> None:
    """Refuse a script or notice typed in (not read from a file) above the staff-text limit."""
    size = len(text.encode("utf-8"))
    if size > MAX_STAFF_TEXT_BYTES:
        raise BroadcastError(
            f"{what} lớn {size_text(size)}, vượt giới hạn {size_text(MAX_STAFF_TEXT_BYTES)} của một bản tin "
            "(một bản tin thường chỉ vài KB). Hãy kiểm tra lại nội dung.")
