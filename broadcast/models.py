"""Data passed between pipeline stages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

# Vietnam has had no daylight saving time since 1975: a fixed offset is exact
# and needs no tz database on the station's machine.
VN_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")


@dataclass
class FeedItem:
    """One cleaned entry from a feed, before dedupe and scoring."""

    feed: str  # feed name from the config
    source: str  # spoken source name, e.g. "Báo Chính phủ"
    title: str
    summary: str  # plain text: HTML stripped, entities decoded, NFC
    link: str
    guid: str
    published: dt.datetime | None  # timezone-aware; None when the feed gave no usable date
    damage: int = 0  # bytes the feed's encoding could not decode (now gone from the text)
    local: bool = False  # written by the province or commune: always read, credited to `source`


@dataclass
class Candidate:
    """A stored story offered to a bulletin, with its relevance."""

    id: int
    title: str
    summary: str
    link: str
    sources: list[str]
    feeds: list[str]
    published: dt.datetime | None
    first_seen: dt.datetime
    score: float
    topics: list[str]
    matches: list[str] = field(default_factory=list)
    selected: bool = False
    reason: str = ""  # why it was or was not selected
    spoken_summary: str = ""  # the lead shortened for radio
    local: bool = False  # a local item: read whatever its relevance score
    event: int = 0  # stories reporting the same event share this id (the first story's)


@dataclass
class Segment:
    """One section of a bulletin script."""

    kind: str  # greeting | item | standing | notice | closing
    text: str  # written Vietnamese as staff read and edit it
    title: str = ""
    sources: list[str] = field(default_factory=list)
    link: str = ""
    item_id: int | None = None

    def paragraphs(self) -> list[str]:
        """Paragraphs of the text; speech is cached per paragraph."""
        return [p.strip() for p in self.text.split("\n\n") if p.strip()]


@dataclass
class SpokenParagraph:
    """Speech for one paragraph: a WAV file, which engine and voice spoke it, whether it came from the cache."""

    text: str  # the speakable text that was synthesized
    wav: Path
    engine: str
    cached: bool
    duration: float
    warnings: list[str] = field(default_factory=list)
    voice: str = ""  # the engine's voice, e.g. "banmai" or "vi_VN-vais1000-medium"
