"""Sample-rate conversion in this process, with the SoX resampler (libsoxr, high quality).

Speech engines deliver 16-24 kHz and the bulletin plays at 44.1 kHz. The
same resampler ffmpeg uses (its `aresample=resampler=soxr`, 20-bit
precision), called through the `soxr` package, converts a paragraph in a few
milliseconds and spares an ffmpeg process and two pipe copies per render.
"""

from __future__ import annotations

import numpy as np
import soxr

# SoX's "high quality": 20-bit precision, the precision ffmpeg's soxr resampler uses by default.
QUALITY = "HQ"


def resample(samples: np.ndarray, src_rate: int, rate: int) -> np.ndarray:
    """Return mono float32 or int16 `samples` at `rate` (the same array when the rates agree)."""
    if src_rate == rate or not len(samples):
        return samples
    return soxr.resample(samples, src_rate, rate, quality=QUALITY)


def resample_s16(raw: bytes, src_rate: int, rate: int) -> bytes:
    """Resample mono s16 little-endian bytes from `src_rate` to `rate`."""
    if src_rate == rate or not raw:
        return raw
    samples = np.frombuffer(raw, dtype="<i2").astype(np.int16, copy=False)
    return resample(samples, src_rate, rate).astype("<i2", copy=False).tobytes()
