"""Assemble a bulletin: jingles, speech, stings and pauses on one timeline, plus an optional ducked bed.

Every part is levelled at its own rate, brought to the output rate and laid
into one float32 array (full scale 1.0), so the mastering chain sees speech
at one steady working level whatever engine spoke it and however loud a
station's jingle was mastered, and no part is rounded to 16 bits twice.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sys
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from broadcast.audio import jingle as default_jingles
from broadcast.audio._audioop import audioop
from broadcast.audio.ffmpeg import run_ffmpeg
from broadcast.audio.resample import resample
from broadcast.config import AudioConfig
from broadcast.errors import AudioError
from broadcast.vitext import decimal

log = logging.getLogger(__name__)

KINDS = ("jingle", "outro", "speech", "sting", "pause")

# Working levels before mastering (active-speech RMS, dBFS). Low enough that
# s16 keeps headroom for peaks; the mastering stage sets the final loudness.
SPEECH_LEVEL_DB = -24.0
MUSIC_LEVEL_DB = -26.0  # jingles sit a little under the voice, not over it
PEAK_CEILING_DB = -1.0  # never amplify a part into s16 clipping
MAX_GAIN_DB = 40.0
ABS_GATE_DB = -60.0  # blocks quieter than this are silence
REL_GATE_DB = -15.0  # and blocks this far under the mean are pauses between words
BLOCK_S = 0.1
# Every part starts and ends at zero: a station file cut mid-note or riding on
# a DC offset would otherwise click (and overshoot after MP3 encoding) where
# it meets the next part.
EDGE_FADE_S = 0.008
QUIET_MUSIC_DB = -45.0  # a station file this quiet is checked for channels that cancel in mono
# Station music is short by nature: an ident of 5-15 s opens and closes the
# bulletin, a transition of 1-3 s separates stories. A longer file (a whole
# song picked by mistake) would take minutes from the news, and a sting
# plays between every two stories: only this much of it plays, faded out
# over the last MUSIC_CUT_FADE_S so it does not stop mid-note.
MUSIC_CAP_S = {"jingle": 30.0, "outro": 30.0, "sting": 5.0}
MUSIC_CUT_FADE_S = {"jingle": 1.0, "outro": 1.0, "sting": 0.3}
CAP_SLACK_S = 0.05  # header durations are rounded: a file this little over the cap is not "cut"

# Bed ducking: fades before speech starts and after it ends; speech separated
# by less than MERGE_GAP_S stays ducked so the bed does not pump between sentences.
DUCK_FADE_S = 0.15
MERGE_GAP_S = 0.7
BED_LEAD_S = 1.5  # bed starts this long before the first speech (after the intro jingle)
BED_TAIL_S = 1.5
BED_FADE_IN_S = 0.5
BED_FADE_OUT_S = 1.0
BED_LOOP_XFADE_S = 0.05  # loop joins are crossfaded so a bed that is not a clean loop does not click
SILENT_DB = -90.0

_ROLE_VI = {
    "jingle": "nhạc hiệu mở đầu",
    "outro": "nhạc hiệu kết thúc",
    "sting": "nhạc chuyển mục",
    "bed": "nhạc nền",
    "speech": "giọng đọc",
}


@dataclass
class Part:
    """One piece of the bulletin in playing order."""

    kind: str  # "jingle" | "outro" | "speech" | "sting" | "pause"
    path: Path | None = None  # speech: a WAV; jingle/outro/sting: a station file or None for the default
    duration_ms: int = 0  # for pause; 0 means the configured pause_ms
    label: str = ""


@dataclass
class TimelineEntry:
    """Where one part sits in the final audio, in seconds."""

    label: str
    kind: str
    start: float
    end: float


@dataclass
class Program:
    """The assembled bulletin before mastering: mono float32 samples (full scale 1.0) at `rate`."""

    samples: np.ndarray
    rate: int
    timeline: list[TimelineEntry]
    warnings: list[str] = field(default_factory=list)
    music: list[tuple[int, int]] = field(default_factory=list)  # sample spans of jingles, outros and stings

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate


# ---------------------------------------------------------------- loading


def _s16(raw: bytes) -> bytes:
    """Little-endian s16 bytes as the native order audioop works in."""
    if sys.byteorder == "big":
        return audioop.byteswap(raw, 2)
    return raw


def _check_readable(path: Path, role: str) -> None:
    what = _ROLE_VI.get(role, role)
    if not path.exists():
        hint = (
            "hãy kiểm tra đường dẫn trong mục [audio] của cấu hình"
            if role != "speech" else "hãy chạy lại để tạo lại giọng đọc"
        )
        raise AudioError(f"Không tìm thấy tệp {what} {path}: {hint}.")
    if not path.is_file():
        raise AudioError(f"{path} không phải tệp âm thanh ({what}): hãy trỏ tới một tệp mp3, wav hoặc ogg.")
    if not os.access(path, os.R_OK):
        raise AudioError(f"Không có quyền đọc tệp {what} {path}: hãy kiểm tra quyền của tệp.")


def _truncated(path: Path, role: str, declared: float, found: float) -> AudioError:
    what = _ROLE_VI.get(role, role)
    return AudioError(
        f"Tệp {what} {path} bị cắt cụt hoặc hỏng: đầu tệp ghi dài {decimal(declared, 1)} giây nhưng chỉ "
        f"đọc được {decimal(found, 1)} giây. Hãy chép lại tệp gốc hoặc chọn tệp khác."
    )


def _read_pcm_wav(path: Path, role: str = "speech", limit: int | None = None) -> tuple[bytes, int, int] | None:
    """Frames (at most `limit`), rate and declared frame count of a mono 16-bit PCM WAV, or None for other formats."""
    try:
        with wave.open(str(path), "rb") as w:
            if w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getcomptype() != "NONE":
                return None
            declared = w.getnframes()
            want = declared if limit is None else min(declared, limit)
            frames, rate = w.readframes(want), w.getframerate()
    except (wave.Error, EOFError):
        return None
    # A file cut short (copy interrupted, full disk) reads as a short one;
    # refuse it rather than play half a jingle. Past the part read, the file
    # size tells: the samples alone need two bytes each, after a 44-byte header.
    found = len(frames) // 2 if len(frames) // 2 < want else min(declared, (path.stat().st_size - 44) // 2)
    if found < declared and (found < want or declared - found > rate // 10) and rate:
        raise _truncated(path, role, declared / rate, found / rate)
    return _s16(frames), rate, declared


_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")


def _declared_seconds(path: Path) -> float | None:
    """The duration a compressed file's header gives, as ffmpeg reads it."""
    proc = run_ffmpeg(["-i", str(path), "-t", "0", "-f", "null", "-"],
                      what=f"đọc thông tin {path.name}", quiet=False)
    m = _DURATION.search(proc.stderr.decode("utf-8", "replace"))
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3)) if m else None


def _decodable_seconds(path: Path) -> float:
    """How long a compressed file really plays: all of it decoded (to nothing, nothing kept)."""
    proc = run_ffmpeg(["-i", str(path), "-map", "0:a:0", "-f", "null", "-", "-progress", "pipe:1"],
                      what=f"đọc hết {path.name}")
    times = re.findall(rb"out_time_us=(\d+)", proc.stdout)
    return int(times[-1]) / 1e6 if times else 0.0


def _check_complete(path: Path, role: str, declared: float | None, found: float) -> None:
    """Refuse a compressed file that decodes much shorter than its header says (cut short)."""
    if declared is not None and declared - found > max(0.25, 0.05 * declared):
        raise _truncated(path, role, declared, found)


def _decode(path: Path, role: str, rate: int, channel: int | None = None, seconds: float | None = None) -> bytes:
    """Decode any file ffmpeg reads to mono s16 at `rate` (all channels mixed, or only `channel`), its first
    `seconds` only if given; name the file in every error."""
    what = _ROLE_VI.get(role, role)
    mono = ["-ac", "1"] if channel is None else ["-af", f"pan=mono|c0=c{channel}"]
    head = [] if seconds is None else ["-t", f"{seconds:.6f}"]
    try:
        proc = run_ffmpeg(
            ["-i", str(path), "-map", "0:a:0", "-vn", *mono, "-ar", str(rate), *head,
             "-f", "s16le", "-"],
            what=f"giải mã {path.name}",
        )
    except AudioError as exc:
        raise AudioError(
            f"Không đọc được tệp {what} {path}: tệp hỏng hoặc không phải âm thanh "
            f"mp3/wav/ogg ({exc})."
        ) from None
    if len(proc.stdout) < 2:
        raise AudioError(f"Tệp {what} {path} không có âm thanh: hãy chọn tệp khác.")
    return _s16(proc.stdout)


# Container -> (pydub format, ffmpeg decoder). imageio-ffmpeg ships no
# ffprobe, and pydub probes with it unless both are given. WAVs that are not
# mono s16 (float, 24-bit, stereo: what audio editors save) go to ffmpeg
# directly, since pydub would probe those.
_PYDUB_FORMATS = {
    ".mp3": ("mp3", "mp3"),
    ".ogg": ("ogg", "libvorbis"),
    ".oga": ("ogg", "libvorbis"),
    ".flac": ("flac", "flac"),
}


def _decode_pydub(path: Path, role: str, rate: int, seconds: float | None = None) -> bytes:
    """Decode a station file with pydub (ffmpeg underneath), mono s16 at `rate`, its first `seconds` if given."""
    import warnings

    with warnings.catch_warnings():
        # pydub looks for ffmpeg on PATH at import; we hand it imageio-ffmpeg's below.
        warnings.simplefilter("ignore", RuntimeWarning)
        from pydub import AudioSegment
        from pydub.exceptions import CouldntDecodeError

    from broadcast.audio.ffmpeg import find_ffmpeg

    fmt, codec = _PYDUB_FORMATS[path.suffix.lower()]
    AudioSegment.converter = find_ffmpeg()
    try:
        # Let ffmpeg resample and downmix while decoding (better than audioop's ratecv).
        seg = AudioSegment.from_file(str(path), format=fmt, codec=codec, duration=seconds,
                                     parameters=["-ac", "1", "-ar", str(rate)])
    except (CouldntDecodeError, OSError, IndexError, ValueError) as exc:
        what = _ROLE_VI.get(role, role)
        raise AudioError(
            f"Không đọc được tệp {what} {path}: tệp hỏng hoặc không phải âm thanh mp3/wav/ogg "
            f"({str(exc).strip().splitlines()[-1] if str(exc).strip() else exc})."
        ) from None
    if seg.frame_rate != rate or seg.channels != 1 or seg.sample_width != 2:
        return _decode(path, role, rate, seconds=seconds)
    if not seg.raw_data:
        raise AudioError(f"Tệp {_ROLE_VI.get(role, role)} {path} không có âm thanh: hãy chọn tệp khác.")
    return _s16(seg.raw_data)


def load_audio(path: Path, role: str, rate: int) -> bytes:
    """Read a station's jingle, sting or bed file as mono s16 at `rate`; AudioError names the file."""
    return load_audio_head(path, role, rate)[0]


def load_audio_head(path: Path, role: str, rate: int, seconds: float | None = None) -> tuple[bytes, float]:
    """Read the first `seconds` (all when None) of a station file as mono s16 at `rate`, and the whole file's seconds.

    Only what will play is decoded: an hour-long file chosen as a jingle
    costs no more than its first seconds.
    """
    path = Path(path)
    _check_readable(path, role)
    limit = None if seconds is None else max(1, int(round(seconds * rate)))
    wav = _read_pcm_wav(path, role, limit)
    if wav is not None and wav[1] == rate and wav[0]:
        return wav[0], wav[2] / rate
    if path.suffix.lower() in _PYDUB_FORMATS:
        decoded = _decode_pydub(path, role, rate, seconds)
    else:
        decoded = _decode(path, role, rate, seconds=seconds)
    if wav is not None:  # a PCM WAV at another rate, checked against its header above
        return decoded, wav[2] / wav[1]
    declared = _declared_seconds(path)
    # Decoded to (about: the decoder's -t rounds) the limit, the file goes on past what plays: only a
    # decode to nothing tells whether the rest is there.
    if limit is None or len(decoded) // 2 < limit - rate // 10:
        _check_complete(path, role, declared, len(decoded) / 2 / rate)
    elif declared is not None and seconds is not None and declared > seconds:
        _check_complete(path, role, declared, _decodable_seconds(path))
    return decoded, declared if declared is not None else len(decoded) / 2 / rate


def _audible(samples: np.ndarray, path: Path, role: str, rate: int, warnings: list[str]) -> np.ndarray:
    """A station file's samples as they can be heard in mono: one channel when the mix cancels, none when silent."""
    what = _ROLE_VI.get(role, role)
    level = active_level_db(samples, rate)
    if level is not None and level > QUIET_MUSIC_DB:
        return samples
    # Channels in opposite phase (a "widened" stereo master) sum to nothing in mono.
    left = np.frombuffer(_decode(path, role, rate, channel=0, seconds=len(samples) / rate), dtype=np.int16)
    left_level = active_level_db(left, rate)
    if left_level is not None and left_level > QUIET_MUSIC_DB and (level is None or left_level - level >= 20):
        warnings.append(f"Tệp {what} {path} có hai kênh ngược pha, trộn thành một kênh thì mất tiếng: "
                        "đã dùng kênh trái. Hãy xuất lại tệp ở dạng mono.")
        return left
    if level is None:
        warnings.append(f"Tệp {what} {path} gần như im lặng: đã bỏ qua để bản tin không có khoảng lặng dài. "
                        "Hãy chọn tệp khác.")
        return samples[:0]
    return samples


SPEECH_THREADS = 2  # reading and resampling release the GIL: paragraphs load two at a time


def _load_speech(paths: list[Path], rate: int) -> list[np.ndarray]:
    """Read every speech file levelled to the working level, as float32 at `rate`, in order."""
    if len(paths) < 2:
        return [_speech_part(p, rate) for p in paths]
    with ThreadPoolExecutor(max_workers=SPEECH_THREADS) as pool:
        return list(pool.map(lambda p: _speech_part(p, rate), paths))


def _speech_part(path: Path, rate: int) -> np.ndarray:
    """One speech file: levelled at the engine's own rate (half the samples), then resampled."""
    _check_readable(path, "speech")
    wav = _read_pcm_wav(path)
    if wav is None:
        raw, src_rate = (_decode(path, "speech", rate) if path.stat().st_size > 44 else b""), rate
    else:
        raw, src_rate, _ = wav
    voice = levelled(np.frombuffer(raw, dtype=np.int16), src_rate, SPEECH_LEVEL_DB)
    return fade_edges(resample(voice, src_rate, rate), rate)


def levelled(samples: np.ndarray, rate: int, target_db: float) -> np.ndarray:
    """s16 `samples` without their DC offset, at active level `target_db`, as float32 with full scale 1.0."""
    x = samples.astype(np.float32)
    if len(x):
        x -= np.float32(x.mean(dtype=np.float64))
    x *= np.float32(10 ** (level_gain_db(x, rate, target_db) / 20) / 32768)
    return x


def fade_edges(x: np.ndarray, rate: int) -> np.ndarray:
    """Fade the first and last EDGE_FADE_S of float part `x` in and out (in place); return it."""
    n = min(len(x) // 2, int(EDGE_FADE_S * rate))
    if n:
        ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)).astype(np.float32)
        x[:n] *= ramp
        x[len(x) - n:] *= ramp[::-1]
    return x


def fade_out(x: np.ndarray, rate: int, seconds: float) -> np.ndarray:
    """Fade the last `seconds` of float part `x` out to silence along a half cosine (in place); return it."""
    n = min(len(x), int(seconds * rate))
    if n:
        x[len(x) - n:] *= (0.5 + 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)).astype(np.float32)
    return x


def to_float(samples: np.ndarray, gain_db: float = 0.0) -> np.ndarray:
    """s16 samples times a gain, as float32 with full scale 1.0 (one pass)."""
    scale = np.float32(10 ** (gain_db / 20) / 32768)
    return np.multiply(samples, scale, dtype=np.float32)


# ---------------------------------------------------------------- levels


def _as_samples(pcm: bytes | np.ndarray) -> np.ndarray:
    return pcm if isinstance(pcm, np.ndarray) else np.frombuffer(pcm, dtype=np.int16, count=len(pcm) // 2)


def active_level_db(pcm: bytes | np.ndarray, rate: int) -> float | None:
    """RMS level of the active (non-pause) parts of s16 audio in dBFS, or None for silence."""
    x = _as_samples(pcm)
    if not len(x):
        return None
    block = max(1, int(rate * BLOCK_S))
    blocks = x[None, :] if len(x) < block else x[: len(x) - len(x) % block].reshape(-1, block)
    powers = np.einsum("ij,ij->i", blocks, blocks, dtype=np.float64) / blocks.shape[1]
    powers = powers[powers > (32768 * 10 ** (ABS_GATE_DB / 20)) ** 2]
    if not len(powers):
        return None
    gated = powers[powers >= powers.mean() * 10 ** (REL_GATE_DB / 10)]
    return 10 * math.log10(gated.mean() / 32768 ** 2)


def peak_db(pcm: bytes | np.ndarray) -> float:
    """Sample peak of s16 audio in dBFS."""
    x = _as_samples(pcm)
    m = max(int(x.max()), -int(x.min())) if len(x) else 0
    return 20 * math.log10(m / 32768) if m else float("-inf")


def level_gain_db(pcm: bytes | np.ndarray, rate: int, target_db: float) -> float:
    """Gain in dB that brings the active level of s16 audio to `target_db` without clipping it."""
    level = active_level_db(pcm, rate)
    if level is None:
        return 0.0
    gain = min(target_db - level, MAX_GAIN_DB, PEAK_CEILING_DB - peak_db(pcm))
    return 0.0 if abs(gain) < 0.05 else gain


def level_to(pcm: bytes, rate: int, target_db: float) -> tuple[bytes, float]:
    """Scale s16 audio so its active level is `target_db` without clipping; return it and the gain."""
    gain = level_gain_db(pcm, rate, target_db)
    if gain == 0.0:
        return pcm, 0.0
    return audioop.mul(pcm, 2, 10 ** (gain / 20)), gain


# ---------------------------------------------------------------- envelope


def apply_envelope(pcm: bytes, rate: int, points: list[tuple[int, float]]) -> bytes:
    """Multiply s16 audio by a gain in dB, linear between (sample, dB) points, held outside them."""
    n = len(pcm) // 2
    if not points:
        return pcm
    points = sorted(points)
    step = max(1, rate // 500)  # 2 ms gain steps: smooth enough to hear no zipper noise
    out = []
    edges = [(0, points[0][1])] + [(min(max(s, 0), n), g) for s, g in points] + [(n, points[-1][1])]
    for (s0, g0), (s1, g1) in zip(edges, edges[1:]):
        if s1 <= s0:
            continue
        if abs(g1 - g0) < 1e-9:
            out.append(_gain(pcm[2 * s0: 2 * s1], g0))
            continue
        for c in range(s0, s1, step):
            e = min(c + step, s1)
            mid = (c + e) / 2
            out.append(_gain(pcm[2 * c: 2 * e], g0 + (g1 - g0) * (mid - s0) / (s1 - s0)))
    return b"".join(out)


def _gain(chunk: bytes, db: float) -> bytes:
    if db <= SILENT_DB:
        return bytes(len(chunk))
    if db == 0.0:
        return chunk
    return audioop.mul(chunk, 2, 10 ** (db / 20))


def _merge(intervals: list[tuple[int, int]], gap: int) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(intervals):
        if merged and s - merged[-1][1] < gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _duck_points(
    speech: list[tuple[int, int]], start: int, end: int, rate: int, base_db: float, duck_db: float
) -> list[tuple[int, float]]:
    """Envelope points (relative to the bed region) for the bed level with ducking and region fades."""
    fade = int(DUCK_FADE_S * rate)
    fin = int(BED_FADE_IN_S * rate)
    fout = int(BED_FADE_OUT_S * rate)
    floor = -60.0  # fade from here; quieter than the bed ever plays

    def duck(t: int) -> float:
        for s, e in speech:
            if s - fade <= t <= e + fade:
                if t < s:
                    return -duck_db * (t - (s - fade)) / fade
                if t > e:
                    return -duck_db * (1 - (t - e) / fade)
                return -duck_db
        return 0.0

    def region(t: int) -> float:
        v = 0.0
        if t < start + fin:
            v = min(v, floor * (1 - (t - start) / fin))
        if t > end - fout:
            v = min(v, floor * (t - (end - fout)) / fout)
        return v

    marks = {start, end, start + fin, end - fout}
    for s, e in speech:
        marks.update((s - fade, s, e, e + fade))
    times = sorted(t for t in marks if start <= t <= end)
    return [(t - start, base_db + duck(t) + region(t)) for t in times]


def _ramp(pcm: bytes, rate: int, g0: float, g1: float) -> bytes:
    """Multiply by a gain moving linearly (not in dB) from g0 to g1, in 2 ms steps."""
    n = len(pcm) // 2
    step = max(1, rate // 500)
    out = []
    for c in range(0, n, step):
        e = min(c + step, n)
        g = g0 + (g1 - g0) * ((c + e) / 2) / n
        out.append(audioop.mul(pcm[2 * c: 2 * e], 2, g))
    return b"".join(out)


def _tile(pcm: bytes, n_samples: int, rate: int) -> bytes:
    """Repeat `pcm` to `n_samples`, crossfading each loop join so it neither clicks nor dips."""
    n = len(pcm) // 2
    if n >= n_samples:
        return pcm[: 2 * n_samples]
    xf = min(int(BED_LOOP_XFADE_S * rate), n // 4)
    if xf < 1:
        return (pcm * (n_samples // max(1, n) + 1))[: 2 * n_samples]
    head, body, tail = pcm[: 2 * xf], pcm[2 * xf: 2 * (n - xf)], pcm[2 * (n - xf):]
    # Equal-gain linear crossfade: the bed's own tail into its head.
    seam = audioop.add(_ramp(tail, rate, 1.0, 0.0), _ramp(head, rate, 0.0, 1.0), 2)
    out = [head, body]
    total = n - xf
    while total < n_samples:
        out += [seam, body]
        total += n - xf
    return b"".join(out)[: 2 * n_samples]


# ---------------------------------------------------------------- assembly


def _source_for(kind: str, part: Part, audio: AudioConfig) -> Path | None:
    if part.path is not None:
        return Path(part.path)
    configured = getattr(audio, kind)  # AudioConfig.jingle / .outro / .sting
    if kind == "outro" and configured is None:
        configured = audio.jingle  # a station's own intro closes the bulletin too
    return Path(configured) if configured is not None else None


def _span_vi(seconds: float) -> str:
    """A length as staff say it: '20 giây', '10 phút', '1 giờ 5 phút'."""
    s = int(round(seconds))
    if s < 120:
        return f"{s} giây"
    h, m = divmod(round(s / 60), 60)
    return f"{h} giờ {m} phút" if h and m else f"{h} giờ" if h else f"{m} phút"


def _cut_warning(kind: str, path: Path, whole: float, cap: float) -> str:
    what = _ROLE_VI[kind]
    return (f"Tệp {what} {path} dài {_span_vi(whole)}, quá giới hạn {decimal(cap)} giây: bản tin chỉ phát "
            f"{decimal(cap)} giây đầu và cho nhỏ dần ở cuối. Hãy chọn hoặc cắt một tệp ngắn hơn "
            f"{decimal(cap)} giây (nhạc hiệu nên dưới 15 giây, nhạc chuyển mục dưới 3 giây).")


def assemble(parts: list[Part], audio: AudioConfig, rate: int) -> Program:
    """Put `parts` on one timeline at `rate`, levelled, with the bed mixed under speech if enabled."""
    warnings: list[str] = []
    for p in parts:
        if p.kind not in KINDS:
            raise AudioError(
                f"Loại đoạn âm thanh không hợp lệ '{p.kind}' ({p.label or 'không tên'}): "
                f"chỉ dùng {', '.join(KINDS)}."
            )
        if p.kind == "speech" and p.path is None:
            raise AudioError(f"Đoạn giọng đọc '{p.label or 'không tên'}' thiếu tệp âm thanh.")

    speech_idx = [i for i, p in enumerate(parts) if p.kind == "speech"]
    speech = _load_speech([Path(parts[i].path) for i in speech_idx], rate)  # type: ignore[arg-type]
    audio_of: dict[int, np.ndarray] = {}
    for i, samples in zip(speech_idx, speech):
        if not len(samples):
            warnings.append(f"Tệp giọng đọc {parts[i].path} rỗng: đoạn '{parts[i].label}' bị bỏ trống.")
        audio_of[i] = samples

    music_cache: dict[object, np.ndarray] = {}
    loaded: dict[object, tuple[np.ndarray, float]] = {}
    pause_of: dict[int, int] = {}
    for i, p in enumerate(parts):
        if p.kind in ("jingle", "outro", "sting") and not audio.jingles:
            # Speech only: intro and outro leave no trace, stories stay apart by the pause between sections.
            if p.kind == "sting":
                pause_of[i] = int(rate * audio.item_pause_ms / 1000)
        elif p.kind in ("jingle", "outro", "sting"):
            src = _source_for(p.kind, p, audio)
            cap = MUSIC_CAP_S[p.kind]
            heard: object = src.resolve() if src else ("default", p.kind)
            key: object = (heard, cap)
            if key not in music_cache:
                if heard not in loaded:  # each file is read once, as far as its longest role plays
                    if src:
                        raw, whole = load_audio_head(src, p.kind, rate, max(MUSIC_CAP_S.values()))
                    else:
                        raw = default_jingles.default_pcm(p.kind, rate)
                        whole = len(raw) / 2 / rate
                    samples = np.frombuffer(raw, dtype=np.int16, count=len(raw) // 2)
                    if src is not None:
                        samples = _audible(samples, src, p.kind, rate, warnings)
                    loaded[heard] = (samples, whole)
                samples, whole = loaded[heard]
                music = levelled(samples[: int(round(cap * rate))], rate, MUSIC_LEVEL_DB)
                if whole > cap + CAP_SLACK_S and len(music):
                    fade_out(music, rate, MUSIC_CUT_FADE_S[p.kind])
                    warnings.append(_cut_warning(p.kind, src, whole, cap))  # type: ignore[arg-type]
                music_cache[key] = fade_edges(music, rate)
            audio_of[i] = music_cache[key]
            if not len(audio_of[i]) and p.kind == "sting":
                del audio_of[i]  # the stories stay apart by the pause between sections
                pause_of[i] = int(rate * audio.item_pause_ms / 1000)
        elif p.kind == "pause":
            ms = p.duration_ms if p.duration_ms > 0 else audio.pause_ms
            pause_of[i] = int(rate * ms / 1000)

    timeline: list[TimelineEntry] = []
    pos = 0
    speech_spans: list[tuple[int, int]] = []
    music_spans: list[tuple[int, int, str]] = []
    placed: list[tuple[int, np.ndarray]] = []
    for i, p in enumerate(parts):
        if i not in pause_of and i not in audio_of:
            continue  # an intro or outro with jingles off
        n = pause_of[i] if i in pause_of else len(audio_of[i])
        if i in audio_of and n:
            placed.append((pos, audio_of[i]))
        timeline.append(TimelineEntry(label=p.label, kind=p.kind, start=pos / rate, end=(pos + n) / rate))
        if p.kind == "speech" and n:
            speech_spans.append((pos, pos + n))
        elif p.kind in ("jingle", "outro"):
            music_spans.append((pos, pos + n, p.kind))
        pos += n
    # Pauses are the zeros left between the parts.
    program = np.zeros(pos, dtype=np.float32)
    for start, samples in placed:
        program[start: start + len(samples)] = samples
    del placed, audio_of, speech

    if audio.bed_enabled:
        if audio.bed is None:
            warnings.append(
                "Đã bật nhạc nền (bed_enabled) nhưng chưa khai báo tệp nhạc nền (bed): bản tin không có nhạc nền."
            )
        elif speech_spans:
            _mix_bed(program, rate, audio, speech_spans, music_spans)
    music = [(round(e.start * rate), round(e.end * rate)) for e in timeline
             if e.kind in ("jingle", "outro", "sting") and e.end > e.start]
    return Program(samples=program, rate=rate, timeline=timeline, warnings=warnings, music=music)


def _mix_bed(
    program: np.ndarray, rate: int, audio: AudioConfig,
    speech: list[tuple[int, int]], music: list[tuple[int, int, str]],
) -> None:
    """Mix the looped bed into `program` under the speech section, ducked while speech plays."""
    assert audio.bed is not None
    total = len(program)
    first, last = speech[0][0], speech[-1][1]
    lead, tail = int(BED_LEAD_S * rate), int(BED_TAIL_S * rate)
    # The bed lives between the intro and the outro jingles, never under them.
    start = max([0, first - lead] + [e for s, e, _ in music if e <= first])
    end = min([total, last + tail] + [s for s, e, _ in music if s >= last])
    if end - start < rate:
        return
    # Its own rule, not the jingles' cap: looped when shorter than the speech, cut when longer (and faded
    # out either way), so only the part that plays is read and levelled.
    bed = load_audio_head(Path(audio.bed), "bed", rate, (end - start) / rate)[0]
    level = active_level_db(bed, rate)
    if level is None:
        raise AudioError(f"Tệp nhạc nền {audio.bed} chỉ có im lặng: hãy chọn tệp khác.")
    base_db = SPEECH_LEVEL_DB + audio.bed_level_db - level
    ducked = _merge(speech, int(MERGE_GAP_S * rate))
    points = _duck_points(ducked, start, end, rate, base_db, audio.bed_duck_db)
    layer = apply_envelope(_tile(bed, end - start, rate), rate, points)
    program[start:end] += to_float(np.frombuffer(layer, dtype=np.int16))
