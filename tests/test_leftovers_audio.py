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


# ------------------------------------------------------------ shared: real speech, ffmpeg-made files, decoding

from broadcast import api  # noqa: E402
from broadcast.audio import Part, Tags, render  # noqa: E402
from broadcast.audio.ffmpeg import run_ffmpeg  # noqa: E402
from broadcast.audio.measure import integrated_loudness  # noqa: E402
from broadcast.config import AudioConfig, ConfigError, load_config, parse_config  # noqa: E402
from broadcast.models import VN_TZ  # noqa: E402

import datetime as dt  # noqa: E402
import json  # noqa: E402

from offline import AUTO_STATION, offline_config  # noqa: E402

TAGS = Tags(title="Bản tin cải cách hành chính", artist="Đài truyền thanh xã Hòa Phú", date="2026-03-12",
            comment="Nguồn: Cổng Thông tin điện tử tỉnh")
PARAGRAPHS = [
    "Kính thưa bà con, Đài truyền thanh xã Hòa Phú xin gửi tới bà con bản tin cải cách hành chính.",
    "Theo Sở Nội vụ, hơn tám mươi lăm phần trăm hồ sơ thủ tục hành chính được tiếp nhận trực tuyến.",
    "Bà con có thể kích hoạt tài khoản định danh điện tử tại bộ phận một cửa của xã.",
]


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> list[Path]:
    """Three paragraphs of real offline speech (espeak-ng)."""
    d = tmp_path_factory.mktemp("speech")
    engine = EspeakEngine(TTSConfig(engine="espeak"))
    for n, text in enumerate(PARAGRAPHS):
        engine.synthesize(text, d / f"p{n}.wav")
    return [d / f"p{n}.wav" for n in range(len(PARAGRAPHS))]


def bulletin_parts(speech: list[Path]) -> list[Part]:
    """The shape the pipeline gives a bulletin: jingle, speech with pauses and a sting, outro."""
    return [Part("jingle", label="jingle"), Part("speech", speech[0], label="0:0"),
            Part("pause", duration_ms=900, label="pause"), Part("speech", speech[1], label="1:0"),
            Part("sting", label="sting"), Part("speech", speech[2], label="2:0"),
            Part("outro", label="outro")]


def lavfi(path: Path, source: str, *args: str) -> Path:
    """A file made by ffmpeg from a lavfi source description."""
    run_ffmpeg(["-f", "lavfi", "-i", source, *args, "-y", str(path)], what="tạo tệp thử")
    return path


def decoded(path: Path) -> tuple[np.ndarray, int]:
    """The file as a gapless decoder plays it: float samples and rate (44.1 kHz in these tests)."""
    proc = run_ffmpeg(["-i", str(path), "-map", "0:a:0", "-ac", "1", "-f", "f32le", "-"], what="giải mã")
    return np.frombuffer(proc.stdout, np.float32), 44100


def rms_db(x: np.ndarray) -> float:
    return 10 * np.log10(float(np.mean(np.square(x, dtype=np.float64))) + 1e-20)


# ------------------------------------------------------------ 2. jingles off


def _config(tmp_path: Path, audio: str, station_audio: str) -> str:
    return f'''
[audio]
{audio}

[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"
[stations.audio]
{station_audio}

[[stations]]
id = "hoa-binh"
name = "Đài truyền thanh xã Hòa Bình"
'''


def test_jingles_key_is_read_in_audio_and_per_station_and_checked(tmp_path: Path) -> None:
    import tomllib

    doc = tomllib.loads(_config(tmp_path, "jingles = false", "jingles = true"))
    config = parse_config(doc, None, cwd=tmp_path)
    assert config.audio.jingles is False
    assert [s.audio.jingles for s in config.stations] == [True, False]
    assert AudioConfig().jingles is True  # on unless a station turns it off
    bad = tomllib.loads(_config(tmp_path, 'jingles = "không"', ""))
    with pytest.raises(ConfigError) as err:
        parse_config(bad, None, cwd=tmp_path)
    assert "khóa 'audio.jingles': cần true/false, đang ghi là 'không'" in str(err.value)


def test_render_without_jingles_is_speech_and_pauses_only(tmp_path: Path, speech: list[Path]) -> None:
    on = render(bulletin_parts(speech), AudioConfig(), tmp_path / "on.mp3", TAGS)
    off = render(bulletin_parts(speech), AudioConfig(jingles=False, item_pause_ms=700), tmp_path / "off.mp3", TAGS)
    assert {e.kind for e in off.timeline} <= {"speech", "pause", "sting"}
    words = [e for e in off.timeline if e.kind == "speech"]
    assert words[0].start == 0.0 and off.timeline[-1].kind == "speech"
    sting = next(e for e in off.timeline if e.kind == "sting")
    assert sting.end - sting.start == pytest.approx(0.7, abs=0.001)  # the stories stay apart by the pause
    x, rate = decoded(tmp_path / "off.mp3")
    assert len(x) / rate == pytest.approx(off.duration, abs=0.001)
    speech_s = sum(e.end - e.start for e in words)
    assert off.duration == pytest.approx(speech_s + 0.9 + 0.7, abs=0.01)
    music = [e for e in on.timeline if e.kind in ("jingle", "outro", "sting")]
    assert on.duration - off.duration == pytest.approx(sum(e.end - e.start for e in music) - 0.7, abs=0.01)
    # The stretch where the sting played is silence now; the bulletin is still at its loudness.
    mid = x[int((sting.start + 0.1) * rate): int((sting.end - 0.1) * rate)]
    assert rms_db(mid) < -60
    assert integrated_loudness(x, rate) == pytest.approx(-16.0, abs=0.5)


def test_jingles_off_in_general_and_on_for_one_station_in_a_real_build(tmp_path: Path) -> None:
    date, now = dt.date(2026, 3, 12), dt.datetime(2026, 3, 12, 5, 30, tzinfo=VN_TZ)
    second = AUTO_STATION.replace('id = "hoa-phu"', 'id = "hoa-binh"').replace("Hòa Phú", "Hòa Bình")
    config = load_config(offline_config(tmp_path, "[audio]\njingles = false\n" + AUTO_STATION
                                        + "[stations.audio]\njingles = true\n" + second))
    report = api.build(config, tmp_path / "out", date, now)
    assert [r.status for r in report.results] == ["built", "built"], [r.message for r in report.results]
    day = tmp_path / "out" / date.isoformat()
    kinds = {}
    for sid in ("hoa-phu", "hoa-binh"):
        manifest = json.loads((day / f"{sid}.json").read_text(encoding="utf-8"))
        kinds[sid] = [s["kind"] for s in manifest["segments"]]
        x, rate = decoded(day / f"{sid}.mp3")
        assert len(x) / rate == pytest.approx(manifest["duration"], abs=0.001)
    assert kinds["hoa-phu"][0] == "jingle" and kinds["hoa-phu"][-1] == "outro"
    assert "jingle" not in kinds["hoa-binh"] and "outro" not in kinds["hoa-binh"]


@pytest.mark.parametrize("jingles, flagged", [(True, True), (False, False)])
def test_doctor_checks_jingle_files_only_when_jingles_play(tmp_path: Path, jingles: bool, flagged: bool) -> None:
    now = dt.datetime(2026, 3, 12, 5, 30, tzinfo=VN_TZ)
    config = load_config(offline_config(tmp_path, f'[audio]\njingles = {str(jingles).lower()}\n'
                                                  'jingle = "khong-co.mp3"\n' + AUTO_STATION))
    checks = api.doctor(config, tmp_path / "out", now, check_feeds=False)
    failed = [c for c in checks if c.name.startswith("nhạc hiệu") and not c.ok]
    assert bool(failed) is flagged, checks


# ------------------------------------------------------------ 3. long jingles are cut


def test_a_ten_minute_jingle_is_cut_at_the_cap_with_a_fade_and_a_warning(tmp_path: Path, speech: list[Path]) -> None:
    from broadcast.audio.mix import MUSIC_CAP_S

    # Ten minutes of a steady chord: what a station gets when it picks a whole song by mistake.
    song = lavfi(tmp_path / "ca-khuc.wav", "sine=f=523:d=600:sample_rate=44100", "-af", "volume=-12dB",
                 "-ac", "1", "-c:a", "pcm_s16le")
    sting = lavfi(tmp_path / "chuyen-muc.mp3", "sine=f=784:d=20:sample_rate=44100", "-af", "volume=-12dB",
                  "-ac", "1", "-b:a", "128k")
    result = render(bulletin_parts(speech), AudioConfig(jingle=song, sting=sting), tmp_path / "b.mp3", TAGS)
    by_kind = {e.kind: e for e in result.timeline}
    for kind in ("jingle", "outro", "sting"):  # the outro is the station's jingle again
        e = by_kind[kind]
        assert e.end - e.start == pytest.approx(MUSIC_CAP_S[kind], abs=0.001), kind
    assert MUSIC_CAP_S["jingle"] <= 30 and MUSIC_CAP_S["sting"] <= 5
    x, rate = decoded(tmp_path / "b.mp3")
    assert len(x) / rate < 2 * MUSIC_CAP_S["jingle"] + MUSIC_CAP_S["sting"] + 30
    j = by_kind["jingle"]
    body = rms_db(x[int((j.end - 5) * rate): int((j.end - 3) * rate)])
    last = rms_db(x[int((j.end - 0.05) * rate): int(j.end * rate)])
    assert body > -30 and body - last > 15  # faded out at the cap, not stopped mid-note
    steps = np.abs(np.diff(x[int((j.end - 0.5) * rate): int((j.end + 0.01) * rate)]))
    assert steps.max() < 0.05  # no click where it was cut
    warnings = [w for w in result.warnings if "ca-khuc.wav" in w]
    assert len(warnings) == 1  # one warning for the file, though it plays as intro and outro
    assert "dài 10 phút" in warnings[0] and "30 giây đầu" in warnings[0] and "hãy" in warnings[0].lower()
    assert any("chuyen-muc.mp3" in w and "dài 20 giây" in w and "5 giây đầu" in w for w in result.warnings)


def test_a_jingle_under_the_cap_plays_whole_without_a_warning(tmp_path: Path, speech: list[Path]) -> None:
    tune = lavfi(tmp_path / "nhac-hieu.mp3", "sine=f=523:d=12:sample_rate=44100", "-af", "volume=-12dB",
                 "-ac", "1", "-b:a", "128k")
    result = render(bulletin_parts(speech), AudioConfig(jingle=tune), tmp_path / "b.mp3", TAGS)
    j = next(e for e in result.timeline if e.kind == "jingle")
    assert j.end - j.start == pytest.approx(12.0, abs=0.05)
    assert not [w for w in result.warnings if "nhac-hieu" in w]


def test_a_long_bed_is_read_only_as_far_as_it_plays(tmp_path: Path, speech: list[Path]) -> None:
    # Beds follow their own rule: looped or cut to the speech, faded in and out, never a length warning.
    bed = lavfi(tmp_path / "nen.mp3", "sine=f=392:d=900:sample_rate=44100", "-af", "volume=-12dB",
                "-ac", "1", "-b:a", "64k")
    plain = render(bulletin_parts(speech), AudioConfig(), tmp_path / "plain.mp3", TAGS)
    result = render(bulletin_parts(speech), AudioConfig(bed=bed, bed_enabled=True), tmp_path / "b.mp3", TAGS)
    assert result.duration == pytest.approx(plain.duration, abs=0.001)
    assert not [w for w in result.warnings if "nen.mp3" in w]
    x, rate = decoded(tmp_path / "b.mp3")
    pause = next(e for e in result.timeline if e.kind == "pause")
    under = rms_db(x[int((pause.start + 0.4) * rate): int((pause.end - 0.4) * rate)])
    assert under > -50  # the bed sounds between the paragraphs
    outro = next(e for e in result.timeline if e.kind == "outro")
    y, _ = decoded(tmp_path / "plain.mp3")
    # After the last word the bed fades out before the outro: the outro is the same as without a bed.
    a, b = int((outro.start + 0.5) * rate), int((outro.end - 0.5) * rate)
    assert rms_db(x[a:b] - y[a:b]) < rms_db(y[a:b]) - 20


# ------------------------------------------------------------ 4. the compressor, measured on real speech


def _gain_reduction(program: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """The compressor's gain reduction (dB) per 2 ms block of `program`, and which blocks are in speech."""
    from broadcast.audio import master as m

    x = program.copy()
    block = m._block_size(rate)
    _, power, _ = m._analyse(x, rate, block, AudioConfig().highpass_hz)
    gr = -20 * np.log10(m._compressor_gains(power, block, rate))
    loud = 10 * np.log10(power + 1e-20) > m.SPEECH_LEVEL_DB - 30
    return gr, np.convolve(loud, np.ones(101), mode="same") > 0  # within 100 ms of sound


def _lively(speech: list[Path], folder: Path, drift_db: float = 6.0) -> list[Path]:
    """The espeak paragraphs with their level drifting smoothly by up to `drift_db` (a livelier reader)."""
    rng = np.random.default_rng(7)
    out = []
    for n, path in enumerate(speech):
        x, rate = _wav_samples(path)
        knots = rng.uniform(-drift_db, drift_db, len(x) // rate + 2)
        curve = np.interp(np.arange(len(x)) / rate, np.arange(len(knots)), knots)
        y = np.clip(np.rint(x * 10 ** ((curve - drift_db) / 20)), -32768, 32767).astype("<i2")
        with wave.open(str(folder / f"lively{n}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(y.tobytes())
        out.append(folder / f"lively{n}.wav")
    return out


def test_compressor_takes_about_two_and_a_half_db_from_espeak_speech_and_never_pumps(speech: list[Path]) -> None:
    from broadcast.audio.mix import assemble

    parts = [p for p in bulletin_parts(speech * 2)]
    program = assemble(parts, AudioConfig(jingles=False), 44100).samples
    gr, active = _gain_reduction(program, 44100)
    g = gr[active]
    # What master.py and the README say: about 3 dB on average, 5 dB on the loudest tenth, under 7 dB at most.
    assert 2.0 <= g.mean() <= 4.0, g.mean()
    assert np.percentile(g, 90) <= 6.0
    assert g.max() <= 7.5
    # No pumping: the reduction rarely swings by more than 6 dB within 400 ms of running speech.
    w = gr[: len(gr) // 200 * 200].reshape(-1, 200)
    inside = active[: len(active) // 200 * 200].reshape(-1, 200).all(axis=1)
    swings = (w.max(axis=1) - w.min(axis=1))[inside]
    assert np.mean(swings > 6.0) < 0.01


def test_compressor_evens_a_lively_voice_on_the_decoded_file(tmp_path: Path, speech: list[Path]) -> None:
    from broadcast.audio.measure import measure

    lively = _lively(speech, tmp_path)
    lra = {}
    for compress in (False, True):
        out = tmp_path / f"c{int(compress)}.mp3"
        render(bulletin_parts(lively), AudioConfig(compress=compress, jingles=False), out, TAGS)
        got = measure(out)  # ffmpeg's ebur128 on the encoded file
        assert got.integrated == pytest.approx(-16.0, abs=0.5)
        lra[compress] = got.lra
    assert lra[True] <= lra[False] - 0.3, lra


@pytest.mark.parametrize("suffix, codec", [(".mp3", ["-b:a", "128k"]), (".wav", ["-c:a", "pcm_s16le"])])
def test_a_long_jingle_copied_half_way_is_still_refused(tmp_path: Path, speech: list[Path], suffix: str,
                                                        codec: list[str]) -> None:
    from broadcast.errors import AudioError

    # Two minutes, cut after 70 s: the part that would play is whole, but the file is broken.
    whole = lavfi(tmp_path / f"nguyen{suffix}", "sine=f=523:d=120:sample_rate=44100", "-ac", "1", *codec)
    data = whole.read_bytes()
    half = tmp_path / f"nhac-hieu{suffix}"
    half.write_bytes(data[: len(data) * 70 // 120])
    with pytest.raises(AudioError) as err:
        render(bulletin_parts(speech), AudioConfig(jingle=half), tmp_path / "b.mp3", TAGS)
    assert "bị cắt cụt hoặc hỏng" in str(err.value) and str(half) in str(err.value)
    assert not (tmp_path / "b.mp3").exists()
