"""Google Translate speech (the gTTS wire format) made dependable for a nightly run.

gTTS builds the request body (its pre-processors and tokenizer switched off:
we cut the text ourselves); requests are sent here so that they get a timeout,
retries with exponential backoff and jitter, a shared concurrency bound, and
a per-run request budget.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
import time
from array import array
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import requests

from broadcast.config import TTSConfig
from broadcast.speech.base import EngineFailure, SpeechRun, current_run, register_engine
from broadcast.speech.chunking import CLAUSE, SENTENCE, Chunk, split_chunks
from broadcast.speech.pcm import decode_to_pcm, ffmpeg_exe, join_with_pauses, trim_silence, write_wav
from broadcast.speech.retry import Backoff, CircuitBreaker, retry_after, thread_session
from broadcast.vitext import decimal

log = logging.getLogger(__name__)

RPC_ID = "jQ1olc"
RPC_PATH = "/_/TranslateWebserverUi/data/batchexecute"
SAMPLE_RATE = 24000  # Google's TTS MP3s are 24 kHz mono
PAUSE_MS = {SENTENCE: 280, CLAUSE: 140}
WORD_PAUSE_MS = 40
_AUDIO_FALLBACK = re.compile(r'jQ1olc","\[\\"(.*?)\\"')


def _whole(text: str) -> list[str]:
    # Our chunks are already <= 100 characters: gTTS must not re-split them.
    return [text]


def request_body(text: str, tld: str) -> str:
    """The form body gTTS would POST for `text` in Vietnamese, without its text rewriting."""
    from gtts import gTTS

    tts = gTTS(text, tld=tld, lang="vi", lang_check=False, pre_processor_funcs=[], tokenizer_func=_whole)
    bodies = tts.get_bodies()
    if len(bodies) != 1:  # cannot happen for chunks <= 100 characters
        raise EngineFailure(f"gTTS tách đoạn '{text[:30]}' thành {len(bodies)} yêu cầu")
    body = bodies[0]
    return body if isinstance(body, str) else body.decode("ascii")


def request_headers() -> dict[str, str]:
    """The headers gTTS sends."""
    from gtts import gTTS

    return dict(gTTS.GOOGLE_TTS_HEADERS)


def parse_audio(reply: str) -> bytes | None:
    """MP3 bytes from a batchexecute reply, or None when it carries no audio."""
    for line in reply.splitlines():
        if RPC_ID not in line:
            continue
        try:
            envelope = json.loads(line)
        except ValueError:
            envelope = None
        if isinstance(envelope, list):
            for entry in envelope:
                if isinstance(entry, list) and len(entry) > 2 and entry[1] == RPC_ID:
                    payload = entry[2]
                    if not isinstance(payload, str):
                        return None
                    try:
                        inner = json.loads(payload)
                    except ValueError:
                        return None
                    if isinstance(inner, list) and inner and isinstance(inner[0], str) and inner[0]:
                        return _b64(inner[0])
                    return None
        m = _AUDIO_FALLBACK.search(line)
        if m:
            return _b64(m.group(1))
        return None
    return None


def _b64(text: str) -> bytes | None:
    try:
        data = base64.b64decode(text.encode("ascii"), validate=False)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
    return data or None


class GTTSEngine:
    """Google Translate's voice: natural, online, rate-limited."""

    name = "gtts"

    def __init__(self, tts: TTSConfig) -> None:
        self.tld = tts.gtts_tld
        self.timeout = tts.gtts_timeout
        self.probe_timeout = tts.gtts_probe_timeout
        self.retries = tts.gtts_retries
        self.concurrency = max(1, tts.gtts_concurrency)
        self.parallelism = self.concurrency
        self.budget = tts.gtts_request_budget
        self.base_url: str | None = None  # e.g. "http://127.0.0.1:8765" for a local stand-in
        self.backoff = Backoff()
        self.run: SpeechRun = current_run()
        self.requests_made = 0
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._headers = request_headers()

    # ------------------------------------------------------------ interface

    def bind_run(self, run: SpeechRun) -> None:
        """Share probe, budget and breaker with the other synthesizers of `run`."""
        self.run = run

    def breaker(self) -> CircuitBreaker:
        """The run's breaker for gTTS."""
        return CircuitBreaker(self.name, "gTTS", self.run)

    def url(self) -> str:
        """The batchexecute endpoint this engine posts to."""
        return self.host_url() + RPC_PATH

    def host_url(self) -> str:
        """Scheme and host of the Google Translate site in use."""
        return (self.base_url or f"https://translate.google.{self.tld}").rstrip("/")

    def unavailable_reason(self) -> str | None:
        """Return why gTTS cannot be used in this run (probing Google once), or None."""
        disabled = self.run.disabled_reason(self.name)
        if disabled:
            return disabled
        try:
            ffmpeg_exe()
        except EngineFailure as exc:
            return f"gTTS cần ffmpeg để giải mã MP3: {exc}"
        host = self.host_url()
        with self.run.probe_lock:
            if host not in self.run.probes:
                self.run.probes[host] = self.probe()
            return self.run.probes[host]

    def probe(self) -> str | None:
        """Ask Google's site once with a short timeout; the reason when unreachable."""
        host = self.host_url()
        try:
            # HEAD: any answer at all proves the site is reachable; no body to fetch.
            self._session().head(host + "/", timeout=self.probe_timeout, allow_redirects=False)
        except requests.RequestException as exc:
            log.info("Google probe %s failed: %s", host, exc)
            return (
                f"không kết nối được tới {urlsplit(host).netloc} trong {decimal(self.probe_timeout)} giây "
                "(mất mạng hoặc bị chặn)"
            )
        return None

    def voices(self) -> list:
        """Google's one Vietnamese voice."""
        from broadcast.speech.vendor import Voice

        return [Voice(self.name, "", f"Giọng nữ tiếng Việt của Google (translate.google.{self.tld}, cần mạng)")]

    def voice_label(self) -> str:
        """Google's one Vietnamese voice, named by the regional site that serves it."""
        return f"vi@translate.google.{self.tld}"

    def cache_params(self) -> dict:
        """Language and regional site: what changes Google's voice."""
        return {"lang": "vi", "tld": self.tld}

    def synthesize(self, text: str, out_wav: Path) -> None:
        """Speak `text` chunk by chunk (requests in parallel) and join the audio smoothly."""
        chunks = split_chunks(text)
        if not chunks:
            raise EngineFailure("đoạn văn không có chữ nào để đọc")
        try:
            pcm = self._speak_chunks(chunks)
        except EngineFailure as exc:
            if exc.transient:
                self.breaker().failure(str(exc))
            raise
        self.breaker().success()
        write_wav(out_wav, pcm, SAMPLE_RATE)

    def close(self) -> None:
        """Stop the request threads."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool:
            pool.shutdown(wait=True, cancel_futures=True)

    # ------------------------------------------------------------ internals

    def _session(self) -> requests.Session:
        return thread_session(self._local)

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                # The pool is the concurrency bound: every request of every
                # paragraph of this engine runs on one of its threads.
                self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="gtts")
            return self._pool

    def _speak_chunks(self, chunks: list[Chunk]) -> array:
        pool = self._executor()
        futures: list[Future[bytes]] = [pool.submit(self.fetch, c.text) for c in chunks]
        parts: list[array] = []
        try:
            for fut in futures:
                mp3 = fut.result()
                # Decode here, not on a request thread, so slots serve requests only.
                parts.append(trim_silence(decode_to_pcm(mp3, "mp3", SAMPLE_RATE), SAMPLE_RATE))
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
        if not any(parts):
            raise EngineFailure("âm thanh Google trả về toàn là im lặng")
        pauses = [PAUSE_MS.get(c.boundary, WORD_PAUSE_MS) for c in chunks]
        return join_with_pauses(parts, pauses, SAMPLE_RATE)

    def fetch(self, text: str) -> bytes:
        """MP3 bytes for one chunk of at most 100 characters, retrying what is worth retrying."""
        body = request_body(text, self.tld)
        url = self.url()
        netloc = urlsplit(url).netloc
        attempts = 1 + max(0, self.retries)
        last = ""
        for attempt in range(attempts):
            disabled = self.run.disabled_reason(self.name)
            if disabled:
                raise EngineFailure(disabled, transient=True)
            if not self.run.take_request(self.budget):
                msg = (
                    f"đã dùng hết hạn mức {self.budget} yêu cầu tới Google của lần chạy này "
                    "(khóa tts.gtts_request_budget)"
                )
                self.run.disable(self.name, msg)
                self.run.notice_once(msg)
                raise EngineFailure(msg, transient=True)
            with self._lock:
                self.requests_made += 1
            hint: float | None = None
            try:
                resp = self._session().post(url, data=body, headers=self._headers, timeout=self.timeout)
            except requests.Timeout:
                last = f"Google không trả lời sau {decimal(self.timeout)} giây"
            except requests.ConnectionError:
                last = f"không kết nối được tới {netloc}"
            except requests.RequestException as exc:
                last = f"lỗi khi gửi yêu cầu tới Google ({exc.__class__.__name__})"
            else:
                status = resp.status_code
                if status == 200:
                    audio = parse_audio(resp.text)
                    if audio is None:
                        raise EngineFailure("Google trả lời (mã 200) nhưng không kèm âm thanh")
                    return audio
                if status == 429:
                    last = "Google từ chối vì gửi quá nhiều yêu cầu (mã 429)"
                    hint = retry_after(resp)
                elif status >= 500:
                    last = f"máy chủ Google gặp lỗi (mã {status})"
                    hint = retry_after(resp)
                else:
                    raise EngineFailure(f"Google từ chối yêu cầu (mã {status})")
            log.info("gTTS attempt %d/%d for %r failed: %s", attempt + 1, attempts, text[:40], last)
            if attempt + 1 < attempts:
                time.sleep(self.backoff.delay(attempt, hint))
        raise EngineFailure(f"{last}, đã thử {attempts} lần", transient=True)


register_engine("gtts", GTTSEngine)
