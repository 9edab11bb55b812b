"""Small PCM helpers for speech: WAV read/write, ffmpeg decode and tempo, silence trim, joins.

Samples are mono signed 16-bit in `array('h')`; everything here is pure
Python plus the ffmpeg binary from imageio-ffmpeg.
"""

from __future__ import annotations

import functools
import logging
import math
import subprocess
import sys
import wave
from array import array
from pathlib import Path

from broadcast.speech.base import EngineFailure
from broadcast.vitext import decimal

log = logging.getLogger(__name__)

FFMPEG_TIMEOUT = 120.0


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary; raise EngineFailure when there is none."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # imageio-ffmpeg raises RuntimeError, import may fail
        raise EngineFailure(
            f"không tìm thấy ffmpeg ({exc}): hãy cài lại gói imageio-ffmpeg"
        ) from None


def _ffmpeg(args: list[str], stdin: bytes | None = None, what: str = "") -> bytes:
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", *args]
    try:
        proc = subprocess.run(
            cmd, input=stdin if stdin is not None else b"",
            capture_output=True, timeout=FFMPEG_TIMEOUT, check=False,
        )
    except subprocess.TimeoutExpired:
        raise EngineFailure(f"ffmpeg chạy quá {decimal(FFMPEG_TIMEOUT)} giây khi {what}") from None
    except OSError as exc:
        raise EngineFailure(f"không chạy được ffmpeg khi {what}: {exc}") from None
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        tail = err[-1] if err else ""
        raise EngineFailure(f"ffmpeg lỗi khi {what} (mã {proc.returncode}: {tail})")
    return proc.stdout


def samples_from_bytes(raw: bytes) -> array:
    """Little-endian s16 bytes as an array of samples."""
    pcm = array("h")
    pcm.frombytes(raw[: len(raw) - (len(raw) % 2)])
    if sys.byteorder == "big":
        pcm.byteswap()
    return pcm


def samples_to_bytes(pcm: array) -> bytes:
    """Samples as little-endian s16 bytes."""
    if sys.byteorder == "big":
        pcm = array("h", pcm)
        pcm.byteswap()
    return pcm.tobytes()


def decode_to_pcm(data: bytes, input_format: str | None, rate: int) -> array:
    """Decode audio bytes with ffmpeg to mono s16 at `rate` (give the format: there is no ffprobe)."""
    args: list[str] = []
    if input_format:
        args += ["-f", input_format]
    args += ["-i", "pipe:0", "-vn", "-ac", "1", "-ar", str(rate), "-f", "s16le", "pipe:1"]
    return samples_from_bytes(_ffmpeg(args, stdin=data, what=f"giải mã âm thanh {input_format or ''}".strip()))


def write_wav(path: Path, pcm: array, rate: int) -> None:
    """Write mono 16-bit samples as a WAV file."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples_to_bytes(pcm))


def wav_info(path: Path) -> tuple[int, int, int, int] | None:
    """(channels, sample width, rate, frames) of a PCM WAV, or None when it is not one."""
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
    except (wave.Error, EOFError, OSError):
        return None


def wav_duration(path: Path) -> float:
    """Duration of a WAV file in seconds (0.0 when unreadable)."""
    info = wav_info(path)
    if not info or not info[2]:
        return 0.0
    return info[3] / info[2]


def read_wav(path: Path) -> tuple[array, int]:
    """Samples and rate of a mono 16-bit WAV."""
    with wave.open(str(path), "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise EngineFailure(f"{path.name} không phải WAV mono 16-bit")
        return samples_from_bytes(w.readframes(w.getnframes())), w.getframerate()


def to_mono16_wav(src: Path, dst: Path) -> None:
    """Convert any audio file ffmpeg can read to a mono 16-bit WAV at its own rate."""
    info = wav_info(src)
    if info and info[0] == 1 and info[1] == 2:
        dst.write_bytes(src.read_bytes())
        return
    rate = info[2] if info else 0
    args = ["-nostdin", "-i", str(src), "-vn", "-ac", "1", "-c:a", "pcm_s16le"]
    if rate:
        args += ["-ar", str(rate)]
    args += ["-f", "wav", "-y", str(dst)]
    _ffmpeg(args, what=f"chuyển {src.name} sang WAV")


def apply_tempo(src: Path, dst: Path, speed: float) -> None:
    """Change speed without changing pitch (ffmpeg atempo) into a mono 16-bit WAV."""
    args = [
        "-nostdin", "-f", "wav", "-i", str(src), "-filter:a", f"atempo={speed:.4f}",
        "-ac", "1", "-c:a", "pcm_s16le", "-f", "wav", "-y", str(dst),
    ]
    _ffmpeg(args, what=f"đổi tốc độ đọc ({decimal(speed)})")


def encode_mp3(src: Path, dst: Path, bitrate: str = "128k") -> None:
    """Encode a WAV file as a mono MP3 at `dst` (a path the caller makes atomic)."""
    args = ["-nostdin", "-i", str(src), "-vn", "-ac", "1", "-codec:a", "libmp3lame", "-b:a", bitrate,
            "-f", "mp3", "-y", str(dst)]
    _ffmpeg(args, what="mã hóa MP3")


def _window_rms(pcm: array, start: int, size: int) -> float:
    end = min(len(pcm), start + size)
    if end <= start:
        return 0.0
    acc = 0
    for i in range(start, end):
        v = pcm[i]
        acc += v * v
    return math.sqrt(acc / (end - start))


def trim_silence(pcm: array, rate: int, threshold_db: float = -45.0, keep_ms: int = 30) -> array:
    """Cut leading and trailing near-silence, keeping a short margin so word edges stay intact."""
    if not pcm:
        return pcm
    threshold = 32768 * (10 ** (threshold_db / 20))
    win = max(1, rate // 100)  # 10 ms windows
    n = len(pcm)
    start = 0
    while start < n and _window_rms(pcm, start, win) < threshold:
        start += win
    if start >= n:
        return array("h")  # all silence
    end = n
    while end > start and _window_rms(pcm, max(start, end - win), min(win, end - start)) < threshold:
        end -= win
    keep = rate * keep_ms // 1000
    return pcm[max(0, start - keep): min(n, end + keep)]


def fade_edges(pcm: array, rate: int, ms: int = 8) -> array:
    """Ramp the first and last few milliseconds so joins do not click."""
    out = array("h", pcm)
    n = min(len(out) // 2, rate * ms // 1000)
    for i in range(n):
        g = i / n
        out[i] = int(out[i] * g)
        out[-1 - i] = int(out[-1 - i] * g)
    return out


def silence(rate: int, ms: int) -> array:
    """`ms` milliseconds of digital silence."""
    return array("h", bytes(2 * (rate * ms // 1000)))


def join_with_pauses(parts: list[array], pauses_ms: list[int], rate: int) -> array:
    """Concatenate faded parts with the given pause after each part but the last."""
    out = array("h")
    for i, part in enumerate(parts):
        if not part:
            continue
        if out and i > 0:
            out.extend(silence(rate, pauses_ms[i - 1]))
        out.extend(fade_edges(part, rate))
    return out
