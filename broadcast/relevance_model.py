"""A small linear text classifier for administrative-reform (CCHC) news, shipped as data.

The model is logistic regression over syllable unigrams and bigrams of the
title and the lead, weighted by TF-IDF. It is trained by
tools/train_relevance.py on labelled real news and stored as plain JSON
(feature -> idf and weight), so scoring needs no machine-learning library, is
deterministic, and can say which words pushed an item up or down.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from broadcast.errors import ConfigError

MODEL_FILE = Path(__file__).parent / "data" / "relevance_model.json.gz"
FORMAT = "broadcast-relevance-model/1"

# Title words are also counted as title features: "thủ tục" in a headline says
# more about the story than the same words deep in a lead.
_TITLE = "t:"
# However sure the model is, it moves the score by at most this many points.
POINTS_CAP = 3.0
_SEGMENT_RE = re.compile(r" ?[|,] ?")


def _segments(text: str) -> list[list[str]]:
    """Syllables of text in runs that a sentence end or a comma does not cross."""
    from broadcast.relevance import normalize

    return [seg.split() for seg in _SEGMENT_RE.split(normalize(text)) if seg]


def _grams(segments: list[list[str]], prefix: str, out: list[str]) -> None:
    """Append the unigrams and bigrams of each run to out."""
    for seg in segments:
        if prefix:
            out += [prefix + w for w in seg]
            out += [f"{prefix}{a} {b}" for a, b in zip(seg, seg[1:])]
        else:
            out += seg
            out += [f"{a} {b}" for a, b in zip(seg, seg[1:])]


def feature_list(title: str, summary: str) -> list[str]:
    """Syllable unigrams and bigrams of title and lead, then title-only copies."""
    out: list[str] = []
    head = _segments(title)
    _grams(head + _segments(summary), "", out)
    _grams(head, _TITLE, out)
    return out


def features(title: str, summary: str) -> dict[str, float]:
    """Counts of syllable unigrams and bigrams in title and lead, plus title-only copies."""
    return {f: float(n) for f, n in Counter(feature_list(title, summary)).items()}


@dataclass
class TextModel:
    """Feature -> (idf, weight) of a linear classifier; logit = bias + w . tfidf(x)."""

    bias: float
    idf: dict[str, float]
    weights: dict[str, float]
    cutoff: float = 0.0  # logit at which the model neither adds nor takes points
    scale: float = 1.0  # points per unit of log-odds above the cutoff
    meta: dict[str, object] = field(default_factory=dict)

    def points(self, logit: float) -> float:
        """Points the model adds to (or takes from) the vocabulary score, capped."""
        return max(-POINTS_CAP, min(POINTS_CAP, self.scale * (logit - self.cutoff)))

    def __post_init__(self) -> None:
        # One lookup per feature: idf and weight together.
        self._table = {f: (idf, self.weights.get(f, 0.0)) for f, idf in self.idf.items()}

    def logit(self, title: str, summary: str) -> tuple[float, list[tuple[str, float]]]:
        """Log-odds that the item is reform news, and each known feature's share of it."""
        table = self._table
        known: list[tuple[str, float, float]] = []
        norm = dot = 0.0
        log = math.log
        for feat, n in Counter(feature_list(title, summary)).items():
            entry = table.get(feat)
            if entry is None:
                continue
            v = entry[0] if n == 1 else (1.0 + log(n)) * entry[0]
            norm += v * v
            if entry[1]:
                dot += entry[1] * v
                known.append((feat, v, entry[1]))
        if not norm:
            return self.bias, []
        norm = math.sqrt(norm)
        return self.bias + dot / norm, [(feat, w * v / norm) for feat, v, w in known]

    def fingerprint(self) -> str:
        """A stable hash of the model, to know when stored scores are stale."""
        return str(self.meta.get("sha1") or "")


def display(feature: str) -> str:
    """A feature as staff would read it: title features keep a 'tiêu đề' note."""
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
    meta = dict(body.get("meta") or {})
    meta["sha1"] = hashlib.sha1(raw).hexdigest()
    return TextModel(bias=float(body["bias"]), idf=idf, weights=weights,
                     cutoff=float(body.get("cutoff", 0.0)), scale=float(body.get("scale", 1.0)), meta=meta)
