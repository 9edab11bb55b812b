"""The speech cache: rebuilds synthesize nothing, edits re-synthesize one paragraph, pruning."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from broadcast.config import TTSConfig
from broadcast.errors import BroadcastError
from broadcast.speech import SpeechCache, SpeechRun, Synthesizer, cache_key, parse_age
from broadcast.speech.pcm import wav_info

PARAGRAPHS = [
    "Kính thưa bà con, sau đây là bản tin cải cách hành chính của xã.",
    "Ủy ban nhân dân xã tiếp nhận hồ sơ trực tuyến cả sáng thứ bảy.",
    "Người dân có thể nộp hồ sơ qua Cổng dịch vụ công quốc gia.",
    "Bộ phận một cửa hướng dẫn tận tình cho người cao tuổi.",
    "Bản tin đến đây là hết, xin cảm ơn bà con đã lắng nghe.",
]


def build(root: Path, texts: list[str], **tts_kw) -> tuple[Synthesizer, list]:
    """One nightly run: a new run state, a new cache object on the same folder."""
    synth = Synthesizer(TTSConfig(engine="espeak", **tts_kw), SpeechCache(root), run=SpeechRun())
    return synth, synth.speak(texts)


def test_rebuild_synthesizes_nothing_and_an_edit_only_that_paragraph(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    first, out1 = build(root, PARAGRAPHS)
    assert first.synth_calls == 5 and first.cache_misses == 5 and first.cache_hits == 0
    assert [sp.cached for sp in out1] == [False] * 5
    stats = SpeechCache(root).stats()
    assert (stats.entries, stats.last_run_hits, stats.last_run_misses) == (5, 0, 5)
    assert stats.size_bytes == sum(sp.wav.stat().st_size for sp in out1)

    second, out2 = build(root, PARAGRAPHS)
    assert second.synth_calls == 0 and second.cache_hits == 5
    assert [sp.cached for sp in out2] == [True] * 5
    assert [sp.wav for sp in out2] == [sp.wav for sp in out1]
    stats = SpeechCache(root).stats()
    assert (stats.last_run_hits, stats.last_run_misses, stats.last_run_hit_rate) == (5, 0, 1.0)

    edited = list(PARAGRAPHS)
    edited[2] = "Người dân có thể nộp hồ sơ qua Cổng dịch vụ công của tỉnh."
    third, out3 = build(root, edited)
    assert third.synth_calls == 1
    assert [sp.cached for sp in out3] == [True, True, False, True, True]
    stats = SpeechCache(root).stats()
    assert (stats.entries, stats.last_run_hits, stats.last_run_misses) == (6, 4, 1)
    assert stats.last_run_hit_rate == 0.8


def test_stations_of_one_run_add_up_in_the_stats(tmp_path: Path) -> None:
    cache, run = SpeechCache(tmp_path), SpeechRun()
    calls = 0
    for _ in range(3):  # three stations sharing the same news
        synth = Synthesizer(TTSConfig(engine="espeak"), cache, run=run)
        synth.speak(PARAGRAPHS[:3])
        calls += synth.synth_calls
    assert calls == 3
    stats = SpeechCache(tmp_path).stats()
    assert (stats.last_run_hits, stats.last_run_misses) == (6, 3)


def test_identical_paragraphs_in_one_call_are_synthesized_once(tmp_path: Path) -> None:
    synth, out = build(tmp_path, [PARAGRAPHS[0], PARAGRAPHS[1], PARAGRAPHS[0]])
    assert synth.synth_calls == 2
    assert out[0].wav == out[2].wav and out[2].cached and not out[0].cached


def test_key_covers_engine_voice_speed_and_exact_text() -> None:
    base = cache_key("espeak", {"voice": "vi", "rate": 150}, 1.0, "Xin chào.")
    assert base == cache_key("espeak", {"rate": 150, "voice": "vi"}, 1.0, "Xin chào.")
    assert base != cache_key("espeak", {"voice": "vi-vn-x-south", "rate": 150}, 1.0, "Xin chào.")
    assert base != cache_key("gtts", {"voice": "vi", "rate": 150}, 1.0, "Xin chào.")
    assert base != cache_key("espeak", {"voice": "vi", "rate": 150}, 1.1, "Xin chào.")
    assert base != cache_key("espeak", {"voice": "vi", "rate": 150}, 1.0, "Xin chào!")


def test_voice_change_resynthesizes(tmp_path: Path) -> None:
    build(tmp_path, PARAGRAPHS[:2])
    synth, _ = build(tmp_path, PARAGRAPHS[:2], espeak_voice="vi-vn-x-central")
    assert synth.synth_calls == 2


def test_unreadable_entry_is_dropped_and_redone(tmp_path: Path) -> None:
    _, out = build(tmp_path, PARAGRAPHS[:1])
    out[0].wav.write_bytes(b"RIFF\x00\x00")  # e.g. a disk error
    synth, out2 = build(tmp_path, PARAGRAPHS[:1])
    assert synth.synth_calls == 1 and wav_info(out2[0].wav)[3] > 0


def test_prune_removes_unused_entries_and_keeps_recent_hits(tmp_path: Path) -> None:
    _, out = build(tmp_path, PARAGRAPHS)
    old = time.time() - 40 * 86400
    for sp in out:
        os.utime(sp.wav, (old, old))
    build(tmp_path, PARAGRAPHS[:2])  # a hit touches the file
    orphan = out[0].wav.parent / ".abandoned.wav.tmp"
    orphan.write_bytes(b"x")
    os.utime(orphan, (old, old))
    expected = sum(sp.wav.stat().st_size for sp in out[2:]) + 1
    removed, freed = SpeechCache(tmp_path).prune(dt.timedelta(days=30), dt.datetime.now(dt.timezone.utc))
    assert (removed, freed) == (4, expected)
    assert [sp.wav.exists() for sp in out] == [True, True, False, False, False]
    assert SpeechCache(tmp_path).stats().entries == 2


_WORKER = """
import sys
from pathlib import Path
from broadcast.config import TTSConfig
from broadcast.speech import SpeechCache, Synthesizer
texts = sys.argv[2:]
synth = Synthesizer(TTSConfig(engine="espeak"), SpeechCache(Path(sys.argv[1])))
out = synth.speak(texts)
print(sum(sp.duration > 0 for sp in out))
"""


def test_two_processes_filling_the_cache_at_once(tmp_path: Path) -> None:
    root = tmp_path / "shared"
    texts = [f"{p} Lần {i}." for i in range(8) for p in PARAGRAPHS[:2]]
    procs = [
        subprocess.Popen([sys.executable, "-c", _WORKER, str(root), *texts],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err
        assert out.strip() == str(len(texts))
    files = [f for f in root.rglob("*") if f.is_file() and f.parent != root]
    assert all(not f.name.startswith(".") for f in files)  # no temporary files left
    assert len(files) == len(set(texts))
    assert all(wav_info(f) and wav_info(f)[3] > 0 for f in files)


def test_prune_ages_read_like_the_cli_option() -> None:
    assert parse_age("30d") == dt.timedelta(days=30)
    assert parse_age("12h") == dt.timedelta(hours=12)
    assert parse_age("2w") == dt.timedelta(days=14)
    assert parse_age("7") == dt.timedelta(days=7)
    for bad in ("", "ba mươi ngày", "-3d", "d"):
        with pytest.raises(BroadcastError, match="30d"):
            parse_age(bad)


def test_stats_of_an_empty_or_missing_cache(tmp_path: Path) -> None:
    stats = SpeechCache(tmp_path / "none").stats()
    assert (stats.entries, stats.size_bytes, stats.last_run_hit_rate) == (0, 0, None)
    assert SpeechCache(tmp_path / "none").prune(dt.timedelta(days=1), dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)) == (0, 0)


def _frames(path: Path) -> int:
    info = wav_info(path)
    return info[3] if info else 0


@pytest.mark.parametrize("cut", ["half", "header"])
def test_an_entry_cut_short_is_dropped_remade_and_said_once(tmp_path: Path, cut: str) -> None:
    # A power cut or full disk can leave the entry shorter than its header says;
    # read as a hit it would go on air cut mid-sentence (or silent).
    _, out = build(tmp_path, PARAGRAPHS[:2])
    full = [_frames(sp.wav) for sp in out]
    for sp in out:
        data = sp.wav.read_bytes()
        sp.wav.write_bytes(data[: len(data) // 2] if cut == "half" else data[:44])
    synth, out2 = build(tmp_path, PARAGRAPHS[:2])
    assert synth.synth_calls == 2 and synth.cache_hits == 0
    # espeak's length varies by a few ms between runs; a cut entry is half or none.
    for sp, frames in zip(out2, full):
        assert abs(_frames(sp.wav) - frames) < 0.01 * frames
        assert abs(sp.duration - frames / 22050) < 0.01 * frames / 22050
    damage = [w for w in synth.warnings if "bị hỏng" in w]
    assert len(damage) == 1 and str(tmp_path) in damage[0]
    assert [n for n in synth.run.notices if "bị hỏng" in n] == damage


def test_a_flipped_byte_inside_the_audio_is_caught(tmp_path: Path) -> None:
    _, out = build(tmp_path, PARAGRAPHS[:1])
    data = bytearray(out[0].wav.read_bytes())
    data[len(data) // 2] ^= 0x40
    out[0].wav.write_bytes(bytes(data))
    synth, _ = build(tmp_path, PARAGRAPHS[:1])
    assert synth.synth_calls == 1
    assert any("bị hỏng" in w for w in synth.warnings)


def test_a_sound_entry_is_a_hit_with_no_warning(tmp_path: Path) -> None:
    build(tmp_path, PARAGRAPHS[:2])
    synth, _ = build(tmp_path, PARAGRAPHS[:2])
    assert synth.synth_calls == 0 and synth.warnings == []


def test_a_whole_entry_from_before_seals_is_kept_and_sealed(tmp_path: Path) -> None:
    from broadcast.speech.cache import SEAL_ID, SEAL_SIZE, seal_ok
    from broadcast.speech.pcm import read_wav, write_wav

    _, out = build(tmp_path, PARAGRAPHS[:1])
    pcm, rate = read_wav(out[0].wav)
    write_wav(out[0].wav, pcm, rate)  # the same audio, written without a seal
    assert seal_ok(out[0].wav) is None
    synth, out2 = build(tmp_path, PARAGRAPHS[:1])
    assert synth.synth_calls == 0 and synth.warnings == []
    assert out2[0].wav.read_bytes()[-SEAL_SIZE:][:4] == SEAL_ID and seal_ok(out2[0].wav) is True
    assert read_wav(out2[0].wav)[0] == pcm


def test_players_read_a_sealed_entry_as_exactly_its_audio(tmp_path: Path) -> None:
    from broadcast.speech.pcm import ffmpeg_exe, read_wav, samples_to_bytes

    _, out = build(tmp_path, PARAGRAPHS[:1])
    pcm, _ = read_wav(out[0].wav)
    decoded = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(out[0].wav), "-f", "s16le", "-"],
                             capture_output=True, check=True).stdout
    assert decoded == samples_to_bytes(pcm)
