"""MP3 delivery: constant bit rate settings the loudspeaker platforms accept, and ID3 tags.

Why these defaults (AudioConfig: 128k, 44.1 kHz, mono):
- MP3 (MPEG-1 Layer III) is the one format every IP loudspeaker platform,
  commune radio server and cheap SD/USB player decodes; 44.1 kHz is its most
  common rate and the one hardware decoders are always tested with.
- Constant bit rate, because streaming servers and hardware players compute
  length and seek positions from the bit rate; a VBR file can show a wrong
  length or stall when relayed.
- Mono, because a pole carries one horn and stereo only doubles the size.
- 128 kbit/s mono is transparent for speech and jingles while a 10-minute
  bulletin stays under 10 MB for slow rural uplinks.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from broadcast.audio.ffmpeg import feed_ffmpeg
from broadcast.errors import AudioError
from broadcast.vitext import decimal

log = logging.getLogger(__name__)

# MPEG-2 Layer III (22.05/24 kHz and below) stops at 160 kbit/s.
_MPEG2_MAX_KBPS = 160


@dataclass
class Tags:
    """ID3 tags of a bulletin."""

    title: str  # e.g. "Bản tin cải cách hành chính ngày 01/06/2025"
    artist: str  # the station name
    date: str  # ISO date, "2025-06-01"
    comment: str  # the sources, one line
    album: str = ""


def bulletin_tags(station_name: str, day: dt.date, sources: list[str], slot: str = "") -> Tags:
    """Standard tags for a bulletin: title with the date (and slot), station as artist, sources as comment."""
    title = f"Bản tin cải cách hành chính ngày {day:%d/%m/%Y}"
    if slot:
        title += f" ({slot})"
    unique = list(dict.fromkeys(s.strip() for s in sources if s.strip()))
    return Tags(
        title=title,
        artist=station_name,
        date=day.isoformat(),
        comment=("Nguồn: " + "; ".join(unique)) if unique else "",
        album="Bản tin cải cách hành chính",
    )


def _id3_date(text: str) -> str | None:
    """An ID3 timestamp (YYYY, YYYY-MM or YYYY-MM-DD) from ISO or dd/mm/yyyy text."""
    text = text.strip()
    if re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", text):
        return text
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if m:
        return f"{m.group(3)}-{int(m.group(2)):02d}-{int(m.group(1)):02d}"
    return None


def mp3_bitrate(bitrate: str, sample_rate: int) -> tuple[str, str | None]:
    """Return the bit rate to encode with at `sample_rate`, and a warning when it had to change."""
    try:
        kbps = int(bitrate.lower().rstrip("k"))
    except ValueError:
        raise AudioError(f"Tốc độ bit MP3 không hợp lệ: '{bitrate}' (ví dụ \"128k\").") from None
    if sample_rate < 32000 and kbps > _MPEG2_MAX_KBPS:
        return f"{_MPEG2_MAX_KBPS}k", (
            f"Tốc độ bit {kbps}k không dùng được với tần số lấy mẫu {sample_rate} Hz: "
            f"đã dùng {_MPEG2_MAX_KBPS}k."
        )
    return f"{kbps}k", None


def lifts_peaks(bitrate: str, sample_rate: int) -> bool:
    """Whether LAME's noise at `bitrate` and `sample_rate` can lift true peaks past the limiter's margin.

    Measured on speech bulletins: 128 kbit/s and up at 32 kHz and up add at
    most 0.1 dB; 96 kbit/s and less, or the MPEG-2 rates (22.05, 24 kHz), up to 2.3 dB.
    """
    return int(bitrate.rstrip("k")) < 128 or sample_rate < 32000


def mp3_output_args(bitrate: str, sample_rate: int) -> list[str]:
    """ffmpeg output options for mono CBR MP3 with a LAME/Info header (gapless length)."""
    return [
        "-c:a", "libmp3lame", "-b:a", bitrate, "-ar", str(sample_rate), "-ac", "1",
        # Tags are written by mutagen afterwards; ffmpeg's own ID3 would only say "Lavf".
        "-id3v2_version", "0", "-write_xing", "1", "-map_metadata", "-1", "-f", "mp3",
    ]


def write_tags(path: Path, tags: Tags) -> None:
    """Write ID3v2.3 tags (UTF-16, which hardware players read most reliably) to an MP3 file."""
    from mutagen.id3 import COMM, ID3, TALB, TDRC, TIT2, TLAN, TPE1, Encoding
    from mutagen.id3 import ID3NoHeaderError

    try:
        try:
            id3 = ID3(str(path))
        except ID3NoHeaderError:
            id3 = ID3()
        enc = Encoding.UTF16
        id3.delall("COMM")
        id3.add(TIT2(encoding=enc, text=[tags.title]))
        id3.add(TPE1(encoding=enc, text=[tags.artist]))
        date = _id3_date(tags.date)
        if date:
            id3.add(TDRC(encoding=enc, text=[date]))
        elif tags.date:
            log.warning("date %r is not YYYY-MM-DD; left out of the ID3 tags", tags.date)
        id3.add(COMM(encoding=enc, lang="vie", desc="", text=[tags.comment]))
        if tags.album:
            id3.add(TALB(encoding=enc, text=[tags.album]))
        id3.add(TLAN(encoding=enc, text=["vie"]))
        id3.save(str(path), v2_version=3, v1=0)
    except Exception as exc:  # mutagen raises many kinds; the user only needs to know it failed
        raise AudioError(f"Không ghi được thông tin ID3 vào {path.name}: {exc}") from exc


def write_mp3(pcm: bytes | memoryview | Iterable[bytes | memoryview], rate: int, bitrate: str, path: Path) -> None:
    """Encode mono s16 little-endian `pcm` (or its chunks in order) into a CBR MP3 at `path`: one ffmpeg run.

    ffmpeg's libmp3lame writes a LAME tag with the encoder delay and padding,
    so a gapless decoder plays exactly these samples.
    """
    args = ["-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0"]
    feed_ffmpeg(args + mp3_output_args(bitrate, rate) + ["-y", str(path)], pcm, what="mã hóa MP3 bản tin")


def check_mp3(path: Path, duration: float, rate: int) -> None:
    """Refuse an MP3 that is not a whole mono CBR stream at `rate` of `duration` seconds.

    Reads only the first frames (the LAME/Info tag counts the frames the
    encoder wrote) and the file size: nothing next to decoding, yet it
    catches a stream cut short or samples lost on the way to the encoder.
    """
    from mutagen.mp3 import MP3, HeaderNotFoundError

    path = Path(path)
    try:
        info = MP3(str(path)).info
        size = path.stat().st_size
    except (HeaderNotFoundError, OSError, ValueError) as exc:
        raise AudioError(f"Tệp MP3 vừa mã hóa không đọc được ({exc}): hãy chạy lại.") from None
    # The frames also hold the encoder's delay and padding: up to three frames more than the samples.
    extra = info.length - duration
    frame_bytes = 144 * info.bitrate / max(info.sample_rate, 1)
    whole = size >= info.bitrate / 8 * info.length - 2 * frame_bytes
    if info.sample_rate != rate or info.channels != 1 or not -0.01 <= extra <= 3 * 1152 / rate or not whole:
        raise AudioError(
            f"Tệp MP3 vừa mã hóa bị hỏng hoặc thiếu ({size} byte, {info.channels} kênh, {info.sample_rate} Hz, "
            f"{decimal(info.length, 2)} giây; cần 1 kênh, {rate} Hz, {decimal(duration, 2)} giây). Hãy chạy lại; nếu vẫn lỗi, "
            "hãy cài lại gói imageio-ffmpeg."
        )
