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
from dataclasses import dataclass
from pathlib import Path

from broadcast.errors import AudioError

log = logging.getLogger(__name__)

# MPEG-2 Layer III (22.05/24 kHz and below) stops at 160 kbit/s.
_MPEG2_MAX_KBPS = 160
# LAME's algorithmic quality; 3 is LAME's (and ffmpeg's) default.
LAME_QUALITY = 3
# Samples LAME puts before the audio; decoders add their own 529 and skip both
# when the LAME tag says so.
LAME_DELAY = 576
_LAME_VERSION = b"LAME3.100"
_CHUNK_S = 10  # seconds of PCM handed to the encoder at a time
# Layer III bit rates by bit rate index, for MPEG-1 and for MPEG-2/2.5.
_KBPS_MPEG1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_KBPS_MPEG2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


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


def write_mp3(pcm: bytes, rate: int, bitrate: str, path: Path) -> None:
    """Encode mono s16 `pcm` into a CBR MP3 at `path` in one pass, with a LAME tag for the exact length."""
    import lameenc

    kbps = int(bitrate.lower().rstrip("k"))
    try:
        enc = lameenc.Encoder()
        enc.set_bit_rate(kbps)
        enc.set_in_sample_rate(rate)
        enc.set_out_sample_rate(rate)
        enc.set_channels(1)
        enc.set_quality(LAME_QUALITY)
        enc.silence()
        frames = bytearray()
        view = memoryview(pcm).cast("B")
        step = 2 * rate * _CHUNK_S
        for start in range(0, len(view), step):
            frames += enc.encode(bytes(view[start:start + step]))
        frames += enc.flush()
    except RuntimeError as exc:
        raise AudioError(
            f"Bộ mã hóa MP3 không chấp nhận {kbps}k ở {rate} Hz ({exc}): hãy đổi bitrate hoặc sample_rate."
        ) from None
    count, first = _scan_frames(frames)
    info = _info_frame(first, count, len(frames), len(view) // 2)
    try:
        with open(path, "wb") as f:
            f.write(info)
            f.write(frames)
    except OSError as exc:
        raise AudioError(f"Không ghi được tệp MP3 {path}: {exc.strerror or exc}.") from None


def write_wav(pcm: bytes, rate: int, path: Path) -> None:
    """Write mono s16 little-endian `pcm` as a 16-bit PCM WAV file."""
    import wave

    try:
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(pcm)
    except OSError as exc:
        raise AudioError(f"Không ghi được tệp WAV {path}: {exc.strerror or exc}.") from None


def _frame_size(header: int) -> tuple[int, int]:
    """Bytes and samples of the Layer III frame starting with `header`."""
    version = (header >> 19) & 3
    mpeg1 = version == 3
    kbps = (_KBPS_MPEG1 if mpeg1 else _KBPS_MPEG2)[(header >> 12) & 15]
    rate = _RATES[version][(header >> 10) & 3]
    padding = (header >> 9) & 1
    return (144000 if mpeg1 else 72000) * kbps // rate + padding, 1152 if mpeg1 else 576


def _scan_frames(data: bytearray) -> tuple[int, int]:
    """Number of frames in an encoder's output and the header of the first."""
    pos = count = 0
    first = int.from_bytes(data[:4], "big")
    while pos + 4 <= len(data):
        header = int.from_bytes(data[pos:pos + 4], "big")
        if header >> 21 != 0x7FF:
            raise AudioError("Bộ mã hóa MP3 trả về dữ liệu hỏng: hãy cài lại gói lameenc.")
        pos += _frame_size(header)[0]
        count += 1
    return count, first


def _crc16(data: bytes) -> int:
    """CRC-16 with polynomial 0x8005, bit-reflected (the LAME tag's checksum)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _info_frame(first: int, frames: int, audio_bytes: int, samples: int) -> bytes:
    """A silent first frame carrying the Info (CBR Xing) and LAME tags.

    It gives players the frame count and size for length and seeking, and
    gapless decoders the encoder delay and padding, so the decoded audio is
    exactly `samples` long.
    """
    version = (first >> 19) & 3
    mpeg1 = version == 3
    side_info = 17 if mpeg1 else 9  # mono
    rate = _RATES[version][(first >> 10) & 3]
    table = _KBPS_MPEG1 if mpeg1 else _KBPS_MPEG2
    need = 4 + side_info + 120 + 36
    index = (first >> 12) & 15
    # At low bit rates a frame is too small for the tags: use a larger one.
    while index < 14 and (144000 if mpeg1 else 72000) * table[index] // rate < need:
        index += 1
    header = (first & ~(0xF << 12) & ~(1 << 9)) | (index << 12)
    size, per_frame = _frame_size(header)
    total = size + audio_bytes
    padding = frames * per_frame - LAME_DELAY - samples
    source = 0 if rate <= 32000 else 1 if rate == 44100 else 2
    xing = (b"Info" + (0x0F).to_bytes(4, "big") + frames.to_bytes(4, "big") + total.to_bytes(4, "big")
            + bytes(i * 256 // 100 for i in range(100)) + (100 - 40 - LAME_QUALITY).to_bytes(4, "big"))
    lame = (_LAME_VERSION + bytes([0x01, 0]) + bytes(8) + bytes([0, min(255, table[(first >> 12) & 15])])
            + ((LAME_DELAY << 12) | max(0, min(4095, padding))).to_bytes(3, "big")
            + bytes([source << 6, 0]) + bytes(2) + total.to_bytes(4, "big") + bytes(2))
    frame = bytearray(size)
    frame[:4] = header.to_bytes(4, "big")
    at = 4 + side_info
    frame[at:at + len(xing) + len(lame)] = xing + lame
    end = at + len(xing) + len(lame)
    frame[end:end + 2] = _crc16(bytes(frame[:end])).to_bytes(2, "big")
    return bytes(frame)
