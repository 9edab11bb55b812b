"""Print how many lines per second broadcast.textnorm.normalize reads on one core, and its
accuracy on real lines kept out of tuning.

Usage: python bench/bench_normalize.py [--seconds 5]

Speed: the inputs of tests/data/normalize_cases.tsv (real plan, news and government-page
lines plus hand-written forms), read one after another in this process. The shipped
dictionary is loaded before timing, as the pipeline loads it once per process. The floor
is one pass of the regex engine over the same lines (NFC plus a word scan): no
normaliser that looks at every character can be faster, so the ratio says how many such
passes the normaliser costs.

Accuracy: tests/data/normalize_heldout_*.tsv, real lines whose expected reading was written
by hand and which were never used to tune the rules. Older sets that were looked at while
fixing are kept as tests/data/normalize_retired_*.tsv and reported apart, as development data. "exact" compares whole strings;
"words" ignores case and punctuation (what a listener hears).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from broadcast.textnorm import load_lexicon, normalize  # noqa: E402

DATA = ROOT / "tests" / "data"
_WORD_RE = re.compile(r"\w+")


def load_pairs(pattern: str) -> list[tuple[str, str]]:
    """Read written/spoken pairs from the test data files matching pattern."""
    rows = []
    lines = [ln for p in sorted(DATA.glob(pattern)) for ln in p.read_text(encoding="utf-8").splitlines()]
    for line in lines:
        if line and not line.startswith("#") and "\t" in line:
            written, spoken = line.split("\t", 1)
            rows.append((written.replace("\\n", "\n"), spoken.replace("\\n", "\n")))
    return rows


def floor_pass(lines: list[str]) -> None:
    """Touch every character once: the cheapest pass a normaliser could make."""
    for text in lines:
        _WORD_RE.findall(unicodedata.normalize("NFC", text))


def timed_rounds(work, lines: list[str], seconds: float) -> list[float]:
    """Run `work` over all lines repeatedly for `seconds` of CPU; return lines/s per round.

    CPU time of this process, not wall time: on a shared machine other processes
    would otherwise be counted against the normaliser.
    """
    rates = []
    deadline = time.process_time() + seconds
    while time.process_time() < deadline or not rates:
        t0 = time.process_time()
        work(lines)
        rates.append(len(lines) / max(time.process_time() - t0, 1e-9))
    return rates


def words(text: str) -> list[str]:
    """The words a listener hears, without case or punctuation."""
    return _WORD_RE.findall(text.lower())


def main() -> None:
    """Measure speed against the floor, then score the held-out real lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to measure speed")
    args = parser.parse_args()

    lines = [w for w, _ in load_pairs("normalize_cases*.tsv")]
    start = time.perf_counter()
    lexicon = load_lexicon()
    load_ms = (time.perf_counter() - start) * 1000

    def run(batch: list[str]) -> None:
        for text in batch:
            normalize(text, lexicon)

    run(lines)  # warm-up: regex caches, first-call costs
    floor_pass(lines)
    rates = timed_rounds(run, lines, args.seconds)
    floor = timed_rounds(floor_pass, lines, min(1.0, args.seconds / 5))
    median, floor_median = statistics.median(rates), statistics.median(floor)

    chars = sum(len(s) for s in lines)
    print(f"dictionary load: {load_ms:.1f} ms ({len(lexicon)} entries)")
    print(f"lines: {len(lines)} (mean {chars / len(lines):.0f} characters), rounds: {len(rates)}")
    print(f"speed: {median:,.0f} lines/s on one core, CPU time (slowest round {min(rates):,.0f})")
    print(f"floor: {floor_median:,.0f} lines/s for one NFC + word scan of the same lines")
    print(f"ratio: normalising costs {floor_median / median:.0f}x the floor")

    for path in sorted(DATA.glob("normalize_heldout*.tsv")) + sorted(DATA.glob("normalize_retired*.tsv")):
        if path.stem.endswith("_reader2"):
            continue
        held = load_pairs(path.name)
        exact = sum(normalize(w, lexicon) == s for w, s in held)
        heard = sum(words(normalize(w, lexicon)) == words(s) for w, s in held)
        kind = "held-out" if "heldout" in path.name else "retired (seen while fixing)"
        print(f"{kind} real lines, {path.name}: {len(held)}")
        print(f"  exact: {exact}/{len(held)} = {100 * exact / len(held):.1f}%")
        print(f"  words: {heard}/{len(held)} = {100 * heard / len(held):.1f}% (case and punctuation ignored)")
        second = path.with_name(path.stem + "_reader2.tsv")
        if second.exists():
            report_two_readers(held, load_pairs(second.name), lexicon)


def report_two_readers(first: list[tuple[str, str]], second: list[tuple[str, str]], lexicon) -> None:
    """Score two independent human readings of the same lines against each other and the normaliser.

    How often two careful writers agree is the ceiling a normaliser can be measured
    against; counting a line right when it matches either writer shows how much of
    the gap is a choice between equally good readings.
    """
    if [w for w, _ in first] != [w for w, _ in second]:
        print("  second reading: written lines differ from the first reading's, not compared")
        return
    n = len(first)
    ours = [normalize(w, lexicon) for w, _ in first]
    pairs = list(zip(first, second, ours))
    both_exact = sum(a == b for (_, a), (_, b), _ in pairs)
    both_words = sum(words(a) == words(b) for (_, a), (_, b), _ in pairs)
    second_words = sum(words(o) == words(b) for _, (_, b), o in pairs)
    either_exact = sum(o in (a, b) for (_, a), (_, b), o in pairs)
    either_words = sum(words(o) in (words(a), words(b)) for (_, a), (_, b), o in pairs)
    print(f"  second reader, same lines: the two writers agree exact {both_exact}/{n} = {100 * both_exact / n:.1f}%, "
          f"words {both_words}/{n} = {100 * both_words / n:.1f}%")
    print(f"  normaliser against the second writer, words: {second_words}/{n} = {100 * second_words / n:.1f}%")
    print(f"  normaliser matching either writer: exact {either_exact}/{n} = {100 * either_exact / n:.1f}%, "
          f"words {either_words}/{n} = {100 * either_words / n:.1f}%")

if __name__ == "__main__":
    main()
