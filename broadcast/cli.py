"""Command line: thin adapters from options to the library API, Vietnamese for staff.

Each command parses its options, calls one function of broadcast.api and
prints the result; the decisions live in the library.
"""

from __future__ import annotations

import codecs
import datetime as dt
import difflib
import json
import logging
import os
import re
import stat
import sys
from dataclasses import dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Iterator

import click

from broadcast import __version__, cli_vi
from broadcast.config import Config, load_config
from broadcast.errors import BroadcastError, DiskFullError
from broadcast.models import VN_TZ
from broadcast.vitext import decimal, one_line, os_reason

log = logging.getLogger("broadcast")
cli_vi.install()

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
# Options of the whole program that staff may also type after the command name.
GLOBAL_WITH_VALUE = ("--config", "--out", "--date", "--log-file")
GLOBAL_FLAGS = ("-v", "-vv", "-vvv", "--verbose", "-q", "--quiet")


def current_time() -> dt.datetime:
    """Now, in Vietnam; BROADCAST_NOW (ISO 8601) replaces it to replay a past run or in tests."""
    fixed = os.environ.get("BROADCAST_NOW")
    if fixed:
        try:
            value = dt.datetime.fromisoformat(fixed)
        except ValueError:
            raise click.UsageError(f"BROADCAST_NOW='{fixed}' không phải thời điểm dạng ISO "
                                   "(ví dụ 2026-11-30T06:00:00+07:00).") from None
        return value if value.tzinfo else value.replace(tzinfo=VN_TZ)
    return dt.datetime.now(VN_TZ)


@dataclass
class App:
    """What every command gets from the global options."""

    config_path: Path | None
    out_dir: Path
    date_given: dt.date | None
    verbose: int
    quiet: bool
    now: dt.datetime
    command: str | None = None
    _config: Config | None = None

    @property
    def date(self) -> dt.date:
        """The bulletin date: --date, else today in Vietnam."""
        return self.date_given or self.now.astimezone(VN_TZ).date()

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path, cwd=Path.cwd())
            if self.command not in ("build", "script", "doctor"):  # those report it as an error of the station
                for sid, message in self._config.broken.items():
                    click.echo(f"cảnh báo: bỏ qua đài {sid} vì cấu hình của đài sai: {message}", err=True)
        return self._config

    def say(self, message: str, err: bool = False) -> None:
        if not self.quiet or err:
            click.echo(message, err=err)


def _parse_date(ctx: click.Context | None, param: click.Parameter | None, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' không phải ngày dạng YYYY-MM-DD (năm-tháng-ngày, ví dụ 2026-03-12).") from None
    if not 2000 <= day.year <= 2100:
        raise click.BadParameter(f"'{value}': năm phải từ 2000 đến 2100.")
    return day


def _setup_logging(verbose: int, quiet: bool, log_file: Path | None = None) -> None:
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
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            handler = LogFile(log_file, maxBytes=5_000_000, backupCount=5, encoding="utf-8")
        except OSError as exc:
            raise click.BadParameter(f"không ghi được tệp nhật ký {log_file}: {os_reason(exc)}. "
                                     "Hãy chọn tệp trong một thư mục ghi được.", param_hint="--log-file") from None
        handler.setFormatter(_vietnam_time_formatter())
        handler.setLevel(logging.INFO)
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(min(root.level, logging.INFO))
        for other in root.handlers:
            if other is not handler:
                other.setLevel(level)


class OutputFile(click.Path):
    """A file the command writes: never a folder, and never a device or pipe that a rename would replace."""

    def __init__(self) -> None:
        super().__init__(path_type=Path, dir_okay=False)

    def convert(self, value, param, ctx):
        path = super().convert(value, param, ctx)
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return path  # not there yet: it is created
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
            # Output is written next to the target and renamed over it; over /dev/null that
            # would replace the device itself.
            self.fail(f"{path} không phải tệp thường (là thiết bị hoặc ống dẫn): hãy chọn tên tệp khác.",
                      param, ctx)
        return path


class LogFile(RotatingFileHandler):
    """The --log-file handler: when the file cannot be written (a full disk), say so once and go on."""

    broken = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.broken:
            super().emit(record)

    def flush(self) -> None:
        try:
            super().flush()
        except OSError as exc:
            self._give_up(exc)

    def close(self) -> None:
        try:
            super().close()
        except OSError:
            pass  # what was buffered cannot be written; the user was told once

    def handleError(self, record: logging.LogRecord) -> None:
        # logging's own report is a traceback on stderr for every record; the run itself is fine.
        self._give_up(sys.exc_info()[1])

    def _give_up(self, exc: BaseException | None) -> None:
        if self.broken:
            return
        self.broken = True
        reason = os_reason(exc) if isinstance(exc, OSError) else str(exc)
        click.echo(f"cảnh báo: không ghi được tệp nhật ký {self.baseFilename}: {reason}; "
                   "lần chạy vẫn tiếp tục, không ghi nhật ký vào tệp.", err=True)


def _fatal(message: str) -> None:
    """Say why the run stopped, on stderr and in the --log-file: under cron the file is what the operator reads."""
    click.echo(message, err=True)
    record = log.makeRecord(log.name, logging.ERROR, __file__, 0, "%s", (message,), None)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, LogFile):
            handler.handle(record)


def _no_traceback(record: logging.LogRecord) -> bool:
    record.exc_info = None
    record.exc_text = None
    return True


def hoist_global_options(args: list[str]) -> list[str]:
    """Move the program's own options typed after the command name to before it.

    `broadcast build --date 2026-11-30` then means what
    `broadcast --date 2026-11-30 build` means.
    """
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_WITH_VALUE and rest:
            if "=" in arg:
                front.append(arg)
            else:
                front += args[i:i + 2]
                i += 1
        elif arg in GLOBAL_FLAGS and rest:
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


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

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(list(args)))

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1, cutoff=0.5)
            hint = f" Có phải bạn định gõ '{close[0]}'?" if close else ""
            ctx.fail(f"Không có lệnh '{name}'.{hint} Xem các lệnh: 'broadcast --help'.")
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BroadcastError as exc:
            app = ctx.obj
            if app is not None and app.verbose >= 2:
                raise
            _fatal(f"Lỗi: {exc}")
            ctx.exit(exc.exit_code)
        except BrokenPipeError:  # the reader (e.g. `| head`) has had enough
            sys.stderr.close()
            ctx.exit(0)
        except KeyboardInterrupt:
            _fatal("Đã dừng theo yêu cầu. Các tệp đã hoàn tất vẫn được giữ nguyên.")
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:  # one line for cron, the traceback with -vv
            app = ctx.obj
            if app is not None and app.verbose >= 2:
                raise
            log.debug("unexpected error", exc_info=True)
            if isinstance(exc, OSError) and exc.filename is not None:
                # A path staff typed that cannot be used: theirs to fix, not a bug.
                _fatal(f"Lỗi: Không dùng được {exc.filename}: {os_reason(exc)}. Hãy kiểm tra đường dẫn "
                       "rồi chạy lại.")
                ctx.exit(1)
            _fatal(
                f"Lỗi không mong đợi: {type(exc).__name__}: {exc}. Các tệp đã hoàn tất vẫn được giữ "
                "nguyên. Hãy chạy lại với -vv để xem chi tiết và báo cho người quản trị.",
            )
            ctx.exit(70)


@click.group(name="broadcast", cls=VietGroup, context_settings=CONTEXT_SETTINGS)
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Tệp cấu hình TOML. Mặc định: ./broadcast.toml nếu có, nếu không thì cấu hình mẫu đi kèm.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), metavar="THƯ_MỤC",
              default=Path("audio_out"), show_default=True, help="Thư mục ghi bản tin.")
@click.option("--date", "date", callback=_parse_date, metavar="YYYY-MM-DD",
              help="Ngày của bản tin. Mặc định: hôm nay theo giờ Việt Nam.")
@click.option("-v", "--verbose", count=True, help="In thêm chi tiết (-vv: gỡ lỗi, in cả dấu vết lỗi, tức traceback).")
@click.option("-q", "--quiet", is_flag=True,
              help="Dùng cho cron: không hiện tiến độ; mỗi bản tin in một dòng có ngày giờ, "
                   "cuối cùng là một dòng tổng kết.")
@click.option("--log-file", type=click.Path(path_type=Path, dir_okay=False), metavar="TỆP",
              help="Ghi thêm nhật ký vào tệp này (tự xoay vòng khi quá 5 MB, giữ 5 tệp cũ).")
@click.version_option(__version__, "--version", message="broadcast %(version)s")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, out_dir: Path, date: dt.date | None,
        verbose: int, quiet: bool, log_file: Path | None) -> None:
    """broadcast: làm bản tin cải cách hành chính bằng giọng đọc cho đài truyền thanh xã, phường.

    Lấy tin từ các nguồn RSS, chọn tin về cải cách hành chính, soạn kịch bản
    tiếng Việt, đọc thành tiếng và ghi tệp MP3 vào audio_out/<ngày>/.

    Việc hằng đêm: "broadcast build". Xem trước và sửa kịch bản: "broadcast script",
    sửa tệp .txt, rồi "broadcast build". Duyệt: "broadcast status", "broadcast approve".
    """
    _setup_logging(verbose, quiet, log_file)
    ctx.obj = App(config_path=config_path, out_dir=out_dir, date_given=date, verbose=verbose, quiet=quiet,
                  now=current_time(), command=ctx.invoked_subcommand)


def _station_line(r) -> tuple[str, bool]:
    """One line for one bulletin of a run, warnings included; (line, is_error)."""
    name = f"{r.station}{'-' + r.slot if r.slot else ''}"
    if r.status == "failed":
        line, err = f"{name}: LỖI: {r.message}", True
    elif r.status == "busy":
        line, err = f"{name}: bỏ qua: {r.message}", True
    elif r.status == "script":
        line, err = f"{name}: đã soạn kịch bản {r.script}" + (" (đã sửa tay)" if r.edited else ""), False
    elif r.status == "held":
        line, err = f"{name}: đang tạm dừng, không làm âm thanh", False
    else:
        state = "không thay đổi, giữ tệp cũ" if r.status == "unchanged" else "đã tạo"
        line, err = f"{name}: {state} {r.audio} ({decimal(r.duration / 60, 1)} phút)", False
    if r.items == 0 and r.status not in ("failed", "busy"):
        line += ", không có tin"
    for w in r.warnings:
        # The error and each warning are sentences; inside one line only the last keeps its full stop.
        line = line.rstrip().removesuffix(".") + f"; cảnh báo: {w}"
    return line, err


class ProgressLine:
    """Stations done/total, elapsed and an estimate, on one terminal line that rewrites itself."""

    def __init__(self) -> None:
        import time

        self.clock = time.monotonic
        self.started = self.clock()
        self.width = 0

    def __call__(self, p) -> None:
        elapsed = self.clock() - self.started
        stage = "soạn kịch bản" if p.stage == "script" else "làm âm thanh"
        text = f"  {stage} {p.done}/{p.total} · {elapsed:4.0f} giây"
        if p.done and p.total > p.done:
            text += f" · còn khoảng {elapsed / p.done * (p.total - p.done):.0f} giây"
        text += f" · {p.label}"
        click.echo("\r" + text.ljust(self.width), nl=False, err=True)
        self.width = len(text)

    def clear(self) -> None:
        if self.width:
            click.echo("\r" + " " * self.width + "\r", nl=False, err=True)


def _run_build(app: App, stations: tuple[str, ...], script_only: bool, no_fetch: bool,
               refresh: bool, force: bool, jobs: int = 0) -> None:
    from broadcast import api

    config = app.config
    cron = app.quiet or not sys.stderr.isatty()

    def emit(message: str, err: bool = False) -> None:
        # Under cron every line carries its time, so a log of many nights reads on its own.
        if cron:
            message = f"{current_time().strftime('%Y-%m-%d %H:%M:%S')} {message}"
        click.echo(message, err=err)
        log.info("%s", message)

    if config.is_demo and not cron:
        app.say(f"Dùng cấu hình mẫu đi kèm ({config.path}).")
    progress = None if cron else ProgressLine()
    try:
        if script_only:
            report = api.draft(config, app.out_dir, app.date, app.now, stations, fetch=not no_fetch,
                               refresh=refresh, force=force, progress=progress)
        else:
            report = api.build(config, app.out_dir, app.date, app.now, stations, fetch=not no_fetch,
                               refresh=refresh, force=force, jobs=jobs, progress=progress)
    finally:
        if progress is not None:
            progress.clear()
    if not cron:
        for line in report.feed_lines:
            app.say(f"  nguồn tin: {line}")
    for r in report.results:
        if r.disk_full and report.disk_full:
            continue  # said once for all of them, below
        line, err = _station_line(r)
        emit(line if cron else f"  {line}", err=err)
    for w in report.warnings:
        emit(f"cảnh báo chung: {w}" if cron else f"  cảnh báo: {w}", err=True)
    if report.root_cause:
        emit(report.root_cause, err=True)
    if report.disk_full:
        emit(_disk_full_line(report), err=True)
    ok = [r for r in report.results if r.status not in ("failed", "busy")]
    verb = "soạn kịch bản" if script_only else "làm bản tin"
    summary = (f"Xong: {verb} {len(ok)}/{len(report.results)} đài trong {decimal(report.seconds, 1)} giây")
    if not script_only:
        summary += f"; đọc mới {report.speech_calls} đoạn, lấy lại từ bộ nhớ đệm {report.cache_hits} đoạn"
    emit(summary + ".")
    if report.disk_full:
        raise SystemExit(DiskFullError.exit_code)
    if report.failed:
        raise SystemExit(1)
    if report.busy:
        raise SystemExit(75)
    if report.no_news and not script_only:
        raise SystemExit(4)


def _disk_full_line(report) -> str:
    """One line for a run a full disk stopped: what happened, which bulletins wait, what to do."""
    waiting = [f"{r.station}{'-' + r.slot if r.slot else ''}" for r in report.results if r.disk_full]
    shown = ", ".join(waiting[:10]) + (f" và {len(waiting) - 10} bản tin khác" if len(waiting) > 10 else "")
    line = f"LỖI: {report.disk_full}"
    if waiting:
        line += (f" Lần chạy đã dừng: {len(waiting)}/{len(report.results)} bản tin chưa làm được ({shown}), "
                 "tệp cũ của chúng giữ nguyên; lần chạy sau chỉ làm các bản tin còn thiếu.")
    return line


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
@click.option("--jobs", type=cli_vi.IntRange(0, 64), default=0, metavar="SỐ",
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


PRIORITY_CHOICE = click.Choice(["normal", "priority", "emergency"])


@cli.command()
@click.argument("text", required=False, metavar="[VĂN_BẢN]")
@click.option("--file", "text_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Đọc nội dung thông báo từ tệp văn bản (UTF-8).")
@click.option("--station", "stations", multiple=True, metavar="MÃ_ĐÀI",
              help="Đài phát (có thể lặp lại). Bắt buộc khi cấu hình có nhiều đài, trừ khi dùng --all.")
@click.option("--all", "all_stations", is_flag=True, help="Phát cho mọi đài trong cấu hình.")
@click.option("--priority", type=PRIORITY_CHOICE, default="normal", show_default=True,
              help="Mức ưu tiên: normal (thường), priority (ưu tiên), emergency (khẩn cấp).")
@click.option("--from", "valid_from", callback=_parse_date, metavar="YYYY-MM-DD",
              help="Đọc trong các bản tin từ ngày này (mặc định: ngày của bản tin).")
@click.option("--to", "valid_to", callback=_parse_date, metavar="YYYY-MM-DD",
              help="Đọc trong các bản tin đến hết ngày này (mặc định: bằng --from).")
@click.option("--no-build", is_flag=True, help="Chỉ lưu thông báo để đọc trong các bản tin, không làm tệp riêng ngay.")
@click.option("--name", default=None, metavar="TÊN",
              help="Tên tệp (mặc định: thong-bao-<giờ phút>), ví dụ thong-bao-mua-lu.")
@click.option("--by", default="", metavar="TÊN", help="Người soạn thông báo (ghi vào lịch sử).")
@click.pass_obj
def notice(app: App, text: str | None, text_file: Path | None, stations: tuple[str, ...], all_stations: bool,
           priority: str, valid_from: dt.date | None, valid_to: dt.date | None, no_build: bool,
           name: str | None, by: str) -> None:
    """Lưu một thông báo của địa phương và làm ngay một bản tin riêng từ thông báo đó.

    Tệp riêng của thông báo đọc nội dung hai lần ("Xin nhắc lại"), có nhạc hiệu
    đầu và cuối. Thông báo còn được đọc trong các bản tin hằng ngày từ --from
    đến --to, mức khẩn cấp trước.

    Ví dụ: broadcast notice --station hoa-phu --priority emergency "Nước sông đang lên nhanh..."
    """
    from broadcast import api
    from broadcast.fsutil import read_staff_text

    if text_file is not None:
        text = read_staff_text(text_file, "tệp thông báo")
    if not text or not text.strip():
        raise click.UsageError("Chưa có nội dung thông báo: hãy gõ nội dung trong dấu ngoặc kép hoặc dùng --file TỆP.")
    result = api.notice(app.config, app.out_dir, text, stations, app.date, app.now, all_stations=all_stations,
                        priority=priority, valid_from=valid_from, valid_to=valid_to, build_now=not no_build,
                        name=name, by=by)
    until = result.valid_to or app.date
    app.say(f"Đã lưu thông báo số {result.notice_id} cho {len(result.stations)} đài, đọc trong bản tin "
            f"đến hết ngày {until.strftime('%d/%m/%Y')}.")
    for r in result.results:
        if r.status == "failed":
            click.echo(f"{r.station}: LỖI: {r.message}", err=True)
            continue
        for w in r.warnings:
            click.echo(f"cảnh báo: {w}", err=True)
        app.say(f"Đã tạo {r.audio} ({r.duration:.0f} giây).")
    if any(r.status == "failed" for r in result.results):
        raise SystemExit(1)


@cli.command()
@click.pass_obj
def fetch(app: App) -> None:
    """Tải tin từ mọi nguồn trong cấu hình và lưu lại (mỗi nguồn một dòng kết quả)."""
    from broadcast import api

    report = api.fetch(app.config, app.now)
    for line in report.lines:
        if line.status == "failed":
            click.echo(line.message, err=True)
        else:
            app.say(line.message)
    app.say(report.summary)
    if report.lines and all(l.status == "failed" for l in report.lines):
        raise SystemExit(1)


def _station_or_first(app: App, station_id: str | None) -> str:
    return station_id or app.config.stations[0].id


@cli.command()
@click.option("--station", "station_id", metavar="MÃ_ĐÀI", help="Đài cần xem (mặc định: đài đầu tiên trong cấu hình).")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON (danh sách tin).")
@click.option("--explain", is_flag=True, help="Giải thích điểm của từng tin: cụm từ khớp và chủ đề.")
@click.option("--all", "show_all", is_flag=True, help="In cả những tin chưa đạt ngưỡng liên quan.")
@click.pass_obj
def items(app: App, station_id: str | None, as_json: bool, explain: bool, show_all: bool) -> None:
    """Liệt kê các tin ứng viên cho bản tin của ngày, xếp theo thứ tự ưu tiên."""
    from broadcast import api

    found = api.candidates(app.config, _station_or_first(app, station_id), app.date, app.now, show_all=show_all)
    ranked = found.candidates
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
        app.say(_no_candidates(found, show_all))
        return
    for n, c in enumerate(ranked, 1):
        mark = "[chọn]" if c.selected else "      "
        when = c.published.astimezone(VN_TZ).strftime("%d/%m %H:%M") if c.published else "--/-- --:--"
        # Feed text as one line without control characters: a stored ESC must not drive the terminal.
        click.echo(f"{n:>3}. {mark} {decimal(c.score, 2):>6}  {when}  {one_line(c.title)}  ({one_line(', '.join(c.sources))})")
        if explain:
            click.echo(f"        chủ đề: {', '.join(found.topic_label(t) for t in c.topics) or '(không)'}")
            click.echo(f"        cụm từ: {one_line('; '.join(c.matches)) or '(không)'}")
            if c.reason:
                click.echo(f"        lý do: {one_line(c.reason)}")


def _no_candidates(found, show_all: bool) -> str:
    """What to do when a day has no candidate story: fetching helps only a day not yet over."""
    day = found.date.strftime("%d/%m/%Y")
    hint = "" if show_all else " Thêm --all để xem cả những tin chưa đạt ngưỡng liên quan."
    if found.day_passed:
        return (f"Ngày {day} đã qua và không có tin ứng viên nào trong số tin đã tải tới hết ngày đó; tải tin "
                f"bây giờ không thêm được tin cho ngày đã qua.{hint}")
    return f"Chưa có tin ứng viên nào cho ngày {day}. Hãy chạy 'broadcast fetch' để tải tin.{hint}"


# ---------------------------------------------------------------- the lifecycle


def _status_line(s) -> str:
    name = s.key.station + (f"-{s.key.slot}" if s.key.slot else "")
    parts = [f"{name:<24} {s.state.label}"]
    if s.duration:
        parts.append(f"{decimal(s.duration / 60, 1)} phút")
    if s.engines:
        parts.append("giọng: " + ", ".join(s.engines))
    if s.edited:
        parts.append("đã sửa tay")
    if s.approved:
        who = f" bởi {one_line(s.approved_by)}" if s.approved_by else ""
        when = f" lúc {s.approved_at.astimezone(VN_TZ).strftime('%H:%M %d/%m')}" if s.approved_at else ""
        parts.append(f"đã duyệt{who}{when}")
    if s.hold_reason:
        parts.append(f"lý do tạm dừng: {one_line(s.hold_reason)}")
    line = " | ".join(parts)
    return line + (f"\n{'':<25}→ {s.note}" if s.note else "")


@cli.command()
@click.option("--station", "stations", multiple=True, metavar="MÃ_ĐÀI", help="Chỉ xem đài này (có thể lặp lại).")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@click.pass_obj
def status(app: App, stations: tuple[str, ...], as_json: bool) -> None:
    """Xem tình trạng các bản tin của ngày: đã soạn, đã sửa, đã duyệt, đã làm âm thanh, tạm dừng, lỗi."""
    from broadcast import api

    found = api.status(app.config, app.out_dir, app.date, list(stations) or None)
    if as_json:
        click.echo(json.dumps([s.to_json() for s in found], ensure_ascii=False, indent=2))
        return
    app.say(f"Bản tin ngày {app.date.strftime('%d/%m/%Y')}:")
    for s in found:
        click.echo(_status_line(s))
        for w in s.warnings:
            click.echo(f"{'':<25}cảnh báo: {one_line(w)}")
        if s.failed_message:
            click.echo(f"{'':<25}lỗi: {one_line(s.failed_message)}")


@cli.command()
@click.argument("station_id", metavar="MÃ_ĐÀI")
@click.option("--slot", default="", metavar="BUỔI", help="Buổi phát (khi đài có nhiều buổi), ví dụ --slot sang.")
@click.option("--by", default="", metavar="TÊN", help="Người duyệt (ghi vào lịch sử). Mặc định: tên tài khoản máy.")
@click.pass_obj
def approve(app: App, station_id: str, slot: str, by: str) -> None:
    """Duyệt kịch bản hiện tại để bản tin được phát (nếu sửa sau khi duyệt thì phải duyệt lại)."""
    from broadcast import api

    result = api.approve(app.config, app.out_dir, station_id, app.date, app.now, slot=slot,
                         by=by or _login_name())
    click.echo(_status_line(result))


@cli.command()
@click.argument("station_id", metavar="MÃ_ĐÀI")
@click.option("--slot", default="", metavar="BUỔI", help="Buổi phát (khi đài có nhiều buổi), ví dụ --slot sang.")
@click.option("--by", default="", metavar="TÊN", help="Người tạm dừng (ghi vào lịch sử). Mặc định: tên tài khoản máy.")
@click.option("--reason", default="", metavar="LÝ_DO", help="Lý do tạm dừng.")
@click.pass_obj
def hold(app: App, station_id: str, slot: str, by: str, reason: str) -> None:
    """Tạm dừng một bản tin: không phát, không tính là đã phát (duyệt lại để phát)."""
    from broadcast import api

    result = api.hold(app.config, app.out_dir, station_id, app.date, app.now, slot=slot,
                      by=by or _login_name(), reason=reason)
    click.echo(_status_line(result))


@cli.command()
@click.argument("station_id", metavar="MÃ_ĐÀI")
@click.option("--slot", default="", metavar="BUỔI", help="Buổi phát (khi đài có nhiều buổi).")
@click.pass_obj
def diff(app: App, station_id: str, slot: str) -> None:
    """Xem những chỗ cán bộ đã sửa so với kịch bản soạn tự động."""
    from broadcast import api

    result = api.diff(app.config, app.out_dir, station_id, app.date, slot)
    if not result.generated:
        app.say("Không có bản soạn tự động để so sánh (kịch bản do cán bộ viết từ đầu).")
        return
    if not result.changed:
        app.say("Kịch bản chưa được sửa: giống hệt bản soạn tự động.")
        return
    color = sys.stdout.isatty()
    for line in result.lines:
        if color and line.startswith("+") and not line.startswith("+++"):
            click.secho(line, fg="green")
        elif color and line.startswith("-") and not line.startswith("---"):
            click.secho(line, fg="red")
        else:
            click.echo(line)


@cli.command()
@click.option("--station", "stations", multiple=True, metavar="MÃ_ĐÀI", help="Chỉ xem đài này (có thể lặp lại).")
@click.option("--from", "start", callback=_parse_date, metavar="YYYY-MM-DD",
              help="Từ ngày (mặc định: 30 ngày trước ngày của bản tin).")
@click.option("--to", "end", callback=_parse_date, metavar="YYYY-MM-DD", help="Đến ngày (mặc định: ngày của bản tin).")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@click.pass_obj
def history(app: App, stations: tuple[str, ...], start: dt.date | None, end: dt.date | None,
            as_json: bool) -> None:
    """Xem lịch sử các bản tin: trạng thái, tin đã phát, ai duyệt, ai sửa."""
    from broadcast import api

    end = end or app.date
    start = start or end - dt.timedelta(days=30)
    if start > end:
        raise click.BadParameter("ngày --from phải trước hoặc trùng ngày --to.")
    entries = api.history(app.config, start, end, list(stations) or None)
    if as_json:
        out = []
        for e in entries:
            d = e.status.to_json()
            d["items"] = e.items
            d["events"] = [dict(ev, date=ev["date"].isoformat(), at=ev["at"].isoformat() if ev["at"] else None)
                           for ev in e.events]
            out.append(d)
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if not entries:
        app.say(f"Không có bản tin nào từ {start.strftime('%d/%m/%Y')} đến {end.strftime('%d/%m/%Y')}.")
        return
    for e in entries:
        click.echo(f"{e.status.key.date.strftime('%d/%m/%Y')}  {_status_line(e.status)}")
        for item in e.items:
            click.echo(f"{'':<12}• {one_line(item['title'])} ({one_line(', '.join(item['sources']))})")
        for ev in e.events:
            who = f" ({one_line(ev['actor'])})" if ev["actor"] else ""
            click.echo(f"{'':<12}{ev['at'].astimezone(VN_TZ).strftime('%H:%M %d/%m')} {EVENT_WORDS.get(ev['action'], ev['action'])}"
                       f"{who}{': ' + one_line(ev['detail']) if ev['detail'] else ''}")


EVENT_WORDS = {"drafted": "soạn", "edited": "sửa", "approved": "duyệt", "held": "tạm dừng",
               "rendered": "làm âm thanh", "failed": "lỗi", "published": "phát hành"}


def _login_name() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # no login name on some service accounts
        return ""


@cli.command()
@click.option("--station", "station_id", required=True, metavar="MÃ_ĐÀI",
              help="Mã đài: chữ thường không dấu, số, '-' (ví dụ hoa-phu).")
@click.option("--name", required=True, metavar="TÊN", help="Tên đài, ví dụ \"Đài truyền thanh xã Hòa Phú\".")
@click.option("--commune", default="", metavar="XÃ", help="Tên xã, phường, ví dụ \"xã Hòa Phú\" (mặc định: lấy từ tên đài).")
@click.option("--phone", default="", metavar="SỐ", help="Số điện thoại đọc ở lời kết bản tin.")
@click.option("--province", default="Đắk Lắk", show_default=True, metavar="TỈNH",
              help="Tên tỉnh của đài (khóa province trong [general]).")
@click.option("--dir", "folder", type=click.Path(path_type=Path, file_okay=False), default=Path("."),
              metavar="THƯ_MỤC",
              help="Thư mục ghi tệp cấu hình (mặc định: thư mục hiện tại).")
@click.option("--force", is_flag=True, help="Ghi đè broadcast.toml đã có.")
@click.pass_obj
def init(app: App, station_id: str, name: str, commune: str, phone: str, province: str, folder: Path,
         force: bool) -> None:
    """Tạo tệp cấu hình broadcast.toml có chú thích cho một đài mới."""
    from broadcast import api

    written = api.init_config(folder, station_id, name, commune=commune, phone=phone, province=province,
                              overwrite=force)
    for path in written:
        app.say(f"Đã tạo {path}")
    app.say("Hãy mở broadcast.toml, sửa nguồn tin và thông tin của đài, rồi chạy 'broadcast doctor'.")


@cli.command()
@click.argument("text", required=False, metavar="[VĂN_BẢN]")
@click.option("--station", "station_id", metavar="MÃ_ĐÀI", help="Dùng thêm từ điển phát âm riêng của đài này.")
@click.option("--explain", "show_rules", is_flag=True,
              help="In thêm từng chữ đã đổi, quy tắc đã dùng và chữ cần nghe lại.")
@click.pass_obj
def normalize(app: App, text: str | None, station_id: str | None, show_rules: bool) -> None:
    """In cách đọc của một câu (hoặc từng dòng từ đầu vào chuẩn).

    Ví dụ: broadcast normalize "Quyết định số 3478/QĐ-UBND ngày 10/12/2021"
    """
    from broadcast.textnorm import explain, load_lexicon, normalize as norm, normalize_lines
    from broadcast.textnorm.explain import describe

    lexicon_path = None
    if station_id:
        lexicon_path = app.config.station(station_id).lexicon
    elif app.config_path or Path("broadcast.toml").exists():
        lexicon_path = app.config.lexicon
    lexicon = load_lexicon(lexicon_path)
    if text is not None:
        click.echo(norm(text, lexicon))
        if show_rules:
            click.echo("\n".join(describe(explain(text, lexicon))) or "  (không có chữ nào phải đổi)")
        return
    for written in _input_lines():
        click.echo(next(normalize_lines([written], lexicon)))
        if show_rules:
            for row in describe(explain(written, lexicon)):
                click.echo(row)


def _input_lines() -> Iterator[str]:
    """Lines of standard input as Notepad saves them: UTF-8 with or without BOM, or UTF-16 with BOM.

    Anything else stops with the line number instead of being read as nonsense,
    and a line is never longer than a staff text may be (`< /dev/zero` has no end).
    """
    from broadcast.fsutil import MAX_STAFF_TEXT_BYTES
    from broadcast.vitext import size_text

    raw = click.get_binary_stream("stdin")
    first = raw.readline(MAX_STAFF_TEXT_BYTES + 1)
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        data = first + raw.read(MAX_STAFF_TEXT_BYTES + 1 - len(first))
        if len(data) > MAX_STAFF_TEXT_BYTES:
            raise BroadcastError(f"Đầu vào dài hơn {size_text(MAX_STAFF_TEXT_BYTES)}: hãy chia thành tệp nhỏ hơn.")
        yield from data.decode("utf-16", errors="replace").splitlines()
        return
    line, number = first.removeprefix(codecs.BOM_UTF8), 1
    while line:
        if len(line) > MAX_STAFF_TEXT_BYTES:
            raise BroadcastError(f"Dòng {number} của đầu vào dài hơn {size_text(MAX_STAFF_TEXT_BYTES)}: "
                                 "hãy kiểm tra có chỉ nhầm tệp không.")
        try:
            yield line.decode("utf-8").rstrip("\n").rstrip("\r")
        except UnicodeDecodeError:
            raise BroadcastError(f"Dòng {number} của đầu vào không phải chữ mã UTF-8: hãy lưu tệp với bảng mã "
                                 "UTF-8 (Save As → Encoding: UTF-8) rồi chạy lại.") from None
        line, number = raw.readline(MAX_STAFF_TEXT_BYTES + 1), number + 1


@cli.command()
@click.option("--prune", is_flag=True, help="Xóa các đoạn đã lâu không dùng.")
@click.option("--older-than", default="30d", show_default=True, metavar="THỜI_GIAN",
              help="Cùng --prune: xóa đoạn không dùng quá thời gian này (ví dụ 30d: 30 ngày, 12h: 12 giờ, 2w: 2 tuần).")
@click.pass_obj
def cache(app: App, prune: bool, older_than: str) -> None:
    """Xem hoặc dọn bộ nhớ đệm giọng đọc (dùng chung cho mọi đài, mọi ngày)."""
    from broadcast import api
    from broadcast.speech import parse_age

    try:
        age = parse_age(older_than)
    except BroadcastError as exc:
        # Inside "Giá trị không hợp lệ cho --older-than: …" the sentence goes on in lower case.
        raise click.BadParameter(str(exc)[:1].lower() + str(exc)[1:], param_hint="--older-than") from None
    if prune:
        removed, freed = api.prune_speech_cache(app.config, app.out_dir, age, app.now)
        app.say(f"Đã xóa {removed} đoạn ({decimal(freed / 1e6, 1)} MB) không dùng quá {older_than}.")
    s = api.speech_cache_stats(app.config)
    app.say(f"Bộ nhớ đệm: {s.root}")
    app.say(f"  số đoạn: {s.entries}, dung lượng: {decimal(s.size_bytes / 1e6, 1)} MB")
    rate = s.last_run_hit_rate
    if rate is None:
        app.say("  chưa có lần chạy nào được ghi lại")
    else:
        app.say(f"  lần chạy gần nhất: {s.last_run_hits} đoạn lấy lại, {s.last_run_misses} đoạn đọc mới "
                f"(tỷ lệ dùng lại {rate * 100:.0f}%)")


@cli.command()
@click.option("--no-feeds", is_flag=True, help="Không thử tải các nguồn tin (máy không có mạng).")
@click.pass_obj
def doctor(app: App, no_feeds: bool) -> None:
    """Kiểm tra máy và mọi đài: ffmpeg, bộ đọc, nhạc hiệu, mẫu kịch bản, từ điển, nguồn tin, thư mục, đĩa."""
    from broadcast import api

    try:
        config = app.config
    except BroadcastError as exc:
        click.echo(f"[LỖI ] cấu hình: {exc}")
        raise SystemExit(2)
    ok_all = True
    for check in api.doctor(config, app.out_dir, app.now, check_feeds=not no_feeds):
        mark = "OK  " if check.ok else ("LỖI " if check.fatal else "chú ý")
        if check.ok and check.detail.startswith("không"):
            mark = "chú ý"
        click.echo(f"[{mark}] {check.name}: {check.detail}")
        if not check.ok and check.fatal:
            ok_all = False
    click.echo("Máy sẵn sàng làm bản tin." if ok_all else "Máy chưa thể làm bản tin: hãy sửa các mục LỖI ở trên.")
    if not ok_all:
        raise SystemExit(1)


@cli.command()
@click.option("--from", "start", callback=_parse_date, metavar="YYYY-MM-DD", help="Ngày đầu kỳ báo cáo.")
@click.option("--to", "end", callback=_parse_date, metavar="YYYY-MM-DD", help="Ngày cuối kỳ báo cáo.")
@click.option("--quarter", metavar="NĂM-QN", help="Cả một quý, ví dụ 2026-Q4.")
@click.option("--month", metavar="NĂM-THÁNG", help="Cả một tháng, ví dụ 2026-11.")
@click.option("--year", metavar="NĂM", help="Cả một năm, ví dụ 2026.")
@click.option("--station", "stations", multiple=True, metavar="MÃ_ĐÀI", help="Chỉ các đài này (có thể lặp lại).")
@click.option("--format", "fmt", default="md", show_default=True, metavar="ĐỊNH_DẠNG",
              help="md, csv, xlsx hoặc docx.")
@click.option("--output", type=OutputFile(), metavar="TỆP",
              help="Ghi vào tệp này (mặc định: in ra màn hình với md, csv; bắt buộc với xlsx, docx).")
@click.pass_obj
def report(app: App, start: dt.date | None, end: dt.date | None, quarter: str | None, month: str | None,
           year: str | None, stations: tuple[str, ...], fmt: str, output: Path | None) -> None:
    """Báo cáo kết quả tuyên truyền CCHC theo kỳ: từng đài và toàn tỉnh (theo mục IV.1 của Kế hoạch)."""
    from broadcast import api
    from broadcast.fsutil import atomic_write_bytes
    from broadcast.report import formats, parse_period, render

    if fmt not in formats():
        raise click.BadParameter(f"không có định dạng '{fmt}': hãy chọn một trong {', '.join(formats())}.",
                                param_hint="--format")
    first, last = parse_period(start=start, end=end, quarter=quarter, month=month, year=year)
    data = render(api.report(app.config, first, last, list(stations) or None,
                             today=app.now.astimezone(VN_TZ).date()), fmt)
    if output is None:
        if fmt in ("xlsx", "docx"):
            raise click.UsageError(f"Định dạng {fmt} cần --output TỆP.")
        click.echo(data.decode("utf-8-sig"), nl=False)
        return
    atomic_write_bytes(output, data)
    app.say(f"Đã ghi báo cáo {first.strftime('%d/%m/%Y')}–{last.strftime('%d/%m/%Y')} vào {output}.")


def _station(app: App, station_id: str | None):
    config = app.config
    return config.station(station_id) if station_id else config.stations[0]


@cli.command()
@click.option("--engine", "engine_name", metavar="TÊN", help="Chỉ liệt kê giọng của bộ đọc này.")
@click.option("--station", "station_id", metavar="MÃ_ĐÀI", help="Dùng cấu hình giọng của đài này (mặc định: đài đầu tiên trong cấu hình).")
@click.pass_obj
def voices(app: App, engine_name: str | None, station_id: str | None) -> None:
    """Liệt kê các giọng đọc của từng bộ đọc, và bộ đọc nào chưa dùng được trên máy này."""
    from broadcast.speech import list_voices

    for ev in list_voices(_station(app, station_id).tts, engine_name):
        state = "dùng được" if ev.unavailable is None else f"chưa dùng được: {ev.unavailable}"
        click.echo(f"{ev.engine} ({state})")
        if not ev.voices:
            click.echo("  (không có danh sách giọng)")
        for v in ev.voices:
            click.echo(f"  {v.id or '(mặc định)'}: {v.description}")


@cli.command()
@click.argument("text", metavar="CÂU")
@click.option("--engine", "engine_name", required=True, metavar="TÊN", help="Bộ đọc, ví dụ fpt, piper, espeak.")
@click.option("--voice", metavar="GIỌNG", help="Giọng của bộ đọc (xem lệnh 'broadcast voices').")
@click.option("--station", "station_id", metavar="MÃ_ĐÀI", help="Dùng cấu hình giọng của đài này (mặc định: đài đầu tiên trong cấu hình).")
@click.option("--output", "-o", "output", type=OutputFile(), metavar="TỆP",
              help="Tệp MP3 ghi ra (mặc định: mau-<bộ đọc>-<giọng>.mp3 trong thư mục hiện tại).")
@click.pass_obj
def say(app: App, text: str, engine_name: str, voice: str | None, station_id: str | None,
        output: Path | None) -> None:
    """Đọc thử một câu bằng bộ đọc và giọng đã chọn, ghi ra tệp MP3 ngắn để so sánh các giọng."""
    from broadcast.audio.ffmpeg import find_ffmpeg
    from broadcast.speech import say as say_sample

    find_ffmpeg()  # the sample is an MP3: say so before speaking, with the audio exit code
    if output is None:
        label = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{engine_name}-{voice}" if voice else engine_name).strip("-")
        output = Path(f"mau-{label}.mp3")
    station = _station(app, station_id)
    spoken = say_sample(station.tts, engine_name, voice, text, output,
                        cache_dir=app.config.data_dir / "speech-cache", lexicon=station.lexicon)
    who = f"{spoken.engine}, giọng {spoken.voice}" if spoken.voice else spoken.engine
    app.say(f"Đã ghi {output} ({decimal(spoken.duration, 1)} giây, {who}).")


# ---------------------------------------------------------------- publishing

PUBLISH_WORDS = {"delivered": "đã giao", "replaced": "đã giao, thay bản trước", "unchanged": "đã có, không gửi lại",
                 "failed": "LỖI", "withdrawn": "đã gỡ", "added": "đã thêm", "": ""}


@cli.command()
@click.option("--station", "stations", multiple=True, metavar="MÃ_ĐÀI",
              help="Chỉ phát hành cho đài này (có thể lặp lại). Mặc định: mọi đài.")
@click.option("--by", default="", metavar="TÊN", help="Người phát hành (ghi vào lịch sử). Mặc định: tên tài khoản máy.")
@click.pass_obj
def publish(app: App, stations: tuple[str, ...], by: str) -> None:
    """Phát hành các bản tin được phép phát của ngày: podcast và mọi nơi nhận đã khai báo.

    Mỗi phiên bản của bản tin chỉ được giao một lần; bản tin làm lại thay bản đã giao.
    Bản tin chờ duyệt (publish = "approved") hoặc đang tạm dừng không được giao.
    Mã thoát 1 khi có nơi nhận chưa nhận được (các nơi khác vẫn được giao).
    """
    from broadcast import api

    report = api.publish(app.config, app.out_dir, app.date, app.now, stations, actor=by or _login_name())
    cron = app.quiet or not sys.stderr.isatty()

    def emit(message: str, err: bool = False) -> None:
        # As in `build`: under cron every line carries its time; -q keeps only what went wrong.
        if app.quiet and not err:
            return
        if cron:
            message = f"{current_time().strftime('%Y-%m-%d %H:%M:%S')} {message.strip()}"
        click.echo(message, err=err)
        log.info("%s", message)

    for pub in report.publications:
        name = pub.key.station + (f"-{pub.key.slot}" if pub.key.slot else "")
        if pub.status in ("waiting", "held", "busy", "skipped") or (pub.status == "failed" and not pub.targets):
            emit(f"  {name}: {'LỖI: ' if pub.status == 'failed' else ''}{pub.message}",
                 err=pub.status in ("failed", "busy"))
            continue
        head = {"published": "đã phát hành", "unchanged": "đã phát hành trước đó, không đổi",
                "failed": "chưa phát hành xong"}[pub.status]
        emit(f"  {name}: {head} (phiên bản {pub.version})")
        if pub.podcast:
            emit(f"      {name}: podcast: {PUBLISH_WORDS.get(pub.podcast, pub.podcast)}")
        for t in pub.targets:
            text = f"      {name}: {t.target}: {PUBLISH_WORDS[t.result]}"
            if t.destination and t.result != "failed":
                text += f" → {t.destination}"
            if t.attempts > 1:
                text += f" (sau {t.attempts} lần thử)"
            if t.message:
                text += f": {t.message}"
            emit(text, err=t.result == "failed")
    for feed in report.feeds:
        emit(f"  podcast: đã ghi {feed}")
    for w in report.warnings:
        emit(f"  cảnh báo: {w}", err=True)
    failed = report.failed
    done = [p for p in report.publications if p.status in ("published", "unchanged")]
    emit(f"Xong: phát hành {len(done)}/{len(report.publications)} bản tin ngày {app.date.strftime('%d/%m/%Y')}"
         + (f"; {len(failed)} bản tin có nơi nhận lỗi (xem 'broadcast deliveries')." if failed else "."),
         err=bool(failed))
    if failed:
        raise SystemExit(1)


@cli.command()
@click.option("--station", "stations", multiple=True, metavar="MÃ_ĐÀI", help="Chỉ xem đài này (có thể lặp lại).")
@click.option("--days", type=cli_vi.IntRange(1, 3650), default=7, show_default=True, metavar="SỐ",
              help="Số ngày cần xem, tính lùi từ ngày của bản tin.")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@click.pass_obj
def deliveries(app: App, stations: tuple[str, ...], days: int, as_json: bool) -> None:
    """Xem nhật ký giao bản tin: bản tin nào, giao tới đâu, lúc nào, kết quả, mã kiểm tra."""
    from broadcast import api

    start = app.date - dt.timedelta(days=days - 1)
    records = api.deliveries(app.config, start, app.date, list(stations) or None)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in records], ensure_ascii=False, indent=2))
        return
    if not records:
        app.say(f"Chưa giao bản tin nào từ {start.strftime('%d/%m/%Y')} đến {app.date.strftime('%d/%m/%Y')}.")
        return
    for r in records:
        name = r.station + (f"-{r.slot}" if r.slot else "")
        when = r.at.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")
        line = (f"{when}  {name} {r.date.strftime('%d/%m')}  {r.target}: {PUBLISH_WORDS.get(r.result, r.result)}"
                f"  sha256 {r.checksum[:12]}  {decimal(r.size / 1e6, 1)} MB")
        if r.destination:
            line += f"  → {r.destination}"
        if r.attempts > 1:
            line += f"  ({r.attempts} lần thử)"
        if r.message:
            line += f"  {one_line(r.message)}"
        click.echo(line)


# ---------------------------------------------------------------- the review desk


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, metavar="ĐỊA_CHỈ",
              help="Địa chỉ lắng nghe. Địa chỉ khác 127.0.0.1 (mở ra mạng) cần có tài khoản trước.")
@click.option("--port", type=cli_vi.IntRange(0, 65535), default=8080, show_default=True, metavar="CỔNG",
              help="Cổng (0: chọn cổng trống bất kỳ).")
@click.option("--threads", type=cli_vi.IntRange(1, 64), default=4, show_default=True, metavar="SỐ",
              help="Số yêu cầu xử lý cùng lúc.")
@click.option("--behind-proxy", is_flag=True,
              help="Chạy sau một máy chủ HTTPS (nginx, Caddy, IIS) trên cùng máy: tin cậy tiêu đề X-Forwarded-Proto.")
@click.pass_obj
def serve(app: App, host: str, port: int, threads: int, behind_proxy: bool) -> None:
    """Mở bàn duyệt bản tin trên trình duyệt: đọc, nghe, sửa và duyệt bản tin.

    Mặc định chỉ máy này vào được (http://127.0.0.1:8080/). Để cán bộ các xã
    vào qua mạng: tạo tài khoản bằng "broadcast user add", rồi chạy với
    --host 0.0.0.0.
    """
    from broadcast.web import serve as run

    run(app.config, app.out_dir, current_time, host=host, port=port, threads=threads,
        behind_proxy=behind_proxy, announce=lambda line: click.echo(line))


@cli.group(cls=VietGroup)
def user() -> None:
    """Quản lý tài khoản của bàn duyệt bản tin."""


def _stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _read_password(password_stdin: bool) -> str:
    if password_stdin or not _stdin_is_terminal():
        # Without a terminal there is nobody to ask twice, and Python's fallback prompt
        # would print English warnings: read the first line, as --password-stdin does.
        line = click.get_text_stream("stdin", encoding="utf-8").readline()
        if not line and not password_stdin:
            raise click.UsageError("Không có màn hình để hỏi mật khẩu: hãy chạy lệnh trong cửa sổ dòng lệnh, "
                                   "hoặc đưa mật khẩu vào đầu vào chuẩn với --password-stdin.")
        return line.rstrip("\r\n")
    return click.prompt("Mật khẩu", hide_input=True, confirmation_prompt="Nhập lại mật khẩu")


@user.command("add")
@click.argument("name", metavar="TÊN")
@click.option("--station", "stations", multiple=True, metavar="MÃ_ĐÀI",
              help="Đài mà tài khoản này được xem và sửa (có thể lặp lại). Bắt buộc với vai trò staff.")
@click.option("--role", type=click.Choice(["staff", "province", "admin"]), default="staff", show_default=True,
              help="staff: cán bộ đài (chỉ đài của mình); province: cán bộ tỉnh (mọi đài, duyệt); "
                   "admin: quản trị (mọi đài, quản lý tài khoản).")
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu từ dòng đầu của đầu vào chuẩn (khi cài đặt tự động).")
@click.pass_obj
def user_add(app: App, name: str, stations: tuple[str, ...], role: str, password_stdin: bool) -> None:
    """Tạo tài khoản. Mật khẩu được hỏi trên màn hình (không hiện chữ) hoặc đọc từ --password-stdin."""
    from broadcast import api

    for station_id in stations:
        app.config.station(station_id)  # an unknown station is an error now, not a useless account
    password = _read_password(password_stdin)
    with api.accounts(app.config) as acc:
        created = acc.add(name, password, role, list(stations), app.now)
    where = ", ".join(created.stations) if created.stations else "mọi đài"
    app.say(f"Đã tạo tài khoản {created.name} ({created.role_label}; {where}).")


@user.command("list")
@click.pass_obj
def user_list(app: App) -> None:
    """Liệt kê các tài khoản."""
    from broadcast import api

    with api.accounts(app.config) as acc:
        found = acc.users()
    if not found:
        app.say("Chưa có tài khoản nào. Hãy tạo bằng lệnh 'broadcast user add TÊN --station MÃ_ĐÀI'.")
    for u in found:
        where = ", ".join(u.stations) if u.stations else "mọi đài"
        click.echo(f"{u.name:<24} {u.role_label:<12} {where}")


@user.command("passwd")
@click.argument("name", metavar="TÊN")
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu mới từ đầu vào chuẩn.")
@click.pass_obj
def user_passwd(app: App, name: str, password_stdin: bool) -> None:
    """Đổi mật khẩu của một tài khoản (các phiên đăng nhập đang mở của tài khoản đó bị đóng)."""
    from broadcast import api

    with api.accounts(app.config) as acc:
        acc.existing(name)  # before the prompt: no password typed twice for a name that is not there
    password = _read_password(password_stdin)
    with api.accounts(app.config) as acc:
        acc.set_password(name, password, app.now)
    app.say(f"Đã đổi mật khẩu của {name}.")


@user.command("remove")
@click.argument("name", metavar="TÊN")
@click.pass_obj
def user_remove(app: App, name: str) -> None:
    """Xóa một tài khoản."""
    from broadcast import api

    with api.accounts(app.config) as acc:
        acc.remove(name)
    app.say(f"Đã xóa tài khoản {name}.")


def _vietnam_time_formatter() -> logging.Formatter:
    """Stamp log-file lines in Vietnam time, like the lines printed for the operator, whatever the server's zone."""
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    formatter.converter = lambda seconds: dt.datetime.fromtimestamp(seconds, VN_TZ).timetuple()  # type: ignore[assignment, method-assign]
    return formatter


def _utf8_output() -> None:
    """Write UTF-8 whatever the stream's code page: cp1252 and the like have no Vietnamese letters.

    On Windows, output redirected to a file (Task Scheduler, `> nhat-ky.txt`) is
    in the ANSI code page, and the first Vietnamese letter would end the run.
    """
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None)
        if encoding and codecs.lookup(encoding).name != "utf-8" and hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")


def main() -> None:
    """Entry point of the `broadcast` command."""
    _utf8_output()
    cli(prog_name="broadcast")


if __name__ == "__main__":  # pragma: no cover
    main()
