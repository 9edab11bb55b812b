"""Decode audio with ffmpeg and measure it: EBU R128 loudness, true peak, levels, likeness.

Used by the renderer (the manifest reports loudness measured on the final
file) and by tests across the project. Samples are mono signed 16-bit in an
`array('h')` for the file-based helpers; the in-memory meters at the end
take numpy float arrays.
"""

from __future__ import annotations

import functools
import math
import re
import sys
from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal

from broadcast.audio._audioop import audioop
from broadcast.audio.ffmpeg import run_ffmpeg
from broadcast.errors import AudioError

_I_RE = re.compile(r"Integrated loudness:\s*I:\s*(-?inf|-?\d+(?:\.\d+)?)\s*LUFS")
_LRA_RE = re.compile(r"Loudness range:\s*LRA:\s*(-?inf|-?\d+(?:\.\d+)?)\s*LU")
_TP_RE = re.compile(r"True peak:\s*Peak:\s*(-?inf|-?\d+(?:\.\d+)?)\s*dBFS")

# ebur128 reports an input of digital silence as -70 LUFS (its absolute gate).
SILENCE_LUFS = -70.0


@dataclass
class Loudness:
    """An EBU R128 measurement."""

    integrated: float  # LUFS
    true_peak: float  # dBTP; -inf for silence
    lra: float = 0.0  # LU


def parse_ebur128(log_text: str, what: str, instance: str | None = None) -> Loudness:
    """Read the summary ffmpeg's ebur128 filter prints at the end of a run.

    With several ebur128 filters in one graph, name them `ebur128@NAME` and pass
    NAME as `instance` to read that one's summary.
    """
    if instance is not None:
        m = re.search(rf"\[ebur128@{re.escape(instance)} @ [^\]]*\] Summary:", log_text)
        if m:
            rest = log_text[m.end():]
            nxt = re.search(r"\[[^\]]* @ [^\]]*\] Summary:", rest)
            log_text = rest[: nxt.start()] if nxt else rest
        else:
            log_text = ""
    i_match = list(_I_RE.finditer(log_text))
    tp_match = list(_TP_RE.finditer(log_text))
    if not i_match:
        raise AudioError(f"Không đo được độ lớn âm thanh của {what} (ffmpeg không trả kết quả ebur128).")
    lra_match = list(_LRA_RE.finditer(log_text))
    return Loudness(
        integrated=float(i_match[-1].group(1)),
        true_peak=float(tp_match[-1].group(1)) if tp_match else float("nan"),
        lra=float(lra_match[-1].group(1)) if lra_match else 0.0,
    )


def measure(path: Path) -> Loudness:
    """Measure integrated loudness, loudness range and true peak of an audio file."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"Không tìm thấy tệp âm thanh {path} để đo độ lớn.")
    proc = run_ffmpeg(
        ["-i", str(path), "-map", "0:a:0", "-af", "ebur128=peak=true:framelog=quiet",
         "-f", "null", "-"],
        what=f"đo độ lớn {path.name}", quiet=False,
    )
    return parse_ebur128(proc.stderr.decode("utf-8", "replace"), path.name)


def measure_loudness(path: Path) -> tuple[float, float]:
    """Return (integrated loudness in LUFS, true peak in dBTP) of an audio file."""
    m = measure(path)
    return m.integrated, m.true_peak


def samples_from_bytes(raw: bytes) -> array:
    """Little-endian s16 bytes as an array of samples."""
    pcm = array("h")
    pcm.frombytes(raw[: len(raw) - len(raw) % 2])
    if sys.byteorder == "big":
        pcm.byteswap()
    return pcm


def decode_mono(path: Path, rate: int = 16000) -> array:
    """Decode any audio file ffmpeg reads to mono signed 16-bit samples at `rate`."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"Không tìm thấy tệp âm thanh {path}.")
    proc = run_ffmpeg(
        ["-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(rate), "-f", "s16le", "-"],
        what=f"giải mã {path.name}",
    )
    return samples_from_bytes(proc.stdout)


def decode_float(path: Path) -> np.ndarray:
    """Decode the first audio stream of a file as a gapless decoder plays it: mono float32 at its own rate."""
    proc = run_ffmpeg(["-i", str(path), "-map", "0:a:0", "-ac", "1", "-f", "f32le", "-"],
                      what=f"giải mã {Path(path).name}")
    return np.frombuffer(proc.stdout, dtype="<f4")


def rms_db(samples: array) -> float:
    """RMS level of s16 samples in dBFS (-inf for silence)."""
    if not len(samples):
        return float("-inf")
    raw = samples.tobytes() if sys.byteorder == "little" else _swapped(samples)
    rms = audioop.rms(raw, 2)
    return 20 * math.log10(rms / 32768) if rms else float("-inf")


def clipped_count(samples: array, limit: int = 32767) -> int:
    """Number of samples at or beyond full scale (a sign of clipping)."""
    return sum(1 for v in samples if v >= limit or v <= -limit)


def tone_level_db(samples: array, rate: int, freq: float) -> float:
    """Level in dBFS of one sine frequency in `samples` (Goertzel), as a sine's RMS would read."""
    n = len(samples)
    if not n:
        return float("-inf")
    k = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    # Hann window so neighbouring frequencies leak little into this one.
    w = [0.5 - 0.5 * math.cos(2 * math.pi * i / (n - 1 or 1)) for i in range(n)]
    for x, wi in zip(samples, w):
        s0 = x * wi + k * s1 - s2
        s2, s1 = s1, s0
    power = s1 * s1 + s2 * s2 - k * s1 * s2
    amp = 2 * math.sqrt(max(power, 0.0)) / (n * 0.5)  # 0.5: Hann coherent gain
    return 20 * math.log10(amp / math.sqrt(2) / 32768) if amp > 0 else float("-inf")


def _correlation(x, y) -> float:
    n = min(len(x), len(y))
    if n == 0:
        return 0.0
    x, y = x[:n], y[:n]
    num = sum(p * q for p, q in zip(x, y))
    den = math.sqrt(sum(p * p for p in x) * sum(q * q for q in y))
    return num / den if den else 0.0


def _shifted(a, b, lag: int):
    return (a[lag:] if lag > 0 else a), (b[-lag:] if lag < 0 else b)


def similarity(a: array, b: array, max_lag: int = 0) -> float:
    """Highest normalized correlation of `a` and `b` over lags -max_lag..max_lag (1.0 = same shape).

    Coarse to fine: every lag is tried on 8-sample averages, then the best
    few coarse lags are refined at full resolution, so a wide search costs
    about as much as two exact correlations.
    """
    step = 8
    if max_lag <= 2 * step:
        return max(_correlation(*_shifted(a, b, lag)) for lag in range(-max_lag, max_lag + 1))
    ca = [sum(a[i:i + step]) for i in range(0, len(a) - step + 1, step)]
    cb = [sum(b[i:i + step]) for i in range(0, len(b) - step + 1, step)]
    coarse = sorted(((_correlation(*_shifted(ca, cb, lag)), lag) for lag in
                     range(-(max_lag // step), max_lag // step + 1)), reverse=True)[:3]
    best = 0.0
    for _, lag in coarse:
        for fine in range(max(-max_lag, lag * step - step), min(max_lag, lag * step + step) + 1):
            best = max(best, _correlation(*_shifted(a, b, fine)))
    return best


def _swapped(samples: array) -> bytes:
    copy = array("h", samples)
    copy.byteswap()
    return copy.tobytes()


# ---------------------------------------------------------------- in memory (numpy)
#
# ITU-R BS.1770-4 loudness and true peak of float samples (full scale 1.0)
# without a subprocess, so a bulletin is measured where it is mastered.

# K-weighting stage 1 (head as a rigid sphere: a high shelf) and stage 2
# (the RLB high-pass), as analog prototypes; bilinear-transformed for any
# rate they give the coefficients BS.1770 tabulates for 48 kHz.
_SHELF_F0, _SHELF_GAIN_DB, _SHELF_Q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
_HP_F0, _HP_Q = 38.13547087602444, 0.5003270373238773
_BLOCK_S = 0.4  # gating block
_STEP_S = 0.1  # 75% overlap between blocks
_ABS_GATE_LUFS = -70.0
_REL_GATE_LU = -10.0
# True peak: 4x oversampling (BS.1770 Annex 2), with an interpolation
# filter of 12 taps per phase.
TP_OVERSAMPLE = 4
_TP_TAPS_PER_PHASE = 12
# Inter-sample peaks of real program stay within this of the sample peak,
# so only blocks this close to the loudest sample need oversampling.
TP_OVERSHOOT_DB = 3.0
_TP_BLOCK = 1024


def k_weighting(rate: int) -> np.ndarray:
    """Second-order sections of the BS.1770 K-weighting filter at `rate`."""
    k = math.tan(math.pi * _SHELF_F0 / rate)
    vh = 10 ** (_SHELF_GAIN_DB / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / _SHELF_Q + k * k
    shelf = [(vh + vb * k / _SHELF_Q + k * k) / a0, 2 * (k * k - vh) / a0,
             (vh - vb * k / _SHELF_Q + k * k) / a0,
             1.0, 2 * (k * k - 1) / a0, (1 - k / _SHELF_Q + k * k) / a0]
    k = math.tan(math.pi * _HP_F0 / rate)
    a0 = 1 + k / _HP_Q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / _HP_Q + k * k) / a0]
    return np.array([shelf, highpass])


def step_energies(weighted: np.ndarray, rate: int) -> np.ndarray:
    """Sum of squares of K-weighted samples in each 100 ms step (the last partial step dropped)."""
    step = rate * _STEP_S
    count = int(len(weighted) // step)
    if count == 0:
        return np.zeros(0)
    starts = np.round(np.arange(count) * step).astype(np.int64)
    end = int(round(count * step))
    sq = np.square(weighted[:end], dtype=np.float64)
    return np.add.reduceat(sq, starts)


def gated_loudness(energies: np.ndarray, rate: int) -> float:
    """Integrated loudness (LUFS) from 100 ms step energies: 400 ms blocks, absolute and relative gates."""
    per_block = int(round(_BLOCK_S / _STEP_S))
    if len(energies) < per_block:
        return float("-inf")
    csum = np.concatenate(([0.0], np.cumsum(energies)))
    z = (csum[per_block:] - csum[:-per_block]) / (rate * _BLOCK_S)  # mean square per block
    with np.errstate(divide="ignore"):
        lk = -0.691 + 10 * np.log10(z)
    z = z[lk > _ABS_GATE_LUFS]
    if not len(z):
        return float("-inf")
    relative = -0.691 + 10 * math.log10(z.mean()) + _REL_GATE_LU
    z = z[-0.691 + 10 * np.log10(z) > relative]
    return -0.691 + 10 * math.log10(z.mean())


def integrated_loudness(samples: np.ndarray, rate: int) -> float:
    """BS.1770 integrated loudness (LUFS) of mono float samples; -inf for silence."""
    weighted = signal.sosfilt(k_weighting(rate).astype(samples.dtype), samples)
    return gated_loudness(step_energies(weighted, rate), rate)


@functools.lru_cache(maxsize=4)
def _interpolator(factor: int = TP_OVERSAMPLE) -> np.ndarray:
    taps = factor * _TP_TAPS_PER_PHASE + 1
    return (signal.firwin(taps, 1 / factor, window=("kaiser", 8.0)) * factor).astype(np.float32)


def oversampling(rate: int) -> int:
    """Oversampling that brings `rate` to at least 176.4 kHz, as ffmpeg's ebur128 meter does (4x at 44.1 kHz)."""
    return max(TP_OVERSAMPLE, -(-176400 // rate))


def peak_envelope(samples: np.ndarray, factor: int = TP_OVERSAMPLE) -> np.ndarray:
    """Per sample (along the last axis), the largest magnitude of the 4x oversampled signal around it.

    Each phase of the interpolator is a short convolution over all rows at
    once (rows kept apart by zeros the filter cannot see across): a few
    vectorised passes instead of a polyphase loop per sample.
    """
    h = _interpolator(factor)
    x = np.asarray(samples, dtype=np.float32)
    n = x.shape[-1]
    rows = x.reshape(-1, n)
    half = _TP_TAPS_PER_PHASE // 2  # the interpolator reaches this many samples either side
    width = n + 2 * half
    padded = np.zeros((len(rows), width), np.float32)
    padded[:, half: half + n] = rows
    flat = padded.ravel()
    best = np.abs(rows)
    # Phase 0 falls on the samples themselves, where the windowed-sinc
    # interpolator is a unit impulse (the other taps are 1e-16): |x| is it.
    for phase in range(1, factor):
        # Oversampled point 4i + phase is sum_t h[phase + 4t] * x[i + half - t] (at 4x).
        full = np.convolve(flat, h[phase::factor])
        np.maximum(best, np.abs(full[half: half + len(flat)].reshape(-1, width)[:, half: half + n]), out=best)
    return best.reshape(x.shape)


def block_peaks(samples: np.ndarray, block: int = _TP_BLOCK) -> np.ndarray:
    """Sample peak magnitude of each `block` samples."""
    n = len(samples)
    whole = n - n % block
    peaks = np.abs(samples[:whole].reshape(-1, block)).max(axis=1) if whole else np.zeros(0, samples.dtype)
    if whole < n:
        peaks = np.append(peaks, np.abs(samples[whole:]).max())
    return peaks


def spans_over(peaks: np.ndarray, level: float, block: int, pad: int, n: int) -> list[tuple[int, int]]:
    """Sample spans (merged, padded by `pad`) of the blocks whose peak exceeds `level`."""
    hot = np.flatnonzero(peaks > level)
    spans: list[tuple[int, int]] = []
    for b in hot:
        s, e = max(0, b * block - pad), min(n, (b + 1) * block + pad)
        if spans and s <= spans[-1][1]:
            spans[-1] = (spans[-1][0], e)
        else:
            spans.append((s, e))
    return spans


def true_peak(samples: np.ndarray, factor: int = TP_OVERSAMPLE) -> float:
    """BS.1770 true peak (dBTP) of mono float samples, `factor` times oversampled; -inf for silence.

    Only blocks whose sample peak is within TP_OVERSHOOT_DB of the loudest
    sample are oversampled: nowhere else can the true peak be.
    """
    if not len(samples):
        return float("-inf")
    peaks = block_peaks(samples)
    top = float(peaks.max())
    if top <= 0:
        return float("-inf")
    best = top
    pad = _TP_TAPS_PER_PHASE
    for s, e in spans_over(peaks, top * 10 ** (-TP_OVERSHOOT_DB / 20), _TP_BLOCK, pad, len(samples)):
        best = max(best, float(peak_envelope(samples[s:e], factor).max()))
    return 20 * math.log10(best)
