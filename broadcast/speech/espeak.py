"""Offline Vietnamese speech with the espeak-ng library shipped by the espeakng-loader wheel.

The library is driven through ctypes in synchronous retrieval mode: a
callback collects the samples. espeak-ng keeps global state and is not
thread-safe, so every use holds one lock.

Same text, same samples: espeak-ng's wave generator keeps static counters
that neither espeak_Terminate nor espeak_Initialize reset (the pitch
flutter index, the gain control, the cycle counter), so one text spoken
after another came out a few samples longer or shorter and differed from
the 70th sample on. The library is therefore unloaded and loaded afresh
before every text but the first after a load: each text then starts from
the state a new process starts from, whatever was spoken before, on any
thread. A reload costs about 7 ms (bench/bench_speech.py --espeak-only).

Ctrl-C while espeak-ng runs: Python would raise KeyboardInterrupt inside the
callback, where ctypes prints and swallows it, and the paragraph would come
out short. So during synthesis on the main thread SIGINT only sets a flag;
the callback then asks espeak-ng to stop, and KeyboardInterrupt is raised
once control is back in Python, before anything is written.
"""

from __future__ import annotations

import _ctypes
import ctypes
import logging
import signal
import threading
from array import array
from pathlib import Path

from broadcast.config import TTSConfig
from broadcast.speech.base import EngineFailure, register_engine
from broadcast.speech.pcm import samples_from_bytes, write_wav

log = logging.getLogger(__name__)

VOICES = ("vi", "vi-vn-x-central", "vi-vn-x-south")
VOICE_NAMES = {"vi": "Miền Bắc (giọng máy)", "vi-vn-x-central": "Miền Trung (giọng máy)",
               "vi-vn-x-south": "Miền Nam (giọng máy)"}

# Values from espeak-ng's speak_lib.h.
AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_DONT_EXIT = 0x8000
POS_CHARACTER = 1
CHARS_UTF8 = 1
PARAM_RATE = 1
EE_OK = 0
RATE_MIN, RATE_MAX = 80, 450

# int SynthCallback(short *wav, int numsamples, espeak_EVENT *events)
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)

_lock = threading.Lock()
_state: dict[str, object] = {}  # lib, rate, callback, error, used; filled under _lock
_collected: list[bytes] = []
_stop = threading.Event()  # set by SIGINT (or a failing callback): abort the synthesis
_callback_error: list[BaseException] = []
CONTINUE, ABORT = 0, 1  # SynthCallback return values


def _on_samples(wav: ctypes.POINTER(ctypes.c_short), numsamples: int, events: int) -> int:  # type: ignore[valid-type]
    # Called by espeak-ng on the synthesizing thread, which holds _lock. An
    # exception must not escape: ctypes would print it and carry on.
    try:
        if _stop.is_set():
            return ABORT
        if wav and numsamples > 0:
            _collected.append(ctypes.string_at(wav, numsamples * 2))
        return CONTINUE
    except BaseException as exc:  # noqa: BLE001 - handed back to the caller
        _callback_error.append(exc)
        _stop.set()
        return ABORT


def _on_sigint(signum: int, frame: object) -> None:
    _stop.set()


class _DeferredInterrupt:
    """While active on the main thread, SIGINT stops espeak-ng instead of raising in its callback."""

    def __enter__(self) -> "_DeferredInterrupt":
        self.previous = None
        _stop.clear()
        del _callback_error[:]
        if threading.current_thread() is threading.main_thread():
            current = signal.getsignal(signal.SIGINT)
            if callable(current):  # ignored or default-killed stays as it is
                self.previous = signal.signal(signal.SIGINT, _on_sigint)
        return self

    def __exit__(self, *exc: object) -> None:
        previous, self.previous = self.previous, None
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        stopped = _stop.is_set()
        _stop.clear()
        if _callback_error:
            error = _callback_error.pop()
            del _callback_error[:]
            raise error
        if stopped and exc[0] is None:
            # Handle the signal as it would have been (KeyboardInterrupt by
            # default); if that handler lets the run go on, the cut-off audio
            # still must not be used.
            if previous is not None:
                previous(signal.SIGINT, None)  # type: ignore[operator]
            raise EngineFailure("espeak-ng bị ngắt giữa chừng")


def _init_locked() -> str | None:
    """Load and initialise espeak-ng once; return a reason when impossible. Hold _lock."""
    if "error" in _state:
        return _state["error"]  # type: ignore[return-value]
    error: str | None = None
    try:
        import espeakng_loader

        _state.update(path=espeakng_loader.get_library_path(), data=espeakng_loader.get_data_path())
        error = _load_locked()
    except ImportError:
        error = "chưa cài gói espeakng-loader (pip install espeakng-loader)"
    except (OSError, RuntimeError, AttributeError) as exc:
        error = f"không nạp được thư viện espeak-ng ({exc}): hãy cài lại gói espeakng-loader"
    _state["error"] = error
    if error:
        log.warning("espeak unavailable: %s", error)
    return error


def _load_locked() -> str | None:
    """Load the library file and initialise it; return a reason when it will not start. Hold _lock."""
    lib = ctypes.CDLL(str(_state["path"]))
    data = str(_state["data"])
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_Synth.argtypes = [
        ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
        ctypes.c_uint, ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p,
    ]
    lib.espeak_Synth.restype = ctypes.c_int
    lib.espeak_Terminate.restype = ctypes.c_int
    rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data.encode("utf-8"), INITIALIZE_DONT_EXIT)
    if rate <= 0:
        _unload(lib)
        return f"espeak-ng không khởi động được với dữ liệu {data}"
    callback = _state.get("callback") or _SYNTH_CALLBACK(_on_samples)  # kept referenced: C holds the pointer
    lib.espeak_SetSynthCallback(callback)
    _state.update(lib=lib, rate=rate, callback=callback, used=False)
    return None


def _unload(lib: ctypes.CDLL) -> None:
    """Free espeak-ng's memory and close the library file, so the next load starts with fresh static state."""
    lib.espeak_Terminate()
    if hasattr(_ctypes, "dlclose"):
        _ctypes.dlclose(lib._handle)
    else:  # Windows
        _ctypes.FreeLibrary(lib._handle)  # type: ignore[attr-defined]


def _fresh_locked() -> None:
    """Make sure the loaded library has spoken nothing yet (see the module docstring). Hold _lock."""
    if not _state.get("used"):
        return
    lib = _state.pop("lib")
    _unload(lib)  # type: ignore[arg-type]
    try:
        error = _load_locked()
    except OSError as exc:
        error = f"không nạp lại được thư viện espeak-ng ({exc}): hãy cài lại gói espeakng-loader"
    if error:
        _state["error"] = error
        raise EngineFailure(error)


def _synthesize_locked(text: str, voice: str, rate_wpm: int) -> tuple[array, int]:
    _fresh_locked()
    lib = _state["lib"]
    _state["used"] = True
    if lib.espeak_SetVoiceByName(voice.encode("utf-8")) != EE_OK:  # type: ignore[attr-defined]
        raise EngineFailure(f"espeak-ng không có giọng '{voice}'")
    rate_wpm = max(RATE_MIN, min(RATE_MAX, rate_wpm))
    lib.espeak_SetParameter(PARAM_RATE, rate_wpm, 0)  # type: ignore[attr-defined]
    data = text.encode("utf-8") + b"\0"
    _collected.clear()
    try:
        with _DeferredInterrupt():
            # No espeakENDPAUSE: the mixer places pauses between paragraphs itself.
            err = lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)  # type: ignore[attr-defined]
        if err != EE_OK:
            raise EngineFailure(f"espeak-ng báo lỗi {err} khi đọc")
        raw = b"".join(_collected)
    finally:
        _collected.clear()
    return samples_from_bytes(raw), int(_state["rate"])  # type: ignore[arg-type]


class EspeakEngine:
    """espeak-ng through ctypes: offline, instant, robotic but always there."""

    name = "espeak"
    parallelism = 1

    def __init__(self, tts: TTSConfig) -> None:
        self.voice = tts.settings(self.name).voice or tts.espeak_voice
        self.rate = tts.espeak_rate

    def unavailable_reason(self) -> str | None:
        """Return why espeak-ng cannot run, or None."""
        if self.voice not in VOICES:
            return f"giọng espeak '{self.voice}' không hợp lệ (chọn {', '.join(VOICES)})"
        with _lock:
            return _init_locked()

    def voices(self) -> list:
        """espeak-ng's three Vietnamese voices."""
        from broadcast.speech.vendor import Voice

        return [Voice(self.name, v, VOICE_NAMES[v]) for v in VOICES]

    def cache_params(self) -> dict:
        """Voice and rate: all that changes espeak's sound."""
        return {"voice": self.voice, "rate": self.rate}

    def synthesize(self, text: str, out_wav: Path) -> None:
        """Speak `text` into a mono 16-bit WAV."""
        with _lock:
            error = _init_locked()
            if error:
                raise EngineFailure(error)
            pcm, rate = _synthesize_locked(text, self.voice, self.rate)
        if not pcm:
            raise EngineFailure("espeak-ng không tạo ra âm thanh nào")
        write_wav(out_wav, pcm, rate)


register_engine("espeak", EspeakEngine)
