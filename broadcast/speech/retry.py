"""What every online engine shares: backoff with jitter, Retry-After, and a per-run circuit breaker.

gTTS and the vendor APIs use the same pieces, so a station sees the same
behaviour whichever service it pays for: a few retries spaced out on
timeouts, rate limits and server errors, then the engine is skipped for the
rest of the run after several paragraphs in a row failed on the service.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time

import requests

from broadcast.speech.base import SpeechRun

BREAKER_FAILURES = 3  # paragraphs in a row failing on the service, then skip the engine for the run


def thread_session(local: threading.local) -> requests.Session:
    """The calling thread's own HTTP session (requests sessions are not thread-safe)."""
    session = getattr(local, "session", None)
    if session is None:
        session = requests.Session()
        local.session = session
    return session


def retry_after(resp: requests.Response) -> float | None:
    """Seconds the server asked us to wait (Retry-After, seconds or HTTP date), if it said."""
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class Backoff:
    """Exponential backoff with full jitter, or the server's own Retry-After when it gave one."""

    def __init__(self, base: float = 0.5, cap: float = 8.0, retry_after_cap: float = 30.0) -> None:
        self.base = base  # seconds; doubled per attempt
        self.cap = cap
        self.retry_after_cap = retry_after_cap

    def delay(self, attempt: int, hint: float | None = None) -> float:
        """Seconds to wait before attempt `attempt + 1` (attempt counts from 0)."""
        if hint is not None:
            return min(hint, self.retry_after_cap)
        ceiling = min(self.cap, self.base * (2 ** attempt))
        return random.uniform(ceiling / 2, ceiling)


class CircuitBreaker:
    """Count paragraphs failing in a row on a service; past the limit, skip it for the run.

    The count lives in the run, so every station of one invocation shares it:
    a service that is down is given up once, not once per station.
    """

    def __init__(self, engine: str, label: str, run: SpeechRun, limit: int = BREAKER_FAILURES) -> None:
        self.engine = engine
        self.label = label  # how staff know the service, e.g. "gTTS", "FPT.AI"
        self.run = run
        self.limit = limit

    def failure(self, reason: str) -> None:
        """Record one paragraph lost to the service; open the breaker at the limit."""
        with self.run.lock:
            n = self.run.consecutive_failures.get(self.engine, 0) + 1
            self.run.consecutive_failures[self.engine] = n
        if n >= self.limit:
            msg = (
                f"{self.label} lỗi liên tiếp ở {n} đoạn ({reason}); bỏ qua {self.label} trong phần còn lại "
                "của lần chạy này"
            )
            self.run.disable(self.engine, msg)
            self.run.notice_once(msg)

    def success(self) -> None:
        """A paragraph went through: the failures were not in a row."""
        with self.run.lock:
            self.run.consecutive_failures[self.engine] = 0

    def open_reason(self) -> str | None:
        """Why the engine is skipped for the run, when it is."""
        return self.run.disabled_reason(self.engine)
