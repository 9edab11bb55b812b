"""Command line: thin adapters from options to the library, Vietnamese for staff."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from broadcast import __version__, cli_vi
from broadcast.config import Config, load_config
from broadcast.errors import BroadcastError
from broadcast.models import today_vn

log = logging.getLogger("broadcast")
cli_vi.install()

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@dataclass
class App:
    """What every command gets from the global options."""

    config_path: Path | None
    out_dir: Path
    date: dt.date
    verbose: int
    quiet: bool
    _config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def say(self, message: str, err: bool = False) -> None:
        if not self.quiet or err:
            click.echo(message, err=err)


def _parse_date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date:
    if value is None:
        return today_vn()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' không phải ngày dạng YYYY-MM-DD (ví dụ 2025-03-12).") from None


def _setup_logging(verbose: int, quiet: bool) -> None:
    # Warnings reach the user through each command's own report; the log
    # shows them again only when asked for detail.
    level = logging.ERROR
    if verbose == 1:
        level = logging.INFO
    elif verbose >= 2:
        level = logging.DEBUG
    if quiet:
        level = logging.ERROR
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger().setLevel(level)
    if verbose < 2:
        # Errors reach staff as one line; tracebacks only with -vv.
        for handler in logging.getLogger().handlers:
            handler.addFilter(_no_traceback)


def _no_traceback(record: logging.LogRecord) -> bool:
    record.exc_info = None
    record.exc_text = None
    return True


class VietCommand(click.Command):
    """A command whose usage line is in Vietnamese."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("options_metavar", "[TÙY_CHỌN]")
        super().__init__(*args, **kwargs)


class VietGroup(click.Group):
    """A group that turns the project's errors into one clear line and an exit code."""

    command_class = VietCommand

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("options_metavar", "[TÙY_CHỌN]")
        kwargs.setdefault("subcommand_metavar", "LỆNH [THAM_SỐ]...")
        super().__init__(*args, **kwargs)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BroadcastError as exc:
            app = ctx.obj
            if app is not None and app.verbose >= 2:
                raise
            click.echo(f"Lỗi: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Đã dừng theo yêu cầu. Các tệp đã hoàn tất vẫn được giữ nguyên.", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:  # a bug: one line for cron, the traceback with -vv
            app = ctx.obj
            if app is not None and app.verbose >= 2:
                raise
            log.debug("unexpected error", exc_info=True)
            click.echo(
                f"Lỗi không mong đợi: {type(exc).__name__}: {exc}. Các tệp đã hoàn tất vẫn được giữ "
                "nguyên. Hãy chạy lại với -vv để xem chi tiết và báo cho người quản trị.",
                err=True,
            )
            ctx.exit(70)


@click.group(name="broadcast", cls=VietGroup, context_settings=CONTEXT_SETTINGS)
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Tệp cấu hình TOML. Mặc định: ./broadcast.toml nếu có, nếu không thì cấu hình mẫu đi kèm.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              default=Path("audio_out"), show_default=True, help="Thư mục ghi bản tin.")
@click.option("--date", "date", callback=_parse_date, metavar="YYYY-MM-DD",
              help="Ngày của bản tin. Mặc định: hôm nay theo giờ Việt Nam.")
@click.option("-v", "--verbose", count=True, help="In thêm chi tiết (-vv: gỡ lỗi, in cả traceback).")
@click.option("-q", "--quiet", is_flag=True, help="Chỉ in lỗi (dùng cho cron).")
@click.version_option(__version__, "--version", message="broadcast %(version)s")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, out_dir: Path, date: dt.date,
        verbose: int, quiet: bool) -> None:
    """broadcast: làm bản tin cải cách hành chính bằng giọng đọc cho đài truyền thanh xã, phường.

    Lấy tin từ các nguồn RSS, chọn tin về cải cách hành chính, soạn kịch bản
    tiếng Việt, đọc thành tiếng và ghi tệp MP3 vào audio_out/<ngày>/.

    Việc hằng đêm: "broadcast build". Xem trước và sửa kịch bản: "broadcast script",
    sửa tệp .txt, rồi "broadcast build".
    """
    _setup_logging(verbose, quiet)
    ctx.obj = App(config_path=config_path, out_dir=out_dir, date=date, verbose=verbose, quiet=quiet)


def _print_report(app: App, report) -> None:
    for line in report.feed_lines:
        app.say(f"  nguồn tin: {line}")
    for r in report.results:
        name = f"{r.station}{'-' + r.slot if r.slot else ''}"
        if r.status == "failed":
            click.echo(f"  {name}: LỖI: {r.message}", err=True)
        elif r.status == "script":
            app.say(f"  {name}: đã soạn kịch bản {r.script}" + (" (đã sửa tay)" if r.edited else ""))
        else:
            state = "không thay đổi, giữ tệp cũ" if r.status == "unchanged" else "đã tạo"
            app.say(f"  {name}: {state} {r.audio} ({r.duration / 60:.1f} phút)")
        for w in r.warnings:
            click.echo(f"  {name}: cảnh báo: {w}", err=True)
    for w in report.warnings:
        click.echo(f"  cảnh báo: {w}", err=True)


def _run_build(app: App, stations: tuple[str, ...], script_only: bool, no_fetch: bool,
               refresh: bool, force: bool, jobs: int = 0) -> None:
    from broadcast.pipeline import BuildOptions, build

    config = app.config
    if config.is_demo:
        app.say(f"Dùng cấu hình mẫu đi kèm ({config.path}).")
    opts = BuildOptions(date=app.date, out_dir=app.out_dir, fetch=not no_fetch, refresh=refresh,
                        force=force, script_only=script_only, jobs=jobs)
    progress = None
    if not app.quiet and sys.stderr.isatty():
        progress = lambda msg: click.echo(f"  … {msg}", err=True)  # noqa: E731
    report = build(config, list(stations), opts, progress)
    _print_report(app, report)
    ok = [r for r in report.results if r.status != "failed"]
    verb = "soạn kịch bản" if script_only else "làm bản tin"
    summary = (f"Xong: {verb} {len(ok)}/{len(report.results)} đài trong {report.seconds:.1f} giây")
    if not script_only:
        summary += f"; đọc mới {report.speech_calls} đoạn, lấy lại từ bộ nhớ đệm {report.cache_hits} đoạn"
    app.say(summary + ".")
    if report.failed:
        raise SystemExit(1)


def build_options(func):
    """Options shared by `build` and `script`."""
    for option in reversed([
        click.option("--station", "stations", multiple=True, metavar="MÃ_ĐÀI",
                     help="Chỉ làm cho đài này (có thể lặp lại). Mặc định: mọi đài trong cấu hình."),
        click.option("--no-fetch", is_flag=True, help="Không tải tin mới, chỉ dùng tin đã lưu."),
        click.option("--refresh", is_flag=True, help="Soạn lại kịch bản dù đã có kịch bản cho ngày này."),
        click.option("--force", is_flag=True,
                     help="Cùng --refresh: soạn lại cả kịch bản đã sửa tay (bản cũ lưu thành .bak)."),
    ]):
        func = option(func)
    return func


@cli.command()
@build_options
@click.option("--jobs", type=click.IntRange(0, 64), default=0, metavar="SỐ",
              help="Số bản tin xử lý âm thanh cùng lúc (mặc định 0: bằng số lõi CPU).")
@click.pass_obj
def build(app: App, stations: tuple[str, ...], no_fetch: bool, refresh: bool, force: bool,
          jobs: int) -> None:
    """Làm bản tin: tải tin, soạn kịch bản, đọc và ghi tệp MP3.

    Nếu kịch bản của ngày đã có (kể cả đã được cán bộ sửa), bản tin được đọc
    đúng theo kịch bản đó. Đoạn nào không đổi thì không đọc lại.
    """
    _run_build(app, stations, script_only=False, no_fetch=no_fetch, refresh=refresh, force=force,
               jobs=jobs)


@cli.command()
@build_options
@click.pass_obj
def script(app: App, stations: tuple[str, ...], no_fetch: bool, refresh: bool, force: bool) -> None:
    """Chỉ soạn kịch bản (.txt) để cán bộ đọc và sửa trước khi làm bản tin."""
    _run_build(app, stations, script_only=True, no_fetch=no_fetch, refresh=refresh, force=force)


@cli.command()
@click.argument("text", required=False, metavar="[VĂN_BẢN]")
@click.option("--file", "text_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Đọc nội dung thông báo từ tệp văn bản (UTF-8).")
@click.option("--station", "station_id", metavar="MÃ_ĐÀI", help="Đài phát (mặc định: đài đầu tiên).")
@click.option("--name", default=None, metavar="TÊN",
              help="Tên tệp (mặc định: thong-bao-<giờ phút>), ví dụ thong-bao-mua-lu.")
@click.pass_obj
def notice(app: App, text: str | None, text_file: Path | None, station_id: str | None,
           name: str | None) -> None:
    """Làm ngay một bản tin riêng (thông báo khẩn) từ nội dung nhập vào.

    Ví dụ: broadcast notice "Thông báo: chiều nay 14h00 họp dân tại nhà văn hóa thôn 3."
    """
    from broadcast.pipeline import Builder, BuildOptions

    if text_file is not None:
        from broadcast.fsutil import read_staff_text

        text = read_staff_text(text_file, "tệp thông báo")
    if not text or not text.strip():
        raise click.UsageError("Cần nội dung thông báo: gõ trong dấu ngoặc kép hoặc dùng --file.")
    if name is not None and not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", name):
        raise click.BadParameter("chỉ gồm chữ thường không dấu, số, '-' hoặc '_'.", param_hint="--name")
    config = app.config
    station = config.station(station_id) if station_id else config.stations[0]
    if name is None:
        # Two notices in the same minute must not replace each other.
        from broadcast.models import VN_TZ

        stem = "thong-bao-" + dt.datetime.now(VN_TZ).strftime("%H%M")
        day = app.out_dir / app.date.isoformat()
        name, n = stem, 2
        while (day / f"{station.id}-{name}.mp3").exists() or (day / f"{station.id}-{name}.txt").exists():
            name, n = f"{stem}-{n}", n + 1
    builder = Builder(config, BuildOptions(date=app.date, out_dir=app.out_dir, fetch=False))
    result = builder.notice(station, text, name)
    for w in result.warnings:
        click.echo(f"cảnh báo: {w}", err=True)
    app.say(f"Đã tạo {result.audio} ({result.duration:.0f} giây).")


@cli.command()
@click.pass_obj
def fetch(app: App) -> None:
    """Tải tin từ mọi nguồn trong cấu hình và lưu lại (mỗi nguồn một dòng kết quả)."""
    from broadcast.ingest import ingest
    from broadcast.pipeline import run_lock
    from broadcast.relevance import load_vocabulary
    from broadcast.store import Store

    config = app.config
    with run_lock(config.data_dir):
        store = Store(config.data_dir / "broadcast.sqlite3")
        try:
            vocab = load_vocabulary(config.selection.topics_file)
            report = ingest(config, store, vocab=vocab)
        finally:
            store.close()
    for line in report.lines:
        if line.status == "failed":
            click.echo(line.message, err=True)
        else:
            app.say(line.message)
    app.say(report.summary)
    if report.lines and all(l.status == "failed" for l in report.lines):
        raise SystemExit(1)


@cli.command()
@click.option("--station", "station_id", metavar="MÃ_ĐÀI", help="Đài cần xem (mặc định: đài đầu tiên).")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON (danh sách tin).")
@click.option("--explain", is_flag=True, help="Giải thích điểm của từng tin: cụm từ khớp và chủ đề.")
@click.option("--all", "show_all", is_flag=True, help="In cả tin dưới ngưỡng liên quan.")
@click.pass_obj
def items(app: App, station_id: str | None, as_json: bool, explain: bool, show_all: bool) -> None:
    """Liệt kê các tin ứng viên cho bản tin của ngày, xếp theo thứ tự ưu tiên."""
    from broadcast.pipeline import speech_estimate_overhead, load_notices
    from broadcast.relevance import load_vocabulary
    from broadcast.script import load_standing_messages, standing_for
    from broadcast.selection import select
    from broadcast.store import Store
    from broadcast.models import VN_TZ

    config = app.config
    station = config.station(station_id) if station_id else config.stations[0]
    vocab = load_vocabulary(station.selection.topics_file)
    store = Store(config.data_dir / "broadcast.sqlite3")
    try:
        now = min(dt.datetime.combine(app.date, dt.time(23, 59), VN_TZ), dt.datetime.now(VN_TZ))
        feeds = [f.name for f in config.feeds_for(station)]
        candidates = store.candidates(station.id, now, station.selection.fresh_hours, feeds,
                                      date=app.date, slot="")
    finally:
        store.close()
    standing = standing_for(app.date, load_standing_messages(station.templates))
    budget = station.target_minutes * 60 - speech_estimate_overhead(
        station, app.date, standing, load_notices(station), station.slots[0].time if station.slots else "")
    min_score = station.selection.min_score if station.selection.min_score is not None else vocab.threshold
    ranked = select(candidates, station, {f.name: f.weight for f in config.feeds}, max(budget, 30.0),
                    engine=station.tts.resolved_chain()[0], min_score=min_score, now=now)
    if not show_all:
        ranked = [c for c in ranked if c.selected or c.score >= min_score]
    if as_json:
        out = [{
            "id": c.id, "title": c.title, "source": ", ".join(c.sources), "sources": c.sources,
            "link": c.link, "published": c.published.isoformat() if c.published else None,
            "topics": c.topics, "score": round(c.score, 3), "selected": c.selected,
            "reason": c.reason, "matches": c.matches,
        } for c in ranked]
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if not ranked:
        app.say("Chưa có tin nào. Hãy chạy 'broadcast fetch' để tải tin.")
        return
    for n, c in enumerate(ranked, 1):
        mark = "[chọn]" if c.selected else "      "
        when = c.published.astimezone(VN_TZ).strftime("%d/%m %H:%M") if c.published else "--/-- --:--"
        click.echo(f"{n:>3}. {mark} {c.score:6.2f}  {when}  {c.title}  ({', '.join(c.sources)})")
        if explain:
            click.echo(f"        chủ đề: {', '.join(vocab.label(t) for t in c.topics) or '(không)'}")
            click.echo(f"        cụm từ: {'; '.join(c.matches) or '(không)'}")
            if c.reason:
                click.echo(f"        lý do: {c.reason}")


@cli.command()
@click.argument("text", required=False, metavar="[VĂN_BẢN]")
@click.option("--station", "station_id", metavar="MÃ_ĐÀI", help="Dùng thêm từ điển phát âm riêng của đài này.")
@click.pass_obj
def normalize(app: App, text: str | None, station_id: str | None) -> None:
    """In cách đọc của một câu (hoặc từng dòng từ đầu vào chuẩn).

    Ví dụ: broadcast normalize "Quyết định số 3478/QĐ-UBND ngày 10/12/2021"
    """
    from broadcast.textnorm import load_lexicon, normalize as norm, normalize_lines

    lexicon_path = None
    if station_id:
        lexicon_path = app.config.station(station_id).lexicon
    elif app.config_path or Path("broadcast.toml").exists():
        lexicon_path = app.config.lexicon
    lexicon = load_lexicon(lexicon_path)
    if text is not None:
        click.echo(norm(text, lexicon))
        return
    stream = click.get_text_stream("stdin", encoding="utf-8", errors="replace")
    lines = (line.rstrip("\n").rstrip("\r") for line in stream)
    for out in normalize_lines(lines, lexicon):
        click.echo(out)


@cli.command()
@click.option("--prune", is_flag=True, help="Xóa các đoạn đã lâu không dùng.")
@click.option("--older-than", default="30d", show_default=True, metavar="THỜI_GIAN",
              help="Cùng --prune: xóa đoạn không dùng quá thời gian này (ví dụ 30d, 12h, 2w).")
@click.pass_obj
def cache(app: App, prune: bool, older_than: str) -> None:
    """Xem hoặc dọn bộ nhớ đệm giọng đọc (dùng chung cho mọi đài, mọi ngày)."""
    from broadcast.speech import SpeechCache, parse_age

    age = parse_age(older_than)
    c = SpeechCache(app.config.data_dir / "speech-cache")
    if prune:
        removed, freed = c.prune(age)
        app.say(f"Đã xóa {removed} đoạn ({freed / 1e6:.1f} MB) không dùng quá {older_than}.")
    s = c.stats()
    app.say(f"Bộ nhớ đệm: {s.root}")
    app.say(f"  số đoạn: {s.entries}, dung lượng: {s.size_bytes / 1e6:.1f} MB")
    rate = s.last_run_hit_rate
    if rate is None:
        app.say("  chưa có lần chạy nào được ghi lại")
    else:
        app.say(f"  lần chạy gần nhất: {s.last_run_hits} đoạn lấy lại, {s.last_run_misses} đoạn đọc mới "
                f"(tỷ lệ dùng lại {rate * 100:.0f}%)")


@cli.command()
@click.pass_obj
def doctor(app: App) -> None:
    """Kiểm tra máy: ffmpeg, các bộ đọc, mạng tới Google, cấu hình, thư mục ghi, dung lượng đĩa."""
    import os
    import shutil as sh

    from broadcast.audio import ffmpeg_version, find_ffmpeg
    from broadcast.speech import doctor_checks

    ok_all = True

    def row(name: str, ok: bool, detail: str, fatal: bool = True) -> None:
        nonlocal ok_all
        mark = "OK  " if ok else ("LỖI " if fatal else "chú ý")
        if ok and detail.startswith("không"):
            mark = "chú ý"
        click.echo(f"[{mark}] {name}: {detail}")
        if not ok and fatal:
            ok_all = False

    try:
        config = app.config
        row("cấu hình", True, str(config.path) + (" (mẫu đi kèm)" if config.is_demo else ""))
    except BroadcastError as exc:
        row("cấu hình", False, str(exc))
        raise SystemExit(2)
    try:
        row("ffmpeg", True, f"{find_ffmpeg()} ({ffmpeg_version()})")
    except BroadcastError as exc:
        row("ffmpeg", False, str(exc))
    seen: set[str] = set()
    for st in config.stations:
        key = repr(st.tts)
        if key in seen:
            continue
        seen.add(key)
        prefix = f"đài {st.id}: " if len(config.stations) > 1 else ""
        for label, ok, detail in doctor_checks(st.tts):
            row(prefix + label, ok, detail)
    for label, folder in (("thư mục bản tin", app.out_dir), ("thư mục dữ liệu", config.data_dir),
                          ("bộ nhớ đệm giọng đọc", config.data_dir / "speech-cache")):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            writable = os.access(folder, os.W_OK)
        except OSError:
            writable = False
        row(label, writable, f"{folder} ({'ghi được' if writable else 'không ghi được'})")
    try:
        free = sh.disk_usage(app.out_dir if app.out_dir.exists() else Path.cwd()).free
        row("dung lượng trống", free > 200e6, f"{free / 1e9:.1f} GB", fatal=free < 50e6)
    except OSError:
        pass
    click.echo("Máy sẵn sàng làm bản tin." if ok_all else "Máy chưa thể làm bản tin: hãy sửa các mục LỖI ở trên.")
    if not ok_all:
        raise SystemExit(1)


def main() -> None:
    """Entry point of the `broadcast` command."""
    cli(prog_name="broadcast")


if __name__ == "__main__":  # pragma: no cover
    main()
