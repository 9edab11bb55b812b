"""Content-addressed cache of synthesized paragraphs, shared by all stations and days.

Key: sha256 of (engine, every sound-changing parameter, speed, exact text).
Files live at root/ab/<key>.wav and are written through a temporary file and
an atomic rename, so two processes filling the cache at once never expose a
half-written file. A hit touches the file; pruning removes what was not used.

Each entry carries its own seal: a last RIFF chunk ("bcs1") holding the
length and sha256 of everything before it. Players and ffmpeg skip unknown
chunks; a lookup checks the seal, so an entry cut short or damaged on disk
is dropped and made again instead of going on air.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import io
import json
import logging
import math
import os
import struct
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import portalocker

from broadcast.errors import BroadcastError
from broadcast.fsutil import atomic_path, atomic_write_text
from broadcast.speech.base import EngineFailure


log = logging.getLogger(__name__)

KEY_VERSION = 1
STATS_FILE = "stats.json"
STALE_TEMP = dt.timedelta(hours=6)
SEAL_ID = b"bcs1"
SEAL_BODY = 8 + 32  # covered length (u64 LE) + sha256 of the covered bytes
SEAL_SIZE = 8 + SEAL_BODY
RIFF_HEADER = 12
DAMAGED_NOTICE = ("Bộ nhớ đệm giọng đọc {root} có đoạn bị hỏng (tệp cắt cụt hoặc lỗi đĩa): "
                  "đã bỏ và đọc lại các đoạn đó. Nếu cảnh báo này lặp lại, hãy kiểm tra ổ đĩa.")


def seal_wav(path: Path) -> None:
    """Append the integrity chunk to a complete WAV file and fix the RIFF size."""
    with open(path, "r+b") as fh:
        data = fh.read()
        if len(data) < RIFF_HEADER or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
            raise ValueError(f"{path} is not a RIFF/WAVE file")
        body = data[RIFF_HEADER:]
        if len(body) % 2:
            body += b"\0"  # RIFF chunks start on even offsets
        seal = SEAL_ID + struct.pack("<I", SEAL_BODY) + struct.pack("<Q", len(body)) + hashlib.sha256(body).digest()
        total = RIFF_HEADER + len(body) + len(seal)
        fh.seek(4)
        fh.write(struct.pack("<I", total - 8))
        fh.seek(RIFF_HEADER)
        fh.write(body + seal)
        fh.truncate(total)


def seal_ok(path: Path) -> bool | None:
    """True when the entry's seal matches its bytes, False when damaged, None when unsealed.

    An unsealed file whose RIFF size matches its length is a whole entry from
    before seals existed; anything else that fails is damage.
    """
    try:
        data = path.read_bytes()
    except OSError:
        return False
    return _seal_state(data)


def _seal_state(data: bytes) -> bool | None:
    if len(data) < RIFF_HEADER or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return False
    declared = struct.unpack("<I", data[4:8])[0] + 8
    if declared != len(data):
        return False  # cut short (or grown): never trust the header alone
    tail = data[-SEAL_SIZE:]
    if len(data) < RIFF_HEADER + SEAL_SIZE or tail[:4] != SEAL_ID or struct.unpack("<I", tail[4:8])[0] != SEAL_BODY:
        return None
    covered = struct.unpack("<Q", tail[8:16])[0]
    body = memoryview(data)[RIFF_HEADER:-SEAL_SIZE]
    return covered == len(body) and hashlib.sha256(body).digest() == tail[16:]


def _frames(data: bytes) -> int:
    """Frames of a WAV held in memory; 0 when it is not a readable WAV."""
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            return w.getnframes()
    except (wave.Error, EOFError):
        return 0


@dataclass
class CacheStats:
    """What `broadcast cache` shows."""

    root: Path
    size_bytes: int
    entries: int
    last_run_hits: int
    last_run_misses: int
    last_run_at: str | None  # ISO time the last run updated the counts

    @property
    def last_run_hit_rate(self) -> float | None:
        """Hits / lookups of the last run, None when it looked nothing up."""
        total = self.last_run_hits + self.last_run_misses
        return self.last_run_hits / total if total else None


_AGE = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(text: str) -> dt.timedelta:
    """Parse an age such as "30d", "12h", "2w" or "90m" (a bare number means days)."""
    raw = text.strip().lower()
    unit = raw[-1:] if raw[-1:] in _AGE else "d"
    number = raw[:-1] if raw[-1:] in _AGE else raw
    try:
        value = float(number)
    except ValueError:
        value = -1.0
    if not raw or not math.isfinite(value) or value < 0 or value * _AGE[unit] > 1e10:
        raise BroadcastError(
            f"Thời gian '{text}' không hợp lệ: hãy ghi như 30d (ngày), 12h (giờ), 2w (tuần) hoặc 90m (phút)."
        )
    return dt.timedelta(seconds=value * _AGE[unit])


def cache_key(engine: str, params: dict, speed: float, text: str) -> str:
    """The content address of one synthesized text."""
    blob = json.dumps(
        {"v": KEY_VERSION, "engine": engine, "params": params, "speed": round(float(speed), 3), "text": text},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class SpeechCache:
    """Synthesized WAVs addressed by content, safe for concurrent threads and processes."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._mutex = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._hits = 0
        self._misses = 0
        self._flushed = (0, 0)
        self._flushed_run: str | None = None
        self.damaged = 0  # entries found damaged and dropped, not yet reported

    # ------------------------------------------------------------ entries

    def key(self, engine: str, params: dict, speed: float, text: str) -> str:
        """The key for `text` spoken by `engine` with these settings."""
        return cache_key(engine, params, speed, text)

    def path_for(self, key: str) -> Path:
        """Where the entry for `key` lives (whether or not it exists)."""
        return self.root / key[:2] / f"{key}.wav"

    def get(self, key: str) -> Path | None:
        """The cached WAV for `key`, touched so pruning keeps it; None on a miss.

        A damaged entry is deleted (and counted in `damaged`) so it is made again.
        """
        path = self.path_for(key)
        try:
            data = path.read_bytes()  # one read serves the seal and the header
        except FileNotFoundError:
            return None
        except OSError:
            data = b""
        sealed = _seal_state(data)
        if sealed is False or _frames(data) == 0:
            self._drop(path)
            return None
        if sealed is None:
            self._seal_legacy(path)
        with contextlib.suppress(OSError):
            os.utime(path)
        return path

    def _drop(self, path: Path) -> None:
        log.warning("dropping damaged cache entry %s", path)
        with self._mutex:
            self.damaged += 1
        with contextlib.suppress(OSError):
            path.unlink()

    def _seal_legacy(self, path: Path) -> None:
        # A whole entry written before seals existed: seal a copy and swap it
        # in, so it is checked from now on without being synthesized again.
        try:
            with atomic_path(path, suffix=".tmp") as tmp:
                tmp.write_bytes(path.read_bytes())
                seal_wav(tmp)
        except (OSError, ValueError, BroadcastError) as exc:
            log.warning("could not seal cache entry %s: %s", path, exc)

    def take_damage_notice(self) -> str | None:
        """The warning for entries found damaged since the last call, or None."""
        with self._mutex:
            damaged, self.damaged = self.damaged, 0
        return DAMAGED_NOTICE.format(root=self.root) if damaged else None

    @contextlib.contextmanager
    def store(self, key: str) -> Iterator[Path]:
        """Yield a temporary path to write the WAV to; it becomes the entry only on success."""
        final = self.path_for(key)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._dir_error(exc) from None
        with atomic_path(final, suffix=".tmp") as tmp:
            yield tmp
            try:
                seal_wav(tmp)
            except ValueError:
                raise EngineFailure("bộ đọc không tạo ra tệp WAV hợp lệ") from None

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold the in-process lock for `key` so one text is synthesized once at a time."""
        with self._mutex:
            lk = self._key_locks.setdefault(key, threading.Lock())
        with lk:
            yield

    def _dir_error(self, exc: OSError) -> BroadcastError:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return BroadcastError(
                f"Không ghi được vào thư mục bộ nhớ đệm giọng đọc {self.root}: hãy kiểm tra quyền thư mục."
            )
        return BroadcastError(f"Không tạo được thư mục bộ nhớ đệm {self.root}: {exc.strerror or exc}.")

    # ------------------------------------------------------------ statistics

    def record(self, hit: bool) -> None:
        """Count one lookup of this run."""
        with self._mutex:
            if hit:
                self._hits += 1
            else:
                self._misses += 1

    def flush_stats(self, run_id: str) -> None:
        """Add this instance's unsaved counts to the run's totals in stats.json."""
        with self._mutex:
            hits, misses = self._hits, self._misses
            if self._flushed_run != run_id:
                self._flushed_run, self._flushed = run_id, (0, 0)
            dh, dm = hits - self._flushed[0], misses - self._flushed[1]
            self._flushed = (hits, misses)
        if dh == 0 and dm == 0:
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with self._file_lock():
                data = self._read_stats()
                if data.get("run_id") != run_id:
                    data = {"run_id": run_id, "hits": 0, "misses": 0}
                data["hits"] = int(data.get("hits", 0)) + dh
                data["misses"] = int(data.get("misses", 0)) + dm
                atomic_write_text(self.root / STATS_FILE, json.dumps(data, ensure_ascii=False, indent=1))
        except (OSError, BroadcastError, portalocker.exceptions.LockException) as exc:
            # Statistics must never fail a bulletin.
            log.warning("could not save cache statistics in %s: %s", self.root, exc)

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        # portalocker, not fcntl: Windows has no fcntl, and runs there would lose each other's counts.
        with portalocker.Lock(str(self.root / ".stats.lock"), mode="a", timeout=30, check_interval=0.02):
            yield

    def _stats_time(self) -> str | None:
        """When the last run saved its counts: the statistics file's own time."""
        try:
            mtime = (self.root / STATS_FILE).stat().st_mtime
        except OSError:
            return None
        return dt.datetime.fromtimestamp(mtime).astimezone().isoformat(timespec="seconds")

    def _read_stats(self) -> dict:
        try:
            data = json.loads((self.root / STATS_FILE).read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _entries(self) -> Iterator[tuple[Path, os.stat_result]]:
        if not self.root.is_dir():
            return
        for sub in self.root.iterdir():
            if not (sub.is_dir() and len(sub.name) == 2):
                continue
            for f in sub.iterdir():
                with contextlib.suppress(FileNotFoundError):
                    yield f, f.stat()

    def stats(self) -> CacheStats:
        """Size, entry count and the last run's hits and misses."""
        size = entries = 0
        for f, st in self._entries():
            if f.suffix == ".wav" and not f.name.startswith("."):
                size += st.st_size
                entries += 1
        data = self._read_stats()
        return CacheStats(
            root=self.root, size_bytes=size, entries=entries,
            last_run_hits=int(data.get("hits", 0)), last_run_misses=int(data.get("misses", 0)),
            last_run_at=self._stats_time(),
        )

    def prune(self, older_than: dt.timedelta, now: dt.datetime) -> tuple[int, int]:
        """Delete entries unused for `older_than` before `now`; return (files removed, bytes freed)."""
        now = now.timestamp()
        cutoff = now - older_than.total_seconds()
        stale_tmp = now - STALE_TEMP.total_seconds()
        removed = freed = 0
        for f, st in self._entries():
            last_used = max(st.st_mtime, st.st_atime)
            is_temp = f.name.startswith(".")
            # Temporary files of a crashed writer go too, once surely abandoned.
            if (is_temp and st.st_mtime < stale_tmp) or (not is_temp and last_used < cutoff):
                try:
                    f.unlink()
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    raise BroadcastError(f"Không xóa được {f}: {exc.strerror or exc}.") from None
                removed += 1
                freed += st.st_size
        # Empty fan-out folders stay: removing them could race a concurrent writer.
        log.info("pruned %d cache files (%d bytes) from %s", removed, freed, self.root)
        return removed, freed
