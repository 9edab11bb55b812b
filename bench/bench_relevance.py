"""Measure relevance scoring on real news: precision/recall with intervals, and speed.

The test split is the later months of tests/data/relevance_news.tsv.gz (from
2026-05; the model and the rules were chosen on the earlier months only; the
extra files tests/data/relevance_news_*.tsv.gz hold training months only). For
each method it prints precision and recall with 95% Wilson intervals on the
labelled test items, then the same estimates weighted back to the whole news
stream (each sampling stratum counts by its size; 95% bootstrap intervals).
Methods: the baseline phrase search, the vocabulary alone, and the vocabulary
with the shipped classifier (what `broadcast` uses). Then items scored per
second (CPU time) over 10,000 items in two mixes: the labelled items and
the news stream as it arrives, against a floor measured in the same run
(reading each item once: NFC, lower case, split into words). Also
precision/recall on the older mostly-written set tests/data/labeled_items.tsv.
With --speed-only nothing is scored against the test labels.

    .venv/bin/python bench/bench_relevance.py [--items N] [--test-from YYYY-MM] [--speed-only]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import math
import random
import re
import resource
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

from broadcast.relevance import load_vocabulary, score

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
NEWS = DATA / "relevance_news.tsv.gz"
LABELED = DATA / "labeled_items.tsv"
TEST_FROM = "2026-05"
EXCLUDED_MONTH = "2025-09"
BASELINE = re.compile(r"cải cách hành chính|thủ tục hành chính|dịch vụ công|một cửa", re.IGNORECASE)
Z = 1.96
BOOTSTRAP = 1000


def news_rows(path: Path = NEWS) -> list[dict[str, str]]:
    """One file of labelled real news, September 2025 left out."""
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))
    return [r for r in rows if not r["date"].startswith(EXCLUDED_MONTH)]


def extra_rows(test_from: str) -> list[dict[str, str]]:
    """The extra labelled files: training months only (their weight is 0, not part of the stream)."""
    return [r for path in sorted(DATA.glob("relevance_news_*.tsv.gz")) for r in news_rows(path)
            if r["date"][:7] < test_from]


def wilson(k: int, n: int) -> tuple[float, float, float]:
    """Proportion k/n with its 95% Wilson interval."""
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    p = k / n
    denom = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denom
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / denom
    return p, centre - half, centre + half


def _weighted_pr(pred: list[bool], gold: list[bool], w: list[float]) -> tuple[float, float]:
    tp = sum(x for p, g, x in zip(pred, gold, w) if p and g)
    fp = sum(x for p, g, x in zip(pred, gold, w) if p and not g)
    fn = sum(x for p, g, x in zip(pred, gold, w) if g and not p)
    return (tp / (tp + fp) if tp + fp else float("nan")), (tp / (tp + fn) if tp + fn else float("nan"))


def weighted(pred: list[bool], gold: list[bool], w: list[float]) -> tuple[tuple[float, float, float], ...]:
    """Stream-weighted precision and recall with 95% bootstrap intervals (fixed seed)."""
    p, r = _weighted_pr(pred, gold, w)
    rng = random.Random(11)
    n = len(pred)
    ps: list[float] = []
    rs: list[float] = []
    for _ in range(BOOTSTRAP):
        idx = [rng.randrange(n) for _ in range(n)]
        bp, br = _weighted_pr([pred[i] for i in idx], [gold[i] for i in idx], [w[i] for i in idx])
        if not math.isnan(bp):
            ps.append(bp)
        if not math.isnan(br):
            rs.append(br)
    ps.sort()
    rs.sort()

    def ci(xs: list[float]) -> tuple[float, float]:
        return xs[int(0.025 * len(xs))], xs[min(len(xs) - 1, int(0.975 * len(xs)))]

    return (p, *ci(ps)), (r, *ci(rs))


def _fmt(x: tuple[float, float, float]) -> str:
    return f"{x[0]:.3f} [{x[1]:.3f}–{x[2]:.3f}]"


def report(name: str, decide: Callable[[str, str], bool], rows: list[dict[str, str]]) -> None:
    """Print one method's test numbers."""
    pred = [decide(r["title"], r["summary"]) for r in rows]
    gold = [r["label"] == "1" for r in rows]
    tp = sum(p and g for p, g in zip(pred, gold))
    fp = sum(p and not g for p, g in zip(pred, gold))
    fn = sum(g and not p for p, g in zip(pred, gold))
    prec, rec = wilson(tp, tp + fp), wilson(tp, tp + fn)
    wp, wr = weighted(pred, gold, [float(r["weight"]) for r in rows])
    print(f"  {name:34} P={_fmt(prec)}  R={_fmt(rec)}  (tp={tp} fp={fp} fn={fn})")
    print(f"  {'':34} weighted to the stream: P={_fmt(wp)}  R={_fmt(wr)}")


def main() -> None:
    """Run the measurements and print them."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--test-from", default=TEST_FROM)
    ap.add_argument("--speed-only", action="store_true", help="measure speed only; leave the test labels unread")
    args = ap.parse_args()

    t0 = time.perf_counter()
    vocab = load_vocabulary()
    load_s = time.perf_counter() - t0
    plain = load_vocabulary(model=False)
    meta = vocab.model.meta if vocab.model is not None else {}
    print(f"vocabulary: {len(vocab.phrases)} phrases, threshold {vocab.threshold}; model: "
          f"{len(vocab.model.idf) if vocab.model else 0} features, trained on {meta.get('trained_on')}; "
          f"loaded in {load_s * 1000:.0f} ms")

    rows = news_rows()
    extra = extra_rows(args.test_from)
    if not args.speed_only:
        test = [r for r in rows if r["date"][:7] >= args.test_from]
        train = [r for r in rows if r["date"][:7] < args.test_from]
        pos = sum(r["label"] == "1" for r in test)
        months = sorted({r["date"][:7] for r in test})
        print(f"\nreal news: {len(rows)} labelled items; train {len(train)} ({train[0]['date'][:7]}.."
              f"{train[-1]['date'][:7]}) + {len(extra)} from the extra files, test {len(test)} "
              f"({months[0]}..{months[-1]}), {pos} relevant in test")
        print("test split, 95% intervals:")
        report("baseline (4 phrases)", lambda t, s: bool(BASELINE.search(t) or BASELINE.search(s)), test)
        report("vocabulary only", lambda t, s: score(t, s, plain).score >= plain.threshold, test)
        report("vocabulary + classifier (shipped)", lambda t, s: score(t, s, vocab).score >= vocab.threshold,
               test)

    if LABELED.exists() and not args.speed_only:
        with open(LABELED, encoding="utf-8", newline="") as fh:
            old = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
        print(f"\nolder set {LABELED.name} ({len(old)} items, mostly written for tests), no weights:")
        for name, v in (("vocabulary only", plain), ("vocabulary + classifier", vocab)):
            pred = [score(r["title"], r["summary"], v).score >= v.threshold for r in old]
            gold = [r["label"] == "1" for r in old]
            tp = sum(p and g for p, g in zip(pred, gold))
            fp = sum(p and not g for p, g in zip(pred, gold))
            fn = sum(g and not p for p, g in zip(pred, gold))
            print(f"  {name:34} P={_fmt(wilson(tp, tp + fp))}  R={_fmt(wilson(tp, tp + fn))}")

    # Two mixes: the labelled items (mostly flagged by the phrases, the slow
    # path) and the news stream as it arrives (each stratum by its size, so
    # most items carry no reform phrase). CPU time, best of three: the machine is shared.
    rng = random.Random(5)
    stream = rng.choices(rows, weights=[float(r["weight"]) for r in rows], k=args.items)
    for mix, pool in (("labelled mix", [rows[i % len(rows)] for i in range(args.items)]), ("stream mix", stream)):
        items = [(f"{r['title']} {i}", r["summary"]) for i, r in enumerate(pool)]
        chars = sum(len(t) + len(s) for t, s in items) / len(items)
        flagged = sum(1 for t, s in items if score(t, s, plain).matches) / len(items)
        print(f"\n{mix}: {len(items)} items, mean {chars:.0f} chars, {flagged:.0%} with a phrase")
        # The floor: touching every character once (NFC, lower case, split into words).
        floor = float("inf")
        for _ in range(3):
            c0 = time.process_time()
            for title, summary in items:
                unicodedata.normalize("NFC", f"{title} {summary}").lower().split()
            floor = min(floor, time.process_time() - c0)
        print(f"  {'floor (read each item)':24} {len(items) / floor:8,.0f} items/s (CPU time)")
        for name, v in (("vocabulary only", plain), ("vocabulary + classifier", vocab)):
            cpu = wall = float("inf")
            for _ in range(3):
                t0, c0 = time.perf_counter(), time.process_time()
                for title, summary in items:
                    score(title, summary, v)
                wall = min(wall, time.perf_counter() - t0)
                cpu = min(cpu, time.process_time() - c0)
            print(f"  {name:24} {len(items) / cpu:8,.0f} items/s (CPU time), {len(items) / wall:8,.0f} items/s "
                  f"(wall), {cpu / floor:.0f}x the floor")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
