"""SQLite state: stories with their sources and relevance, what each station aired, feed cache headers."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from broadcast.dedupe import NearDuplicateIndex, fingerprint, item_keys
from broadcast.errors import BroadcastError, DiskFullError, StoreCorruptError
from broadcast.models import VN_TZ, Candidate, FeedItem
from broadcast.textclean import damage as text_damage
from broadcast.vitext import decimal

log = logging.getLogger(__name__)

DB_NAME = "broadcast.sqlite3"
UTC = dt.timezone.utc
# How far back a new item is compared with stored stories for near-duplicates.
DEDUPE_LOOKBACK = dt.timedelta(days=7)
# A story dated this far after `now` is not offered (building for a past date).
FUTURE_SLACK = dt.timedelta(hours=12)

# Ordered schema migrations; PRAGMA user_version counts how many have run.
# Never edit a released step: append a new one.
MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE stories (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        summary TEXT NOT NULL DEFAULT '',
        link TEXT NOT NULL DEFAULT '',
        published TEXT,               -- UTC ISO; NULL when no feed gave a usable date
        first_seen TEXT NOT NULL,     -- UTC ISO
        ref_time TEXT NOT NULL,       -- published, else first_seen: what freshness compares
        score REAL NOT NULL DEFAULT 0,
        topics TEXT NOT NULL DEFAULT '[]',   -- JSON list of topic names
        matches TEXT NOT NULL DEFAULT '[]',  -- JSON list of {phrase, topic, weight, label}
        updated TEXT NOT NULL
    );
    CREATE INDEX stories_ref_time ON stories(ref_time);
    CREATE TABLE story_keys (
        key TEXT PRIMARY KEY,          -- 'link:host/path' or 'guid:feed:value'
        story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE
    );
    CREATE INDEX story_keys_story ON story_keys(story_id);
    CREATE TABLE story_sources (
        story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
        feed TEXT NOT NULL,
        source TEXT NOT NULL,
        title TEXT NOT NULL,
        link TEXT NOT NULL,
        guid TEXT NOT NULL DEFAULT '',
        first_seen TEXT NOT NULL,
        PRIMARY KEY (story_id, feed)   -- one row per feed that carried the story
    );
    CREATE INDEX story_sources_feed ON story_sources(feed, story_id);
    CREATE TABLE aired (
        station TEXT NOT NULL,
        date TEXT NOT NULL,            -- bulletin date, YYYY-MM-DD
        slot TEXT NOT NULL DEFAULT '',
        story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
        position INTEGER NOT NULL DEFAULT 0,
        aired_at TEXT NOT NULL,
        PRIMARY KEY (station, date, slot, story_id)
    );
    CREATE INDEX aired_station_story ON aired(station, story_id);
    CREATE TABLE feed_state (
        feed TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        etag TEXT,
        last_modified TEXT,
        last_status TEXT,
        last_message TEXT,
        last_checked TEXT,
        last_ok TEXT
    );
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 2: bulletins with their lifecycle, airing records that outlive stories, notices
    """
    CREATE TABLE airings (
        station TEXT NOT NULL,
        date TEXT NOT NULL,            -- bulletin date, YYYY-MM-DD
        slot TEXT NOT NULL DEFAULT '',
        story_id INTEGER NOT NULL,     -- no foreign key: the record outlives the story
        position INTEGER NOT NULL DEFAULT 0,
        title TEXT NOT NULL DEFAULT '',
        sources TEXT NOT NULL DEFAULT '[]',
        topics TEXT NOT NULL DEFAULT '[]',
        link TEXT NOT NULL DEFAULT '',
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (station, date, slot, story_id)
    );
    CREATE INDEX airings_station_story ON airings(station, story_id);
    CREATE INDEX airings_date ON airings(date);
    INSERT INTO airings (station, date, slot, story_id, position, title, sources, topics, link, recorded_at)
        SELECT a.station, a.date, a.slot, a.story_id, a.position, s.title,
               '[]', s.topics, s.link, a.aired_at
        FROM aired a JOIN stories s ON s.id = a.story_id;
    DROP TABLE aired;
    CREATE TABLE bulletins (
        station TEXT NOT NULL,
        date TEXT NOT NULL,
        slot TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL DEFAULT 'bulletin',   -- bulletin | notice
        title TEXT NOT NULL DEFAULT '',
        priority TEXT NOT NULL DEFAULT '',        -- notices: normal | priority | emergency
        generated_text TEXT,
        generated_sha TEXT,
        generated_at TEXT,
        items TEXT NOT NULL DEFAULT '[]',         -- JSON: the stories offered in the generated script
        standing TEXT NOT NULL DEFAULT '[]',      -- JSON: standing messages in the generated script
        notices TEXT NOT NULL DEFAULT '[]',       -- JSON: notices in the generated script
        script_sha TEXT,                          -- the script as last seen
        approved_sha TEXT,
        approved_by TEXT,
        approved_at TEXT,
        held INTEGER NOT NULL DEFAULT 0,
        held_by TEXT,
        held_at TEXT,
        hold_reason TEXT,
        rendered_sha TEXT,
        rendered_at TEXT,
        rendered_edited INTEGER NOT NULL DEFAULT 0,
        rendered_items TEXT NOT NULL DEFAULT '[]',
        rendered_parts TEXT NOT NULL DEFAULT '{}',  -- JSON: seconds by segment kind, standing and notices read
        duration REAL NOT NULL DEFAULT 0,
        engines TEXT NOT NULL DEFAULT '[]',
        loudness REAL,
        true_peak REAL,
        audio TEXT,
        warnings TEXT NOT NULL DEFAULT '[]',
        failed_message TEXT,
        failed_at TEXT,
        published_sha TEXT,
        published_at TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (station, date, slot)
    );
    CREATE INDEX bulletins_date ON bulletins(date);
    CREATE TABLE bulletin_events (
        id INTEGER PRIMARY KEY,
        station TEXT NOT NULL,
        date TEXT NOT NULL,
        slot TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL,
        actor TEXT NOT NULL DEFAULT '',
        action TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX bulletin_events_key ON bulletin_events(station, date, slot);
    CREATE TABLE notices (
        id INTEGER PRIMARY KEY,
        stations TEXT NOT NULL,        -- JSON list of station ids
        text TEXT NOT NULL,
        priority TEXT NOT NULL DEFAULT 'normal',
        valid_from TEXT NOT NULL,
        valid_to TEXT NOT NULL,
        created_by TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        withdrawn_at TEXT
    );
    """,
    # 3: publishing: the delivery log and the podcast episodes
    """
    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        station TEXT NOT NULL,
        date TEXT NOT NULL,            -- bulletin date
        slot TEXT NOT NULL DEFAULT '',
        target TEXT NOT NULL,          -- the target as the operator knows it, no secrets
        kind TEXT NOT NULL,            -- folder | sftp | http | podcast | ...
        destination TEXT NOT NULL DEFAULT '',
        version TEXT NOT NULL,         -- script sha + audio checksum of what was sent
        checksum TEXT NOT NULL,        -- sha256 of the delivered bytes
        size INTEGER NOT NULL DEFAULT 0,
        result TEXT NOT NULL,          -- delivered | replaced | failed | withdrawn
        attempts INTEGER NOT NULL DEFAULT 1,
        message TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL
    );
    CREATE INDEX deliveries_key ON deliveries(station, date, slot, target);
    CREATE INDEX deliveries_at ON deliveries(at);
    CREATE TABLE podcast_episodes (
        station TEXT NOT NULL,
        date TEXT NOT NULL,
        slot TEXT NOT NULL DEFAULT '',
        guid TEXT NOT NULL UNIQUE,
        version TEXT NOT NULL,
        title TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        audio TEXT NOT NULL,           -- relative to the output folder
        size INTEGER NOT NULL,
        duration REAL NOT NULL,
        checksum TEXT NOT NULL,
        published_at TEXT NOT NULL,
        PRIMARY KEY (station, date, slot)
    );
    """,
    # 4: events, local items, decoding damage
    """
    ALTER TABLE stories ADD COLUMN event_id INTEGER;   -- stories of one event share the first one's id
    UPDATE stories SET event_id = id;
    CREATE INDEX stories_event ON stories(event_id);
    ALTER TABLE stories ADD COLUMN local INTEGER NOT NULL DEFAULT 0;   -- 1: written by the province or commune
    ALTER TABLE stories ADD COLUMN damage INTEGER NOT NULL DEFAULT 0;  -- undecodable bytes in the stored text
    """,
    # 5: review desk accounts, their sessions and failed logins (for rate limiting)
    """
    CREATE TABLE desk_users (
        name TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,   -- argon2id, with its parameters and salt
        role TEXT NOT NULL DEFAULT 'staff',   -- staff | province | admin
        stations TEXT NOT NULL DEFAULT '[]',  -- JSON list of station ids (staff)
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE desk_sessions (
        token_sha TEXT PRIMARY KEY,    -- sha256 of the cookie value: a stolen database opens no session
        user TEXT NOT NULL REFERENCES desk_users(name) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX desk_sessions_user ON desk_sessions(user);
    CREATE TABLE desk_login_failures (
        id INTEGER PRIMARY KEY,
        who TEXT NOT NULL,             -- 'user:<name>' or 'addr:<ip>'
        at TEXT NOT NULL
    );
    CREATE INDEX desk_login_failures_who ON desk_login_failures(who, at);
    """,
    # 6: a bulletin whose audio a run is replacing is out of every playlist, whichever process writes it
    """
    ALTER TABLE bulletins ADD COLUMN replacing TEXT;   -- the old audio file's size:mtime while a run replaces it
    """,
]


def _statements(script: str) -> list[str]:
    """Split SQL into statements (a ';' inside a comment or string does not end one).

    executescript() would commit the migration's transaction half-way.
    """
    out: list[str] = []
    buf = ""
    for piece in script.split(";"):
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n;"):
                out.append(buf)
            buf = ""
    return out


def to_db_time(value: dt.datetime) -> str:
    """UTC ISO text that sorts in time order."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=VN_TZ)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def from_db_time(text: str | None) -> dt.datetime | None:
    """Stored UTC text back to an aware datetime in Vietnam time."""
    if not text:
        return None
    return dt.datetime.fromisoformat(text).astimezone(VN_TZ)


@dataclass
class FeedState:
    """What the store remembers about one feed between runs."""

    feed: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    last_status: str | None = None
    last_message: str | None = None
    last_checked: dt.datetime | None = None
    last_ok: dt.datetime | None = None


@dataclass
class UpsertResult:
    """What happened to one parsed item."""

    story_id: int
    status: str  # "new" story | "merged" into a story from another source | "known" already stored
    score: float


def format_match(phrase: str, topic: str, weight: float) -> str:
    """'một cửa liên thông (mot_cua +2)' for matches without their own wording."""
    return f"{phrase} ({topic} {weight:+g})" if topic else phrase


def _matches_json(relevance: Any) -> str:
    out = []
    for m in getattr(relevance, "matches", None) or []:
        phrase = str(getattr(m, "phrase", m))
        topic = str(getattr(m, "topic", ""))
        weight = float(getattr(m, "weight", 0.0))
        # relevance.Match words itself for staff ("VNeID (+1,25, tiêu đề)").
        label = str(m) if type(m).__str__ is not object.__str__ else format_match(phrase, topic, weight)
        out.append({"phrase": phrase, "topic": topic, "weight": weight, "label": label})
    return json.dumps(out, ensure_ascii=False)


def _labels(matches_json: str) -> list[str]:
    out = []
    for m in json.loads(matches_json):
        if isinstance(m, dict):
            out.append(m.get("label") or format_match(m.get("phrase", ""), m.get("topic", ""),
                                                      float(m.get("weight", 0))))
    return out


def _sqlite_error_is(exc: sqlite3.DatabaseError, codes: tuple[int, ...], phrases: tuple[str, ...]) -> bool:
    """True when `exc` has one of the primary result `codes` (or, on old Pythons, one of the `phrases`)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in codes
    return any(phrase in str(exc) for phrase in phrases)


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    # SQLITE_CORRUPT and SQLITE_NOTADB: damage no retry can fix.
    return _sqlite_error_is(exc, (11, 26), ("malformed", "not a database"))


def _is_disk_full(exc: sqlite3.DatabaseError) -> bool:
    # SQLITE_FULL, and SQLITE_IOERR, which is what a full disk gives when the journal cannot grow.
    return _sqlite_error_is(exc, (13, 10), ("disk is full", "disk I/O error"))


def corrupt_error(path: Path) -> StoreCorruptError:
    """The message for a damaged database file: what happened and how to recover."""
    return StoreCorruptError(
        f"Tệp dữ liệu {path} bị hỏng (có thể do mất điện hoặc lỗi ổ đĩa). Hãy đổi tên tệp này "
        f"(ví dụ thành {path.name}.hong) rồi chạy lại: chương trình tạo tệp mới và tải lại tin từ "
        "các nguồn; chỉ lịch sử tin đã phát bắt đầu lại."
    )


def disk_full_error(path: Path) -> BroadcastError:
    """The message for a database that cannot be written: the disk is full or failing."""
    return DiskFullError(
        f"Hết dung lượng đĩa khi ghi tệp dữ liệu {path} (hoặc ổ đĩa bị lỗi): hãy giải phóng dung lượng "
        "rồi chạy lại; dữ liệu đã lưu trước đó vẫn còn nguyên."
    )


class _Cursor(sqlite3.Cursor):
    """A cursor whose corruption errors, at any step, become StoreCorruptError."""

    def _guard(self, call, *args):  # type: ignore[no-untyped-def]
        try:
            return call(*args)
        except sqlite3.DatabaseError as exc:
            if _is_corrupt(exc):
                raise corrupt_error(self.connection.path) from None  # type: ignore[attr-defined]
            if _is_disk_full(exc):
                raise disk_full_error(self.connection.path) from None  # type: ignore[attr-defined]
            raise

    def execute(self, *args):  # type: ignore[no-untyped-def, override]
        return self._guard(super().execute, *args)

    def executemany(self, *args):  # type: ignore[no-untyped-def, override]
        return self._guard(super().executemany, *args)

    def fetchone(self):  # type: ignore[no-untyped-def]
        return self._guard(super().fetchone)

    def fetchmany(self, *args):  # type: ignore[no-untyped-def]
        return self._guard(super().fetchmany, *args)

    def fetchall(self):  # type: ignore[no-untyped-def]
        return self._guard(super().fetchall)

    def __next__(self):  # type: ignore[no-untyped-def]
        return self._guard(super().__next__)


class _Connection(sqlite3.Connection):
    """A connection that knows its file and runs every statement through a guarded cursor."""

    path: Path

    def cursor(self, factory=_Cursor):  # type: ignore[no-untyped-def, override]
        return super().cursor(factory)

    def execute(self, *args):  # type: ignore[no-untyped-def, override]
        return self.cursor().execute(*args)

    def executemany(self, *args):  # type: ignore[no-untyped-def, override]
        return self.cursor().executemany(*args)


def _reads_better(item: FeedItem, title: str, summary: str, damage: int, local: bool,
                  edited: bool = False) -> bool:
    """True when a new fetch of a stored story should replace its text.

    A local item follows its file whenever staff edited it (`edited`: its
    date or author changed); a feed item is replaced when the new text was
    decoded with fewer undecodable bytes and mojibake letters than the stored one.
    """
    if local:
        return item.local and (edited or (item.title, item.summary) != (title, summary))
    if (item.title, item.summary) == (title, summary):
        return False
    old = damage + text_damage(title) + text_damage(summary)
    new = item.damage + text_damage(item.title) + text_damage(item.summary)
    return new < old


class Store:
    """The broadcast database; safe to open from two processes at once (WAL, busy timeout)."""

    def __init__(self, path: Path | str, *, timeout: float = 30.0) -> None:
        """Open or create the database at `path` (a .sqlite3 file, or a data directory) and migrate it."""
        p = Path(path).expanduser()
        if p.is_dir() or p.suffix.lower() not in (".sqlite3", ".sqlite", ".db"):
            p = p / DB_NAME
        self.path = p
        self.timeout = timeout
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(p), timeout=timeout, isolation_level=None, factory=_Connection)
            self.db.path = p
        except (OSError, sqlite3.Error) as exc:
            raise BroadcastError(
                f"Không mở được tệp dữ liệu {p}: {exc}. Hãy kiểm tra quyền ghi thư mục dữ liệu (data_dir)."
            ) from None
        self._index: NearDuplicateIndex | None = None
        self._index_max_id = 0
        try:
            self._setup()
        except BroadcastError:  # damaged, or the disk is full
            self.db.close()
            raise
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise self._locked_error(exc) from None

    def _locked_error(self, exc: Exception) -> BroadcastError:
        if "locked" in str(exc) or "busy" in str(exc):
            return BroadcastError(
                f"Tệp dữ liệu {self.path} đang bị một tiến trình khác giữ quá {decimal(self.timeout)} giây. "
                "Hãy đợi lệnh kia chạy xong rồi thử lại."
            )
        if isinstance(exc, sqlite3.DatabaseError) and _is_disk_full(exc):
            return disk_full_error(self.path)
        return BroadcastError(f"Lỗi tệp dữ liệu {self.path}: {exc}.")

    def _setup(self) -> None:
        self.db.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        # Switching to WAL needs a moment alone with the file; another process
        # opening at the same instant makes it report "locked" without waiting.
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                mode = self.db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        if str(mode).lower() != "wal":
            log.warning("SQLite journal mode is %s, not WAL (file system without shared memory?)", mode)
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("PRAGMA foreign_keys = ON")
        self._migrate()

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise BroadcastError(
                f"Tệp dữ liệu {self.path} do phiên bản broadcast mới hơn tạo ra (lược đồ {version}). "
                "Hãy cập nhật broadcast."
            )
        if version == len(MIGRATIONS):
            return
        with self._write():
            # Another process may have migrated while we waited for the lock.
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            for step in range(version, len(MIGRATIONS)):
                for statement in _statements(MIGRATIONS[step]):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {step + 1}")
                log.info("migrated %s to schema %d", self.path, step + 1)

    def _write(self) -> "_Transaction":
        return _Transaction(self)

    @property
    def schema_version(self) -> int:
        """Number of migrations applied."""
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        try:
            self.db.close()
        except sqlite3.Error:
            pass

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ feed cache

    def feed_state(self, feed: str, url: str | None = None) -> FeedState | None:
        """Remembered cache headers and last result of a feed; None if unknown or its URL changed."""
        row = self.db.execute(
            "SELECT feed, url, etag, last_modified, last_status, last_message, last_checked, last_ok "
            "FROM feed_state WHERE feed = ?", (feed,)).fetchone()
        if row is None:
            return None
        state = FeedState(row[0], row[1], row[2], row[3], row[4], row[5],
                          from_db_time(row[6]), from_db_time(row[7]))
        if url is not None and state.url != url:
            # Validators belong to the old address.
            state.etag = state.last_modified = None
        return state

    def cache_headers(self, feed: str, url: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) remembered for this feed at this URL."""
        state = self.feed_state(feed, url)
        return (state.etag, state.last_modified) if state else (None, None)

    def set_feed_state(self, feed: str, url: str, status: str, message: str, now: dt.datetime,
                       etag: str | None = None, last_modified: str | None = None,
                       keep_validators: bool = False) -> None:
        """Record the outcome of a fetch, and new cache headers when it succeeded."""
        with self._write():
            old = self.feed_state(feed, url)
            if keep_validators and old:
                etag = etag or old.etag
                last_modified = last_modified or old.last_modified
            last_ok = to_db_time(now) if status != "failed" else (
                to_db_time(old.last_ok) if old and old.last_ok else None)
            self.db.execute(
                "INSERT INTO feed_state (feed, url, etag, last_modified, last_status, last_message, "
                "last_checked, last_ok) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(feed) DO UPDATE SET url = excluded.url, etag = excluded.etag, "
                "last_modified = excluded.last_modified, last_status = excluded.last_status, "
                "last_message = excluded.last_message, last_checked = excluded.last_checked, "
                "last_ok = excluded.last_ok",
                (feed, url, etag, last_modified, status, message, to_db_time(now), last_ok))

    def feed_states(self) -> list[FeedState]:
        """Every feed the store has seen, by name."""
        names = [r[0] for r in self.db.execute("SELECT feed FROM feed_state ORDER BY feed")]
        return [s for s in (self.feed_state(n) for n in names) if s]

    # ------------------------------------------------------------ stories

    def _refresh_index(self, now: dt.datetime) -> NearDuplicateIndex:
        if self._index is None:
            self._index = NearDuplicateIndex()
            since = to_db_time(now - DEDUPE_LOOKBACK)
            # Local items are never a repeat of the news, nor the news of them.
            rows = self.db.execute(
                "SELECT id, title, summary, ref_time FROM stories "
                "WHERE (ref_time >= ? OR first_seen >= ?) AND local = 0", (since, since))
        else:
            # Stories another process stored since we last looked.
            rows = self.db.execute(
                "SELECT id, title, summary, ref_time FROM stories WHERE id > ? AND local = 0",
                (self._index_max_id,))
        for sid, title, summary, ref in rows:
            self._index.add(sid, fingerprint(title, summary), from_db_time(ref))
            self._index_max_id = max(self._index_max_id, sid)
        self._index_max_id = max(self._index_max_id, self.db.execute(
            "SELECT COALESCE(MAX(id), 0) FROM stories").fetchone()[0])
        return self._index

    def add_items(self, items: Sequence[tuple[FeedItem, Any]], now: dt.datetime) -> list[UpsertResult]:
        """Store parsed items with their relevance in one transaction, merging repeats into one story.

        Each element is (item, relevance) where relevance has `score`, `topics`,
        `matches` (or is None). A repeat is the same guid or link, or the same
        story from another source with a reworded title or lead.
        """
        results: list[UpsertResult] = []
        if not items:
            return results
        try:
            with self._write():
                index = self._refresh_index(now)
                for item, relevance in items:
                    results.append(self._upsert(index, item, relevance, now))
        except sqlite3.OperationalError as exc:
            self._index = None  # it may hold stories that were rolled back
            raise self._locked_error(exc) from None
        except BaseException:
            self._index = None
            raise
        return results

    def _upsert(self, index: NearDuplicateIndex, item: FeedItem, relevance: Any,
                now: dt.datetime) -> UpsertResult:
        keys = item_keys(item)
        score = float(getattr(relevance, "score", 0.0) or 0.0)
        topics = list(getattr(relevance, "topics", None) or [])
        now_db = to_db_time(now)
        published = to_db_time(item.published) if item.published else None
        story_id = None
        for key in keys:
            row = self.db.execute("SELECT story_id FROM story_keys WHERE key = ?", (key,)).fetchone()
            if row:
                story_id = row[0]
                break
        fp = None
        status = "known"
        if story_id is None and not item.local:
            fp = fingerprint(item.title, item.summary)
            story_id = index.find(fp, item.published or now)
            status = "merged"
        if story_id is None:
            event = None
            if fp is not None:
                # Another outlet's own report of the same event: a separate
                # story, but one event, so that a station hears it once.
                match = index.find_event(fp, item.published or now)
                if match is not None:
                    row = self.db.execute("SELECT event_id FROM stories WHERE id = ?", (match,)).fetchone()
                    event = row[0] if row and row[0] is not None else match
            cur = self.db.execute(
                "INSERT INTO stories (title, summary, link, published, first_seen, ref_time, score, "
                "topics, matches, updated, local, damage) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (item.title, item.summary, item.link, published, now_db, published or now_db, score,
                 json.dumps(topics, ensure_ascii=False), _matches_json(relevance), now_db,
                 int(item.local), item.damage))
            story_id = int(cur.lastrowid)
            self.db.execute("UPDATE stories SET event_id = ? WHERE id = ?", (event or story_id, story_id))
            if not item.local:
                index.add(story_id, fp, item.published or now)
            self._index_max_id = max(self._index_max_id, story_id)
            status = "new"
        else:
            self._merge(story_id, item, relevance, score, topics, published, now_db)
        for key in keys:
            self.db.execute("INSERT OR IGNORE INTO story_keys (key, story_id) VALUES (?, ?)", (key, story_id))
        cur = self.db.execute(
            "INSERT OR IGNORE INTO story_sources (story_id, feed, source, title, link, guid, first_seen) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (story_id, item.feed, item.source, item.title, item.link, item.guid, now_db))
        if status == "known" and cur.rowcount:
            status = "merged"  # same link, but reached through another feed
        row = self.db.execute("SELECT score FROM stories WHERE id = ?", (story_id,)).fetchone()
        return UpsertResult(story_id=story_id, status=status, score=float(row[0]))

    def _merge(self, story_id: int, item: FeedItem, relevance: Any, score: float,
               topics: list[str], published: str | None, now_db: str) -> None:
        row = self.db.execute(
            "SELECT title, summary, published, first_seen, score, topics, local, damage FROM stories WHERE id = ?",
            (story_id,)).fetchone()
        title, summary, old_pub, first_seen, old_score, old_topics, local, old_damage = row
        updates: dict[str, Any] = {}
        edited = bool(local) and (published != old_pub or self.db.execute(
            "SELECT 1 FROM story_sources WHERE story_id = ? AND feed = ? AND source != ?",
            (story_id, item.feed, item.source)).fetchone() is not None)
        if _reads_better(item, title, summary, old_damage, bool(local), edited):
            # A feed fixed after a bad fetch, or staff editing a local item:
            # the story takes the new text, and so does this feed's record.
            updates.update(title=item.title, summary=item.summary, damage=item.damage)
            self.db.execute("UPDATE story_sources SET title = ?, source = ? WHERE story_id = ? AND feed = ?",
                            (item.title, item.source, story_id, item.feed))
            if local and relevance is not None:
                updates.update(score=score, matches=_matches_json(relevance),
                               topics=json.dumps(topics, ensure_ascii=False))
                topics = []
            if local and published != old_pub:
                updates.update(published=published, ref_time=published or first_seen)
        elif not summary and item.summary:
            updates["summary"] = item.summary
        if published and (old_pub is None or published < old_pub) and not local:
            updates["published"] = published
            updates["ref_time"] = published
        if relevance is not None and score > old_score and "score" not in updates:
            updates["score"] = score
            updates["matches"] = _matches_json(relevance)
        merged_topics = json.loads(updates.get("topics", old_topics))
        for t in topics:
            if t not in merged_topics:
                merged_topics.append(t)
        if merged_topics != json.loads(updates.get("topics", old_topics)):
            updates["topics"] = json.dumps(merged_topics, ensure_ascii=False)
        if updates:
            updates["updated"] = now_db
            cols = ", ".join(f"{k} = ?" for k in updates)
            self.db.execute(f"UPDATE stories SET {cols} WHERE id = ?", (*updates.values(), story_id))

    def withdraw_local(self, feed: str, present: list[str]) -> int:
        """Delete the local items of `feed` whose file is gone (guid not in `present`); return how many."""
        keep = set(present)
        with self._write():
            rows = self.db.execute(
                "SELECT s.id, ss.guid FROM stories s JOIN story_sources ss ON ss.story_id = s.id "
                "WHERE s.local = 1 AND ss.feed = ?", (feed,)).fetchall()
            gone = {sid for sid, guid in rows if guid not in keep}
            for sid in gone:
                self.db.execute("DELETE FROM stories WHERE id = ?", (sid,))
        return len(gone)

    def local_story_ids(self, feed: str) -> dict[str, int]:
        """The stored local items of `feed`: guid -> story id."""
        return {guid: sid for sid, guid in self.db.execute(
            "SELECT s.id, ss.guid FROM stories s JOIN story_sources ss ON ss.story_id = s.id "
            "WHERE s.local = 1 AND ss.feed = ?", (feed,))}

    def rescore(self, scorer: Callable[[str, str], Any], vocab_id: str) -> int:
        """Score every story again when the vocabulary changed (`vocab_id` differs); return how many."""
        with self._write():
            row = self.db.execute("SELECT value FROM meta WHERE key = 'vocabulary'").fetchone()
            if row and row[0] == vocab_id:
                return 0
            count = 0
            if row is not None:
                rows = self.db.execute("SELECT id, title, summary FROM stories").fetchall()
                for sid, title, summary in rows:
                    rel = scorer(title, summary)
                    self.db.execute(
                        "UPDATE stories SET score = ?, topics = ?, matches = ? WHERE id = ?",
                        (float(rel.score), json.dumps(list(rel.topics), ensure_ascii=False),
                         _matches_json(rel), sid))
                    count += 1
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('vocabulary', ?)", (vocab_id,))
            return count

    def prune(self, before: dt.datetime) -> int:
        """Delete stories older than `before` (by date and first sight); airing records stay."""
        cutoff = to_db_time(before)
        with self._write():
            cur = self.db.execute("DELETE FROM stories WHERE ref_time < ? AND first_seen < ?", (cutoff, cutoff))
            n = cur.rowcount
        if n:
            self._index = None  # rebuilt on next use
        return n

    # ------------------------------------------------------------ reading

    def _candidates_from_rows(self, rows: list[tuple]) -> list[Candidate]:
        ids = [r[0] for r in rows]
        sources: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start:chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            for sid, feed, source in self.db.execute(
                    f"SELECT story_id, feed, source FROM story_sources WHERE story_id IN ({marks}) "
                    "ORDER BY first_seen, rowid", chunk):
                sources[sid].append((feed, source))
        out: list[Candidate] = []
        for sid, title, summary, link, published, first_seen, score, topics, matches, local, event in rows:
            names: list[str] = []
            feeds: list[str] = []
            for feed, source in sources[sid]:
                if source and source not in names:
                    names.append(source)
                if feed not in feeds:
                    feeds.append(feed)
            out.append(Candidate(
                id=sid, title=title, summary=summary, link=link, sources=names, feeds=feeds,
                published=from_db_time(published), first_seen=from_db_time(first_seen),
                score=float(score), topics=list(json.loads(topics)),
                matches=_labels(matches), local=bool(local), event=int(event or sid),
            ))
        return out

    _COLUMNS = ("s.id, s.title, s.summary, s.link, s.published, s.first_seen, s.score, s.topics, s.matches, "
                "s.local, s.event_id")

    def candidates(self, station_id: str, now: dt.datetime, fresh_hours: float,
                   feeds: list[str] | None = None, *, date: dt.date | None = None,
                   slot: str | None = None) -> list[Candidate]:
        """Fresh stories never aired at this station, best score first.

        Fresh means dated (or, without a date, first seen) within `fresh_hours`
        before `now`, and no later than the end of the bulletin's day (`date`,
        else the day of `now`): a bulletin for yesterday never reads today's
        news. Known means fetched by the end of that day: a story dated earlier
        but first fetched later was not there for that day's bulletin, so a
        rebuild and the list of candidates for a past day leave it out too.
        `feeds` limits to stories carried by those feeds (by then). Stories aired
        for exactly (`date`, `slot`) still count as candidates, so that
        rebuilding a bulletin offers the same stories again.
        """
        since = to_db_time(now - dt.timedelta(hours=fresh_hours))
        day = date or now.astimezone(VN_TZ).date()
        day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), VN_TZ) - dt.timedelta(seconds=1)
        until = to_db_time(min(now + FUTURE_SLACK, day_end))
        known_by = to_db_time(day_end)
        # A story is not offered when it, or another report of the same event, aired here.
        sql = (f"SELECT {self._COLUMNS} FROM stories s WHERE s.ref_time >= ? AND s.ref_time <= ? "
               "AND s.first_seen <= ? "
               "AND NOT EXISTS (SELECT 1 FROM airings a JOIN stories e ON e.id = a.story_id "
               "WHERE a.station = ? AND e.event_id = s.event_id AND NOT (a.date = ? AND a.slot = ?))")
        args: list[Any] = [since, until, known_by, station_id,
                           date.isoformat() if date else "", slot if (date and slot is not None) else "\x00"]
        if feeds is not None:
            if not feeds:
                return []
            marks = ",".join("?" * len(feeds))
            sql += (f" AND EXISTS (SELECT 1 FROM story_sources ss WHERE ss.story_id = s.id "
                    f"AND ss.feed IN ({marks}) AND ss.first_seen <= ?)")
            args += [*feeds, known_by]
        sql += " ORDER BY s.score DESC, s.ref_time DESC, s.id"
        return self._candidates_from_rows(self.db.execute(sql, args).fetchall())

    def stories(self, ids: Iterable[int]) -> list[Candidate]:
        """Stories by id, in the order asked (unknown ids skipped)."""
        wanted = list(ids)
        found: dict[int, Candidate] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT {self._COLUMNS} FROM stories s WHERE s.id IN ({marks})",
                                   chunk).fetchall()
            for c in self._candidates_from_rows(rows):
                found[c.id] = c
        return [found[i] for i in wanted if i in found]

    def newest_story_time(self, feeds: Sequence[str]) -> dt.datetime | None:
        """When the newest story carried by these feeds was published (or first seen)."""
        marks = ",".join("?" * len(feeds)) or "''"
        row = self.db.execute(
            f"SELECT MAX(s.ref_time) FROM stories s WHERE EXISTS (SELECT 1 FROM story_sources ss "
            f"WHERE ss.story_id = s.id AND ss.feed IN ({marks}))", list(feeds)).fetchone()
        return from_db_time(row[0]) if row else None

    def count(self) -> int:
        """Number of stored stories."""
        return int(self.db.execute("SELECT COUNT(*) FROM stories").fetchone()[0])

    # ------------------------------------------------------------ airing

    def record_aired(self, station_id: str, date: dt.date, slot: str, item_ids: list[int], *,
                     now: dt.datetime) -> None:
        """Remember that these stories aired at this station in this bulletin (replacing a rebuild's record).

        Each record keeps the story's title, sources, topics and link, so
        reports still read them after old stories are pruned.
        """
        with self._write():
            self.db.execute("DELETE FROM airings WHERE station = ? AND date = ? AND slot = ?",
                            (station_id, date.isoformat(), slot or ""))
            ids = list(dict.fromkeys(item_ids))
            stories = {c.id: c for c in self.stories(ids)}
            for pos, sid in enumerate(ids):
                story = stories.get(sid)
                if story is None:
                    log.warning("record_aired: story %s is not stored (pruned?)", sid)
                    continue
                self.db.execute(
                    "INSERT INTO airings (station, date, slot, story_id, position, title, sources, topics, "
                    "link, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (station_id, date.isoformat(), slot or "", sid, pos, story.title,
                     json.dumps(story.sources, ensure_ascii=False),
                     json.dumps(story.topics, ensure_ascii=False), story.link, to_db_time(now)))

    def forget_aired(self, station_id: str, date: dt.date, slot: str = "") -> None:
        """Drop the airing record of one bulletin (it was held, or will not air)."""
        with self._write():
            self.db.execute("DELETE FROM airings WHERE station = ? AND date = ? AND slot = ?",
                            (station_id, date.isoformat(), slot or ""))

    def aired(self, station_id: str, date: dt.date | None = None) -> list[tuple[dt.date, str, int]]:
        """(date, slot, story id) aired at a station, in bulletin order."""
        sql = "SELECT date, slot, story_id FROM airings WHERE station = ?"
        args: list[Any] = [station_id]
        if date is not None:
            sql += " AND date = ?"
            args.append(date.isoformat())
        sql += " ORDER BY date, slot, position"
        return [(dt.date.fromisoformat(d), s, i) for d, s, i in self.db.execute(sql, args)]

    def airings(self, start: dt.date, end: dt.date, stations: Sequence[str] | None = None) -> list[Airing]:
        """Every airing record between two dates (inclusive), by station, date, slot and position."""
        sql = ("SELECT station, date, slot, story_id, position, title, sources, topics, link "
               "FROM airings WHERE date >= ? AND date <= ?")
        args: list[Any] = [start.isoformat(), end.isoformat()]
        if stations is not None:
            marks = ",".join("?" * len(stations)) or "''"
            sql += f" AND station IN ({marks})"
            args += list(stations)
        sql += " ORDER BY station, date, slot, position"
        return [Airing(station=r[0], date=dt.date.fromisoformat(r[1]), slot=r[2], story_id=r[3],
                       position=r[4], title=r[5], sources=json.loads(r[6]), topics=json.loads(r[7]),
                       link=r[8]) for r in self.db.execute(sql, args)]

    # ------------------------------------------------------------ bulletins

    def bulletin_row(self, station_id: str, date: dt.date, slot: str = "") -> dict[str, Any] | None:
        """The stored record of one bulletin as a dict of columns (JSON columns decoded), or None."""
        cur = self.db.execute("SELECT * FROM bulletins WHERE station = ? AND date = ? AND slot = ?",
                              (station_id, date.isoformat(), slot or ""))
        row = cur.fetchone()
        if row is None:
            return None
        return _bulletin_dict([d[0] for d in cur.description], row)

    def bulletin_rows(self, start: dt.date, end: dt.date,
                      stations: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Stored bulletin records between two dates (inclusive)."""
        sql = "SELECT * FROM bulletins WHERE date >= ? AND date <= ?"
        args: list[Any] = [start.isoformat(), end.isoformat()]
        if stations is not None:
            marks = ",".join("?" * len(stations)) or "''"
            sql += f" AND station IN ({marks})"
            args += list(stations)
        sql += " ORDER BY date, station, slot"
        cur = self.db.execute(sql, args)
        names = [d[0] for d in cur.description]
        return [_bulletin_dict(names, r) for r in cur.fetchall()]

    def first_bulletin_dates(self, stations: Sequence[str]) -> dict[str, dt.date]:
        """The date of each station's first bulletin or notice record (stations with none are left out)."""
        marks = ",".join("?" * len(stations)) or "''"
        rows = self.db.execute(f"SELECT station, MIN(date) FROM bulletins WHERE station IN ({marks}) "
                               "GROUP BY station", list(stations)).fetchall()
        return {station: dt.date.fromisoformat(first) for station, first in rows}

    def claim_bulletin(self, station_id: str, date: dt.date, slot: str, now: dt.datetime, kind: str) -> bool:
        """Create an empty record for a new bulletin; False when one exists (another run claimed the name)."""
        with self._write():
            cur = self.db.execute("INSERT OR IGNORE INTO bulletins (station, date, slot, kind, updated_at) "
                                  "VALUES (?, ?, ?, ?, ?)",
                                  (station_id, date.isoformat(), slot or "", kind, to_db_time(now)))
            return cur.rowcount == 1

    def save_bulletin(self, station_id: str, date: dt.date, slot: str, now: dt.datetime,
                      **fields: Any) -> None:
        """Create or update one bulletin's record with these columns (lists and dicts stored as JSON)."""
        bad = set(fields) - _BULLETIN_COLUMNS
        if bad:
            raise ValueError(f"unknown bulletin fields: {sorted(bad)}")
        values = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else
                      to_db_time(v) if isinstance(v, dt.datetime) else v) for k, v in fields.items()}
        values["updated_at"] = to_db_time(now)
        with self._write():
            self.db.execute("INSERT OR IGNORE INTO bulletins (station, date, slot, updated_at) "
                            "VALUES (?, ?, ?, ?)", (station_id, date.isoformat(), slot or "", values["updated_at"]))
            cols = ", ".join(f"{k} = ?" for k in values)
            self.db.execute(f"UPDATE bulletins SET {cols} WHERE station = ? AND date = ? AND slot = ?",
                            (*values.values(), station_id, date.isoformat(), slot or ""))

    def add_event(self, station_id: str, date: dt.date, slot: str, action: str, now: dt.datetime,
                  actor: str = "", detail: str = "") -> None:
        """Record who changed a bulletin and when."""
        with self._write():
            self.db.execute(
                "INSERT INTO bulletin_events (station, date, slot, at, actor, action, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (station_id, date.isoformat(), slot or "", to_db_time(now), actor, action, detail))

    def events(self, station_id: str, date: dt.date, slot: str | None = None) -> list[dict[str, Any]]:
        """A bulletin's events, oldest first."""
        sql = "SELECT station, date, slot, at, actor, action, detail FROM bulletin_events WHERE station = ? AND date = ?"
        args: list[Any] = [station_id, date.isoformat()]
        if slot is not None:
            sql += " AND slot = ?"
            args.append(slot)
        sql += " ORDER BY id"
        return [{"station": r[0], "date": dt.date.fromisoformat(r[1]), "slot": r[2], "at": from_db_time(r[3]),
                 "actor": r[4], "action": r[5], "detail": r[6]} for r in self.db.execute(sql, args)]

    # ------------------------------------------------------------ notices

    def add_notice(self, stations: Sequence[str], text: str, priority: str, valid_from: dt.date,
                   valid_to: dt.date, now: dt.datetime, created_by: str = "") -> int:
        """Store a local notice for these stations; return its id."""
        with self._write():
            cur = self.db.execute(
                "INSERT INTO notices (stations, text, priority, valid_from, valid_to, created_by, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (json.dumps(list(stations)), text, priority, valid_from.isoformat(), valid_to.isoformat(),
                 created_by, to_db_time(now)))
            return int(cur.lastrowid)

    def withdraw_notice(self, notice_id: int, now: dt.datetime) -> bool:
        """Stop a stored notice from being read again; False when there is no such notice."""
        with self._write():
            cur = self.db.execute("UPDATE notices SET withdrawn_at = ? WHERE id = ? AND withdrawn_at IS NULL",
                                  (to_db_time(now), notice_id))
            return cur.rowcount > 0

    def notices_overlapping(self, start: dt.date, end: dt.date) -> list[tuple[list[str], dt.date, dt.date]]:
        """(stations, first day, last day) of every stored notice read on a day between two dates."""
        rows = self.db.execute("SELECT stations, valid_from, valid_to FROM notices WHERE withdrawn_at IS NULL "
                               "AND valid_from <= ? AND valid_to >= ?", (end.isoformat(), start.isoformat()))
        return [(json.loads(r[0]), dt.date.fromisoformat(r[1]), dt.date.fromisoformat(r[2])) for r in rows]

    def notices_for(self, station_id: str, date: dt.date) -> list[dict[str, Any]]:
        """Stored notices for a station valid on a date, oldest first."""
        rows = self.db.execute(
            "SELECT id, stations, text, priority, valid_from, valid_to, created_by, created_at FROM notices "
            "WHERE withdrawn_at IS NULL AND valid_from <= ? AND valid_to >= ? ORDER BY id",
            (date.isoformat(), date.isoformat())).fetchall()
        out = []
        for r in rows:
            if station_id in json.loads(r[1]):
                out.append({"id": r[0], "stations": json.loads(r[1]), "text": r[2], "priority": r[3],
                            "valid_from": dt.date.fromisoformat(r[4]), "valid_to": dt.date.fromisoformat(r[5]),
                            "created_by": r[6], "created_at": from_db_time(r[7])})
        return out


_BULLETIN_JSON = {"items", "standing", "notices", "rendered_items", "rendered_parts", "engines", "warnings"}
_BULLETIN_TIMES = {"generated_at", "approved_at", "held_at", "rendered_at", "failed_at", "published_at",
                   "updated_at"}
_BULLETIN_COLUMNS = {
    "kind", "title", "priority", "generated_text", "generated_sha", "generated_at", "items", "standing",
    "notices", "script_sha", "approved_sha", "approved_by", "approved_at", "held", "held_by", "held_at",
    "hold_reason", "rendered_sha", "rendered_at", "rendered_edited", "rendered_items", "rendered_parts",
    "duration", "engines",
    "loudness", "true_peak", "audio", "warnings", "failed_message", "failed_at", "published_sha",
    "published_at", "replacing",
}


def _bulletin_dict(names: list[str], row: tuple) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in zip(names, row):
        if name in _BULLETIN_JSON:
            value = json.loads(value or ("{}" if name == "rendered_parts" else "[]"))
        elif name in _BULLETIN_TIMES:
            value = from_db_time(value)
        elif name == "date":
            value = dt.date.fromisoformat(value)
        out[name] = value
    return out


@dataclass
class Airing:
    """One story aired in one bulletin, as recorded when the bulletin was rendered to air."""

    station: str
    date: dt.date
    slot: str
    story_id: int
    position: int
    title: str
    sources: list[str]
    topics: list[str]
    link: str


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, so a writer waits for the lock up front instead of failing mid-way."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.outer = False

    def __enter__(self) -> None:
        db = self.store.db
        if db.in_transaction:  # nested: the outer transaction commits
            self.outer = True
            return
        db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self.outer:
            return
        db = self.store.db
        if exc_type is None:
            db.execute("COMMIT")
        elif db.in_transaction:
            # After some errors (a full disk) SQLite has already rolled back; a second
            # ROLLBACK would fail and hide the error that says what happened.
            db.execute("ROLLBACK")
