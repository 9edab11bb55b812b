"""The speech engine interface, the engine registry and per-run shared state."""

from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path
from typing import Callable, Protocol, runtime_checkable

from broadcast.config import TTSConfig

log = logging.getLogger(__name__)


class EngineFailure(Exception):
    """An engine could not speak one text; the message (Vietnamese) says why.

    `transient` marks failures of the service rather than of the text (network
    down, rate limit, server errors): several in a row take the engine out of
    the run.
    """

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@runtime_checkable
class Engine(Protocol):
    """What the synthesizer needs from a speech engine.

    Optional attribute: `parallelism: int` (how many texts may be synthesized
    at once; 1 when absent).
    """

    name: str

    def unavailable_reason(self) -> str | None:
        """Return why the engine cannot run (Vietnamese), or None when usable."""
        ...

    def cache_params(self) -> dict:
        """Return every setting that changes the sound (part of the cache key)."""
        ...

    def synthesize(self, text: str, out_wav: Path) -> None:
        """Write `text` spoken as a mono 16-bit WAV to `out_wav`; raise EngineFailure."""
        ...


EngineFactory = Callable[[TTSConfig], Engine]

_REGISTRY: dict[str, EngineFactory] = {}
_REGISTRY_LOCK = threading.Lock()


def register_engine(name: str, factory: EngineFactory) -> None:
    """Make an engine available under `name` (a later registration replaces an earlier one)."""
    with _REGISTRY_LOCK:
        _REGISTRY[name] = factory


def registered_engines() -> list[str]:
    """Names of all registered engines."""
    _load_builtins()
    with _REGISTRY_LOCK:
        return sorted(_REGISTRY)


def create_engine(name: str, tts: TTSConfig) -> Engine:
    """Build the engine called `name` for these voice settings."""
    _load_builtins()
    with _REGISTRY_LOCK:
        factory = _REGISTRY.get(name)
    if factory is None:
        from broadcast.errors import SpeechError

        known = ", ".join(registered_engines())
        raise SpeechError(f"Không có bộ đọc tên '{name}'. Các bộ đọc có sẵn: {known}.")
    return factory(tts)


_builtins_loaded = False
BUILTIN_MODULES = ("command", "espeak", "gtts_engine", "piper_engine", "fpt", "viettel", "zalo", "vbee")
ENTRY_POINT_GROUP = "broadcast.engines"


def _load_builtins() -> None:
    # The built-in engines register themselves on import, exactly as a
    # third-party module would; importing lazily avoids an import cycle.
    global _builtins_loaded
    if _builtins_loaded:
        return
    _builtins_loaded = True
    import importlib
    from importlib.metadata import entry_points

    for module in BUILTIN_MODULES:
        importlib.import_module(f"broadcast.speech.{module}")
    # Third-party engines: a package declares an entry point in this group
    # whose module calls register_engine() on import.
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception as exc:  # a broken plugin must not stop the station
            log.warning("speech engine plugin %s could not be loaded: %s", ep.name, exc)


class SpeechRun:
    """State shared by every synthesizer of one run: Google probe, request budget, notices.

    A run is one CLI invocation; `current_run()` is the process-wide default.
    """

    def __init__(self) -> None:
        self.id = uuid.uuid4().hex  # only tells runs apart: no clock reading in the library
        self.lock = threading.Lock()
        self.probe_lock = threading.Lock()
        self.requests_made = 0  # HTTP requests to Google, all stations together
        self.chars_synthesized = 0  # characters of new speech, all stations together
        self.probes: dict[str, str | None] = {}  # base url -> unreachable reason
        self.disabled: dict[str, str] = {}  # engine name -> why it is skipped for the run
        self.consecutive_failures: dict[str, int] = {}
        self.notices: list[str] = []  # said once per run
        self._noticed: set[str] = set()

    def take_request(self, budget: int) -> bool:
        """Count one HTTP request; False when the run's budget is spent."""
        with self.lock:
            if self.requests_made >= budget:
                return False
            self.requests_made += 1
            return True

    def take_chars(self, count: int, budget: int) -> bool:
        """Count `count` characters of new speech; False (nothing counted) when over `budget`."""
        with self.lock:
            if self.chars_synthesized + count > budget:
                return False
            self.chars_synthesized += count
            return True

    def notice_once(self, message: str) -> bool:
        """Record and log a run-level warning unless already said; True when new."""
        with self.lock:
            if message in self._noticed:
                return False
            self._noticed.add(message)
            self.notices.append(message)
        log.warning("%s", message)
        return True

    def disable(self, engine: str, reason: str) -> None:
        """Skip `engine` for the rest of the run."""
        with self.lock:
            self.disabled.setdefault(engine, reason)

    def disabled_reason(self, engine: str) -> str | None:
        """Why `engine` is skipped for the rest of the run, if it is."""
        with self.lock:
            return self.disabled.get(engine)


_current_run = SpeechRun()
_current_lock = threading.Lock()


def current_run() -> SpeechRun:
    """The process-wide run state used when a synthesizer is given none."""
    with _current_lock:
        return _current_run


def new_run() -> SpeechRun:
    """Start fresh run state (new probe, new budget) and make it the default."""
    global _current_run
    with _current_lock:
        _current_run = SpeechRun()
        return _current_run
