"""Benchmark: parse, clean, dedupe and score 10,000 feed items; print items/s per stage and peak memory.

Usage: python bench/bench_feeds.py [--items 10000] [--per-doc 100] [--store] [--tracemalloc]

The items are built from the real documents in tests/data/feeds/: each copy
gets its own link and a numbered title, and one item in ten is a reworded
syndicated copy of another, so dedupe has real work to do.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from broadcast.config import FeedConfig  # noqa: E402
from broadcast.dedupe import NearDuplicateIndex, fingerprint, item_keys  # noqa: E402
from broadcast.feeds import parse_feed  # noqa: E402
from broadcast.models import VN_TZ  # noqa: E402
from broadcast.relevance import load_vocabulary, score  # noqa: E402

FEEDS = ROOT / "tests" / "data" / "feeds"
NOW = dt.datetime(2026, 9, 25, 12, 0, tzinfo=VN_TZ)


def seed_items() -> list[tuple[str, str]]:
    """(title, lead) pairs from every fixture document."""
    out = []
    for path in sorted(FEEDS.glob("*.xml")):
        feed = parse_feed(path.read_bytes(), FeedConfig(name=path.stem, url=str(path)), now=NOW)
        out += [(i.title, i.summary) for i in feed.items]
    return out


def build_documents(n_items: int, per_doc: int) -> list[bytes]:
    """RSS documents in the baochinhphu style (CDATA, US dates, site prefix, HTML in descriptions)."""
    rng = random.Random(7)
    seeds = seed_items()
    docs: list[bytes] = []
    made: list[tuple[str, str]] = []
    for d in range(0, n_items, per_doc):
        parts = ['<?xml version="1.0" encoding="utf-16"?><rss version="2.0"><channel>'
                 f"<title><![CDATA[Nguồn thử {d // per_doc}]]></title>"]
        for k in range(d, min(d + per_doc, n_items)):
            if made and rng.random() < 0.1:
                title, lead = made[rng.randrange(len(made))]
                title = "Tin mới: " + title  # syndicated copy, reworded title
            else:
                t, lead = seeds[k % len(seeds)]
                title = f"{t} (kỳ {k})"
                made.append((title, lead))
            when = NOW - dt.timedelta(minutes=k)
            date = f"{when.month}/{when.day}/{when.year} {when.strftime('%I:%M:%S %p').lstrip('0')}"
            parts.append(
                f"<item><title><![CDATA[{title}]]></title>"
                f"<description><![CDATA[<a href=\"https://x.vn/{k}\"><img src=\"https://x.vn/{k}.jpg?a=1&b=2\"></a>"
                f"</br>(Chinhphu.vn) - {escape(lead)}]]></description>"
                f"<link>https://bench.example.vn/tin-{k}.htm</link><pubDate>{date}</pubDate></item>")
        parts.append("</channel></rss>")
        docs.append("".join(parts).encode("utf-8"))
    return docs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--per-doc", type=int, default=100)
    ap.add_argument("--store", action="store_true", help="also time SQLite storage (Store.add_items)")
    ap.add_argument("--tracemalloc", action="store_true", help="report peak Python heap (slower run)")
    args = ap.parse_args()

    docs = build_documents(args.items, args.per_doc)
    vocab = load_vocabulary()
    if args.tracemalloc:
        tracemalloc.start()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    t0 = time.perf_counter()
    items = []
    for i, doc in enumerate(docs):
        items += parse_feed(doc, FeedConfig(name=f"f{i}", url="bench"), now=NOW).items
    t1 = time.perf_counter()
    index = NearDuplicateIndex()
    seen: dict[str, int] = {}
    stories = 0
    for n, it in enumerate(items):
        keys = item_keys(it)
        if any(k in seen for k in keys):
            continue
        fp = fingerprint(it.title, it.summary)
        sid = index.find(fp, it.published)
        if sid is None:
            sid = n
            index.add(sid, fp, it.published)
            stories += 1
        for k in keys:
            seen[k] = sid
    t2 = time.perf_counter()
    scored = [(it, score(it.title, it.summary, vocab)) for it in items]
    t3 = time.perf_counter()
    relevant = sum(r.score >= vocab.threshold for _, r in scored)

    n = len(items)
    total = t3 - t0
    print(f"items parsed:        {n} in {len(docs)} documents; {stories} stories after dedupe; "
          f"{relevant} relevant (threshold {vocab.threshold:g})")
    print(f"parse + clean:       {n / (t1 - t0):10,.0f} items/s  ({t1 - t0:.2f} s)")
    print(f"dedupe:              {n / (t2 - t1):10,.0f} items/s  ({t2 - t1:.2f} s)")
    print(f"score:               {n / (t3 - t2):10,.0f} items/s  ({t3 - t2:.2f} s)")
    print(f"all four stages:     {n / total:10,.0f} items/s  ({total:.2f} s)")
    if args.store:
        from broadcast.store import Store

        with tempfile.TemporaryDirectory() as tmp:
            store = Store(Path(tmp) / "broadcast.sqlite3")
            t4 = time.perf_counter()
            for start in range(0, n, args.per_doc):
                store.add_items(scored[start:start + args.per_doc], NOW)
            t5 = time.perf_counter()
            print(f"store (SQLite):      {n / (t5 - t4):10,.0f} items/s  ({t5 - t4:.2f} s, {store.count()} stories)")
            store.close()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS:            {peak_rss / 1024:10.1f} MiB (before the run {rss_before / 1024:.1f} MiB)")
    if args.tracemalloc:
        _, peak = tracemalloc.get_traced_memory()
        print(f"peak Python heap:    {peak / 2**20:10.1f} MiB (tracemalloc)")


if __name__ == "__main__":
    main()
