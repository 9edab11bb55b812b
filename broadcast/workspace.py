"""The output layout: where every file of a bulletin lives, the locks, temp files and retention.

No other module builds these paths. One day's folder holds, per bulletin:
`<base>.txt` (the script staff read and edit), `<base>.json` (the manifest),
`<base>.mp3` (what airs) and optionally `<base>.wav`; plus the day's
`playlist.m3u`. `<base>` is the station id, `<station>-<slot>` for a slot,
or `<station>-<name>` for a one-off notice. Edited scripts of days removed by
retention are kept under `archive/<date>/`.

`podcast/` is the public folder, the only one meant to be served on the web
(at `[publish] base_url`): each station's feed `<station>.xml`, page
`<station>.html` and artwork, and under `<station>/` one file per published
bulletin version, `<date>[_<slot>]_<version>.mp3`. A file appears there only
when its version is published and leaves when it is withdrawn, so nothing held,
waiting for approval or replaced can be fetched from the web, and the
version's hashes in the name keep it from being guessed from the date.
Layout 1 had no public folder: the feed pointed into the day folders.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import portalocker

from broadcast.errors import BroadcastError, DiskFullError, LockedError, ParameterError

log = logging.getLogger(__name__)

LAYOUT_VERSION = 2
PUBLIC = "podcast"
# A published version as the publisher names it: hashes of the script and of the audio.
_VERSION = re.compile(r"[0-9a-f]{16}\.[0-9a-f]{16}")
DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Locks of one day's bulletins and playlist: '<base>-<date>.lock', 'playlist-<date>.lock'.
DATED_LOCK = re.compile(r"^(?P<name>.+-(?P<date>\d{4}-\d{2}-\d{2}))\.lock$")
# Temporary files of atomic writes (see fsutil.atomic_path) that a killed run left behind.
STALE_TEMP = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.(tmp|mp3|wav)$")
STALE_AFTER = dt.timedelta(hours=1)
ARCHIVE = "archive"
PLAYLIST = "playlist.m3u"
# Slot names as the configuration allows them, and notice names (a narrower form of the same)
_SLOT = re.compile(r"[a-z0-9_-]+")
_STATION = re.compile(r"[a-z0-9][a-z0-9_-]*")


@dataclass(frozen=True)
class BulletinPaths:
    """Every file of one bulletin."""

    day: Path
    base: str

    @property
    def script(self) -> Path:
        return self.day / f"{self.base}.txt"

    @property
    def manifest(self) -> Path:
        return self.day / f"{self.base}.json"

    @property
    def audio(self) -> Path:
        return self.day / f"{self.base}.mp3"

    @property
    def wav(self) -> Path:
        return self.day / f"{self.base}.wav"

    def backup(self, stamp: dt.datetime) -> Path:
        """Where a replaced staff-edited script is kept."""
        return self.day / f"{self.base}.txt.{stamp.strftime('%Y%m%d-%H%M%S')}.bak"


def bulletin_base(station_id: str, slot: str = "") -> str:
    """File stem of one bulletin: 'hoa-phu' or 'hoa-phu-sang'."""
    # Every file and lock of a bulletin is named from here: a name with '/' or '..' must never walk out.
    if slot and not _SLOT.fullmatch(slot):
        raise ParameterError(f"Tên buổi phát hay thông báo '{slot}' không hợp lệ: chỉ gồm chữ thường không dấu, "
                             "số, '-' hoặc '_'.")
    return f"{station_id}-{slot}" if slot else station_id


class Workspace:
    """The output folder (`out_dir`) and the data folder's locks, as one layout."""

    def __init__(self, out_dir: Path, data_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        self.data_dir = Path(data_dir)
        self._held: set[str] = set()  # names of the locks this run holds

    # -- paths

    def day_dir(self, date: dt.date) -> Path:
        """The folder of one day's bulletins."""
        return self.out_dir / date.isoformat()

    def paths(self, station_id: str, date: dt.date, slot: str = "") -> BulletinPaths:
        """The files of one bulletin (a slot name, or a notice's name)."""
        return BulletinPaths(self.day_dir(date), bulletin_base(station_id, slot))

    def playlist(self, date: dt.date) -> Path:
        """The day's M3U playlist."""
        return self.day_dir(date) / PLAYLIST

    def archive_dir(self, date: dt.date) -> Path:
        """Where edited scripts of a removed day are kept."""
        return self.out_dir / ARCHIVE / date.isoformat()

    @property
    def public_dir(self) -> Path:
        """The only folder served on the web: feeds, pages, artwork and published audio."""
        return self.out_dir / PUBLIC

    def public_audio_dir(self, station_id: str) -> Path:
        """The published audio of one station."""
        if not _STATION.fullmatch(station_id):
            raise ParameterError(f"Mã đài '{station_id}' không hợp lệ.")
        return self.public_dir / station_id

    def public_audio(self, station_id: str, date: dt.date, slot: str, version: str) -> Path:
        """Where one published bulletin version is served from: a name only its publication makes."""
        bulletin_base(station_id, slot)
        if not _VERSION.fullmatch(version):
            raise ParameterError(f"Phiên bản bản tin '{version}' không hợp lệ.")
        return self.public_audio_dir(station_id) / f"{date.isoformat()}{'_' + slot if slot else ''}_{version}.mp3"

    def public_rel(self, path: Path) -> str:
        """A path inside the public folder as the web sees it: '/'-separated, relative to the folder."""
        return path.relative_to(self.public_dir).as_posix()

    def manifests(self, date: dt.date) -> list[Path]:
        """Every manifest file in a day's folder, by name."""
        day = self.day_dir(date)
        if not day.is_dir():
            return []
        return sorted(p for p in day.glob("*.json") if not p.name.startswith("."))

    def check_day_dir(self, date: dt.date) -> Path:
        """Make sure the day's folder exists and is a folder; say what to do otherwise."""
        day = self.day_dir(date)
        if day.exists() and not day.is_dir():
            raise BroadcastError(
                f"{day} là một tệp, không phải thư mục: hãy đổi tên hoặc xóa tệp đó rồi chạy lại.")
        try:
            day.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise layout_error(day, exc, "thư mục bản tin") from None
        if not os.access(day, os.W_OK):
            raise BroadcastError(
                f"Không có quyền ghi vào thư mục bản tin {day}: hãy cấp quyền ghi hoặc dùng --out khác.")
        return day

    # -- locks

    def _lock_path(self, name: str) -> Path:
        folder = self.data_dir / "locks"
        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise BroadcastError(
                f"Thư mục dữ liệu {self.data_dir} là một tệp: hãy sửa khóa data_dir trong cấu hình.")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise layout_error(folder, exc, "thư mục khóa") from None
        path = folder / f"{name}.lock"
        if path.is_dir():
            raise BroadcastError(f"{path} là thư mục, không phải tệp khóa: hãy xóa thư mục đó rồi chạy lại.")
        return path

    @contextlib.contextmanager
    def _lock(self, name: str, what: str, shared: bool = False, timeout: float = 0.0) -> Iterator[None]:
        path = self._lock_path(name)
        flags = portalocker.LockFlags.SHARED if shared else portalocker.LockFlags.EXCLUSIVE
        try:
            lock = portalocker.Lock(str(path), mode="a", timeout=timeout, check_interval=0.05,
                                    flags=flags | portalocker.LockFlags.NON_BLOCKING, fail_when_locked=False)
            lock.acquire()
        except (portalocker.exceptions.LockException, portalocker.exceptions.AlreadyLocked):
            # No path in the message: staff on the desk read it too, and the lock goes
            # with the process that holds it, so there is nothing to delete by hand.
            raise LockedError(f"{what} đang được một lần chạy khác xử lý. "
                              "Hãy đợi lần đó xong rồi chạy lại.") from None
        except OSError as exc:
            raise layout_error(path, exc, "tệp khóa") from None
        self._held.add(name)
        try:
            yield
        finally:
            self._held.discard(name)
            lock.release()

    def bulletin_lock(self, station_id: str, date: dt.date, slot: str = "", timeout: float = 0.0):
        """Hold one bulletin: two runs never write the same bulletin at once.

        Locks are per bulletin (station, day, slot or notice), so an emergency
        notice is never blocked by a nightly build in progress, and one
        commune's build never waits for another's.
        """
        base = bulletin_base(station_id, slot)
        return self._lock(f"{base}-{date.isoformat()}", f"Bản tin {base} ngày "
                          f"{date.strftime('%d/%m/%Y')}", timeout=timeout)

    def playlist_lock(self, date: dt.date, timeout: float = 60.0):
        """Hold the day's playlist while it is read from the manifests and written.

        Builds of different stations run at once; without this, one could
        write a playlist computed before the other's bulletin was finished,
        over the other's newer one, and drop a bulletin from the day.
        """
        return self._lock(f"playlist-{date.isoformat()}", f"Danh sách phát ngày {date.strftime('%d/%m/%Y')}",
                          timeout=timeout)

    def podcast_lock(self, station_id: str, timeout: float = 60.0):
        """Hold one station's podcast feed while it is read from the store and written.

        A hold writes the feed while a publisher may be writing it too: without
        this, the publisher's feed, read from the store before the hold took the
        episode out, could land last and list the held bulletin again.
        """
        return self._lock(f"podcast-{station_id}", f"Podcast của đài {station_id}", timeout=timeout)

    def feeds_lock(self, timeout: float = 0.0):
        """Hold the news store's ingest (one fetch at a time)."""
        return self._lock("feeds", "Việc tải tin", timeout=timeout)

    def cache_use(self, timeout: float = 600.0):
        """Share the speech cache with other builds; pruning waits for every user to finish."""
        return self._lock("speech-cache", "Bộ nhớ đệm giọng đọc", shared=True, timeout=timeout)

    def cache_prune_lock(self, timeout: float = 0.0):
        """Hold the speech cache alone, so no build loses a file it is using."""
        return self._lock("speech-cache", "Bộ nhớ đệm giọng đọc", timeout=timeout)

    # -- clean-up

    def _in_use(self, date: dt.date, temp_name: str) -> bool:
        """Whether a run is writing the bulletin (or playlist) a temp file belongs to: it holds its lock."""
        base = temp_name[1:].split(".", 1)[0]  # ".hoa-phu-sang.mp3.k3j2h1g0.mp3" -> "hoa-phu-sang"
        playlist = base == PLAYLIST.split(".")[0]
        name = f"playlist-{date.isoformat()}" if playlist else f"{base}-{date.isoformat()}"
        if name in self._held:
            return False  # this run holds it and has finished writing: the file is a killed run's
        lock = self.playlist_lock(date, timeout=0) if playlist else self._lock(name, base)
        try:
            with lock:
                return False
        except LockedError:
            return True

    def remove_stale_temp(self, date: dt.date, now: dt.datetime) -> list[Path]:
        """Delete unfinished temp files a killed run left in a day's folder (older than an hour).

        A file whose bulletin is locked by a run still writing it is kept, however
        old it looks: `now` may be a fixed clock far from the files' own times.
        """
        day = self.day_dir(date)
        removed: list[Path] = []
        if not day.is_dir():
            return removed
        cutoff = (now - STALE_AFTER).timestamp()
        for child in day.iterdir():
            try:
                if (STALE_TEMP.match(child.name) and child.is_file() and child.stat().st_mtime < cutoff
                        and not self._in_use(date, child.name)):
                    child.unlink()
                    removed.append(child)
                    log.info("removed unfinished file %s", child)
            except OSError:
                pass
        return removed

    def prune(self, today: dt.date, retention_days: int, keep: set[str] | None = None,
              edited: set[tuple[dt.date, str]] | None = None) -> list[Path]:
        """Remove day folders older than the retention period; return what was removed.

        `today` is the real current date (never a --date being built): a day
        is removed only when it is more than `retention_days` before it. Edited
        scripts (`edited`: (date, file name)) and every `*.txt.bak` are moved
        to the archive first; `keep` names files (relative to out_dir) that
        something still references, such as a podcast feed: their day stays.
        """
        if not retention_days or not self.out_dir.is_dir():
            return []
        limit = today - dt.timedelta(days=retention_days)
        keep = keep or set()
        edited = edited or set()
        removed: list[Path] = []
        for child in sorted(self.out_dir.iterdir()):
            if not (child.is_dir() and DATE_DIR.match(child.name)):
                continue
            try:
                day = dt.date.fromisoformat(child.name)
            except ValueError:
                continue
            if day >= limit:
                continue
            if any(k.startswith(child.name + "/") for k in keep):
                continue
            try:
                for f in child.iterdir():
                    if f.name.endswith(".bak") or (day, f.name) in edited:
                        dest = self.archive_dir(day) / f.name
                        dest.parent.mkdir(parents=True, exist_ok=True)
                        shutil.move(str(f), str(dest))
                        log.info("kept edited script %s in %s", f.name, dest.parent)
                shutil.rmtree(child)
            except OSError as exc:
                log.warning("could not remove old bulletins %s: %s", child, exc)
                continue
            removed.append(child)
            log.info("removed old bulletins %s", child)
        self._prune_locks(limit)
        return removed

    def _prune_locks(self, limit: dt.date) -> None:
        """Remove the lock files of days before `limit`: one per bulletin and day would pile up for ever.

        Each is taken before it is removed, so a run still holding one keeps it.
        """
        folder = self.data_dir / "locks"
        if not folder.is_dir():
            return
        for f in folder.iterdir():
            m = DATED_LOCK.match(f.name)
            try:
                if m is None or dt.date.fromisoformat(m["date"]) >= limit or m["name"] in self._held:
                    continue
            except ValueError:
                continue
            try:
                with self._lock(m["name"], m["name"]):
                    f.unlink()
            except (BroadcastError, OSError):
                continue  # held by a run, or not removable while open (Windows): next time


def layout_error(path: Path, exc: OSError, what: str) -> BroadcastError:
    """A folder or file of the layout cannot be used: say which and what to do."""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return BroadcastError(f"Không có quyền ghi {what} {path}: hãy cấp quyền ghi cho tài khoản chạy "
                              "chương trình, hoặc chọn thư mục khác.")
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return BroadcastError(f"Không tạo được {what} {path}: một phần của đường dẫn là tệp, không phải "
                              "thư mục. Hãy đổi tên tệp đó hoặc chọn thư mục khác.")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError(f"Hết dung lượng đĩa khi ghi {what} {path}: hãy giải phóng dung lượng rồi chạy lại.")
    return BroadcastError(f"Không dùng được {what} {path}: {exc.strerror or exc}.")
