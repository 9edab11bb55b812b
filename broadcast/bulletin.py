"""A bulletin as a record: its key, lifecycle state, typed manifest and the results of actions on it.

The lifecycle is drafted → edited (by staff) → approved → rendered →
published, plus held (not to air) and failed. The state is not stored as one
word: it is derived from facts recorded in the store (what was generated,
what the script is now, what was approved, rendered and published, each
with the script's hash), so an edit made after approval or rendering can
never be mistaken for what was approved or rendered.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Any

from broadcast.fsutil import atomic_write_text

log = logging.getLogger(__name__)

MANIFEST_SCHEMA = 2


class State(str, Enum):
    """Where a bulletin is in its life."""

    MISSING = "missing"  # planned, nothing drafted yet
    DRAFTED = "drafted"
    EDITED = "edited"
    APPROVED = "approved"
    RENDERED = "rendered"
    PUBLISHED = "published"
    HELD = "held"
    FAILED = "failed"

    @property
    def label(self) -> str:
        """The state in staff's words."""
        return STATE_LABELS[self]


STATE_LABELS = {
    State.MISSING: "chưa soạn",
    State.DRAFTED: "đã soạn",
    State.EDITED: "đã sửa",
    State.APPROVED: "đã duyệt",
    State.RENDERED: "đã làm âm thanh",
    State.PUBLISHED: "đã phát hành",
    State.HELD: "tạm dừng, không phát",
    State.FAILED: "lỗi",
}

POLICIES = ("auto", "approved")
PRIORITIES = ("normal", "priority", "emergency")
PRIORITY_LABELS = {"normal": "thường", "priority": "ưu tiên", "emergency": "khẩn cấp"}


def notice_title(date: dt.date, priority: str) -> str:
    """'Thông báo khẩn ngày 30/11/2026'."""
    word = {"emergency": "Thông báo khẩn", "priority": "Thông báo quan trọng"}.get(priority, "Thông báo")
    return f"{word} ngày {date.strftime('%d/%m/%Y')}"


@dataclass(frozen=True)
class BulletinKey:
    """Which bulletin: a station, a date and a slot ('' for the day's only bulletin)."""

    station: str
    date: dt.date
    slot: str = ""

    @property
    def label(self) -> str:
        """'hoa-phu 2026-11-30' or 'hoa-phu-sang 2026-11-30'."""
        return f"{self.station}{'-' + self.slot if self.slot else ''} {self.date.isoformat()}"


@dataclass
class ManifestParagraph:
    text: str  # as written in the script
    spoken: str  # as made speakable and spoken
    engine: str
    voice: str
    cached: bool
    start: float | None
    end: float | None
    duration: float


@dataclass
class ManifestSegment:
    kind: str  # jingle | greeting | item | standing | notice | closing | outro | other
    start: float | None
    end: float | None
    engine: str = ""
    cached: bool = False
    paragraphs: list[ManifestParagraph] = field(default_factory=list)
    item: dict[str, Any] | None = None  # for items: id, title, sources, link, published, topics, score


@dataclass
class Manifest:
    """What one rendered bulletin contains, second by second; written next to its MP3."""

    station: dict[str, str]
    date: str
    slot: dict[str, str] | None
    kind: str  # bulletin | notice
    title: str
    generated_at: str
    broadcast_version: str
    script: str
    script_sha256: str
    script_edited: bool
    approved_by: str | None
    audio: str
    wav: str | None
    duration: float
    target_duration: float | None
    loudness_lufs: float
    true_peak_dbtp: float
    format: dict[str, Any]
    engines: list[str]
    voices: list[str]
    segments: list[ManifestSegment]
    items: list[dict[str, Any]]
    warnings: list[str]
    fingerprint: str
    schema_version: int = MANIFEST_SCHEMA

    def to_json(self) -> str:
        """The manifest as pretty UTF-8 JSON."""
        return json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Manifest":
        """Build from parsed JSON; raise ValueError when it is not a manifest this version reads."""
        if not isinstance(data, dict):
            raise ValueError("not an object")
        version = data.get("schema_version", 1)
        if not isinstance(version, int) or version > MANIFEST_SCHEMA:
            raise ValueError(f"schema {version!r}")
        if version == 1:  # written before manifests were typed: same fields, fewer of them
            data = dict(data, kind="notice" if (data.get("slot") is None and "-" in data.get("audio", "")
                                                and "thong-bao" in data.get("audio", "")) else "bulletin",
                        title="", approved_by=None, voices=[], schema_version=MANIFEST_SCHEMA)
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        segs = []
        for s in kwargs.get("segments", []):
            paras = [ManifestParagraph(**{k: p.get(k) for k in ManifestParagraph.__dataclass_fields__})
                     for p in s.get("paragraphs", [])]
            segs.append(ManifestSegment(kind=s.get("kind", "other"), start=s.get("start"), end=s.get("end"),
                                        engine=s.get("engine", ""), cached=bool(s.get("cached", False)),
                                        paragraphs=paras, item=s.get("item")))
        kwargs["segments"] = segs
        missing = names - set(kwargs)
        if missing:
            raise ValueError(f"missing {sorted(missing)}")
        return cls(**kwargs)


def write_manifest(path: Path, manifest: Manifest) -> None:
    """Write a manifest atomically."""
    atomic_write_text(path, manifest.to_json())


def read_manifest(path: Path) -> Manifest | None:
    """Read a manifest; None (with a warning in the log) when it is missing or not one we can read."""
    from broadcast.errors import BroadcastError
    from broadcast.fsutil import MAX_SETTINGS_BYTES, read_limited

    if not path.exists():
        return None
    try:
        # Never a plain read: a FIFO or device named *.json must not hang the run.
        data = json.loads(read_limited(path, "bảng kê", MAX_SETTINGS_BYTES).decode("utf-8"))
        return Manifest.from_dict(data)
    except (BroadcastError, OSError, ValueError, TypeError, KeyError) as exc:
        log.warning("%s is not a bulletin manifest this version reads (%s): ignored", path, exc)
        return None


@dataclass
class BulletinStatus:
    """Everything staff and operators ask about one bulletin."""

    key: BulletinKey
    state: State
    kind: str = "bulletin"
    title: str = ""
    policy: str = "auto"
    may_air: bool = False
    edited: bool = False
    approved: bool = False
    approved_by: str | None = None
    approved_at: dt.datetime | None = None
    held_by: str | None = None
    hold_reason: str | None = None
    duration: float = 0.0
    engines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failed_message: str | None = None
    rendered_at: dt.datetime | None = None
    published_at: dt.datetime | None = None
    script: Path | None = None
    audio: Path | None = None
    note: str = ""  # one line in staff's words: what happens next

    def to_json(self) -> dict[str, Any]:
        """A plain dict for --json output and the desk."""
        return {
            "station": self.key.station, "date": self.key.date.isoformat(), "slot": self.key.slot,
            "kind": self.kind, "title": self.title, "state": self.state.value, "state_label": self.state.label,
            "policy": self.policy, "may_air": self.may_air, "edited": self.edited, "approved": self.approved,
            "approved_by": self.approved_by,
            "approved_at": self.approved_at.isoformat() if self.approved_at else None,
            "held_by": self.held_by, "hold_reason": self.hold_reason,
            "duration": round(self.duration, 3), "engines": self.engines, "warnings": self.warnings,
            "failed_message": self.failed_message,
            "rendered_at": self.rendered_at.isoformat() if self.rendered_at else None,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "script": str(self.script) if self.script else None,
            "audio": str(self.audio) if self.audio else None, "note": self.note,
        }


def derive_state(row: dict[str, Any] | None, script_sha: str | None, policy: str) -> tuple[State, bool, bool]:
    """(state, approved for the current script, may air) from a stored record and the script's hash now."""
    if row is None and script_sha is None:
        return State.MISSING, False, False
    row = row or {}
    approved = bool(row.get("approved_sha")) and row.get("approved_sha") == script_sha
    rendered = bool(row.get("rendered_sha")) and row.get("rendered_sha") == script_sha
    published = rendered and row.get("published_sha") == script_sha
    may_air = rendered and not row.get("held") and (policy == "auto" or approved)
    if row.get("held"):
        return State.HELD, approved, False
    if row.get("failed_message") and not rendered:
        return State.FAILED, approved, False
    if published:
        return State.PUBLISHED, approved, may_air
    if rendered:
        return State.RENDERED, approved, may_air
    if approved:
        return State.APPROVED, approved, False
    if script_sha is None:
        return State.MISSING, False, False
    if row.get("generated_sha") and row.get("generated_sha") != script_sha:
        return State.EDITED, False, False
    if not row.get("generated_sha"):
        return State.EDITED, False, False  # a script we did not write
    return State.DRAFTED, False, False


# ---------------------------------------------------------------- results of actions


@dataclass
class BuildOptions:
    """What a draft or build run does."""

    date: dt.date
    now: dt.datetime  # the real current time (retention, freshness, records)
    fetch: bool = True  # fetch feeds before selecting
    refresh: bool = False  # regenerate scripts that already exist for the date
    force: bool = False  # with refresh: also replace scripts staff edited (a backup is kept)
    script_only: bool = False  # write scripts for review, no audio
    jobs: int = 0  # bulletins mastered at once; 0: one per CPU core
    actor: str = ""  # who asked (recorded in the bulletin's events)


@dataclass
class Progress:
    """How far a run is: `done` of `total` steps of a stage ("script" or "audio")."""

    stage: str
    done: int
    total: int
    label: str


@dataclass
class StationResult:
    station: str
    slot: str
    status: str  # built | unchanged | script | held | busy (another run holds it) | failed
    script: Path | None = None
    audio: Path | None = None
    duration: float = 0.0
    edited: bool = False
    items: int = -1  # news items in the script; -1 when no script was read
    offered: int = 0  # news items the selection offered when the script was drafted
    warnings: list[str] = field(default_factory=list)
    message: str = ""
    disk_full: bool = False  # failed, or never started, because a disk was full


@dataclass
class BuildReport:
    results: list[StationResult] = field(default_factory=list)
    feed_lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    speech_calls: int = 0
    cache_hits: int = 0
    seconds: float = 0.0
    root_cause: str = ""  # one line when a problem applies to every station
    disk_full: str = ""  # the first "disk full" error: the run stopped starting bulletins there

    @property
    def no_news(self) -> bool:
        """True when bulletins were made but no news was there for any of them.

        A script whose stories staff deleted had news: the feeds are fine.
        """
        counted = [r for r in self.results if r.items >= 0]
        return bool(counted) and all(r.items == 0 and r.offered == 0 for r in counted)

    @property
    def failed(self) -> list[StationResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def busy(self) -> list[StationResult]:
        return [r for r in self.results if r.status == "busy"]


@dataclass
class ScriptDiff:
    """Staff edits against what was generated."""

    key: BulletinKey
    generated: str
    current: str
    lines: list[str]  # unified diff lines

    @property
    def changed(self) -> bool:
        return self.generated != self.current


@dataclass
class HistoryEntry:
    """One bulletin in the history: what it was and what happened to it."""

    status: BulletinStatus
    items: list[dict[str, Any]]
    events: list[dict[str, Any]]


@dataclass
class NoticeResult:
    """A stored notice, and the bulletin built for it when it was read at once."""

    notice_id: int | None
    stations: list[str]
    results: list[StationResult]
    valid_to: dt.date | None = None  # the last day it is read in the daily bulletins
