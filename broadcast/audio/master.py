"""Mastering for horn loudspeakers, in memory: high-pass, gentle compression, loudness gain, true-peak limiting.

The whole chain works on one float array of the assembled bulletin, so the
encoder is the only pass over the audio outside this process:
1. high-pass at `highpass_hz` (12 dB/octave): horns cannot reproduce lows,
   they only eat amplifier power and blur words;
2. compressor (power of 2 ms blocks held over the release time, soft knee)
   on the syllable peaks of the speech;
3. BS.1770 loudness of the compressed program, and the static gain that
   brings it to the aim (never a dynamic normaliser that pumps);
4. a look-ahead limiter on the 4x-oversampled peak envelope (a true-peak
   limiter), below the true-peak target by a margin for the MP3 encoder;
5. verification: BS.1770 loudness of the very samples the encoder gets; if
   the limiter took loudness away, a few measured corrections (block level, cheap).

Only two filters run over every sample (the high-pass and the K-weighting
of the loudness meter); everything else is decided per 2 ms block. All
gains are slow next to the K-weighting filter's impulse response, so the
loudness of the gained program is the K-weighted block energies times the
block's mean squared gain (checked against a full meter in the tests).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from scipy import signal
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from broadcast.audio.measure import SILENCE_LUFS, gated_loudness, k_weighting, peak_envelope
from broadcast.audio.measure import true_peak as measured_true_peak
from broadcast.audio.mix import MUSIC_LEVEL_DB, SPEECH_LEVEL_DB
from broadcast.config import AudioConfig

log = logging.getLogger(__name__)

# Gentle speech compression: about 3 dB on average, 5 dB on the loudest
# tenth of the syllables, under 7 dB at most (measured on the three espeak-ng
# voices, bench/measure_compressor.py). It brings quiet syllables nearer the
# loud ones (spread of 50 ms levels 11.6 -> 11.3 LU, 11.9 -> 11.4 LU for a
# voice drifting +-6 dB) without pumping. The detector follows the power of
# 2 ms blocks held over the release time, so on speech it reads the syllable
# peaks, 6-9 dB over the active RMS level the mix works at: the threshold
# sits above that level, not under it. At 3 dB under it the compressor took
# 7 dB on average, evened the syllables no better, and swung by over 6 dB
# within 400 ms in 6% of the speech (0.9% now).
COMP_THRESHOLD_DB = SPEECH_LEVEL_DB + 4.0
COMP_RATIO = 2.5
COMP_ATTACK_S = 0.010
COMP_RELEASE_S = 0.200
COMP_KNEE_DB = 6.0
CONTROL_S = 0.002  # gains are decided per block of about 2 ms, interpolated between
STEP_S = 0.1  # the loudness meter's step: a whole number of blocks
GATE_BLOCK_S = 0.4  # the loudness meter's gating block
MAX_SUBSTEP = 16  # gain curves move in steps of at most this many samples (0.36 ms at 44.1 kHz)
# MP3 encoding adds a few tenths of a decibel to true peaks: the limiter
# sits this far below the target.
LIMIT_MARGIN_DB = 1.0
MIN_CEILING_DB = -20.0
LIMIT_HOLD_S = 0.020  # gain reduction is held this long after a peak before it fades out
MAX_GAIN_DB = 40.0
MAX_CUT_DB = 30.0
LOUDNESS_TOLERANCE_LU = 0.1  # correct when the limiter leaves the master further off
GAIN_ATTEMPTS = 5
# A gain increase on already limited audio gains about 30% less loudness at
# first; later steps use the slope measured.
LIMIT_SLOPE = 0.3
MIN_SLOPE = 0.2
MAX_LIMIT_DB = 8.0  # never push more than this into the limiter to reach the loudness
# Jingles and stings play this far under the voice as the listener hears it
# (after the high-pass, the compressor and the limiter, which take more from
# speech than from music), by a gain of their own: cut as far as needed,
# lifted at most MAX_MUSIC_BOOST_DB (a near-silent file stays near silent).
MUSIC_UNDER_VOICE_LU = SPEECH_LEVEL_DB - MUSIC_LEVEL_DB
MAX_MUSIC_BOOST_DB = 6.0
MUSIC_TOLERANCE_LU = 0.5
# Inter-sample peaks of program at these rates (speech from 16-24 kHz
# engines, jingles) stay within this of the sample peak of the block and its
# neighbours (measured: at most 1.2 dB on ten minutes of synthetic speech);
# only blocks this close to the ceiling need oversampling. Lower rates carry
# speech up to Nyquist, where peaks between samples are larger.
CANDIDATE_OVERSHOOT_DB = {32000: 1.5, 0: 3.0}
LIMIT_PASSES = 4
_TP_CONTEXT = 8  # samples either side of a block that the oversampling filter reaches
CHUNK = 1 << 18  # samples converted and handed to the encoder at a time
ANALYSIS_CHUNK = 1 << 20  # samples filtered at a time: few calls, and a second thread can work on the last


@dataclass
class Mastered:
    """The mastered bulletin, as the encoder gets it."""

    samples: np.ndarray  # mono float32, full scale 1.0
    loudness: float  # LUFS of these samples; -inf for silence
    true_peak: float  # dBTP of these samples; -inf for silence
    gain_db: float  # static gain applied after compression
    stages: dict[str, float] = field(default_factory=dict)  # seconds spent in each step

    def s16_chunks(self, size: int = CHUNK) -> Iterator[memoryview]:
        """The samples as s16 little-endian bytes, a chunk at a time (the encoder reads while the rest converts)."""
        buf = np.empty(size, np.float32)
        for start in range(0, len(self.samples), size):
            part = self.samples[start: start + size]
            out = buf[: len(part)]
            np.multiply(part, np.float32(32768), out=out)
            np.rint(out, out=out)
            np.clip(out, -32768, 32767, out=out)
            yield memoryview(out.astype("<i2")).cast("B")


def master(x: np.ndarray, rate: int, audio: AudioConfig, aim: float, ceiling_db: float,
           music: Sequence[tuple[int, int]] = ()) -> Mastered:
    """Master mono float32 `x` (full scale 1.0, changed in place) to `aim` LUFS with true peaks at most `ceiling_db`.

    `music` are the sample spans of jingles and stings: they are not
    compressed, and sit MUSIC_UNDER_VOICE_LU under the voice as mastered.
    """
    clock = _Clock()
    n = len(x)
    block = _block_size(rate)
    whole = n - n % block
    if n < GATE_BLOCK_S * rate:
        return _master_short(x, rate, audio, aim, ceiling_db)
    energy, power, peaks = _analyse(x, rate, block, audio.highpass_hz)
    clock.lap("analyse")
    per_step = int(round(rate * STEP_S)) // block
    is_music = _block_mask(music, block, len(energy))
    # A jingle must not hold the compressor down over the words after it.
    comp = _compressor_gains(np.where(is_music, 0.0, power), block, rate) if audio.compress else np.ones(len(energy))
    comp[is_music] = 1.0
    music_db = _clamp_music(-_voice_and_music(energy, comp ** 2, is_music, per_step, rate, 0.0)[1])
    comp[is_music] = 10 ** (music_db / 20)
    before = _loudness(energy, comp ** 2, per_step, rate)
    if math.isinf(before):
        return Mastered(x, before, _db(float(np.abs(x).max(initial=0.0))), 0.0, clock.stages)

    ceiling_db = max(MIN_CEILING_DB, min(0.0, ceiling_db))
    gain_db = _clamp(aim - before)
    tried: list[tuple[float, float]] = []
    envelopes = _Envelopes(x, block)
    for attempt in range(GAIN_ATTEMPTS):
        steps, sub, true_peak = _gain_curve(envelopes, comp * 10 ** (gain_db / 20), peaks, rate, ceiling_db)
        # Each block holds block // sub equal steps: its mean squared gain.
        sq = np.square(steps[: len(energy) * (block // sub)], dtype=np.float64)
        sq = sq.reshape(len(energy), -1).mean(axis=1)
        after = _loudness(energy, sq, per_step, rate)
        voice, off = _voice_and_music(energy, sq, is_music, per_step, rate, after)
        log.debug("master: %.2f LUFS compressed, gain %.2f dB, %.2f LUFS limited, music %+.2f LU",
                  before, gain_db, after, off)
        loud_ok = aim - after <= LOUDNESS_TOLERANCE_LU
        if (loud_ok and abs(off) <= MUSIC_TOLERANCE_LU) or attempt == GAIN_ATTEMPTS - 1:
            break
        # The limiter took loudness: more gain, by the slope the voice showed so
        # far (peaky speech gains less and less as the limiter works harder).
        slope = 1 - LIMIT_SLOPE
        if tried and gain_db != tried[-1][0]:
            slope = min(1.0, max(MIN_SLOPE, (voice - tried[-1][1]) / (gain_db - tried[-1][0])))
        tried.append((gain_db, voice))
        new_gain = gain_db if loud_ok else _clamp(min(gain_db + (aim - after) / slope, aim - before + MAX_LIMIT_DB))
        # Music is hardly limited: it rises with the whole gain while the voice
        # rises by the slope, so it moves back by the difference too.
        music_db = _clamp_music(music_db - off - (1 - slope) * (new_gain - gain_db))
        comp[is_music] = 10 ** (music_db / 20)
        gain_db = new_gain
    del envelopes
    clock.lap("limit")
    _apply(x, steps, sub)
    tail = x[whole:]  # under one block, after the outro: only its sample peak is checked
    if len(tail) and float(np.abs(tail).max()) > 10 ** (ceiling_db / 20):
        tail *= np.float32(10 ** (ceiling_db / 20) / float(np.abs(tail).max()))
    clock.lap("apply")
    return Mastered(x, after, _db(true_peak), gain_db, clock.stages)


def _master_short(x: np.ndarray, rate: int, audio: AudioConfig, aim: float, ceiling_db: float) -> Mastered:
    """Master audio shorter than one 400 ms gating block: its loudness as that one block, a static gain, a peak cap.

    The gated meter has no block to measure there and says silence; a word
    this short is still to be heard at the level of the rest.
    """
    if audio.highpass_hz > 0 and len(x):
        x[:] = signal.sosfilt(_highpass(audio.highpass_hz, rate), x)
    weighted = signal.sosfilt(k_weighting(rate).astype(np.float32), x)
    mean_square = float(np.square(weighted, dtype=np.float64).sum()) / (GATE_BLOCK_S * rate)
    loudness = -0.691 + 10 * math.log10(mean_square) if mean_square > 0 else float("-inf")
    if loudness <= SILENCE_LUFS:
        return Mastered(x, float("-inf"), _db(float(np.abs(x).max(initial=0.0))), 0.0)
    gain_db = _clamp(aim - loudness)
    peak = measured_true_peak(x) + gain_db
    gain_db -= max(0.0, peak - max(MIN_CEILING_DB, min(0.0, ceiling_db)))
    x *= np.float32(10 ** (gain_db / 20))
    return Mastered(x, loudness + gain_db, measured_true_peak(x), gain_db)


class _Clock:
    """Seconds spent in each named step, for the benchmark's breakdown."""

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.stages[name] = self.stages.get(name, 0.0) + now - self._last
        self._last = now


def _block_mask(spans: Sequence[tuple[int, int]], block: int, count: int) -> np.ndarray:
    """Per block, whether it overlaps one of the sample `spans`."""
    mask = np.zeros(count, bool)
    for start, end in spans:
        mask[start // block: -(-end // block)] = True
    return mask


def _voice_and_music(energy: np.ndarray, gain_sq: np.ndarray, is_music: np.ndarray, per_step: int, rate: int,
                     whole: float) -> tuple[float, float]:
    """Loudness of the voice, and how many LU the music stands above its place under it (0.0 without music)."""
    if not is_music.any() or is_music.all():
        return whole, 0.0
    voice = _loudness(energy, np.where(is_music, 0.0, gain_sq), per_step, rate)
    tune = _loudness(energy, np.where(is_music, gain_sq, 0.0), per_step, rate)
    if math.isinf(voice) or math.isinf(tune):
        return whole, 0.0
    return voice, tune - (voice - MUSIC_UNDER_VOICE_LU)


def _highpass(hz: float, rate: int) -> np.ndarray:
    return signal.butter(2, hz, "highpass", fs=rate, output="sos").astype(np.float32)


def _analyse(x: np.ndarray, rate: int, block: int, highpass_hz: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """High-pass `x` in place; per whole block, the K-weighted energy, the mean power and the sample peak.

    One walk over the program in chunks. Both filters are bound by the
    latency of their recursion, not by arithmetic, and scipy releases the
    GIL while filtering: the next chunk is high-passed in this thread while
    a second one weights and sums the last.
    """
    count = len(x) // block
    energy = np.empty(count)
    power = np.empty(count)
    peaks = np.empty(count, np.float32)
    hp = _highpass(highpass_hz, rate) if highpass_hz > 0 else None
    kw = k_weighting(rate).astype(np.float32)
    size = block * max(1, ANALYSIS_CHUNK // block)
    state = {"hp": np.zeros((len(hp), 2), np.float32) if hp is not None else None,
             "kw": np.zeros((len(kw), 2), np.float32)}

    def highpass(start: int) -> None:
        if hp is not None:
            part = x[start: start + size]
            part[:], state["hp"] = signal.sosfilt(hp, part, zi=state["hp"])

    def measure(start: int) -> None:
        part = x[start: min(start + size, count * block)]
        if not len(part):
            return
        weighted, state["kw"] = signal.sosfilt(kw, part, zi=state["kw"])
        first, rows = start // block, len(part) // block
        b = part.reshape(rows, block)
        w = weighted.reshape(rows, block)
        energy[first: first + rows] = np.einsum("ij,ij->i", w, w, dtype=np.float64)
        power[first: first + rows] = np.einsum("ij,ij->i", b, b, dtype=np.float64) / block
        peaks[first: first + rows] = np.maximum(b.max(axis=1), -b.min(axis=1))

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        for start in range(0, len(x), size):
            highpass(start)
            if pending is not None:
                pending.result()
            pending = pool.submit(measure, start)
        if pending is not None:
            pending.result()
    return energy, power, peaks


def _block_size(rate: int) -> int:
    """About CONTROL_S of samples, dividing the loudness meter's step exactly."""
    step = int(round(rate * STEP_S))
    size = max(1, int(rate * CONTROL_S))
    while step % size:
        size -= 1
    return size


def _loudness(energy: np.ndarray, gain_sq: np.ndarray, steps: int, rate: int) -> float:
    """BS.1770 loudness of the program from per-block K-weighted energies and mean squared gains."""
    count = len(energy) // steps
    per_step = (energy[: count * steps] * gain_sq[: count * steps]).reshape(-1, steps).sum(axis=1)
    return gated_loudness(per_step, rate)


def _clamp_music(gain_db: float) -> float:
    return max(-MAX_CUT_DB, min(MAX_MUSIC_BOOST_DB, gain_db))


def _clamp(gain_db: float) -> float:
    return max(-MAX_CUT_DB, min(MAX_GAIN_DB, gain_db))


def _db(linear: float) -> float:
    return 20 * math.log10(linear) if linear > 0 else float("-inf")


# ---------------------------------------------------------------- compressor


def _compressor_gains(power: np.ndarray, block: int, rate: int) -> np.ndarray:
    """Gain per block of a compressor with attack, release and a soft knee, from block mean powers."""
    # Detector: the block power held and let go at the release rate
    # (max-accumulate in the log domain, so no sample loop), then smoothed
    # by a one-pole at the attack time.
    k = np.arange(len(power), dtype=np.float64)
    decay = -block / (COMP_RELEASE_S * rate)  # natural log of the power's decay per block
    with np.errstate(divide="ignore"):
        log_p = np.log(power)
    held = np.exp(np.maximum.accumulate(log_p - decay * k) + decay * k)
    a = math.exp(-block / (COMP_ATTACK_S * rate))
    env = signal.lfilter([1 - a], [1, -a], held)
    with np.errstate(divide="ignore"):
        level = 10 * np.log10(env)
    over = level - COMP_THRESHOLD_DB
    half = COMP_KNEE_DB / 2
    slope = 1 / COMP_RATIO - 1
    gain_db = np.where(over <= -half, 0.0,
                       np.where(over >= half, slope * over, slope * (over + half) ** 2 / (2 * COMP_KNEE_DB)))
    return 10 ** (gain_db / 20)


def _step_size(block: int) -> int:
    """Samples per step of the gain curve: the largest divisor of the block up to MAX_SUBSTEP."""
    return max(d for d in range(1, MAX_SUBSTEP + 1) if block % d == 0)


def _substeps(gains: np.ndarray, block: int) -> tuple[np.ndarray, int]:
    """Gain curve from one gain per block (at its centre), linear between, in steps of a few samples.

    Returns the step values and the samples per step.
    """
    sub = _step_size(block)
    g = gains.astype(np.float32)
    edges = np.empty(len(g) + 1, np.float32)
    edges[0], edges[-1] = g[0], g[-1]
    edges[1:-1] = (g[:-1] + g[1:]) / 2
    frac = (np.arange(block // sub, dtype=np.float32) + 0.5) / (block // sub)
    return (edges[:-1, None] + (edges[1:] - edges[:-1])[:, None] * frac[None, :]).ravel(), sub


def _apply(x: np.ndarray, steps: np.ndarray, sub: int) -> None:
    """Multiply `x` in place by a step gain curve; samples after the last step take its value."""
    covered = min(len(x) // sub, len(steps)) * sub
    x[:covered].reshape(-1, sub)[...] *= steps[: covered // sub, None]
    x[covered:] *= steps[-1]


# ---------------------------------------------------------------- limiter


def _gain_curve(
    envelopes: _Envelopes, gains: np.ndarray, peaks: np.ndarray, rate: int, ceiling_db: float
) -> tuple[np.ndarray, int, float]:
    """Step gain curve from `gains` per block, limited so true peaks stay under `ceiling_db`.

    Returns the steps, the samples per step and the true peak (linear).

    The limiter decides per block too: only blocks that come within the
    overshoot margin of the ceiling are oversampled (nowhere else can an
    inter-sample peak reach it); the reduction fades in a block or two
    before each peak (look-ahead: the whole bulletin is in memory), holds,
    and fades out, never less than each block needs.
    """
    block = envelopes.block
    ceiling = 10 ** (ceiling_db / 20)
    overshoot = CANDIDATE_OVERSHOOT_DB[32000 if rate >= 32000 else 0]
    # Between block centres the curve reaches at most the larger neighbour,
    # and a block's true peak can come from its neighbours' samples.
    level = _with_neighbours(peaks) * _with_neighbours(gains)
    hot = np.flatnonzero(level > ceiling * 10 ** (-overshoot / 20))
    cool_peak = float(level.max(initial=0.0, where=level <= ceiling * 10 ** (-overshoot / 20)))
    if not len(hot):
        # Nothing comes near the ceiling. The true peak is at least the
        # loudest sample (at least the block's peak times its least gain),
        # and lies in a block that can come within the overshoot of that.
        steps, sub = _substeps(gains, block)
        least = peaks * -_with_neighbours(-gains)
        near = np.flatnonzero(level >= least.max() * 10 ** (-overshoot / 20))
        return steps, sub, max(0.0, float(envelopes.peaks(near, steps, sub).max(initial=0.0)))
    hold = max(1, round(LIMIT_HOLD_S * rate / block))
    limit = np.ones(len(gains))
    for attempt in range(LIMIT_PASSES):
        steps, sub = _substeps(gains * limit, block)
        tp = envelopes.peaks(hot, steps, sub)
        over = tp > ceiling
        if not over.any() or attempt == LIMIT_PASSES - 1:
            break
        # Interpolating the product of two curves can leave a peak a hair
        # over: the next pass takes that off too.
        need = np.ones(len(gains))
        need[hot[over]] = ceiling / tp[over] * (1 - 1e-4)
        limit *= _smooth_reduction(need, hold)
    return steps, sub, max(cool_peak, float(tp.max()))


def _with_neighbours(values: np.ndarray) -> np.ndarray:
    """Per block, the largest of its own value and its two neighbours'."""
    out = values.copy()
    out[1:] = np.maximum(out[1:], values[:-1])
    out[:-1] = np.maximum(out[:-1], values[1:])
    return out


def _smooth_reduction(need: np.ndarray, hold: int) -> np.ndarray:
    """Gain per block at most `need` around each block: ramps over a few blocks, held `hold` blocks after.

    m[k] is the least need over [k - 2 - hold, k + 2]; the average of m over
    [k - 1, k + 1] and every value interpolated from a neighbour's then only
    use windows that contain k.
    """
    hold += hold % 2
    centred = minimum_filter1d(need, size=hold + 5, mode="nearest")
    shift = hold // 2
    m = np.empty_like(centred)
    m[shift:] = centred[: len(centred) - shift]
    m[:shift] = centred[0]
    return np.minimum(uniform_filter1d(m, 3, mode="nearest"), need)


class _Envelopes:
    """The 4x-oversampled peak envelope of the program, computed per block once, on demand.

    The gains change slowly next to the interpolation filter, so the true
    peak of the gained program is the envelope times the gain. The gain is
    constant over each step of the curve, so only the envelope's largest
    value in each step is kept: each limiter pass and loudness correction
    then costs one multiplication per step.
    """

    def __init__(self, x: np.ndarray, block: int) -> None:
        self.x = x
        self.block = block
        self.sub = _step_size(block)
        self.row = np.full(len(x) // block, -1)
        self.env = np.empty((0, block // self.sub), np.float32)

    def peaks(self, hot: np.ndarray, steps: np.ndarray, sub: int) -> np.ndarray:
        """True peak (linear) of x times the step gain curve in each of the `hot` blocks."""
        assert sub == self.sub
        per = self.block // sub
        new = hot[self.row[hot] < 0]
        if len(new):
            ctx, block = _TP_CONTEXT, self.block
            idx = new[:, None] * block - ctx + np.arange(block + 2 * ctx)[None, :]
            np.clip(idx, 0, len(self.x) - 1, out=idx)
            env = peak_envelope(self.x[idx])[:, ctx: ctx + block]
            self.row[new] = np.arange(len(self.env), len(self.env) + len(new))
            self.env = np.concatenate((self.env, env.reshape(len(new), per, sub).max(axis=2)))
        at = hot[:, None] * per + np.arange(per)[None, :]
        np.minimum(at, len(steps) - 1, out=at)
        return (self.env[self.row[hot]] * steps[at]).max(axis=1)
