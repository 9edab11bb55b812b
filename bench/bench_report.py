"""Quarterly report for 100 stations: time to compute and write it, against reading the same rows raw.

Fills a fresh store with 100 stations × 92 days of bulletin and airing
records (as nightly builds would leave them), then times the report in
each format. The floor is one plain SELECT of every bulletin and airing row
of the quarter, measured in the same run.

    python bench/bench_report.py [--stations 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from broadcast import api
from broadcast.config import parse_config
from broadcast.models import VN_TZ
from broadcast.report import render
from broadcast.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=100)
    args = parser.parse_args()
    start, end = dt.date(2026, 10, 1), dt.date(2026, 12, 31)
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        stations = "".join(f'[[stations]]\nid = "xa-{n:03d}"\nname = "Đài xã {n}"\n\n' for n in range(args.stations))
        import tomllib

        config = parse_config(tomllib.loads(f'[general]\ndata_dir = "{root}"\n\n{stations}'), root / "b.toml")
        store = Store(root / "broadcast.sqlite3")
        topics = ["tthc", "dvc", "de_an_06", "mot_cua", "chi_so"]
        t0 = time.perf_counter()
        from broadcast.models import FeedItem

        items = [(FeedItem(feed="f", source="Báo Đắk Lắk", title=f"Tin số {i}", summary="Tóm tắt.",
                           link=f"https://e.vn/{i}", guid=str(i), published=dt.datetime(2026, 10, 1, tzinfo=VN_TZ)),
                  None) for i in range(400)]
        ids = [r.story_id for r in store.add_items(items, dt.datetime(2026, 10, 1, tzinfo=VN_TZ))]
        store.db.execute("UPDATE stories SET topics = ?", ('["tthc", "dvc"]',))
        with store._write():
            for n, st in enumerate(config.stations):
                for k, day in enumerate(days):
                    now = dt.datetime.combine(day, dt.time(5), VN_TZ)
                    held = (n + k) % 29 == 0
                    store.save_bulletin(
                        st.id, day, "", now, kind="bulletin", generated_sha="g", script_sha="s",
                        rendered_sha="s", rendered_at=now, duration=600.0, engines=["espeak"], held=int(held),
                        rendered_items=ids[k % 100:k % 100 + 4], rendered_edited=int(k % 7 == 0),
                        rendered_parts={"seconds": {"item": 420.0, "standing": 40.0, "notice": 30.0},
                                        "items": {str(i): 105.0 for i in ids[k % 100:k % 100 + 4]},
                                        "standing": ["Thông điệp."], "notices": ["Thông báo."]})
                    if not held:
                        store.record_aired(st.id, day, "", ids[k % 100:k % 100 + 4], now=now)
        fill = time.perf_counter() - t0
        store.close()

        t0 = time.perf_counter()
        store = Store(root / "broadcast.sqlite3")
        n_rows = len(store.db.execute("SELECT * FROM bulletins WHERE date >= ? AND date <= ?",
                                      (start.isoformat(), end.isoformat())).fetchall())
        n_rows += len(store.db.execute("SELECT * FROM airings WHERE date >= ? AND date <= ?",
                                       (start.isoformat(), end.isoformat())).fetchall())
        store.close()
        floor = time.perf_counter() - t0

        t0 = time.perf_counter()
        report = api.report(config, start, end)
        compute = time.perf_counter() - t0
        print(f"stations: {args.stations}, days: {len(days)}, rows read: {n_rows} (filled in {fill:.1f} s)")
        print(f"floor (raw SELECT of the quarter's rows): {floor:.3f} s")
        print(f"report computed: {compute:.3f} s  ratio {compute / floor:.1f}x the floor")
        for fmt in ("md", "csv", "xlsx", "docx"):
            t0 = time.perf_counter()
            data = render(report, fmt)
            took = time.perf_counter() - t0
            print(f"  {fmt:>4}: {took:.3f} s, {len(data) / 1024:.0f} KiB; total {compute + took:.2f} s")
        total = report.total
        print(f"check: aired {total.aired}/{total.planned}, items {total.items}, minutes {total.minutes:.0f}")
    return None


if __name__ == "__main__":
    sys.exit(main())
