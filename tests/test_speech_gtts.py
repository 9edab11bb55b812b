"""gTTS made dependable, against `responses` speaking Google's real batchexecute wire format.

Only Google is mocked: ffmpeg decodes the MP3s and espeak-ng really speaks
the fallback.
"""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import imageio_ffmpeg
import pytest
import requests
import responses

from broadcast.config import TTSConfig
from broadcast.errors import SpeechError
from broadcast.numbers import date_words, number_words
from broadcast.speech import SpeechCache, SpeechRun, Synthesizer
from broadcast.speech.pcm import read_wav
from broadcast.speech.retry import Backoff

HOST = "https://translate.google.com.vn"
RPC_URL = HOST + "/_/TranslateWebserverUi/data/batchexecute"


@pytest.fixture(scope="module")
def mp3() -> bytes:
    """A real MP3 like Google's (24 kHz mono): 0.1 s silence, 0.4 s voice, 0.5 s silence."""
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error",
        "-f", "lavfi", "-i", "anullsrc=r=24000:cl=mono:d=0.1",
        "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=24000:duration=0.4",
        "-f", "lavfi", "-i", "anullsrc=r=24000:cl=mono:d=0.5",
        "-filter_complex", "[0][1][2]concat=n=3:v=0:a=1", "-ac", "1", "-f", "mp3", "pipe:1",
    ]
    return subprocess.run(cmd, capture_output=True, check=True).stdout


def reply(mp3: bytes | None) -> str:
    """A batchexecute reply as Google sends it: XSSI guard, length lines, JSON envelopes."""
    payload = json.dumps([base64.b64encode(mp3).decode("ascii")]) if mp3 else None
    envelope = json.dumps(
        [["wrb.fr", "jQ1olc", payload, None, None, None, "generic"], ["di", 52], ["af.httprm", 51, "-1", 7]],
        separators=(",", ":"),
    )
    tail = '[["e",4,null,null,%d]]' % (len(envelope) + 40)
    return f")]}}'\n\n{len(envelope)}\n{envelope}\n25\n{tail}\n"


def sent_text(request: requests.PreparedRequest) -> tuple[str, str]:
    """(text, language) inside the f.req form field of a request."""
    body = request.body if isinstance(request.body, str) else request.body.decode()
    freq = urllib.parse.parse_qs(body)["f.req"][0]
    rpc = json.loads(freq)
    assert rpc[0][0][0] == "jQ1olc"
    params = json.loads(rpc[0][0][1])
    return params[0], params[1]


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.head(HOST + "/", status=200)
        yield mock


def make_synth(tmp_path: Path, chain: list[str] | None = None, **tts_kw) -> Synthesizer:
    tts = TTSConfig(chain=chain or ["gtts", "espeak"], **tts_kw)
    synth = Synthesizer(tts, SpeechCache(tmp_path / "cache"), run=SpeechRun())
    gtts = synth.engine("gtts")
    gtts.backoff = Backoff(base=0.001, cap=0.01)  # type: ignore[attr-defined]
    return synth


def posts(mock: responses.RequestsMock) -> list:
    return [c for c in mock.calls if c.request.method == "POST"]


def test_429_then_200_is_retried_and_gtts_speaks(tmp_path: Path, rsps, mp3: bytes) -> None:
    rsps.post(RPC_URL, status=429, body="Too Many Requests")
    rsps.post(RPC_URL, status=200, body=reply(mp3))
    synth = make_synth(tmp_path)
    (sp,) = synth.speak(["Xin chào bà con xã Hòa Phú."])
    assert sp.engine == "gtts" and not sp.cached and sp.warnings == []
    assert synth.requests_made == 2
    assert [sent_text(c.request) for c in posts(rsps)] == [("Xin chào bà con xã Hòa Phú.", "vi")] * 2
    pcm, rate = read_wav(sp.wav)
    assert rate == 24000 and 0.35 < sp.duration < 0.7  # silences trimmed
    assert max(abs(v) for v in pcm) > 1000  # the tone survived decode, trim and join


def test_persistent_5xx_falls_back_to_espeak_and_says_so(tmp_path: Path, rsps) -> None:
    rsps.post(RPC_URL, status=503, body="Service Unavailable")
    synth = make_synth(tmp_path, gtts_retries=2)
    (sp,) = synth.speak(["Bà con lưu ý lịch tiếp công dân tháng này."])
    assert sp.engine == "espeak"
    assert len(posts(rsps)) == 3  # one try and two retries
    assert len(sp.warnings) == 1
    assert "gtts" in sp.warnings[0] and "503" in sp.warnings[0] and "espeak" in sp.warnings[0]
    assert sp.duration > 0.5


def test_connection_refused_falls_back(tmp_path: Path, rsps) -> None:
    rsps.post(RPC_URL, body=requests.ConnectionError("[Errno 111] Connection refused"))
    synth = make_synth(tmp_path, gtts_retries=1)
    (sp,) = synth.speak(["Hồ sơ trực tuyến được tiếp nhận cả ngày thứ bảy."])
    assert sp.engine == "espeak"
    assert "không kết nối được tới translate.google.com.vn" in sp.warnings[0]


def test_200_without_audio_is_not_retried_and_falls_back(tmp_path: Path, rsps) -> None:
    rsps.post(RPC_URL, status=200, body=reply(None))
    synth = make_synth(tmp_path)
    (sp,) = synth.speak(["Xin chào."])
    assert sp.engine == "espeak"
    assert len(posts(rsps)) == 1
    assert "không kèm âm thanh" in sp.warnings[0]


def test_unreachable_google_is_probed_once_and_skipped_for_the_whole_run(tmp_path: Path) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.head(HOST + "/", body=requests.ConnectionError("Connection refused"))
        synth = make_synth(tmp_path)
        out = synth.speak(["Đoạn một.", "Đoạn hai.", "Đoạn ba."])
        # A second station of the same run does not probe again.
        other = Synthesizer(TTSConfig(), SpeechCache(tmp_path / "cache"), run=synth.run)
        other.speak(["Đoạn bốn."])
        assert [c.request.method for c in mock.calls] == ["HEAD"]
    assert [sp.engine for sp in out] == ["espeak"] * 3
    assert all(sp.warnings == [] for sp in out)  # a run-level notice, not one per paragraph
    assert len(synth.warnings) == 1 and "gtts" in synth.warnings[0]
    assert "translate.google.com.vn" in synth.warnings[0]
    assert synth.engine_report()[0][0] == "gtts" and synth.engine_report()[0][1]
    assert synth.engine_report()[1] == ("espeak", None)


def test_gtts_only_chain_that_fails_raises_speech_error_naming_the_paragraph(tmp_path: Path, rsps) -> None:
    rsps.post(RPC_URL, status=500)
    synth = make_synth(tmp_path, chain=["gtts"], gtts_retries=0)
    with pytest.raises(SpeechError) as err:
        synth.speak(["Thông báo lịch tiêm chủng cho trẻ em trong xã."])
    msg = str(err.value)
    assert "Thông báo lịch tiêm chủng" in msg and "gtts" in msg and "500" in msg


def test_long_paragraph_is_sent_in_chunks_of_at_most_100_characters(tmp_path: Path, rsps, mp3: bytes) -> None:
    rsps.post(RPC_URL, status=200, body=reply(mp3))
    text = (
        f"Sáng {date_words(__import__('datetime').date(2025, 3, 12))}, Ủy ban nhân dân xã đã tiếp nhận "
        f"{number_words(1_234_567)} hồ sơ trực tuyến. Bà con có thể nộp hồ sơ qua Cổng dịch vụ công quốc gia, "
        "hoặc đến bộ phận một cửa của xã vào giờ hành chính."
    )
    synth = make_synth(tmp_path)
    (sp,) = synth.speak([text])
    sent = [sent_text(c.request)[0] for c in posts(rsps)]
    assert len(sent) >= 3 and all(len(s) <= 100 for s in sent)
    assert sorted(" ".join(sent).split()) == sorted(text.split())
    assert "ngày mười hai tháng ba năm hai nghìn không trăm hai mươi lăm" in " | ".join(sent)
    assert any(number_words(1_234_567) in s for s in sent)
    assert sp.engine == "gtts"
    # Chunks are joined with short pauses, not with Google's long silences (1 s per chunk).
    assert len(sent) * 0.4 < sp.duration < len(sent) * 0.75


def test_concurrency_bound_holds_across_chunks_and_paragraphs(tmp_path: Path, rsps, mp3: bytes) -> None:
    body = reply(mp3)
    state = {"now": 0, "max": 0}
    lock = threading.Lock()

    def slow(request):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.03)
        with lock:
            state["now"] -= 1
        return 200, {}, body

    rsps.add_callback(responses.POST, RPC_URL, callback=slow)
    sentence = "Cán bộ một cửa hướng dẫn người dân nộp hồ sơ trực tuyến qua điện thoại di động của mình. "
    texts = [f"Đoạn số {number_words(i)}. " + sentence * 3 for i in range(6)]
    synth = make_synth(tmp_path, gtts_concurrency=3)
    out = synth.speak(texts)
    assert all(sp.engine == "gtts" for sp in out)
    assert synth.requests_made == len(posts(rsps)) >= 18
    assert 1 < state["max"] <= 3


def test_request_budget_is_shared_by_the_run_then_espeak_takes_over(tmp_path: Path, rsps, mp3: bytes) -> None:
    rsps.post(RPC_URL, status=200, body=reply(mp3))
    synth = make_synth(tmp_path, gtts_request_budget=2, gtts_concurrency=1)
    out = synth.speak(["Một câu ngắn.", "Hai câu ngắn.", "Ba câu ngắn.", "Bốn câu ngắn."])
    assert [sp.engine for sp in out] == ["gtts", "gtts", "espeak", "espeak"]
    assert len(posts(rsps)) == 2
    assert any("hạn mức 2 yêu cầu" in w for w in synth.run.notices)


def test_warm_cache_needs_no_network_at_all(tmp_path: Path, rsps, mp3: bytes) -> None:
    rsps.post(RPC_URL, status=200, body=reply(mp3))
    make_synth(tmp_path).speak(["Lịch tiếp công dân tuần này."])
    with responses.RequestsMock(assert_all_requests_are_fired=False) as offline:
        synth = make_synth(tmp_path)  # a new run, no network registered
        (sp,) = synth.speak(["Lịch tiếp công dân tuần này."])
        assert len(offline.calls) == 0
    assert sp.engine == "gtts" and sp.cached and synth.synth_calls == 0


def test_audio_that_does_not_decode_falls_back(tmp_path: Path, rsps) -> None:
    rsps.post(RPC_URL, status=200, body=reply(b"this is not an mp3 at all" * 20))
    synth = make_synth(tmp_path)
    (sp,) = synth.speak(["Xin chào bà con."])
    assert sp.engine == "espeak" and "ffmpeg" in sp.warnings[0]
