"""Relevance of a news item to administrative reform (CCHC): score, topics, explanation.

The vocabulary (broadcast/data/topics.toml, optionally extended by a station's
own file) maps phrases to topics and weights. Title and lead are normalised
once (lower-case NFC, one tone placement, punctuation as spaces, words one
space apart); all phrases and their comma-less forms go into one trie of
words that is walked from each word of that text, so a match is a
vocabulary key as it stands, whole words only.

For items with a phrase, a small classifier trained on labelled real news
(broadcast.relevance_model, shipped as data) then adds or takes points,
reading the same normalised text and the phrases found, so one generic phrase
("chuyển đổi số", "sáp nhập") in a story about a company, a scam or another
country does not pass alone. Items that are not in Vietnamese are never read:
they score 0 and say why.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from itertools import compress
from operator import itemgetter, not_
from pathlib import Path
from typing import Any

from broadcast.config import read_toml
from broadcast.errors import ConfigError
from broadcast.relevance_model import counts, display, load_model
from broadcast.vitext import decimal

log = logging.getLogger(__name__)

DEFAULT_TOPICS_FILE = Path(__file__).parent / "data" / "topics.toml"

# Phrase kinds that are not topics: they never appear in Relevance.topics.
CONTEXT = "context"
NEGATIVE = "negative"
NEUTRAL = "neutral"
MODEL = "model"  # the classifier's points
LANGUAGE = "language"  # an item rejected for its language
_RESERVED = {CONTEXT, NEGATIVE, NEUTRAL, MODEL, LANGUAGE}

_TOPIC_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")  # fullmatch: "$" lets a final newline through
_MAX_WEIGHT = 5.0
# An unaccented Vietnamese phrase of one or two syllables collides with too
# many other words ("cong vu", "mot cua"); three syllables are specific enough.
_PLAIN_MIN_WORDS = 3


@dataclass(frozen=True)
class Match:
    """A vocabulary phrase found in an item and the points it added."""

    phrase: str  # as written in the vocabulary file
    topic: str  # topic id, or "context" / "negative"
    weight: float  # points added to the score (negative lowers it)
    count: int = 1  # occurrences in title and summary together
    in_title: bool = False
    note: str = ""  # the classifier's strongest words, or the language found

    def __str__(self) -> str:
        if self.topic == LANGUAGE:
            return f"không đọc: {self.phrase} ({self.note})"
        if self.topic == MODEL:
            return f"{self.phrase} ({_signed(self.weight)}{'; ' + self.note if self.note else ''})"
        where = ", tiêu đề" if self.in_title else ""
        times = f", {self.count} lần" if self.count > 1 else ""
        return f"{self.phrase} ({_signed(self.weight)}{where}{times})"


@dataclass
class Relevance:
    """How relevant one item is: total score, topic ids strongest first, matched phrases."""

    score: float
    topics: list[str] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)
    language: str = "vi"  # "vi", or the language that got the item rejected
    reject_reason: str = ""  # Vietnamese, empty when the item was scored
    model_points: float = 0.0  # the classifier's share of score (already in matches)


@dataclass(frozen=True)
class _Phrase:
    text: str  # display form, as written in the file
    topic: str
    weight: float
    station: bool = False  # from a station's own file: the classifier never takes its points


@dataclass
class Vocabulary:
    """Topics, weighted phrases and scoring settings, compiled for fast matching."""

    threshold: float
    topics: dict[str, str]  # topic id -> Vietnamese display label
    title_factor: float = 1.5
    repeat_decay: float = 0.5
    topic_cap: float = 3.0
    min_topic_score: float = 0.3
    topic_caps: dict[str, float] = field(default_factory=dict)
    context_cap: float = 0.3
    negative_cap: float = 2.0  # magnitude: negatives take off at most this much
    files: list[Path] = field(default_factory=list)
    phrases: dict[str, _Phrase] = field(default_factory=dict, repr=False)  # normalised -> phrase
    # Last word of a phrase -> next words that make a compound with it, so the
    # phrase does not match there ("tài chính công" in "Bộ Tài chính công bố").
    compounds: dict[str, set[str]] = field(default_factory=dict, repr=False)
    _table: dict[str, _Phrase] = field(default_factory=dict, repr=False)
    _plain: dict[str, _Phrase] = field(default_factory=dict, repr=False)
    _trie: dict[str | None, Any] = field(default_factory=dict, repr=False)  # see _build_trie
    _plain_trie: dict[str | None, Any] = field(default_factory=dict, repr=False)
    # The trained classifier (relevance_model.TextModel) or None for phrases only.
    model: Any = field(default=None, repr=False)
    model_id: str = ""  # the model file's hash, so stored scores go stale with it

    def label(self, topic: str) -> str:
        """Vietnamese label of a topic id (the id itself when unknown)."""
        return self.topics.get(topic, topic)

    def fingerprint(self) -> str:
        """A stable hash of everything that affects scores, to know when stored scores are stale."""
        parts = [f"{k}={getattr(self, k)!r}" for k in (
            "threshold", "title_factor", "repeat_decay", "topic_cap", "min_topic_score",
            "context_cap", "negative_cap")]
        parts += [f"cap\t{t}\t{c!r}" for t, c in sorted(self.topic_caps.items())]
        parts += [f"topic\t{t}\t{label}" for t, label in sorted(self.topics.items())]
        parts += [f"phrase\t{k}\t{p.text}\t{p.topic}\t{p.weight!r}{chr(9) + 'station' if p.station else ''}"
                  for k, p in sorted(self.phrases.items())]
        parts += [f"compound\t{w}\t{' '.join(sorted(fs))}" for w, fs in sorted(self.compounds.items())]
        parts.append(f"model\t{self.model_id if self.model is not None else ''}")
        return hashlib.sha1("\n".join(parts).encode("utf-8")).hexdigest()

    def compile(self) -> None:
        """Build the matching tries; call after changing phrases."""
        table: dict[str, _Phrase] = {}
        for key, ph in self.phrases.items():
            table[key] = ph
            # News often drops the comma: "kỷ luật kỷ cương".
            table.setdefault(key.replace(" ,", ""), ph)
        plain: dict[str, _Phrase] = {}
        for key, ph in table.items():
            bare = _strip_accents(key)
            acronym = ph.text.isupper() and " " not in ph.text  # "ĐVHC" is typed "DVHC"
            if bare == key or acronym or len(bare.replace(" ,", "").split()) >= _PLAIN_MIN_WORDS:
                # On a clash keep the stronger meaning; both forms are rare.
                old = plain.get(bare)
                if old is None or abs(ph.weight) > abs(old.weight):
                    plain[bare] = ph
        self._table = table
        self._plain = plain
        self._trie = _build_trie(table, self.compounds)
        bare_compounds = {_strip_accents(w): {_strip_accents(f) for f in fs} for w, fs in self.compounds.items()}
        self._plain_trie = _build_trie(plain, bare_compounds)

    def find(self, text: str) -> list[_Phrase]:
        """Phrases in text, longest wins; phrases inside a longer match are dropped."""
        return self.find_normalized(normalize(text))

    def find_normalized(self, low: str) -> list[_Phrase]:
        """Phrases in text already passed through normalize()."""
        if not low:
            return []
        trie = self._plain_trie if _looks_unaccented(low) else self._trie
        words = low.split(" ")  # normalised: one space between words, none at the ends
        last = len(words)
        found: list[_Phrase] = []
        reach = 0
        # Each word reports the longest phrase that starts there; a phrase
        # ending inside an earlier one is contained in it (starts increase).
        for start, word in enumerate(words):
            node = trie.get(word)
            if node is None:
                continue
            longest = None
            at = start + 1
            while True:
                end = node.get(None)
                # A phrase may end here unless the next word turns its last
                # word into a compound ("công" + "bố").
                if end is not None and (at == last or words[at] not in end[1]):
                    longest, stop = end[0], at
                if at == last:
                    break
                node = node.get(words[at])
                if node is None:
                    break
                at += 1
            if longest is not None and stop > reach:
                reach = stop
                found.append(longest)
        return found


def load_vocabulary(extra: Path | None = None, model: bool = True) -> Vocabulary:
    """Load the shipped topics.toml, the station's extra file on top, and the shipped classifier."""
    vocab = Vocabulary(threshold=1.0, topics={})
    if model:
        vocab.model = load_model()
        vocab.model_id = vocab.model.fingerprint()
    _apply(vocab, _read_toml(DEFAULT_TOPICS_FILE), DEFAULT_TOPICS_FILE, base=True)
    vocab.files.append(DEFAULT_TOPICS_FILE)
    if extra is not None:
        path = Path(extra)
        _apply(vocab, _read_toml(path), path, base=False)
        vocab.files.append(path)
    vocab.compile()
    log.debug("vocabulary: %d phrases, %d topics from %s", len(vocab.phrases), len(vocab.topics),
              ", ".join(str(f) for f in vocab.files))
    return vocab


def score(title: str, summary: str, vocab: Vocabulary) -> Relevance:
    """Score one item: phrases (title counts more, repeats saturate, negatives subtract) plus the classifier."""
    language = detect_language(title, summary)
    if language != "vi":
        name = LANGUAGE_NAMES.get(language, LANGUAGE_NAMES["other"])
        reason = f"tin không viết bằng tiếng Việt ({name})"
        return Relevance(score=0.0, matches=[Match("tin không viết bằng tiếng Việt", LANGUAGE, 0.0, note=name)],
                         language=language, reject_reason=reason)
    factors: dict[str, list[float]] = {}
    order: list[_Phrase] = []
    in_title: set[str] = set()
    # Normalised once: the phrases and the classifier read the same text.
    head, lead = normalize(title), normalize(summary)
    for text, factor, is_title in ((head, vocab.title_factor, True), (lead, 1.0, False)):
        for ph in vocab.find_normalized(text):
            if ph.topic == NEUTRAL:
                continue
            if ph.text not in factors:
                factors[ph.text] = []
                order.append(ph)
            factors[ph.text].append(factor)
            if is_title:
                in_title.add(ph.text)

    raw: dict[str, float] = {}
    for ph in order:
        fs = sorted(factors[ph.text], reverse=True)
        raw[ph.text] = sum(ph.weight * f * vocab.repeat_decay ** k for k, f in enumerate(fs))

    by_topic: dict[str, float] = {}
    for ph in order:
        by_topic[ph.topic] = by_topic.get(ph.topic, 0.0) + raw[ph.text]
    # Cap each group so one topic repeated ten ways cannot swamp the rest, and
    # scale its phrases alike so the explanation still adds up.
    scale: dict[str, float] = {}
    for topic, total in by_topic.items():
        if topic == CONTEXT:
            cap = vocab.context_cap
        elif topic == NEGATIVE:
            cap = vocab.negative_cap
        else:
            cap = vocab.topic_caps.get(topic, vocab.topic_cap)
        scale[topic] = cap / abs(total) if total and abs(total) > cap else 1.0
        by_topic[topic] = total * scale[topic]

    matches = [
        Match(ph.text, ph.topic, round(raw[ph.text] * scale[ph.topic], 3), len(factors[ph.text]),
              ph.text in in_title)
        for ph in order
    ]
    matches.sort(key=lambda m: (-abs(m.weight), m.phrase))
    ranked = sorted(((v, t) for t, v in by_topic.items() if t not in _RESERVED and v > 0),
                    key=lambda p: (-p[0], p[1]))
    topics = [t for v, t in ranked if v >= vocab.min_topic_score]
    if not topics and ranked:
        topics = [ranked[0][1]]
    total = max(0.0, sum(by_topic.values()))
    points = 0.0
    # The classifier weighs items the phrases flagged; most news has no reform
    # phrase at all and is not worth its time (it is 3-4x slower than the phrases).
    if vocab.model is not None and any(m.weight > 0 for m in matches):
        station = {ph.text for ph in order if ph.station}
        logit, parts = vocab.model.logit(head, lead, model_phrases(matches, station), normalized=True,
                                         found=model_counts(matches, station))
        points = round(vocab.model.points(logit), 3)
        # The model was trained on the shipped topics: it may take away what
        # those phrases gave, never a station's own phrases (nor below 0).
        own = sum(raw[ph.text] * scale[ph.topic] for ph in order if ph.station and ph.weight > 0) if station else 0
        points = max(points, -round(max(0.0, total - own), 3))
        if points:
            matches.append(Match(MODEL_PHRASE, MODEL, points, note=_model_note(parts, points)))
    return Relevance(score=round(max(0.0, total + points), 3), topics=topics, matches=matches,
                     model_points=points)


MODEL_PHRASE = "mô hình phân loại"
_NOTE_WORDS = 3


def model_phrases(matches: list[Match], station: Collection[str] = ()) -> list[tuple[str, str, float]]:
    """The shipped phrases found in an item, with their topics and points, as the classifier's features."""
    # A station's own phrases are unknown to the model, which was trained on the shipped file.
    return [(m.phrase, m.topic, m.weight) for m in matches if m.phrase not in station]


def model_counts(matches: list[Match], station: Collection[str] = ()) -> dict[str, float]:
    """What the shipped phrases found in an item, as the classifier's count features."""
    if station:
        matches = [m for m in matches if m.phrase not in station]
    return counts([(m.topic, m.weight, m.count, m.in_title) for m in matches])


def _model_note(parts: list[tuple[str, float]], points: float) -> str:
    """The few words that pushed the classifier most in the direction of its verdict."""
    up = points > 0
    # The 4 * _NOTE_WORDS strongest shares in the verdict's direction. A share
    # the other way would be passed over anyway, and it sorts after all of
    # those, so it is left out before sorting what is left (stable, as
    # heapq.nlargest/nsmallest are).
    ahead = [p for p in parts if p[1] > 0] if up else [p for p in parts if not p[1] > 0]
    ahead.sort(key=itemgetter(1), reverse=up)
    words: list[str] = []
    bares: list[str] = []  # each word without its title mark
    for feat, _ in ahead[:4 * _NOTE_WORDS]:
        shown = display(feat)
        if not shown:
            continue  # a topic feature is no word to show; the phrases are listed anyway
        bare = shown.replace(" (tiêu đề)", "")
        if any(bare in w or b in bare for w, b in zip(words, bares)):
            continue  # "thủ tục" after "thủ tục hành" says nothing new
        words.append(shown)
        bares.append(bare)
        if len(words) == _NOTE_WORDS:
            break
    if not words:
        return ""
    return ("nhờ: " if up else "vì: ") + ", ".join(f"“{w}”" for w in words)


# --- language --------------------------------------------------------------

LANGUAGE_NAMES = {"en": "tiếng Anh", "other": "ngôn ngữ khác"}
# Letters of the Vietnamese alphabet outside ASCII. Vietnamese has one in about
# every second syllable; English naming "Đắk Lắk" or French "é" far fewer.
_VI_LETTERS = frozenset(
    "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ")
_WORD_RE = re.compile(r"[^\W\d_]+")
_VI_LETTER_RE = re.compile("[" + "".join(sorted(_VI_LETTERS | {c.upper() for c in _VI_LETTERS})) + "]")
_FOREIGN_RE = re.compile(r"[^\W\d_\u0000-\u024f\u1e00-\u1eff]+")
_EN_WORDS = frozenset(
    "the of and to in is are was were for on with as by at from that this it its be has have had will "
    "an or not but after over says said new who which their they he she we you".split())
# Frequent Vietnamese syllables as typed without diacritics.
_VI_PLAIN = frozenset(
    "va cua cac nguoi duoc trong cho khong mot nhung voi tai thu tuc hanh chinh xa phuong dan cong tinh "
    "nam ngay da se la co tu den theo nay khi ve tren ra lam nha nuoc can bo so hoa viec".split())
_MIN_WORDS = 5
_MIN_LETTERS = 12
_LANGUAGE_PREFIX = 160  # characters


def detect_language(title: str, summary: str = "") -> str:
    """'vi' for Vietnamese (with or without diacritics), 'en' for English, else 'other'; short text counts as 'vi'."""
    text = f"{title} {summary}"
    need = (text.count(" ") + 1) * 0.25
    # The usual case, decided by one C-level scan, most often of the first
    # part alone: a count there that reaches the bar, the whole text's does.
    marked = len(_VI_LETTER_RE.findall(text, 0, _LANGUAGE_PREFIX))
    if marked < need:
        marked = len(_VI_LETTER_RE.findall(text))
    if marked and marked >= need:
        return "vi"
    text = unicodedata.normalize("NFC", text).lower()
    words = _WORD_RE.findall(text)
    letters = sum(len(w) for w in words)
    if letters < _MIN_LETTERS:
        return "vi"  # too little to tell: a headline of a few words is not rejected
    # Chinese, Khmer, Lao, Thai...: mostly letters outside the Latin blocks.
    if sum(len(x) for x in _FOREIGN_RE.findall(text)) > letters // 2:
        return "other"
    if len(words) < _MIN_WORDS:
        return "vi"
    en = sum(1 for w in words if w in _EN_WORDS)
    vi = sum(1 for w in words if w in _VI_PLAIN)
    # Otherwise Latin text without English words: Vietnamese typed without
    # diacritics, or too little to tell; it is read rather than lost.
    return "en" if en > vi else "vi"


def explain(rel: Relevance, vocab: Vocabulary) -> str:
    """One Vietnamese line: score against threshold, phrases that scored, topics."""
    if rel.reject_reason:
        return f"Điểm 0 · không đọc: {rel.reject_reason}"
    verdict = "đạt ngưỡng" if rel.score >= vocab.threshold else "dưới ngưỡng, chỉ lưu, không phát"
    head = f"Điểm {_two(rel.score)} (ngưỡng {_two(vocab.threshold)}, {verdict})"
    plus = [str(m) for m in rel.matches if m.weight > 0 and m.topic not in (CONTEXT, MODEL)]
    ctx = [str(m) for m in rel.matches if m.topic == CONTEXT and m.weight > 0]
    minus = [str(m) for m in rel.matches if m.weight < 0 and m.topic != MODEL]
    model = [str(m) for m in rel.matches if m.topic == MODEL]
    parts = [head]
    none = "không có cụm từ nào về cải cách hành chính"
    parts.append("cụm từ: " + ("; ".join(plus) if plus else none))
    if ctx:
        parts.append("bối cảnh: " + "; ".join(ctx))
    if minus:
        parts.append("trừ điểm: " + "; ".join(minus))
    if model:
        parts.append("; ".join(model))
    if rel.topics:
        parts.append("chủ đề: " + "; ".join(vocab.label(t) for t in rel.topics))
    return " · ".join(parts)


def match_labels(rel: Relevance) -> list[str]:
    """Matches as short strings, e.g. for storing with a candidate."""
    return [str(m) for m in rel.matches]


# --- normalisation -------------------------------------------------------

# Old-style tone placement ("hoà", "uỷ") -> the form most Vietnamese news uses
# ("hòa", "ủy"), only at the end of a syllable where both spellings occur.
_TONE_MOVES = {}
for _pair, _marks in (("oa", "àáảãạ"), ("oe", "èéẻẽẹ"), ("uy", "ỳýỷỹỵ")):
    _first = _pair[0]
    for _mark in _marks:
        _tone = unicodedata.normalize("NFD", _mark)[1:]
        _TONE_MOVES[_first + _mark] = unicodedata.normalize("NFC", _first + _tone) + _pair[1]
# Starting with a plain character class lets the engine skip ahead to each
# "o"/"u"; the "qu" of "quý" is left alone in _tone_move.
_TONE_RE = re.compile(r"[ou][" + "".join(sorted({k[1] for k in _TONE_MOVES})) + r"](?!\w)")


def _tone_move(m: re.Match[str]) -> str:
    pair = m.group(0)
    start = m.start()
    if start and m.string[start - 1] == "q":
        return pair
    return _TONE_MOVES.get(pair, pair)

# A sentence end (a run of [.!?;:…] before a space or the end of the text) or
# a run of line breaks becomes a barrier no phrase can cross. The pattern
# starts with one character class so the engine jumps from candidate to
# candidate; two alternatives at its top made it try both at every character.
_BREAK_RE = re.compile(r"[.!?;:…\r\n](?:(?<=[\r\n])[\r\n]*|[.!?;:…]*(?=\s|$))")
# The tokens kept: words, the "|" barriers, and one "," per run of commas (a
# comma stays as a token: only phrases written with a comma, "kỷ luật, kỷ
# cương", may span one, so "1,3 tỷ USD tài sản, Công ty" is not "tài sản
# công"). Everything else is a gap between tokens; findall() does what a
# pass per kind of punctuation and a split() did. No token spans whitespace,
# so it only needs to read the chunks between spaces that are not already one
# word (str.isalnum() is the \w of re, less "_"): most chunks are.
_TOKEN_RE = re.compile(r"\w+|,(?!,)|\|")


def normalize(text: str) -> str:
    """Lower-case NFC text, one tone placement, punctuation as spaces; '|' ends a sentence, ',' stays."""
    if not text:
        return ""
    s = unicodedata.normalize("NFC", text).lower().replace("|", " ")
    s = _TONE_RE.sub(_tone_move, s)
    chunks = _BREAK_RE.sub(" | ", s).split()
    # map() and compress() pick the few chunks with punctuation in C.
    for i in compress(range(len(chunks)), map(not_, map(str.isalnum, chunks))):
        chunks[i] = " ".join(_TOKEN_RE.findall(chunks[i]))  # "" for a chunk of punctuation only
    return " ".join(filter(None, chunks))


def _strip_accents(text: str) -> str:
    """Drop Vietnamese diacritics: 'đ' becomes 'd', 'ườ' becomes 'uo'."""
    s = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in s if not unicodedata.combining(c))


def _looks_unaccented(text: str) -> bool:
    """True for Vietnamese typed without diacritics (or any ASCII-only text)."""
    # Accented Vietnamese has a marked letter in about every third letter, each
    # one or two bytes longer in UTF-8 than an ASCII letter.
    n = len(text)
    return n >= 12 and len(text.encode("utf-8")) - n <= n * 0.03


# --- phrase trie -------------------------------------------------------------

def _build_trie(table: dict[str, _Phrase], compounds: dict[str, set[str]]) -> dict[str | None, Any]:
    """Word -> node for the words of every key; a node's None entry: (phrase ending there, words that block it)."""
    # Keys are normalize()d like the text they are looked for in, so their
    # words are the text's words as they stand.
    trie: dict[str | None, Any] = {}
    for key, ph in table.items():
        node = trie
        for word in key.split(" "):
            node = node.setdefault(word, {})
        node[None] = (ph, frozenset(compounds.get(key.rsplit(" ", 1)[-1], ())))
    return trie


# --- loading -----------------------------------------------------------------

def _read_toml(path: Path) -> dict[str, Any]:
    """Parse a vocabulary file; every failure names the file (and line) in Vietnamese."""
    if not path.exists():
        raise ConfigError(f"Không tìm thấy tệp từ khóa {path}: hãy kiểm tra đường dẫn topics_file "
                          "trong cấu hình.")
    return read_toml(path, "tệp từ khóa",
                     hint=f"; hãy kiểm tra dấu ngoặc kép, dấu '=' và tên bảng [...] "
                          f"(xem mẫu {DEFAULT_TOPICS_FILE})")


_TOP_KEYS = {"threshold", "scoring", "topics", "context", "negative", "neutral"}
_SCORING_KEYS = {"title_factor", "repeat_decay", "topic_cap", "min_topic_score"}


def _apply(vocab: Vocabulary, data: dict[str, Any], path: Path, base: bool) -> None:
    """Merge one parsed file into vocab: later files add phrases or change weights."""
    def fail(where: str, msg: str) -> ConfigError:
        return ConfigError(f"{path}: {where}: {msg}")

    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise fail(f"khóa '{unknown[0]}'", "không hợp lệ; các khóa dùng được: "
                   + ", ".join(sorted(_TOP_KEYS)))
    if "threshold" in data:
        vocab.threshold = _number(data["threshold"], lambda m: fail("khóa 'threshold'", m), low=0.0)
    scoring = _table(data.get("scoring", {}), lambda m: fail("bảng [scoring]", m))
    for key, value in scoring.items():
        if key not in _SCORING_KEYS:
            raise fail(f"khóa 'scoring.{key}'", "không hợp lệ; các khóa dùng được: "
                       + ", ".join(sorted(_SCORING_KEYS)))
        err = lambda m, k=key: fail(f"khóa 'scoring.{k}'", m)  # noqa: E731
        if key == "repeat_decay":
            vocab.repeat_decay = _number(value, err, low=0.0, high=1.0)
        elif key == "title_factor":
            vocab.title_factor = _number(value, err, low=0.1, high=10.0)
        elif key == "topic_cap":
            vocab.topic_cap = _number(value, err, low=0.1)
        else:
            vocab.min_topic_score = _number(value, err, low=0.0)

    seen: dict[str, str] = {}  # normalised phrase -> section, within this file

    def put(phrase: Any, topic: str, weight: float, section: str) -> None:
        if not isinstance(phrase, str):
            raise fail(section, f"cụm từ {phrase!r} phải là chuỗi trong ngoặc kép")
        key = normalize(phrase)
        if not key.replace(",", "").strip() or "|" in key:
            raise fail(f"{section}, cụm từ \"{phrase}\"", "cụm từ rỗng hoặc chứa dấu kết thúc câu")
        if key in seen and seen[key] != section:
            raise fail(f"cụm từ \"{phrase}\"", f"khai báo hai lần, ở {seen[key]} và {section}; "
                       "mỗi cụm từ chỉ thuộc một chủ đề")
        seen[key] = section
        if weight == 0 and topic != NEUTRAL:
            vocab.phrases.pop(key, None)  # a station turns a shipped phrase off
            return
        vocab.phrases[key] = _Phrase(phrase.strip(), topic, weight, station=not base)

    topics = _table(data.get("topics", {}), lambda m: fail("bảng [topics]", m))
    for tid, spec in topics.items():
        where = f"[topics.{tid}]"
        if not _TOPIC_ID.fullmatch(tid) or tid in _RESERVED:
            raise fail(where, "mã chủ đề chỉ gồm chữ thường không dấu, số và '_' (ví dụ tthc, "
                       f"mot_cua), không dùng {', '.join(sorted(_RESERVED))}")
        spec = _table(spec, lambda m: fail(where, m))
        extra_keys = sorted(set(spec) - {"label", "phrases", "cap"})
        if extra_keys:
            raise fail(where, f"khóa '{extra_keys[0]}' không hợp lệ; dùng label, phrases, cap")
        if "label" in spec:
            if not isinstance(spec["label"], str) or not spec["label"].strip():
                raise fail(f"{where} label",
                           "cần tên chủ đề tiếng Việt, ví dụ label = \"Thủ tục hành chính\"")
            vocab.topics[tid] = spec["label"].strip()
        elif tid not in vocab.topics:
            raise fail(where, "chủ đề mới cần có label, ví dụ label = \"Nông thôn mới\"")
        if "cap" in spec:
            vocab.topic_caps[tid] = _number(spec["cap"], lambda m: fail(f"{where} cap", m), low=0.1)
        phrases = _table(spec.get("phrases", {}), lambda m: fail(f"[topics.{tid}.phrases]", m))
        for phrase, w in phrases.items():
            sect = f"[topics.{tid}.phrases]"
            weight = _number(w, lambda m: fail(f"{sect} \"{phrase}\"", m), low=0.0, high=_MAX_WEIGHT,
                             hint="trọng số của chủ đề từ 0 đến 5 "
                                  "(cụm từ trừ điểm đặt trong [negative])")
            put(phrase, tid, weight, sect)

    for section, low, high, hint in (
        (CONTEXT, 0.0, 1.0, "trọng số bối cảnh từ 0 đến 1"),
        (NEGATIVE, -_MAX_WEIGHT, 0.0,
         "trọng số trừ điểm là số âm, từ -5 đến 0, ví dụ \"cổ phiếu\" = -0.8"),
    ):
        spec = _table(data.get(section, {}), lambda m: fail(f"bảng [{section}]", m))
        extra_keys = sorted(set(spec) - {"phrases", "cap"})
        if extra_keys:
            raise fail(f"[{section}]", f"khóa '{extra_keys[0]}' không hợp lệ; dùng phrases, cap")
        if "cap" in spec:
            cap = abs(_number(spec["cap"], lambda m: fail(f"[{section}] cap", m)))
            if section == CONTEXT:
                vocab.context_cap = cap
            else:
                vocab.negative_cap = cap
        phrases = _table(spec.get("phrases", {}), lambda m: fail(f"[{section}.phrases]", m))
        for phrase, w in phrases.items():
            sect = f"[{section}.phrases]"
            weight = _number(w, lambda m: fail(f"{sect} \"{phrase}\"", m), low=low, high=high, hint=hint)
            put(phrase, section, weight, sect)

    neutral = _table(data.get(NEUTRAL, {}), lambda m: fail("bảng [neutral]", m))
    extra_keys = sorted(set(neutral) - {"phrases", "compounds"})
    if extra_keys:
        raise fail("[neutral]", f"khóa '{extra_keys[0]}' không hợp lệ; dùng phrases, compounds")
    items = neutral.get("phrases", [])
    if not isinstance(items, list):
        raise fail("[neutral] phrases",
                   "cần một danh sách chuỗi, ví dụ phrases = [\"khu đô thị thông minh\"]")
    for phrase in items:
        put(phrase, NEUTRAL, 0.0, "[neutral]")
    compounds = _table(neutral.get("compounds", {}), lambda m: fail("[neutral.compounds]", m))
    for word, followers in compounds.items():
        where = f"[neutral.compounds] \"{word}\""
        key = normalize(word)
        if not key or " " in key or not isinstance(followers, list) \
                or not all(isinstance(f, str) and normalize(f) and " " not in normalize(f) for f in followers):
            raise fail(where, "cần một từ (một tiếng) và danh sách các tiếng ghép sau nó, "
                       "ví dụ \"công\" = [\"bố\", \"ty\"]")
        vocab.compounds.setdefault(key, set()).update(normalize(f) for f in followers)

    for tid in vocab.topics:
        if base and not any(p.topic == tid for p in vocab.phrases.values()):
            log.warning("%s: chủ đề '%s' chưa có cụm từ nào", path, tid)


def _table(value: Any, fail: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail("cần một bảng TOML (dạng [tên] hoặc khóa = giá trị)")
    return value


def _number(value: Any, fail: Any, low: float | None = None, high: float | None = None,
            hint: str = "") -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and (low is None or value >= low) and (high is None or value <= high):
        return float(value)
    if not hint:
        if low is not None and high is not None:
            hint = f"cần một số từ {_two(low)} đến {_two(high)}"
        elif low is not None:
            hint = f"cần một số không nhỏ hơn {_two(low)}"
        else:
            hint = "cần một số"
    raise fail(f"giá trị {value!r} không hợp lệ: {hint}")


def _two(x: float) -> str:
    return decimal(x, 2)


def _signed(x: float) -> str:
    return ("+" if x >= 0 else "−") + _two(abs(x))


__all__ = ["Match", "Relevance", "Vocabulary", "load_vocabulary", "score", "explain", "match_labels",
           "normalize", "detect_language", "DEFAULT_TOPICS_FILE"]
