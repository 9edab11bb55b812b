"""Locate and run the ffmpeg binary (imageio-ffmpeg's own build first, then PATH)."""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from broadcast.audio import worker
from broadcast.errors import AudioDiskFullError, AudioError
from broadcast.vitext import decimal

log = logging.getLogger(__name__)

# A ten-minute bulletin takes seconds; this only stops a hung process from
# blocking a scheduled run forever.
DEFAULT_TIMEOUT = 900.0
_FEED_BLOCK = 1 << 20


@functools.lru_cache(maxsize=1)
def find_ffmpeg() -> str:
    """Return the path of an ffmpeg executable; raise AudioError when there is none."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
        if exe and Path(exe).is_file():
            return str(exe)
    except Exception as exc:  # RuntimeError when the bundled binary is missing, ImportError
        log.debug("imageio-ffmpeg has no ffmpeg: %s", exc)
    exe = shutil.which("ffmpeg")
    if exe:
        return exe
    raise AudioError(
        "Không tìm thấy chương trình ffmpeg để xử lý âm thanh: hãy cài lại gói imageio-ffmpeg "
        "(pip install --force-reinstall imageio-ffmpeg) hoặc cài ffmpeg vào PATH."
    )


@functools.lru_cache(maxsize=1)
def ffmpeg_version() -> str:
    """Return the version string of the ffmpeg in use, e.g. "n7.1" or "6.1.1-3ubuntu5"."""
    out = run_ffmpeg(["-version"], what="đọc phiên bản ffmpeg", quiet=False)
    first = out.stdout.decode("utf-8", "replace").splitlines()
    if first and first[0].startswith("ffmpeg version "):
        return first[0].split()[2]
    return first[0].strip() if first else "unknown"


def ffmpeg_failure(what: str, stderr: bytes) -> AudioError:
    """The error for an ffmpeg run that failed: its last line, or what to do when the disk is full."""
    text = stderr.decode("utf-8", "replace")
    if "No space left on device" in text or "Disk quota exceeded" in text:
        # ffmpeg's own words are English; a full disk is something staff can fix.
        return AudioDiskFullError(f"Hết dung lượng đĩa khi {what}: hãy giải phóng dung lượng rồi chạy lại "
                          "(tệp cũ vẫn được giữ nguyên).")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return AudioError(f"ffmpeg lỗi khi {what}: {lines[-1].strip() if lines else 'không rõ nguyên nhân'}")


def run_ffmpeg(
    args: list[str],
    *,
    what: str,
    stdin: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    quiet: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg with `args` (an argument list, never a shell); raise AudioError on failure.

    `what` completes the Vietnamese sentence "ffmpeg lỗi khi ..." in errors.
    With quiet=False stderr keeps ffmpeg's info-level log (filter reports).
    """
    cmd = [find_ffmpeg(), "-hide_banner", "-nostats", "-loglevel", "error" if quiet else "info"]
    if stdin is None:
        cmd.append("-nostdin")  # never let ffmpeg read the terminal of a cron job
    cmd += args
    log.debug("ffmpeg %s", " ".join(args))
    try:
        if stdin is None:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=timeout, check=False)
        else:
            proc = subprocess.run(cmd, input=stdin, capture_output=True,
                                  timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise AudioError(f"ffmpeg chạy quá {decimal(timeout)} giây khi {what}: hãy thử lại.") from None
    except OSError as exc:
        raise AudioError(
            f"Không chạy được ffmpeg ({cmd[0]}) khi {what}: {exc.strerror or exc}. "
            "Hãy cài lại gói imageio-ffmpeg."
        ) from None
    if proc.returncode != 0:
        raise ffmpeg_failure(what, proc.stderr)
    return proc


def feed_ffmpeg(args: list[str], data: bytes | memoryview | Iterable[bytes | memoryview], *, what: str,
                timeout: float = DEFAULT_TIMEOUT) -> None:
    """Run ffmpeg reading `data` (bytes, or chunks in order) on its standard input (args name pipe:0).

    Raises AudioError on failure. Writes in large blocks straight to the
    pipe: for a 50 MB bulletin that costs far less than
    subprocess.communicate's page-sized writes; chunks made while ffmpeg
    encodes the previous ones keep both cores busy.
    """
    cmd = [find_ffmpeg(), "-hide_banner", "-nostats", "-loglevel", "error"] + args
    log.debug("ffmpeg %s", " ".join(args))
    if isinstance(data, (bytes, bytearray, memoryview)):
        view = memoryview(data).cast("B")
        data = (view[start:start + _FEED_BLOCK] for start in range(0, len(view), _FEED_BLOCK))
    # Started and registered with the worker in one step: an orphaned render kills it before
    # removing its files, and starts none after.
    try:
        proc = worker.start_child(lambda: subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                                           stderr=subprocess.PIPE))
    except OSError as exc:
        raise AudioError(
            f"Không chạy được ffmpeg ({cmd[0]}) khi {what}: {exc.strerror or exc}. "
            "Hãy cài lại gói imageio-ffmpeg."
        ) from None
    try:
        _widen_pipe(proc.stdin)
        assert proc.stdin is not None and proc.stderr is not None
        try:
            for block in data:
                proc.stdin.write(block)
            proc.stdin.close()
        except BrokenPipeError:
            pass  # ffmpeg stopped reading: its exit status and message say why
        # ffmpeg at loglevel error writes a line or two, never enough to fill the pipe.
        err = proc.stderr.read()
        returncode = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AudioError(f"ffmpeg chạy quá {decimal(timeout)} giây khi {what}: hãy thử lại.") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        worker.child_done(proc)
    if returncode != 0:
        raise ffmpeg_failure(what, err)


def _widen_pipe(pipe: object) -> None:
    """Let the pipe hold a whole block (Linux): the writer and ffmpeg then wake each other 16 times less."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, _FEED_BLOCK)  # type: ignore[attr-defined]
    except (ImportError, AttributeError, OSError):
        pass  # elsewhere, or above the system's limit: the default pipe works, a little slower
