"""Recognise the same story: by guid or link, and when several sites syndicate it with small edits."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from broadcast.models import FeedItem

# Query parameters that track the reader, not the article.
TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|zarsrc|zalo.*|ref|source|cmpid|_ga|mc_.*)$", re.I)
_WORD = re.compile(r"\w+", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,/]\d+)*")
# How far apart two reports of one story can be published.
DEFAULT_WINDOW = dt.timedelta(days=3)
# A shingle shared by this many stories says nothing about any one of them.
STOP_POSTINGS = 100
# Lead shingles used to find candidates (all of the fingerprint is compared).
PROBE_LEAD_SHINGLES = 24
# Candidates compared in full per lookup, most shared shingles first.
MAX_COMPARE = 12


def normalize_link(url: str) -> str:
    """Comparable form of an article URL: no scheme, 'www.', tracking query, fragment or trailing slash."""
    url = (url or "").strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.lower()
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    if host.startswith("m.") and host.count(".") >= 2:  # mobile mirror of the same page
        host = host[2:]
    path = re.sub(r"/{2,}", "/", parts.path).rstrip("/")
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not TRACKING.match(k)))
    return urlunsplit(("", host, path, query, "")).lstrip("/")


def item_keys(item: FeedItem) -> list[str]:
    """Identity keys of an item: its normalised link, and its guid (scoped to its feed unless it is a URL)."""
    keys: list[str] = []
    link = normalize_link(item.link)
    if link:
        keys.append("link:" + link)
    guid = (item.guid or "").strip()
    if guid:
        if re.match(r"^https?://", guid, re.I):
            key = "link:" + normalize_link(guid)
        else:
            key = f"guid:{item.feed}:{guid}"
        if key not in keys:
            keys.append(key)
    if not keys:
        digest = hashlib.sha1(f"{item.feed}\n{item.title}".encode("utf-8")).hexdigest()
        keys.append("title:" + digest)
    return keys


def words(text: str) -> list[str]:
    """Lower-case NFC words, diacritics kept (they carry meaning in Vietnamese)."""
    return _WORD.findall(unicodedata.normalize("NFC", text).lower())


def _shingles(tokens: list[str], n: int) -> frozenset[int]:
    if len(tokens) < n:
        return frozenset([hash(tuple(tokens))]) if tokens else frozenset()
    return frozenset(map(hash, zip(*(tokens[i:] for i in range(n)))))


def _numbers(text: str) -> frozenset[str]:
    return frozenset(re.sub(r"[.,](?=\d{3}\b)", "", n) for n in _NUMBER.findall(text))


@dataclass(frozen=True)
class Fingerprint:
    """What near-duplicate detection compares: title bigrams, lead trigrams, numbers in the title."""

    title: frozenset[int]
    lead: frozenset[int]
    title_words: int
    lead_words: int
    numbers: frozenset[str]
    probe: frozenset[int]  # the shingles an index files the story under


def fingerprint(title: str, summary: str) -> Fingerprint:
    """Fingerprint a story from its title and the first part of its lead."""
    tw = words(title)
    lw = words(summary)[:60]
    title_sh = _shingles(tw, 2)
    probe = title_sh | _shingles(lw[:PROBE_LEAD_SHINGLES + 2], 3)
    return Fingerprint(title_sh, _shingles(lw, 3), len(tw), len(lw), _numbers(title), probe)


def _jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def same_story(a: Fingerprint, b: Fingerprint) -> bool:
    """True when two items report one story (syndicated with a reworded title or lead)."""
    # Series titles differ only in their numbers ("Lãi suất hôm nay 24/9" vs "25/9").
    if a.numbers and b.numbers and not (a.numbers <= b.numbers or b.numbers <= a.numbers):
        return False
    title_sim = _jaccard(a.title, b.title)
    leads = a.lead_words >= 8 and b.lead_words >= 8
    lead_sim = _jaccard(a.lead, b.lead) if leads else 0.0
    short = min(a.title_words, b.title_words) < 5
    if title_sim >= 0.6 and not short:
        return True
    if title_sim >= 0.85:
        return True
    if leads and title_sim >= 0.3 and lead_sim >= 0.3:
        return True
    return leads and min(a.lead_words, b.lead_words) >= 15 and lead_sim >= 0.6


@dataclass
class _Entry:
    fp: Fingerprint
    when: dt.datetime | None


@dataclass
class NearDuplicateIndex:
    """Find an earlier story that a new item repeats, without comparing against every story."""

    window: dt.timedelta = DEFAULT_WINDOW
    entries: dict[int, _Entry] = field(default_factory=dict)
    postings: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, story_id: int, fp: Fingerprint, when: dt.datetime | None = None) -> None:
        """Remember a story under its shingles."""
        if story_id in self.entries:
            return
        self.entries[story_id] = _Entry(fp, when)
        for sh in fp.probe:
            self.postings[sh].append(story_id)

    def find(self, fp: Fingerprint, when: dt.datetime | None = None) -> int | None:
        """The id of a stored story that `fp` repeats, or None."""
        counts: Counter[int] = Counter()
        for sh in fp.probe:
            ids = self.postings.get(sh)
            if ids and len(ids) <= STOP_POSTINGS:
                counts.update(ids)
        # Most shared shingles first; a handful of full comparisons is enough.
        compared = 0
        for sid, _ in counts.most_common():
            entry = self.entries[sid]
            if when and entry.when and abs(when - entry.when) > self.window:
                continue
            if same_story(fp, entry.fp):
                return sid
            compared += 1
            if compared >= MAX_COMPARE:
                break
        return None
