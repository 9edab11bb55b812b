"""Measure what a station would air: the share of aired stories that are administrative-reform news.

One simulated station with the default configuration airs one bulletin a day
over the real news of the test months (2026-05-01 .. 2026-08-31; Tuổi Trẻ,
Thanh Niên, VnExpress), the way the nightly build does it: each day's items
are scored and stored (real SQLite store: repeats merged, reports of one event
grouped), the station's candidates are taken from the store (fresh, never
aired here, no other report of an aired event), the project's `select` picks
the bulletin, and the airing is recorded. Two arms: the shipped scorer
(vocabulary + classifier) and the vocabulary alone.

Each aired story gets a label: from tests/data/relevance_news.tsv.gz when the
same title is there, else from the hand labels in
tests/data/relevance_aired.tsv.gz (labelled blind, mixed with decoys). Per arm
it prints days, stories aired, reform stories aired, their share with a 95%
Wilson interval, labels reused / hand-made / unsure / missing, and the same
over the first 21 days.

The stream is a cache built from a local bare clone of the public repository
mnngoisaoxanh/tintuchangngay (data/news/YYYY-MM-DD.json across its history):

    .venv/bin/python bench/bench_aired.py --build-stream /path/to/tintuchangngay.git
    .venv/bin/python bench/bench_aired.py [--stream PATH] [--list-aired FILE]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import gzip
import io
import json
import re
import subprocess
import sys
import tempfile
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench_relevance import DATA, NEWS, news_rows, wilson

from broadcast.config import Config, StationConfig, parse_config
from broadcast.models import VN_TZ, FeedItem
from broadcast.pipeline import end_of_day, speech_estimate_overhead
from broadcast.relevance import Vocabulary, load_vocabulary, score
from broadcast.selection import select
from broadcast.store import Store

HAND = DATA / "relevance_aired.tsv.gz"
STREAM = Path(tempfile.gettempdir()) / "broadcast-aired" / "stream-2026-05-08.jsonl.gz"
FIRST_DAY = dt.date(2026, 5, 1)
LAST_DAY = dt.date(2026, 8, 31)
OUTLETS = {"Tuổi Trẻ": "https://tuoitre.vn/rss/tin-moi-nhat.rss",
           "Thanh Niên": "https://thanhnien.vn/rss/home.rss",
           "VnExpress": "https://vnexpress.net/rss/tin-moi-nhat.rss"}
STATION = "xa-mo-phong"
COMPARE_DAYS = 21  # the earlier report: 19 non-reform stories of 63 over 21 simulated days
HAND_COLUMNS = ["date", "outlet", "label", "unsure", "kind", "title", "summary", "link"]


def title_key(title: str) -> str:
    """A title as the labelled data dedupes it: NFC, lower case, no punctuation, single spaces."""
    text = unicodedata.normalize("NFC", title).lower()
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


# --- the stream -------------------------------------------------------------

def build_stream(mirror: Path, out: Path, first: dt.date = FIRST_DAY, last: dt.date = LAST_DAY) -> int:
    """Extract title, lead, date, outlet and link of the three outlets' news from a clone of the repository.

    Each data/news/YYYY-MM-DD.json is read at its last version before it was
    deleted (the repository keeps only recent days); an item counts for the
    day it was published; repeats of a title keep the earliest.
    """
    git = ["git", f"--git-dir={mirror}"]

    def run(*args: str) -> bytes:
        return subprocess.run([*git, *args], capture_output=True, check=True).stdout

    names = set(run("log", "--all", "--name-only", "--format=", "--", "data/news/").decode().split())
    # A day's file also carries the previous days' news: read a week either side.
    files = sorted(n for n in names if re.fullmatch(r"data/news/\d{4}-\d\d-\d\d\.json", n)
                   and first - dt.timedelta(days=7) <= dt.date.fromisoformat(n[10:20]) <= last + dt.timedelta(days=7))
    seen: dict[str, dict[str, str]] = {}
    for name in files:
        commit = run("log", "--all", "--diff-filter=AM", "--format=%H", "-1", "--", name).decode().strip()
        if not commit:
            continue
        for it in json.loads(run("show", f"{commit}:{name}")):
            rec = stream_record(it)
            if rec is None or not first.isoformat() <= rec["date"] <= last.isoformat():
                continue
            key = title_key(rec["title"])
            if key not in seen or rec["published"] < seen[key]["published"]:
                seen[key] = rec
    rows = sorted(seen.values(), key=lambda r: (r["published"], r["link"]))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".part")
    with gzip.open(tmp, "wt", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    tmp.replace(out)
    return len(rows)


def stream_record(item: dict[str, Any]) -> dict[str, str] | None:
    """The fields kept from one item of the repository (None: another outlet, no title or no date)."""
    source = str(item.get("source") or "").strip()
    outlet = "VnExpress" if source.startswith("VnExpress") else source
    title = unicodedata.normalize("NFC", str(item.get("title") or "").strip())
    published = str(item.get("published") or "")
    if outlet not in OUTLETS or not title or not re.match(r"\d{4}-\d\d-\d\d", published):
        return None
    return {"date": published[:10], "published": published, "outlet": outlet, "title": title,
            "summary": unicodedata.normalize("NFC", str(item.get("summary") or "").strip()),
            "link": str(item.get("link") or "").strip()}


def read_stream(path: Path) -> list[dict[str, str]]:
    """The cached stream, one JSON object per line."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# --- the simulation ---------------------------------------------------------

@dataclasses.dataclass
class Aired:
    """One story a simulated bulletin read."""

    date: str
    outlet: str
    title: str
    summary: str
    link: str
    score: float


def station_config(folder: Path) -> Config:
    """The default configuration with the three outlets as feeds and one station."""
    data = {"feeds": [{"name": name, "url": url, "source": name} for name, url in OUTLETS.items()],
            "stations": [{"id": STATION, "name": "Đài truyền thanh xã (mô phỏng)"}]}
    return parse_config(data, None, cwd=folder)


def _published(text: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=VN_TZ)


def simulate(rows: list[dict[str, str]], vocab: Vocabulary, days: list[dt.date], folder: Path) -> list[Aired]:
    """Air one bulletin a day at one default station; return what it read, day by day."""
    config = station_config(folder)
    station: StationConfig = config.stations[0]
    weights = {f.name: f.weight for f in config.feeds}
    feeds = [f.name for f in config.feeds_for(station)]
    min_score = station.selection.min_score if station.selection.min_score is not None else vocab.threshold
    by_day: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        by_day[r["date"]].append(r)
    aired: list[Aired] = []
    with Store(folder / "news.db") as store:
        for day in days:
            # The night's build knows the day's news: stored as fetched by the end of the day.
            now = end_of_day(day)
            items = [(FeedItem(feed=r["outlet"], source=r["outlet"], title=r["title"], summary=r["summary"],
                               link=r["link"], guid=r["link"] or r["title"], published=_published(r["published"])),
                      score(r["title"], r["summary"], vocab)) for r in by_day.get(day.isoformat(), [])]
            store.add_items(items, now)
            candidates = store.candidates(station.id, now, station.selection.fresh_hours, feeds,
                                          date=day, slot="")
            budget = station.target_minutes * 60 - speech_estimate_overhead(station, day, "", [], "")
            ranked = select(candidates, station, weights, max(budget, 30.0),
                            engine=station.tts.resolved_chain()[0], min_score=min_score, now=now,
                            labels=dict(vocab.topics))
            chosen = [c for c in ranked if c.selected]
            store.record_aired(station.id, day, "", [c.id for c in chosen], now=now)
            aired += [Aired(date=day.isoformat(), outlet=c.sources[0] if c.sources else "", title=c.title,
                            summary=c.summary, link=c.link, score=c.score) for c in chosen]
    return aired


def stream_days(rows: list[dict[str, str]]) -> list[dt.date]:
    """Every calendar day from the stream's first to its last."""
    dates = sorted({r["date"] for r in rows})
    if not dates:
        return []
    first, last = dt.date.fromisoformat(dates[0]), dt.date.fromisoformat(dates[-1])
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


# --- labels -----------------------------------------------------------------

def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of a gzipped, tab-separated file with a header line."""
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))


def write_hand_labels(path: Path, rows: Iterable[dict[str, str]]) -> None:
    """Write hand labels (columns HAND_COLUMNS) as gzipped TSV, reproducibly (no timestamp)."""
    # Read back with csv.QUOTE_NONE: quotes stay literal, tabs and newlines become spaces.
    lines = ["\t".join(HAND_COLUMNS)]
    lines += ["\t".join(" ".join(str(r.get(k, "")).split()) for k in HAND_COLUMNS) for r in rows]
    tmp = path.with_suffix(".part")
    tmp.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0))
    tmp.replace(path)


@dataclasses.dataclass
class Label:
    """One story's label and where it came from."""

    label: int
    origin: str  # "reused" (relevance_news.tsv.gz) | "hand" (relevance_aired.tsv.gz)
    unsure: bool = False


def load_labels(reused: list[dict[str, str]], hand: list[dict[str, str]]) -> dict[str, Label]:
    """Labels by title key: the earlier labelled set first, hand labels for the rest."""
    labels: dict[str, Label] = {}
    for r in hand:
        labels[title_key(r["title"])] = Label(int(r["label"]), "hand", r.get("unsure", "") == "1")
    for r in reused:
        labels[title_key(r["title"])] = Label(int(r["label"]), "reused")
    return labels


@dataclasses.dataclass
class Summary:
    """What one arm aired and how its labels were obtained."""

    days: int
    aired: int
    reform: int
    share: tuple[float, float, float]
    reused: int
    hand: int
    unsure: int
    missing: int


def summarize(aired: list[Aired], labels: dict[str, Label], days: int) -> Summary:
    """Count aired and reform stories and how each label was obtained."""
    found = [labels.get(title_key(a.title)) for a in aired]
    known = [x for x in found if x is not None]
    reform = sum(x.label for x in known)
    return Summary(days=days, aired=len(aired), reform=reform, share=wilson(reform, len(known)),
                   reused=sum(x.origin == "reused" for x in known), hand=sum(x.origin == "hand" for x in known),
                   unsure=sum(x.unsure for x in known), missing=len(aired) - len(known))


def first_days(aired: list[Aired], days: list[dt.date], n: int) -> tuple[list[Aired], int]:
    """The stories aired over the first `n` simulated days."""
    kept = {d.isoformat() for d in days[:n]}
    return [a for a in aired if a.date in kept], len(kept)


def _line(name: str, s: Summary) -> str:
    p, lo, hi = s.share
    return (f"{name:<22} {s.days:>4} {s.aired:>6} {s.reform:>6}  {p:6.3f} [{lo:.3f}, {hi:.3f}]"
            f"  {s.aired - s.reform - s.missing:>4}  {s.reused:>6} {s.hand:>5} {s.unsure:>6} {s.missing:>7}")


def report(arms: dict[str, list[Aired]], labels: dict[str, Label], days: list[dt.date]) -> list[str]:
    """The result table: whole period, then the first COMPARE_DAYS days."""
    head = (f"{'arm':<22} {'days':>4} {'aired':>6} {'reform':>6}  {'share [95% Wilson]':<22} {'not':>4}"
            f"  {'reused':>6} {'hand':>5} {'unsure':>6} {'missing':>7}")
    out = [head]
    for name, aired in arms.items():
        out.append(_line(name, summarize(aired, labels, len(days))))
    out.append(f"first {COMPARE_DAYS} days (earlier report: 44 reform of 63 aired, 19 not):")
    for name, aired in arms.items():
        part, n = first_days(aired, days, COMPARE_DAYS)
        out.append(_line(name, summarize(part, labels, n)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stream", type=Path, default=STREAM, help="cached stream (.jsonl.gz)")
    ap.add_argument("--build-stream", type=Path, metavar="GIT_DIR",
                    help="build the stream cache from a bare clone of mnngoisaoxanh/tintuchangngay")
    ap.add_argument("--list-aired", type=Path, metavar="TSV",
                    help="also write every aired story (arm, date, outlet, score, title, summary, link, label)")
    args = ap.parse_args(argv)
    if args.build_stream:
        n = build_stream(args.build_stream, args.stream)
        print(f"stream: {n} items -> {args.stream}")
    if not args.stream.exists():
        print(f"No stream cache at {args.stream}. Build it from a local clone of the public repository "
              "github.com/mnngoisaoxanh/tintuchangngay (git clone --mirror ...), then:\n"
              f"    python bench/bench_aired.py --build-stream PATH/TO/tintuchangngay.git --stream {args.stream}",
              file=sys.stderr)
        return 2
    rows = [r for r in read_stream(args.stream) if FIRST_DAY.isoformat() <= r["date"] <= LAST_DAY.isoformat()]
    days = stream_days(rows)
    print(f"stream: {len(rows)} items, {days[0]} .. {days[-1]} ({len(days)} days), "
          + ", ".join(f"{k} {v}" for k, v in sorted(Counter(r['outlet'] for r in rows).items())))
    arms: dict[str, list[Aired]] = {}
    for name, model in (("vocabulary+classifier", True), ("vocabulary alone", False)):
        with tempfile.TemporaryDirectory() as tmp:
            arms[name] = simulate(rows, load_vocabulary(model=model), days, Path(tmp))
    labels = load_labels([r for r in news_rows(NEWS)], read_tsv(HAND) if HAND.exists() else [])
    for line in report(arms, labels, days):
        print(line)
    if args.list_aired:
        with args.list_aired.open("w", encoding="utf-8") as fh:
            for name, aired in arms.items():
                for a in aired:
                    lab = labels.get(title_key(a.title))
                    fh.write("\t".join([name, a.date, a.outlet, f"{a.score:.3f}", a.title, a.summary, a.link,
                                        "" if lab is None else str(lab.label)]) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
