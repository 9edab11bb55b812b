"""The orchestrator: feeds -> selection -> script -> speakable text -> speech -> audio -> records.

Two phases, in this order because each needs the one before: first every
script is decided (fetch, select, draft; or read back what staff edited),
which is all review needs; then speech and audio are made for the scripts
that should sound, and the store records what was rendered and what may
air. A script that already exists for the date is read back, never
regenerated silently, because staff may have edited it.

Every path comes from the workspace, every record goes to the store, and
the current time is an input (`BuildOptions.now`): nothing here reads the
clock, so a rebuild with the same inputs gives the same bulletin.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from broadcast import __version__
from broadcast.bulletin import (
    BuildOptions,
    Progress,
    BuildReport,
    BulletinKey,
    Manifest,
    ManifestParagraph,
    ManifestSegment,
    StationResult,
    derive_state,
    read_manifest,
    write_manifest,
)
from broadcast.config import Config, Slot, StationConfig
from broadcast.errors import BroadcastError, DiskFullError, LockedError, SpeechError, StoreCorruptError
from broadcast.fsutil import atomic_write_bytes, atomic_write_text, read_staff_text
from broadcast.messages import Notice, notices_for, standing_for, standing_messages
from broadcast.models import VN_TZ, Candidate, Segment, SpokenParagraph
from broadcast.script import ScriptContext, parse_script, render_script
from broadcast.workspace import BulletinPaths, Workspace
from broadcast.vitext import decimal

log = logging.getLogger(__name__)


def sha(text: str) -> str:
    """The hash that identifies one version of a script."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def end_of_day(date: dt.date) -> dt.datetime:
    """The last minute of a bulletin's date, in Vietnam."""
    return dt.datetime.combine(date, dt.time(23, 59, 59), VN_TZ)


def news_until(date: dt.date, now: dt.datetime) -> dt.datetime:
    """A bulletin for `date` uses news up to the end of that date, and never after `now`."""
    return min(end_of_day(date), now)


@dataclass
class PendingRender:
    """A bulletin whose speech is ready and whose audio must be mixed and mastered."""

    key: BulletinKey
    station: StationConfig
    paths: BulletinPaths
    result: StationResult
    segments: list[Segment]
    spoken: dict[tuple[int, int], SpokenParagraph]
    parts: list
    tags: object
    wav_path: Path | None
    target_seconds: float | None
    fingerprint: str
    script_text: str
    edited: bool
    kind: str
    title: str
    offered: list[dict[str, Any]] = field(default_factory=list)
    stories: int | None = None  # the day's relevant news ran out at this many stories


def speech_estimate_overhead(station: StationConfig, date: dt.date, standing: str,
                             notices: list, slot_time: str = "") -> float:
    """Seconds of the bulletin that are not news items: greeting, messages, closing, jingles.

    Estimated from the station's own template, so a station that lengthens its
    greeting gets correspondingly fewer items. It is rendered with one stand-in
    item whose section is left out: a template says other things when there is
    no news at all ("Hôm nay chưa có tin mới...").
    """
    from broadcast.selection import estimate_seconds

    rate = station.tts.syllables_per_minute.get(station.tts.resolved_chain()[0], 200.0)
    stand_in = Candidate(id=0, title="x", summary="x", link="", sources=["x"], feeds=[], published=None,
                         first_seen=dt.datetime.combine(date, dt.time(0, 0), VN_TZ), score=0.0, topics=[])
    ctx = script_context(station, date, [stand_in], standing, notices, slot_time)
    paragraphs = [p for seg in parse_script(render_script(ctx, station.templates)) if seg.kind != "item"
                  for p in seg.paragraphs()]
    speech = sum(estimate_seconds(p, rate) for p in paragraphs)
    pauses = len(paragraphs) * max(station.audio.pause_ms, station.audio.item_pause_ms) / 1000
    return speech + pauses + 7.0  # the generated jingle and outro are about 3.2 s each


def script_context(station: StationConfig, date: dt.date, items: list[Candidate], standing: str,
                   notices: list, slot_time: str = "") -> ScriptContext:
    """Everything the station's template gets."""
    return ScriptContext(station_name=station.name, date=date, items=items, standing=standing,
                         notices=notices, slot_time=slot_time, commune=station.commune,
                         province=station.province, phone=station.phone, one_stop=station.one_stop)


def notice_script(station: StationConfig, text: str, priority: str) -> str:
    """A one-off notice as loudspeaker staff read it: who is speaking, the notice, then once again."""
    from broadcast.script import clean_feed_text

    body = "\n\n".join(clean_feed_text(p) for p in text.split("\n\n") if p.strip())
    intro = {"emergency": "Sau đây là thông báo khẩn.", "priority": "Sau đây là thông báo quan trọng."}.get(
        priority, "Sau đây là thông báo.")
    return (f"[thông báo]\nĐây là {station.name}. {intro}\n\n{body}\n\n"
            f"Xin nhắc lại:\n\n{body}\n\n[kết thúc]\n{station.name} vừa phát thông báo. "
            "Cảm ơn bà con đã lắng nghe.\n")


def items_in_script(segments: list[Segment], offered: list[dict[str, Any]]) -> list[int]:
    """Story ids of the items actually in a script, in order: by their '# mã tin' note, else title or link."""
    by_title = {str(i.get("title", "")).strip().lower(): i.get("id") for i in offered}
    by_link = {i.get("link"): i.get("id") for i in offered if i.get("link")}
    ids: list[int] = []
    for seg in segments:
        if seg.kind != "item":
            continue
        sid = seg.item_id
        if sid is None:
            sid = by_title.get(seg.title.strip().lower()) or by_link.get(seg.link)
        if isinstance(sid, int) and sid not in ids:
            ids.append(sid)
    return ids


def item_record(c: Candidate) -> dict[str, Any]:
    """What the bulletin record keeps of an offered story."""
    return {
        "id": c.id, "title": c.title, "sources": c.sources, "link": c.link,
        "published": c.published.isoformat() if c.published else None,
        "topics": c.topics, "score": round(c.score, 3),
    }


class Builder:
    """Builds bulletins for many stations in one run, sharing speech between them."""

    def __init__(self, config: Config, options: BuildOptions, workspace: Workspace,
                 progress: Callable[[Progress], None] | None = None) -> None:
        self.config = config
        self.options = options
        self.ws = workspace
        self.progress = progress or (lambda p: None)
        self._synths: dict[str, object] = {}
        self._lexicons: dict[str, object] = {}
        self._vocabs: dict[str, object] = {}
        self._standing: dict[str, list] = {}
        self._read_with: dict[str, list[str]] = {}  # station lexicon -> paragraphs read with it
        self._voiceless: dict[str, str] = {}  # station -> why none of its engines can speak
        self._dead_feeds: set[str] = set()  # feeds that could not be fetched in this run
        self.disk_full = ""  # set by the first write a full disk refused: no bulletin is started after it
        self.store = None

    # -- shared resources, created once per run

    def synthesizer(self, station: StationConfig):
        from broadcast.speech import SpeechCache, Synthesizer

        key = json.dumps(dataclasses.asdict(station.tts), sort_keys=True, default=str)
        if key not in self._synths:
            cache = SpeechCache(self.config.data_dir / "speech-cache")
            self._synths[key] = Synthesizer(station.tts, cache)
        return self._synths[key]

    def lexicon(self, station: StationConfig):
        from broadcast.textnorm import load_lexicon

        key = str(station.lexicon or "")
        if key not in self._lexicons:
            self._lexicons[key] = load_lexicon(station.lexicon)
        return self._lexicons[key]

    def vocabulary(self, station: StationConfig):
        from broadcast.relevance import load_vocabulary

        key = str(station.selection.topics_file or "")
        if key not in self._vocabs:
            self._vocabs[key] = load_vocabulary(station.selection.topics_file)
        return self._vocabs[key]

    def standing(self, station: StationConfig) -> list:
        key = f"{station.templates}|{station.standing_file}"
        if key not in self._standing:
            self._standing[key] = standing_messages(self.config.standing_file, station)
        return self._standing[key]

    def preflight(self, stations: list[StationConfig]) -> None:
        """Fail before touching any file when no audio can be made at all.

        A station whose own voice settings leave it no engine fails alone: one
        commune's wrong [stations.tts] must not silence the province.
        """
        from broadcast.audio import find_ffmpeg

        find_ffmpeg()
        for st in stations:
            synth = self.synthesizer(st)
            report = synth.engine_report()
            if not any(reason is None for _, reason in report):
                reasons = "; ".join(f"{name}: {reason}" for name, reason in report)
                self._voiceless[st.id] = (f"Không có bộ đọc nào dùng được cho đài {st.id} ({reasons}). "
                                          "Hãy chạy 'broadcast doctor' để kiểm tra.")
        if stations and len(self._voiceless) == len(stations):
            raise SpeechError(self._voiceless[stations[0].id])

    @contextlib.contextmanager
    def session(self):
        """Open the store and share the speech cache for one run."""
        from broadcast.speech import new_run
        from broadcast.store import Store

        new_run()  # a fresh Google probe and request budget for this run
        with contextlib.ExitStack() as stack:
            stack.enter_context(self.ws.cache_use())
            self.store = Store(self.config.data_dir / "broadcast.sqlite3")
            stack.callback(self.store.close)
            yield

    def collect_speech_stats(self, report: BuildReport) -> None:
        for synth in self._synths.values():
            report.speech_calls += synth.synth_calls
            report.cache_hits += synth.cache_hits
            report.warnings.extend(w for w in synth.warnings if w not in report.warnings)
            synth.close()

    def run(self, station_ids: list[str]) -> BuildReport:
        stations = [self.config.station(s) for s in station_ids] if station_ids else self.config.stations
        started = time.monotonic()
        report = BuildReport()
        if not self.options.script_only:
            self.preflight(stations)
        self.ws.check_day_dir(self.options.date)
        # Audio is made while the next stations are scripted and spoken: each
        # bulletin goes to the render processes as soon as its speech is ready.
        # The queue closes before the bulletin locks are released.
        with self.session(), contextlib.ExitStack() as held, contextlib.closing(RenderQueue(self)) as queue:
            if self.options.fetch:
                self._fetch(stations, report)
            self._planned = sum(len(st.slots) or 1 for st in stations)
            for st in stations:
                self._build_station(st, report, queue, held)
            if not station_ids:
                # Stations left out for a wrong [[stations]] table: one line each, and the run is not clean.
                report.results += [StationResult(station=sid, slot="", status="failed",
                                                 message=f"cấu hình của đài sai nên chưa làm bản tin: {message}. "
                                                         "Hãy sửa cấu hình rồi chạy lại cho đài này.")
                                   for sid, message in self.config.broken.items()]
            queue.finish()
            if not self.options.script_only:
                # Each goes on when the disk is full: the playlist of what was made, deliveries elsewhere,
                # and retention, which frees space.
                for step in (lambda: write_playlist(self.ws, self.store, self.config, self.options.date),
                             lambda: self._publish(stations, report), self._prune_old):
                    try:
                        step()
                    except DiskFullError as exc:
                        self.disk_full = self.disk_full or str(exc)
            report.disk_full = self.disk_full
            self._report_unused_entries(report)
            if report.no_news and len(report.results) > 1:
                report.root_cause = self._why_no_news(stations)
        self.collect_speech_stats(report)
        report.seconds = time.monotonic() - started
        return report

    def _fetch(self, stations: list[StationConfig], report: BuildReport) -> None:
        from broadcast.ingest import ingest
        from broadcast.relevance import load_vocabulary

        wanted: dict[str, object] = {}
        for st in stations:
            for feed in self.config.feeds_for(st):
                wanted[feed.name] = feed
        if not wanted:
            return
        # One vocabulary for ingest (the global one): stored scores are shared
        # by all stations, and alternating vocabularies would rescore every run.
        vocab = load_vocabulary(self.config.selection.topics_file)
        with self.ws.feeds_lock(timeout=600):
            result = ingest(self.config, self.store, feeds=list(wanted.values()), vocab=vocab,
                            now=self.options.now)
        for line in result.lines:
            if line.status == "failed":
                report.warnings.append(line.message)
                self._dead_feeds.add(line.feed)
        report.feed_lines = [l.message for l in result.lines if l.status != "failed"]

    # -- one station

    def _build_station(self, station: StationConfig, report: BuildReport,
                       pending: "RenderQueue", held: contextlib.ExitStack) -> None:
        slots: list[Slot | None] = list(station.slots) or [None]
        selection: list[Candidate] | None = None
        for slot in slots:
            key = BulletinKey(station.id, self.options.date, slot.name if slot else "")
            result = StationResult(station=station.id, slot=key.slot, status="failed")
            self.progress(Progress("script", len(report.results), getattr(self, "_planned", 1), key.label))
            if self.disk_full:  # it could not be written either: its files stay as they are
                self._stopped(result)
                report.results.append(result)
                continue
            try:
                # Held until the render finishes: one writer per bulletin.
                held.enter_context(self.ws.bulletin_lock(station.id, key.date, key.slot))
                if station.id in self._voiceless:
                    raise SpeechError(self._voiceless[station.id])
                selection = self._build_one(station, slot, key, result, selection, pending)
            except LockedError as exc:  # another run is on it: not a failure of this bulletin
                result.status = "busy"
                result.message = str(exc)
            except StoreCorruptError:
                raise  # no station can be built: stop with the recovery step
            except BroadcastError as exc:
                self._fail(key, result, str(exc), exc)
            except Exception as exc:  # a bug must not cost the other stations their bulletin
                log.exception("%s: unexpected error", key.label)
                self._fail(key, result, f"lỗi không mong đợi ({type(exc).__name__}: {exc}); "
                                        "chạy lại với -vv để xem chi tiết")
            report.results.append(result)

    def _stopped(self, result: StationResult) -> None:
        """A bulletin not started because the disk is full."""
        result.status, result.disk_full = "failed", True
        result.message = "chưa làm vì hết dung lượng đĩa"

    def _fail(self, key: BulletinKey, result: StationResult, message: str, exc: BaseException | None = None) -> None:
        result.status = "failed"
        result.message = message
        if isinstance(exc, DiskFullError):
            result.disk_full = True
            self.disk_full = self.disk_full or message
        log.info("%s failed: %s", key.label, message)  # the run's report shows it to the user
        if self.store is not None:
            try:
                self.store.save_bulletin(key.station, key.date, key.slot, self.options.now,
                                         failed_message=message, failed_at=self.options.now)
                self.store.add_event(key.station, key.date, key.slot, "failed", self.options.now,
                                     self.options.actor, message)
            except BroadcastError:
                pass

    def _select(self, station: StationConfig, standing: str, notices: list[Notice],
                slot_time: str = "") -> list[Candidate]:
        from broadcast.selection import select
        from broadcast.speechrate import with_learned_rate

        # The length estimate uses how fast the voice has really spoken so far.
        station = with_learned_rate(station, self.config.data_dir / "speech-cache")
        now = news_until(self.options.date, self.options.now)
        feeds = [f.name for f in self.config.feeds_for(station)]
        # Airing is recorded per day (slot ""), so a --refresh rebuild of the
        # same day gets the same stories back instead of the next ones.
        candidates = self.store.candidates(station.id, now, station.selection.fresh_hours, feeds,
                                           date=self.options.date, slot="")
        weights = {f.name: f.weight for f in self.config.feeds}
        budget = station.target_minutes * 60 - speech_estimate_overhead(
            station, self.options.date, standing, notices, slot_time)
        vocab = self.vocabulary(station)
        min_score = station.selection.min_score
        if min_score is None:
            min_score = vocab.threshold
        ranked = select(candidates, station, weights, max(budget, 30.0),
                        engine=station.tts.resolved_chain()[0], min_score=min_score, now=now)
        return [c for c in ranked if c.selected]

    def _build_one(self, station: StationConfig, slot: Slot | None, key: BulletinKey,
                   result: StationResult, selection: list[Candidate] | None,
                   pending: "RenderQueue") -> list[Candidate] | None:
        opts = self.options
        paths = self.ws.paths(station.id, key.date, key.slot)
        result.script = paths.script
        row = self.store.bulletin_row(key.station, key.date, key.slot) or {}

        existing = read_script(paths.script)
        edited = existing is not None and row.get("generated_sha") != sha(existing)

        standing = standing_for(opts.date, self.standing(station))
        notices = notices_for(station, opts.date, self.store.notices_for(station.id, opts.date))

        if existing is not None and not opts.refresh:
            text = existing
            result.edited = edited
            if edited:
                result.warnings.append(f"Dùng kịch bản đã được sửa tay: {paths.script}")
        else:
            if existing is not None and edited and not opts.force:
                raise BroadcastError(
                    f"Kịch bản {paths.script} đã được sửa tay; không ghi đè. "
                    "Dùng thêm --force để tạo lại (bản đã sửa được lưu thành tệp .bak)."
                )
            if existing is not None and edited:
                backup = paths.backup(opts.now)
                shutil.copy2(paths.script, backup)
                result.warnings.append(f"Đã lưu bản kịch bản cũ vào {backup}")
            if selection is None:
                selection = self._select(station, standing, notices, slot.time if slot else "")
            own = [f.name for f in self.config.feeds_for(station)]
            if not selection and own and self._dead_feeds.issuperset(own):
                # Said on the station's own line: the feed warning of the run does not say whose news it was.
                result.warnings.append(
                    f"Không có tin mới vì mọi nguồn tin của đài ({', '.join(own)}) đều không tải được lần này: "
                    "bản tin chỉ gồm thông điệp và thông báo. Hãy sửa nguồn tin theo dòng cảnh báo về nguồn tin."
                )
            elif not selection:
                result.warnings.append(
                    "Không có tin cải cách hành chính mới phù hợp: bản tin chỉ gồm thông điệp và thông báo."
                )
            ctx = script_context(station, opts.date, selection, standing, notices, slot.time if slot else "")
            text = render_script(ctx, station.templates)
            before = paths.script.read_bytes() if existing is not None else None
            atomic_write_text(paths.script, text)
            # Keep what else the record says (a hold decided before the script existed).
            row = {**row, "generated_sha": sha(text), "items": [item_record(c) for c in selection]}
            try:
                self.store.save_bulletin(
                    key.station, key.date, key.slot, opts.now, kind="bulletin", generated_text=text,
                    generated_sha=row["generated_sha"], generated_at=opts.now, items=row["items"],
                    standing=[standing] if standing else [],
                    notices=[{"text": n.text, "priority": n.priority, "id": n.id} for n in notices],
                    script_sha=row["generated_sha"], failed_message=None)
            except BaseException:
                # The store does not know this draft (its disk is full, or the run was stopped): the script
                # it knows goes back, or the next run would take the program's own draft for a staff edit.
                put_back(paths.script, before)
                raise
            self.store.add_event(key.station, key.date, key.slot, "drafted", opts.now, opts.actor,
                                 f"{len(selection)} tin")
            edited = False
        self.store.save_bulletin(key.station, key.date, key.slot, opts.now, script_sha=sha(text))
        if not opts.script_only:
            # A script staff changed after approval no longer airs as it was: the airing record says so now,
            # not only once the new audio is made (a run stopped before that would leave it claiming so).
            sync_airings(self.store, station, key, opts.now)
        segments = parse_script(text)
        result.items = sum(1 for s in segments if s.kind == "item")
        result.offered = len(row.get("items") or [])

        if opts.script_only:
            result.status = "script"
            return selection
        if row.get("held"):
            result.status = "held"
            result.message = "bản tin đang bị tạm dừng, không làm âm thanh"
            sync_airings(self.store, station, key, opts.now)
            return selection

        if not any(s.text for s in segments):
            raise BroadcastError(f"Kịch bản {paths.script} trống: không có gì để đọc.")
        job = self.prepare(station, key, paths, segments, result, text, edited, kind="bulletin",
                           title=bulletin_title(key.date, slot.time if slot else ""),
                           offered=row.get("items") or [], target=station.target_minutes * 60)
        if job is not None:
            # Fewer stories than the station allows means the news ran out, not the time.
            if len(row.get("items") or []) < station.selection.max_items and not edited:
                job.stories = len(row.get("items") or [])
            pending.submit(job)
        else:
            self.record_unchanged(station, key, paths, text, segments, row.get("items") or [])
        return selection

    def prepare(self, station: StationConfig, key: BulletinKey, paths: BulletinPaths,
                segments: list[Segment], result: StationResult, script_text: str, edited: bool, *,
                kind: str, title: str, offered: list[dict[str, Any]],
                target: float | None) -> PendingRender | None:
        """Speak a script and lay out its audio parts; None when the last audio still holds."""
        from broadcast.audio import Part, Tags
        from broadcast.textnorm import normalize

        audio = station.audio
        wav_path = paths.wav if audio.wav else None
        lexicon = self.lexicon(station)

        # Speak every paragraph first: one call lets the synthesizer dedupe,
        # hit the cache and parallelise across the whole bulletin.
        written: list[tuple[int, int, str]] = []
        for si, seg in enumerate(segments):
            for pi, para in enumerate(seg.paragraphs()):
                written.append((si, pi, para))
        speakable = [normalize(p, lexicon) for _, _, p in written]
        if station.lexicon is not None:
            self._read_with.setdefault(str(station.lexicon), []).extend(p for _, _, p in written)
        spoken = self.synthesizer(station).speak(speakable)
        from broadcast.speechrate import record

        record(self.config.data_dir / "speech-cache", station.tts, spoken)
        by_key: dict[tuple[int, int], SpokenParagraph] = {}
        for (si, pi, _), sp in zip(written, spoken):
            by_key[(si, pi)] = sp
            result.warnings.extend(w for w in sp.warnings if w not in result.warnings)

        parts: list[Part] = [Part(kind="jingle", path=audio.jingle, label="jingle")]
        prev_kind = "jingle"
        for si, seg in enumerate(segments):
            if seg.kind == "item" and prev_kind == "item":
                parts.append(Part(kind="sting", path=audio.sting, label="sting"))
            elif prev_kind != "jingle":
                parts.append(Part(kind="pause", duration_ms=audio.item_pause_ms, label="pause"))
            for pi, _ in enumerate(seg.paragraphs()):
                if pi:
                    parts.append(Part(kind="pause", duration_ms=audio.pause_ms, label="pause"))
                parts.append(Part(kind="speech", path=by_key[(si, pi)].wav, label=f"{si}:{pi}"))
            prev_kind = seg.kind
        parts.append(Part(kind="outro", path=audio.outro or audio.jingle, label="outro"))

        sources = sorted({s for seg in segments for s in seg.sources})
        tags = Tags(title=title, artist=station.name, date=key.date.isoformat(),
                    comment=("Nguồn: " + ", ".join(sources)) if sources else "Bản tin cải cách hành chính",
                    album="Bản tin cải cách hành chính")

        fingerprint = sha(json.dumps({
            # Speech files are content-addressed (their name is their key);
            # a station's own jingle can change in place, so its size and
            # mtime count too.
            "parts": [(p.kind, str(p.path or ""), "" if p.kind == "speech" else _file_sig(p.path),
                       p.duration_ms) for p in parts],
            "audio": dataclasses.asdict(audio),
            "tags": dataclasses.asdict(tags),
            "version": __version__,
        }, sort_keys=True, default=str))
        old = read_manifest(paths.manifest)
        outputs_exist = paths.audio.exists() and (wav_path is None or wav_path.exists())
        if (old is not None and old.fingerprint == fingerprint and outputs_exist
                and not self._replaced_since_recorded(key, paths)):
            result.status = "unchanged"
            result.audio = paths.audio
            result.duration = old.duration
            return None

        self._leave_playlist(key, paths)
        return PendingRender(
            key=key, station=station, paths=paths, result=result, segments=segments, spoken=by_key,
            parts=parts, tags=tags, wav_path=wav_path, target_seconds=target, fingerprint=fingerprint,
            script_text=script_text, edited=edited, kind=kind, title=title, offered=offered,
        )

    def _leave_playlist(self, key: BulletinKey, paths: BulletinPaths) -> None:
        """Take a bulletin whose audio is about to be replaced out of the day's playlist, for every process.

        The mark is in the store, so a playlist that another process writes meanwhile (staff approving
        another station) leaves the bulletin out too; it is cleared in the same write that records the
        new audio, and the playlist written after that names the bulletin again if it may air. A run
        killed between the two leaves the mark: the loudspeakers never get a file holding audio nobody
        approved, or audio the record of what aired does not describe, until a run makes it good.
        """
        self.store.save_bulletin(key.station, key.date, key.slot, self.options.now,
                                 replacing=_file_sig(paths.audio))
        # Checked under the playlist's lock after the mark is stored: a playlist another process computed
        # before the mark has landed by then, and one computed after it leaves the bulletin out.
        with self.ws.playlist_lock(key.date):
            if paths.audio.name in listed(self.ws, key.date):
                _write_playlist(self.ws, self.store, self.config, key.date)

    def _replaced_since_recorded(self, key: BulletinKey, paths: BulletinPaths) -> bool:
        """Whether a killed run left this bulletin marked and changed its audio file after the mark."""
        mark = (self.store.bulletin_row(key.station, key.date, key.slot) or {}).get("replacing")
        return bool(mark) and mark != _file_sig(paths.audio)

    def render_all(self, pending: list[PendingRender]) -> None:
        """Mix, master and encode these bulletins; then record each."""
        queue = RenderQueue(self)
        try:
            for job in pending:
                queue.submit(job)
            queue.finish()
        finally:
            queue.close()

    def _settle(self, job: PendingRender, get_result: Callable[[], object]):
        """Finish one bulletin from its render, or mark it failed; earlier files stay on failure."""
        try:
            rendered = get_result()
            self._finish(job, rendered)
            return rendered
        except StoreCorruptError:
            raise
        except BroadcastError as exc:
            self._fail(job.key, job.result, str(exc), exc)
        except Exception as exc:
            log.exception("%s: unexpected error", job.key.label)
            self._fail(job.key, job.result, f"lỗi không mong đợi ({type(exc).__name__}: {exc}); "
                                            "chạy lại với -vv để xem chi tiết")
        # On a full disk the mark may stay: the bulletin is then out of the playlist until a run records it.
        with contextlib.suppress(DiskFullError):
            self._unchanged_after_failure(job)
        return None

    def _unchanged_after_failure(self, job: PendingRender) -> None:
        """A render that failed before replacing the audio leaves the old audio standing, in the playlist too."""
        key = job.key
        if not self._replaced_since_recorded(key, job.paths):
            self.store.save_bulletin(key.station, key.date, key.slot, self.options.now, replacing=None)

    def _finish(self, job: PendingRender, rendered) -> None:
        """Write the manifest of a rendered bulletin and record it."""
        station, key, result = job.station, job.key, job.result
        result.warnings.extend(w for w in rendered.warnings if w not in result.warnings)
        timeline = {e.label: e for e in rendered.timeline if e.kind == "speech"}
        offered = {i.get("id"): i for i in job.offered}
        segs: list[ManifestSegment] = []
        for e in rendered.timeline:
            if e.kind in ("jingle", "outro"):
                segs.append(ManifestSegment(kind=e.kind, start=round(e.start, 3), end=round(e.end, 3)))
        item_ids = items_in_script(job.segments, job.offered)
        for si, seg in enumerate(job.segments):
            paras = []
            for pi, para in enumerate(seg.paragraphs()):
                sp = job.spoken[(si, pi)]
                t = timeline.get(f"{si}:{pi}")
                paras.append(ManifestParagraph(
                    text=para, spoken=sp.text, engine=sp.engine, voice=getattr(sp, "voice", "") or "",
                    cached=sp.cached, start=round(t.start, 3) if t else None,
                    end=round(t.end, 3) if t else None, duration=round(sp.duration, 3)))
            item = None
            if seg.kind == "item":
                sid = items_in_script([seg], job.offered)
                meta = offered.get(sid[0]) if sid else None
                meta = meta or {}
                item = {"id": sid[0] if sid else None, "title": seg.title,
                        "sources": seg.sources or meta.get("sources", []),
                        "link": seg.link or meta.get("link", ""), "published": meta.get("published"),
                        "topics": meta.get("topics", []), "score": meta.get("score")}
            segs.append(ManifestSegment(
                kind=seg.kind, start=paras[0].start if paras else None, end=paras[-1].end if paras else None,
                engine=",".join(sorted({p.engine for p in paras})), cached=all(p.cached for p in paras),
                paragraphs=paras, item=item))
        segs.sort(key=lambda s: (s.start is None, s.start or 0))
        engines = sorted({p.engine for s in segs for p in s.paragraphs})
        voices = sorted({f"{p.engine}:{p.voice}" if p.voice else p.engine for s in segs for p in s.paragraphs})
        row = self.store.bulletin_row(key.station, key.date, key.slot) or {}
        script_sha = sha(job.script_text)
        approved_by = row.get("approved_by") if row.get("approved_sha") == script_sha else None
        manifest = Manifest(
            station={"id": station.id, "name": station.name}, date=key.date.isoformat(),
            slot=({"name": key.slot, "time": _slot_time(station, key.slot)} if key.slot and job.kind == "bulletin"
                  else None),
            kind=job.kind, title=job.title,
            generated_at=self.options.now.isoformat(timespec="seconds"), broadcast_version=__version__,
            script=job.paths.script.name, script_sha256=script_sha, script_edited=job.edited,
            approved_by=approved_by, audio=job.paths.audio.name,
            wav=job.wav_path.name if job.wav_path else None, duration=round(rendered.duration, 3),
            target_duration=job.target_seconds, loudness_lufs=round(rendered.loudness, 2),
            true_peak_dbtp=round(rendered.true_peak, 2),
            format={"codec": "mp3", "bitrate": rendered.bitrate, "sample_rate": rendered.sample_rate,
                    "channels": 1},
            engines=engines, voices=voices, segments=segs,
            items=[s.item for s in segs if s.item is not None], warnings=result.warnings,
            fingerprint=job.fingerprint)
        write_manifest(job.paths.manifest, manifest)
        seconds: dict[str, float] = {}
        for seg in segs:
            if seg.start is not None and seg.end is not None:
                seconds[seg.kind] = round(seconds.get(seg.kind, 0.0) + seg.end - seg.start, 3)
        item_seconds = {str(seg.item["id"]): round(seg.end - seg.start, 3) for seg in segs
                        if seg.item and seg.item.get("id") is not None and seg.start is not None
                        and seg.end is not None}
        parts = {
            "seconds": seconds,
            "items": item_seconds,
            "standing": [s.text for s in job.segments if s.kind == "standing"],
            "notices": [s.text for s in job.segments if s.kind == "notice"],
        }
        result.status = "built"
        result.audio = job.paths.audio
        result.duration = rendered.duration
        self.store.save_bulletin(
            key.station, key.date, key.slot, self.options.now, kind=job.kind, title=job.title,
            script_sha=script_sha, rendered_sha=script_sha, rendered_at=self.options.now,
            rendered_edited=int(job.edited), rendered_items=item_ids, rendered_parts=parts, duration=round(rendered.duration, 3),
            engines=engines, loudness=round(rendered.loudness, 2), true_peak=round(rendered.true_peak, 2),
            audio=job.paths.audio.name, warnings=result.warnings, failed_message=None, replacing=None)
        self.store.add_event(key.station, key.date, key.slot, "rendered", self.options.now, self.options.actor,
                             f"{decimal(rendered.duration, 1)} giây")
        sync_airings(self.store, station, key, self.options.now)
        log.info("%s: %.1f s, %.1f LUFS", key.label, rendered.duration, rendered.loudness)

    def record_unchanged(self, station: StationConfig, key: BulletinKey, paths: BulletinPaths, text: str,
                          segments: list[Segment], offered: list[dict[str, Any]]) -> None:
        """The audio still matches its script: make sure the record says so."""
        row = self.store.bulletin_row(key.station, key.date, key.slot) or {}
        if row.get("rendered_sha") != sha(text):
            m = read_manifest(paths.manifest)
            self.store.save_bulletin(
                key.station, key.date, key.slot, self.options.now, rendered_sha=sha(text),
                rendered_at=self.options.now, rendered_items=items_in_script(segments, offered),
                duration=m.duration if m else 0.0, engines=m.engines if m else [],
                audio=paths.audio.name, failed_message=None, replacing=None)
        elif row.get("replacing"):
            # A killed run marked it and never touched the file: the audio stands as recorded.
            self.store.save_bulletin(key.station, key.date, key.slot, self.options.now, replacing=None)
        sync_airings(self.store, station, key, self.options.now)

    def _report_unused_entries(self, report: BuildReport) -> None:
        """Say once per dictionary which of a station's entries matched nothing this run (a typo, usually)."""
        from broadcast.textnorm import unused_entries

        for path, texts in self._read_with.items():
            unused = unused_entries(self._lexicons[path], texts)
            if unused:
                shown = ", ".join(f"'{u}'" for u in unused[:8]) + (", …" if len(unused) > 8 else "")
                report.warnings.append(
                    f"Từ điển phát âm {path}: {len(unused)} mục không khớp chữ nào trong các bản tin lần này "
                    f"({shown}); nếu bản tin có từ đó, hãy kiểm tra cách viết trong từ điển.")

    def _why_no_news(self, stations: list[StationConfig]) -> str:
        """One line for the whole run when no station had news: usually the feeds, not the stations."""
        feeds = {f.name for st in stations for f in self.config.feeds_for(st)}
        newest = self.store.newest_story_time(sorted(feeds)) if feeds else None
        total = len(stations)
        if newest is None:
            return f"0/{total} đài có tin mới: kho tin chưa có tin nào từ các nguồn đã khai báo."
        age = (self.options.now - newest).total_seconds() / 86400
        hours = min(st.selection.fresh_hours for st in stations)
        if age * 24 > hours:
            return (f"0/{total} đài có tin mới: tin mới nhất của mọi nguồn đã cũ {age:.0f} ngày "
                    f"(chỉ lấy tin trong {decimal(hours)} giờ). Hãy kiểm tra các nguồn tin ('broadcast doctor').")
        return (f"0/{total} đài có tin mới: có tin mới nhưng không tin nào đủ liên quan đến cải cách hành chính.")

    # -- retention

    def _prune_old(self) -> None:
        """Delete day folders past retention, by the real date; keep edited scripts; and stale temp files."""
        today = self.options.now.astimezone(VN_TZ).date()
        self.ws.remove_stale_temp(self.options.date, self.options.now)
        days = self.config.audio.retention_days
        if not days:
            return
        limit = today - dt.timedelta(days=days)
        rows = self.store.bulletin_rows(dt.date.min, limit - dt.timedelta(days=1))
        generated = {(r["date"], f"{r['station']}{'-' + r['slot'] if r['slot'] else ''}.txt"): r.get("generated_sha")
                     for r in rows}
        edited: set[tuple[dt.date, str]] = set()
        for (day, name), gen in generated.items():
            text = read_script(self.ws.day_dir(day) / name, quiet=True)
            if text is not None and gen != sha(text):
                edited.add((day, name))
        # Scripts with no record at all were not written by us: keep them too.
        for child in self.ws.out_dir.iterdir() if self.ws.out_dir.is_dir() else []:
            try:
                day = dt.date.fromisoformat(child.name)
            except ValueError:
                continue
            if day < limit and child.is_dir():
                for f in child.glob("*.txt"):
                    if (day, f.name) not in generated:
                        edited.add((day, f.name))
        keep = self._referenced_files()
        self.ws.prune(today, days, keep=keep, edited=edited)

    def _referenced_files(self) -> set[str]:
        """Files (relative to out_dir) that published feeds still reference.

        Episodes past the feed's retention leave their feeds here, in the same
        step, so a feed never points at a file retention removed.
        """
        from broadcast.publish.podcast import retain

        return retain(self.config, self.ws, self.store, self.options.now.astimezone(VN_TZ).date(),
                      self.options.now)

    def _publish(self, stations: list[StationConfig], report: BuildReport) -> None:
        """Publish what this run made that may air; a failed delivery is a warning, the build stands."""
        from broadcast.publish.run import Publisher, publish_lock

        # This run still holds the lock of every bulletin it did not find busy.
        held = {BulletinKey(r.station, self.options.date, r.slot) for r in report.results if r.status != "busy"}
        # A bulletin another run is making is that run's to publish: waiting for its lock here would only
        # add a pause and a warning per bulletin when a manual run overlaps the nightly one.
        busy = {BulletinKey(r.station, self.options.date, r.slot) for r in report.results if r.status == "busy"}
        ids = [st.id for st in stations]
        only = {key for row in self.store.bulletin_rows(self.options.date, self.options.date, ids)
                if (key := BulletinKey(row["station"], self.options.date, row["slot"])) not in busy}
        try:
            with publish_lock(self.ws):
                done = Publisher(self.config, self.ws, self.store, self.options.now, actor=self.options.actor,
                                 held_keys=held).run(self.options.date, stations, only)
        except BroadcastError as exc:
            report.warnings.append(f"chưa phát hành: {exc}")
            return
        for pub in done.publications:
            if pub.status in ("failed", "busy") and not pub.targets:
                report.warnings.append(f"{pub.key.label}: chưa phát hành: {pub.message}")
            for t in pub.targets:
                if t.result == "failed":
                    report.warnings.append(f"{pub.key.label}: chưa giao được tới {t.target}: {t.message}")
        report.warnings.extend(done.warnings)


def quiet_worker() -> None:
    """In a render process: die with the parent, and report through results only (the parent says it once)."""
    from broadcast.audio.worker import watch_parent

    watch_parent()
    logging.getLogger().handlers[:] = [logging.NullHandler()]
    logging.getLogger().setLevel(logging.CRITICAL)


class RenderQueue:
    """Bulletins waiting for their audio: rendered in worker processes as they arrive, settled in order.

    Bulletins whose audio would be identical are encoded once and copied.
    One bulletin alone is rendered in this process (starting workers would
    cost more than it saves).
    """

    def __init__(self, builder: "Builder") -> None:
        self.builder = builder
        self.jobs = builder.options.jobs or os.cpu_count() or 1
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None
        self.unique: list[tuple[PendingRender, concurrent.futures.Future | None]] = []
        self.first: dict[str, PendingRender] = {}
        self.copies: list[PendingRender] = []

    @staticmethod
    def _call(j: PendingRender):
        from broadcast.audio import render

        return render, (j.parts, j.station.audio, j.paths.audio, j.tags, j.wav_path), {
            "target_seconds": j.target_seconds, "stories": j.stories}

    def _start(self, job: PendingRender) -> concurrent.futures.Future:
        fn, args, kw = self._call(job)
        return self.pool.submit(fn, *args, **kw)

    def submit(self, job: PendingRender) -> None:
        """Queue one bulletin; start the workers once there are two to do."""
        if job.fingerprint in self.first and job.wav_path is None:
            self.copies.append(job)
            return
        self.first.setdefault(job.fingerprint, job)
        if self.pool is None and self.jobs > 1 and self.unique:
            ctx = multiprocessing.get_context("spawn")  # no fork under gTTS's threads
            self.pool = concurrent.futures.ProcessPoolExecutor(max_workers=self.jobs, mp_context=ctx,
                                                               initializer=quiet_worker)
            self.unique = [(j, self._start(j)) for j, _ in self.unique]
        self.unique.append((job, self._start(job) if self.pool is not None else None))

    def finish(self) -> None:
        """Wait for every render, record each bulletin, then write the copies."""
        b = self.builder
        rendered: dict[str, Any] = {}
        total = len(self.unique)
        for n, (job, future) in enumerate(self.unique):
            b.progress(Progress("audio", n, total, job.key.label))
            if b.disk_full and (future is None or future.cancel()):
                b._stopped(job.result)  # never started: the old audio stands
                with contextlib.suppress(DiskFullError):
                    b._unchanged_after_failure(job)
                continue
            if future is None:
                fn, args, kw = self._call(job)
                rendered[job.fingerprint] = b._settle(job, lambda: fn(*args, **kw))
            else:
                rendered[job.fingerprint] = b._settle(job, future.result)
        for job in self.copies:
            source = self.first[job.fingerprint]
            done = rendered.get(job.fingerprint)
            if done is None:
                if b.disk_full:
                    b._stopped(job.result)
                else:
                    b._fail(job.key, job.result, source.result.message or "không làm được âm thanh")
                with contextlib.suppress(DiskFullError):
                    b._unchanged_after_failure(job)
                continue

            def copy(job=job, source=source, done=done):
                from broadcast.fsutil import atomic_path

                with atomic_path(job.paths.audio, suffix=".mp3") as tmp:
                    shutil.copyfile(source.paths.audio, tmp)
                return done
            b._settle(job, copy)
        self.unique, self.copies = [], []

    def close(self) -> None:
        """Stop the workers (after a failure, without waiting for queued renders)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def _slot_time(station: StationConfig, slot: str) -> str:
    for s in station.slots:
        if s.name == slot:
            return s.time
    return ""


def bulletin_title(date: dt.date, slot_time: str = "") -> str:
    """'Bản tin cải cách hành chính ngày 30/11/2026 (06:00)'."""
    title = f"Bản tin cải cách hành chính ngày {date.strftime('%d/%m/%Y')}"
    return f"{title} ({slot_time})" if slot_time else title


def put_back(path: Path, before: bytes | None) -> None:
    """Restore a file to the bytes it had (None: it did not exist); a failure is only logged."""
    try:
        if before is None:
            path.unlink(missing_ok=True)
        else:
            atomic_write_bytes(path, before)
    except (OSError, BroadcastError) as exc:
        log.warning("could not put back %s: %s", path, exc)


def read_script(path: Path, quiet: bool = False) -> str | None:
    """A script's text, or None when there is none; a script that cannot be read is an error."""
    if not path.exists():
        return None
    if path.is_dir():
        raise BroadcastError(f"{path} là thư mục, không phải kịch bản: hãy đổi tên thư mục đó.")
    try:
        return read_staff_text(path, "kịch bản")
    except BroadcastError:
        if quiet:
            return ""
        raise


def sync_airings(store, station: StationConfig, key: BulletinKey, now: dt.datetime) -> None:
    """Record the stories of the day's bulletins that may air; drop the record when none may.

    Airing is recorded per day (slot ""): a story aired in the morning is not
    offered in the evening. So the record is the union over every slot of
    the day that may air, and one slot that is held or waiting for approval
    never erases what another slot aired.
    """
    order = {s.name: n for n, s in enumerate(station.slots)}
    rows = [r for r in store.bulletin_rows(key.date, key.date, [key.station])
            if (r.get("kind") or "bulletin") == "bulletin"]
    if not rows:
        return
    ids: list[int] = []
    for row in sorted(rows, key=lambda r: (order.get(r["slot"], len(order)), r["slot"])):
        _, _, may_air = derive_state(row, row.get("script_sha"), station.publish)
        if may_air:
            ids += [i for i in row.get("rendered_items") or [] if i not in ids]
    if ids:
        store.record_aired(key.station, key.date, "", ids, now=now)
    else:
        store.forget_aired(key.station, key.date, "")


def listed(ws: Workspace, date: dt.date) -> set[str]:
    """The audio files the day's playlist names now."""
    try:
        text = ws.playlist(date).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return set()
    return {line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")}


def write_playlist(ws: Workspace, store, config: Config, date: dt.date) -> None:
    """The day's M3U: every bulletin that may air, in slot order; never another day's file.

    Read from the manifests and the store under the day's playlist lock, so the
    last process to write it wrote what the store said last. A bulletin whose
    audio a run is replacing (marked in the store) is left out whatever its
    other records say.
    """
    day = ws.day_dir(date)
    if not day.is_dir():
        return
    with ws.playlist_lock(date):
        _write_playlist(ws, store, config, date)


def _write_playlist(ws: Workspace, store, config: Config, date: dt.date) -> None:
    day = ws.day_dir(date)
    policies = {s.id: s.publish for s in config.stations}
    entries = []
    for path in ws.manifests(date):
        m = read_manifest(path)
        if m is None or not (day / m.audio).exists():
            continue
        sid = m.station.get("id", "")
        slot = path.stem[len(sid) + 1:] if path.stem != sid else ""
        row = store.bulletin_row(sid, date, slot) if store is not None else None
        if row is None or row.get("replacing"):
            continue
        # A station missing from the configuration (removed, or its table is wrong) gets the safe policy:
        # its bulletins stay on the air only if approved, never because its "approved" line was lost.
        _, _, may_air = derive_state(row, m.script_sha256, policies.get(sid, "approved"))
        if not may_air or row.get("rendered_sha") != m.script_sha256:
            continue
        entries.append(((m.slot or {}).get("time", ""), m.station.get("name", ""), m.duration, m.audio))
    entries.sort()
    lines = ["#EXTM3U"]
    for _, name, duration, audio_name in entries:
        lines.append(f"#EXTINF:{int(round(duration))},{name}")
        lines.append(audio_name)
    atomic_write_text(ws.playlist(date), "\n".join(lines) + "\n")


def _file_sig(path: Path | None) -> str:
    if not path:
        return ""
    try:
        st = Path(path).stat()
    except OSError:
        return "missing"
    return f"{st.st_size}:{st.st_mtime_ns}"


def build(config: Config, station_ids: list[str], options: BuildOptions, workspace: Workspace,
          progress: Callable[[Progress], None] | None = None) -> BuildReport:
    """Build (or just script) the bulletins of the named stations, or all."""
    return Builder(config, options, workspace, progress).run(station_ids)
