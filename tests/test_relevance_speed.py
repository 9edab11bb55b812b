"""Relevance scoring's quick paths give exactly what plain ones give, on real labelled news.

detect_language() counts Vietnamese letters in the first part of an item
first; the reference counts them in the whole item. normalize() runs one
sentence-end pass and one findall(); the reference runs a pass per kind of
punctuation and splits. Phrases are found by walking a trie of words; the
reference tries every run of words from each word, the longest first.
TextModel.logit() counts the title's n-grams apart and sums parts held as
complex numbers; the reference builds features() (what the trainer reads)
and sums plain TF-IDF terms. The explanation note sorts the shares in the
verdict's direction; the reference takes heapq's pick over all of them.

tests/data/relevance_scores_sample.tsv holds, for every 31st labelled item of
the training months (main file before 2026-05, then the extra files), the
score, the classifier's points and the `items --explain` line as the plain
scorer of commit 09c3906 gave them; run this file with Python to write it
again after the model or the vocabulary changes on purpose.
"""

from __future__ import annotations

import csv
import gzip
import heapq
import io
import math
import random
import re
import sys
import unicodedata
from operator import itemgetter
from pathlib import Path

import pytest

from broadcast import relevance
from broadcast.relevance import explain, load_vocabulary, model_counts, model_phrases, normalize, score
from broadcast.relevance_model import TextModel, display, features

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "relevance_scores_sample.tsv"
TEST_FROM = "2026-05"  # later months of the main file are the test split
EVERY = 31


def _labelled(path: Path) -> list[dict[str, str]]:
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))


def _training_items() -> list[dict[str, str]]:
    """Every 31st labelled item of the training months, September 2025 never among them."""
    rows = [r for path in [DATA / "relevance_news.tsv.gz", *sorted(DATA.glob("relevance_news_*.tsv.gz"))]
            for r in _labelled(path) if r["date"][:7] < TEST_FROM and not r["date"].startswith("2025-09")]
    return rows[::EVERY]


@pytest.fixture(scope="module")
def full():
    return load_vocabulary()


@pytest.fixture(scope="module")
def items() -> list[dict[str, str]]:
    return _training_items()


# --- language --------------------------------------------------------------------

def _plain_language(title: str, summary: str) -> str:
    """Vietnamese when its marked letters in the whole item reach a quarter of the words, else the full check."""
    text = f"{title} {summary}"
    marked = len(relevance._VI_LETTER_RE.findall(text))
    if marked and marked >= (text.count(" ") + 1) * 0.25:
        return "vi"
    return relevance.detect_language(title, summary)


def test_language_equals_counting_the_whole_item(items):
    pairs = [(r["title"], r["summary"]) for r in items]
    # Long items whose Vietnamese letters come late, early or hardly at all.
    words = "the of and to for news cải cách hành chính thủ tục Đắk Lắk café xa phuong va cua".split()
    rng = random.Random(11)
    for _ in range(5000):
        text = " ".join(rng.choice(words[:6] if rng.random() < 0.5 else words) for _ in range(rng.randrange(80)))
        cut = rng.randrange(len(text) + 1)
        pairs.append((text[:cut], text[cut:]))
    langs = [relevance.detect_language(t, s) for t, s in pairs]
    assert {"vi", "en"} <= set(langs)
    assert langs == [_plain_language(t, s) for t, s in pairs]


# --- normalisation -------------------------------------------------------------

def _plain_normalize(text: str) -> str:
    """normalize() as a pass per kind of punctuation, then a split on whitespace."""
    if not text:
        return ""
    s = unicodedata.normalize("NFC", text).lower().replace("|", " ")
    s = relevance._TONE_RE.sub(relevance._tone_move, s)  # the tone table is not what is tested here
    s = re.sub(r"[.!?;:…]+(?=\s|$)|[\r\n]+", " | ", s)
    s = re.sub(r",+", " , ", s)
    s = re.sub(r"[^\w\s|,]+", " ", s)
    return " ".join(s.split())


def test_normalize_equals_a_pass_per_kind_of_punctuation(items):
    texts = [t for r in items for t in (r["title"], r["summary"])]
    # Odd strings too: runs of marks, marks before letters or at the end,
    # line breaks, Unicode spaces, combining marks, a literal "|".
    alphabet = [*"aăđoòuỷy qQ", *".!?;:…,,|\r\n\t \u00a0\u2003\u00ad_-–“”'()/%0123", "\u0301", "\u0323"]
    rng = random.Random(7)
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(30))) for _ in range(20_000)]
    assert [normalize(t) for t in texts] == [_plain_normalize(t) for t in texts]


# --- phrases -------------------------------------------------------------------

def _plain_find(vocab, low: str) -> list:
    """Phrases in normalised text: at each word the longest run of words that is a key, unless a compound."""
    if not low:
        return []
    if relevance._looks_unaccented(low):
        table = vocab._plain
        compounds = {relevance._strip_accents(w): {relevance._strip_accents(f) for f in fs}
                     for w, fs in vocab.compounds.items()}
    else:
        table, compounds = vocab._table, vocab.compounds
    words = low.split(" ")
    found, reach = [], 0
    for i in range(len(words)):
        for j in range(len(words), i, -1):
            ph = table.get(" ".join(words[i:j]))
            if ph is None or (j < len(words) and words[j] in compounds.get(words[j - 1], ())):
                continue
            if j > reach:  # not inside the phrase found before
                reach = j
                found.append(ph)
            break
    return found


def test_phrases_found_equal_every_run_of_words_tried(full, items):
    texts = [normalize(t) for r in items for t in (r["title"], r["summary"])]
    # Runs of the vocabulary's own words, with and without diacritics, so that
    # phrases overlap, nest, meet compounds and cross commas and sentence ends.
    words = sorted({w for key in full._table for w in key.split(" ")}
                   | {f for fs in full.compounds.values() for f in fs} | {"|", ",", "và", "của"})
    rng = random.Random(5)
    for _ in range(4000):
        text = " ".join(rng.choice(words) for _ in range(rng.randrange(1, 16)))
        texts.append(normalize(relevance._strip_accents(text) if rng.random() < 0.3 else text))
    assert sum(bool(_plain_find(full, t)) for t in texts) > 1500
    assert [full.find_normalized(t) for t in texts] == [_plain_find(full, t) for t in texts]


# --- the classifier --------------------------------------------------------------

def _plain_logit(model, title, summary, phrases, found):
    """Log-odds and shares from features() and a plain sum of TF-IDF terms, feature by feature."""
    values = features(title, summary, phrases)
    base = model.bias + sum(v * model.count_weights[f] for f, v in found.items() if f in model.count_weights)
    dot = norm = 0.0
    for f, v in values.items():
        if f in model.idf:
            x = model.idf[f] * (1.0 + math.log(v))
            dot += x * model.weights.get(f, 0.0)
            norm += x * x
    if norm <= 0.0:
        return base, []
    # Ranked by a feature's weight at one occurrence, ties in feature order.
    contrib = {f: model.idf[f] * model.weights.get(f, 0.0) if f in model.idf else 0.0 for f in values}
    ranked = sorted(values, key=contrib.__getitem__)
    if len(ranked) > 16:
        ranked = ranked[:8] + ranked[-8:]
    shares = [(f, contrib[f] * (1.0 + math.log(values[f])) / math.sqrt(norm)) for f in ranked if contrib[f]]
    return base + dot / math.sqrt(norm), shares


def test_logit_equals_plain_tfidf_on_real_news(full, items):
    model = full.model
    compared = 0
    for r in items:
        rel = score(r["title"], r["summary"], full)
        matches = [m for m in rel.matches if m.topic != relevance.MODEL]
        phrases, found = model_phrases(matches), model_counts(matches)
        logit, shares = model.logit(r["title"], r["summary"], phrases, found=found)
        head, lead = normalize(r["title"]), normalize(r["summary"])
        assert model.logit(head, lead, phrases, normalized=True, found=found) == (logit, shares)
        want, want_shares = _plain_logit(model, r["title"], r["summary"], phrases, found)
        assert logit == pytest.approx(want, rel=1e-12, abs=1e-12)
        counted = [(f, c) for f, c in shares if not f.startswith("d:")]
        assert [f for f, _ in counted] == [f for f, _ in want_shares]
        assert [c for _, c in counted] == pytest.approx([c for _, c in want_shares], rel=1e-12)
        compared += bool(matches)
    assert compared > 200  # most of the sample carries a phrase: the slow path is what is compared


def test_logit_ranks_tied_and_zero_weights_as_a_sort_of_all_features():
    # Weights drawn from a few values, many of them 0 or unknown, so equal
    # contributions, features the model knows with no weight and items with
    # more and fewer than 2 * SHARES features decide the shares' order.
    words = "thủ tục hành chính một cửa xã phường dân công an đất đai nhà ở và của".split()
    rng = random.Random(13)
    for _ in range(40):
        grams = set(words) | {f"{a} {b}" for a in words for b in words}
        grams |= {f"t:{g}" for g in grams}
        idf = {g: rng.choice([1.0, 1.5, 2.0]) for g in grams if rng.random() < 0.8}
        weights = {g: rng.choice([-1.0, -0.5, 0.5, 1.0, 0.0]) for g in idf}
        model = TextModel(bias=0.1, idf=idf, weights={g: w for g, w in weights.items() if w})
        for _ in range(50):
            title = " ".join(rng.choice(words) for _ in range(rng.randrange(6)))
            summary = " ".join(rng.choice(words) for _ in range(rng.randrange(30)))
            logit, shares = model.logit(title, summary)
            want, want_shares = _plain_logit(model, title, summary, [], {})
            assert logit == pytest.approx(want, rel=1e-12, abs=1e-12)
            assert [f for f, _ in shares] == [f for f, _ in want_shares]
            assert [c for _, c in shares] == pytest.approx([c for _, c in want_shares], rel=1e-12)


# --- the explanation note ----------------------------------------------------------

def _plain_note(parts: list[tuple[str, float]], points: float) -> str:
    """The note from heapq's pick of the twelve strongest shares, any direction, skipping the wrong one."""
    pick = heapq.nlargest if points > 0 else heapq.nsmallest
    words: list[str] = []
    for feat, share in pick(12, parts, key=itemgetter(1)):
        shown = display(feat)
        if not shown or (share > 0) != (points > 0):
            continue
        bare = shown.replace(" (tiêu đề)", "")
        if any(bare in w or w.replace(" (tiêu đề)", "") in bare for w in words):
            continue
        words.append(shown)
        if len(words) == 3:
            break
    if not words:
        return ""
    return ("nhờ: " if points > 0 else "vì: ") + ", ".join(f"“{w}”" for w in words)


def test_note_equals_heapq_pick_on_real_and_tied_shares(full, items):
    model = full.model
    cases = []
    for r in items:
        rel = score(r["title"], r["summary"], full)
        matches = [m for m in rel.matches if m.topic != relevance.MODEL]
        _, shares = model.logit(r["title"], r["summary"], model_phrases(matches), found=model_counts(matches))
        cases += [(shares, 1.0), (shares, -1.0)]
    # Ties, zeros and words that repeat one another, so the order among equals counts.
    words = ["thủ tục", "t:thủ tục", "thủ tục hành", "v:một cửa", "vt:tthc", "d:score", "dịch vụ",
             "t:công"]
    rng = random.Random(3)
    for _ in range(3000):
        parts = [(rng.choice(words), rng.choice([-1.0, -0.5, 0.0, 0.5, 1.0, rng.uniform(-2, 2)]))
                 for _ in range(rng.randrange(25))]
        cases.append((parts, rng.choice([-0.7, 0.4])))
    assert [relevance._model_note(p, pts) for p, pts in cases] == [_plain_note(p, pts) for p, pts in cases]


# --- exact results on the recorded sample ---------------------------------------------

def _rows(vocab) -> list[list[str]]:
    return [[r["link"], repr(rel.score), repr(rel.model_points), explain(rel, vocab)]
            for r in _training_items() for rel in [score(r["title"], r["summary"], vocab)]]


def _write_sample() -> None:
    vocab = load_vocabulary()
    with open(SAMPLE, "w", encoding="utf-8", newline="") as fh:
        fh.write(f"# model {vocab.model_id} vocabulary {vocab.fingerprint()}\n")
        csv.writer(fh, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\", lineterminator="\n").writerows(
            [["link", "score", "model_points", "explanation"], *_rows(vocab)])


def test_scores_and_explanations_equal_the_recorded_sample(full):
    with open(SAMPLE, encoding="utf-8", newline="") as fh:
        header = fh.readline().split()
        recorded = list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\"))[1:]
    assert header == ["#", "model", full.model_id, "vocabulary", full.fingerprint()], (
        f"{SAMPLE.name} was written for another model or vocabulary: run `python {Path(__file__).name}` "
        "to write it again")
    got = _rows(full)
    assert len(recorded) == len(got) > 250
    assert sum(" · mô hình phân loại (" in row[3] for row in got) > 150  # the classifier's note is compared
    for want, have in zip(recorded, got):
        assert have == want


if __name__ == "__main__":
    sys.exit(_write_sample())
