"""Delivered audio checked by measurement: every file is decoded by ffmpeg and measured.

Loudness and true peak with ffmpeg's `ebur128`, DC offset with `astats`,
dead air with `silencedetect`; joins between parts by the size of the
sample steps around them. Speech is real offline speech (espeak-ng).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pytest
from offline import AUTO_STATION, offline_config

from broadcast import api
from broadcast.audio import Part, Tags, render
from broadcast.audio.ffmpeg import run_ffmpeg
from broadcast.audio.measure import integrated_loudness, parse_ebur128
from broadcast.config import AudioConfig, Config, TTSConfig, load_config
from broadcast.models import VN_TZ
from broadcast.speech.espeak import EspeakEngine

TAGS = Tags(title="Bản tin cải cách hành chính ngày 12/03/2026", artist="Đài truyền thanh xã Hòa Phú",
            date="2026-03-12", comment="Nguồn: Cổng Thông tin điện tử tỉnh")

PARAGRAPHS = [
    "Kính thưa bà con, Đài truyền thanh xã Hòa Phú xin gửi tới bà con bản tin cải cách hành chính.",
    "Theo Sở Nội vụ, hơn tám mươi lăm phần trăm hồ sơ thủ tục hành chính được tiếp nhận trực tuyến.",
    "Bà con có thể kích hoạt tài khoản định danh điện tử tại bộ phận một cửa của xã.",
]


# ------------------------------------------------------------ measuring with ffmpeg


def ffmpeg_exe() -> str:
    from broadcast.audio.ffmpeg import find_ffmpeg

    return find_ffmpeg()


def ffmeasure(path: Path, silence_db: float = -50.0, silence_s: float = 1.0) -> dict:
    """Loudness, true peak, LRA, DC offset, peak, flat factor and silences of a file, as ffmpeg reports them."""
    proc = run_ffmpeg(["-i", str(path), "-map", "0:a:0", "-af",
                       "ebur128=peak=true:framelog=quiet,astats=measure_perchannel=none,"
                       f"silencedetect=n={silence_db}dB:d={silence_s}", "-f", "null", "-"],
                      what="đo", quiet=False)
    log = proc.stderr.decode("utf-8", "replace")
    loud = parse_ebur128(log, path.name)
    overall = log[log.rfind("Overall"):]

    def stat(name: str) -> float:
        m = re.search(rf"{name}: (-?[\d.e+-]+|-?inf)", overall)
        assert m, f"astats gave no {name}"
        return float(m.group(1))

    starts = [float(s) for s in re.findall(r"silence_start: (-?[\d.]+)", log)]
    ends = [float(s) for s in re.findall(r"silence_end: (-?[\d.]+)", log)]
    return {"I": loud.integrated, "TP": loud.true_peak, "LRA": loud.lra, "dc": stat("DC offset"),
            "peak_db": stat("Peak level dB"), "flat": stat("Flat factor"),
            "silences": list(zip(starts, ends + [None] * (len(starts) - len(ends))))}


def ffinfo(path: Path) -> dict:
    """Codec, rate, channels, bit rate and header duration of a file, from ffmpeg's description of it."""
    proc = run_ffmpeg(["-i", str(path), "-t", "0", "-f", "null", "-"], what="đọc", quiet=False)
    log = proc.stderr.decode("utf-8", "replace")
    d = re.search(r"Duration: (\d+):(\d\d):(\d\d\.\d+)", log)
    a = re.search(r"Audio: (\w+)[^,]*, (\d+) Hz, ([^,]+), [^,]+(?:, (\d+) kb/s)?", log)
    assert d and a, log
    return {"codec": a.group(1), "rate": int(a.group(2)), "layout": a.group(3).strip(),
            "kbps": int(a.group(4)) if a.group(4) else None,
            "duration": int(d.group(1)) * 3600 + int(d.group(2)) * 60 + float(d.group(3))}


def decoded(path: Path) -> tuple[np.ndarray, int]:
    """The file as a gapless decoder plays it: float samples of its first channel, and its rate."""
    rate = ffinfo(path)["rate"]
    proc = run_ffmpeg(["-i", str(path), "-map", "0:a:0", "-ac", "1", "-f", "f32le", "-"], what="giải mã")
    return np.frombuffer(proc.stdout, np.float32), rate


def join_step(x: np.ndarray, rate: int, at: float, ms: float = 4.0) -> float:
    """The largest step between neighbouring samples within `ms` of time `at` (a click is a big one)."""
    i, w = int(round(at * rate)), int(rate * ms / 1000)
    near = x[max(0, i - w): i + w]
    return float(np.abs(np.diff(near)).max()) if len(near) > 1 else 0.0


def loudness_of(x: np.ndarray, rate: int, start: float, end: float) -> float:
    return integrated_loudness(x[int(start * rate): int(end * rate)], rate)


# ------------------------------------------------------------ inputs


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> list[Path]:
    """Three paragraphs of real offline speech (espeak-ng), as the synthesizer leaves them."""
    d = tmp_path_factory.mktemp("speech")
    engine = EspeakEngine(TTSConfig(engine="espeak"))
    out = []
    for n, text in enumerate(PARAGRAPHS):
        engine.synthesize(text, d / f"p{n}.wav")
        out.append(d / f"p{n}.wav")
    return out


def lavfi(path: Path, source: str, *args: str) -> Path:
    """A test file made by ffmpeg from a lavfi source description."""
    run_ffmpeg(["-f", "lavfi", "-i", source, *args, "-y", str(path)], what="tạo tệp thử")
    return path


def bulletin_parts(speech: list[Path]) -> list[Part]:
    """The shape the pipeline gives a bulletin: jingle, speech with pauses and a sting, outro."""
    return [Part("jingle", label="jingle"), Part("speech", speech[0], label="0:0"),
            Part("pause", duration_ms=900, label="pause"), Part("speech", speech[1], label="1:0"),
            Part("sting", label="sting"), Part("speech", speech[2], label="2:0"),
            Part("outro", label="outro")]


# ------------------------------------------------------------ station jingle files


def test_a_32_bit_float_wav_jingle_is_played(tmp_path: Path, speech: list[Path]) -> None:
    # Audio editors save 32-bit float WAV by default; it must not need ffprobe (not shipped).
    jingle = lavfi(tmp_path / "nhac-hieu.wav", "sine=f=660:d=3", "-af", "volume=-6dB", "-c:a", "pcm_f32le")
    assert ffinfo(jingle)["codec"] == "pcm_f32le"
    result = render(bulletin_parts(speech), AudioConfig(jingle=jingle), tmp_path / "b.mp3", TAGS)
    x, rate = decoded(tmp_path / "b.mp3")
    j = result.timeline[0]
    assert j.end - j.start == pytest.approx(3.0, abs=0.01)
    assert loudness_of(x, rate, 0.5, 2.5) > -30  # the tone, not silence


def test_a_jingle_cut_off_abruptly_or_off_centre_joins_without_a_click(tmp_path: Path, speech: list[Path]) -> None:
    # A tone cut mid-cycle at -3 dBFS, and one riding on a large DC offset: both
    # would jump straight to the next part.
    abrupt = lavfi(tmp_path / "cat-dot-ngot.wav", "sine=f=660:d=3.0004", "-af", "volume=-3dB")
    offset = lavfi(tmp_path / "lech-dc.wav", "sine=f=660:d=3", "-af", "volume=-6dB,dcshift=0.3")
    for jingle in (abrupt, offset):
        out = tmp_path / f"{jingle.stem}.mp3"
        result = render(bulletin_parts(speech), AudioConfig(jingle=jingle, sting=jingle), out, TAGS)
        x, rate = decoded(out)
        music = [e for e in result.timeline if e.kind in ("jingle", "sting", "outro")]
        # Inside the tone a 660 Hz sine at this level steps under 0.06 between samples.
        body = join_step(x, rate, (music[0].start + music[0].end) / 2, ms=50)
        assert body < 0.08
        for e in music:
            for edge in (e.start, e.end):
                if 0 < edge < result.duration:
                    assert join_step(x, rate, edge) < 0.1, (jingle.name, e.label, edge)
        m = ffmeasure(out)
        assert abs(m["dc"]) < 0.001
        assert m["TP"] <= -1.0


# ------------------------------------------------------------ balance between music and voice


@pytest.mark.parametrize("compress", [True, False])
def test_jingles_sit_a_little_under_the_voice_not_over_it(tmp_path: Path, speech: list[Path], compress: bool) -> None:
    out = tmp_path / "b.mp3"
    result = render(bulletin_parts(speech), AudioConfig(compress=compress), out, TAGS)
    x, rate = decoded(out)
    voice = [loudness_of(x, rate, e.start, e.end) for e in result.timeline if e.kind == "speech"]
    assert max(voice) - min(voice) < 1.5
    for e in result.timeline:
        if e.kind in ("jingle", "outro"):
            music = loudness_of(x, rate, e.start, e.end)
            # Mixed 2 dB under the voice's working level: on air within a few LU under it, never over.
            assert -5.0 < music - np.mean(voice) < 0.5, (e.kind, music, voice)
    assert ffmeasure(out)["I"] == pytest.approx(-16.0, abs=0.5)


# ------------------------------------------------------------ true peak after the encoder


@pytest.mark.parametrize("rate, bitrate, loudness, true_peak", [
    (32000, "48k", -16.0, -1.0),
    (24000, "32k", -14.0, -1.0),
    (22050, "64k", -12.0, -0.5),
])
def test_low_bit_rates_keep_the_true_peak_after_encoding(tmp_path: Path, speech: list[Path], rate: int,
                                                         bitrate: str, loudness: float, true_peak: float) -> None:
    # Few bits per sample: the encoder's noise lifts peaks by up to 2 dB, past 0 dBFS at loud targets.
    out = tmp_path / "b.mp3"
    audio = AudioConfig(sample_rate=rate, bitrate=bitrate, loudness=loudness, true_peak=true_peak)
    result = render(bulletin_parts(speech), audio, out, TAGS)
    m = ffmeasure(out)
    assert m["TP"] <= true_peak
    assert m["peak_db"] < 0.0
    # What the record says is what the file measures (at 22.05 kHz up to the meters' spread more). ffmpeg
    # prints the true peak to 0.1 dB, so its "-1.7" stands for anything from -1.75 to -1.65: the record may
    # sit that half step, plus the two meters' own spread, below it.
    assert m["TP"] - 0.1 <= result.true_peak <= m["TP"] + 0.3
    assert result.loudness == pytest.approx(m["I"], abs=0.3)
    info = ffinfo(out)
    assert (info["rate"], info["layout"], info["kbps"]) == (rate, "mono", int(bitrate[:-1]))


# ------------------------------------------------------------ real bulletins and notices, offline


DATE = dt.date(2026, 3, 12)
NOW = dt.datetime(2026, 3, 12, 5, 30, tzinfo=VN_TZ)
# Three minutes leave room for every relevant story of the demo feed.
STATION = AUTO_STATION.replace("target_minutes = 1", "target_minutes = 3")


def build_offline(root: Path, audio: str = "", selection: str = "") -> tuple[Config, Path]:
    """Build the day's bulletin of one station from the demo feed with espeak; return the config and day folder."""
    root.mkdir(parents=True, exist_ok=True)
    config = load_config(offline_config(root, f'''
[selection]
{selection}

[audio]
{audio}
''' + STATION))
    report = api.build(config, root / "audio_out", DATE, NOW)
    assert [r.status for r in report.results] == ["built"], [r.message for r in report.results]
    return config, root / "audio_out" / DATE.isoformat()


def check_delivered(mp3: Path, rate: int, kbps: int, loudness: float, true_peak: float) -> dict:
    """Measure a delivered bulletin and hold it to its record: everything a platform and a listener notice."""
    manifest = json.loads(mp3.with_suffix(".json").read_text(encoding="utf-8"))
    info, m = ffinfo(mp3), ffmeasure(mp3)
    x, _ = decoded(mp3)
    assert (info["codec"], info["rate"], info["layout"], info["kbps"]) == ("mp3", rate, "mono", kbps)
    assert manifest["format"] == {"codec": "mp3", "bitrate": f"{kbps}k", "sample_rate": rate, "channels": 1}
    # Gapless: the decoded length is the recorded one to the sample (and the header's within a frame).
    assert len(x) / rate == pytest.approx(manifest["duration"], abs=0.001)
    assert info["duration"] == pytest.approx(manifest["duration"], abs=1152 / rate + 0.01)
    assert m["I"] == pytest.approx(loudness, abs=0.5)
    assert manifest["loudness_lufs"] == pytest.approx(m["I"], abs=0.3)
    assert m["TP"] <= true_peak and m["peak_db"] < 0
    assert abs(m["dc"]) < 0.001 and m["flat"] == 0
    # No dead air: the pauses between parts are under a second, and sound starts and ends with the file.
    assert m["silences"] == []
    assert np.abs(x[: int(0.05 * rate)]).max() > 1e-3
    ends = [s["end"] for s in manifest["segments"] if s["end"] is not None]
    assert max(ends) == pytest.approx(manifest["duration"], abs=0.01)
    # Every join is smooth: no step between samples larger than inside speech itself.
    steps = [join_step(x, rate, s[k]) for s in manifest["segments"] for k in ("start", "end")
             if s[k] is not None and 0 < s[k] < manifest["duration"] - 0.01]
    speech = max(join_step(x, rate, (s["start"] + s["end"]) / 2, ms=500)
                 for s in manifest["segments"] if s["kind"] not in ("jingle", "outro"))
    assert max(steps) <= speech
    return {"manifest": manifest, "measured": m, "info": info}


def test_a_real_bulletin_is_delivered_as_configured_and_measures_as_recorded(tmp_path: Path) -> None:
    _, day = build_offline(tmp_path / "mac-dinh")
    first = check_delivered(day / "hoa-phu.mp3", 44100, 128, -16.0, -1.0)
    assert len([s for s in first["manifest"]["segments"] if s["kind"] == "item"]) >= 3
    # The same speech rendered again into another folder: the same file, byte for byte.
    # (espeak-ng itself speaks a text a few milliseconds differently on each call in
    # one process, so it is the speech cache that makes a rebuild identical.)
    config = load_config(tmp_path / "mac-dinh" / "broadcast.toml")
    assert [r.status for r in api.build(config, tmp_path / "lan-hai", DATE, NOW).results] == ["built"]
    again = tmp_path / "lan-hai" / DATE.isoformat() / "hoa-phu.mp3"
    assert again.read_bytes() == (day / "hoa-phu.mp3").read_bytes()


def test_a_quiet_wideband_bulletin_with_one_story_and_a_wav(tmp_path: Path) -> None:
    _, day = build_offline(tmp_path, audio='loudness = -23.0\ntrue_peak = -2.0\nsample_rate = 48000\n'
                                          'bitrate = "192k"\nwav = true', selection="max_items = 1")
    got = check_delivered(day / "hoa-phu.mp3", 48000, 192, -23.0, -2.0)
    assert len([s for s in got["manifest"]["segments"] if s["kind"] == "item"]) == 1
    wav = ffinfo(day / "hoa-phu.wav")
    assert (wav["codec"], wav["rate"], wav["layout"]) == ("pcm_s16le", 48000, "mono")
    assert wav["duration"] == pytest.approx(got["manifest"]["duration"], abs=0.01)  # ffmpeg prints centiseconds
    assert ffmeasure(day / "hoa-phu.wav")["TP"] <= -2.0


def test_a_short_emergency_notice_is_mastered_like_a_bulletin(tmp_path: Path) -> None:
    config = load_config(offline_config(tmp_path, STATION))
    result = api.notice(config, tmp_path / "audio_out", "Mất điện.", ["hoa-phu"], DATE, NOW,
                        priority="emergency", name="khan")
    assert [r.status for r in result.results] == ["built"]
    got = check_delivered(tmp_path / "audio_out" / DATE.isoformat() / "hoa-phu-khan.mp3", 44100, 128, -16.0, -1.0)
    assert got["manifest"]["kind"] == "notice" and got["manifest"]["duration"] < 40


# ------------------------------------------------------------ station files that would sound wrong


def test_a_silent_station_jingle_is_left_out_with_a_warning_not_played_as_dead_air(tmp_path: Path,
                                                                                    speech: list[Path]) -> None:
    silent = lavfi(tmp_path / "im-lang.wav", "anullsrc=r=44100:cl=mono", "-t", "3")
    result = render(bulletin_parts(speech), AudioConfig(jingle=silent, sting=silent), tmp_path / "b.mp3", TAGS)
    assert sum(str(silent) in w and "im lặng" in w for w in result.warnings) == 1
    m = ffmeasure(tmp_path / "b.mp3", silence_s=0.95)
    assert m["silences"] == []  # neither three seconds before the first word nor after the last
    x, rate = decoded(tmp_path / "b.mp3")
    assert np.abs(x[: int(0.3 * rate)]).max() > 0.01  # the first words, after espeak's own lead-in
    # The stories stay apart: where the sting was, the pause between stories.
    sting = next(e for e in result.timeline if e.kind == "sting")
    assert sting.end - sting.start == pytest.approx(AudioConfig().item_pause_ms / 1000, abs=0.01)


def test_a_stereo_jingle_with_one_channel_inverted_is_not_cancelled_by_the_mono_mix(tmp_path: Path,
                                                                                   speech: list[Path]) -> None:
    # Left and right in opposite phase: summed to mono they cancel to nothing.
    jingle = lavfi(tmp_path / "nguoc-pha.wav", "sine=f=660:d=3", "-af", "volume=-6dB,pan=stereo|c0=c0|c1=-1*c0")
    result = render(bulletin_parts(speech), AudioConfig(jingle=jingle), tmp_path / "b.mp3", TAGS)
    assert any(str(jingle) in w and "ngược pha" in w for w in result.warnings)
    x, rate = decoded(tmp_path / "b.mp3")
    j = result.timeline[0]
    assert j.end - j.start == pytest.approx(3.0, abs=0.01)
    voice = loudness_of(x, rate, result.timeline[1].start, result.timeline[1].end)
    assert -5.0 < loudness_of(x, rate, j.start, j.end) - voice < 0.5


# ------------------------------------------------------------ audio shorter than the meter's gate


def test_a_word_shorter_than_one_gating_block_is_mastered_not_called_silence(tmp_path: Path) -> None:
    # Under 400 ms the gated meter has no block and reports -70 LUFS: mastering took that for silence,
    # left the word at the working level and warned of a silent bulletin.
    from broadcast.audio import testsignal

    word = testsignal.write_wav(tmp_path / "da.wav", testsignal.speechlike(0.3, 22050, seed=1, level_db=-20), 22050)
    out = tmp_path / "ngan.mp3"
    result = render([Part("speech", word)], AudioConfig(), out, TAGS)
    assert not any("im lặng" in w for w in result.warnings)
    # Measured as the one 400 ms block it fills, as a momentary meter hears it.
    proc = run_ffmpeg(["-i", str(out), "-af", "apad=whole_dur=0.4,ebur128=peak=true:framelog=quiet",
                       "-f", "null", "-"], what="đo", quiet=False)
    block = parse_ebur128(proc.stderr.decode("utf-8", "replace"), out.name)
    assert block.integrated == pytest.approx(-16.0, abs=1.0)
    assert result.loudness == pytest.approx(block.integrated, abs=0.3)
    assert block.true_peak <= -1.0
