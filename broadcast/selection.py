"""Choose the stories for one bulletin: important, fresh, varied, and fitted to the airtime."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import re
from pathlib import Path
from typing import Any

from broadcast.config import StationConfig
from broadcast.models import VN_TZ, Candidate
from broadcast.numbers import number_words
from broadcast.vitext import decimal

log = logging.getLogger(__name__)

# Seconds between items and for the spoken attribution ("Theo Báo Chính phủ").
ITEM_OVERHEAD_SECONDS = 2.0
# Each further item on an already covered topic / from an already used source
# counts this much less, so the bulletin is not six items on one theme.
TOPIC_REPEAT_FACTOR = 0.7
SOURCE_REPEAT_FACTOR = 0.85
# A story carried by several sources matters more; capped so syndication alone
# cannot outrank relevance.
MULTI_SOURCE_BONUS = 0.15
MULTI_SOURCE_CAP = 1.45
# Freshness falls linearly to this fraction at the edge of the window.
FRESHNESS_FLOOR = 0.4
# A local item counts as at least this relevant (times its feed's weight),
# whatever the scorer makes of it: the commune wrote it to be read.
LOCAL_MIN_SCORE = 2.0
# Staff write local items for the radio: read up to this many characters, not the lead budget.
LOCAL_ITEM_CHARS = 2000

# Abbreviations whose final dot does not end a sentence.
ABBREVIATIONS = {
    "tp", "tt", "tx", "ths", "ts", "pgs", "gs", "bs", "ks", "ls", "kts", "tskh", "nxb", "st",
    "mr", "mrs", "ms", "dr", "pgs.ts", "gs.ts", "ths.bs", "cn", "bsck", "q", "p", "h", "x", "tr", "vd", "v.v", "v/v", "ctcp", "tnhh", "no",
    "đ", "ng", "ttg", "ubnd", "hđnd", "ubmttq", "cp", "qđ", "nq", "nđ", "tw", "sđd", "đc", "tk",
}
_SENT_END = re.compile(r"([.!?…]+)([\"”’)»]*)(\s+)")
_NUMBER_TOKEN = re.compile(r"\d+(?:[.,]\d+)*")
_LETTER_RUN = re.compile(r"[^\W\d_]+")


def _is_abbreviation(word: str) -> bool:
    bare = word.lower().strip(".")
    if not bare:
        return False
    if bare in ABBREVIATIONS:
        return True
    parts = [p for p in bare.split(".") if p]
    # Single letters (initials) and chains of known titles: "V.", "PGS.TS."
    return all(len(p) == 1 and p.isalpha() or p in ABBREVIATIONS for p in parts)


def _next_starts_sentence(text: str) -> bool:
    stripped = text.lstrip("\"“'‘(«[-–— ")
    return bool(stripped) and (stripped[0].isupper() or stripped[0].isdigit())


def split_sentences(text: str) -> list[str]:
    """Split a lead into sentences, keeping 'TP. Hồ Chí Minh', 'PGS.TS.' and '4.5' inside one."""
    text = " ".join(text.split())
    if not text:
        return []
    out: list[str] = []
    start = 0
    for m in _SENT_END.finditer(text):
        end = m.end(2)
        before = text[start:m.start(1)]
        word = re.split(r"[\s(\"“]", before)[-1] if before else ""
        rest = text[m.end():]
        if m.group(1) == "." and not m.group(2):
            if _is_abbreviation(word):
                continue  # "TP. Hà Nội", "PGS.TS. Nguyễn", "Nguyễn V. An"
        if not _next_starts_sentence(rest):
            continue
        out.append(text[start:end].strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def _is_complete(sentence: str) -> bool:
    s = sentence.rstrip("\"”’)» ")
    return s.endswith((".", "!", "?")) and not s.endswith(("...", "…"))


def shorten_lead(summary: str, max_chars: int) -> str:
    """Whole lead sentences up to `max_chars`; never a sentence cut in the middle.

    A first sentence longer than the budget is kept whole (a lead of one long
    sentence is better than none). A trailing fragment the site cut off
    ("... và ...") is dropped when a complete sentence precedes it.
    """
    sentences = split_sentences(summary)
    if not sentences:
        return ""
    if len(sentences) > 1 and not _is_complete(sentences[-1]):
        sentences = sentences[:-1]
    chosen = [sentences[0]]
    length = len(sentences[0])
    for s in sentences[1:]:
        if length + 1 + len(s) > max_chars:
            break
        chosen.append(s)
        length += 1 + len(s)
    return " ".join(chosen)


def _token_syllables(token: str) -> int:
    count = 0
    pos = 0
    for m in _NUMBER_TOKEN.finditer(token):
        count += _letters_syllables(token[pos:m.start()])
        count += _number_syllables(m.group(0))
        pos = m.end()
    count += _letters_syllables(token[pos:])
    return max(count, 1) if any(ch.isalnum() for ch in token) else 0


def _letters_syllables(text: str) -> int:
    n = 0
    for run in _LETTER_RUN.findall(text):
        if run.isupper() and len(run) >= 2:
            n += len(run)  # an acronym is spelled out: UBND = u bê en đê
        else:
            n += 1
    if "%" in text:
        n += 2  # phần trăm
    return n


def _number_syllables(num: str) -> int:
    # 2.600 / 2,600 are thousands; 4,5 / 0.47 read "bốn phẩy năm".
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", num):
        value = int(re.sub(r"[.,]", "", num))
        return len(number_words(value).split()) if value < 10**15 else len(num)
    parts = re.split(r"[.,]", num)
    n = 0
    for i, part in enumerate(parts):
        if i:
            n += 1  # phẩy
        if len(part) > 15:
            n += len(part)
        elif part.startswith("0") and len(part) > 1:
            n += len(part)
        else:
            n += len(number_words(int(part)).split())
    return n


def syllables(text: str) -> int:
    """Spoken syllables of a text: whitespace tokens, with numbers and acronyms expanded."""
    return sum(_token_syllables(tok) for tok in text.split())


def estimate_seconds(text: str, syllables_per_minute: float) -> float:
    """Estimated speaking time: syllables (whitespace tokens, numbers and acronyms expanded) plus pauses."""
    if not text or syllables_per_minute <= 0:
        return 0.0
    syllables_ = syllables(text)
    sentence_pauses = len(re.findall(r"[.!?…]+(?:\s|$)", text))
    comma_pauses = len(re.findall(r"[,;:](?:\s|$)", text))
    return syllables_ * 60.0 / syllables_per_minute + 0.35 * sentence_pauses + 0.15 * comma_pauses


def _freshness(c: Candidate, now: dt.datetime, fresh_hours: float) -> float:
    when = c.published or c.first_seen
    age_h = max(0.0, (now - when).total_seconds() / 3600.0)
    if fresh_hours <= 0:
        return 1.0
    return max(FRESHNESS_FLOOR, 1.0 - (1.0 - FRESHNESS_FLOOR) * min(age_h / fresh_hours, 1.0))


def priority(c: Candidate, feed_weights: dict[str, float], now: dt.datetime, fresh_hours: float) -> float:
    """Relevance x the heaviest feed carrying it x freshness x a bonus for several sources."""
    weight = max((feed_weights.get(f, 1.0) for f in c.feeds), default=1.0)
    bonus = min(1.0 + MULTI_SOURCE_BONUS * max(len(c.sources) - 1, 0), MULTI_SOURCE_CAP)
    score = max(c.score, LOCAL_MIN_SCORE) if c.local else c.score
    return score * weight * _freshness(c, now, fresh_hours) * bonus


def _spoken_text(c: Candidate, summary: str) -> str:
    source = c.sources[0] if c.sources else ""
    parts = [c.title.rstrip(".") + ".", summary]
    if source:
        parts.append(f"Theo {source}.")
    return " ".join(p for p in parts if p)


@functools.lru_cache(maxsize=8)
def _vocabulary(topics_file: str) -> Any:
    from broadcast.relevance import load_vocabulary

    return load_vocabulary(Path(topics_file) if topics_file else None)


def _station_vocabulary(station: StationConfig) -> Any:
    try:
        return _vocabulary(str(station.selection.topics_file or ""))
    except Exception as exc:  # selection still works on raw scores without a vocabulary
        log.warning("no vocabulary for selection (%s)", exc)
        return None




def select(candidates: list[Candidate], station: StationConfig, feed_weights: dict[str, float],
           budget_seconds: float, engine: str = "espeak", min_score: float | None = None,
           *, now: dt.datetime | None = None, labels: dict[str, str] | None = None,
           item_overhead: float = ITEM_OVERHEAD_SECONDS) -> list[Candidate]:
    """Rank every candidate and mark the ones for the bulletin (`selected`), with a reason each.

    Order of the result: the selected stories in reading order (local items
    first), then the rest by priority. Selection is greedy on priority (score x feed weight x
    freshness), discounted for topics and sources already chosen, within
    `max_items` and `per_source_max`, and as close to `budget_seconds` of
    estimated speech as whole stories allow (the last one may run over by
    less than the bulletin would otherwise fall short).
    Pass `now` (the bulletin's moment) to also drop stories older than
    `fresh_hours`; without it freshness is measured from the newest candidate.
    `labels` maps topic ids to the Vietnamese names used in reasons (default:
    the station's vocabulary).
    """
    sel = station.selection
    check_age = now is not None
    if now is None:
        # Store.candidates already kept only fresh stories for the caller's
        # moment; measure freshness from the newest of them, not the wall clock
        # (which is wrong when building for another date).
        times = [c.published or c.first_seen for c in candidates]
        now = max(times) if times else dt.datetime.max.replace(tzinfo=VN_TZ)
    vocab = None
    if min_score is None:
        min_score = sel.min_score
    if min_score is None or labels is None:
        vocab = _station_vocabulary(station)
    if min_score is None:
        min_score = float(getattr(vocab, "threshold", 0.0) or 0.0)
    if labels is None:
        labels = dict(getattr(vocab, "topics", None) or {})
    rate = station.tts.syllables_per_minute.get(engine) or next(
        iter(station.tts.syllables_per_minute.values()), 190.0)
    cutoff = now - dt.timedelta(hours=sel.fresh_hours)

    pool: list[tuple[float, Candidate]] = []
    rest: list[tuple[float, Candidate]] = []
    for cand in candidates:
        c = dataclasses.replace(cand, selected=False)
        c.spoken_summary = shorten_lead(c.summary, max(sel.item_chars, LOCAL_ITEM_CHARS) if c.local
                                        else sel.item_chars)
        p = priority(c, feed_weights, now, sel.fresh_hours)
        when = c.published or c.first_seen
        if (c.score < min_score or c.score <= 0) and not c.local:
            c.reason = (f"ít liên quan đến cải cách hành chính (điểm {decimal(c.score, 2)} "
                        f"< ngưỡng {decimal(min_score)})")
            rest.append((p, c))
        elif check_age and when < cutoff:
            c.reason = f"tin cũ hơn {sel.fresh_hours:g} giờ"
            rest.append((p, c))
        elif max((feed_weights.get(f, 1.0) for f in c.feeds), default=1.0) <= 0:
            c.reason = "nguồn tin có trọng số 0 trong cấu hình"
            rest.append((p, c))
        else:
            pool.append((p, c))
    pool.sort(key=lambda pc: (-pc[0], -(pc[1].published or pc[1].first_seen).timestamp(), pc[1].id))

    chosen: list[Candidate] = []
    events: dict[int, Candidate] = {}  # event id -> the story chosen for it
    used_seconds = 0.0
    per_source: dict[str, int] = {}
    per_topic: dict[str, int] = {}

    def adjusted(pc: tuple[float, Candidate]) -> float:
        p, c = pc
        topic = c.topics[0] if c.topics else ""
        source = c.sources[0] if c.sources else ""
        return (p * TOPIC_REPEAT_FACTOR ** per_topic.get(topic, 0)
                * SOURCE_REPEAT_FACTOR ** per_source.get(source, 0))

    costs: dict[int, tuple[float, str, float]] = {}

    def cost_of(c: Candidate) -> tuple[float, str, float]:
        """(seconds with the lead, first sentence, seconds with the first sentence only)."""
        if id(c) not in costs:
            first = shorten_lead(c.summary, 1)
            costs[id(c)] = (estimate_seconds(_spoken_text(c, c.spoken_summary), rate) + item_overhead, first,
                            estimate_seconds(_spoken_text(c, first), rate) + item_overhead)
        return costs[id(c)]

    remaining = list(pool)
    while remaining and len(chosen) < sel.max_items:
        # The discounts change only when a story is chosen: walk this order
        # until one is, then order the rest again. The commune's own items
        # come first whatever their age: they are read, and read before the news.
        remaining.sort(key=lambda pc: (pc[1].local, adjusted(pc)), reverse=True)
        picked = None
        for pos, (p, c) in enumerate(remaining):
            source = c.sources[0] if c.sources else ""
            if c.event and c.event in events:
                c.reason = f"cùng sự kiện với tin đã chọn: {events[c.event].title}"
                continue
            if source and per_source.get(source, 0) >= sel.per_source_max and not c.local:
                c.reason = f"đã đủ {sel.per_source_max} tin từ {source}"
                continue
            cost, first, short_cost = cost_of(c)
            gap = budget_seconds - used_seconds
            shorter = first != c.spoken_summary
            if cost > gap:
                # The first sentence alone, if that fits; else the story whose
                # reading runs over by less than the bulletin would fall short
                # without it: whole stories make the length, closest wins.
                if shorter and short_cost <= gap:
                    c.spoken_summary, cost = first, short_cost
                elif cost - gap < gap:
                    pass
                elif shorter and short_cost - gap < gap:
                    c.spoken_summary, cost = first, short_cost
                else:
                    c.reason = f"không đủ thời lượng (cần khoảng {cost:.0f} giây, còn {max(gap, 0):.0f} giây)"
                    continue
            picked = pos
            break
        if picked is None:
            break  # nothing left fits: every remaining story has its reason
        p, c = remaining.pop(picked)
        source = c.sources[0] if c.sources else ""
        c.selected = True
        if c.event:
            events[c.event] = c
        used_seconds += cost
        per_source[source] = per_source.get(source, 0) + 1
        for t in c.topics[:1]:
            per_topic[t] = per_topic.get(t, 0) + 1
        # Topic labels contain commas ("Một cửa, một cửa liên thông"): separate with semicolons.
        topic_note = f"; chủ đề: {labels.get(c.topics[0], c.topics[0])}" if c.topics else ""
        many = f"; {len(c.sources)} nguồn đưa tin" if len(c.sources) > 1 else ""
        local = "tin địa phương; " if c.local else ""
        c.reason = f"được chọn: {local}điểm {decimal(c.score, 2)}{topic_note}{many}; khoảng {cost:.0f} giây"
        chosen.append(c)
    for p, c in remaining:
        if len(chosen) >= sel.max_items:
            c.reason = f"đã đủ {sel.max_items} tin cho bản tin"
        rest.append((p, c))

    rest.sort(key=lambda pc: (-pc[0], pc[1].id))
    return chosen + [c for _, c in rest]


def candidate_to_dict(c: Candidate) -> dict[str, Any]:
    """A JSON-ready record of a ranked candidate (for `broadcast items --json`)."""
    return {
        "id": c.id,
        "title": c.title,
        "source": ", ".join(c.sources),
        "sources": list(c.sources),
        "feeds": list(c.feeds),
        "link": c.link,
        "published": c.published.isoformat() if c.published else None,
        "first_seen": c.first_seen.isoformat() if c.first_seen else None,
        "topics": list(c.topics),
        "score": round(c.score, 3),
        "matches": list(c.matches),
        "selected": c.selected,
        "reason": c.reason,
        "spoken_summary": c.spoken_summary,
    }


def total_seconds(chosen: list[Candidate], syllables_per_minute: float,
                  item_overhead: float = ITEM_OVERHEAD_SECONDS) -> float:
    """Estimated airtime of the selected stories as `select` counted it."""
    return sum(estimate_seconds(_spoken_text(c, c.spoken_summary), syllables_per_minute) + item_overhead
               for c in chosen if c.selected)


__all__ = ["select", "estimate_seconds", "shorten_lead", "split_sentences", "priority",
           "candidate_to_dict", "total_seconds"]
