"""The length estimate learns the voice's real speaking rate, so a bulletin comes out near its target."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from broadcast.cli import cli
from broadcast.config import StationConfig, TTSConfig
from broadcast.models import SpokenParagraph
from broadcast.speechrate import RATES_FILE, learned_rate, record, voice_key, with_learned_rate

SOURCES = Path(__file__).parent / "data" / "sources"
TARGET_MINUTES = 3


def test_rates_are_learned_from_new_speech_only(tmp_path: Path) -> None:
    tts = TTSConfig(engine="espeak")
    text = "Người dân nộp hồ sơ trực tuyến qua Cổng Dịch vụ công quốc gia."  # 14 syllables, one full stop
    made = [SpokenParagraph(text=text, wav=tmp_path / "a.wav", engine="espeak", cached=False, duration=4.55)]
    assert learned_rate(tmp_path, tts) is None
    for _ in range(21):  # 294 syllables: not yet enough to trust
        record(tmp_path, tts, made)
    assert learned_rate(tmp_path, tts) is None
    record(tmp_path, tts, made)
    assert learned_rate(tmp_path, tts) == 60 * 14 / (4.55 - 0.35)
    # A cache hit was counted when it was made; silence is no speech.
    hit = [SpokenParagraph(text=text, wav=tmp_path / "a.wav", engine="espeak", cached=True, duration=1.0),
           SpokenParagraph(text="", wav=tmp_path / "s.wav", engine="silence", cached=False, duration=0.5)]
    record(tmp_path, tts, hit)
    assert learned_rate(tmp_path, tts) == 60 * 14 / (4.55 - 0.35)
    # Other settings are another voice.
    assert learned_rate(tmp_path, TTSConfig(engine="espeak", espeak_rate=180)) is None
    station = with_learned_rate(StationConfig(id="x", name="X", tts=tts), tmp_path)
    assert station.tts.syllables_per_minute["espeak"] == 60 * 14 / (4.55 - 0.35)
    data = json.loads((tmp_path / RATES_FILE).read_text(encoding="utf-8"))
    assert data["voices"][voice_key("espeak", tts)]["syllables"] == 14 * 22


def test_auto_chain_uses_the_engine_that_really_spoke(tmp_path: Path) -> None:
    tts = TTSConfig(engine="auto")  # gTTS first, but offline espeak spoke
    text = "Thủ tục hành chính được cắt giảm và đơn giản hóa"  # 11 syllables
    made = [SpokenParagraph(text=text, wav=tmp_path / "a.wav", engine="espeak", cached=False, duration=3.0)] * 30
    record(tmp_path, tts, made)
    assert learned_rate(tmp_path, tts) == 60 * 11 / 3.0
    assert with_learned_rate(StationConfig(id="x", name="X", tts=tts), tmp_path).tts.syllables_per_minute["gtts"] \
        == 60 * 11 / 3.0


def _build(root: Path, date: str) -> dict:
    # Built (and fetched) late on its own day: a day's bulletin reads the stories known that day.
    result = CliRunner().invoke(cli, ["--config", str(root / "broadcast.toml"), "--out", str(root / "out"),
                                      "--date", date, "build"], catch_exceptions=False,
                                env={"BROADCAST_NOW": f"{date}T23:59:00+07:00"})
    assert result.exit_code == 0, result.output
    return json.loads((root / "out" / date / "hoa-phu.json").read_text(encoding="utf-8"))


def test_bulletin_is_filled_close_to_its_target(tmp_path: Path) -> None:
    shutil.copy(SOURCES / "hai-ngay.xml", tmp_path / "tin.xml")
    (tmp_path / "broadcast.toml").write_text(f'''
[general]
data_dir = "data"

[[feeds]]
name = "tinh"
url = "tin.xml"
source = "Cổng thông tin tỉnh"

[selection]
min_score = 0.01     # this test measures length, not relevance: every reform item may be read
max_items = 20
fresh_hours = 20
per_source_max = 20

[tts]
engine = "espeak"
espeak_rate = 110   # slower than the configured guess of syllables per minute assumes

[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"
target_minutes = {TARGET_MINUTES}
''', encoding="utf-8")
    target = TARGET_MINUTES * 60
    first = _build(tmp_path, "2026-11-20")  # nothing measured yet: the configured guess
    assert (tmp_path / "data" / "speech-cache" / RATES_FILE).exists()
    second = _build(tmp_path, "2026-11-21")  # the voice's measured rate
    first_error = abs(first["duration"] - target) / target
    second_error = abs(second["duration"] - target) / target
    assert second_error <= 0.08, (first["duration"], second["duration"])
    assert second_error < first_error
    assert not any("ngắn" in w or "dài" in w for w in second["warnings"])
