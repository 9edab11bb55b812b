"""What staff use to choose a voice: the list of voices, and a short sample to listen to."""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from broadcast.config import TTSConfig
from broadcast.errors import SpeechError
from broadcast.fsutil import atomic_path
from broadcast.models import SpokenParagraph
from broadcast.speech.base import SpeechRun, create_engine, registered_engines
from broadcast.speech.cache import SpeechCache
from broadcast.speech.pcm import encode_mp3
from broadcast.speech.synth import Synthesizer
from broadcast.speech.vendor import Voice

SAMPLE_MAX_CHARS = 1000  # a sample is a sentence or two, not a bulletin


@dataclass
class EngineVoices:
    """One engine's voices, and why it cannot speak on this machine (None when it can)."""

    engine: str
    voices: list[Voice] = field(default_factory=list)
    unavailable: str | None = None


def list_voices(tts: TTSConfig, engine: str | None = None) -> list[EngineVoices]:
    """The voices of every registered engine, or of `engine` only, for these settings."""
    names = [engine] if engine else registered_engines()
    out: list[EngineVoices] = []
    for name in names:
        eng = create_engine(name, tts)  # SpeechError names the known engines
        lister = getattr(eng, "voices", None)
        try:
            voices = list(lister()) if callable(lister) else []
            reason = eng.unavailable_reason()
        except Exception as exc:  # a third-party engine must not break the listing
            voices, reason = [], f"lỗi khi hỏi bộ đọc ({exc.__class__.__name__}: {exc})"
        out.append(EngineVoices(name, voices, reason))
        closer = getattr(eng, "close", None)
        if callable(closer):
            closer()
    return out


def with_voice(tts: TTSConfig, engine: str, voice: str | None) -> TTSConfig:
    """These settings speaking with `engine` alone, in `voice` when given."""
    engines = dict(tts.engines)
    if voice is not None:
        engines[engine] = dataclasses.replace(tts.settings(engine), voice=voice)
    return dataclasses.replace(tts, engine=engine, chain=[engine], engines=engines)


def say(tts: TTSConfig, engine: str, voice: str | None, text: str, out_mp3: Path,
        cache_dir: Path | None = None, bitrate: str = "128k", lexicon: Path | None = None) -> SpokenParagraph:
    """Speak `text` with one engine and voice into a short MP3 at `out_mp3` (no fallback).

    The text is read as a bulletin would read it: normalised with the shipped
    dictionary plus the station's `lexicon` file when given.
    """
    from broadcast.textnorm import load_lexicon, normalize

    if not text.strip():
        raise SpeechError("Chưa có câu nào để đọc: hãy ghi câu mẫu trong dấu ngoặc kép.")
    if len(text) > SAMPLE_MAX_CHARS:
        raise SpeechError(f"Câu mẫu dài {len(text)} ký tự; hãy dùng câu ngắn hơn {SAMPLE_MAX_CHARS} ký tự.")
    single = with_voice(tts, engine, voice)
    with tempfile.TemporaryDirectory(prefix="broadcast-say-") as tmp:
        cache = SpeechCache(cache_dir or Path(tmp) / "cache")
        synth = Synthesizer(single, cache, run=SpeechRun())
        try:
            spoken = synth.speak([normalize(text, load_lexicon(lexicon))])[0]
        finally:
            synth.close()
        with atomic_path(out_mp3, suffix=".mp3") as dst:
            encode_mp3(spoken.wav, dst, bitrate)
    return dataclasses.replace(spoken, wav=Path(out_mp3))
