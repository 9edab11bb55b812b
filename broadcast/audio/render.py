"""Render a bulletin: assemble, master, encode, measure the delivered MP3; atomic outputs."""

from __future__ import annotations

import contextlib
import logging
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from broadcast.audio import master
from broadcast.audio.encode import Tags, mp3_bitrate, write_tags
from broadcast.audio.measure import SILENCE_LUFS, measure
from broadcast.audio.mix import SPEECH_LEVEL_DB, Part, TimelineEntry, assemble
from broadcast.config import AudioConfig
from broadcast.errors import AudioError
from broadcast.fsutil import atomic_path

log = logging.getLogger(__name__)

LOUDNESS_TOLERANCE_LU = 0.5  # re-encode once when the MP3 misses the target by more
# LAME below 256 kbit/s returns tonal sounds (voice, jingles) about 0.45 dB
# quieter than it got them (noise about 0.2 dB; measured with ffmpeg 6-9).
# Aim that much higher so one encode lands on target.
CODEC_BIAS_LU = {128: 0.45, 160: 0.4, 192: 0.25, 224: 0.1}
# Loudness after high-pass and compression minus the mix's active RMS level,
# typical for speech (espeak, gTTS, synthetic): -6.5 dB, give or take 1.5.
CHAIN_OFFSET_DB = -6.5
GUESS_HEADROOM_DB = 1.5
# A gain increase on already limited audio gains about 30% less loudness.
LIMIT_SLOPE = 0.3
LENGTH_TOLERANCE = 0.20
MAX_CUT_DB = 30.0
SILENT_PEAK_DB = -120.0


@dataclass
class RenderResult:
    """What was delivered, measured on the encoded MP3."""

    duration: float  # seconds, as a gapless decoder (ffmpeg) plays the MP3
    loudness: float  # integrated LUFS
    true_peak: float  # dBTP
    timeline: list[TimelineEntry]
    warnings: list[str] = field(default_factory=list)
    sample_rate: int = 44100
    bitrate: str = "128k"


def length_warning(duration: float, target_seconds: float | None) -> str | None:
    """A Vietnamese warning when a bulletin is more than 20% off its target length."""
    if not target_seconds or target_seconds <= 0:
        return None
    off = duration / target_seconds - 1
    if abs(off) <= LENGTH_TOLERANCE:
        return None
    longer = "dài hơn" if off > 0 else "ngắn hơn"
    return (
        f"Bản tin dài {_mmss(duration)}, {longer} thời lượng mong muốn {_mmss(target_seconds)} "
        f"tới {abs(off) * 100:.0f}%: hãy điều chỉnh số tin (max_items) hoặc target_minutes."
    )


def _mmss(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 60} phút {s % 60:02d} giây"


def render(
    parts: list[Part],
    audio: AudioConfig,
    out_mp3: Path,
    tags: Tags,
    out_wav: Path | None = None,
    target_seconds: float | None = None,
) -> RenderResult:
    """Mix, master and encode `parts` into `out_mp3` (and `out_wav`); the old files stay if it fails."""
    out_mp3 = Path(out_mp3)
    rate = audio.sample_rate
    bitrate, rate_warning = mp3_bitrate(audio.bitrate, rate)
    program = assemble(parts, audio, rate)
    log.debug("assembled %.1f s of audio from %d parts", program.duration, len(parts))
    warnings = list(program.warnings)
    if rate_warning:
        warnings.append(rate_warning)
    if not program.pcm:
        raise AudioError("Bản tin không có âm thanh nào để ghi: hãy kiểm tra kịch bản và giọng đọc.")

    with tempfile.TemporaryDirectory(prefix="broadcast-audio-") as tmpdir:
        processed = Path(tmpdir) / "processed.f32"
        aim = audio.loudness + _codec_bias(bitrate)
        ceiling = audio.true_peak - master.LIMIT_MARGIN_DB
        # Estimate the gain from the mix's working level, a little high on purpose:
        # the correction after measuring is then a cut, which the limiter leaves alone.
        guess = (program.level_db if program.level_db is not None else SPEECH_LEVEL_DB) + CHAIN_OFFSET_DB
        first_gain = _clamp_gain(aim - guess + GUESS_HEADROOM_DB)
        pre, post = master.analyse(program, audio, processed, first_gain, ceiling)
        log.debug("pass 1: mix level %s dBFS, %.1f LUFS after compression, %.1f LUFS after gain %.1f dB",
                  program.level_db, pre.integrated, post.integrated, first_gain)
        silent = pre.integrated <= SILENCE_LUFS + 1
        if silent:
            gain = -first_gain
            warnings.append("Bản tin gần như im lặng: hãy kiểm tra các tệp giọng đọc.")
        else:
            limited = pre.integrated + first_gain - post.integrated > 0.05
            gain = _correction(aim - post.integrated, limited)
            gain = _clamp_gain(first_gain + gain) - first_gain

        wav_ctx = atomic_path(out_wav, suffix=".wav") if out_wav else contextlib.nullcontext(None)
        with atomic_path(out_mp3, suffix=".mp3") as tmp_mp3, wav_ctx as tmp_wav:
            first_ceiling = ceiling
            for attempt in range(2):
                needs_limit = gain > 0 or ceiling < first_ceiling
                master.finish(processed, rate, gain, ceiling if needs_limit else None,
                              tmp_mp3, bitrate, tmp_wav)
                got = measure(tmp_mp3)
                loud_ok = abs(got.integrated - audio.loudness) <= LOUDNESS_TOLERANCE_LU
                peak_ok = not got.true_peak > audio.true_peak
                log.debug("encoded: %.2f LUFS, %.2f dBTP", got.integrated, got.true_peak)
                if silent or (loud_ok and peak_ok) or attempt == 1:
                    break
                # One measured correction for what the encoder changed (rare).
                if not loud_ok:
                    gain += _correction(audio.loudness - got.integrated, True)
                if not peak_ok:
                    ceiling -= got.true_peak - audio.true_peak + 0.3
            if not peak_ok:
                warnings.append(
                    f"Đỉnh thực của bản tin là {got.true_peak:.1f} dBTP, cao hơn mức cho phép "
                    f"{audio.true_peak:.1f} dBTP: có thể bị méo trên loa."
                )
            if not loud_ok and not silent:
                warnings.append(
                    f"Độ lớn bản tin là {got.integrated:.1f} LUFS, lệch mục tiêu {audio.loudness:.1f} LUFS."
                )
            write_tags(tmp_mp3, tags)
            # The MP3's LAME/Info header carries encoder delay and padding, so a gapless
            # decoder (ffmpeg, most players) plays exactly the mixed samples.
            duration = program.duration

    warn = length_warning(duration, target_seconds)
    if warn:
        warnings.append(warn)
    for w in warnings:
        log.warning("%s", w)
    return RenderResult(
        duration=duration,
        loudness=got.integrated,
        # Finite even for silence (ebur128 says -inf) so the manifest stays valid JSON.
        true_peak=max(got.true_peak, SILENT_PEAK_DB) if not math.isnan(got.true_peak) else SILENT_PEAK_DB,
        timeline=program.timeline,
        warnings=warnings,
        sample_rate=rate,
        bitrate=bitrate,
    )



def _codec_bias(bitrate: str) -> float:
    kbps = int(bitrate.rstrip("k"))
    for limit in sorted(CODEC_BIAS_LU):
        if kbps <= limit:
            return CODEC_BIAS_LU[limit]
    return 0.0


def _correction(miss: float, limited: bool) -> float:
    """Gain (dB) that makes up `miss` LU; raising limited audio needs a little more."""
    return miss / (1 - LIMIT_SLOPE) if miss > 0 and limited else miss


def _clamp_gain(gain: float) -> float:
    return max(-MAX_CUT_DB, min(master.MAX_GAIN_DB, gain))
