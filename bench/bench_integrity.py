"""Benchmark: what the integrity checks cost against the work they guard.

1. Speech-cache lookups: `SpeechCache.get` (reads the entry, checks its
   length and sha256 seal, reads the WAV header) for every paragraph of a
   bulletin, against the physical floor of reading the same bytes from disk.
2. Database reads: `Store.candidates` through the cursor that turns SQLite
   corruption into a clear error, against the same query on a plain sqlite3
   connection to the same file.

    .venv/bin/python bench/bench_integrity.py [--paragraphs 60] [--stories 3000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import sqlite3
import tempfile
import time
from pathlib import Path

from broadcast.audio import testsignal
from broadcast.models import VN_TZ, FeedItem
from broadcast.speech.cache import SpeechCache
from broadcast.store import Store

RATE = 22050
PARAGRAPH_S = 10.0
NOW = dt.datetime(2026, 9, 14, 12, 0, tzinfo=VN_TZ)


def best(fn, repeat: int) -> float:
    """Best wall time of `repeat` runs of `fn` (the least disturbed by other work)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_cache(root: Path, paragraphs: int, repeat: int) -> None:
    cache = SpeechCache(root)
    keys = []
    for i in range(paragraphs):
        key = cache.key("bench", {}, 1.0, f"đoạn {i}")
        with cache.store(key) as tmp:
            testsignal.write_wav(tmp, testsignal.speechlike(PARAGRAPH_S, RATE, seed=i), RATE)
        keys.append(key)
    paths = [cache.path_for(k) for k in keys]
    size = sum(p.stat().st_size for p in paths)

    def lookups() -> None:
        for k in keys:
            assert cache.get(k) is not None

    def floor() -> None:
        for p in paths:
            p.read_bytes()

    def hash_floor() -> None:
        for p in paths:
            hashlib.sha256(p.read_bytes()).digest()

    lookups()  # warm the page cache for both
    t_get, t_floor, t_hash = best(lookups, repeat), best(floor, repeat), best(hash_floor, repeat)
    print(f"speech cache: {paragraphs} entries, {size / 1e6:.1f} MB")
    print(f"  verified lookups   {t_get * 1000:8.1f} ms  ({t_get / paragraphs * 1000:.2f} ms per entry)")
    print(f"  read bytes (floor) {t_floor * 1000:8.1f} ms")
    print(f"  read + sha256      {t_hash * 1000:8.1f} ms  (what any checksum costs)")
    print(f"  ratio to read      {t_get / t_floor:8.1f}")
    print(f"  ratio to read+hash {t_get / t_hash:8.2f}")


class Rel:
    score, topics, matches = 1.0, ["dvctt"], []


def bench_store(folder: Path, stories: int, repeat: int) -> None:
    path = folder / "broadcast.sqlite3"
    with Store(path) as store:
        store.add_items([(FeedItem(feed="f", source="Báo", title=f"Tin {n} về thủ tục số {n * 7919}",
                                   summary=f"Nội dung tin số {n}. " * 20, link=f"https://a.vn/{n}.html",
                                   guid="", published=NOW - dt.timedelta(minutes=n)), Rel())
                         for n in range(stories)], NOW)
    store = Store(path)
    plain = sqlite3.connect(str(path))
    sql = "SELECT id, title, summary, link, published, first_seen, score, topics, matches FROM stories"

    def guarded() -> None:
        rows = list(store.db.execute(sql))
        assert len(rows) == stories

    def unguarded() -> None:
        rows = list(plain.execute(sql))
        assert len(rows) == stories

    guarded()
    t_g, t_p = best(guarded, repeat), best(unguarded, repeat)
    t_c = best(lambda: store.candidates("hoa-phu", NOW, 24.0 * 365), repeat)
    print(f"database: {stories} stories")
    print(f"  guarded scan       {t_g * 1000:8.1f} ms")
    print(f"  plain sqlite3 scan {t_p * 1000:8.1f} ms (floor)")
    print(f"  ratio              {t_g / t_p:8.2f}")
    print(f"  candidates()       {t_c * 1000:8.1f} ms (the query a bulletin makes)")
    store.close()
    plain.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paragraphs", type=int, default=60)
    ap.add_argument("--stories", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-integrity-") as tmp:
        bench_cache(Path(tmp) / "cache", args.paragraphs, args.repeat)
        bench_store(Path(tmp), args.stories, args.repeat)


if __name__ == "__main__":
    main()
