"""Default intro/outro jingles and a short sting, synthesized by code.

Soft mallet-bell notes on a C major arpeggio: short, friendly, no copyrighted
material, and identical on every run. The notes sit between 390 Hz and
1.4 kHz (plus overtones) because horn loudspeakers reproduce nothing below
about 300 Hz. Stations that want their own sound set `jingle`, `outro` and
`sting` files in the configuration.
"""

from __future__ import annotations

import functools
import math
import wave
from pathlib import Path

import numpy as np

from broadcast.audio.resample import resample_s16

KINDS = ("jingle", "outro", "sting")

# (onset seconds, MIDI note, velocity 0..1, decay time constant seconds)
_SCORES: dict[str, list[tuple[float, int, float, float]]] = {
    # Rising arpeggio that settles on an open C major chord.
    "jingle": [
        (0.00, 72, 0.80, 0.45), (0.15, 76, 0.80, 0.45), (0.30, 79, 0.85, 0.45),
        (0.45, 84, 0.90, 0.60),
        (0.80, 67, 0.55, 1.10), (0.80, 72, 0.60, 1.10), (0.80, 76, 0.60, 1.10),
        (0.80, 79, 0.55, 1.10), (0.80, 84, 0.50, 1.10),
    ],
    # The same gesture falling back down, ending on the tonic.
    "outro": [
        (0.00, 84, 0.85, 0.45), (0.15, 79, 0.80, 0.45), (0.30, 76, 0.80, 0.45),
        (0.45, 72, 0.85, 0.60),
        (0.80, 60, 0.40, 1.20), (0.80, 67, 0.55, 1.20), (0.80, 72, 0.60, 1.20),
        (0.80, 76, 0.50, 1.20),
    ],
    # Two quick notes between news items.
    "sting": [
        (0.00, 79, 0.80, 0.30), (0.12, 84, 0.85, 0.40),
    ],
}
_LENGTH_S = {"jingle": 3.2, "outro": 3.2, "sting": 0.9}
# Overtones of a soft mallet: (frequency ratio, relative amplitude, decay factor).
_PARTIALS = ((1.0, 1.0, 1.0), (2.0, 0.30, 0.55), (3.0, 0.10, 0.35), (4.16, 0.04, 0.25))
_ATTACK_S = 0.004
_PEAK = 10 ** (-3 / 20)  # leave headroom: the mix levels parts anyway
_FADE_OUT_S = 0.25
# Everything the notes contain lies under 5 kHz and horns stop near 8 kHz:
# synthesize at 22.05 kHz (half the work) and resample to the output rate.
SYNTH_RATE = 22050


def _note_freq(midi: int) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _voice(freq: float, amp: float, decay_s: float, n: int, rate: int) -> np.ndarray:
    """A damped sine with a fast attack: amp * (e^(-t/decay) - e^(-t/attack)) * sin(2 pi f t)."""
    t = np.arange(n, dtype=np.float64)
    envelope = np.exp(t * (-1 / (decay_s * rate)))
    # The attack term is negligible after a few time constants: only subtract it there.
    head = min(n, int(_ATTACK_S * math.log(1000) * rate) + 1)
    envelope[:head] -= np.exp(t[:head] * (-1 / (_ATTACK_S * rate)))
    return amp * envelope * np.sin(t * (2 * math.pi * freq / rate))


@functools.lru_cache(maxsize=16)
def default_pcm(kind: str, rate: int) -> bytes:
    """Return the generated `kind` ("jingle", "outro" or "sting") as mono s16 little-endian bytes."""
    if kind not in KINDS:
        raise ValueError(f"unknown jingle kind {kind!r}")
    if rate == SYNTH_RATE:
        return _synth(kind, rate)
    return resample_s16(_synth(kind, SYNTH_RATE), SYNTH_RATE, rate)


@functools.lru_cache(maxsize=4)
def _synth(kind: str, rate: int) -> bytes:
    total_n = int(_LENGTH_S[kind] * rate)
    mix = np.zeros(total_n)
    nyquist = rate / 2
    for onset, midi, vel, decay in _SCORES[kind]:
        start = int(onset * rate)
        for ratio, rel, decay_factor in _PARTIALS:
            f = _note_freq(midi) * ratio
            if f >= nyquist * 0.9:
                continue
            tau = decay * decay_factor
            # Stop each partial once it has decayed by 60 dB: inaudible, and less work.
            n = min(total_n - start, int(tau * math.log(1000) * rate) + 1)
            mix[start:start + n] += _voice(f, vel * rel, tau, n, rate)
    peak = float(np.abs(mix).max()) or 1.0
    fade_n = int(_FADE_OUT_S * rate)
    # Gentle tail so the last note does not stop with a click.
    mix[total_n - fade_n:] *= 1 - np.arange(1, fade_n + 1) / fade_n
    return np.round(mix * (_PEAK * 32767 / peak)).astype("<i2").tobytes()


def write_default(kind: str, path: Path, rate: int = 44100) -> Path:
    """Write the generated `kind` as a mono 16-bit WAV file (for stations to listen to or edit)."""
    path = Path(path)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(default_pcm(kind, rate))
    return path
