"""espeak-ng and the command engine for real; the registry; speed; doctor rows."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from broadcast.config import TTSConfig
from broadcast.errors import SpeechError
from broadcast.speech import (
    EngineFailure,
    SpeechCache,
    SpeechRun,
    Synthesizer,
    create_engine,
    doctor_checks,
    register_engine,
    registered_engines,
)
from broadcast.speech.pcm import read_wav, wav_info, write_wav

FAKE = str(Path(__file__).with_name("fake_tts.py"))
TEXT = "Xin chào bà con. Hôm nay là ngày mười hai tháng ba năm hai nghìn không trăm hai mươi lăm."


def rms(pcm) -> float:
    return math.sqrt(sum(v * v for v in pcm) / max(1, len(pcm)))


def fake_cmd(*extra: str) -> list[str]:
    return [sys.executable, FAKE, *extra, "{input}", "{output}"]


# ------------------------------------------------------------------ espeak


@pytest.mark.parametrize("voice", ["vi", "vi-vn-x-central", "vi-vn-x-south"])
def test_espeak_speaks_vietnamese_in_each_regional_voice(tmp_path: Path, voice: str) -> None:
    engine = create_engine("espeak", TTSConfig(espeak_voice=voice))
    assert engine.unavailable_reason() is None
    out = tmp_path / "x.wav"
    engine.synthesize(TEXT, out)
    channels, width, rate, frames = wav_info(out)
    assert (channels, width, rate) == (1, 2, 22050)
    assert frames / rate > 3.0
    pcm, _ = read_wav(out)
    assert rms(pcm) > 500  # speech, not silence


def test_espeak_rate_changes_duration_and_the_cache_key(tmp_path: Path) -> None:
    slow = create_engine("espeak", TTSConfig(espeak_rate=100))
    fast = create_engine("espeak", TTSConfig(espeak_rate=250))
    slow.synthesize(TEXT, tmp_path / "slow.wav")
    fast.synthesize(TEXT, tmp_path / "fast.wav")
    d_slow = wav_info(tmp_path / "slow.wav")[3]
    d_fast = wav_info(tmp_path / "fast.wav")[3]
    assert d_slow > d_fast * 1.5
    assert slow.cache_params() != fast.cache_params()


def test_espeak_rejects_an_unknown_voice_with_a_reason() -> None:
    engine = create_engine("espeak", TTSConfig(espeak_voice="vi-xx"))
    assert "vi-xx" in engine.unavailable_reason()


def test_speed_keeps_pitch_but_shortens_speech(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path / "c")
    normal = Synthesizer(TTSConfig(engine="espeak"), cache, run=SpeechRun()).speak([TEXT])[0]
    faster = Synthesizer(TTSConfig(engine="espeak", speed=1.25), cache, run=SpeechRun()).speak([TEXT])[0]
    assert faster.wav != normal.wav and not faster.cached
    assert faster.duration == pytest.approx(normal.duration / 1.25, rel=0.06)
    assert wav_info(faster.wav)[:2] == (1, 2)


def test_speed_outside_range_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SpeechError, match="tts.speed"):
        Synthesizer(TTSConfig(engine="espeak", speed=2.0), SpeechCache(tmp_path))


# ------------------------------------------------------------------ command


def test_command_engine_runs_the_program_and_converts_its_wav(tmp_path: Path) -> None:
    engine = create_engine("command", TTSConfig(engine="command", command=fake_cmd("--stereo")))
    assert engine.unavailable_reason() is None
    out = tmp_path / "c.wav"
    engine.synthesize("Một hai ba bốn năm sáu bảy tám chín mười.", out)
    channels, width, rate, frames = wav_info(out)
    assert (channels, width, rate) == (1, 2, 16000)  # stereo from the program became mono
    assert frames / rate == pytest.approx(0.05 + 0.02 * 10, abs=0.01)


def test_command_engine_with_stdin_and_stdout_and_voice_placeholder(tmp_path: Path) -> None:
    tts = TTSConfig(engine="command", espeak_voice="vi-vn-x-south",
                    command=[sys.executable, FAKE, "--voice", "{voice}", "-", "-"])
    engine = create_engine("command", tts)
    assert engine.cache_params()["voice"] == "vi-vn-x-south"
    out = tmp_path / "s.wav"
    engine.synthesize("ba từ thôi", out)
    assert wav_info(out)[3] > 0


def test_command_not_installed_and_exit_status_are_distinct_messages(tmp_path: Path) -> None:
    missing = create_engine("command", TTSConfig(engine="command", command=["piper-khong-co-xyz", "{input}"]))
    assert "không tìm thấy chương trình 'piper-khong-co-xyz'" in missing.unavailable_reason()
    with pytest.raises(EngineFailure, match="không tìm thấy chương trình"):
        missing.synthesize("chào", tmp_path / "m.wav")

    failing = create_engine("command", TTSConfig(engine="command", command=fake_cmd("--mode", "fail")))
    with pytest.raises(EngineFailure) as err:
        failing.synthesize("chào", tmp_path / "f.wav")
    assert "thoát với mã 3" in str(err.value)
    assert "không nạp được mô hình giọng vi_VN" in str(err.value)  # stderr tail
    assert not (tmp_path / "f.wav").exists()


def test_command_that_writes_nothing_is_reported(tmp_path: Path) -> None:
    engine = create_engine("command", TTSConfig(engine="command", command=fake_cmd("--mode", "nothing")))
    with pytest.raises(EngineFailure, match="không tạo ra âm thanh"):
        engine.synthesize("chào", tmp_path / "n.wav")


def test_command_timeout_kills_the_program(tmp_path: Path) -> None:
    engine = create_engine(
        "command", TTSConfig(engine="command", command=fake_cmd("--mode", "sleep"), command_timeout=1.0)
    )
    with pytest.raises(EngineFailure, match="chạy quá 1 giây"):
        engine.synthesize("chào", tmp_path / "t.wav")


def test_failing_command_falls_back_to_espeak_with_a_warning(tmp_path: Path) -> None:
    tts = TTSConfig(chain=["command", "espeak"], command=fake_cmd("--mode", "fail"))
    synth = Synthesizer(tts, SpeechCache(tmp_path / "c"), run=SpeechRun())
    (sp,) = synth.speak(["Thông báo của Ủy ban nhân dân xã."])
    assert sp.engine == "espeak" and sp.duration > 0.5
    assert "command" in sp.warnings[0] and "thoát với mã 3" in sp.warnings[0]


# ------------------------------------------------------------------ registry and doctor


class ToneEngine:
    """A third-party engine registered like the built-ins."""

    name = "tone"

    def __init__(self, tts: TTSConfig) -> None:
        self.calls = 0

    def unavailable_reason(self) -> str | None:
        return None

    def cache_params(self) -> dict:
        return {"hz": 440}

    def synthesize(self, text: str, out_wav: Path) -> None:
        from array import array

        self.calls += 1
        write_wav(out_wav, array("h", [int(9000 * math.sin(i / 5)) for i in range(8000)]), 16000)


def test_third_party_engine_registers_like_the_builtins(tmp_path: Path) -> None:
    register_engine("tone", ToneEngine)
    assert {"espeak", "gtts", "command", "tone"} <= set(registered_engines())
    synth = Synthesizer(TTSConfig(chain=["tone"]), SpeechCache(tmp_path / "c"), run=SpeechRun())
    out = synth.speak(["một", "hai", "một"])
    assert [sp.engine for sp in out] == ["tone"] * 3
    assert synth.synth_calls == 2 and out[2].cached
    assert out[0].duration == pytest.approx(0.5)


def test_unknown_engine_is_a_speech_error(tmp_path: Path) -> None:
    with pytest.raises(SpeechError, match="không-có"):
        Synthesizer(TTSConfig(chain=["không-có"]), SpeechCache(tmp_path))


def test_doctor_rows_say_which_engine_will_speak(tmp_path: Path) -> None:
    rows = doctor_checks(TTSConfig(chain=["command", "espeak"], command=["piper-khong-co-xyz"]))
    by_name = {name: (ok, detail) for name, ok, detail in rows}
    assert by_name["bộ đọc espeak"][0] is True
    ok, detail = by_name["bộ đọc command"]
    assert ok is True and "không tìm thấy chương trình" in detail and "espeak" in detail
    assert rows[-1][1] is True

    broken = doctor_checks(TTSConfig(chain=["command"], command=["piper-khong-co-xyz"]))
    assert broken[-1][1] is False and any(not ok for _, ok, _ in broken)
