"""A per-run cap on new speech: a runaway script cannot write gigabytes of speech cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from broadcast.config import TTSConfig, load_config
from broadcast.errors import ConfigError, SpeechError
from broadcast.speech import SpeechCache, SpeechRun, Synthesizer

SENTENCE = "Bộ phận một cửa xã tiếp nhận hồ sơ trực tuyến vào sáng thứ bảy hằng tuần. "
TEXTS = [(f"Đoạn số {n}. " + SENTENCE * 5).strip() for n in range(1, 4)]  # about 400 characters each


def entries(root: Path) -> int:
    return SpeechCache(root).stats().entries


def test_new_speech_over_the_budget_stops_with_a_clear_error(tmp_path: Path) -> None:
    budget = len(TEXTS[0]) + len(TEXTS[1]) + 10  # two paragraphs fit, the third does not
    synth = Synthesizer(TTSConfig(engine="espeak", speech_budget_chars=budget), SpeechCache(tmp_path),
                        run=SpeechRun())
    with pytest.raises(SpeechError, match="tts.speech_budget_chars") as err:
        synth.speak(TEXTS)
    assert err.value.exit_code == 3
    assert synth.synth_calls == 2 and entries(tmp_path) == 2
    assert synth.run.chars_synthesized == len(TEXTS[0]) + len(TEXTS[1])


def test_cached_speech_does_not_count(tmp_path: Path) -> None:
    Synthesizer(TTSConfig(engine="espeak"), SpeechCache(tmp_path), run=SpeechRun()).speak(TEXTS)
    tight = TTSConfig(engine="espeak", speech_budget_chars=1)
    synth = Synthesizer(tight, SpeechCache(tmp_path), run=SpeechRun())
    assert len(synth.speak(TEXTS)) == 3 and synth.synth_calls == 0


def test_the_budget_is_shared_by_every_station_of_the_run(tmp_path: Path) -> None:
    run = SpeechRun()
    tts = TTSConfig(engine="espeak", speech_budget_chars=len(TEXTS[0]) + 10)
    Synthesizer(tts, SpeechCache(tmp_path), run=run).speak(TEXTS[:1])
    other_station = Synthesizer(tts, SpeechCache(tmp_path), run=run)
    with pytest.raises(SpeechError):
        other_station.speak(TEXTS[1:2])
    # The next run starts with a fresh budget.
    assert len(Synthesizer(tts, SpeechCache(tmp_path), run=SpeechRun()).speak(TEXTS[1:2])) == 1


CONFIG = """
[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"

[tts]
speech_budget_chars = {value}
"""


def test_the_budget_is_configurable_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "broadcast.toml"
    path.write_text(CONFIG.format(value=50_000), encoding="utf-8")
    assert load_config(path).stations[0].tts.speech_budget_chars == 50_000
    path.write_text(CONFIG.format(value=0), encoding="utf-8")
    with pytest.raises(ConfigError, match="speech_budget_chars"):
        load_config(path)
    assert TTSConfig().speech_budget_chars == 200_000
