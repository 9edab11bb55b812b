"""A small linear text classifier for administrative-reform (CCHC) news, shipped as data.

The model is linear: syllable unigrams and bigrams of the title and the lead
(title ones also counted apart), the vocabulary phrases found in the item and
the vocabulary's points per topic, weighted by TF-IDF with sublinear term
frequency and scaled to unit length; plus a few counts of what the vocabulary
found (its score, points per topic, how many phrases, how many in the title),
taken as they are, outside that scaling, so a long lead does not dilute them.
Its weights are the average of two logistic regressions trained by
tools/train_relevance.py on labelled real news (one of them reads the n-grams
scaled by how much more often each occurs in reform news), stored as plain JSON
(feature -> idf and weight), so scoring needs no machine-learning library, is
deterministic, and can say which words pushed an item up or down.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress, repeat
from operator import attrgetter, ne
from pathlib import Path

from broadcast.errors import ConfigError

MODEL_FILE = Path(__file__).parent / "data" / "relevance_model.json.gz"
FORMAT = "broadcast-relevance-model/1"

# Title words are also counted as title features: "thủ tục" in a headline says
# more about the story than the same words deep in a lead.
_TITLE = "t:"
_PHRASE = "v:"  # a vocabulary phrase found in the item
_TOPIC = "vt:"  # the topic of such a phrase
_COUNT = "d:"  # a count of what the vocabulary found, not scaled with the n-grams
_COUNT_TOPIC = _COUNT + "topic:"
# However sure the model is, it moves the score by at most this many points.
POINTS_CAP = 3.0
SHARES = 8  # features whose share of the log-odds logit() reports, each way
_REAL = attrgetter("real")


_TF_FIX: dict[float, tuple[float, float]] = {}  # value v -> (tf - 1, tf * tf - 1), tf = 1 + ln(v)


def _tf_fix(value: float) -> tuple[float, float]:
    """What a feature of this value adds, per unit of its idf * weight and of its idf², beyond value 1."""
    tf = 1.0 + math.log(value)
    fix = (tf - 1.0, tf * tf - 1.0)
    if len(_TF_FIX) < 1024:  # counts, and the few sums of points a topic takes
        _TF_FIX[value] = fix
    return fix


def _segments(text: str) -> list[list[str]]:
    """Syllables of normalised text in runs that a sentence end or a comma does not cross."""
    # Plain string splits, not a regular expression: split() drops the spaces
    # around each mark, and a run with no syllable adds no n-gram.
    return [words for seg in text.replace(",", "|").split("|") if (words := seg.split())]


def _tally(items: list[str]) -> dict[str, int]:
    """Each item and how often it occurs, in order of first occurrence (as Counter, quicker without repeats)."""
    # A headline rarely repeats an n-gram, and an item's phrases never do.
    once = dict.fromkeys(items, 1)
    return once if len(once) == len(items) else Counter(items)


def _grams(segments: list[list[str]], prefix: str, out: list[str]) -> None:
    """Append the unigrams and bigrams of each run to out."""
    for seg in segments:
        # map() and join run in C, straight into out.
        if prefix:
            out += map(prefix.__add__, seg)
            out += map(prefix.__add__, map(" ".join, zip(seg, seg[1:])))
        else:
            out += seg
            out += map(" ".join, zip(seg, seg[1:]))


def feature_list(title: str, summary: str, phrases: Iterable[tuple[str, str, float]] = (),
                 normalized: bool = False) -> list[str]:
    """Syllable unigrams and bigrams of title and lead, title-only copies, and the vocabulary's phrases."""
    if not normalized:
        from broadcast.relevance import normalize

        title, summary = normalize(title), normalize(summary)
    out: list[str] = []
    head = _segments(title)
    _grams(head + _segments(summary), "", out)
    _grams(head, _TITLE, out)
    # The phrases the vocabulary found are features too, so the model learns
    # which of them mean reform in which company.
    out += [_PHRASE + phrase.lower() for phrase, _, _ in phrases]
    return out


def features(title: str, summary: str, phrases: Iterable[tuple[str, str, float]] = (),
             normalized: bool = False) -> dict[str, float]:
    """Feature -> value: counts of feature_list, and each topic's points from the vocabulary."""
    return _values(title, summary, phrases, normalized)[0]


def _values(title: str, summary: str, phrases: Iterable[tuple[str, str, float]],
            normalized: bool) -> tuple[dict[str, float], list[str]]:
    """The features' values, and the features whose value is not 1."""
    phrases = list(phrases)
    values: dict[str, float] = Counter(feature_list(title, summary, phrases, normalized))
    odd = [f for f, n in values.items() if n > 1]
    for key, total in _topic_points(phrases).items():
        values[key] = total
        if total != 1.0:
            odd.append(key)
    return dict(values), odd


def _topic_points(phrases: list[tuple[str, str, float]]) -> dict[str, float]:
    """Each topic's feature and its points from the phrases found, those with any."""
    # How strongly the vocabulary spoke for each topic (and for the negative
    # and context lists): its points, taken like a count (1 + ln).
    points: dict[str, float] = {}
    for _, topic, weight in phrases:
        points[_TOPIC + topic] = points.get(_TOPIC + topic, 0.0) + abs(weight)
    return {key: total for key, total in points.items() if total}


def counts(found: Iterable[tuple[str, float, int, bool]]) -> dict[str, float]:
    """What the vocabulary found, as counts: its score, points per topic, phrases (and those in the title)."""
    # found: (topic, points, occurrences, in title) of each phrase, as relevance.Match holds them.
    # Positive topic phrases: how many, the strongest, how many and how much in
    # the title, how often repeated. A story built on reform phrases has
    # several of them, headline ones among them; one phrase in passing does not.
    # One plain loop: this runs for every item the vocabulary flagged.
    out: dict[str, float] = {}
    total = strongest = title_points = 0.0
    phrases = title_phrases = mentions = negatives = 0
    for topic, weight, n, in_title in found:
        total += weight
        key = _COUNT_TOPIC + topic
        out[key] = out.get(key, 0.0) + weight
        if weight < 0:
            negatives += 1
        elif weight > 0 and topic != "context":
            phrases += 1
            mentions += n
            if weight > strongest:
                strongest = weight
            if in_title:
                title_phrases += 1
                title_points += weight
    if not out:
        return out
    out[_COUNT + "score"] = max(0.0, total)
    out[_COUNT + "phrases"] = float(phrases)
    out[_COUNT + "strongest"] = strongest
    out[_COUNT + "title_points"] = title_points
    out[_COUNT + "title_phrases"] = float(title_phrases)
    out[_COUNT + "mentions"] = float(mentions)
    out[_COUNT + "negatives"] = float(negatives)
    return {k: v for k, v in out.items() if v}


@dataclass
class TextModel:
    """Feature -> (idf, weight) of a linear classifier; logit = bias + w . tfidf(x)."""

    bias: float
    idf: dict[str, float]
    weights: dict[str, float]
    cutoff: float = 0.0  # logit at which the model neither adds nor takes points
    scale: float = 1.0  # points per unit of log-odds above the cutoff
    meta: dict[str, object] = field(default_factory=dict)
    count_weights: dict[str, float] = field(default_factory=dict)  # weight of each counts() feature

    def points(self, logit: float) -> float:
        """Points the model adds to (or takes from) the vocabulary score, capped."""
        return max(-POINTS_CAP, min(POINTS_CAP, self.scale * (logit - self.cutoff)))

    def __post_init__(self) -> None:
        # idf * weight (for the dot product) and squared idf (for the length
        # of the vector) of every known feature, as one complex number: one
        # lookup and one sum give both.
        self._table = {f: complex(idf * self.weights.get(f, 0.0), idf * idf) for f, idf in self.idf.items()}
        # The title features again under their bare n-gram, so logit() looks
        # the title's n-grams up without building a prefixed copy of each.
        self._title_table = {f[len(_TITLE):]: c for f, c in self._table.items() if f.startswith(_TITLE)}

    def logit(self, title: str, summary: str,
              phrases: Iterable[tuple[str, str, float]] = (),
              normalized: bool = False, found: dict[str, float] | None = None) -> tuple[float, list[tuple[str, float]]]:
        """Log-odds that the item is reform news, and the shares of its strongest features each way.

        found is counts() of the vocabulary's matches (the shipped phrases only); normalized
        says title and summary already came through relevance.normalize().
        """
        # The counts are taken as they are: no TF-IDF, no unit length.
        weights = self.count_weights
        extra = [(f, v * weights[f]) for f, v in found.items() if f in weights] if found else []
        base = self.bias + sum([c for _, c in extra])
        if not normalized:
            from broadcast.relevance import normalize

            title, summary = normalize(title), normalize(summary)
        phrases = list(phrases)
        # The features of _values(), in its order: the n-grams of title and
        # lead, the title's again as title features, the phrases, the topics.
        # Normalised text has no ':', so no n-gram takes a prefixed feature's
        # name and the groups can be counted apart. The title's n-grams are
        # made once and looked up bare in the table of title features.
        head: list[str] = []
        _grams(_segments(title), "", head)
        grams = head.copy()
        _grams(_segments(summary), "", grams)
        ngrams, titled = Counter(grams), _tally(head)
        said = _tally([_PHRASE + phrase.lower() for phrase, _, _ in phrases])
        topics = _topic_points(phrases)
        table = self._table
        # In that order, so the sums (and ties in the explanation) come out the
        # same whatever the hash seed. map() and sum() run in C; unknown
        # features count 0.
        parts = [*map(table.get, ngrams, repeat(0j)), *map(self._title_table.get, titled, repeat(0j)),
                 *map(table.get, said, repeat(0j)), *map(table.get, topics, repeat(0j))]
        values = [*ngrams.values(), *titled.values(), *said.values(), *topics.values()]
        total = sum(parts)
        dot, norm = total.real, total.imag
        # A feature of value v counts 1 + ln(v) times (sublinear term
        # frequency, as in training): the sum took it once, the few others
        # are fixed up here. A known feature's part is never 0 (its idf is
        # not), an unknown one's always is.
        # The few counts an item has (2, 3...) come again and again: their
        # factors are worked out once (the same arithmetic, so the same bits).
        for i in compress(range(len(values)), map(ne, values, repeat(1))):
            part = parts[i]
            if part:
                fix = _TF_FIX.get(values[i]) or _tf_fix(values[i])
                norm += part.imag * fix[1]
                dot += part.real * fix[0]
        if norm <= 0.0:
            return base, [(f, c) for f, c in extra if c]
        norm = math.sqrt(norm)
        # Only the strongest features each way are worth explaining (the
        # first and last SHARES of all of them sorted by contribution, in
        # feature order among equals); only their names are spelled out.
        # Features of weight 0 (and unknown ones) are never explained, so only
        # the others are sorted: the negative ones, then the positive ones,
        # with the zeros' places left out between them.
        contrib = [*map(_REAL, parts)]
        ranked = sorted(compress(range(len(values)), contrib), key=contrib.__getitem__)
        n = len(values)
        if n > 2 * SHARES:
            cut = bisect_left(ranked, 0.0, key=contrib.__getitem__)  # how many are negative
            zeros = n - len(ranked)
            # Where the first SHARES places of the whole sort end, and the last SHARES begin, in ranked.
            end = SHARES if SHARES <= cut else max(cut, SHARES - zeros)
            start = n - SHARES if n - SHARES <= cut else max(cut, n - SHARES - zeros)
            ranked = ranked[:end] + ranked[start:]
        keys = [*ngrams, *titled, *said, *topics]
        first, after = len(ngrams), len(ngrams) + len(titled)  # the title features' places
        # A feature seen once counts 1 + ln(1) = 1 times: no logarithm to take.
        shares = [(_TITLE + keys[i] if first <= i < after else keys[i],
                   (contrib[i] if values[i] == 1 else contrib[i] * (1.0 + math.log(values[i]))) / norm)
                  for i in ranked]
        return base + dot / norm, shares + [(f, c) for f, c in extra if c]

    def fingerprint(self) -> str:
        """A stable hash of the model, to know when stored scores are stale."""
        return str(self.meta.get("sha1") or "")


def display(feature: str) -> str:
    """A feature as staff would read it: title features keep a 'tiêu đề' note; '' for a topic or a count."""
    if feature.startswith((_TOPIC, _COUNT)):
        return ""
    if feature.startswith(_PHRASE):
        return feature[len(_PHRASE):]
    if feature.startswith(_TITLE):
        return f"{feature[len(_TITLE):]} (tiêu đề)"
    return feature


def save_model(model: TextModel, path: Path) -> None:
    """Write the model as compact, sorted, gzip'd JSON (byte-identical for identical models)."""
    body = {
        "format": FORMAT,
        "bias": round(model.bias, 6),
        "cutoff": round(model.cutoff, 6),
        "scale": round(model.scale, 6),
        "meta": {k: v for k, v in model.meta.items() if k != "sha1"},  # sha1 is of the file itself
        "features": [[f, round(model.idf[f], 6), round(model.weights.get(f, 0.0), 6)]
                     for f in sorted(model.idf)],
    }
    if model.count_weights:
        body["counts"] = [[f, round(w, 6)] for f, w in sorted(model.count_weights.items())]
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    from broadcast.fsutil import atomic_write_bytes

    # mtime=0 keeps the file byte-identical across training runs.
    atomic_write_bytes(Path(path), gzip.compress(raw, compresslevel=9, mtime=0))


def load_model(path: Path | None = None) -> TextModel:
    """Read a model file (default: the one shipped in the package)."""
    return _load(str(path or MODEL_FILE))


@lru_cache(maxsize=4)
def _load(path: str) -> TextModel:
    try:
        raw = Path(path).read_bytes()
        body = json.loads(gzip.decompress(raw).decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Không tìm thấy tệp mô hình phân loại tin {path}; hãy cài lại gói broadcast.") from None
    except (OSError, EOFError, ValueError) as exc:
        raise ConfigError(f"Tệp mô hình phân loại tin {path} bị hỏng ({exc}); hãy cài lại gói broadcast.") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise ConfigError(f"Tệp mô hình phân loại tin {path} không đúng định dạng; hãy cài lại gói broadcast.")
    idf: dict[str, float] = {}
    weights: dict[str, float] = {}
    for feat, f_idf, w in body["features"]:
        idf[feat] = float(f_idf)
        if w:
            weights[feat] = float(w)
    count_weights = {str(f): float(w) for f, w in body.get("counts", [])}
    meta = dict(body.get("meta") or {})
    meta["sha1"] = hashlib.sha1(raw).hexdigest()
    return TextModel(bias=float(body["bias"]), idf=idf, weights=weights,
                     cutoff=float(body.get("cutoff", 0.0)), scale=float(body.get("scale", 1.0)), meta=meta,
                     count_weights=count_weights)
