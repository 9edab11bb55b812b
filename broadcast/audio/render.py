"""Render a bulletin: assemble, master in memory, encode once; atomic outputs."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from broadcast.audio import encode, master, worker
from broadcast.audio.encode import Tags, mp3_bitrate, write_tags
from broadcast.audio.measure import SILENCE_LUFS, decode_float, integrated_loudness, oversampling
from broadcast.audio.measure import true_peak as measured_true_peak
from broadcast.audio.mix import Part, TimelineEntry, assemble
from broadcast.config import AudioConfig
from broadcast.errors import AudioError
from broadcast.fsutil import atomic_path
from broadcast.vitext import decimal

log = logging.getLogger(__name__)

LOUDNESS_TOLERANCE_LU = 0.5  # warn when the bulletin misses the target by more
# LAME below 256 kbit/s returns tonal sounds (voice, jingles) about 0.45 dB
# quieter than it got them (noise about 0.2 dB; measured with ffmpeg 6-9).
# Aim that much higher so one encode lands on target.
CODEC_BIAS_LU = {128: 0.45, 160: 0.4, 192: 0.25, 224: 0.1}
LENGTH_TOLERANCE = 0.20
PEAK_ATTEMPTS = 3  # encodes at most, when the encoded file is measured
PEAK_STEP_DB = 0.5  # lower the ceiling this much more than the encoder overshot
LOSSY_MARGIN_DB = 1.0  # more room under the ceiling when the encoder's noise lifts peaks (it added 0.3-2.3 dB)
# ffmpeg's ebur128 meter resamples 22.05 kHz to 192 kHz with a short filter
# that rings near Nyquist, where 22.05 kHz speech reaches: it reads up to
# 0.25 dB over an ideal 8x meter (measured; other rates agree within 0.05 dB).
METER_SPREAD_DB = {22050: 0.25}
SILENT_PEAK_DB = -120.0


@dataclass
class RenderResult:
    """What was delivered: measured on the samples handed to the encoder, once."""

    duration: float  # seconds, as a gapless decoder (ffmpeg) plays the MP3
    loudness: float  # integrated LUFS, less the encoder's known loss (CODEC_BIAS_LU), or of the decoded file
    true_peak: float  # dBTP of the master (the encoder may add a few tenths), or of the decoded file
    timeline: list[TimelineEntry]
    warnings: list[str] = field(default_factory=list)
    sample_rate: int = 44100
    bitrate: str = "128k"
    stages: dict[str, float] = field(default_factory=dict)  # wall seconds of each step, for benchmarks


def length_warning(duration: float, target_seconds: float | None, stories: int | None = None) -> str | None:
    """A Vietnamese warning when a bulletin is more than 20% off its target length.

    `stories` is the number of stories when the day had no more relevant news than
    that: a short bulletin is then the news's doing, not a setting to change.
    """
    if not target_seconds or target_seconds <= 0:
        return None
    off = duration / target_seconds - 1
    if abs(off) <= LENGTH_TOLERANCE:
        return None
    longer = "dài hơn" if off > 0 else "ngắn hơn"
    head = f"Bản tin dài {_mmss(duration)}, {longer} {abs(off) * 100:.0f}% so với thời lượng mong muốn {_mmss(target_seconds)}"
    if off < 0 and stories is not None:
        have = f"chỉ có {stories} tin" if stories else "không có tin nào"
        return (f"{head}: hôm nay {have} đủ mức liên quan, không cần sửa cấu hình; muốn bản tin dài hơn "
                "thì thêm nguồn tin, tin của xã hoặc thông báo.")
    return f"{head}: hãy điều chỉnh số tin (max_items) hoặc target_minutes."


def _mmss(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    if not s:
        return f"{m} phút"
    return f"{m} phút {s} giây" if m else f"{s} giây"


def render(
    parts: list[Part],
    audio: AudioConfig,
    out_mp3: Path,
    tags: Tags,
    out_wav: Path | None = None,
    target_seconds: float | None = None,
    stories: int | None = None,
) -> RenderResult:
    """Mix, master and encode `parts` into `out_mp3` (and `out_wav`); the old files stay if it fails.

    In a worker process the render stops when the parent dies and then
    replaces no file.
    """
    worker.watch_parent()
    started = time.perf_counter()
    out_mp3 = Path(out_mp3)
    rate = audio.sample_rate
    bitrate, rate_warning = mp3_bitrate(audio.bitrate, rate)
    program = assemble(parts, audio, rate)
    stages = {"assemble": time.perf_counter() - started}
    log.debug("assembled %.1f s of audio from %d parts", program.duration, len(parts))
    warnings = list(program.warnings)
    if rate_warning:
        warnings.append(rate_warning)
    if not len(program.samples):
        raise AudioError("Bản tin không có âm thanh nào để ghi: hãy kiểm tra kịch bản và giọng đọc.")

    bias = _codec_bias(bitrate)
    # At few bits per sample the encoder's own noise lifts peaks past the
    # margin (up to 2 dB, measured): such files are decoded and measured, and
    # mastered again under a lower ceiling while they peak too high.
    check = encode.lifts_peaks(bitrate, rate)
    pristine = program.samples.copy() if check else None
    # Most such files then pass at the first encode.
    ceiling = audio.true_peak - master.LIMIT_MARGIN_DB - (LOSSY_MARGIN_DB if check else 0.0)
    # Mastered in place: the program's array becomes the master.
    mastered = master.master(program.samples, rate, audio, audio.loudness + bias, ceiling, program.music)
    program.samples = mastered.samples[:0]
    stages.update(mastered.stages)
    silent = mastered.loudness <= SILENCE_LUFS + 1
    # What the decoded MP3 will measure: the master less what LAME takes away.
    loudness = max(mastered.loudness, SILENCE_LUFS) - (0.0 if silent else bias)
    true_peak = mastered.true_peak

    wav_ctx = atomic_path(out_wav, suffix=".wav") if out_wav else contextlib.nullcontext(None)
    with contextlib.ExitStack() as stack:
        # Entered first, left last: from the temporaries' creation to their move into
        # place (fsync and rename included), an orphaned worker removes them.
        stack.enter_context(worker.scratch(out_mp3))
        if out_wav is not None:
            stack.enter_context(worker.scratch(out_wav))
        tmp_mp3 = stack.enter_context(atomic_path(out_mp3, suffix=".mp3"))
        tmp_wav = stack.enter_context(wav_ctx)
        for attempt in range(PEAK_ATTEMPTS):
            mark = time.perf_counter()
            chunks = mastered.s16_chunks()
            if tmp_wav is not None:
                chunks = _tee_wav(chunks, rate, tmp_wav)
            encode.write_mp3(chunks, rate, bitrate, tmp_mp3)
            stages["encode"] = stages.get("encode", 0.0) + time.perf_counter() - mark
            if pristine is None or silent:
                break
            mark = time.perf_counter()
            decoded = decode_float(tmp_mp3)
            # Oversampled to 176.4 kHz or more like ffmpeg's meter: at 22-24 kHz 4x misses peaks.
            loudness = integrated_loudness(decoded, rate)
            true_peak = measured_true_peak(decoded, oversampling(rate)) + METER_SPREAD_DB.get(rate, 0.0)
            del decoded
            stages["verify"] = stages.get("verify", 0.0) + time.perf_counter() - mark
            if true_peak <= audio.true_peak or attempt == PEAK_ATTEMPTS - 1:
                break
            log.debug("encoded true peak %.2f dBTP over %.2f: mastering again", true_peak, audio.true_peak)
            ceiling -= true_peak - audio.true_peak + PEAK_STEP_DB
            samples = pristine if attempt == PEAK_ATTEMPTS - 2 else pristine.copy()
            mastered = master.master(samples, rate, audio, audio.loudness + bias, ceiling, program.music)
        del pristine
        mark = time.perf_counter()
        # The MP3's LAME tag carries encoder delay and padding, so a gapless
        # decoder (ffmpeg, most players) plays exactly the mixed samples.
        duration = len(mastered.samples) / rate
        encode.check_mp3(tmp_mp3, duration, rate)
        write_tags(tmp_mp3, tags)
        if not worker.parent_alive():
            raise AudioError("Tiến trình chính đã dừng: không ghi bản tin.")
        stages["check"] = time.perf_counter() - mark

    if silent:
        warnings.append("Bản tin gần như im lặng: hãy kiểm tra các tệp giọng đọc.")
    else:
        if abs(loudness - audio.loudness) > LOUDNESS_TOLERANCE_LU:
            warnings.append(
                f"Độ lớn bản tin là {decimal(loudness, 1)} LUFS, lệch mục tiêu {decimal(audio.loudness, 1)} LUFS."
            )
        # Without decoding, the master's peak stands for the file's: it must keep the encoder's margin.
        allowed = audio.true_peak if check else audio.true_peak - master.LIMIT_MARGIN_DB + 0.05
        if true_peak > allowed:
            warnings.append(
                f"Đỉnh thực của bản tin là {decimal(true_peak, 1)} dBTP, sát hoặc cao hơn mức cho phép "
                f"{decimal(audio.true_peak, 1)} dBTP: có thể bị méo trên loa."
            )

    warn = length_warning(duration, target_seconds, stories)
    if warn:
        warnings.append(warn)
    for w in warnings:
        log.warning("%s", w)
    return RenderResult(
        duration=duration,
        loudness=loudness,
        # Finite even for silence so the manifest stays valid JSON.
        true_peak=max(true_peak, SILENT_PEAK_DB),
        timeline=program.timeline,
        warnings=warnings,
        sample_rate=rate,
        bitrate=bitrate,
        stages=stages,
    )


def _tee_wav(chunks: Iterator[memoryview], rate: int, path: Path) -> Iterator[memoryview]:
    """Pass the encoder's chunks through, writing each to a 16-bit WAV at `path` on the way."""
    import wave

    try:
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            for chunk in chunks:
                w.writeframes(chunk)
                yield chunk
    except OSError as exc:
        raise AudioError(f"Không ghi được tệp WAV {path}: {exc.strerror or exc}.") from None


def _codec_bias(bitrate: str) -> float:
    kbps = int(bitrate.rstrip("k"))
    for limit in sorted(CODEC_BIAS_LU):
        if kbps <= limit:
            return CODEC_BIAS_LU[limit]
    return 0.0
