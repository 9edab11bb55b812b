"""Fetch every feed, parse, clean, dedupe, score and store; one line per feed for the staff."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from broadcast.config import Config, FeedConfig
from broadcast.errors import BroadcastError, FeedError, StoreCorruptError
from broadcast.feeds import FetchResult, ParsedFeed, fetch, finish_parsed, parse_feed
from broadcast.htmlsource import parse_listing
from broadcast.localitems import read_local_items
from broadcast.models import FeedItem
from broadcast.store import Store
from broadcast.vitext import shown_url

log = logging.getLogger(__name__)

# Stories older than this (by date and by first sight) leave the database.
KEEP_DAYS = 180


@dataclass
class FeedLine:
    """The outcome for one feed, as `broadcast fetch` prints it."""

    feed: str
    source: str
    url: str
    status: str  # "ok" | "not_modified" | "failed"
    message: str  # Vietnamese, names the feed; for failures says what to check
    items: int = 0  # usable items in the document
    new: int = 0  # stories not stored before
    merged: int = 0  # items joined to a story stored from another source
    relevant: int = 0  # new stories at or above the relevance threshold
    skipped: int = 0  # empty entries
    http_status: int | None = None
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    """Per-feed lines and totals of one ingest run."""

    lines: list[FeedLine]
    new: int = 0
    relevant: int = 0
    merged: int = 0
    failed: int = 0
    not_modified: int = 0
    rescored: int = 0
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        """The closing line: totals in Vietnamese."""
        ok = len(self.lines) - self.failed
        parts = [f"Tổng cộng: {self.new} tin mới, {self.relevant} tin về cải cách hành chính",
                 f"{ok}/{len(self.lines)} nguồn tải được"]
        if self.not_modified:
            parts.append(f"{self.not_modified} nguồn không thay đổi")
        if self.failed:
            parts.append(f"{self.failed} nguồn lỗi")
        return "; ".join(parts) + "."

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "feeds": [dataclasses.asdict(line) for line in self.lines],
            "new": self.new, "relevant": self.relevant, "merged": self.merged,
            "failed": self.failed, "not_modified": self.not_modified, "seconds": round(self.seconds, 3),
        }


@dataclass
class _Work:
    feed: FeedConfig
    fetched: FetchResult | None = None
    parsed: ParsedFeed | None = None
    scored: list[tuple[FeedItem, Any]] = field(default_factory=list)
    error: str = ""


def vocabulary_id(vocab: Any) -> str | None:
    """The vocabulary's one identity (Vocabulary.fingerprint()), to know when stored scores are stale.

    None (never rescore) for a scorer that cannot say what it contains.
    """
    fingerprint = getattr(vocab, "fingerprint", None)
    return fingerprint() if callable(fingerprint) else None


def _scorer(vocab: Any) -> Callable[[str, str], Any] | None:
    if vocab is None:
        return None
    from broadcast.relevance import score

    return lambda title, summary: score(title, summary, vocab)


def _threshold(vocab: Any, config: Config) -> float:
    if config.selection.min_score is not None:
        return float(config.selection.min_score)
    return float(getattr(vocab, "threshold", 0.0) or 0.0)


def _label(feed: FeedConfig, parsed: ParsedFeed | None = None) -> str:
    source = feed.source or (parsed.title if parsed else "")
    return f"{feed.name} ({source})" if source and source != feed.name else feed.name


def _score_one(scorer: Callable[[str, str], Any] | None, item: FeedItem) -> Any:
    if scorer is None:
        return None
    try:
        return scorer(item.title, item.summary)
    except Exception:  # one odd item must not cost the feed its other items
        log.exception("scoring %r", item.title)
        return None


def read_source(feed: FeedConfig, config: Config, now: dt.datetime, *, etag: str | None = None,
                last_modified: str | None = None, backoff: float = 0.5, retries: int | None = None,
                timeout: float | None = None) -> tuple[FetchResult, ParsedFeed | None]:
    """Fetch and parse one source of any kind; raise FeedError saying what to check.

    The parsed feed is None when the server answered that nothing changed.
    """
    if feed.kind == "local":
        started = time.monotonic()
        items, skipped, warnings = read_local_items(feed, now)
        # Old local items are fine: the commune writes when it has something to say.
        parsed = finish_parsed(feed.source, items, len(items) + skipped, skipped, 0, now, check_stale=False)
        parsed.warnings[:0] = warnings
        return FetchResult(feed=feed.name, status="ok", final_url=feed.url,
                           elapsed=time.monotonic() - started), parsed
    fetched = fetch(feed, timeout=config.fetch_timeout if timeout is None else timeout,
                    retries=config.fetch_retries if retries is None else retries,
                    max_bytes=config.fetch_max_bytes, etag=etag, last_modified=last_modified, backoff=backoff)
    if fetched.status != "ok":
        return fetched, None
    parse = parse_listing if feed.kind == "html" else parse_feed
    base = fetched.final_url if fetched.final_url.startswith(("http://", "https://")) else ""
    return fetched, parse(fetched.body, feed, content_type=fetched.content_type, now=now, base_url=base)


def _work_one(feed: FeedConfig, config: Config, cache: tuple[str | None, str | None],
              scorer: Callable[[str, str], Any] | None, now: dt.datetime, backoff: float) -> _Work:
    """Fetch, parse, clean and score one feed (runs in a worker thread; no database here)."""
    work = _Work(feed)
    try:
        work.fetched, work.parsed = read_source(feed, config, now, etag=cache[0], last_modified=cache[1],
                                                backoff=backoff)
        if work.parsed is not None:
            for item in work.parsed.items:
                work.scored.append((item, _score_one(scorer, item)))
    except FeedError as exc:
        work.error = str(exc)
    except Exception as exc:  # one broken feed must never stop the others
        log.exception("feed %s", feed.name)
        work.error = (f"Nguồn tin '{feed.name}' ({shown_url(feed.url)}): lỗi không mong đợi khi xử lý "
                      f"({type(exc).__name__}: {exc}). Hãy chạy lại với -v và báo cho người quản trị.")
    return work


def ingest(config: Config, store: Store, feeds: list[FeedConfig] | None = None, *,
           now: dt.datetime, vocab: Any = None,
           backoff: float = 0.5, keep_days: int | None = KEEP_DAYS,
           scorer: Callable[[str, str], Any] | None = None) -> IngestReport:
    """Fetch `feeds` (default: all in the config) concurrently and store what they carry.

    A failing feed gives a "failed" line and never stops the others; what was
    stored before stays. With `vocab` (relevance.load_vocabulary()) each item is
    scored and tagged; when the vocabulary changed since the last run, stored
    stories are scored again. `scorer(title, summary)` replaces relevance.score
    (tests, experiments).
    """
    started = time.monotonic()
    feeds = list(config.feeds if feeds is None else feeds)
    scorer = scorer or _scorer(vocab)
    threshold = _threshold(vocab, config) if scorer is not None else float("inf")
    report = IngestReport(lines=[])

    if scorer is not None and vocab is not None:
        vid = vocabulary_id(vocab)
        if vid:
            report.rescored = store.rescore(scorer, vid)
            if report.rescored:
                log.info("vocabulary changed: rescored %d stored stories", report.rescored)

    caches = {f.name: store.cache_headers(f.name, f.url) if f.kind != "local" else (None, None) for f in feeds}
    lines: dict[str, FeedLine] = {}
    workers = max(1, min(config.fetch_workers, len(feeds) or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="feed") as pool:
        futures = [pool.submit(_work_one, f, config, caches[f.name], scorer, now, backoff) for f in feeds]
        # Fetching is concurrent, but storing follows the configuration order:
        # the first feed to carry a story names it and is credited first, and
        # that must not depend on which server answered sooner. The database
        # stays on this thread.
        for feed, fut in zip(feeds, futures):
            lines[feed.name] = _store_one(fut.result(), store, now, threshold)

    report.lines = [lines[f.name] for f in feeds]
    for line in report.lines:
        report.new += line.new
        report.relevant += line.relevant
        report.merged += line.merged
        report.failed += line.status == "failed"
        report.not_modified += line.status == "not_modified"
    if keep_days:
        try:
            store.prune(now - dt.timedelta(days=keep_days))
        except StoreCorruptError:
            raise
        except BroadcastError as exc:
            log.warning("prune: %s", exc)
    report.seconds = time.monotonic() - started
    return report


def _store_one(work: _Work, store: Store, now: dt.datetime, threshold: float) -> FeedLine:
    feed = work.feed
    fetched = work.fetched
    line = FeedLine(feed=feed.name, source=feed.source, url=shown_url(feed.url), status="failed", message="",
                    http_status=fetched.http_status if fetched else None,
                    seconds=fetched.elapsed if fetched else 0.0)
    if work.error:
        secret = urlsplit(feed.url).password
        # Whatever a library put in its error, the password in the address is not printed or stored.
        line.message = work.error.replace(secret, "***") if secret else work.error
        _remember(store, feed, "failed", work.error, now, keep_validators=True)
        return line
    assert fetched is not None
    if fetched.status == "not_modified":
        line.status = "not_modified"
        line.message = f"{_label(feed)}: không có tin mới (nguồn báo không thay đổi từ lần tải trước)."
        _remember(store, feed, "not_modified", line.message, now, fetched.etag, fetched.last_modified,
                  keep_validators=True)
        return line
    parsed = work.parsed
    assert parsed is not None
    line.source = feed.source or parsed.title
    line.items = len(parsed.items)
    line.skipped = parsed.skipped
    line.warnings = list(parsed.warnings)
    try:
        results = store.add_items(work.scored, now)
        if feed.kind == "local":
            store.withdraw_local(feed.name, [item.guid for item in parsed.items])
    except StoreCorruptError:
        raise  # every feed would fail the same way: stop with the recovery step
    except BroadcastError as exc:
        line.message = f"{_label(feed, parsed)}: tải được nhưng không lưu được: {exc}"
        return line
    for res in results:
        if res.status == "new":
            line.new += 1
            if (res.score >= threshold and res.score > 0) or feed.kind == "local":
                line.relevant += 1  # a local item is always read
        elif res.status == "merged":
            line.merged += 1
    line.status = "ok"
    text = f"{_label(feed, parsed)}: {line.items} tin, {line.new} tin mới, {line.relevant} tin về CCHC"
    if line.merged:
        text += f", {line.merged} tin trùng với nguồn khác"
    if line.skipped and feed.kind != "local":  # a local source names each skipped file in its warnings
        text += f", bỏ {line.skipped} mục trống"
    if line.warnings:
        text += " (chú ý: " + "; ".join(line.warnings) + ")"
    line.message = text + "."
    _remember(store, feed, "ok", line.message, now, fetched.etag, fetched.last_modified)
    return line


def _remember(store: Store, feed: FeedConfig, status: str, message: str, now: dt.datetime,
              etag: str | None = None, last_modified: str | None = None,
              keep_validators: bool = False) -> None:
    try:
        store.set_feed_state(feed.name, feed.url, status, message, now, etag, last_modified,
                             keep_validators=keep_validators)
    except StoreCorruptError:
        raise  # every feed would fail the same way: stop with the recovery step
    except BroadcastError as exc:
        log.warning("could not remember state of feed %s: %s", feed.name, exc)
