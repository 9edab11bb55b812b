"""The common part of the Vietnamese vendors' speech APIs (FPT.AI, Viettel AI, Zalo AI, Vbee).

Each vendor module only knows its wire format: how to ask for one text and
how to read the answer. Here: the API key (environment variable or key
file, never logged), retries with backoff on timeouts, rate limits and server
errors, the run's circuit breaker, polling for asynchronous results, and
turning the returned audio into the WAV the synthesizer expects.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar
from urllib.parse import urlsplit

import requests

from broadcast.config import TTSConfig
from broadcast.speech.base import EngineFailure, SpeechRun, current_run
from broadcast.speech.chunking import SENTENCE, split_chunks
from broadcast.speech.pcm import decode_to_pcm, ffmpeg_exe, join_with_pauses, trim_silence, write_wav
from broadcast.speech.retry import Backoff, CircuitBreaker, retry_after, thread_session
from broadcast.vitext import decimal, size_text

log = logging.getLogger(__name__)

# A paragraph's audio from a vendor: a few MB at most; anything bigger is not speech.
MAX_AUDIO_BYTES = 32_000_000

T = TypeVar("T")
PIECE_PAUSE_MS = {SENTENCE: 280}
CLAUSE_PAUSE_MS = 140
PROBE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Voice:
    """One voice an engine offers, as `broadcast voices` lists it."""

    engine: str
    id: str  # what goes into tts.<engine>.voice
    description: str  # Vietnamese, e.g. "Nữ miền Bắc"


class VendorEngine:
    """A vendor's HTTP speech API; subclasses give the wire format in `fetch`."""

    name = ""
    label = ""  # how staff know the service, e.g. "FPT.AI"
    default_url = ""
    default_key_env = ""
    default_voice = ""
    voice_list: tuple[tuple[str, str], ...] = ()  # (voice id, Vietnamese description), from the vendor's docs
    audio_format = "mp3"  # what we ask the vendor for
    sample_rate = 22050  # what we decode to
    max_chars = 1000  # longest text sent in one request
    speed_range = (1.0, 1.0)  # speeds the vendor itself can apply
    parallelism = 2  # paragraphs in flight at once: vendors limit concurrent requests

    def __init__(self, tts: TTSConfig) -> None:
        self.settings = tts.settings(self.name)
        self.voice = self.settings.voice or self.default_voice
        self.url = (self.settings.url or self.default_url).rstrip("/")
        self.timeout = self.settings.timeout
        self.retries = self.settings.retries
        self.poll_timeout = self.settings.poll_timeout
        self.poll_interval = 2.0  # seconds between two looks at an asynchronous result
        self.speed = tts.speed
        lo, hi = self.speed_range
        # When the vendor can speak at the station's speed, it does (better
        # than stretching afterwards); otherwise the synthesizer stretches.
        self.handles_speed = lo <= tts.speed <= hi
        self.backoff = Backoff()
        self.sleep: Callable[[float], None] = time.sleep
        self.run: SpeechRun = current_run()
        self.requests_made = 0
        self._lock = threading.Lock()
        self._local = threading.local()

    # ------------------------------------------------------------ settings

    @property
    def key_env(self) -> str:
        """The environment variable read for the API key."""
        return self.settings.key_env or self.default_key_env

    def api_key(self) -> str | None:
        """The API key from the environment, else from the key file; None when neither has one."""
        value = os.environ.get(self.key_env, "").strip()
        if value:
            return value
        path = self.settings.key_file
        if path is None:
            return None
        try:
            lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
        except OSError:
            return None
        first = next((line.strip() for line in lines if line.strip()), "")
        return first or None

    def key_hint(self) -> str:
        """Where staff put the key, for messages (never the key itself)."""
        where = f"biến môi trường {self.key_env}"
        if self.settings.key_file is not None:
            where += f" hoặc tệp {self.settings.key_file}"
        else:
            where += f" hoặc khóa tts.{self.name}.key_file"
        return where

    def missing_settings(self) -> str | None:
        """A setting the vendor needs beyond the key, when it is missing (Vietnamese)."""
        return None

    def voices(self) -> list[Voice]:
        """The vendor's voices as its documentation lists them."""
        return [Voice(self.name, vid, desc) for vid, desc in self.voice_list]

    def voice_label(self) -> str:
        """The voice as the manifest names it."""
        return self.voice

    def bind_run(self, run: SpeechRun) -> None:
        """Share the circuit breaker with the other synthesizers of `run`."""
        self.run = run

    def breaker(self) -> CircuitBreaker:
        """The run's breaker for this vendor."""
        return CircuitBreaker(self.name, self.label, self.run)

    # ------------------------------------------------------------ interface

    def unavailable_reason(self) -> str | None:
        """Return why the vendor cannot be used (no key, unknown voice, skipped), or None."""
        disabled = self.breaker().open_reason()
        if disabled:
            return disabled
        if not self.api_key():
            return f"chưa có khóa API {self.label}: hãy đặt {self.key_hint()}"
        missing = self.missing_settings()
        if missing:
            return missing
        known = [vid for vid, _ in self.voice_list]
        if known and self.voice not in known:
            return (f"{self.label} không có giọng '{self.voice}' (chọn một trong: {', '.join(known)}; "
                    "xem lệnh 'broadcast voices')")
        try:
            ffmpeg_exe()
        except EngineFailure as exc:
            return f"cần ffmpeg để giải mã âm thanh của {self.label}: {exc}"
        return None

    def cache_params(self) -> dict:
        """Voice and endpoint: what changes the vendor's sound (speed is in the key already)."""
        return {"voice": self.voice, "url": self.url, "format": self.audio_format,
                "native_speed": self.handles_speed}

    def synthesize(self, text: str, out_wav: Path) -> None:
        """Speak `text` (in pieces when it is long) into a mono 16-bit WAV."""
        if len(text) <= self.max_chars:
            pieces, pauses = [text], []
        else:
            chunks = split_chunks(text, self.max_chars)
            pieces = [c.text for c in chunks]
            pauses = [PIECE_PAUSE_MS.get(c.boundary, CLAUSE_PAUSE_MS) for c in chunks]
        if not pieces:
            raise EngineFailure("đoạn văn không có chữ nào để đọc")
        try:
            parts = [self._decode(self.fetch(piece)) for piece in pieces]
        except EngineFailure as exc:
            if exc.transient:
                self.breaker().failure(str(exc))
            raise
        self.breaker().success()
        if not any(parts):
            raise EngineFailure(f"âm thanh {self.label} trả về toàn là im lặng")
        write_wav(out_wav, join_with_pauses(parts, pauses or [0], self.sample_rate), self.sample_rate)

    def fetch(self, text: str) -> bytes:
        """Audio bytes (in `audio_format`) for one text: the vendor's wire format."""
        raise NotImplementedError

    def vendor_error(self, resp: requests.Response) -> EngineFailure | None:
        """The vendor's own error in a reply (code and Vietnamese message), if it has one."""
        return None

    def probe(self) -> str | None:
        """Ask the vendor's host once with a short timeout; the reason when unreachable."""
        host = "{0.scheme}://{0.netloc}/".format(urlsplit(self.url))
        try:
            self._session().head(host, timeout=PROBE_TIMEOUT, allow_redirects=False)
        except requests.RequestException as exc:
            log.info("%s probe %s failed: %s", self.name, host, exc.__class__.__name__)
            return f"không kết nối được tới {urlsplit(host).netloc} trong {decimal(PROBE_TIMEOUT)} giây"
        return None

    # ------------------------------------------------------------ helpers for the wire formats

    def _session(self) -> requests.Session:
        return thread_session(self._local)

    def _decode(self, audio: bytes) -> array:
        return trim_silence(decode_to_pcm(audio, self.audio_format, self.sample_rate), self.sample_rate)

    def fail(self, code: object, message: str, transient: bool = False) -> EngineFailure:
        """A vendor error as staff read it: the service, its code, what it means."""
        return EngineFailure(f"{self.label} báo lỗi mã {code}: {message}", transient=transient)

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        """Send one request, retrying timeouts, rate limits and server errors with backoff.

        Returns the first reply that is neither 429 nor 5xx; the caller reads it.
        """
        netloc = urlsplit(url).netloc
        attempts = 1 + max(0, self.retries)
        last: EngineFailure | None = None
        for attempt in range(attempts):
            disabled = self.breaker().open_reason()
            if disabled:
                raise EngineFailure(disabled, transient=True)
            with self._lock:
                self.requests_made += 1
            hint: float | None = None
            try:
                resp = self._session().request(method, url, timeout=self.timeout, **kwargs)
            except requests.Timeout:
                last = EngineFailure(f"{self.label} không trả lời sau {decimal(self.timeout)} giây", transient=True)
            except requests.ConnectionError:
                last = EngineFailure(f"không kết nối được tới {netloc}", transient=True)
            except requests.RequestException as exc:
                last = EngineFailure(f"lỗi khi gửi yêu cầu tới {self.label} ({exc.__class__.__name__})",
                                     transient=True)
            else:
                if resp.status_code != 429 and resp.status_code < 500:
                    return resp
                hint = retry_after(resp)
                own = self.vendor_error(resp)
                if resp.status_code == 429:
                    what = f"{self.label} từ chối vì gửi quá nhiều yêu cầu hoặc hết hạn mức (mã HTTP 429)"
                else:
                    what = f"máy chủ {self.label} gặp lỗi (mã HTTP {resp.status_code})"
                last = EngineFailure(f"{what}{'; ' + str(own) if own else ''}", transient=True)
            log.info("%s attempt %d/%d failed: %s", self.name, attempt + 1, attempts, last)
            if attempt + 1 < attempts:
                self.sleep(self.backoff.delay(attempt, hint))
        assert last is not None
        raise EngineFailure(f"{last}, đã thử {attempts} lần", transient=True)

    def rejected(self, resp: requests.Response) -> EngineFailure:
        """The failure for a 4xx reply: the vendor's own error when it gave one."""
        own = self.vendor_error(resp)
        if own is not None:
            return own
        if resp.status_code in (401, 403):
            return EngineFailure(
                f"{self.label} từ chối khóa API (mã HTTP {resp.status_code}): hãy kiểm tra {self.key_hint()}")
        return EngineFailure(f"{self.label} từ chối yêu cầu (mã HTTP {resp.status_code})")

    def poll(self, look: Callable[[], T | None], what: str) -> T:
        """Call `look` until it gives a result or `poll_timeout` passes (asynchronous APIs)."""
        waited = 0.0
        while True:
            found = look()
            if found is not None:
                return found
            if waited >= self.poll_timeout:
                raise EngineFailure(
                    f"{self.label} chưa có {what} sau {decimal(self.poll_timeout)} giây "
                    f"(tăng khóa tts.{self.name}.poll_timeout nếu văn bản dài)", transient=True)
            step = min(self.poll_interval, self.poll_timeout - waited)
            self.sleep(step)
            waited += step

    def download(self, url: str) -> bytes | None:
        """The audio at `url`, or None while the vendor has not finished writing it.

        Read in pieces up to MAX_AUDIO_BYTES: the address comes from the vendor's
        reply, and a paragraph's audio is a few megabytes at most.
        """
        resp = self.request("GET", url, stream=True)
        with resp:
            # Storage answers 404 (or 403 on S3) until the file exists.
            if resp.status_code in (403, 404):
                return None
            if resp.status_code != 200:
                raise self.rejected(resp)
            body = bytearray()
            for piece in resp.iter_content(chunk_size=1 << 16):
                body += piece
                if len(body) > MAX_AUDIO_BYTES:
                    raise EngineFailure(
                        f"{self.label} trả về tệp âm thanh lớn hơn {size_text(MAX_AUDIO_BYTES)} cho một đoạn: "
                        "đã dừng tải; hãy thử lại sau hoặc báo nhà cung cấp.", transient=True)
        return bytes(body) or None


def json_or_none(resp: requests.Response) -> dict | None:
    """The reply's JSON object, or None when the body is not one."""
    try:
        data = resp.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
