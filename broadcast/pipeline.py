"""The nightly job: feeds -> selection -> script -> speakable text -> speech -> audio -> files.

The order is fixed by what each stage needs: selection needs the stored
items, the script needs the selection, speech needs the script's text made
speakable, and the audio needs every spoken paragraph. Scripts are written
before any audio so staff can review them; a script that already exists for
the date is read back, never regenerated silently, because staff may have
edited it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import fcntl
import hashlib
import json
import logging
import multiprocessing
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from broadcast import __version__
from broadcast.config import Config, Slot, StationConfig
from broadcast.errors import BroadcastError, LockedError, SpeechError
from broadcast.fsutil import atomic_write_text, read_staff_text
from broadcast.models import VN_TZ, Candidate, Segment, SpokenParagraph
from broadcast.script import (
    ScriptContext,
    load_standing_messages,
    parse_script,
    render_script,
    standing_for,
)

log = logging.getLogger(__name__)

DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Temporary files of atomic writes (see fsutil.atomic_path) that a killed run left behind.
STALE_TEMP = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.(tmp|mp3|wav)$")


@dataclass
class BuildOptions:
    date: dt.date
    out_dir: Path
    fetch: bool = True  # fetch feeds before selecting
    refresh: bool = False  # regenerate scripts that already exist for the date
    force: bool = False  # with refresh: also replace scripts staff edited (a backup is kept)
    script_only: bool = False  # write scripts for review, no audio
    jobs: int = 0  # bulletins mastered at once; 0: one per CPU core


@dataclass
class StationResult:
    station: str
    slot: str
    status: str  # built | unchanged | script | failed
    script: Path | None = None
    audio: Path | None = None
    duration: float = 0.0
    edited: bool = False
    warnings: list[str] = field(default_factory=list)
    message: str = ""


@dataclass
class BuildReport:
    results: list[StationResult] = field(default_factory=list)
    feed_lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    speech_calls: int = 0
    cache_hits: int = 0
    seconds: float = 0.0

    @property
    def failed(self) -> list[StationResult]:
        return [r for r in self.results if r.status == "failed"]


@dataclass
class PendingRender:
    """A bulletin whose speech is ready and whose audio must be mixed and mastered."""

    station: StationConfig
    slot: Slot | None
    result: StationResult
    manifest_path: Path
    segments: list[Segment]
    spoken: dict[tuple[int, int], SpokenParagraph]
    parts: list
    tags: object
    wav_path: Path | None
    target_seconds: float | None
    fingerprint: str
    state: dict
    script_text: str
    edited: bool
    item_ids: list[int] = field(default_factory=list)


# ---------------------------------------------------------------- helpers


@contextlib.contextmanager
def run_lock(data_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock so two cron runs never write the same files at once."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "broadcast.lock"
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(
                f"Một lần chạy khác đang chạy (khóa {path}). Hãy đợi lần đó xong rồi chạy lại."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def output_base(station: StationConfig, slot: Slot | None) -> str:
    """File stem of one bulletin: 'hoa-phu' or 'hoa-phu-sang'."""
    return f"{station.id}-{slot.name}" if slot else station.id


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def load_notices(station: StationConfig) -> list[str]:
    """Local notices from the config and from the station's notices file."""
    notices = list(station.notices)
    if station.notices_file:
        if not station.notices_file.exists():
            raise BroadcastError(
                f"Không thấy tệp thông báo {station.notices_file} (khóa notices_file của đài {station.id}): "
                "hãy tạo tệp hoặc bỏ khóa này."
            )
        text = read_staff_text(station.notices_file, "tệp thông báo")
        body = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
        notices += [n.strip() for n in re.split(r"\n\s*\n", body) if n.strip()]
    return notices


def speech_estimate_overhead(station: StationConfig, date: dt.date, standing: str,
                             notices: list[str], slot_time: str = "") -> float:
    """Seconds of the bulletin that are not news items: greeting, messages, closing, jingles.

    Estimated from the station's own template rendered without items, so a
    station that lengthens its greeting gets correspondingly fewer items.
    """
    from broadcast.selection import estimate_seconds

    rate = station.tts.syllables_per_minute.get(station.tts.resolved_chain()[0], 200.0)
    ctx = ScriptContext(station_name=station.name, date=date, items=[], standing=standing,
                        notices=notices, slot_time=slot_time, commune=station.commune,
                        province=station.province)
    paragraphs = [p for seg in parse_script(render_script(ctx, station.templates))
                  for p in seg.paragraphs()]
    speech = sum(estimate_seconds(p, rate) for p in paragraphs)
    pauses = len(paragraphs) * max(station.audio.pause_ms, station.audio.item_pause_ms) / 1000
    return speech + pauses + 7.0  # the generated jingle and outro are about 3.2 s each


# ---------------------------------------------------------------- the run


class Builder:
    """Builds bulletins for many stations in one run, sharing speech between them."""

    def __init__(self, config: Config, options: BuildOptions,
                 progress: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.options = options
        self.progress = progress or (lambda msg: None)
        self._synths: dict[str, object] = {}
        self._lexicons: dict[str, object] = {}
        self._vocabs: dict[str, object] = {}
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

    def preflight(self, stations: list[StationConfig]) -> None:
        """Fail before touching any file when no audio can be made at all."""
        from broadcast.audio import find_ffmpeg

        find_ffmpeg()
        for st in stations:
            synth = self.synthesizer(st)
            report = synth.engine_report()
            if not any(reason is None for _, reason in report):
                reasons = "; ".join(f"{name}: {reason}" for name, reason in report)
                raise SpeechError(
                    f"Không có bộ đọc nào dùng được cho đài {st.id} ({reasons}). "
                    "Hãy chạy 'broadcast doctor' để kiểm tra."
                )

    def run(self, station_ids: list[str]) -> BuildReport:
        stations = [self.config.station(s) for s in station_ids] if station_ids else self.config.stations
        from broadcast.speech import new_run
        from broadcast.store import Store

        new_run()  # a fresh Google probe and request budget for this run
        started = time.monotonic()
        report = BuildReport()
        if not self.options.script_only:
            self.preflight(stations)
        with run_lock(self.config.data_dir):
            self.store = Store(self.config.data_dir / "broadcast.sqlite3")
            try:
                if self.options.fetch:
                    self._fetch(stations, report)
                pending: list[PendingRender] = []
                for st in stations:
                    self._build_station(st, report, pending)
                self._render_all(pending)
                if not self.options.script_only:
                    self._write_playlist()
                    self._prune_old(report)
            finally:
                self.store.close()
        for synth in self._synths.values():
            report.speech_calls += synth.synth_calls
            report.cache_hits += synth.cache_hits
            report.warnings.extend(w for w in synth.warnings if w not in report.warnings)
            synth.close()
        report.seconds = time.monotonic() - started
        return report

    def _fetch(self, stations: list[StationConfig], report: BuildReport) -> None:
        from broadcast.ingest import ingest

        wanted: dict[str, object] = {}
        for st in stations:
            for feed in self.config.feeds_for(st):
                wanted[feed.name] = feed
        if not wanted:
            return
        # One vocabulary for ingest (the global one): stored scores are shared
        # by all stations, and alternating vocabularies would rescore every run.
        from broadcast.relevance import load_vocabulary

        vocab = load_vocabulary(self.config.selection.topics_file)
        result = ingest(self.config, self.store, feeds=list(wanted.values()), vocab=vocab)
        for line in result.lines:
            if line.status == "failed":
                report.warnings.append(line.message)
        report.feed_lines = [l.message for l in result.lines if l.status != "failed"]

    # -- one station

    def _build_station(self, station: StationConfig, report: BuildReport,
                       pending: list[PendingRender]) -> None:
        slots: list[Slot | None] = list(station.slots) or [None]
        selection: list[Candidate] | None = None
        for slot in slots:
            base = output_base(station, slot)
            result = StationResult(station=station.id, slot=slot.name if slot else "", status="failed")
            self.progress(f"{base}")
            try:
                selection = self._build_one(station, slot, result, selection, pending)
            except BroadcastError as exc:
                result.status = "failed"
                result.message = str(exc)
                log.info("%s failed: %s", base, exc)  # the run's report shows it to the user
            except Exception as exc:  # a bug must not cost the other stations their bulletin
                result.status = "failed"
                result.message = f"lỗi không mong đợi ({type(exc).__name__}: {exc}); chạy lại với -vv để xem chi tiết"
                log.exception("%s: unexpected error", base)
            report.results.append(result)

    def _select(self, station: StationConfig, standing: str, notices: list[str],
                slot_time: str = "") -> list[Candidate]:
        from broadcast.selection import select

        now = dt.datetime.combine(self.options.date, dt.time(23, 59), VN_TZ)
        real_now = dt.datetime.now(VN_TZ)
        if real_now < now:
            now = real_now
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

    def _build_one(self, station: StationConfig, slot: Slot | None, result: StationResult,
                   selection: list[Candidate] | None,
                   pending: list[PendingRender]) -> list[Candidate] | None:
        opts = self.options
        date_dir = opts.out_dir / opts.date.isoformat()
        base = output_base(station, slot)
        script_path = date_dir / f"{base}.txt"
        state_path = date_dir / f".{base}.script.json"
        manifest_path = date_dir / f"{base}.json"
        result.script = script_path

        state = _read_json(state_path)
        existing = None
        if script_path.exists():
            existing = read_staff_text(script_path, "kịch bản")
        edited = existing is not None and state.get("generated_sha256") != _sha(existing)

        standing_msgs = load_standing_messages(station.templates)
        standing = standing_for(opts.date, standing_msgs)
        notices = load_notices(station)

        if existing is not None and not opts.refresh:
            text = existing
            result.edited = edited
            if edited:
                result.warnings.append(f"Dùng kịch bản đã được sửa tay: {script_path}")
        else:
            if existing is not None and edited and not opts.force:
                raise BroadcastError(
                    f"Kịch bản {script_path} đã được sửa tay; không ghi đè. "
                    "Dùng thêm --force để tạo lại (bản đã sửa được lưu thành tệp .bak)."
                )
            if existing is not None and edited:
                backup = script_path.with_name(
                    f"{script_path.name}.{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.bak"
                )
                shutil.copy2(script_path, backup)
                result.warnings.append(f"Đã lưu bản kịch bản cũ vào {backup}")
            if selection is None:
                selection = self._select(station, standing, notices, slot.time if slot else "")
            if not selection:
                result.warnings.append(
                    "Không có tin cải cách hành chính mới phù hợp: bản tin chỉ gồm thông điệp và thông báo."
                )
            ctx = ScriptContext(
                station_name=station.name, date=opts.date, items=selection, standing=standing,
                notices=notices, slot_time=slot.time if slot else "",
                commune=station.commune, province=station.province,
            )
            text = render_script(ctx, station.templates)
            atomic_write_text(script_path, text)
            state = {
                "generated_sha256": _sha(text),
                "generated_at": dt.datetime.now(VN_TZ).isoformat(timespec="seconds"),
                "items": [_item_json(c) for c in selection],
            }
            atomic_write_text(state_path, json.dumps(state, ensure_ascii=False, indent=2))
            edited = False

        if opts.script_only:
            result.status = "script"
            return selection

        segments = parse_script(text)
        if not any(s.text for s in segments):
            raise BroadcastError(f"Kịch bản {script_path} trống: không có gì để đọc.")
        job = self._prepare(station, slot, segments, state, result, manifest_path, text, edited)
        item_ids = [i["id"] for i in state.get("items", []) if isinstance(i.get("id"), int)]
        if job is None:  # unchanged: nothing to master, it aired as it is
            if item_ids:
                self.store.record_aired(station.id, opts.date, "", item_ids)
        else:
            job.item_ids = item_ids
            pending.append(job)
        return selection

    def _prepare(self, station: StationConfig, slot: Slot | None, segments: list[Segment],
                 state: dict, result: StationResult, manifest_path: Path, script_text: str,
                 edited: bool, title: str | None = None) -> PendingRender | None:
        """Speak a script and lay out its audio parts; None when the last audio still holds."""
        title_override = title is not None
        from broadcast.audio import Part, Tags
        from broadcast.textnorm import normalize

        opts = self.options
        audio = station.audio
        mp3_path = manifest_path.with_suffix(".mp3")
        wav_path = manifest_path.with_suffix(".wav") if audio.wav else None
        lexicon = self.lexicon(station)

        # Speak every paragraph first: one call lets the synthesizer dedupe,
        # hit the cache and parallelise across the whole bulletin.
        written: list[tuple[int, int, str]] = []
        for si, seg in enumerate(segments):
            for pi, para in enumerate(seg.paragraphs()):
                written.append((si, pi, para))
        speakable = [normalize(p, lexicon) for _, _, p in written]
        spoken = self.synthesizer(station).speak(speakable)
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
        date_text = opts.date.strftime("%d/%m/%Y")
        if title is None:
            title = f"Bản tin cải cách hành chính ngày {date_text}"
            if slot:
                title += f" ({slot.time})"
        tags = Tags(title=title, artist=station.name, date=opts.date.isoformat(),
                    comment=("Nguồn: " + ", ".join(sources)) if sources else "Bản tin cải cách hành chính",
                    album="Bản tin cải cách hành chính")

        fingerprint = _sha(json.dumps({
            # Speech files are content-addressed (their name is their key);
            # a station's own jingle can change in place, so its size and
            # mtime count too.
            "parts": [(p.kind, str(p.path or ""), "" if p.kind == "speech" else _file_sig(p.path),
                       p.duration_ms) for p in parts],
            "audio": dataclasses.asdict(audio),
            "tags": dataclasses.asdict(tags),
            "version": __version__,
        }, sort_keys=True, default=str))
        old = _read_json(manifest_path)
        outputs_exist = mp3_path.exists() and (wav_path is None or wav_path.exists())
        if old.get("fingerprint") == fingerprint and outputs_exist:
            result.status = "unchanged"
            result.audio = mp3_path
            result.duration = float(old.get("duration", 0.0))
            return None

        # One-off notices have no target length; bulletins warn when >20% off.
        return PendingRender(
            station=station, slot=slot, result=result, manifest_path=manifest_path,
            segments=segments, spoken=by_key, parts=parts, tags=tags, wav_path=wav_path,
            target_seconds=None if title_override else station.target_minutes * 60,
            fingerprint=fingerprint, state=state, script_text=script_text, edited=edited,
        )

    def _render_all(self, pending: list[PendingRender]) -> None:
        """Mix, master and encode every pending bulletin, several at once on a multi-core machine.

        Mastering is CPU-bound Python and ffmpeg work, so separate processes
        (not threads) share it across cores. Each bulletin fails on its own.
        """
        from broadcast.audio import render

        jobs = self.options.jobs or os.cpu_count() or 1
        if len(pending) <= 1 or jobs <= 1:
            for job in pending:
                self._settle(job, lambda j=job: render(j.parts, j.station.audio, j.manifest_path.with_suffix(".mp3"),
                                                       j.tags, j.wav_path, target_seconds=j.target_seconds))
            return
        ctx = multiprocessing.get_context("spawn")  # no fork under gTTS's threads
        with concurrent.futures.ProcessPoolExecutor(max_workers=min(jobs, len(pending)), mp_context=ctx) as pool:
            futures = [
                pool.submit(render, j.parts, j.station.audio, j.manifest_path.with_suffix(".mp3"),
                            j.tags, j.wav_path, target_seconds=j.target_seconds)
                for j in pending
            ]
            for job, future in zip(pending, futures):
                self.progress(f"{output_base(job.station, job.slot)}: âm thanh")
                self._settle(job, future.result)

    def _settle(self, job: PendingRender, get_result: Callable[[], object]) -> None:
        """Finish one bulletin from its render, or mark it failed; earlier files stay on failure."""
        base = output_base(job.station, job.slot)
        try:
            rendered = get_result()
            self._finish(job, rendered)
        except BroadcastError as exc:
            job.result.status = "failed"
            job.result.message = str(exc)
            log.info("%s failed: %s", base, exc)  # the run's report shows it to the user
            return
        except Exception as exc:
            job.result.status = "failed"
            job.result.message = f"lỗi không mong đợi ({type(exc).__name__}: {exc}); chạy lại với -vv để xem chi tiết"
            log.exception("%s: unexpected error", base)
            return
        if job.item_ids:
            self.store.record_aired(job.station.id, self.options.date, "", job.item_ids)

    def _finish(self, job: PendingRender, rendered) -> None:
        """Write the manifest of a rendered bulletin."""
        station, slot, result = job.station, job.slot, job.result
        segments, by_key, state = job.segments, job.spoken, job.state
        manifest_path, wav_path = job.manifest_path, job.wav_path
        mp3_path = manifest_path.with_suffix(".mp3")
        opts = self.options
        base = output_base(station, slot)
        target = station.target_minutes * 60
        result.warnings.extend(rendered.warnings)

        timeline = {e.label: e for e in rendered.timeline if e.kind == "speech"}
        seg_json = []
        for e in rendered.timeline:
            if e.kind in ("jingle", "outro"):
                seg_json.append({"kind": e.kind, "start": round(e.start, 3), "end": round(e.end, 3)})
        items_meta = {i.get("title"): i for i in state.get("items", [])}
        for si, seg in enumerate(segments):
            paras = []
            for pi, para in enumerate(seg.paragraphs()):
                sp = by_key[(si, pi)]
                t = timeline.get(f"{si}:{pi}")
                paras.append({
                    "text": para, "spoken": sp.text, "engine": sp.engine, "cached": sp.cached,
                    "start": round(t.start, 3) if t else None, "end": round(t.end, 3) if t else None,
                    "duration": round(sp.duration, 3),
                })
            entry = {
                "kind": seg.kind,
                "start": paras[0]["start"] if paras else None,
                "end": paras[-1]["end"] if paras else None,
                "engine": ",".join(sorted({p["engine"] for p in paras})),
                "cached": all(p["cached"] for p in paras),
                "paragraphs": paras,
            }
            if seg.kind == "item":
                meta = items_meta.get(seg.title, {})
                entry["item"] = {
                    "title": seg.title, "sources": seg.sources or meta.get("sources", []),
                    "link": seg.link or meta.get("link", ""), "published": meta.get("published"),
                    "topics": meta.get("topics", []), "score": meta.get("score"),
                }
            seg_json.append(entry)
        seg_json.sort(key=lambda s: (s["start"] is None, s["start"] or 0))

        engines = sorted({p["engine"] for s in seg_json for p in s.get("paragraphs", [])})
        manifest = {
            "station": {"id": station.id, "name": station.name},
            "date": opts.date.isoformat(),
            "slot": {"name": slot.name, "time": slot.time} if slot else None,
            "generated_at": dt.datetime.now(VN_TZ).isoformat(timespec="seconds"),
            "broadcast_version": __version__,
            "script": manifest_path.with_suffix(".txt").name,
            "script_sha256": _sha(job.script_text),
            "script_edited": job.edited,
            "audio": mp3_path.name,
            "wav": wav_path.name if wav_path else None,
            "duration": round(rendered.duration, 3),
            "target_duration": target,
            "loudness_lufs": round(rendered.loudness, 2),
            "true_peak_dbtp": round(rendered.true_peak, 2),
            "format": {"codec": "mp3", "bitrate": rendered.bitrate, "sample_rate": rendered.sample_rate,
                       "channels": 1},
            "engines": engines,
            "segments": seg_json,
            "items": [s["item"] for s in seg_json if "item" in s],
            "warnings": result.warnings,
            "fingerprint": job.fingerprint,
        }
        atomic_write_text(manifest_path, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        result.status = "built"
        result.audio = mp3_path
        result.duration = rendered.duration
        log.info("%s: %.1f s, %.1f LUFS", base, rendered.duration, rendered.loudness)

    # -- one-off bulletins

    def notice(self, station: StationConfig, text: str, name: str) -> StationResult:
        """Build a one-off bulletin (an urgent notice) from text typed by staff."""
        from broadcast.audio import find_ffmpeg

        text = text.strip()
        if not text:
            raise BroadcastError("Nội dung thông báo trống: không có gì để đọc.")
        find_ffmpeg()
        self.preflight([station])
        date_dir = self.options.out_dir / self.options.date.isoformat()
        base = f"{station.id}-{name}"
        script_path = date_dir / f"{base}.txt"
        result = StationResult(station=station.id, slot=name, status="failed", script=script_path)
        script_text = f"[thông báo]\n{text}\n"
        segments = parse_script(script_text)
        with run_lock(self.config.data_dir):
            atomic_write_text(script_path, script_text)
            job = self._prepare(station, None, segments, {}, result, date_dir / f"{base}.json", script_text,
                                edited=False, title=f"Thông báo ngày {self.options.date.strftime('%d/%m/%Y')}")
            if job is not None:
                self._render_all([job])
            if result.status == "failed":
                raise BroadcastError(result.message)
            self._write_playlist()
        return result

    # -- delivery

    def _write_playlist(self) -> None:
        """A daily M3U of every bulletin in the date folder, in slot order."""
        date_dir = self.options.out_dir / self.options.date.isoformat()
        if not date_dir.is_dir():
            return
        entries = []
        for manifest in sorted(date_dir.glob("*.json")):
            data = _read_json(manifest)
            audio_name = data.get("audio")
            if not audio_name or not (date_dir / audio_name).exists():
                continue
            slot = (data.get("slot") or {}).get("time", "")
            entries.append((slot, data.get("station", {}).get("name", ""), float(data.get("duration", 0)), audio_name))
        entries.sort()
        lines = ["#EXTM3U"]
        for _, name, duration, audio_name in entries:
            lines.append(f"#EXTINF:{int(round(duration))},{name}")
            lines.append(audio_name)
        atomic_write_text(date_dir / "playlist.m3u", "\n".join(lines) + "\n")

    def _prune_old(self, report: BuildReport) -> None:
        """Delete date folders older than the retention period, and temp files of killed runs."""
        date_dir = self.options.out_dir / self.options.date.isoformat()
        if date_dir.is_dir():
            cutoff = time.time() - 3600
            for child in date_dir.iterdir():
                try:
                    if STALE_TEMP.match(child.name) and child.stat().st_mtime < cutoff:
                        child.unlink()
                        log.info("removed unfinished file %s", child)
                except OSError:
                    pass
        days = self.config.audio.retention_days
        if not days or not self.options.out_dir.is_dir():
            return
        limit = self.options.date - dt.timedelta(days=days)
        for child in self.options.out_dir.iterdir():
            if child.is_dir() and DATE_DIR.match(child.name):
                try:
                    day = dt.date.fromisoformat(child.name)
                except ValueError:
                    continue
                if day < limit:
                    shutil.rmtree(child, ignore_errors=True)
                    log.info("removed old bulletins %s", child)


def _file_sig(path: Path | None) -> str:
    if not path:
        return ""
    try:
        st = Path(path).stat()
    except OSError:
        return "missing"
    return f"{st.st_size}:{st.st_mtime_ns}"


def _item_json(c: Candidate) -> dict:
    return {
        "id": c.id, "title": c.title, "sources": c.sources, "link": c.link,
        "published": c.published.isoformat() if c.published else None,
        "topics": c.topics, "score": round(c.score, 3),
    }


def build(config: Config, station_ids: list[str], options: BuildOptions,
          progress: Callable[[str], None] | None = None) -> BuildReport:
    """Build (or just script) the bulletins of the named stations, or all."""
    return Builder(config, options, progress).run(station_ids)
