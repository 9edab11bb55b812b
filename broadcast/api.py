"""The library API: one function per user action, plain arguments in, typed results out.

The command line, the review desk and the report call these and nothing
deeper. None of them reads the clock: the caller passes `now` (and the
bulletin's `date`, which may differ from today's).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import logging
import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from broadcast.bulletin import (
    BuildOptions,
    BuildReport,
    BulletinKey,
    BulletinStatus,
    HistoryEntry,
    NoticeResult,
    Progress,
    ScriptDiff,
    State,
    StationResult,
    derive_state,
)
from broadcast.config import Config, StationConfig, bulletin_bases
from broadcast.errors import BroadcastError, FeedError, LockedError, ParameterError, StoreCorruptError
from broadcast.feeddates import parse_date
from broadcast.fsutil import atomic_write_text, read_staff_text, replace_file
from broadcast.localitems import (
    DESK_ITEMS_PER_DAY,
    MAX_AUTHOR_CHARS,
    MAX_BODY_CHARS,
    MAX_FILE_BYTES,
    MAX_FILES,
    MAX_TITLE_CHARS,
    SUFFIXES,
    WITHDRAWN_FOLDER,
    compose_local_item,
    desk_account_of,
    desk_file_name,
    desk_owner,
    desk_written_on,
    parse_local_item,
    read_local_items,
)
from broadcast.models import VN_TZ, Candidate
from broadcast.workspace import Workspace
from broadcast.vitext import decimal, os_reason

if TYPE_CHECKING:  # pragma: no cover
    from broadcast.speech.base import SpeechRun

log = logging.getLogger(__name__)

NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# How far ahead a notice's own bulletin may be made at once.
NOTICE_BUILT_AHEAD = dt.timedelta(days=31)


# Notices one station may get a day: each stored one is read in every bulletin of its days, each one-off
# bulletin is audio made at once. A commune's busiest day (a flood, with updates) needs far fewer.
NOTICES_PER_DAY = 20


class NoticeLimitError(BroadcastError):
    """A station already has the most notices a day may have."""


class ConflictError(BroadcastError):
    """The script changed since the caller read it."""


class NotFoundError(BroadcastError):
    """There is no such bulletin."""


class NotYoursError(BroadcastError):
    """The thing belongs to another station."""


def _check_slot(store, st: StationConfig, date: dt.date, slot: str) -> None:
    """Refuse a slot the station does not have, so no action creates a bulletin nobody planned."""
    names = [s.name for s in st.slots]
    if slot in names or (not names and not slot):
        return
    if slot and store.bulletin_row(st.id, date, slot) is not None:
        return  # a notice of that day, or a slot since removed from the configuration
    if not slot:
        raise ParameterError(f"Đài {st.id} có {len(names)} buổi phát ({', '.join(names)}): "
                        "hãy chọn buổi bằng --slot.")
    if names:
        raise ParameterError(f"Đài {st.id} không có buổi phát '{slot}'. Các buổi phát: {', '.join(names)}.")
    raise ParameterError(f"Đài {st.id} không có buổi phát '{slot}': đài chỉ có một bản tin mỗi ngày, hãy bỏ --slot.")


@contextlib.contextmanager
def open_store(config: Config) -> Iterator:
    """The station database of this configuration, closed afterwards."""
    from broadcast.store import Store

    store = Store(config.data_dir / "broadcast.sqlite3")
    try:
        yield store
    finally:
        store.close()


def workspace(config: Config, out_dir: Path) -> Workspace:
    """The output layout for this configuration and output folder."""
    return Workspace(out_dir, config.data_dir)


def _locks(config: Config) -> Workspace:
    """The data folder's locks, for actions that write no bulletin (no output folder, not the working one)."""
    return Workspace(config.data_dir, config.data_dir)


def _stations(config: Config, ids: Sequence[str] | None) -> list[StationConfig]:
    return [config.station(s) for s in ids] if ids else list(config.stations)


# ---------------------------------------------------------------- building


def build(config: Config, out_dir: Path, date: dt.date, now: dt.datetime, stations: Sequence[str] = (), *,
          fetch: bool = True, refresh: bool = False, force: bool = False, jobs: int = 0, actor: str = "",
          progress: Callable[[Progress], None] | None = None) -> BuildReport:
    """Draft what is missing and render every bulletin of the date that should sound (the nightly job)."""
    from broadcast.pipeline import build as run

    opts = BuildOptions(date=date, now=now, fetch=fetch, refresh=refresh, force=force, jobs=jobs, actor=actor)
    return _calendar_checked(run(config, list(stations), opts, workspace(config, out_dir), progress), date, now)


def draft(config: Config, out_dir: Path, date: dt.date, now: dt.datetime, stations: Sequence[str] = (), *,
          fetch: bool = True, refresh: bool = False, force: bool = False, actor: str = "",
          progress: Callable[[Progress], None] | None = None) -> BuildReport:
    """Write the scripts of the date for review, without audio."""
    from broadcast.pipeline import build as run

    opts = BuildOptions(date=date, now=now, fetch=fetch, refresh=refresh, force=force, script_only=True,
                        actor=actor)
    return _calendar_checked(run(config, list(stations), opts, workspace(config, out_dir), progress), date, now)


def _calendar_checked(report: BuildReport, date: dt.date, now: dt.datetime) -> BuildReport:
    """Add, once per run, the warning that the greeting's National Day table needs its next year."""
    from broadcast.script import national_day_table_warning

    warning = national_day_table_warning(max(date, now.astimezone(VN_TZ).date()))
    if warning and warning not in report.warnings:
        report.warnings.append(warning)
    return report


def render(config: Config, out_dir: Path, station: str, date: dt.date, now: dt.datetime, *,
           slot: str = "", actor: str = "", progress: Callable[[Progress], None] | None = None) -> BuildReport:
    """Render a station's bulletins of the date again from their scripts as they are now.

    A `slot` that names a one-off notice renders that notice from its (possibly
    edited) script; otherwise the station's daily bulletins are rendered.
    """
    from broadcast.pipeline import read_script

    st = config.station(station)
    # Again, never anew: drafting a bulletin for a day nobody planned (any date of any year fits in
    # the desk's address) would leave megabytes that retention never removes from days ahead.
    if read_script(workspace(config, out_dir).paths(st.id, date, slot).script, quiet=True) is None:
        raise NotFoundError(f"Chưa có kịch bản của đài {st.id}{' buổi ' + slot if slot else ''} ngày "
                            f"{date.strftime('%d/%m/%Y')} nên không có gì để làm lại âm thanh: kịch bản được "
                            "soạn trong lần chạy hằng đêm trên máy chủ.")
    if slot:
        with open_store(config) as store:
            row = store.bulletin_row(st.id, date, slot)
        if row is not None and row.get("kind") == "notice":
            started = time.monotonic()
            report = BuildReport()
            report.results.append(_render_notice(config, out_dir, st, date, slot, now, actor, report))
            report.seconds = time.monotonic() - started
            return report
    return build(config, out_dir, date, now, [station], fetch=False, actor=actor, progress=progress)


def fetch(config: Config, now: dt.datetime):
    """Fetch every feed of the configuration into the store; one line per feed."""
    from broadcast.ingest import ingest
    from broadcast.relevance import load_vocabulary

    with _locks(config).feeds_lock(timeout=600), open_store(config) as store:
        return ingest(config, store, vocab=load_vocabulary(config.selection.topics_file), now=now)


# ---------------------------------------------------------------- looking


def _status(config: Config, ws: Workspace, store, station: StationConfig, key: BulletinKey,
            row: dict | None = None) -> BulletinStatus:
    from broadcast.pipeline import read_script, sha

    row = row if row is not None else store.bulletin_row(key.station, key.date, key.slot)
    paths = ws.paths(key.station, key.date, key.slot)
    text = read_script(paths.script, quiet=True)
    script_sha = sha(text) if text else None
    state, approved, may_air = derive_state(row, script_sha, station.publish)
    row = row or {}
    st = BulletinStatus(
        key=key, state=state, kind=row.get("kind") or "bulletin", title=row.get("title") or "",
        policy=station.publish, may_air=may_air,
        edited=bool(text) and row.get("generated_sha") != script_sha,
        approved=approved, approved_by=row.get("approved_by") if approved else None,
        approved_at=row.get("approved_at") if approved else None,
        held_by=row.get("held_by") if row.get("held") else None,
        hold_reason=row.get("hold_reason") if row.get("held") else None,
        duration=float(row.get("duration") or 0.0) if row.get("rendered_sha") == script_sha else 0.0,
        engines=row.get("engines") or [], warnings=row.get("warnings") or [],
        failed_message=row.get("failed_message") if state == State.FAILED else None,
        rendered_at=row.get("rendered_at") if row.get("rendered_sha") == script_sha else None,
        published_at=row.get("published_at") if state == State.PUBLISHED else None,
        script=paths.script if text is not None else None,
        audio=paths.audio if paths.audio.exists() else None,
    )
    st.note = _note(st)
    if (station.publish == "approved" and not approved and row.get("published_sha")
            and row.get("published_sha") != script_sha and not row.get("held")):
        # What the targets have is the version approved before the change: they may be playing it.
        when = row.get("published_at")
        st.note = ("chờ duyệt bản sửa; bản đã duyệt trước đó đã được phát hành"
                   + (f" lúc {when.astimezone(VN_TZ).strftime('%H:%M %d/%m/%Y')}" if when else "")
                   + " (nơi nhận có thể đang phát bản đó)")
    if row.get("replacing") and may_air:
        # Out of the playlist while a run makes its audio again (or until one does, after a run was killed).
        st.may_air = False
        st.note = ("đang làm lại âm thanh: chưa có trong danh sách phát; nếu không còn lần chạy nào đang làm, "
                   "hãy chạy 'broadcast build'")
    return st


def _note(st: BulletinStatus) -> str:
    if st.state == State.MISSING:
        return "chưa có kịch bản: hãy chạy 'broadcast build' hoặc 'broadcast script'"
    if st.state == State.HELD:
        return "đang tạm dừng: không phát; muốn phát thì hãy duyệt lại"
    if st.state == State.FAILED:
        return "lỗi khi làm bản tin: hãy xem thông báo lỗi rồi chạy lại"
    if st.policy == "approved" and not st.approved:
        if st.state in (State.RENDERED, State.PUBLISHED):
            return "chờ duyệt: đã có âm thanh để nghe thử nhưng chưa được phát"
        return "chờ duyệt: chưa được phát"
    if st.state in (State.DRAFTED, State.EDITED, State.APPROVED):
        return "kịch bản chưa được đọc thành âm thanh: hãy chạy 'broadcast build'"
    if st.state == State.RENDERED:
        return "sẵn sàng phát"
    return "đã phát hành"


def _planned(config: Config, stations: list[StationConfig], date: dt.date, store) -> list[tuple]:
    planned: list[tuple] = []
    for st in stations:
        for slot in (st.slots or [None]):
            planned.append((st, BulletinKey(st.id, date, slot.name if slot else "")))
    known = {(k.station, k.slot) for _, k in planned}
    ids = {s.id: s for s in stations}
    for row in store.bulletin_rows(date, date, list(ids)):
        if (row["station"], row["slot"]) not in known:
            planned.append((ids[row["station"]], BulletinKey(row["station"], date, row["slot"])))
    return planned


def status(config: Config, out_dir: Path, date: dt.date, stations: Sequence[str] | None = None
           ) -> list[BulletinStatus]:
    """Each planned bulletin of the date (and notices made that day): state, duration, approvals."""
    ws = workspace(config, out_dir)
    chosen = _stations(config, stations)
    with open_store(config) as store:
        return [_status(config, ws, store, st, key) for st, key in _planned(config, chosen, date, store)]


def bulletin_status(config: Config, out_dir: Path, station: str, date: dt.date, slot: str = "") -> BulletinStatus:
    """The status of one bulletin."""
    st = config.station(station)
    with open_store(config) as store:
        _check_slot(store, st, date, slot)
        return _status(config, workspace(config, out_dir), store, st, BulletinKey(station, date, slot))


def diff(config: Config, out_dir: Path, station: str, date: dt.date, slot: str = "") -> ScriptDiff:
    """Staff edits against the script as generated."""
    from broadcast.pipeline import read_script

    st = config.station(station)
    key = BulletinKey(station, date, slot)
    ws = workspace(config, out_dir)
    with open_store(config) as store:
        _check_slot(store, st, date, slot)
        row = store.bulletin_row(station, date, slot) or {}
    current = read_script(ws.paths(station, date, slot).script)
    if current is None:
        raise NotFoundError(f"Chưa có kịch bản của đài {station} ngày {date.strftime('%d/%m/%Y')}: "
                            "hãy chạy 'broadcast script' trước.")
    generated = row.get("generated_text") or ""
    lines = list(difflib.unified_diff(generated.splitlines(), current.splitlines(),
                                      fromfile="bản soạn tự động", tofile="bản hiện tại", lineterm="", n=1))
    return ScriptDiff(key=key, generated=generated, current=current, lines=lines)


@dataclass
class CandidateList:
    """The day's candidate stories for a station, ranked, with the selection's decisions."""

    station: str
    date: dt.date
    min_score: float
    candidates: list[Candidate]
    topic_label: Callable[[str], str]
    # The date is over: its candidates are the stories known by its end, so fetching now adds none.
    day_passed: bool = False


def candidates(config: Config, station: str, date: dt.date, now: dt.datetime, *, show_all: bool = False
               ) -> CandidateList:
    """The stories a station's bulletin of the date could carry, best first, with why."""
    from broadcast.messages import notices_for, standing_for, standing_messages
    from broadcast.pipeline import news_until, speech_estimate_overhead
    from broadcast.relevance import load_vocabulary
    from broadcast.selection import select
    from broadcast.speechrate import with_learned_rate

    # Estimated with the voice's measured speaking rate, as the build does.
    st = with_learned_rate(config.station(station), config.data_dir / "speech-cache")
    vocab = load_vocabulary(st.selection.topics_file)
    until = news_until(date, now)
    with open_store(config) as store:
        feeds = [f.name for f in config.feeds_for(st)]
        found = store.candidates(st.id, until, st.selection.fresh_hours, feeds, date=date, slot="")
        stored_notices = store.notices_for(st.id, date)
    standing = standing_for(date, standing_messages(config.standing_file, st))
    notices = notices_for(st, date, stored_notices)
    budget = st.target_minutes * 60 - speech_estimate_overhead(
        st, date, standing, notices, st.slots[0].time if st.slots else "")
    min_score = st.selection.min_score if st.selection.min_score is not None else vocab.threshold
    ranked = select(found, st, {f.name: f.weight for f in config.feeds}, max(budget, 30.0),
                    engine=st.tts.resolved_chain()[0], min_score=min_score, now=until)
    if not show_all:
        ranked = [c for c in ranked if c.selected or c.score >= min_score]
    return CandidateList(station=st.id, date=date, min_score=min_score, candidates=ranked,
                         topic_label=vocab.label, day_passed=date < now.astimezone(VN_TZ).date())


def history(config: Config, start: dt.date, end: dt.date, stations: Sequence[str] | None = None
            ) -> list[HistoryEntry]:
    """What each bulletin between two dates became, with the stories that aired and who did what."""
    chosen = {s.id: s for s in _stations(config, stations)}
    out: list[HistoryEntry] = []
    with open_store(config) as store:
        aired: dict[tuple[str, dt.date], list] = {}
        for a in store.airings(start, end, list(chosen)):
            aired.setdefault((a.station, a.date), []).append(
                {"id": a.story_id, "title": a.title, "sources": a.sources, "topics": a.topics, "link": a.link})
        for row in store.bulletin_rows(start, end, list(chosen)):
            st = chosen[row["station"]]
            key = BulletinKey(row["station"], row["date"], row["slot"])
            state, approved, may_air = derive_state(row, row.get("script_sha"), st.publish)
            status_ = BulletinStatus(
                key=key, state=state, kind=row.get("kind") or "bulletin", title=row.get("title") or "",
                policy=st.publish, may_air=may_air, edited=bool(row.get("rendered_edited")),
                approved=approved, approved_by=row.get("approved_by") if approved else None,
                approved_at=row.get("approved_at") if approved else None,
                held_by=row.get("held_by") if row.get("held") else None,
                hold_reason=row.get("hold_reason") if row.get("held") else None,
                duration=float(row.get("duration") or 0.0), engines=row.get("engines") or [],
                warnings=row.get("warnings") or [], failed_message=row.get("failed_message"),
                rendered_at=row.get("rendered_at"), published_at=row.get("published_at"))
            status_.note = _note(status_)
            # Each bulletin that may air lists the day's aired stories it carried itself.
            carried = set(row.get("rendered_items") or [])
            items = [i for i in aired.get((key.station, key.date), []) if i["id"] in carried] \
                if may_air and status_.kind == "bulletin" else []
            out.append(HistoryEntry(status=status_, items=items,
                                    events=store.events(key.station, key.date, key.slot)))
    return out


# ---------------------------------------------------------------- changing


def _require_script(ws: Workspace, key: BulletinKey) -> str:
    from broadcast.pipeline import read_script

    text = read_script(ws.paths(key.station, key.date, key.slot).script)
    if text is None:
        raise NotFoundError(f"Chưa có kịch bản của đài {key.station}"
                            f"{' buổi ' + key.slot if key.slot else ''} ngày {key.date.strftime('%d/%m/%Y')}: "
                            "hãy chạy 'broadcast script' hoặc 'broadcast build' trước.")
    return text


def approve(config: Config, out_dir: Path, station: str, date: dt.date, now: dt.datetime, *, slot: str = "",
            by: str = "", base_sha: str | None = None) -> BulletinStatus:
    """Approve the script as it is now (and release a hold); an edit made later needs a new approval.

    With `base_sha` (the script the reviewer read), a script changed since then is refused.
    """
    from broadcast.pipeline import sha, sync_airings, write_playlist

    st = config.station(station)
    key = BulletinKey(station, date, slot)
    ws = workspace(config, out_dir)
    with ws.bulletin_lock(station, date, slot, timeout=30), open_store(config) as store:
        _check_slot(store, st, date, slot)
        text = _require_script(ws, key)
        if base_sha is not None and sha(text) != base_sha:
            raise ConflictError("Kịch bản đã thay đổi từ khi bạn mở trang: hãy đọc lại bản mới trước khi duyệt.")
        store.save_bulletin(station, date, slot, now, script_sha=sha(text), approved_sha=sha(text),
                            approved_by=by or None, approved_at=now, held=0, held_by=None, hold_reason=None)
        store.add_event(station, date, slot, "approved", now, by)
        sync_airings(store, st, key, now)
        write_playlist(ws, store, config, date)
        return _status(config, ws, store, st, key)


def hold(config: Config, out_dir: Path, station: str, date: dt.date, now: dt.datetime, *, slot: str = "",
         by: str = "", reason: str = "") -> BulletinStatus:
    """Keep a bulletin off the air (it is not played, published or counted as aired)."""
    st = config.station(station)
    key = BulletinKey(station, date, slot)
    ws = workspace(config, out_dir)
    from broadcast.pipeline import sync_airings, write_playlist

    with ws.bulletin_lock(station, date, slot, timeout=30), open_store(config) as store:
        _check_slot(store, st, date, slot)
        store.save_bulletin(station, date, slot, now, held=1, held_by=by or None, held_at=now,
                            hold_reason=reason or None)
        store.add_event(station, date, slot, "held", now, by, reason)
        sync_airings(store, st, key, now)
        write_playlist(ws, store, config, date)
        _off_the_web(config, ws, store, st, key, now)
        return _status(config, ws, store, st, key)


def _off_the_web(config: Config, ws: Workspace, store, st: StationConfig, key: BulletinKey, now: dt.datetime) -> None:
    """A held bulletin stops being served at once, not at the next publication (which still tells the targets)."""
    from broadcast.publish import podcast
    from broadcast.publish.run import HELD, withdraw

    if withdraw(store, ws, key, now, HELD) and config.publish.base_url:
        try:
            podcast.write_station(config, ws, store, st, now)
        except BroadcastError as exc:  # the hold stands and the audio is off the web; the next publish writes it
            log.warning("podcast %s not written after the hold: %s", st.id, exc)


def save_script(config: Config, out_dir: Path, station: str, date: dt.date, text: str, now: dt.datetime, *,
                slot: str = "", base_sha: str | None = None, by: str = "") -> BulletinStatus:
    """Save a staff edit of a script; refuse it when the script changed since `base_sha` was read."""
    from broadcast.fsutil import check_script_size
    from broadcast.pipeline import read_script, sha

    st = config.station(station)
    key = BulletinKey(station, date, slot)
    ws = workspace(config, out_dir)
    # The same text a script file reads back as (see fsutil.read_staff_text), so the hash
    # recorded now is the hash every later reader computes.
    text = unicodedata.normalize("NFC", text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n"))
    if not text.endswith("\n"):
        text += "\n"
    check_script_size(text)
    with ws.bulletin_lock(station, date, slot, timeout=30), open_store(config) as store:
        _check_slot(store, st, date, slot)
        current = read_script(ws.paths(station, date, slot).script)
        if base_sha is not None and current is not None and sha(current) != base_sha:
            raise ConflictError("Kịch bản vừa được sửa ở nơi khác sau khi bạn mở nó. Hãy tải lại trang, "
                                "xem bản mới rồi sửa lại; bản bạn vừa gõ chưa được lưu.")
        atomic_write_text(ws.paths(station, date, slot).script, text)
        store.save_bulletin(station, date, slot, now, script_sha=sha(text))
        store.add_event(station, date, slot, "edited", now, by)
        return _status(config, ws, store, st, key)


def notice_stations(config: Config, stations: Sequence[str], all_stations: bool = False) -> list[str]:
    """The stations a notice is for: those named, every one with `all_stations`, or the only one there is."""
    if all_stations:
        return [s.id for s in config.stations]
    if stations:
        return list(stations)
    if len(config.stations) == 1:
        return [config.stations[0].id]
    raise ParameterError("Cấu hình có nhiều đài: hãy chọn đài bằng --station MÃ_ĐÀI, hoặc --all cho mọi đài.")


def notice(config: Config, out_dir: Path, text: str, stations: Sequence[str], date: dt.date, now: dt.datetime,
           *, all_stations: bool = False, priority: str = "normal", valid_from: dt.date | None = None,
           valid_to: dt.date | None = None, build_now: bool = True, name: str | None = None,
           by: str = "") -> NoticeResult:
    """Store a local notice (read in the stations' bulletins on its dates, by priority) and, when asked,
    make a one-off bulletin of it at once.

    An emergency notice is read as loudspeaker staff read one: who is
    speaking, the notice, "Xin nhắc lại:" and the notice again. Its lock is
    its own, so a nightly build in progress never blocks it.
    """
    from broadcast.fsutil import check_script_size
    from broadcast.messages import check_priority

    text = "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip())
    if not text:
        raise BroadcastError("Nội dung thông báo trống: không có gì để đọc. Hãy nhập nội dung thông báo.")
    check_script_size(text, "Thông báo")
    check_priority(priority)
    chosen = _stations(config, notice_stations(config, stations, all_stations))
    valid_from = valid_from or date
    valid_to = valid_to or valid_from
    if valid_to < valid_from:
        raise BroadcastError("Ngày kết thúc của thông báo đứng trước ngày bắt đầu: hãy sửa lại hai ngày này.")
    if valid_to < date:
        raise ParameterError(f"Thông báo chỉ đọc đến hết ngày {valid_to.strftime('%d/%m/%Y')}, trước ngày "
                             f"{date.strftime('%d/%m/%Y')}: không còn bản tin nào để đọc. Hãy kiểm tra --from, --to.")
    # A notice that starts later is made for its first day, never aired before it.
    date = max(date, valid_from)
    if build_now and date > now.astimezone(VN_TZ).date() + NOTICE_BUILT_AHEAD:
        # Audio made now for a day years away is never removed by retention: one more with every post.
        raise ParameterError(
            f"Thông báo bắt đầu ngày {date.strftime('%d/%m/%Y')}, hơn {NOTICE_BUILT_AHEAD.days} ngày nữa, nên chưa "
            f"làm bản tin ngay được. Hãy chọn ngày bắt đầu trong vòng {NOTICE_BUILT_AHEAD.days} ngày tới (thông báo "
            "khẩn cấp được làm thành bản tin ngay), hoặc lưu ở mức thường hay ưu tiên: bản tin của những ngày đó "
            "sẽ đọc thông báo.")
    if name is not None and not NAME.fullmatch(name):
        raise BroadcastError("Tên thông báo chỉ gồm chữ thường không dấu, số, '-' hoặc '_' (ví dụ thong-bao-mua-lu).")
    with open_store(config) as store:
        if build_now and name is not None:
            # Refuse a name in use before the notice is stored, so a retry never stores it twice.
            from broadcast.pipeline import notice_script

            for st in chosen:
                _check_notice_name(config, store, st, date, name, notice_script(st, text, priority))
        # The same notice sent again (a retry after a failed one-off build, a second click) is the notice
        # already stored: the day's bulletins read it once. Its one-off bulletin is still made again.
        ids = sorted(s.id for s in chosen)
        same = [n["id"] for n in store.notices_for(chosen[0].id, valid_from)
                if n["text"] == text and n["priority"] == priority and sorted(n["stations"]) == ids
                and n["valid_from"] == valid_from and n["valid_to"] == valid_to]
        _check_notice_limits(store, chosen, date, valid_to, stored=not same, built=build_now, name=name)
        notice_id = same[0] if same else store.add_notice([s.id for s in chosen], text, priority, valid_from,
                                                          valid_to, now, by)
    results: list[StationResult] = []
    errors: list[BroadcastError] = []
    if build_now:
        for st in chosen:
            # One station that cannot sound (a broken jingle, a full disk) must not keep an
            # emergency from the others: each fails on its own.
            try:
                results.append(_build_notice(config, out_dir, st, text, priority, date, now, name, by))
            except StoreCorruptError:
                raise
            except BroadcastError as exc:
                errors.append(exc)
                results.append(StationResult(station=st.id, slot=name or "", status="failed", message=str(exc)))
        if errors and len(errors) == len(chosen):
            raise errors[0]
        _publish_notices(config, out_dir, date, now, results, by)
    return NoticeResult(notice_id=notice_id, stations=[s.id for s in chosen], results=results, valid_to=valid_to)


def _check_notice_limits(store, stations: list[StationConfig], start: dt.date, end: dt.date, *, stored: bool,
                         built: bool, name: str | None) -> None:
    """Refuse a notice that would give a station more than NOTICES_PER_DAY notices on one of its days."""
    full: list[str] = []
    if stored:
        overlapping = store.notices_overlapping(start, end)
        for st in stations:
            mine = [(f, t) for ids, f, t in overlapping if st.id in ids]
            # The most notices on one day is reached on the first day or on a day one of them starts.
            for day in {start, *(f for f, _ in mine if start <= f <= end)}:
                if sum(1 for f, t in mine if f <= day <= t) >= NOTICES_PER_DAY:
                    full.append(f"{st.id} ngày {day.strftime('%d/%m/%Y')}")
                    break
    if full:
        raise NoticeLimitError(
            f"Đài {', '.join(full)} đã có {NOTICES_PER_DAY} thông báo được đọc, mức tối đa mỗi ngày: thông báo "
            "mới chưa được lưu. Hãy gộp nội dung vào một thông báo đã có, hoặc chọn ngày khác.")
    if not built:
        return
    for st in stations:
        rows = [r for r in store.bulletin_rows(start, start, [st.id]) if r.get("kind") == "notice"]
        if len(rows) >= NOTICES_PER_DAY and name not in {r["slot"] for r in rows}:
            full.append(st.id)
    if full:
        raise NoticeLimitError(
            f"Đài {', '.join(full)} đã có {NOTICES_PER_DAY} bản tin thông báo riêng trong ngày "
            f"{start.strftime('%d/%m/%Y')}, mức tối đa mỗi ngày: thông báo này chưa được lưu, chưa làm âm thanh. "
            "Hãy gộp nội dung vào một thông báo đã có: sửa kịch bản của thông báo đó trên bàn duyệt rồi bấm "
            "“Làm lại âm thanh”.")


def _check_notice_name(config: Config, store, st: StationConfig, date: dt.date, name: str, script: str) -> None:
    """Refuse a notice name that is a daily bulletin's, or another notice's of the same day."""
    from broadcast.workspace import bulletin_base

    base = bulletin_base(st.id, name)
    if any(base in bulletin_bases(other) for other in config.stations):
        raise ParameterError(f"Tên thông báo '{name}' trùng tên tệp của bản tin hằng ngày {base}: hãy chọn tên khác.")
    row = store.bulletin_row(st.id, date, name)
    if row is None:
        return
    if row.get("kind") == "notice" and (not row.get("rendered_sha") or row.get("generated_text") == script):
        return  # the same notice again, or one that did not sound: make it now
    raise ParameterError(f"Đã có thông báo tên '{name}' ngày {date.strftime('%d/%m/%Y')} của đài {st.id}: "
                    "hãy chọn tên khác (--name).")


def _claim_notice_name(config: Config, ws: Workspace, store, st: StationConfig, date: dt.date,
                       now: dt.datetime, name: str | None, script: str) -> str:
    """Choose the notice's file name and claim it in the store, so two notices never share files.

    The claim is one INSERT: two notices made in the same minute, even by
    two processes, get two names. A name is never that of a daily bulletin
    of any station, whose script staff may have edited.
    """
    from broadcast.workspace import bulletin_base

    taken = {b for other in config.stations for b in bulletin_bases(other)}

    def on_disk(n: str) -> bool:
        paths = ws.paths(st.id, date, n)
        return paths.script.exists() or paths.audio.exists()

    if name is not None:
        _check_notice_name(config, store, st, date, name, script)
        store.claim_bulletin(st.id, date, name, now, "notice")
        return name
    stem = "thong-bao-" + now.astimezone(VN_TZ).strftime("%H%M")
    candidate, n = stem, 2
    while (bulletin_base(st.id, candidate) in taken or on_disk(candidate)
           or not store.claim_bulletin(st.id, date, candidate, now, "notice")):
        candidate, n = f"{stem}-{n}", n + 1
    return candidate


def _build_notice(config: Config, out_dir: Path, st: StationConfig, text: str, priority: str, date: dt.date,
                  now: dt.datetime, name: str | None, by: str) -> StationResult:
    from broadcast.bulletin import notice_title
    from broadcast.pipeline import Builder, notice_script, sha, write_playlist
    from broadcast.script import parse_script

    ws = workspace(config, out_dir)
    ws.check_day_dir(date)
    script = notice_script(st, text, priority)
    builder = Builder(config, BuildOptions(date=date, now=now, fetch=False, actor=by), ws)
    builder.preflight([st])  # before claiming a name: a notice that cannot sound leaves no record
    with open_store(config) as store:
        name = _claim_notice_name(config, ws, store, st, date, now, name, script)
    key = BulletinKey(st.id, date, name)
    paths = ws.paths(st.id, date, name)
    result = StationResult(station=st.id, slot=name, status="failed", script=paths.script)
    title = notice_title(date, priority)
    with ws.bulletin_lock(st.id, date, name, timeout=30), builder.session():
        atomic_write_text(paths.script, script)
        builder.store.save_bulletin(st.id, date, name, now, kind="notice", title=title, priority=priority,
                                    generated_text=script, generated_sha=sha(script), generated_at=now,
                                    script_sha=sha(script),
                                    # A notice typed by staff is approved by its author.
                                    approved_sha=sha(script), approved_by=by or None, approved_at=now)
        builder.store.add_event(st.id, date, name, "drafted", now, by, priority)
        job = builder.prepare(st, key, paths, parse_script(script), result, script, False, kind="notice",
                              title=title, offered=[], target=None)
        if job is not None:
            builder.render_all([job])
        if result.status == "failed":
            raise BroadcastError(result.message)
        write_playlist(ws, builder.store, config, date)
    return result


def _render_notice(config: Config, out_dir: Path, st: StationConfig, date: dt.date, name: str,
                   now: dt.datetime, by: str, report: BuildReport) -> StationResult:
    """Make a notice's audio again from its script as staff left it (an edit needs a new approval)."""
    from broadcast.pipeline import Builder, read_script, sha, sync_airings, write_playlist
    from broadcast.script import parse_script

    ws = workspace(config, out_dir)
    key = BulletinKey(st.id, date, name)
    paths = ws.paths(st.id, date, name)
    builder = Builder(config, BuildOptions(date=date, now=now, fetch=False, actor=by), ws)
    builder.preflight([st])
    result = StationResult(station=st.id, slot=name, status="failed", script=paths.script)
    with ws.bulletin_lock(st.id, date, name, timeout=30), builder.session():
        row = builder.store.bulletin_row(st.id, date, name) or {}
        text = read_script(paths.script)
        segments = parse_script(text) if text else []
        if not text or not segments:
            raise BroadcastError(f"Thông báo {name} ngày {date.strftime('%d/%m/%Y')} không còn kịch bản để đọc: "
                                 "hãy tạo lại bằng lệnh 'broadcast notice'.")
        builder.store.save_bulletin(st.id, date, name, now, script_sha=sha(text))
        job = builder.prepare(st, key, paths, segments, result, text,
                              sha(text) != row.get("generated_sha"), kind="notice", title=row.get("title") or "",
                              offered=[], target=None)
        if job is not None:
            builder.render_all([job])
        else:
            builder.record_unchanged(st, key, paths, text, segments, [])
        builder.collect_speech_stats(report)
        if result.status == "failed":
            raise BroadcastError(result.message)
        sync_airings(builder.store, st, key, now)
        write_playlist(ws, builder.store, config, date)
    return result


# ---------------------------------------------------------------- setting up

INIT_TEMPLATE = '''# Cấu hình của {title}.
# Sửa các dòng dưới đây cho đài của mình; dòng bắt đầu bằng dấu # là ghi chú.
# Đường dẫn tương đối được tính từ thư mục chứa tệp này.

[general]
province = "{province}"
data_dir = "du-lieu"                  # nơi lưu tin đã tải, lịch sử phát, bộ nhớ đệm giọng đọc
# standing_file = "thong-diep.toml"   # thông điệp CCHC của tỉnh (mặc định: bản đi kèm)

# Nguồn tin: mỗi nguồn một mục [[feeds]]. url là địa chỉ RSS hoặc đường dẫn tệp.
[[feeds]]
name = "chinh-phu"
url = "https://xaydungchinhsach.chinhphu.vn/cai-cach-hanh-chinh.rss"
source = "Báo Điện tử Chính phủ"

[tts]
engine = "auto"                       # auto: Google khi có mạng, espeak ngoại tuyến khi không

[audio]
# jingle = "nhac-hieu.mp3"            # nhạc hiệu riêng của đài (mặc định: nhạc hiệu đi kèm)
retention_days = 30                   # số ngày giữ tệp bản tin

[[stations]]
id = "{station_id}"
name = "{name}"
commune = "{commune}"
# số điện thoại đọc ở lời kết
phone = "{phone}"
one_stop = "Trung tâm Phục vụ hành chính công {commune}"   # nơi bà con liên hệ, đọc ở lời kết
publish = "approved"                  # approved: chỉ phát bản tin đã duyệt; auto: làm xong là phát
target_minutes = 5
notices_file = "thong-bao.toml"       # thông báo của xã (sửa bằng Notepad, lưu UTF-8)
'''

INIT_NOTICES = '''# Thông báo của xã. Mỗi thông báo là một mục [[notices]]:
#   text        nội dung đọc lên
#   priority    "normal" (thường), "priority" (ưu tiên) hoặc "emergency" (khẩn cấp)
#   valid_from  ngày bắt đầu đọc, dạng 2026-12-01
#   valid_to    ngày cuối cùng được đọc, dạng 2026-12-05
#
# [[notices]]
# text = "Ủy ban nhân dân xã thông báo: ..."
# priority = "normal"
# valid_from = 2026-12-01
# valid_to = 2026-12-05
'''


def _toml_text(value: str) -> str:
    """A value to put between the double quotes of a TOML basic string."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def init_config(folder: Path, station_id: str, name: str, *, commune: str = "", phone: str = "",
                province: str = "Đắk Lắk", overwrite: bool = False) -> list[Path]:
    """Write a commented broadcast.toml (and an empty notices file) for a new station; return the files."""
    from broadcast.config import STATION_ID, load_config

    if not STATION_ID.fullmatch(station_id):
        raise ParameterError("Mã đài chỉ gồm chữ thường không dấu, số, '-' hoặc '_' (ví dụ \"hoa-phu\").")
    for value in (name, commune, phone, province):
        if any(unicodedata.category(c) == "Cc" for c in value):
            raise ParameterError("Tên, xã, số điện thoại không được chứa ký tự xuống dòng hay ký tự điều khiển.")
    config_path = folder / "broadcast.toml"
    notices_path = folder / "thong-bao.toml"
    if config_path.exists() and not overwrite:
        raise BroadcastError(f"Đã có {config_path}: không ghi đè. Dùng --force nếu muốn tạo lại.")
    from broadcast.script import station_place

    # Without --commune the place comes from the name ("xã Ea Kao"), so the closing never reads
    # "Trung tâm Phục vụ hành chính công Đài truyền thanh xã Ea Kao".
    commune = commune or station_place("", name)[1] or name
    # Names like 'Đài truyền thanh xã "Hòa Phú"' are fine: escaped as TOML basic strings.
    text = INIT_TEMPLATE.format(title=name, station_id=station_id, name=_toml_text(name), commune=_toml_text(commune),
                                phone=_toml_text(phone), province=_toml_text(province))
    atomic_write_text(config_path, text)
    written = [config_path]
    if not notices_path.exists():
        atomic_write_text(notices_path, INIT_NOTICES)
        written.append(notices_path)
    load_config(config_path)  # what we wrote must load
    return written


# ---------------------------------------------------------------- the speech cache


def speech_cache_stats(config: Config):
    """Entries, size and the last run's reuse of the shared speech cache."""
    from broadcast.speech import SpeechCache

    return SpeechCache(config.data_dir / "speech-cache").stats()


def prune_speech_cache(config: Config, out_dir: Path, older_than: dt.timedelta,
                       now: dt.datetime) -> tuple[int, int]:
    """Delete speech unused for `older_than` before `now`, alone with the cache (a running build keeps its files)."""
    from broadcast.speech import SpeechCache

    with workspace(config, out_dir).cache_prune_lock():
        return SpeechCache(config.data_dir / "speech-cache").prune(older_than, now)


# ---------------------------------------------------------------- checking the machine


@dataclass
class Check:
    """One line of `doctor`: what was checked, whether it is fine, and the detail."""

    name: str
    ok: bool
    detail: str
    fatal: bool = True  # False: worth a look, but bulletins can still be made


def doctor(config: Config, out_dir: Path, now: dt.datetime, *, check_feeds: bool = True,
           feed_timeout: float = 5.0) -> list[Check]:
    """Check the machine and every station and feed of the configuration."""
    import os
    import shutil as sh

    from broadcast.audio import ffmpeg_version, find_ffmpeg
    from broadcast.speech import doctor_checks

    checks: list[Check] = [Check("cấu hình", True, str(config.path) + (" (mẫu đi kèm)" if config.is_demo else ""))]
    # A station left out for its own wrong table gets no bulletin until it is fixed.
    checks += [Check(f"đài {sid}: cấu hình", False, message) for sid, message in config.broken.items()]
    try:
        checks.append(Check("ffmpeg", True, f"{find_ffmpeg()} ({ffmpeg_version()})"))
    except BroadcastError as exc:
        checks.append(Check("ffmpeg", False, str(exc)))
    seen: set[str] = set()
    several = len(config.stations) > 1
    for st in config.stations:
        prefix = f"đài {st.id}: " if several else ""
        key = repr(st.tts)
        if key not in seen:
            seen.add(key)
            for label, ok, detail in doctor_checks(st.tts):
                checks.append(Check(prefix + label, ok, detail))
        checks += _station_checks(config, st, prefix, now)
    if check_feeds:
        checks += _feed_checks(config, now, feed_timeout)
    for label, folder in (("thư mục bản tin", out_dir), ("thư mục dữ liệu", config.data_dir),
                          ("bộ nhớ đệm giọng đọc", config.data_dir / "speech-cache")):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            writable = os.access(folder, os.W_OK)
        except OSError:
            writable = False
        checks.append(Check(label, writable, f"{folder} ({'ghi được' if writable else 'không ghi được'})"))
    try:
        # The disk the output folder is (or will be) on: its nearest folder that exists.
        target = next((p for p in (out_dir, *out_dir.parents) if p.exists()), out_dir.anchor or out_dir)
        free = sh.disk_usage(target).free
        checks.append(Check("dung lượng trống", free > 200e6, f"{decimal(free / 1e9, 1)} GB", fatal=free < 50e6))
    except OSError:
        pass
    return checks


def _station_checks(config: Config, st: StationConfig, prefix: str, now: dt.datetime) -> list[Check]:
    """Jingles, template, lexicon, standing messages and notices of one station."""
    from broadcast.messages import notices_for, standing_for, standing_messages
    from broadcast.pipeline import script_context
    from broadcast.script import render_script
    from broadcast.textnorm import load_lexicon

    out: list[Check] = []
    for role, path in (("nhạc hiệu", st.audio.jingle), ("nhạc kết", st.audio.outro), ("nhạc chuyển mục", st.audio.sting),
                       ("nhạc nền", st.audio.bed if st.audio.bed_enabled else None)):
        if path is None or (role != "nhạc nền" and not st.audio.jingles):  # files that will not play
            continue
        ok = path.is_file() and path.stat().st_size > 0
        out.append(Check(f"{prefix}{role}", ok, str(path) if ok else f"không thấy tệp {path}"))
    today = now.astimezone(VN_TZ).date()
    try:
        messages = standing_messages(config.standing_file, st)
        valid = [m for m in messages if m.valid_on(today)]
        out.append(Check(f"{prefix}thông điệp", True, f"{len(valid)}/{len(messages)} thông điệp còn hiệu lực hôm nay",
                         fatal=False))
        notices = notices_for(st, today)
        ctx = script_context(st, today, [], standing_for(today, messages), notices)
        render_script(ctx, st.templates)
        out.append(Check(f"{prefix}mẫu kịch bản", True, str(st.templates or "mẫu đi kèm")))
    except BroadcastError as exc:
        out.append(Check(f"{prefix}mẫu kịch bản", False, str(exc)))
    if st.lexicon is not None:
        try:
            load_lexicon(st.lexicon)
            out.append(Check(f"{prefix}từ điển phát âm", True, str(st.lexicon)))
        except BroadcastError as exc:
            out.append(Check(f"{prefix}từ điển phát âm", False, str(exc)))
    for target in st.deliver:  # no connection here: only what stops a delivery before it starts
        reason = target.unavailable_reason()
        out.append(Check(f"{prefix}nơi nhận {target.label}", reason is None, reason or "đủ điều kiện để giao",
                         fatal=False))
    return out


def _feed_checks(config: Config, now: dt.datetime, timeout: float) -> list[Check]:
    """Fetch every feed once: reachable, parses, and how fresh its newest item is."""
    from concurrent.futures import ThreadPoolExecutor

    from broadcast.ingest import read_source

    def one(feed) -> Check:
        try:
            _, parsed = read_source(feed, config, now, timeout=timeout, retries=0)
        except BroadcastError as exc:
            return Check(f"nguồn tin {feed.name}", False, str(exc), fatal=False)
        assert parsed is not None  # no validators sent: never "not modified"
        dates = [i.published for i in parsed.items if i.published]
        if feed.kind == "local":  # staff write when they have news: no freshness to expect
            detail = f"{len(parsed.items)} tin trong thư mục" + "".join(f"; {w}" for w in parsed.warnings)
            return Check(f"nguồn tin {feed.name}", True, detail, fatal=False)
        if not parsed.items:
            return Check(f"nguồn tin {feed.name}", False, "tải được nhưng không có tin nào", fatal=False)
        if not dates:
            return Check(f"nguồn tin {feed.name}", True, f"{len(parsed.items)} tin, không ghi ngày đăng", fatal=False)
        age = (now - max(dates)).total_seconds() / 86400
        fresh = age <= 7
        detail = f"{len(parsed.items)} tin, tin mới nhất cách đây {age:.0f} ngày"
        return Check(f"nguồn tin {feed.name}", fresh, detail if fresh else detail + ": nguồn có thể đã ngừng cập nhật",
                     fatal=False)

    with ThreadPoolExecutor(max_workers=max(1, config.fetch_workers)) as pool:
        return list(pool.map(one, config.feeds))


# ---------------------------------------------------------------- reporting


def report(config: Config, start: dt.date, end: dt.date, stations: Sequence[str] | None = None, *,
           today: dt.date | None = None):
    """What each station aired between two dates, and the province's summary (from the store only).

    `today` (the caller's real date) ends the plan: days after it are not counted as missed.
    """
    from broadcast.relevance import load_vocabulary
    from broadcast.report import build_report

    chosen = _stations(config, stations)
    vocab = load_vocabulary(config.selection.topics_file)
    with open_store(config) as store:
        return build_report(config, store, start, end, chosen, dict(vocab.topics), today=today)


# ---------------------------------------------------------------- publishing


def publish(config: Config, out_dir: Path, date: dt.date, now: dt.datetime, stations: Sequence[str] = (), *,
            only: Sequence[BulletinKey] | None = None, actor: str = ""):
    """Publish the date's bulletins that may air: podcast feed and every delivery target, once per version."""
    from broadcast.publish.run import Publisher, publish_lock

    chosen = _stations(config, stations)
    ws = workspace(config, out_dir)
    with publish_lock(ws), open_store(config) as store:
        return Publisher(config, ws, store, now, actor=actor).run(date, chosen, only)


def deliveries(config: Config, start: dt.date, end: dt.date, stations: Sequence[str] | None = None):
    """The delivery log of bulletins dated between two days: what went where, when, the result, the checksum."""
    from broadcast.publish.records import delivery_log

    chosen = [s.id for s in _stations(config, stations)]
    with open_store(config) as store:
        return delivery_log(store, start, end, chosen)


def _publish_notices(config: Config, out_dir: Path, date: dt.date, now: dt.datetime,
                     results: list[StationResult], by: str) -> None:
    """A notice made at once goes out at once; a target that failed is named in its station's warnings."""
    keys = [BulletinKey(r.station, date, r.slot) for r in results if r.status == "built"]
    if not keys:
        return
    report = publish(config, out_dir, date, now, sorted({k.station for k in keys}), only=keys, actor=by)
    by_key = {(r.station, r.slot): r for r in results}
    for pub in report.publications:
        result = by_key.get((pub.key.station, pub.key.slot))
        if result is None:
            continue
        if pub.status in ("failed", "busy") and not pub.targets:
            result.warnings.append(f"chưa phát hành: {pub.message}")
        for t in pub.targets:
            if t.result == "failed":
                result.warnings.append(f"chưa giao được tới {t.target}: {t.message}")


# ---------------------------------------------------------------- the review desk
#
# What the desk does beyond the CLI's actions: read a script as blocks
# beside how each paragraph will be read, save edited blocks, hear one
# paragraph, swap a story in or out, keep the pronunciation dictionary, and
# the accounts. The desk's views call these and nothing deeper.


@dataclass
class Reading:
    """One paragraph as written and as it will be read aloud."""

    written: str
    spoken: str
    unsure: list[tuple[str, str, str]]  # (written token, how it will be read, why) the normaliser is unsure of


@dataclass
class ScriptBlock:
    """One section of a script as staff edit it: its header line and everything up to the next."""

    index: int  # position among the script's blocks (block 0 is the text before the first header)
    header: str  # the '[tin 1] ...' line, '' for block 0
    kind: str  # greeting | item | standing | notice | closing | preamble
    title: str
    body: str  # the editable text, notes ('#' lines) included
    item_id: int | None
    readings: list[Reading]


@dataclass
class Marker:
    """Where a part of the rendered bulletin starts and ends, from its manifest."""

    kind: str
    label: str
    start: float
    end: float


@dataclass
class Review:
    """Everything the desk shows about one bulletin."""

    status: BulletinStatus
    text: str | None
    sha: str | None  # of the script as read: the base of the next save
    blocks: list[ScriptBlock]
    markers: list[Marker]
    items: list[int]  # story ids in the script, in order


SEGMENT_LABELS = {"jingle": "nhạc hiệu", "greeting": "mở đầu", "item": "tin", "standing": "thông điệp",
                  "notice": "thông báo", "closing": "kết thúc", "outro": "nhạc kết", "other": "khác",
                  "preamble": "ghi chú đầu kịch bản"}
MAX_SPOKEN_CHARS = 5000


def split_blocks(text: str) -> list[tuple[str, str]]:
    """Cut a script at its section headers: [(header line with its newline, or '', raw body)].

    Joining the pieces gives back the text byte for byte, so saving blocks
    nobody touched changes nothing.
    """
    from broadcast.script import HEADER

    chunks: list[list[str]] = [["", ""]]
    for line in text.splitlines(keepends=True):
        if HEADER.match(line.strip()):
            chunks.append([line, ""])
        else:
            chunks[-1][1] += line
    return [(h, b) for h, b in chunks]


def join_blocks(chunks: list[tuple[str, str]], edits: dict[int, str]) -> str:
    """The script with the bodies of the edited blocks replaced; others kept byte for byte."""
    out = []
    for i, (header, body) in enumerate(chunks):
        if i in edits:
            new = edits[i].replace("\r\n", "\n").replace("\r", "\n").strip("\n")
            if new.rstrip() != body.strip("\n").rstrip():
                trailing = body[len(body.rstrip("\n")):] or "\n"
                if i < len(chunks) - 1 and not trailing.startswith("\n\n"):
                    trailing = "\n\n"  # keep a blank line before the next section
                body = (new.rstrip() + trailing) if new.strip() else ""
        if header and not header.endswith("\n"):
            header += "\n"
        out.append(header + body)
    return "".join(out)


def read_aloud(text: str, lexicon=None) -> Reading:
    """How a paragraph will be read, with the tokens the normaliser is unsure of.

    The normaliser may offer `explain(text, lexicon)` yielding tokens with
    `written`, `spoken`, `unsure` (and `rule_name`); until it does, nothing is flagged.
    """
    from broadcast import textnorm

    spoken = textnorm.normalize(text, lexicon)
    unsure: list[tuple[str, str, str]] = []
    explain = getattr(textnorm, "explain", None)
    if callable(explain):
        for token in explain(text, lexicon):
            if getattr(token, "unsure", False):
                unsure.append((str(getattr(token, "written", "")), str(getattr(token, "spoken", "")),
                               str(getattr(token, "rule_name", ""))))
    return Reading(written=text, spoken=spoken, unsure=unsure)


def _block(index: int, header: str, body: str, lexicon) -> ScriptBlock:
    from broadcast.script import parse_script

    segs = parse_script(header + body)
    seg = segs[0] if segs else None
    kind = seg.kind if seg is not None and header else ("greeting" if seg is not None else "preamble")
    readings = [read_aloud(p, lexicon) for s in segs for p in s.paragraphs()]
    return ScriptBlock(index=index, header=header.rstrip("\n"), kind=kind, title=seg.title if seg else "",
                       body=body.strip("\n"), item_id=seg.item_id if seg else None, readings=readings)


def review(config: Config, out_dir: Path, station: str, date: dt.date, slot: str = "") -> Review:
    """Open one bulletin for review: its status, its script as blocks with their reading, its markers."""
    from broadcast.bulletin import read_manifest
    from broadcast.pipeline import read_script, sha
    from broadcast.textnorm import load_lexicon

    st = config.station(station)
    ws = workspace(config, out_dir)
    status_ = bulletin_status(config, out_dir, station, date, slot)
    text = read_script(ws.paths(station, date, slot).script, quiet=True)
    blocks: list[ScriptBlock] = []
    items: list[int] = []
    if text:
        lexicon = load_lexicon(st.lexicon)
        for i, (header, body) in enumerate(split_blocks(text)):
            block = _block(i, header, body, lexicon)
            if i == 0 and not block.readings:  # only notes before the first section: nothing to review
                continue
            blocks.append(block)
            if block.kind == "item" and block.item_id is not None:
                items.append(block.item_id)
    markers: list[Marker] = []
    manifest = read_manifest(ws.paths(station, date, slot).manifest) if status_.audio else None
    if manifest is not None and manifest.script_sha256 == (sha(text) if text else None):
        n = 0
        for seg in manifest.segments:
            if seg.start is None or seg.end is None or seg.kind in ("pause", "sting"):
                continue
            label = SEGMENT_LABELS.get(seg.kind, seg.kind)
            if seg.kind == "item":
                n += 1
                label = f"tin {n}: {(seg.item or {}).get('title', '')}".rstrip(": ")
            markers.append(Marker(kind=seg.kind, label=label, start=float(seg.start), end=float(seg.end)))
    return Review(status=status_, text=text or None, sha=sha(text) if text else None, blocks=blocks,
                  markers=markers, items=items)


def save_blocks(config: Config, out_dir: Path, station: str, date: dt.date, edits: dict[int, str],
                now: dt.datetime, *, slot: str = "", base_sha: str | None = None, by: str = ""
                ) -> BulletinStatus | None:
    """Save edited blocks of a script; None when nothing changed. Refuse when the script changed meanwhile."""
    from broadcast.pipeline import sha

    ws = workspace(config, out_dir)
    current = _require_script(ws, BulletinKey(station, date, slot))
    if base_sha is not None and sha(current) != base_sha:
        raise ConflictError("Kịch bản vừa được sửa ở nơi khác sau khi bạn mở nó. Hãy tải lại trang, "
                            "xem bản mới rồi sửa lại; bản bạn vừa gõ chưa được lưu.")
    text = join_blocks(split_blocks(current), edits)
    if text == current:
        return None
    return save_script(config, out_dir, station, date, text, now, slot=slot, base_sha=sha(current), by=by)


@dataclass
class SpokenSample:
    """One paragraph spoken on demand: WAV bytes and how it was read."""

    wav: bytes
    spoken: str
    engine: str
    duration: float
    cached: bool = False  # heard before: no engine (and no paid vendor) was asked


def speak(config: Config, station: str, text: str, run: SpeechRun | None = None) -> SpokenSample:
    """Speak one paragraph as the station's bulletin would, through the shared speech cache.

    `run` holds the probes, engines skipped and character budget these samples share; by default the
    process's, which a long-running caller (the desk) should replace from time to time.
    """
    from broadcast.speech import SpeechCache, Synthesizer
    from broadcast.textnorm import load_lexicon, normalize

    st = config.station(station)
    text = " ".join(text.split())
    if not text:
        raise BroadcastError("Không có chữ nào để đọc.")
    if len(text) > MAX_SPOKEN_CHARS:
        raise BroadcastError(f"Đoạn quá dài để nghe thử (hơn {MAX_SPOKEN_CHARS} ký tự): hãy chia thành các đoạn ngắn.")
    spoken = normalize(text, load_lexicon(st.lexicon))
    # Shared use of the cache, as a build: pruning waits, and reads the bytes before letting go.
    with _locks(config).cache_use(timeout=60):
        synth = Synthesizer(st.tts, SpeechCache(config.data_dir / "speech-cache"), run=run)
        try:
            sp = synth.speak([spoken])[0]
            data = sp.wav.read_bytes()
        finally:
            synth.close()
    return SpokenSample(wav=data, spoken=spoken, engine=sp.engine, duration=sp.duration, cached=sp.cached)


def swap_story(config: Config, out_dir: Path, station: str, date: dt.date, story_id: int, include: bool,
               now: dt.datetime, *, slot: str = "", base_sha: str | None = None, by: str = "") -> BulletinStatus:
    """Put a candidate story into the script (after the last story) or take it out; edits elsewhere stay."""
    from broadcast.pipeline import script_context, sha
    from broadcast.script import parse_script, render_script

    st = config.station(station)
    ws = workspace(config, out_dir)
    current = _require_script(ws, BulletinKey(station, date, slot))
    if base_sha is not None and sha(current) != base_sha:
        raise ConflictError("Kịch bản vừa được sửa ở nơi khác sau khi bạn mở nó. Hãy tải lại trang rồi làm lại.")
    chunks = split_blocks(current)

    def story_of(chunk: tuple[str, str]) -> int | None:
        segs = parse_script(chunk[0] + chunk[1]) if chunk[0] else []
        return segs[0].item_id if segs and segs[0].kind == "item" else None

    present = [i for i, c in enumerate(chunks) if story_of(c) == story_id]
    if not include:
        if not present:
            raise NotFoundError("Tin này không còn trong kịch bản: hãy tải lại trang.")
        chunks = [c for i, c in enumerate(chunks) if i not in present]
    else:
        if present:
            raise BroadcastError("Tin này đã có trong kịch bản: hãy tải lại trang để xem.")
        found = candidates(config, station, date, now, show_all=True).candidates
        story = next((c for c in found if c.id == story_id), None)
        if story is None:
            raise NotFoundError("Không tìm thấy tin này trong các tin ứng viên của ngày: hãy tải lại trang.")
        slot_time = next((s.time for s in st.slots if s.name == slot), "")
        # The story's block comes from the station's own template, so it reads like every other story.
        rendered = split_blocks(render_script(script_context(st, date, [story], "", [], slot_time), st.templates))
        block = next((c for c in rendered if story_of(c) == story_id), None)
        if block is None:
            raise BroadcastError("Mẫu kịch bản của đài không viết ra tin này (thiếu dòng '# mã tin'): hãy nhờ người quản trị sửa mẫu.")
        kinds = [parse_script(h + b)[0].kind if h and parse_script(h + b) else "" for h, b in chunks]
        items = [i for i, k in enumerate(kinds) if k == "item"]
        at = (items[-1] + 1) if items else next((i + 1 for i, k in enumerate(kinds) if k == "greeting"), 1)
        prev = chunks[at - 1] if at - 1 < len(chunks) else chunks[-1]
        if not (prev[0] + prev[1]).endswith("\n\n"):
            chunks[at - 1] = (prev[0], prev[1].rstrip("\n") + "\n\n")
        chunks.insert(at, (block[0].lstrip(), block[1].rstrip("\n") + "\n\n"))
    # Stories are numbered in reading order: [tin 1], [tin 2], ...
    n = 0
    for i, (header, body) in enumerate(chunks):
        if story_of((header, body)) is not None or re.match(r"^\[\s*tin\b", header, re.IGNORECASE):
            n += 1
            chunks[i] = (re.sub(r"^\[\s*(tin)(?:\s+\d{1,3})?\s*\]", lambda m: f"[{m.group(1)} {n}]", header,
                                 flags=re.IGNORECASE), body)
    text = join_blocks(chunks, {})
    return save_script(config, out_dir, station, date, text, now, slot=slot, base_sha=sha(current), by=by)


@dataclass
class LexiconUse:
    """A paragraph of a bulletin where a dictionary entry applies."""

    station: str
    date: dt.date
    slot: str
    written: str


def lexicon_entries(config: Config, station: str) -> tuple[Path | None, list[tuple[str, str]]]:
    """The station's own pronunciation dictionary file and its entries (written, spoken)."""
    from broadcast.textnorm.lexicon import read_tsv

    st = config.station(station)
    if st.lexicon is None or not Path(st.lexicon).exists():
        return st.lexicon, []
    return st.lexicon, read_tsv(Path(st.lexicon))


def add_lexicon_entry(config: Config, station: str, written: str, spoken: str) -> Path:
    """Add (or replace) one entry of the station's dictionary file, checked as the normaliser reads it."""
    from broadcast.errors import ConfigError
    from broadcast.fsutil import MAX_SETTINGS_BYTES, read_staff_text
    from broadcast.textnorm.lexicon import parse_tsv

    st = config.station(station)
    if st.lexicon is None:
        raise BroadcastError(f"Đài {st.id} chưa có tệp từ điển phát âm: hãy nhờ người quản trị thêm dòng "
                             f"lexicon = \"tu-dien-{st.id}.tsv\" vào mục [[stations]] của đài trong "
                             "broadcast.toml rồi khởi động lại bàn duyệt.")
    written, spoken = " ".join(written.split()), " ".join(spoken.split())
    path = Path(st.lexicon)
    parse_tsv(f"{written}\t{spoken}", str(path))  # the same checks as when the file is loaded
    # Read once, as the nightly run reads it: UTF-8 or Notepad's UTF-16, a regular file within the limit
    # (a pipe or device named by mistake is refused, never waited on); written back as UTF-8.
    text = (read_staff_text(path, "tệp từ điển phát âm", MAX_SETTINGS_BYTES, ConfigError) if path.exists()
            else "# Từ điển phát âm của đài: cách viết<Tab>cách đọc")
    lines = text.splitlines()
    entries = dict(parse_tsv(text, str(path)))
    if written in entries:
        lines = [ln for ln in lines if not (ln.split("\t")[0].strip() == written and "\t" in ln)]
    lines.append(f"{written}\t{spoken}")
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def lexicon_uses(config: Config, out_dir: Path, station: str, date: dt.date, written: str) -> list[LexiconUse]:
    """The paragraphs of the station's bulletins of the date where a written form occurs (as the dictionary
    matches it: capitals exactly, other entries in any case)."""
    from broadcast.pipeline import read_script
    from broadcast.script import parse_script
    from broadcast.textnorm.lexicon import split_key

    key = split_key(written)
    if not key:
        return []
    fold = any(ch.islower() for ch in written)
    if fold:
        key = tuple(t.casefold() for t in key)
    ws = workspace(config, out_dir)
    uses: list[LexiconUse] = []
    for st in status(config, out_dir, date, [station]):
        text = read_script(ws.paths(station, date, st.key.slot).script, quiet=True)
        for seg in parse_script(text or ""):
            for para in seg.paragraphs():
                tokens = split_key(para)
                if fold:
                    tokens = tuple(t.casefold() for t in tokens)
                if any(tokens[i:i + len(key)] == key for i in range(len(tokens) - len(key) + 1)):
                    uses.append(LexiconUse(station=station, date=date, slot=st.key.slot, written=para))
    return uses


def notices_of(config: Config, station: str, date: dt.date) -> list:
    """The notices a station reads on a date (configuration, notices file, stored), highest priority first."""
    from broadcast.messages import notices_for

    st = config.station(station)
    with open_store(config) as store:
        return notices_for(st, date, store.notices_for(st.id, date))


# ---------------------------------------------------------------- local items written on the desk

# How far ahead staff may date an item they write on the desk.
LOCAL_AHEAD = dt.timedelta(days=60)
LOCAL_LIMITS = {"title": MAX_TITLE_CHARS, "author": MAX_AUTHOR_CHARS, "body": MAX_BODY_CHARS,
                "per_day": DESK_ITEMS_PER_DAY}


@dataclass
class LocalFolder:
    """A folder of local items: the source reading it, where it is, and every station that reads it."""

    feed: str
    path: Path
    stations: list[str]
    source: str  # who an item without an author is credited to


@dataclass
class LocalUse:
    """A bulletin whose script carries a local item now."""

    station: str
    date: dt.date
    slot: str
    state: State
    may_air: bool
    story: int  # the item's story id in that script (to take it out with swap_story)
    sha: str  # the script as read, for swap_story's base_sha


@dataclass
class LocalEntry:
    """One local item as the desk shows it."""

    name: str  # the file's name in its folder
    feed: str
    title: str
    date: dt.date | None
    author: str
    body: str
    owner: str  # the station that wrote it on the desk; '' for a file put in the folder by hand
    account: str  # the desk account that wrote it, when the file says
    uses: list[LocalUse]


@dataclass
class LocalItems:
    """A station's local items that may still be read, and where the desk writes new ones."""

    station: str
    since: dt.date  # items dated earlier are no longer offered (older than the station's fresh window)
    folder: LocalFolder | None  # where this station's new items go; None: no local source configured
    folders: list[LocalFolder]
    items: list[LocalEntry]
    warnings: list[str]
    written_today: int
    per_day: int
    setup: str = ""  # without a folder: what to add to broadcast.toml


@dataclass
class LocalChange:
    """What writing or withdrawing an item did."""

    entry: LocalEntry
    folder: LocalFolder
    in_candidates: bool  # the news store has caught up (the candidates page shows the change now)
    uses: list[LocalUse]  # withdrawing: bulletins that still carry the item


def _local_folders(config: Config, st: StationConfig) -> list[LocalFolder]:
    """The local folders a station reads, each with every station reading the same folder."""
    def real(path: str) -> Path:
        return Path(path).resolve()

    readers: dict[Path, list[str]] = {}
    for other in config.stations:
        for f in config.feeds_for(other):
            if f.kind == "local" and other.id not in readers.setdefault(real(f.url), []):
                readers[real(f.url)].append(other.id)
    return [LocalFolder(feed=f.name, path=Path(f.url), stations=readers[real(f.url)], source=f.source or f.name)
            for f in config.feeds_for(st) if f.kind == "local"]


def _local_setup(st: StationConfig) -> str:
    return (f"Đài {st.name} chưa có thư mục tin địa phương nên chưa viết tin trên bàn duyệt được. Hãy nhờ người "
            f"quản trị thêm vào broadcast.toml một mục [[feeds]] với name = \"tin-{st.id}\", kind = \"local\", "
            f"path = \"tin-dia-phuong/{st.id}\" (nếu mục của đài có dòng feeds = [...] thì thêm \"tin-{st.id}\" "
            "vào dòng đó), tạo thư mục ấy rồi khởi động lại bàn duyệt.")


def _desk_folder(config: Config, st: StationConfig) -> LocalFolder:
    """Where the desk writes a station's items: its local folder shared with the fewest stations."""
    folders = _local_folders(config, st)
    if not folders:
        raise ParameterError(_local_setup(st))
    return min(folders, key=lambda f: len(f.stations))  # min keeps the configuration's order on a tie


def _item_files(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and not p.name.startswith((".", "~"))]
    except OSError:
        return []


def _written_on(folder: Path, station: str, day: dt.date) -> int:
    """Items this station wrote on the desk on `day`, kept or withdrawn since (a withdrawal frees no room)."""
    names = [p.name for p in _item_files(folder) + _item_files(folder / WITHDRAWN_FOLDER)]
    return sum(1 for n in names if desk_owner(n) == station and desk_written_on(n) == day)


def _catch_up_local(config: Config, folder: LocalFolder, now: dt.datetime) -> bool:
    """Read a local folder into the news store now, so candidates show the change; False when busy."""
    from broadcast.ingest import ingest
    from broadcast.relevance import load_vocabulary

    # Every source naming the folder: each stores its own copy of an item, for its own stations.
    feeds = [f for f in config.feeds if f.kind == "local" and Path(f.url).resolve() == folder.path.resolve()]
    # The vocabulary the nightly fetch uses: another one would rescore every stored story.
    vocab = load_vocabulary(config.selection.topics_file)
    try:
        # A staffer waits a few seconds at most; a fetch running meanwhile (the nightly one) takes minutes.
        with _locks(config).feeds_lock(timeout=5), open_store(config) as store:
            report = ingest(config, store, feeds, now=now, vocab=vocab, keep_days=None)
    except LockedError:
        return False  # a fetch is running; the next one reads the folder
    return all(line.status == "ok" for line in report.lines)


def _local_uses(config: Config, out_dir: Path, store, folder: LocalFolder, story_ids: dict[str, int],
                today: dt.date) -> dict[str, list[LocalUse]]:
    """guid -> the bulletins (from a week ago on) of the stations reading the folder whose script has it."""
    from broadcast.pipeline import items_in_script, read_script, sha
    from broadcast.script import parse_script

    by_id = {sid: guid for guid, sid in story_ids.items()}
    ws = workspace(config, out_dir)
    uses: dict[str, list[LocalUse]] = {}
    known = {s.id: s for s in config.stations}
    for row in store.bulletin_rows(today - dt.timedelta(days=7), today + LOCAL_AHEAD, folder.stations):
        if not by_id or row["station"] not in known:
            continue
        # The script as it is now: staff may have put the item in (or taken it out) since it was drafted.
        offered = [i for i in row.get("items") or [] if isinstance(i, dict)]
        key = BulletinKey(row["station"], row["date"], row["slot"])
        text = read_script(ws.paths(key.station, key.date, key.slot).script, quiet=True) or ""
        status_ = _status(config, ws, store, known[key.station], key, row)
        for sid in items_in_script(parse_script(text), offered):
            if sid in by_id:
                uses.setdefault(by_id[sid], []).append(LocalUse(key.station, key.date, key.slot, status_.state,
                                                                status_.may_air, sid, sha(text)))
    return uses


def local_items(config: Config, out_dir: Path, station: str, now: dt.datetime) -> LocalItems:
    """A station's local items that may still be read (dated within its fresh window, later, or undated),
    who wrote each, which bulletins carry each."""
    st = config.station(station)
    today = now.astimezone(VN_TZ).date()
    since = (now - dt.timedelta(hours=st.selection.fresh_hours)).astimezone(VN_TZ).date()
    folders = _local_folders(config, st)
    if not folders:
        return LocalItems(station=st.id, since=since, folder=None, folders=[], items=[], warnings=[], written_today=0,
                          per_day=DESK_ITEMS_PER_DAY, setup=_local_setup(st))
    target = _desk_folder(config, st)
    items: list[LocalEntry] = []
    warnings: list[str] = []
    with open_store(config) as store:
        for folder in folders:
            feed = next(f for f in config.feeds if f.name == folder.feed)
            try:
                found, _, said = read_local_items(feed, now)
            except FeedError as exc:
                warnings.append(str(exc))
                continue
            warnings += said
            found = [i for i in found if i.published is None or i.published.astimezone(VN_TZ).date() >= since]
            uses = _local_uses(config, out_dir, store, folder, store.local_story_ids(feed.name), today)
            for item in found:
                name = item.guid.removeprefix("local:")
                owner = desk_owner(name)
                items.append(LocalEntry(
                    name=name, feed=feed.name, title=item.title,
                    date=item.published.astimezone(VN_TZ).date() if item.published else None,
                    author=item.source, body=item.summary, owner=owner,
                    account=desk_account_of(folder.path / name) if owner else "", uses=uses.get(item.guid, [])))
    items.sort(key=lambda e: (e.date or dt.date.max, e.name))
    return LocalItems(station=st.id, since=since, folder=target, folders=folders, items=items, warnings=warnings,
                      written_today=_written_on(target.path, st.id, today), per_day=DESK_ITEMS_PER_DAY)


def add_local_item(config: Config, station: str, title: str, date: dt.date, body: str, now: dt.datetime, *,
                   author: str = "", by: str = "") -> LocalChange:
    """Write a local item into the station's local folder, as a file staff could have put there, and read
    it into the news store so it is a candidate at once.

    The file's name is made here (station, time, a random part), never from
    what was typed; the file appears whole or not at all.
    """
    st = config.station(station)
    folder = _desk_folder(config, st)
    local_now = now.astimezone(VN_TZ)
    today = local_now.date()
    if not today <= date <= today + LOCAL_AHEAD:
        raise ParameterError(f"Ngày của tin phải từ hôm nay ({today:%d/%m/%Y}) đến "
                             f"{today + LOCAL_AHEAD:%d/%m/%Y}: hãy chọn lại ngày.")
    if not folder.path.is_dir():
        raise ParameterError(f"Chưa có thư mục tin địa phương của nguồn '{folder.feed}' ({folder.path}) trên máy "
                             "chủ: hãy nhờ người quản trị tạo thư mục đó (hoặc sửa path trong broadcast.toml).")
    if _written_on(folder.path, st.id, today) >= DESK_ITEMS_PER_DAY:
        raise ParameterError(f"Hôm nay đài đã viết {DESK_ITEMS_PER_DAY} tin địa phương trên bàn duyệt, mức tối đa "
                             "của một ngày. Hãy gộp nội dung vào một tin đã viết hoặc viết tiếp vào ngày mai.")
    if len(_item_files(folder.path)) >= MAX_FILES:
        raise ParameterError(f"Thư mục tin địa phương đã có {MAX_FILES} tệp, số tệp tối đa chương trình đọc: hãy "
                             "nhờ người quản trị chuyển các tin cũ ra khỏi thư mục rồi viết lại.")
    account = f"tài khoản {by}, " if by else ""
    note = f"Viết trên bàn duyệt, {account}đài {st.id}, lúc {local_now:%H:%M %d/%m/%Y}."
    text, fields = compose_local_item(title, date, body, author, note)
    name = desk_file_name(st.id, local_now)
    while (folder.path / name).exists():  # the random part makes this rare; never replace a file
        name = desk_file_name(st.id, local_now)
    atomic_write_text(folder.path / name, text)
    log.info("wrote local item %s", folder.path / name)
    in_candidates = _catch_up_local(config, folder, now)
    entry = LocalEntry(name=name, feed=folder.feed, title=fields["title"], date=date,
                       author=fields["author"] or folder.source, body=fields["body"], owner=st.id, account=by, uses=[])
    return LocalChange(entry=entry, folder=folder, in_candidates=in_candidates, uses=[])


def withdraw_local_item(config: Config, out_dir: Path, station: str, name: str, now: dt.datetime, *,
                        by: str = "") -> LocalChange:
    """Take back an item the station wrote on the desk: its file moves to the folder's withdrawn items.

    Bulletins whose scripts already carry it keep it (their text was
    reviewed as it is): they are returned, for staff to take it out there
    (swap_story with the use's story and sha, then approve again).
    """
    st = config.station(station)
    owner = desk_owner(name)  # the name is one the desk made, or nothing is looked up: no path from a form
    folders = _local_folders(config, st) if owner else []
    folder = next((f for f in folders if (f.path / name).is_file() and not (f.path / name).is_symlink()), None)
    if folder is None:
        raise NotFoundError("Không có tin này trong thư mục tin địa phương của đài (có thể đã được rút): "
                            "hãy tải lại trang.")
    if owner != st.id:
        others = {s.id: s.name for s in config.stations}
        raise NotYoursError(f"Tin này do {others.get(owner, 'đài ' + owner)} viết: chỉ cán bộ của đài đó rút "
                            "được tin.")
    path = folder.path / name
    today = now.astimezone(VN_TZ).date()
    try:
        fields = parse_local_item(read_staff_text(path, "tệp tin địa phương", MAX_FILE_BYTES))
    except (OSError, BroadcastError):  # unreadable since: it is withdrawn all the same
        fields = {"title": name, "date": "", "author": "", "body": ""}
    with open_store(config) as store:
        uses = _local_uses(config, out_dir, store, folder, store.local_story_ids(folder.feed), today)
    away = folder.path / WITHDRAWN_FOLDER
    try:
        away.mkdir(exist_ok=True)
        replace_file(path, away / name)  # one rename: the item is in the folder or out of it, never half
    except OSError as exc:
        raise BroadcastError(f"Không rút được tin ({os_reason(exc)}): hãy thử lại hoặc báo cho người "
                             "quản trị.") from None
    log.info("withdrew local item %s (by %s)", path, by or "?")
    in_candidates = _catch_up_local(config, folder, now)
    published = parse_date(fields["date"], order="dmy") if fields["date"] else None
    entry = LocalEntry(name=name, feed=folder.feed, title=fields["title"],
                       date=published.astimezone(VN_TZ).date() if published else None,
                       author=fields["author"] or folder.source, body=fields["body"], owner=owner, account="", uses=uses.get(f"local:{name}", []))
    return LocalChange(entry=entry, folder=folder, in_candidates=in_candidates, uses=entry.uses)


@contextlib.contextmanager
def accounts(config: Config) -> Iterator:
    """The review desk's accounts and sessions in this configuration's database."""
    from broadcast.web.accounts import Accounts

    with open_store(config) as store:
        yield Accounts(store)
