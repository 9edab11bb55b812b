"""Deterministic test signals: tones and speech-like audio, for tests and benchmarks without a TTS engine.

The speech-like signal strings together voiced "syllables" (a harmonic
series shaped by two formants, 100-180 Hz pitch) and noisy "consonants"
with word and sentence pauses, so level detection, ducking and loudness
behave as they do with real speech.
"""

from __future__ import annotations

import cmath
import functools
import itertools
import math
import operator
import random
import sys
import wave
from array import array
from pathlib import Path

from broadcast.audio._audioop import audioop


def _native(samples: list[float], scale: float) -> bytes:
    """Samples as s16 in the machine's byte order (what audioop works in)."""
    return array("h", [max(-32767, min(32767, int(round(x * scale)))) for x in samples]).tobytes()


def _le(pcm: bytes) -> bytes:
    return audioop.byteswap(pcm, 2) if sys.byteorder == "big" else pcm


def tone(freq: float, seconds: float, rate: int, level_db: float = -12.0) -> bytes:
    """A sine at `freq` with its peak at `level_db` dBFS, as mono s16 little-endian bytes."""
    n = int(seconds * rate)
    step = cmath.exp(complex(0, 2 * math.pi * freq / rate))
    z = itertools.accumulate(itertools.repeat(step, max(0, n - 1)), operator.mul, initial=1 + 0j)
    samples = list(map(operator.attrgetter("imag"), z))[:n]
    return _le(_native(samples, 32767 * 10 ** (level_db / 20)))


def silence(seconds: float, rate: int) -> bytes:
    """Digital silence as s16 bytes."""
    return bytes(2 * int(seconds * rate))


def _syllable(rate: int, f0: float, f1: float, f2: float, seconds: float, rng: random.Random) -> list[float]:
    n = int(seconds * rate)
    out = [0.0] * n
    h = 1
    while h * f0 < min(4000.0, rate * 0.45):
        f = h * f0
        # Two resonances (vowel formants) on a -6 dB/octave source; random phases
        # give the 12-18 dB crest factor of real voiced speech.
        amp = (1 / h) * (1 / (1 + ((f - f1) / 150) ** 2) + 0.6 / (1 + ((f - f2) / 250) ** 2) + 0.05)
        step = cmath.exp(complex(0, 2 * math.pi * f / rate))
        start = cmath.rect(amp, rng.uniform(0, 2 * math.pi))
        z = itertools.accumulate(itertools.repeat(step, n - 1), operator.mul, initial=start)
        out = list(map(operator.add, out, map(operator.attrgetter("imag"), z)))
        h += 1
    # Raised-cosine envelope: syllables swell and fade like spoken vowels.
    return [x * (0.5 - 0.5 * math.cos(2 * math.pi * i / n)) for i, x in enumerate(out)]


@functools.lru_cache(maxsize=4)
def _syllable_bank(rate: int) -> tuple[bytes, ...]:
    rng = random.Random(1)
    vowels = [(500 + 120 * k, 1500 + 260 * k) for k in range(6)]
    bank = []
    for k, (f1, f2) in enumerate(vowels):
        for f0 in (105.0, 135.0, 170.0):
            bank.append(_syllable(rate, f0 + k, f1, f2, 0.16 + 0.02 * k, rng))
    peak = max(max(map(abs, s)) for s in bank)
    return tuple(_native(s, 0.9 * 32767 / peak) for s in bank)


def speechlike(seconds: float, rate: int, seed: int = 0, level_db: float = -20.0) -> bytes:
    """About `seconds` of speech-like audio whose active RMS level is near `level_db` dBFS."""
    rng = random.Random(seed)
    syllables = _syllable_bank(rate)
    noise = _native([rng.uniform(-1, 1) - rng.uniform(-1, 1) for _ in range(int(0.05 * rate))], 4000)
    out: list[bytes] = []
    total = 0
    target = int(seconds * rate)
    word = 0
    while total < target:
        for _ in range(rng.randint(1, 3)):  # a word: consonant + syllables
            if rng.random() < 0.5:
                out.append(noise)
            syl = rng.choice(syllables)
            out.append(audioop.mul(syl, 2, rng.uniform(0.5, 1.0)))
        word += 1
        gap = 0.35 if word % 9 == 0 else 0.06  # sentence pauses and word gaps
        out.append(silence(gap, rate))
        total = sum(len(b) for b in out) // 2
    pcm = b"".join(out)[: 2 * target]
    # Scale to the requested active level (RMS over blocks with sound).
    block = int(rate * 0.1) * 2
    powers = [audioop.rms(pcm[i:i + block], 2) ** 2 for i in range(0, len(pcm) - block + 1, block)]
    powers = [p for p in powers if p > 100]
    if powers:
        level = 10 * math.log10(sum(powers) / len(powers) / 32768 ** 2)
        pcm = audioop.mul(pcm, 2, 10 ** ((level_db - level) / 20))
    return _le(pcm)


def write_wav(path: Path, pcm: bytes, rate: int) -> Path:
    """Write mono s16 little-endian bytes as a WAV file."""
    path = Path(path)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return path
