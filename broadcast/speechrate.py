"""Learn how fast each voice really speaks, so a bulletin is filled to its target length.

Every paragraph newly spoken into the speech cache adds its syllables and its
measured duration to a small JSON file kept beside the cache
(`speaking-rates.json`). The length estimate then uses the measured rate of
the voice instead of a fixed guess.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from pathlib import Path
from typing import Iterable

from broadcast.config import StationConfig, TTSConfig
from broadcast.errors import BroadcastError
from broadcast.fsutil import atomic_write_text
from broadcast.models import SpokenParagraph

log = logging.getLogger(__name__)

RATES_FILE = "speaking-rates.json"
# Trust a measured rate after this many syllables (a dozen paragraphs).
MIN_SYLLABLES = 300
# Past this, older measurements count half, so a changed voice is learned again.
DECAY_AT = 20_000
RATE_RANGE = (60.0, 400.0)


def voice_key(engine: str, tts: TTSConfig) -> str:
    """The settings that change how fast `engine` speaks."""
    if engine == "espeak":
        detail = f"{tts.espeak_voice}:{tts.espeak_rate}"
    elif engine == "gtts":
        detail = tts.gtts_tld
    elif engine == "command":
        detail = f"{' '.join(tts.command)}:{tts.command_voice}"
    else:
        detail = ""
    return f"{engine}:{detail}:{tts.speed:g}"


def _pauses(text: str) -> float:
    # The same pauses estimate_seconds adds, so that the learned rate is its rate.
    return 0.35 * len(re.findall(r"[.!?…]+(?:\s|$)", text)) + 0.15 * len(re.findall(r"[,;:](?:\s|$)", text))


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record(cache_root: Path, tts: TTSConfig, spoken: Iterable[SpokenParagraph]) -> None:
    """Add the newly synthesized paragraphs (not cache hits) to the measured rates."""
    from broadcast.selection import syllables

    fresh: dict[str, list[float]] = {}
    engines: dict[str, int] = {}
    for sp in spoken:
        if sp.engine == "silence" or sp.duration <= 0:
            continue
        engines[sp.engine] = engines.get(sp.engine, 0) + 1
        if sp.cached:
            continue  # counted when it was made
        n = syllables(sp.text)
        seconds = sp.duration - _pauses(sp.text)
        if n <= 0 or seconds <= 0:
            continue
        acc = fresh.setdefault(voice_key(sp.engine, tts), [0.0, 0.0])
        acc[0] += n
        acc[1] += seconds
    if not fresh and not engines:
        return
    path = Path(cache_root) / RATES_FILE
    data = _read(path)
    voices = data.get("voices") if isinstance(data.get("voices"), dict) else {}
    for key, (n, seconds) in fresh.items():
        old = voices.get(key) if isinstance(voices.get(key), dict) else {}
        total_n = float(old.get("syllables", 0)) + n
        total_s = float(old.get("seconds", 0)) + seconds
        if total_n > DECAY_AT:
            total_n, total_s = total_n / 2, total_s / 2
        voices[key] = {"syllables": round(total_n, 1), "seconds": round(total_s, 3),
                       "syllables_per_minute": round(60.0 * total_n / total_s, 1)}
    data["voices"] = voices
    if engines:
        # Which engine of the chain really spoke the last bulletin (gTTS may be unreachable).
        chains = data.get("last_engine") if isinstance(data.get("last_engine"), dict) else {}
        chains[",".join(tts.resolved_chain())] = max(engines, key=engines.get)
        data["last_engine"] = chains
    try:
        atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    except (OSError, BroadcastError) as exc:
        log.warning("could not save speaking rates in %s: %s", path, exc)  # never fails a bulletin


def learned_rate(cache_root: Path, tts: TTSConfig) -> float | None:
    """Measured syllables per minute of the voice that speaks for these settings; None until known."""
    data = _read(Path(cache_root) / RATES_FILE)
    chain = tts.resolved_chain()
    last = (data.get("last_engine") or {}).get(",".join(chain)) if isinstance(data.get("last_engine"), dict) else None
    engine = last if last in chain else chain[0]
    entry = (data.get("voices") or {}).get(voice_key(engine, tts)) if isinstance(data.get("voices"), dict) else None
    if not isinstance(entry, dict):
        return None
    try:
        n, seconds = float(entry["syllables"]), float(entry["seconds"])
    except (KeyError, TypeError, ValueError):
        return None
    if n < MIN_SYLLABLES or seconds <= 0:
        return None
    lo, hi = RATE_RANGE
    return min(max(60.0 * n / seconds, lo), hi)


def with_learned_rate(station: StationConfig, cache_root: Path) -> StationConfig:
    """The station with its first engine's speaking rate replaced by the measured one, when known."""
    rate = learned_rate(cache_root, station.tts)
    if rate is None:
        return station
    rates = dict(station.tts.syllables_per_minute)
    rates[station.tts.resolved_chain()[0]] = rate
    return dataclasses.replace(station, tts=dataclasses.replace(station.tts, syllables_per_minute=rates))
