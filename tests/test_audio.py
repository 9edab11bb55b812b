"""Rendering bulletins: decode the delivered MP3 with ffmpeg and check what a listener or platform would."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest
from mutagen.id3 import ID3
from mutagen.mp3 import MP3, BitrateMode

from broadcast.audio import Part, Tags, decode_mono, measure_loudness, render
from broadcast.audio import encode, master, testsignal
from broadcast.audio.jingle import write_default
from broadcast.audio.measure import clipped_count, rms_db, similarity, tone_level_db
from broadcast.audio.render import CODEC_BIAS_LU
from broadcast.config import AudioConfig
from broadcast.errors import AudioError

DATA = Path(__file__).parent / "data" / "audio"
RATE = 16000  # analysis rate for decoded output

TAGS = Tags(
    title="Bản tin cải cách hành chính ngày 01/06/2025",
    artist="Đài truyền thanh xã Hòa Phú",
    date="2025-06-01",
    comment="Nguồn: Báo Chính phủ; Cổng thông tin điện tử tỉnh Đắk Lắk",
)


def speech_wav(path: Path, seconds: float, rate: int, seed: int, level_db: float) -> Path:
    return testsignal.write_wav(path, testsignal.speechlike(seconds, rate, seed=seed, level_db=level_db), rate)


def tone_wav(path: Path, freq: float, seconds: float, rate: int, level_db: float = -12.0) -> Path:
    return testsignal.write_wav(path, testsignal.tone(freq, seconds, rate, level_db), rate)


def window(samples, start_s: float, end_s: float, rate: int = RATE):
    return samples[int(start_s * rate): int(end_s * rate)]


def entry(result, kind: str, nth: int = 0):
    return [e for e in result.timeline if e.kind == kind][nth]


@pytest.fixture(scope="module")
def bulletin(tmp_path_factory):
    """A default bulletin: generated jingles, two speech engines' worth of WAVs at different rates and levels."""
    d = tmp_path_factory.mktemp("bulletin")
    # Engines differ: 24 kHz loud and 22.05 kHz much quieter.
    a = speech_wav(d / "a.wav", 6.0, 24000, seed=1, level_db=-16)
    b = speech_wav(d / "b.wav", 5.0, 22050, seed=2, level_db=-32)
    parts = [
        Part("jingle", label="Nhạc hiệu"),
        Part("pause", duration_ms=400),
        Part("speech", a, label="Lời chào"),
        Part("pause", duration_ms=800),
        Part("sting", label="Chuyển mục"),
        Part("pause", duration_ms=800),
        Part("speech", b, label="Tin 1"),
        Part("pause"),  # configured pause_ms
        Part("outro", label="Nhạc kết"),
    ]
    out = d / "hoa-phu.mp3"
    result = render(parts, AudioConfig(), out, TAGS)
    return {"dir": d, "parts": parts, "out": out, "result": result,
            "pcm": decode_mono(out, RATE), "pcm44": decode_mono(out, 44100)}


def test_loudness_on_target_and_true_peak_below_ceiling(bulletin):
    lufs, tp = measure_loudness(bulletin["out"])
    assert abs(lufs - -16.0) <= 1.0
    assert tp <= -1.0
    # The manifest reports what the file measures, though measured on the
    # master in memory: loudness within a few tenths, and a true peak the
    # encoder stays within LIMIT_MARGIN_DB of.
    assert bulletin["result"].loudness == pytest.approx(lufs, abs=0.3)
    assert tp <= bulletin["result"].true_peak + master.LIMIT_MARGIN_DB
    assert bulletin["result"].true_peak == pytest.approx(tp, abs=master.LIMIT_MARGIN_DB)


def test_render_says_where_its_time_went(bulletin):
    stages = bulletin["result"].stages
    assert {"assemble", "analyse", "limit", "encode"} <= set(stages)
    assert all(seconds >= 0 for seconds in stages.values())


def test_an_encoded_stream_cut_short_or_of_other_samples_is_refused(tmp_path):
    pcm = testsignal.speechlike(3.0, 44100, seed=11, level_db=-20)
    mp3 = tmp_path / "x.mp3"
    encode.write_mp3(pcm, 44100, "128k", mp3)
    encode.check_mp3(mp3, 3.0, 44100)  # whole: accepted
    with pytest.raises(AudioError, match="3,50 giây"):
        encode.check_mp3(mp3, 3.5, 44100)  # samples lost on the way to the encoder
    with pytest.raises(AudioError):
        encode.check_mp3(mp3, 3.0, 22050)
    mp3.write_bytes(mp3.read_bytes()[: mp3.stat().st_size // 2])
    with pytest.raises(AudioError, match="hỏng hoặc thiếu"):
        encode.check_mp3(mp3, 3.0, 44100)


def test_mono_cbr_mp3_at_configured_rate_and_bitrate(bulletin):
    info = MP3(str(bulletin["out"])).info
    assert info.channels == 1
    assert info.sample_rate == 44100
    assert info.bitrate == 128000
    assert info.bitrate_mode == BitrateMode.CBR


def test_id3_tags_present_with_vietnamese_text(bulletin):
    tags = ID3(str(bulletin["out"]))
    assert str(tags["TIT2"]) == TAGS.title
    assert str(tags["TPE1"]) == TAGS.artist
    assert str(tags["TDRC"]) == "2025-06-01"
    assert tags.version[:2] == (2, 3)  # the ID3 version hardware players read most reliably
    comments = tags.getall("COMM")
    assert comments and str(comments[0]) == TAGS.comment


def test_no_clipped_samples(bulletin):
    assert clipped_count(bulletin["pcm44"]) == 0


def test_duration_and_timeline_match_the_decoded_audio(bulletin):
    result, pcm = bulletin["result"], bulletin["pcm"]
    assert [e.kind for e in result.timeline] == [p.kind for p in bulletin["parts"]]
    assert [e.label for e in result.timeline] == [p.label for p in bulletin["parts"]]
    for prev, nxt in zip(result.timeline, result.timeline[1:]):
        assert nxt.start == pytest.approx(prev.end)
    assert result.timeline[-1].end == pytest.approx(result.duration, abs=0.03)
    assert len(pcm) / RATE == pytest.approx(result.duration, abs=0.03)
    # Speech where the timeline says speech, silence where it says pause.
    s1, s2 = entry(result, "speech", 0), entry(result, "speech", 1)
    assert s1.end - s1.start == pytest.approx(6.0, abs=0.01)
    assert s2.end - s2.start == pytest.approx(5.0, abs=0.01)
    pause = result.timeline[3]
    assert pause.end - pause.start == pytest.approx(0.8, abs=0.01)
    assert rms_db(window(pcm, pause.start + 0.2, pause.end - 0.2)) < -60
    assert rms_db(window(pcm, s1.start, s1.end)) > -30
    default_pause = result.timeline[7]
    assert default_pause.end - default_pause.start == pytest.approx(AudioConfig().pause_ms / 1000, abs=0.01)


def test_speech_from_different_engines_comes_out_at_similar_level(bulletin):
    result, pcm = bulletin["result"], bulletin["pcm"]
    s1, s2 = entry(result, "speech", 0), entry(result, "speech", 1)
    loud = rms_db(window(pcm, s1.start, s1.end))
    quiet = rms_db(window(pcm, s2.start, s2.end))
    assert abs(loud - quiet) < 3.0  # they went in 16 dB apart


def test_generated_jingle_at_start_and_outro_at_end(bulletin, tmp_path):
    result, pcm = bulletin["result"], bulletin["pcm"]
    intro = decode_mono(write_default("jingle", tmp_path / "jingle.wav"), RATE)
    outro = decode_mono(write_default("outro", tmp_path / "outro.wav"), RATE)
    assert entry(result, "jingle").start == 0.0
    assert similarity(pcm[: len(intro)], intro, max_lag=2) > 0.85
    end = entry(result, "outro")
    assert end.end == pytest.approx(result.duration, abs=0.03)
    tail = window(pcm, end.start, end.end)
    assert similarity(tail, outro, max_lag=2) > 0.85
    # The comparison tells things apart: speech does not look like the jingle.
    s1 = entry(result, "speech", 0)
    assert similarity(window(pcm, s1.start, s1.start + 3.2), intro, max_lag=2) < 0.3
    sting = entry(result, "sting")
    assert sting.end - sting.start == pytest.approx(0.9, abs=0.01)


def test_station_jingle_and_sting_files_are_used(tmp_path):
    speech = speech_wav(tmp_path / "s.wav", 3.0, 24000, seed=3, level_db=-20)
    audio = AudioConfig(jingle=DATA / "station_jingle.ogg", sting=DATA / "station_sting.mp3")
    parts = [Part("jingle", label="Nhạc hiệu"), Part("speech", speech, label="Tin"),
             Part("sting", label="Chuyển"), Part("speech", speech, label="Tin 2"),
             Part("outro", label="Nhạc kết")]
    result = render(parts, audio, tmp_path / "out.mp3", TAGS)
    pcm = decode_mono(tmp_path / "out.mp3", RATE)
    own = decode_mono(DATA / "station_jingle.ogg", RATE)
    default = decode_mono(write_default("jingle", tmp_path / "default.wav"), RATE)
    j = entry(result, "jingle")
    assert j.end - j.start == pytest.approx(2.2, abs=0.02)
    assert similarity(pcm[: len(own)], own, max_lag=2) > 0.85
    assert similarity(pcm[: len(own)], default[: len(own)], max_lag=2) < 0.3
    # No outro configured: the station's own jingle closes the bulletin.
    o = entry(result, "outro")
    assert similarity(window(pcm, o.start, o.end), own, max_lag=2) > 0.85
    sting = entry(result, "sting")
    assert sting.end - sting.start == pytest.approx(0.6, abs=0.02)
    ping = decode_mono(DATA / "station_sting.mp3", RATE)
    assert similarity(window(pcm, sting.start, sting.end), ping, max_lag=2) > 0.8


def test_part_path_overrides_the_generated_default(tmp_path):
    speech = speech_wav(tmp_path / "s.wav", 2.0, 22050, seed=4, level_db=-20)
    parts = [Part("jingle", DATA / "station_jingle.ogg", label="Nhạc hiệu riêng"),
             Part("speech", speech, label="Tin")]
    result = render(parts, AudioConfig(), tmp_path / "out.mp3", TAGS)
    pcm = decode_mono(tmp_path / "out.mp3", RATE)
    own = decode_mono(DATA / "station_jingle.ogg", RATE)
    assert similarity(pcm[: len(own)], own, max_lag=2) > 0.85
    assert entry(result, "jingle").end == pytest.approx(2.2, abs=0.02)


def test_bed_is_ducked_under_speech(tmp_path):
    # "Speech" is a 1 kHz tone and the bed a 250 Hz tone, so each is measured on its own.
    talk = tone_wav(tmp_path / "talk.wav", 1000, 3.0, 24000)
    audio = AudioConfig(bed=DATA / "bed_250hz.mp3", bed_enabled=True, bed_duck_db=15.0, bed_level_db=-20.0)
    parts = [Part("jingle", label="Nhạc hiệu"), Part("pause", duration_ms=300),
             Part("speech", talk, label="Tin 1"), Part("pause", duration_ms=2500),
             Part("speech", talk, label="Tin 2"), Part("pause", duration_ms=300),
             Part("outro", label="Nhạc kết")]
    result = render(parts, audio, tmp_path / "bed.mp3", TAGS)
    pcm = decode_mono(tmp_path / "bed.mp3", RATE)
    s1, gap, s2 = result.timeline[2], result.timeline[3], result.timeline[4]
    under_1 = tone_level_db(window(pcm, s1.start + 1.0, s1.start + 2.0), RATE, 250)
    under_2 = tone_level_db(window(pcm, s2.start + 1.0, s2.start + 2.0), RATE, 250)
    between = tone_level_db(window(pcm, gap.start + 0.75, gap.start + 1.75), RATE, 250)
    # The envelope ducks by bed_duck_db; the compressor hardly touches a tone at the working level.
    assert between - under_1 >= 14.5
    assert between - under_2 >= 14.5
    # Between items the bed sits about bed_level_db under the voice.
    voice = tone_level_db(window(pcm, s1.start + 1.0, s1.start + 2.0), RATE, 1000)
    assert -25.0 <= between - voice <= -14.0
    # The bed is looped (the file is 5 s) and never plays under the jingles.
    assert tone_level_db(window(pcm, 0.5, 2.5), RATE, 250) < between - 30
    o = entry(result, "outro")
    assert tone_level_db(window(pcm, o.start + 0.5, o.end - 0.5), RATE, 250) < between - 30
    lufs, tp = measure_loudness(tmp_path / "bed.mp3")
    assert abs(lufs - -16.0) <= 1.0 and tp <= -1.0


def test_bed_off_by_default(tmp_path):
    talk = tone_wav(tmp_path / "talk.wav", 1000, 2.0, 24000)
    audio = AudioConfig(bed=DATA / "bed_250hz.mp3")  # a file, but bed_enabled is false
    parts = [Part("speech", talk), Part("pause", duration_ms=2000), Part("speech", talk)]
    result = render(parts, audio, tmp_path / "nobed.mp3", TAGS)
    pcm = decode_mono(tmp_path / "nobed.mp3", RATE)
    gap = result.timeline[1]
    assert rms_db(window(pcm, gap.start + 0.5, gap.end - 0.5)) < -60


def test_configured_rate_bitrate_loudness_and_wav(tmp_path):
    speech = speech_wav(tmp_path / "s.wav", 5.0, 24000, seed=5, level_db=-20)
    audio = AudioConfig(sample_rate=22050, bitrate="64k", loudness=-20.0, true_peak=-2.0)
    parts = [Part("jingle"), Part("speech", speech), Part("outro")]
    out = tmp_path / "audio_out" / "2025-06-01"  # created on demand
    result = render(parts, audio, out / "low.mp3", TAGS, out_wav=out / "low.wav")
    info = MP3(str(out / "low.mp3")).info
    assert (info.channels, info.sample_rate, info.bitrate) == (1, 22050, 64000)
    assert info.bitrate_mode == BitrateMode.CBR
    lufs, tp = measure_loudness(out / "low.mp3")
    assert abs(lufs - -20.0) <= 1.0
    assert tp <= -2.0
    with wave.open(str(out / "low.wav"), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
        assert w.getnframes() / 22050 == pytest.approx(result.duration, abs=0.03)
    wav_lufs, wav_tp = measure_loudness(out / "low.wav")
    assert abs(wav_lufs - -20.0) <= 1.0
    # The WAV is the master the encoder got: what the renderer measured in memory.
    assert wav_lufs == pytest.approx(result.loudness + CODEC_BIAS_LU[128], abs=0.1)  # 64k: up to 128k
    assert wav_tp <= -2.0 - master.LIMIT_MARGIN_DB + 0.1
    # 64 kbit/s: the encoded file was decoded and measured; at 22.05 kHz the result allows for
    # ffmpeg's meter reading up to 0.25 dB higher, so it is never under what ffmpeg reads.
    assert tp - 0.05 <= result.true_peak <= tp + 0.3


def test_bitrate_too_high_for_low_sample_rate_is_lowered_with_warning(tmp_path):
    speech = speech_wav(tmp_path / "s.wav", 2.0, 24000, seed=6, level_db=-20)
    audio = AudioConfig(sample_rate=24000, bitrate="320k")
    result = render([Part("speech", speech)], audio, tmp_path / "x.mp3", TAGS)
    assert result.bitrate == "160k"
    assert MP3(str(tmp_path / "x.mp3")).info.bitrate == 160000
    assert any("160k" in w for w in result.warnings)


def test_missing_station_jingle_is_an_error_naming_the_file(tmp_path):
    speech = speech_wav(tmp_path / "s.wav", 1.0, 22050, seed=7, level_db=-20)
    missing = tmp_path / "nhac-hieu-xa.mp3"
    with pytest.raises(AudioError) as exc:
        render([Part("jingle"), Part("speech", speech)], AudioConfig(jingle=missing),
               tmp_path / "out.mp3", TAGS)
    assert str(missing) in str(exc.value)
    assert "Không tìm thấy" in str(exc.value)
    assert not (tmp_path / "out.mp3").exists()


def test_unreadable_station_file_is_an_error_naming_it(tmp_path):
    speech = speech_wav(tmp_path / "s.wav", 1.0, 22050, seed=7, level_db=-20)
    broken = tmp_path / "sting.ogg"
    broken.write_bytes(b"this is not audio at all" * 20)
    with pytest.raises(AudioError) as exc:
        render([Part("speech", speech), Part("sting"), Part("speech", speech)],
               AudioConfig(sting=broken), tmp_path / "out.mp3", TAGS)
    assert str(broken) in str(exc.value)
    assert "nhạc chuyển mục" in str(exc.value)


def test_enabled_bed_with_missing_file_is_an_error(tmp_path):
    speech = speech_wav(tmp_path / "s.wav", 1.0, 22050, seed=7, level_db=-20)
    missing = tmp_path / "nen.mp3"
    with pytest.raises(AudioError, match="nhạc nền"):
        render([Part("speech", speech)], AudioConfig(bed=missing, bed_enabled=True),
               tmp_path / "out.mp3", TAGS)


def test_missing_speech_file_is_an_error_naming_it(tmp_path):
    missing = tmp_path / "doan-1.wav"
    with pytest.raises(AudioError) as exc:
        render([Part("speech", missing, label="Tin 1")], AudioConfig(), tmp_path / "out.mp3", TAGS)
    assert str(missing) in str(exc.value)


def test_unknown_part_kind_is_an_error():
    with pytest.raises(AudioError, match="music"):
        render([Part("music")], AudioConfig(), Path("/nonexistent/x.mp3"), TAGS)


def test_failed_render_keeps_the_previous_file(tmp_path, monkeypatch):
    speech = speech_wav(tmp_path / "s.wav", 1.0, 22050, seed=8, level_db=-20)
    out = tmp_path / "hoa-phu.mp3"
    out.write_bytes(b"yesterday's bulletin")

    def crash(pcm, rate, bitrate, mp3_path):
        Path(mp3_path).write_bytes(b"half an mp3")  # as if the encoder died midway
        raise AudioError("Bộ mã hóa MP3 lỗi: killed")

    monkeypatch.setattr(encode, "write_mp3", crash)
    with pytest.raises(AudioError):
        render([Part("speech", speech)], AudioConfig(), out, TAGS)
    assert out.read_bytes() == b"yesterday's bulletin"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hoa-phu.mp3", "s.wav"]


def test_speech_in_other_wav_formats_is_decoded(tmp_path):
    # A stereo float WAV at 48 kHz (e.g. from a custom engine command) still works.
    src = speech_wav(tmp_path / "s.wav", 2.0, 24000, seed=9, level_db=-20)
    from broadcast.audio.ffmpeg import run_ffmpeg

    odd = tmp_path / "odd.wav"
    run_ffmpeg(["-i", str(src), "-ac", "2", "-ar", "48000", "-c:a", "pcm_f32le", "-y", str(odd)], what="test")
    result = render([Part("speech", odd, label="x")], AudioConfig(), tmp_path / "odd.mp3", TAGS)
    assert result.duration == pytest.approx(2.0, abs=0.03)
    lufs, tp = measure_loudness(tmp_path / "odd.mp3")
    assert abs(lufs - -16.0) <= 1.0 and tp <= -1.0


def test_length_warning_when_far_from_target(tmp_path):
    speech = speech_wav(tmp_path / "s.wav", 3.0, 22050, seed=10, level_db=-20)
    result = render([Part("speech", speech)], AudioConfig(), tmp_path / "short.mp3", TAGS,
                    target_seconds=600)
    assert any("ngắn hơn" in w and "10 phút" in w for w in result.warnings)


def test_silent_speech_gives_a_warning_not_a_crash(tmp_path):
    silent = testsignal.write_wav(tmp_path / "silent.wav", testsignal.silence(2.0, 22050), 22050)
    result = render([Part("speech", silent, label="Tin")], AudioConfig(), tmp_path / "s.mp3", TAGS)
    assert any("im lặng" in w for w in result.warnings)
    assert result.duration == pytest.approx(2.0, abs=0.01)
    assert result.true_peak == -120.0 and result.loudness <= -69  # finite: the manifest is JSON
    assert clipped_count(decode_mono(tmp_path / "s.mp3", RATE)) == 0
