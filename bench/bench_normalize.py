"""Print how many sentences per second broadcast.textnorm.normalize reads on one core.

Usage: python bench/bench_normalize.py [--seconds 5]

The sentences are the inputs of tests/data/normalize_cases.tsv (real plan and news
sentences plus hand-written forms). The shipped dictionary is loaded before timing,
as the pipeline loads it once per process.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from broadcast.textnorm import load_lexicon, normalize  # noqa: E402


def load_sentences() -> list[str]:
    """Read the benchmark sentences from the test set."""
    rows = []
    cases = ROOT / "tests" / "data" / "normalize_cases.tsv"
    for line in cases.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#") and "\t" in line:
            rows.append(line.split("\t", 1)[0].replace("\\n", "\n"))
    return rows


def main() -> None:
    """Run timed rounds over the sentences and print the rate."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to measure")
    args = parser.parse_args()

    sentences = load_sentences()
    start = time.perf_counter()
    lexicon = load_lexicon()
    load_ms = (time.perf_counter() - start) * 1000
    for text in sentences:  # warm-up: regex caches, first-call costs
        normalize(text, lexicon)

    rates = []
    chars = sum(len(s) for s in sentences)
    deadline = time.perf_counter() + args.seconds
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        for text in sentences:
            normalize(text, lexicon)
        rates.append(len(sentences) / (time.perf_counter() - t0))

    print(f"dictionary load: {load_ms:.1f} ms ({len(lexicon)} entries)")
    print(f"sentences: {len(sentences)} (mean {chars / len(sentences):.0f} characters)")
    print(f"rounds: {len(rates)}")
    print(f"median: {statistics.median(rates):,.0f} sentences/s on one core")
    print(f"slowest round: {min(rates):,.0f} sentences/s")


if __name__ == "__main__":
    main()
