"""Vendor speech APIs (FPT.AI, Viettel AI, Zalo AI, Vbee) mocked in their documented wire formats.

The audio the mocks return is real MP3/WAV made by ffmpeg; what comes out of
the engines is decoded and measured.
"""

from __future__ import annotations

import json
import logging
import subprocess
import urllib.parse
from pathlib import Path

import imageio_ffmpeg
import pytest
import requests
import responses

from broadcast.config import EngineSettings, TTSConfig
from broadcast.errors import SpeechError
from broadcast.speech import SpeechCache, SpeechRun, Synthesizer, create_engine
from broadcast.speech.base import EngineFailure
from broadcast.speech.pcm import read_wav
from broadcast.speech.retry import Backoff

KEY = "k3y-bi-mat-0123456789"
FPT = "https://api.fpt.ai/hmi/tts/v5"
FPT_FILE = "https://file01.fpt.ai/text2speech-v5/short/2026-11-29/abc.mp3"
VIETTEL = "https://viettelgroup.ai/voice/api/tts/v1/rest/syn"
ZALO = "https://api.zalo.ai/v1/tts/synthesize"
ZALO_FILE = "https://chunk.lab.zalo.ai/abc/def.mp3"
VBEE = "https://vbee.vn/api/v1/tts"
VBEE_FILE = "https://vbee-studio.s3.ap-southeast-1.amazonaws.com/synthesis/2026/11/29/r1.mp3"
TEXT = "Ủy ban nhân dân xã thông báo lịch tiếp công dân."


def tone(fmt: str, seconds: float = 0.8, rate: int = 22050) -> bytes:
    """Real audio from ffmpeg: a 440 Hz tone of `seconds` in `fmt` (mp3 or wav)."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
           "-i", f"sine=frequency=440:sample_rate={rate}:duration={seconds}", "-ac", "1", "-f", fmt, "pipe:1"]
    return subprocess.run(cmd, capture_output=True, check=True).stdout


@pytest.fixture(scope="module")
def mp3() -> bytes:
    return tone("mp3")


@pytest.fixture(scope="module")
def wav() -> bytes:
    return tone("wav")


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    for env in ("FPT_API_KEY", "VIETTEL_API_KEY", "ZALO_API_KEY", "VBEE_API_KEY"):
        monkeypatch.setenv(env, KEY)


def tts_for(engine: str, chain: list[str] | None = None, speed: float = 1.0, **settings) -> TTSConfig:
    return TTSConfig(chain=chain or [engine], speed=speed, engines={engine: EngineSettings(**settings)})


def fast(engine):
    """No real waiting in tests: backoff and polling sleep for nothing."""
    engine.backoff = Backoff(base=0.0, cap=0.0)
    engine.sleep = lambda s: None
    return engine


def make(engine: str, **settings):
    made = fast(create_engine(engine, tts_for(engine, **settings)))
    made.bind_run(SpeechRun())  # a breaker of its own, whatever ran before
    return made


def synth_for(tmp_path: Path, tts: TTSConfig) -> Synthesizer:
    synth = Synthesizer(tts, SpeechCache(tmp_path / "cache"), run=SpeechRun())
    for eng in synth.engines.values():
        if hasattr(eng, "backoff"):
            fast(eng)
    return synth


def measure(path: Path) -> tuple[float, float]:
    """(seconds, RMS) of a mono 16-bit WAV."""
    pcm, rate = read_wav(path)
    rms = (sum(s * s for s in pcm) / max(1, len(pcm))) ** 0.5
    return len(pcm) / rate, rms


# ---------------------------------------------------------------- FPT.AI


def test_fpt_posts_text_with_key_voice_speed_headers_and_polls_the_async_link(tmp_path, rsps, mp3):
    rsps.post(FPT, json={"async": FPT_FILE, "error": 0, "request_id": "0a88a3a4",
                         "message": "The content will be returned after a few seconds under the async link."})
    # The file does not exist yet for two looks, then it does.
    rsps.get(FPT_FILE, status=404)
    rsps.get(FPT_FILE, status=404)
    rsps.get(FPT_FILE, body=mp3, content_type="audio/mpeg")
    engine = make("fpt", voice="lannhi")
    engine.speed = 1.2
    engine.synthesize(TEXT, tmp_path / "out.wav")
    post = rsps.calls[0].request
    assert post.body == TEXT.encode("utf-8")
    assert post.headers["api-key"] == KEY and post.headers["voice"] == "lannhi"
    assert post.headers["speed"] == "2" and post.headers["format"] == "mp3"
    assert [c.request.method for c in rsps.calls] == ["POST", "GET", "GET", "GET"]
    seconds, rms = measure(tmp_path / "out.wav")
    assert 0.6 < seconds < 0.9 and rms > 1000


def test_fpt_error_reply_is_shown_in_vietnamese_with_the_vendor_code(rsps):
    rsps.post(FPT, json={"error": 1, "message": "Invalid authentication credentials", "request_id": ""})
    with pytest.raises(EngineFailure) as exc:
        make("fpt").fetch(TEXT)
    assert str(exc.value) == ("FPT.AI báo lỗi mã 1: khóa API không hợp lệ "
                              "(Invalid authentication credentials)")
    assert not exc.value.transient


def test_fpt_gateway_401_names_where_the_key_goes(rsps):
    rsps.post(FPT, status=401, json={"message": "Invalid authentication credentials"})
    with pytest.raises(EngineFailure, match="mã HTTP 401: khóa API không hợp lệ.*FPT_API_KEY") as exc:
        make("fpt").fetch(TEXT)
    assert KEY not in str(exc.value)


def test_fpt_rate_limit_is_retried_with_backoff_then_succeeds(rsps, mp3):
    rsps.post(FPT, status=429, json={"message": "API rate limit exceeded"}, headers={"Retry-After": "1"})
    rsps.post(FPT, json={"async": FPT_FILE, "error": 0, "message": "ok", "request_id": "r"})
    rsps.get(FPT_FILE, body=mp3)
    engine = make("fpt")
    waits: list[float] = []
    engine.sleep = waits.append
    assert engine.fetch(TEXT) == mp3
    assert waits == [1.0]  # the server's Retry-After, not our own guess


def test_fpt_async_link_that_never_fills_gives_up_after_poll_timeout(rsps):
    rsps.post(FPT, json={"async": FPT_FILE, "error": 0, "message": "ok", "request_id": "r"})
    rsps.get(FPT_FILE, status=404)
    engine = make("fpt", poll_timeout=6.0)
    with pytest.raises(EngineFailure, match="chưa có tệp âm thanh sau 6 giây") as exc:
        engine.fetch(TEXT)
    assert exc.value.transient
    assert len([c for c in rsps.calls if c.request.method == "GET"]) == 4  # 0, 2, 4, 6 s


# ---------------------------------------------------------------- Viettel AI


def test_viettel_sends_json_with_token_header_and_reads_audio_body(tmp_path, rsps, wav):
    rsps.post(VIETTEL, body=wav, content_type="audio/wav")
    engine = make("viettel", voice="hue-baoquoc")
    engine.speed = 0.9
    engine.synthesize(TEXT, tmp_path / "out.wav")
    req = rsps.calls[0].request
    body = json.loads(req.body)
    assert req.headers["token"] == KEY
    assert body["text"] == TEXT and body["voice"] == "hue-baoquoc" and body["speed"] == 0.9
    assert body["tts_return_option"] == 2 and body["without_filter"] is False
    seconds, rms = measure(tmp_path / "out.wav")
    assert 0.6 < seconds < 0.9 and rms > 1000


def test_viettel_json_error_instead_of_audio_names_its_code(rsps):
    rsps.post(VIETTEL, status=401, json={"code": 401, "message": "Token is invalid"})
    with pytest.raises(EngineFailure, match=r"^Viettel AI báo lỗi mã 401: khóa API không hợp lệ"):
        make("viettel").fetch(TEXT)


# ---------------------------------------------------------------- Zalo AI


def test_zalo_posts_form_with_apikey_and_downloads_the_returned_url(tmp_path, rsps, mp3):
    rsps.post(ZALO, json={"data": {"url": ZALO_FILE}, "error_message": "Successful.", "error_code": 0})
    rsps.get(ZALO_FILE, status=404)
    rsps.get(ZALO_FILE, body=mp3, content_type="audio/mpeg")
    engine = make("zalo", voice="4")
    engine.synthesize(TEXT, tmp_path / "out.wav")
    req = rsps.calls[0].request
    form = urllib.parse.parse_qs(req.body)
    assert req.headers["apikey"] == KEY
    assert form == {"input": [TEXT], "speaker_id": ["4"], "speed": ["1"], "encode_type": ["1"]}
    seconds, rms = measure(tmp_path / "out.wav")
    assert 0.6 < seconds < 0.9 and rms > 1000


def test_a_vendor_download_larger_than_any_paragraph_is_stopped(rsps, mp3, monkeypatch):
    from broadcast.speech import vendor

    monkeypatch.setattr(vendor, "MAX_AUDIO_BYTES", len(mp3) - 1)
    rsps.post(ZALO, json={"data": {"url": ZALO_FILE}, "error_message": "Successful.", "error_code": 0})
    rsps.get(ZALO_FILE, body=mp3, content_type="audio/mpeg")
    with pytest.raises(EngineFailure, match=r"^Zalo AI trả về tệp âm thanh lớn hơn .* cho một đoạn: đã dừng tải"):
        make("zalo").fetch(TEXT)
    # A file just within the limit is taken whole.
    monkeypatch.setattr(vendor, "MAX_AUDIO_BYTES", len(mp3))
    rsps.post(ZALO, json={"data": {"url": ZALO_FILE}, "error_message": "Successful.", "error_code": 0})
    rsps.get(ZALO_FILE, body=mp3, content_type="audio/mpeg")
    assert make("zalo").fetch(TEXT) == mp3


def test_zalo_error_code_is_shown_with_its_message(rsps):
    rsps.post(ZALO, json={"data": {}, "error_message": "Input text is too long", "error_code": -7})
    with pytest.raises(EngineFailure, match=r"^Zalo AI báo lỗi mã -7: Input text is too long$"):
        make("zalo").fetch(TEXT)


def test_zalo_unknown_voice_is_refused_before_any_request(rsps):
    engine = make("zalo", voice="9")
    assert engine.unavailable_reason() == ("Zalo AI không có giọng '9' (chọn một trong: 1, 2, 3, 4; "
                                           "xem lệnh 'broadcast voices')")
    assert len(rsps.calls) == 0


# ---------------------------------------------------------------- Vbee


def test_vbee_submits_then_polls_the_request_until_success(tmp_path, rsps, mp3):
    rsps.post(VBEE, json={"status": 1, "result": {"request_id": "r1", "status": "IN_PROGRESS",
                                                  "characters": len(TEXT)}})
    rsps.get(f"{VBEE}/r1", json={"status": 1, "result": {"request_id": "r1", "status": "IN_PROGRESS",
                                                          "progress": 40}})
    rsps.get(f"{VBEE}/r1", json={"status": 1, "result": {"request_id": "r1", "status": "SUCCESS",
                                                          "audio_link": VBEE_FILE, "audio_expired": False}})
    rsps.get(VBEE_FILE, body=mp3)
    engine = make("vbee", app_id="app-1", voice="sg_male_trungkien_vdts_48k-fhg")
    engine.synthesize(TEXT, tmp_path / "out.wav")
    req = rsps.calls[0].request
    body = json.loads(req.body)
    assert req.headers["Authorization"] == f"Bearer {KEY}"
    assert body["app_id"] == "app-1" and body["input_text"] == TEXT and body["response_type"] == "indirect"
    assert body["voice_code"] == "sg_male_trungkien_vdts_48k-fhg" and body["speed_rate"] == "1.0"
    assert [c.request.url for c in rsps.calls][1:] == [f"{VBEE}/r1", f"{VBEE}/r1", VBEE_FILE]
    seconds, rms = measure(tmp_path / "out.wav")
    assert 0.6 < seconds < 0.9 and rms > 1000


def test_vbee_error_status_zero_and_failed_request(rsps):
    rsps.post(VBEE, status=401, json={"status": 0, "error_code": 401, "error_message": "Unauthorized"})
    with pytest.raises(EngineFailure, match=r"^Vbee báo lỗi mã 401: token không hợp lệ"):
        make("vbee", app_id="a").fetch(TEXT)
    rsps.replace(responses.POST, VBEE, json={"status": 1, "result": {"request_id": "r2", "status": "IN_PROGRESS"}})
    rsps.get(f"{VBEE}/r2", json={"status": 1, "result": {"request_id": "r2", "status": "FAILURE"}})
    with pytest.raises(EngineFailure, match="Vbee báo lỗi mã FAILURE"):
        make("vbee", app_id="a").fetch(TEXT)


def test_vbee_needs_its_app_id():
    assert make("vbee").unavailable_reason() == "chưa khai báo mã ứng dụng Vbee (khóa tts.vbee.app_id)"


# ---------------------------------------------------------------- shared behaviour


def test_key_from_key_file_when_the_environment_has_none(tmp_path, monkeypatch, rsps, wav):
    monkeypatch.delenv("VIETTEL_API_KEY")
    assert "VIETTEL_API_KEY" in make("viettel").unavailable_reason()
    key_file = tmp_path / "viettel.key"
    key_file.write_text("\n  tu-tep-khoa  \n", encoding="utf-8")
    rsps.post(VIETTEL, body=wav, content_type="audio/wav")
    engine = make("viettel", key_file=key_file)
    assert engine.unavailable_reason() is None
    engine.fetch(TEXT)
    assert rsps.calls[0].request.headers["token"] == "tu-tep-khoa"


def test_key_never_reaches_logs_messages_or_results(tmp_path, rsps, mp3, caplog):
    caplog.set_level(logging.DEBUG)
    rsps.post(FPT, status=503)
    rsps.post(ZALO, json={"data": {"url": ZALO_FILE}, "error_message": "Successful.", "error_code": 0})
    rsps.get(ZALO_FILE, body=mp3)
    synth = synth_for(tmp_path, TTSConfig(chain=["fpt", "zalo"]))
    [spoken] = synth.speak([TEXT])
    assert spoken.engine == "zalo" and spoken.voice == "2"
    assert any("FPT.AI" in w and "503" in w for w in spoken.warnings)
    everything = caplog.text + repr(spoken) + " ".join(synth.warnings)
    assert KEY not in everything


def test_service_failing_paragraph_after_paragraph_is_skipped_for_the_run(tmp_path, rsps):
    rsps.post(ZALO, status=429, json={"error_code": 429, "error_message": "Quota exceeded"})
    synth = synth_for(tmp_path, TTSConfig(chain=["zalo", "espeak"]))
    synth.engines["zalo"].parallelism = 1  # one paragraph at a time: the count below is exact
    texts = [f"Đoạn thứ {w} của bản tin." for w in ("nhất", "hai", "ba", "tư", "năm")]
    spoken = synth.speak(texts)
    assert [s.engine for s in spoken] == ["espeak"] * 5
    posts = len(rsps.calls)
    # 3 paragraphs x (1 + 3 retries), then the breaker keeps Zalo out.
    assert posts == 12
    assert any("Zalo AI lỗi liên tiếp ở 3 đoạn" in n for n in synth.run.notices)
    seconds, rms = measure(spoken[-1].wav)
    assert seconds > 0.5 and rms > 100


def test_cache_key_separates_voices_and_speeds(tmp_path, rsps, wav):
    rsps.post(VIETTEL, body=wav, content_type="audio/wav")
    cache = SpeechCache(tmp_path / "cache")
    first = Synthesizer(tts_for("viettel", voice="hn-quynhanh"), cache, run=SpeechRun()).speak([TEXT])[0]
    again = Synthesizer(tts_for("viettel", voice="hn-quynhanh"), cache, run=SpeechRun()).speak([TEXT])[0]
    other = Synthesizer(tts_for("viettel", voice="hcm-minhquan"), cache, run=SpeechRun()).speak([TEXT])[0]
    faster = Synthesizer(tts_for("viettel", voice="hn-quynhanh", speed=1.2), cache,
                         run=SpeechRun()).speak([TEXT])[0]
    assert not first.cached and again.cached and again.wav == first.wav
    assert not other.cached and other.wav != first.wav and other.voice == "hcm-minhquan"
    assert not faster.cached and faster.wav not in (first.wav, other.wav)
    assert len(rsps.calls) == 3
    # Viettel speaks 1.2 itself: sent as its own speed, not stretched afterwards.
    assert json.loads(rsps.calls[2].request.body)["speed"] == 1.2


def test_engine_lexicon_respells_only_for_that_engine(tmp_path, rsps, wav):
    lexicon = tmp_path / "viettel-lexicon.tsv"
    lexicon.write_text("# Viettel đọc sai tên xã\nĐắk Liêng\tĐắc Liêng\n", encoding="utf-8")
    rsps.post(VIETTEL, body=wav, content_type="audio/wav")
    text = "Xã Đắk Liêng tổ chức tiếp dân."
    synth = synth_for(tmp_path, tts_for("viettel", lexicon=lexicon))
    [spoken] = synth.speak([text])
    assert json.loads(rsps.calls[0].request.body)["text"] == "Xã Đắc Liêng tổ chức tiếp dân."
    assert spoken.text == text


def test_unreachable_vendor_falls_back_along_the_chain(tmp_path, rsps):
    rsps.post(FPT, body=requests.ConnectionError("no route"))
    synth = synth_for(tmp_path, TTSConfig(chain=["fpt", "espeak"]))
    [spoken] = synth.speak([TEXT])
    assert spoken.engine == "espeak" and spoken.voice == "vi"
    assert "không kết nối được tới api.fpt.ai, đã thử 4 lần" in spoken.warnings[0]


def test_no_engine_left_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("FPT_API_KEY")
    synth = synth_for(tmp_path, TTSConfig(chain=["fpt"]))
    with pytest.raises(SpeechError, match="fpt: chưa có khóa API FPT.AI: hãy đặt biến môi trường FPT_API_KEY"):
        synth.speak([TEXT])
