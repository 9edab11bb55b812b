"""What was published where: the delivery log and the podcast episodes, kept in the station database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Sequence

from broadcast.bulletin import BulletinKey
from broadcast.store import Store, from_db_time, to_db_time


@dataclass
class DeliveryRecord:
    """One line of the delivery log: what went where, when, how it ended, and its checksum."""

    station: str
    date: dt.date
    slot: str
    target: str
    kind: str
    destination: str
    version: str
    checksum: str
    size: int
    result: str  # delivered | replaced | failed | withdrawn
    attempts: int
    message: str
    at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        """A plain dict for --json output."""
        return {"station": self.station, "date": self.date.isoformat(), "slot": self.slot, "target": self.target,
                "kind": self.kind, "destination": self.destination, "version": self.version,
                "checksum": self.checksum, "size": self.size, "result": self.result, "attempts": self.attempts,
                "message": self.message, "at": self.at.isoformat()}


@dataclass
class Episode:
    """One bulletin version in a station's podcast feed."""

    station: str
    date: dt.date
    slot: str
    guid: str
    version: str
    title: str
    description: str
    audio: str  # path relative to the output folder, '/'-separated
    size: int
    duration: float
    checksum: str
    published_at: dt.datetime


_DELIVERY_COLS = ("station, date, slot, target, kind, destination, version, checksum, size, result, attempts, "
                  "message, at")
_EPISODE_COLS = ("station, date, slot, guid, version, title, description, audio, size, duration, checksum, "
                 "published_at")


def _delivery(row: tuple) -> DeliveryRecord:
    return DeliveryRecord(row[0], dt.date.fromisoformat(row[1]), row[2], row[3], row[4], row[5], row[6], row[7],
                          row[8], row[9], row[10], row[11], from_db_time(row[12]))


def _episode(row: tuple) -> Episode:
    return Episode(row[0], dt.date.fromisoformat(row[1]), row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                   row[9], row[10], from_db_time(row[11]))


def add_delivery(store: Store, rec: DeliveryRecord) -> None:
    """Append one line to the delivery log."""
    with store._write():
        store.db.execute(
            f"INSERT INTO deliveries ({_DELIVERY_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rec.station, rec.date.isoformat(), rec.slot, rec.target, rec.kind, rec.destination, rec.version,
             rec.checksum, rec.size, rec.result, rec.attempts, rec.message, to_db_time(rec.at)))


def last_success(store: Store, key: BulletinKey, target: str) -> DeliveryRecord | None:
    """The delivery of a bulletin that a target holds now, whatever its version; None after a withdrawal."""
    row = store.db.execute(
        f"SELECT {_DELIVERY_COLS} FROM deliveries WHERE station = ? AND date = ? AND slot = ? AND target = ? "
        "AND result IN ('delivered', 'replaced', 'withdrawn') ORDER BY id DESC LIMIT 1",
        (key.station, key.date.isoformat(), key.slot, target)).fetchone()
    rec = _delivery(row) if row else None
    return rec if rec is not None and rec.result != "withdrawn" else None


def delivery_log(store: Store, start: dt.date, end: dt.date, stations: Sequence[str] | None = None
                 ) -> list[DeliveryRecord]:
    """The log for bulletins dated between two days (inclusive), oldest first."""
    sql = f"SELECT {_DELIVERY_COLS} FROM deliveries WHERE date >= ? AND date <= ?"
    args: list[Any] = [start.isoformat(), end.isoformat()]
    if stations is not None:
        if not stations:
            return []
        sql += f" AND station IN ({','.join('?' * len(stations))})"
        args += list(stations)
    return [_delivery(r) for r in store.db.execute(sql + " ORDER BY id", args)]


def episode(store: Store, key: BulletinKey) -> Episode | None:
    """The bulletin's episode in its station's feed, if any."""
    row = store.db.execute(f"SELECT {_EPISODE_COLS} FROM podcast_episodes WHERE station = ? AND date = ? "
                           "AND slot = ?", (key.station, key.date.isoformat(), key.slot)).fetchone()
    return _episode(row) if row else None


def episodes(store: Store, station: str) -> list[Episode]:
    """A station's episodes, newest first."""
    rows = store.db.execute(f"SELECT {_EPISODE_COLS} FROM podcast_episodes WHERE station = ? "
                            "ORDER BY published_at DESC, date DESC, slot DESC", (station,))
    return [_episode(r) for r in rows]


def save_episode(store: Store, ep: Episode) -> None:
    """Put a bulletin's episode in the feed, replacing the one of its earlier version."""
    with store._write():
        store.db.execute(
            f"INSERT OR REPLACE INTO podcast_episodes ({_EPISODE_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (ep.station, ep.date.isoformat(), ep.slot, ep.guid, ep.version, ep.title, ep.description, ep.audio,
             ep.size, ep.duration, ep.checksum, to_db_time(ep.published_at)))


def remove_episode(store: Store, station: str, date: dt.date, slot: str) -> None:
    """Take a bulletin out of its station's feed."""
    with store._write():
        store.db.execute("DELETE FROM podcast_episodes WHERE station = ? AND date = ? AND slot = ?",
                         (station, date.isoformat(), slot))
