"""Publish a day's bulletins: check each one that may air, put it in its station's podcast feed and
deliver it to the station's targets, exactly once per version, logging every delivery.

A version is the rendered script's hash together with the audio's
checksum: a bulletin rendered again (its script edited, or its audio
remade) is a new version that replaces the delivered one. Only bulletins
that may air are published (rendered, not held, and approved where the
station's policy asks for it), and only after their files are checked
under the bulletin's lock, so a half-written or superseded file never
leaves the output folder. The podcast serves its own copy of each published
version from the public folder, removed as soon as the version is withdrawn
or replaced.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from broadcast.bulletin import BulletinKey, Manifest, derive_state, read_manifest
from broadcast.config import Config, StationConfig
from broadcast.errors import BroadcastError, LockedError
from broadcast.publish import podcast
from broadcast.publish.records import (
    DeliveryRecord,
    Episode,
    add_delivery,
    episode,
    last_success,
    save_episode,
)
from broadcast.publish.targets import DeliveryError, Target, Upload, file_name, redact
from broadcast.store import Store
from broadcast.workspace import Workspace, bulletin_base
from broadcast.vitext import decimal

log = logging.getLogger(__name__)

# The audio's length as its size says against the manifest's: a file cut short is caught here.
LENGTH_SLACK = 1.0


@dataclass
class TargetResult:
    """How one delivery of one bulletin ended."""

    target: str
    kind: str
    result: str  # delivered | replaced | unchanged | failed
    destination: str = ""
    attempts: int = 0
    message: str = ""


@dataclass
class Publication:
    """What publishing did with one bulletin."""

    key: BulletinKey
    status: str  # published | unchanged | skipped (nowhere to go) | waiting | held | busy | failed
    title: str = ""
    version: str = ""
    message: str = ""
    podcast: str = ""  # added | replaced | unchanged | withdrawn | '' (no feed)
    targets: list[TargetResult] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status == "failed" or any(t.result == "failed" for t in self.targets)


@dataclass
class PublishReport:
    """Every bulletin looked at, the feeds written and what the operator should know."""

    publications: list[Publication] = field(default_factory=list)
    feeds: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Publication]:
        return [p for p in self.publications if p.failed]


def version_of(script_sha: str, checksum: str) -> str:
    """One bulletin version: its rendered script and its audio, both."""
    return f"{script_sha[:16]}.{checksum[:16]}"


class Publisher:
    """Publishes bulletins of one date for a set of stations, with the store of the run."""

    def __init__(self, config: Config, ws: Workspace, store: Store, now: dt.datetime, *, actor: str = "",
                 held_keys: Iterable[BulletinKey] = (), sleep: Callable[[float], None] = time.sleep,
                 lock_timeout: float = 5.0) -> None:
        self.config = config
        self.ws = ws
        self.store = store
        self.now = now
        self.actor = actor
        self.held_keys = set(held_keys)  # bulletins whose lock the caller already holds
        self.sleep = sleep
        self.lock_timeout = lock_timeout

    def run(self, date: dt.date, stations: list[StationConfig],
            only: Iterable[BulletinKey] | None = None) -> PublishReport:
        """Publish every bulletin of `date` (or only those named) for these stations."""
        wanted = set(only) if only is not None else None
        report = PublishReport()
        # A feed of layout 1 (pointing into the day folders) is written again at the first publication.
        changed = {st.id for st in stations if podcast.needs_rewrite(self.ws, self.store, st.id)}
        for st in stations:
            for row in self.store.bulletin_rows(date, date, [st.id]):
                key = BulletinKey(st.id, date, row["slot"])
                if wanted is not None and key not in wanted:
                    continue
                pub = self._one(st, key, report)
                report.publications.append(pub)
                if pub.podcast in ("added", "replaced", "withdrawn"):
                    changed.add(st.id)
        if self.config.publish.base_url:
            for st in stations:
                if st.id in changed or podcast.needs_rewrite(self.ws, self.store, st.id):
                    before = podcast.feed_address(self.ws, st.id)
                    report.feeds.append(podcast.write_station(self.config, self.ws, self.store, st, self.now))
                    self._moved_feed(st, before, report)
        for st in stations:
            podcast.sweep_public(self.ws, self.store, st.id, self.now)
        return report

    def _moved_feed(self, st: StationConfig, before: str | None, report: PublishReport) -> None:
        """Say so when the feed now gives another address than listeners subscribed to (base_url changed)."""
        now = podcast.public_url(self.config, self.ws, podcast.feed_path(self.ws, st.id))
        if before is None or before == now:
            return
        suggest = before[: -len(f"{st.id}.xml")] if before.endswith(f"/{st.id}.xml") else ""
        report.warnings.append(
            f"địa chỉ podcast của đài {st.id} đổi từ {before} thành {now}: ứng dụng của người nghe vẫn dùng địa chỉ "
            "cũ" + (f". Nếu không định đổi, hãy đặt [publish] base_url = \"{suggest}\" (địa chỉ của thư mục "
                    "audio_out/podcast) rồi chạy lại 'broadcast publish'" if suggest else ""))

    # -- one bulletin

    def _one(self, st: StationConfig, key: BulletinKey, report: PublishReport) -> Publication:
        lock = (contextlib.nullcontext() if key in self.held_keys
                else self.ws.bulletin_lock(key.station, key.date, key.slot, timeout=self.lock_timeout))
        # The lock is held until the publication is recorded, not only while checking: a hold (or an edit, or
        # a render) confirmed to staff meanwhile would otherwise be followed by a delivery of what it stopped.
        try:
            with lock:
                return self._publish(st, key, report)
        except LockedError:
            return Publication(key, "busy", message="bản tin đang được làm lại; sẽ phát hành ở lần chạy sau")

    def _publish(self, st: StationConfig, key: BulletinKey, report: PublishReport) -> Publication:
        try:
            checked = self._check(st, key)
        except BroadcastError as exc:
            return Publication(key, "failed", message=str(exc))
        if isinstance(checked, Publication):
            if checked.status == "held":
                self._withdraw(st, key, checked, report)
            elif checked.status == "waiting":
                self._withdraw_remade(key, checked)
            return checked
        upload, row, manifest = checked
        if not self.config.publish.base_url and not st.deliver:
            return Publication(key, "skipped", title=upload.title, version=upload.version,
                               message="chưa khai báo nơi nhận ([publish] base_url hoặc [[stations.deliver]])")
        pub = Publication(key, "published", title=upload.title, version=upload.version)
        if self.config.publish.base_url:
            pub.podcast = self._podcast(key, upload, manifest)
        for target in st.deliver:
            pub.targets.append(self._deliver(target, key, upload))
        if pub.failed:
            pub.status = "failed"
            pub.message = "có nơi nhận chưa nhận được bản tin; sẽ thử lại ở lần chạy sau"
            return pub
        sent = [t for t in pub.targets if t.result in ("delivered", "replaced")]
        fresh = pub.podcast in ("added", "replaced") or sent
        if not fresh and row.get("published_sha") == row.get("rendered_sha"):
            pub.status = "unchanged"
            return pub
        replaced = pub.podcast == "replaced" or any(t.result == "replaced" for t in pub.targets)
        self.store.save_bulletin(key.station, key.date, key.slot, self.now, published_sha=row["rendered_sha"],
                                 published_at=self.now)
        where = (["podcast"] if pub.podcast in ("added", "replaced") else []) + [t.target for t in sent]
        detail = f"phiên bản {upload.version}" + (f": {', '.join(where)}" if where else "")
        self.store.add_event(key.station, key.date, key.slot, "published", self.now, self.actor,
                             ("thay bản đã phát hành trước; " if replaced else "") + detail)
        return pub

    def _check(self, st: StationConfig, key: BulletinKey) -> tuple[Upload, dict, Manifest] | Publication:
        """Under the bulletin's lock: may it air, and are its files whole and of the rendered script?"""
        from broadcast.pipeline import bulletin_title, read_script, sha

        row = self.store.bulletin_row(key.station, key.date, key.slot) or {}
        paths = self.ws.paths(key.station, key.date, key.slot)
        text = read_script(paths.script, quiet=True)
        script_sha = sha(text) if text else None
        state, approved, may_air = derive_state(row, script_sha, st.publish)
        title = row.get("title") or bulletin_title(key.date)
        if row.get("held"):
            return Publication(key, "held", title=title, message="đang tạm dừng: không phát hành")
        if not may_air:
            if row.get("rendered_sha") and row.get("rendered_sha") == script_sha and st.publish == "approved":
                why = "chờ duyệt: chưa phát hành"
            else:
                why = f"{state.label}: chưa có âm thanh của kịch bản hiện tại để phát hành"
            return Publication(key, "waiting", title=title, message=why)
        manifest = read_manifest(paths.manifest)
        if manifest is None or manifest.script_sha256 != script_sha:
            raise BroadcastError(f"Bảng kê {paths.manifest} không khớp kịch bản hiện tại: hãy chạy lại "
                                 "'broadcast build' cho bản tin này.")
        try:
            data = paths.audio.read_bytes()
        except OSError as exc:
            raise BroadcastError(f"Không đọc được {paths.audio}: {exc.strerror or exc}.") from None
        _check_audio(paths.audio, len(data), manifest.duration)
        checksum = hashlib.sha256(data).hexdigest()
        slot_time = (manifest.slot or {}).get("time", "")
        upload = Upload(station=key.station, date=key.date, slot=key.slot, slot_time=slot_time,
                        kind=row.get("kind") or "bulletin", title=title, base=bulletin_base(key.station, key.slot),
                        data=data, checksum=checksum, version=version_of(script_sha or "", checksum))
        return upload, row, manifest

    # -- where it goes

    def _podcast(self, key: BulletinKey, upload: Upload, manifest: Manifest) -> str:
        old = episode(self.store, key)
        dest = self.ws.public_audio(key.station, key.date, key.slot, upload.version)
        if (old is not None and old.version == upload.version and podcast.is_public(self.ws, old)
                and dest.is_file()):
            return "unchanged"
        podcast.put_public_audio(dest, self.ws.paths(key.station, key.date, key.slot).audio, upload.data,
                                 upload.checksum)
        audio = podcast.audio_ref(self.ws, dest)
        if old is not None and old.version == upload.version:
            # Published before this layout (or its copy lost): the same version, its GUID and date kept.
            save_episode(self.store, dataclasses.replace(old, audio=audio))
            return "unchanged"
        titles = [str(i.get("title", "")).strip() for i in manifest.items if i.get("title")]
        description = ("Các tin: " + "; ".join(titles) + ".") if titles else upload.title + "."
        ep = Episode(station=key.station, date=key.date, slot=key.slot,
                     guid=podcast.guid_for(key.station, key.date, key.slot, upload.version),
                     version=upload.version, title=upload.title, description=description, audio=audio,
                     size=upload.size, duration=manifest.duration, checksum=upload.checksum, published_at=self.now)
        save_episode(self.store, ep)
        if old is not None:
            podcast.drop_public_audio(self.ws, old)  # the replaced version is no longer served
        result = "replaced" if old is not None else "delivered"
        message = (f"thay bản phát hành lúc {_when(old.published_at)} (phiên bản {old.version})"
                   if old is not None else "")
        add_delivery(self.store, DeliveryRecord(
            key.station, key.date, key.slot, f"podcast {key.station}", "podcast",
            podcast.public_url(self.config, self.ws, dest), upload.version, upload.checksum, upload.size, result, 1,
            message, self.now))
        return "replaced" if old is not None else "added"

    def _deliver(self, target: Target, key: BulletinKey, upload: Upload) -> TargetResult:
        label = target.label
        prev = last_success(self.store, key, label)
        if prev is not None and prev.version == upload.version:
            return TargetResult(label, target.kind, "unchanged", prev.destination)
        res = TargetResult(label, target.kind, "failed")
        reason = target.unavailable_reason()
        if reason is not None:
            res.message = f"không dùng được: {reason}"
        else:
            try:
                name = file_name(target.pattern, upload)
            except DeliveryError as exc:
                name, res.message = "", str(exc)
            retries = self.config.publish.retries if name else -1
            for attempt in range(retries + 1):
                res.attempts = attempt + 1
                try:
                    res.destination = target.send(upload, name)
                    res.result = "replaced" if prev is not None else "delivered"
                    res.message = (f"thay bản đã giao lúc {_when(prev.at)} (phiên bản {prev.version})"
                                   if prev is not None else "")
                    break
                except DeliveryError as exc:
                    res.message = str(exc)
                    if not exc.retry:
                        break
                except Exception as exc:  # a library's own error: one line, and the other targets still go
                    log.debug("delivery to %s failed", label, exc_info=True)
                    res.message = f"lỗi không mong đợi ({type(exc).__name__}: {exc})"
                    break
                if attempt < retries:
                    delay = self.config.publish.retry_delay * 2 ** attempt
                    log.info("%s: attempt %d failed (%s); retrying in %.1f s", label, attempt + 1,
                             redact(res.message, target.secrets()), delay)
                    self.sleep(delay)
        res.message = redact(res.message, target.secrets())
        add_delivery(self.store, DeliveryRecord(
            key.station, key.date, key.slot, label, target.kind, res.destination, upload.version, upload.checksum,
            upload.size, res.result, res.attempts, res.message, self.now))
        if res.result == "failed":
            log.warning("%s: delivery to %s failed after %d attempt(s): %s", key.label, label, res.attempts,
                        res.message)
        else:
            log.info("%s: delivered to %s", key.label, res.destination)
        return res

    def _withdraw_remade(self, key: BulletinKey, pub: Publication) -> None:
        """An episode whose bulletin now holds audio made again and not yet approved leaves the feed.

        The public copy still holds the approved bytes, but the bulletin no longer says what it says: it
        stops being served until the new version is approved and published."""
        old = episode(self.store, key)
        if old is None:
            return
        why = "âm thanh đã làm lại, chưa được duyệt: gỡ khỏi podcast cho tới khi duyệt"
        try:
            data = self.ws.paths(key.station, key.date, key.slot).audio.read_bytes()
        except OSError:
            data, why = b"", "tệp âm thanh của bản tin không còn: gỡ khỏi podcast"
        if hashlib.sha256(data).hexdigest() == old.checksum:
            return  # still the published bytes: the script was edited, the audio not yet made again
        withdraw(self.store, self.ws, key, self.now, why)
        pub.podcast = "withdrawn"

    def _withdraw(self, st: StationConfig, key: BulletinKey, pub: Publication, report: PublishReport) -> None:
        """A held bulletin leaves the feed; what targets already took is named for the operator."""
        if withdraw(self.store, self.ws, key, self.now, HELD):
            pub.podcast = "withdrawn"
        for target in st.deliver:
            prev = last_success(self.store, key, target.label)  # None once withdrawn: warned once
            if prev is not None:
                report.warnings.append(
                    f"{key.label}: đã giao tới {target.label} ({prev.destination}) trước khi bị tạm dừng; "
                    "hãy gỡ tệp đó ở nơi nhận nếu không muốn phát")
                add_delivery(self.store, DeliveryRecord(
                    key.station, key.date, key.slot, target.label, target.kind, prev.destination, prev.version,
                    prev.checksum, prev.size, "withdrawn", 0, "bản tin bị tạm dừng sau khi giao; cần gỡ ở nơi nhận",
                    self.now))


HELD = "bản tin bị tạm dừng: gỡ khỏi podcast"


def withdraw(store: Store, ws: Workspace, key: BulletinKey, now: dt.datetime, why: str) -> bool:
    """Take a bulletin's episode out of its feed and its audio off the web, and log it; False if it had none.

    The feed itself is written by the caller: until then it names a file
    that no longer answers, which is the safe side.
    """
    old = episode(store, key)
    if old is None:
        return False
    podcast.drop_episode(ws, store, old)
    add_delivery(store, DeliveryRecord(key.station, key.date, key.slot, f"podcast {key.station}", "podcast", "",
                                       old.version, old.checksum, old.size, "withdrawn", 1, why, now))
    return True


def _check_audio(path: Path, size: int, duration: float) -> None:
    """Refuse an MP3 that is empty, unreadable, or shorter than its manifest says (cut short while written).

    The encoder's header states the full length even when the file is cut,
    so the bytes present are compared with what that length needs at the
    file's constant bit rate.
    """
    import mutagen.mp3

    if size == 0:
        raise BroadcastError(f"Tệp {path} rỗng: hãy chạy lại 'broadcast build'.")
    try:
        info = mutagen.mp3.MP3(str(path)).info
    except Exception:  # mutagen raises several kinds for a damaged file
        raise BroadcastError(f"Tệp {path} không phải MP3 đọc được: hãy chạy lại 'broadcast build'.") from None
    present = size * 8 / info.bitrate if info.bitrate else info.length
    if abs(info.length - duration) > LENGTH_SLACK or present < duration - LENGTH_SLACK:
        raise BroadcastError(f"Tệp {path} chỉ có {decimal(min(present, info.length), 1)} giây, bảng kê ghi {decimal(duration, 1)} "
                             "giây: tệp chưa hoàn chỉnh, không phát hành. Hãy chạy lại 'broadcast build'.")


def _when(at: dt.datetime) -> str:
    from broadcast.models import VN_TZ

    return at.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")


def publish_lock(ws: Workspace, timeout: float = 300.0):
    """One publisher per output folder at a time, so a version is never delivered twice."""
    return ws._lock("publish", "Việc phát hành bản tin", timeout=timeout)
