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
# Same event, different writers (see same_event): least shared wording, least total evidence.
EVENT_MIN_OVERLAP = 0.12
EVENT_MIN_SCORE = 6.0
# A name in more than this share of the stories (the province's own name) tells nothing.
COMMON_NAME_SHARE = 0.2
COMMON_NAME_MIN_STORIES = 30


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


# Dates in the forms Vietnamese news writes them, all read as day/month:
# "ngày 1 tháng 10 năm 2025", "1/10/2025", "01/10", and "từ 1-10" (a dash
# between day and month is the usual short form, not a range of numbers).
_DATE_WORDS = re.compile(r"\bngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})(?:\s+năm\s+(\d{4}))?", re.I)
_DATE_DIGITS = re.compile(r"(?<![\d/.,-])(\d{1,2})[/-](\d{1,2})(?:[/-](\d{4}))?(?![\d/-]|[.,]\d)")
_MONTH_YEAR = re.compile(r"\btháng\s+(\d{1,2})(?:\s*/\s*|\s+năm\s+)(\d{4})\b", re.I)
# Document numbers: "2150/QĐ-UBND", "40/2026/NQ-CP", "06/CT-TTg".
_DOC_NUMBER = re.compile(r"\b(\d{1,5}(?:/\d{4})?/[A-ZĐ][A-Za-zĐđ0-9]*(?:-[A-Za-zĐđ0-9]+)*)")
# Words after a number that do not say what it counts: time spans ("8 tháng
# đầu năm" is in every statistics story) and linking words.
_NOT_COUNTED = {"tháng", "năm", "ngày", "giờ", "phút", "tuần", "quý", "và", "hoặc", "đạt", "vừa", "là",
                "của", "so", "với", "đến", "tới", "trong", "tại", "ở", "từ", "đã", "được", "có"}
_QUANTITY = re.compile(r"(?<![\d/.,-])(\d{1,3}(?:[.,]\d{3})+|\d+)(?![\d/-]|[.,]\d)\s+([^\W\d_]+)")
# Words that open a sentence with a capital without being part of the name after them.
_OPENERS = {"theo", "sáng", "chiều", "tối", "trưa", "đêm", "ngày", "hôm", "trong", "tại", "với", "từ", "để",
            "khi", "sau", "trước", "nhằm", "ông", "bà", "anh", "chị", "các", "những", "đến", "qua", "cùng",
            "do", "vì", "nhờ", "đồng", "lãnh", "đại", "hiện", "năm", "tháng", "thời", "tới", "về", "ở", "đó"}
_UPPER = "".join(ch for ch in map(chr, range(0x41, 0x1F00)) if ch.isupper() and ch.isalpha())
_NAME_RUN = re.compile(rf"(?<!\w)[{_UPPER}]\w*(?:[ \t]+[{_UPPER}]\w*)+")
_ACRONYM = re.compile(rf"(?<!\w)\w*[{_UPPER}]\w*[{_UPPER}]\w*")
# A capital right after these (or at the start) may only start a sentence.
_SENTENCE_MARKS = set(".!?:;\"“”(…\n–—-")


def _date_key(day: str, month: str) -> str | None:
    d, m = int(day), int(month)
    return f"{d}/{m}" if 1 <= d <= 31 and 1 <= m <= 12 else None


def _numbers(text: str) -> frozenset[str]:
    """Numbers of a text, written one way: dates as day/month (year apart), no thousands separators."""
    out: set[str] = set()

    def date(m: re.Match[str]) -> str:
        key = _date_key(m.group(1), m.group(2))
        if key is None:
            return m.group(0)
        out.add(key)
        if m.group(3):
            out.add(m.group(3))
        return " "

    def month_year(m: re.Match[str]) -> str:
        out.add(f"tháng {int(m.group(1))}")
        out.add(m.group(2))
        return " "

    text = _DATE_WORDS.sub(date, text)
    text = _MONTH_YEAR.sub(month_year, text)
    text = _DATE_DIGITS.sub(date, text)
    # "25 triệu", "1,1 tỷ": an amount with its magnitude is one figure, "tỉ" and "tỷ", "ngàn" and "nghìn" alike.
    out.update(f"{m.group(1).replace('.', ',')} {_MAGNITUDES[m.group(2).lower()]}" for m in _MAGNITUDE.finditer(text))
    out.update(re.sub(r"[.,](?=\d{3}\b)", "", n).lstrip("0") or "0" for n in _NUMBER.findall(text))
    return frozenset(out)


_MAGNITUDES = {"nghìn": "nghìn", "ngàn": "nghìn", "triệu": "triệu", "tỷ": "tỷ", "tỉ": "tỷ"}
_MAGNITUDE = re.compile(r"(?<![\d.,])(\d{1,3}(?:[.,]\d{1,3})?)\s+(nghìn|ngàn|triệu|tỷ|tỉ)\b", re.I)


def _quantities(text: str) -> frozenset[str]:
    """Counts with what they count: "6 dự" (án luật), "9 bậc", "1247 thủ" (tục)."""
    out = set()
    for m in _QUANTITY.finditer(text):
        value = int(re.sub(r"[.,]", "", m.group(1)))
        word = m.group(2).lower()
        if 2 <= value and not 1900 <= value <= 2100 and word not in _NOT_COUNTED:
            out.add(f"{value} {word}")
    return frozenset(out)


def _is_specific(number: str) -> bool:
    """A number that names one fact (1.247 procedures, 2150/QĐ, 25 triệu), unlike a year, a date,
    a small count or a round amount ("10 triệu")."""
    if "/" in number or number.startswith("tháng"):
        return False
    if " " in number:  # an amount with its magnitude: two significant digits make it a figure
        return len(re.sub(r"\D", "", number.split()[0]).strip("0")) >= 2
    digits = re.sub(r"\D", "", number)
    if len(digits) == 4 and 1900 <= int(digits) <= 2100 and digits == number:
        return False
    return len(digits) >= 3 or "," in number or "." in number


def entities(text: str) -> frozenset[str]:
    """Names and acronyms in a text, lower-cased: "sở nội", "đắk lắk", "nguyễn văn hùng", "ubnd".

    Capitalised syllables in a row are a name; a word with two capitals or
    more is an acronym. A usual sentence opener ("Theo", "Sáng", "Ông") is not
    part of the name after it.
    """
    found = {m.group(0).lower() for m in _ACRONYM.finditer(text)}
    for m in _NAME_RUN.finditer(text):
        tokens = m.group(0).split()
        if tokens[0].lower() in _OPENERS:
            before = text[:m.start()].rstrip()
            if not before or before[-1] in _SENTENCE_MARKS:
                tokens = tokens[1:]
        if len(tokens) >= 2:
            found.add(" ".join(tokens).lower())
    return frozenset(found)


@dataclass(frozen=True)
class Fingerprint:
    """What repeat detection compares: title bigrams, lead trigrams, numbers, names and key words."""

    title: frozenset[int]
    lead: frozenset[int]
    title_words: int
    lead_words: int
    numbers: frozenset[str]  # in the title
    probe: frozenset[int]  # the shingles an index files the story under
    all_numbers: frozenset[str] = frozenset()  # in the title and lead
    documents: frozenset[str] = frozenset()  # document numbers: "2150/qđ-ubnd"
    names: frozenset[str] = frozenset()  # names and acronyms in the title and lead
    terms: frozenset[int] = frozenset()  # word pairs of the title and lead
    quantities: frozenset[str] = frozenset()  # a count and what it counts: "6 dự", "30 xã"
    text: str = ""  # the title and lead as space-joined lower-case words, to look names up


def fingerprint(title: str, summary: str) -> Fingerprint:
    """Fingerprint a story from its title and the first part of its lead."""
    tw = words(title)
    lw = words(summary)[:60]
    title_sh = _shingles(tw, 2)
    probe = title_sh | _shingles(lw[:PROBE_LEAD_SHINGLES + 2], 3)
    lead_text = " ".join(summary.split()[:60])
    both = f"{title}\n{lead_text}"
    tokens = tw + lw
    title_numbers = _numbers(title)
    return Fingerprint(
        title_sh, _shingles(lw, 3), len(tw), len(lw), title_numbers, probe,
        all_numbers=title_numbers | _numbers(lead_text),
        documents=frozenset(d.lower() for d in _DOC_NUMBER.findall(both)),
        names=entities(title) | entities(lead_text),
        terms=_shingles([t for t in tokens if not t.isdigit()], 2),
        text=" " + " ".join(tokens) + " ",
        quantities=_quantities(both),
    )


def _numbers_conflict(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a and b and not (a <= b or b <= a))


# Names that are the backdrop of a story, never its subject: the country, its
# currency, and the acronyms of kinds of bodies ("UBND", "CTCP") rather than of one body.
BACKDROP_NAMES = frozenset({"việt nam", "vn", "usd", "vnd", "vnđ", "tp", "tw", "ubnd", "hđnd", "ctcp", "tnhh"})
_ROMAN = re.compile(r"(?=[ivx])x{0,3}(?:ix|iv|v?i{0,3})")


def _names_conflict(a: Fingerprint, b: Fingerprint, common: frozenset[str] = frozenset()) -> bool:
    """Each story names someone or something the other never mentions: a template about two subjects.

    "Bổ nhiệm Phó Giám đốc Sở Nội vụ" and "... Sở Tư pháp" share every word
    but the body they are about. A copy that adds a name the other lacks is
    still a copy, so it takes a name missing on both sides. The backdrop
    ("Việt Nam", a name in many stories) tells no subject apart, and a Roman
    numeral ("quý III") differs only from another numeral ("quý II").
    """
    def only(x: Fingerprint, y: Fingerprint) -> list[str]:
        return [n for n in x.names - y.names
                if f" {n} " not in y.text and n not in BACKDROP_NAMES and n not in common]

    only_a, only_b = only(a, b), only(b, a)
    roman_a = [n for n in only_a if _ROMAN.fullmatch(n)]
    roman_b = [n for n in only_b if _ROMAN.fullmatch(n)]
    if roman_a and roman_b:
        return True
    return bool(set(only_a) - set(roman_a) and set(only_b) - set(roman_b))


def _jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def same_story(a: Fingerprint, b: Fingerprint) -> bool:
    """True when two items report one story (syndicated with a reworded title or lead)."""
    # Series titles differ only in their numbers ("Lãi suất hôm nay 24/9" vs "25/9").
    if _numbers_conflict(a.numbers, b.numbers):
        return False
    if _numbers_conflict(a.documents, b.documents) or _names_conflict(a, b):
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


def _event_keys(fp: Fingerprint) -> set[str]:
    """What an index files a story under for event lookups: its facts and names."""
    keys = {f"d:{d}" for d in fp.documents}
    keys |= {f"n:{n}" for n in fp.all_numbers if _is_specific(n)}
    keys |= {f"q:{q}" for q in fp.quantities}
    keys |= {f"e:{n}" for n in fp.names}
    return keys


def event_score(a: Fingerprint, b: Fingerprint, common: frozenset[str] = frozenset()) -> float:
    """How strongly two stories look like one event reported by two writers; 0 when they cannot be.

    Two outlets rarely share wording, but they share the facts: a document
    number, a specific figure ("1.247 thủ tục", "6 dự án luật"), the date, and
    the names of who and where. It takes at least one such fact and a shared
    name that is not in every story (`common`); stories that each name someone
    the other does not are about different subjects.
    """
    if _numbers_conflict(a.documents, b.documents) or _names_conflict(a, b, common):
        return 0.0
    shared = a.all_numbers & b.all_numbers
    docs = len(a.documents & b.documents)
    specific = sum(1 for n in shared if _is_specific(n)) + len(a.quantities & b.quantities)
    dates = sum(1 for n in shared if "/" in n)
    evidence = 3 * docs + 2 * min(specific, 2) + min(dates, 1)
    names = len((a.names & b.names) - common)
    if not evidence or not names or not a.terms or not b.terms:
        return 0.0
    overlap = len(a.terms & b.terms) / min(len(a.terms), len(b.terms))
    if overlap < EVENT_MIN_OVERLAP:
        return 0.0
    return evidence + min(names, 3) + 4 * overlap


def same_event(a: Fingerprint, b: Fingerprint, common: frozenset[str] = frozenset()) -> bool:
    """True when two stories written independently report one event (see event_score)."""
    return event_score(a, b, common) >= EVENT_MIN_SCORE


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

    events: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, story_id: int, fp: Fingerprint, when: dt.datetime | None = None) -> None:
        """Remember a story under its shingles and its facts."""
        if story_id in self.entries:
            return
        self.entries[story_id] = _Entry(fp, when)
        for sh in fp.probe:
            self.postings[sh].append(story_id)
        for key in _event_keys(fp):
            self.events[key].append(story_id)

    def _common_names(self, names: frozenset[str]) -> frozenset[str]:
        n = len(self.entries)
        if n < COMMON_NAME_MIN_STORIES:
            return frozenset()
        return frozenset(x for x in names if len(self.events.get(f"e:{x}", ())) > COMMON_NAME_SHARE * n)

    def find_event(self, fp: Fingerprint, when: dt.datetime | None = None,
                   exclude: int | None = None) -> int | None:
        """The id of a stored story reporting the same event as `fp` (written by another hand), or None."""
        counts: Counter[int] = Counter()
        for key in _event_keys(fp):
            ids = self.events.get(key)
            if ids and len(ids) <= STOP_POSTINGS:
                counts.update(ids)
        common = self._common_names(fp.names)
        compared = 0
        for sid, _ in counts.most_common():
            if sid == exclude:
                continue
            entry = self.entries[sid]
            if when and entry.when and abs(when - entry.when) > self.window:
                continue
            if same_event(fp, entry.fp, common):
                return sid
            compared += 1
            if compared >= MAX_COMPARE:
                break
        return None

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
