"""The pieces under the renderer: ffmpeg lookup, default jingles, measurement, levels."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from broadcast.audio import decode_mono, ffmpeg_version, find_ffmpeg, length_warning, measure_loudness
from broadcast.audio import jingle, testsignal
from broadcast.audio.encode import Tags, bulletin_tags, mp3_bitrate, write_tags
from broadcast.audio.measure import parse_ebur128, rms_db, tone_level_db
from broadcast.audio.mix import active_level_db, level_to
from broadcast.errors import AudioError


def test_ffmpeg_is_found_and_reports_a_version():
    assert Path(find_ffmpeg()).is_file()
    assert ffmpeg_version()


def test_no_ffmpeg_anywhere_gives_a_vietnamese_error(monkeypatch):
    import imageio_ffmpeg

    def gone():
        raise RuntimeError("no ffmpeg exe could be found")

    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", gone)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    find_ffmpeg.cache_clear()
    try:
        with pytest.raises(AudioError, match="Không tìm thấy chương trình ffmpeg"):
            find_ffmpeg()
    finally:
        find_ffmpeg.cache_clear()


def test_default_jingles_are_deterministic_short_and_unclipped():
    for kind in jingle.KINDS:
        first = jingle.default_pcm(kind, 22050)
        jingle.default_pcm.cache_clear()
        jingle._synth.cache_clear()
        again = jingle.default_pcm(kind, 22050)
        assert hashlib.sha256(first).digest() == hashlib.sha256(again).digest()
        seconds = len(first) / 2 / 22050
        assert 0.5 <= seconds <= 4.0
        samples = as_samples(first)
        peak = max(abs(v) for v in samples)
        assert 0.6 * 32767 < peak < 0.75 * 32767  # about -3 dBFS: headroom, never clipped
        # It ends in a fade, not a click.
        assert max(abs(v) for v in samples[-20:]) < 50


def test_default_jingle_suits_horn_speakers():
    pcm = as_samples(jingle.default_pcm("jingle", 22050))
    # Energy sits in the notes (C5..C6), hardly any below 300 Hz where horns give nothing.
    in_band = tone_level_db(pcm, 22050, 523.25)
    low = tone_level_db(pcm, 22050, 150.0)
    assert in_band - low > 40


def test_default_jingle_at_output_rate(tmp_path):
    wav = jingle.write_default("sting", tmp_path / "sting.wav", rate=44100)
    assert len(decode_mono(wav, 44100)) == pytest.approx(0.9 * 44100, abs=10)


def test_measure_loudness_of_a_reference_tone(tmp_path):
    # EBU Tech 3341: a 997 Hz sine with 0 dBFS peak reads -3.01 LUFS.
    wav = testsignal.write_wav(tmp_path / "ref.wav", testsignal.tone(997, 5.0, 48000, level_db=-20.0), 48000)
    lufs, tp = measure_loudness(wav)
    assert lufs == pytest.approx(-23.0, abs=0.2)
    assert tp == pytest.approx(-20.0, abs=0.2)


def test_measure_missing_file_names_it(tmp_path):
    with pytest.raises(AudioError, match="khong-co.mp3"):
        measure_loudness(tmp_path / "khong-co.mp3")


def test_parse_ebur128_without_summary_is_an_error():
    with pytest.raises(AudioError, match="Không đo được"):
        parse_ebur128("no summary here", "bản tin")


def test_decode_mono_resamples(tmp_path):
    wav = testsignal.write_wav(tmp_path / "t.wav", testsignal.tone(440, 1.0, 24000), 24000)
    pcm = decode_mono(wav, 16000)
    assert len(pcm) == pytest.approx(16000, abs=5)
    assert tone_level_db(pcm, 16000, 440) == pytest.approx(-15.0, abs=0.5)  # -12 dBFS peak sine


def test_level_to_brings_quiet_speech_to_the_working_level():
    quiet = testsignal.speechlike(3.0, 22050, seed=1, level_db=-35)
    levelled, gain = level_to(quiet, 22050, -24.0)
    assert gain == pytest.approx(11.0, abs=1.0)
    assert active_level_db(levelled, 22050) == pytest.approx(-24.0, abs=0.5)
    assert active_level_db(bytes(44100), 22050) is None  # silence has no level
    assert rms_db(as_samples(bytes(100))) == float("-inf")


def test_mp3_bitrate_rules():
    assert mp3_bitrate("128k", 44100) == ("128k", None)
    rate, warning = mp3_bitrate("256k", 22050)
    assert rate == "160k" and "22050" in warning


def test_length_warning_thresholds():
    assert length_warning(600, 600) is None
    assert length_warning(700, 600) is None  # 17% long is fine
    long = length_warning(780, 600)
    assert long and "dài hơn" in long and "30%" in long
    assert "dài 13 phút, dài hơn 30% so với thời lượng mong muốn 10 phút:" in long
    assert "2 phút 5 giây" in length_warning(125, 600)
    assert length_warning(100, None) is None


def test_a_short_day_of_news_is_not_blamed_on_the_settings():
    short = length_warning(200, 600)
    assert short and "max_items" in short
    ran_out = length_warning(200, 600, stories=2)
    assert ran_out and "chỉ có 2 tin" in ran_out and "max_items" not in ran_out and "ngắn hơn" in ran_out
    none = length_warning(100, 600, stories=0)
    assert none and "không có tin nào" in none
    # Too long is always a setting to change, whatever the news.
    assert "max_items" in length_warning(900, 600, stories=2)


def as_samples(raw: bytes):
    from broadcast.audio.measure import samples_from_bytes

    return samples_from_bytes(raw)


def test_bulletin_tags_and_date_formats(tmp_path):
    import datetime as dt

    from mutagen.id3 import ID3

    tags = bulletin_tags("Đài xã Hòa Phú", dt.date(2025, 6, 1), ["Báo Chính phủ", "Báo Chính phủ", "VnExpress"],
                         slot="sáng")
    assert tags.title == "Bản tin cải cách hành chính ngày 01/06/2025 (sáng)"
    assert tags.comment == "Nguồn: Báo Chính phủ; VnExpress"
    assert tags.date == "2025-06-01"
    mp3 = tmp_path / "t.mp3"
    from broadcast.audio.ffmpeg import run_ffmpeg

    run_ffmpeg(["-f", "lavfi", "-i", "sine=d=0.5", "-c:a", "libmp3lame", "-y", str(mp3)], what="test")
    write_tags(mp3, Tags("a", "b", "01/06/2025", "c"))  # dd/mm/yyyy is understood too
    assert str(ID3(str(mp3))["TDRC"]) == "2025-06-01"


def test_k_weighting_matches_the_coefficients_bs1770_tabulates_at_48khz():
    from broadcast.audio.measure import k_weighting

    shelf, rlb = k_weighting(48000)
    assert shelf == pytest.approx([1.53512485958697, -2.69169618940638, 1.19839281085285,
                                   1.0, -1.69065929318241, 0.73248077421585], abs=1e-9)
    assert rlb == pytest.approx([1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621], abs=1e-9)


@pytest.mark.parametrize("rate", [22050, 44100])
def test_in_memory_meter_agrees_with_ffmpeg(tmp_path, rate):
    import numpy as np

    from broadcast.audio.measure import integrated_loudness, true_peak

    # Speech-like program with pauses (so the gates matter) and a jingle.
    pcm = (testsignal.speechlike(8.0, rate, seed=3, level_db=-14) + testsignal.silence(1.5, rate)
           + jingle.default_pcm("jingle", rate) + testsignal.speechlike(5.0, rate, seed=4, level_db=-30))
    wav = testsignal.write_wav(tmp_path / "p.wav", pcm, rate)
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768
    lufs, tp = measure_loudness(wav)
    assert integrated_loudness(samples, rate) == pytest.approx(lufs, abs=0.1)
    assert true_peak(samples) == pytest.approx(tp, abs=0.15)
    # And it is a meter: 6 dB less signal reads 6 LU less.
    assert integrated_loudness(samples / 2, rate) == pytest.approx(lufs - 6.02, abs=0.1)


@pytest.mark.parametrize("src_rate", [16000, 22050, 24000])
def test_speech_is_resampled_at_its_level_without_images(src_rate):
    import numpy as np

    from broadcast.audio.resample import resample

    x = np.frombuffer(testsignal.tone(1000, 2.0, src_rate, level_db=-12.0), dtype="<i2").astype(np.float32) / 32768
    y = resample(x, src_rate, 44100)
    assert len(y) == pytest.approx(2.0 * 44100, abs=1)
    spectrum = np.abs(np.fft.rfft(y[4410:-4410] * np.hanning(len(y) - 8820)))
    freqs = np.fft.rfftfreq(len(y) - 8820, 1 / 44100)
    tone = spectrum[np.argmin(np.abs(freqs - 1000))]
    # The upsampled copy of the tone (src_rate - 1000 Hz) is what a poor resampler leaves.
    image = spectrum[np.argmin(np.abs(freqs - (src_rate - 1000)))]
    assert 20 * np.log10(image / tone) < -90
    samples = np.round(y * 32768).astype("<i2")
    assert tone_level_db(samples.tolist(), 44100, 1000) == pytest.approx(-15.0, abs=0.3)  # -12 dBFS peak sine
