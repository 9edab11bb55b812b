"""Speech: engines (gtts, espeak, command), chunking, the shared cache and fallback.

Typical use::

    cache = SpeechCache(config.data_dir / "speech-cache")
    synth = Synthesizer(station.tts, cache)
    spoken = synth.speak(paragraphs)   # list[SpokenParagraph], same order
"""

from broadcast.speech.base import (
    Engine,
    EngineFailure,
    SpeechRun,
    create_engine,
    current_run,
    new_run,
    register_engine,
    registered_engines,
)
from broadcast.speech.cache import CacheStats, SpeechCache, cache_key, parse_age
from broadcast.speech.chunking import Chunk, split_chunks
from broadcast.speech.synth import Synthesizer, doctor_checks, speakable, voice_label
from broadcast.speech.vendor import Voice
from broadcast.speech.voices import EngineVoices, list_voices, say

# Built-in engines register themselves on import, as a third-party one would.
from broadcast.speech import command as _command  # noqa: E402,F401
from broadcast.speech import espeak as _espeak  # noqa: E402,F401
from broadcast.speech import gtts_engine as _gtts_engine  # noqa: E402,F401
from broadcast.speech import piper_engine as _piper_engine  # noqa: E402,F401
from broadcast.speech import fpt as _fpt  # noqa: E402,F401
from broadcast.speech import viettel as _viettel  # noqa: E402,F401
from broadcast.speech import zalo as _zalo  # noqa: E402,F401
from broadcast.speech import vbee as _vbee  # noqa: E402,F401

__all__ = [
    "CacheStats",
    "Chunk",
    "Engine",
    "EngineFailure",
    "EngineVoices",
    "SpeechCache",
    "SpeechRun",
    "Synthesizer",
    "cache_key",
    "create_engine",
    "current_run",
    "doctor_checks",
    "new_run",
    "parse_age",
    "register_engine",
    "list_voices",
    "registered_engines",
    "say",
    "speakable",
    "split_chunks",
    "Voice",
    "voice_label",
]
