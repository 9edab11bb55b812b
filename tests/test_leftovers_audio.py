"""Audio leftovers, each measured on real output: espeak-ng determinism, jingles off, long jingles cut, the compressor.

Speech is real offline espeak-ng; station files are made and decoded with
the real ffmpeg; levels are measured on the decoded samples.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from broadcast.config import TTSConfig
from broadcast.speech.espeak import EspeakEngine

SENTENCES = [
    "Ủy ban nhân dân xã thông báo lịch tiếp công dân định kỳ trong tháng.",
    "Bà con có thể nộp hồ sơ trực tuyến trên Cổng dịch vụ công quốc gia.",
    "Xin chào bà con.",
]


def _wav_samples(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"), w.getframerate()


def _speak(engine: EspeakEngine, text: str, path: Path) -> bytes:
    engine.synthesize(text, path)
    return path.read_bytes()


# ------------------------------------------------------------ 1. espeak-ng determinism


def test_espeak_same_text_same_bytes_within_one_process(tmp_path: Path) -> None:
    engine = EspeakEngine(TTSConfig())
    if engine.unavailable_reason():
        pytest.skip(engine.unavailable_reason())
    first = [_speak(engine, t, tmp_path / f"a{i}.wav") for i, t in enumerate(SENTENCES)]
    # Other text in between, then the same text again: the earlier calls must leave no trace.
    again = [_speak(engine, t, tmp_path / f"b{i}.wav") for i, t in enumerate(reversed(SENTENCES))][::-1]
    for i, (text, a, b) in enumerate(zip(SENTENCES, first, again)):
        samples, rate = _wav_samples(tmp_path / f"a{i}.wav")
        assert rate > 8000 and len(samples) > rate // 2  # real speech, over half a second of it
        assert hashlib.sha256(a).hexdigest() == hashlib.sha256(b).hexdigest(), text


def test_espeak_threads_and_a_fresh_process_give_the_same_bytes(tmp_path: Path) -> None:
    engine = EspeakEngine(TTSConfig(espeak_voice="vi-vn-x-south", espeak_rate=170))
    if engine.unavailable_reason():
        pytest.skip(engine.unavailable_reason())
    jobs = [(i, SENTENCES[i % len(SENTENCES)]) for i in range(9)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda job: _speak(engine, job[1], tmp_path / f"t{job[0]}.wav"), jobs))
    for (i, text), data in zip(jobs, threaded):
        assert data == threaded[i % len(SENTENCES)], f"thread result {i} differs for {text!r}"
    # A fresh process speaks the last sentence first: same bytes as after eight others here.
    out = tmp_path / "fresh.wav"
    code = ("import sys; from pathlib import Path; from broadcast.config import TTSConfig; "
            "from broadcast.speech.espeak import EspeakEngine; "
            "EspeakEngine(TTSConfig(espeak_voice='vi-vn-x-south', espeak_rate=170))"
            ".synthesize(sys.argv[1], Path(sys.argv[2]))")
    subprocess.run([sys.executable, "-c", code, SENTENCES[2], str(out)], check=True, timeout=120)
    assert out.read_bytes() == threaded[2]
    samples, rate = _wav_samples(out)
    assert np.sqrt(np.mean(samples.astype(np.float64) ** 2)) > 300  # audible speech, not silence
