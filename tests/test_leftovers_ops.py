"""The province operator's leftovers: the report after a remake, a full disk at night, a past day's stories,
the notice cap, the desk's render records and the National Day table.

Real SQLite, real espeak and ffmpeg, real processes where the operator meets them; the clock is fixed
(`now` for the library, BROADCAST_NOW for the command line), never today's date.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from broadcast import api
from broadcast.cli import cli
from broadcast.config import load_config
from broadcast.models import VN_TZ
from offline import offline_config
from test_ops_qa import at, cron, station


def run(config: Path, now: dt.datetime, *args: str):
    """One run of the CLI as staff type it, the clock fixed."""
    return CliRunner().invoke(cli, ["--config", str(config), "--out", str(config.parent / "audio_out"), *args],
                              env={"BROADCAST_NOW": now.isoformat()})


def drop_log_file(path: Path) -> None:
    """Close the --log-file handler a CLI run in this process left on the root logger."""
    for handler in logging.getLogger().handlers[:]:
        if getattr(handler, "baseFilename", "") == str(path):
            logging.getLogger().removeHandler(handler)
            handler.close()


# ---------------------------------------------------------------- 3. a past day's stories


def test_items_of_a_past_day_without_stories_does_not_send_staff_to_fetch(tmp_path):
    config = offline_config(tmp_path, station("xa-a"))
    (tmp_path / "tin.xml").unlink()  # nothing was ever fetched
    asked = at(dt.date(2026, 10, 5), 9)
    past = run(config, asked, "items", "--date", "2026-10-01")
    assert past.exit_code == 0, past.output
    assert "broadcast fetch" not in past.output, past.output
    assert "01/10/2026" in past.output and "đã qua" in past.output, past.output
    # Today fetching still helps, and is still suggested.
    today = run(config, asked, "items")
    assert today.exit_code == 0 and "broadcast fetch" in today.output, today.output


# ---------------------------------------------------------------- 6. the National Day table


def test_the_national_day_table_is_checked_against_the_date_it_is_given():
    from broadcast.script import NATIONAL_DAY_SECOND, national_day_table_warning

    last = max(NATIONAL_DAY_SECOND)
    assert national_day_table_warning(dt.date(last, 12, 31)) == ""
    line = national_day_table_warning(dt.date(last + 1, 1, 1))
    assert str(last) in line and str(last + 1) in line and "Quốc khánh" in line and "README" in line, line


def test_a_run_past_the_national_day_tables_last_year_says_so_once_in_the_log(tmp_path):
    from broadcast.script import NATIONAL_DAY_SECOND

    config = offline_config(tmp_path, station("xa-a") + station("xa-b"))
    log_file = tmp_path / "nhat-ky" / "build.log"
    late = dt.date(max(NATIONAL_DAY_SECOND) + 1, 3, 2)
    try:
        result = cron(config, at(late), "script", "--log-file", str(log_file))
        current = cron(config, at(late.replace(year=max(NATIONAL_DAY_SECOND))), "script",
                       "--log-file", str(log_file))
    finally:
        drop_log_file(log_file)
    assert result.exit_code in (0, 4), result.output
    assert current.exit_code in (0, 4), current.output
    lines = [l for l in log_file.read_text(encoding="utf-8").splitlines() if "Quốc khánh" in l]
    assert len(lines) == 1, lines
    assert str(late.year) in lines[0] and "cảnh báo" in lines[0]


# ---------------------------------------------------------------- 4. notices a day


def stored_notices(config) -> int:
    with api.open_store(config) as store:
        return store.db.execute("SELECT COUNT(*) FROM notices").fetchone()[0]


def test_a_station_gets_at_most_the_daily_number_of_notices_stored(tmp_path):
    config_path = offline_config(tmp_path, station("xa-a") + station("xa-b"))
    config = load_config(config_path)
    out = tmp_path / "audio_out"
    day = dt.date(2026, 10, 5)
    for n in range(api.NOTICES_PER_DAY - 1):
        api.notice(config, out, f"Thông báo số {n}: họp dân tại nhà văn hóa thôn.", ["xa-a"], day, at(day, 8),
                   build_now=False)
    # One for every station, read over three days, takes the last place of the day.
    api.notice(config, out, "Tuần lễ tiêm chủng.", [], day, at(day, 8), all_stations=True, build_now=False,
               valid_from=day - dt.timedelta(days=1), valid_to=day + dt.timedelta(days=1))
    with pytest.raises(api.NoticeLimitError) as refused:
        api.notice(config, out, "Thêm một thông báo nữa.", ["xa-a"], day, at(day, 9), build_now=False,
                   valid_from=day - dt.timedelta(days=3), valid_to=day + dt.timedelta(days=3))
    message = str(refused.value)
    assert "Đài xa-a ngày 05/10/2026 đã có" in message and str(api.NOTICES_PER_DAY) in message and "gộp" in message, message
    assert stored_notices(config) == api.NOTICES_PER_DAY
    # The same notice again is not a new one; another station and another day still have room.
    api.notice(config, out, "Thông báo số 0: họp dân tại nhà văn hóa thôn.", ["xa-a"], day, at(day, 9),
               build_now=False)
    api.notice(config, out, "Thêm một thông báo nữa.", ["xa-b"], day, at(day, 9), build_now=False)
    api.notice(config, out, "Thêm một thông báo nữa.", ["xa-a"], day, at(day, 9), build_now=False,
               valid_from=day + dt.timedelta(days=2))
    assert stored_notices(config) == api.NOTICES_PER_DAY + 2

    # On the command line: one line, nothing stored.
    result = cron(config_path, at(day, 10), "notice", "--station", "xa-a", "--no-build", "--date", "2026-10-05",
                  "Thông báo thứ hai mươi mốt.")
    assert result.exit_code == 1, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Lỗi: Đài xa-a") and "mức tối đa" in line, line
    assert stored_notices(config) == api.NOTICES_PER_DAY + 2


def fill_notice_bulletins(config, sid: str, day: dt.date) -> None:
    """The day's one-off notice bulletins, as many as a day may have (claimed in the store as a post does)."""
    with api.open_store(config) as store:
        for n in range(api.NOTICES_PER_DAY):
            assert store.claim_bulletin(sid, day, f"thong-bao-08{n:02d}", at(day, 8), "notice")


def test_one_off_notice_bulletins_stop_at_the_daily_number_on_the_desk_too(tmp_path):
    from test_attacks2_desk import Clock, desk_in_process, error_line, form_value, log_in, make_light_site
    from test_web import NOW

    from broadcast.web.app import DeskSettings

    root = tmp_path / "site"
    root.mkdir()
    make_light_site(root)
    config = load_config(root / "broadcast.toml")
    day = NOW.astimezone(VN_TZ).date()
    fill_notice_bulletins(config, "hoa-phu", day)
    with pytest.raises(api.NoticeLimitError) as refused:
        api.notice(config, root / "audio_out", "Nước sông đang lên nhanh.", ["hoa-phu"], day, NOW,
                   priority="emergency")
    assert "Làm lại âm thanh" in str(refused.value)
    assert stored_notices(config) == 0
    with desk_in_process(root, Clock(NOW), DeskSettings()) as base:
        def post(name: str, sid: str, priority: str, text: str):
            s = log_in(base, name)
            page = s.get(f"{base}/stations/{sid}/notices", timeout=30)
            return s.post(f"{base}/stations/{sid}/notices", data={
                "csrf_token": form_value(page.text, "csrf_token"), "priority": priority, "text": text},
                allow_redirects=False, timeout=60)

        resp = post("lan", "hoa-phu", "emergency", "Bà con chú ý: nước sông đang lên nhanh.")
        assert resp.status_code == 429, resp.text[:500]
        assert "mức tối đa mỗi ngày" in error_line(resp)
        # The other commune's staff still post theirs.
        resp = post("hung", "ea-tieu", "normal", "Họp dân thôn 3.")
        assert resp.status_code == 302, resp.text[:500]
    assert stored_notices(config) == 1
    assert not list((root / "audio_out").rglob("hoa-phu-thong-bao*.mp3"))


# ---------------------------------------------------------------- 5. the desk's record of render jobs


def test_the_desks_record_of_renders_keeps_what_is_still_needed_and_no_more(tmp_path):
    import threading
    import time

    from test_attacks2_desk import Clock, form_value, log_in, make_light_site
    from test_web import NOW
    from werkzeug.serving import make_server

    from broadcast.web.app import RENDER_RESULT_KEPT, RENDER_RESULTS, create_app

    root = tmp_path / "site"
    root.mkdir()
    make_light_site(root)
    clock = Clock(NOW)
    app = create_app(load_config(root / "broadcast.toml"), root / "audio_out", clock)
    jobs = app.extensions["broadcast.render_jobs"]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"

    def remake(day: dt.date) -> None:
        # A day without a script: the render ends at once with "Chưa có kịch bản", its record stays.
        resp = lan.post(f"{base}/stations/hoa-phu/{day.isoformat()}/render", data={"csrf_token": token},
                        allow_redirects=False, timeout=30)
        assert resp.status_code == 302, resp.text[:500]
        deadline = time.monotonic() + 30
        while not all(j.done for j in list(jobs.values())):
            assert time.monotonic() < deadline, "the render never ended"
            time.sleep(0.02)
        clock.now += dt.timedelta(seconds=1)

    try:
        lan = log_in(base, "lan")
        token = form_value(lan.get(f"{base}/stations/hoa-phu/notices", timeout=30).text, "csrf_token")
        first = dt.date(2026, 1, 1)
        days = [first + dt.timedelta(days=n) for n in range(RENDER_RESULTS + 15)]
        for day in days:
            remake(day)
        assert len(jobs) == RENDER_RESULTS, len(jobs)
        # The newest results are those kept: their pages still say why the render ended.
        last = lan.get(f"{base}/stations/hoa-phu/{days[-1].isoformat()}/render", timeout=30)
        assert "Chưa có kịch bản" in last.text
        assert (("hoa-phu", days[-1].isoformat(), "") in jobs and ("hoa-phu", days[0].isoformat(), "") not in jobs)
        # Once nobody can still be waiting for them, old results go.
        clock.now += RENDER_RESULT_KEPT + dt.timedelta(minutes=1)
        remake(first - dt.timedelta(days=1))
        assert list(jobs) == [("hoa-phu", (first - dt.timedelta(days=1)).isoformat(), "")]
    finally:
        server.shutdown()


# ---------------------------------------------------------------- 1. the report after a remake


def test_report_says_what_was_delivered_before_a_bulletin_was_changed_after_approval(tmp_path):
    import docx
    import openpyxl

    from broadcast.report import render

    target = '[[stations.deliver]]\nkind = "folder"\npath = "giao/{}"\n'
    config_path = offline_config(tmp_path, station("xa-a", 'publish = "approved"\n' + target.format("xa-a"))
                                 + station("xa-b", 'publish = "approved"\n' + target.format("xa-b"))
                                 + station("xa-c", 'publish = "approved"'))
    config = load_config(config_path)
    out = tmp_path / "audio_out"
    day = dt.date(2026, 10, 5)
    assert not api.build(config, out, day, at(day)).failed
    # xa-a is approved and delivered; xa-c approved (it has nowhere to deliver to); xa-b is never approved.
    for sid in ("xa-a", "xa-c"):
        api.approve(config, out, sid, day, at(day, 6), by="Lan")
    api.publish(config, out, day, at(day, 6, 5))
    assert [p.suffix for p in (tmp_path / "giao" / "xa-a").iterdir()] == [".mp3"]
    assert not (tmp_path / "giao" / "xa-b").exists()
    # Later that morning staff change both approved scripts and remake their audio; nobody approves again.
    for sid in ("xa-a", "xa-c"):
        script = out / day.isoformat() / f"{sid}.txt"
        text = script.read_text(encoding="utf-8").replace("[kết thúc]\n", "[kết thúc]\nXin cảm ơn bà con.\n", 1)
        api.save_script(config, out, sid, day, text, at(day, 9), by="Lan")
        assert not api.render(config, out, sid, day, at(day, 9, 5), actor="Lan").failed

    # Staff asking about xa-a now are told the same.
    assert api.bulletin_status(config, out, "xa-a", day).note == (
        "chờ duyệt bản sửa; bản đã duyệt trước đó đã được phát hành lúc 06:05 05/10/2026 (nơi nhận có thể đang "
        "phát bản đó)")
    assert api.bulletin_status(config, out, "xa-c", day).note.startswith("chờ duyệt:")

    delivered = "bản đã duyệt đã được phát hành (nơi nhận có thể đã phát), sau đó kịch bản bị sửa; bản sửa chưa được duyệt"
    changed = "đã được duyệt, sau đó kịch bản bị sửa; bản sửa chưa được duyệt"
    expected = {"xa-a": delivered, "xa-b": "chưa được duyệt", "xa-c": changed}
    report = api.report(config, day, day, today=day)
    md = render(report, "md").decode("utf-8")
    for sid, reason in expected.items():
        assert f"| {sid} | 05/10/2026 |  | {reason} |" in md, md
    cli_md = cron(config_path, at(day, 10), "report", "--from", day.isoformat(), "--to", day.isoformat())
    assert cli_md.exit_code == 0 and f"| xa-a | 05/10/2026 |  | {delivered} |" in cli_md.output, cli_md.output

    document = docx.Document(io.BytesIO(render(report, "docx")))
    rows = {tuple(c.text for c in row.cells) for t in document.tables for row in t.rows}
    assert {(sid, "05/10/2026", "", reason) for sid, reason in expected.items()} <= rows, rows
    book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))
    sheet = [tuple("" if v is None else v for v in r) for r in book["Buổi không phát"].iter_rows(values_only=True)]
    assert {(sid, "05/10/2026", "", reason) for sid, reason in expected.items()} <= set(sheet), sheet
    # The CSV counts: none of the three may air now, xa-a was delivered once, none is approved as it stands.
    rows_csv = {r["station"]: r for r in csv.DictReader(io.StringIO(render(report, "csv").decode("utf-8-sig")))}
    assert [(rows_csv[s]["aired"], rows_csv[s]["days_without"], rows_csv[s]["approved"]) for s in expected] \
        == [("0", "1", "0")] * 3


# ---------------------------------------------------------------- 2. a full disk at night


@pytest.fixture
def small_disk(tmp_path):
    """Mount a tmpfs of a few MB at a folder (root only); yields mount(folder) and fill(folder, keep_bytes)."""
    import errno
    import os
    import subprocess

    mounted: list[Path] = []

    def mount(folder: Path, size: str = "24m") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                                               capture_output=True).returncode != 0:
            pytest.skip("a small filesystem needs root and mount")
        mounted.append(folder)

    def fill(folder: Path, keep: int = 0) -> Path:
        """Fill the filesystem of `folder` until fewer than `keep` bytes are free; return the filler file."""
        filler = folder / "filler.bin"
        with open(filler, "ab") as fh:
            try:
                while os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize > keep:
                    fh.write(b"\0" * 4096)
                    fh.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        return filler

    try:
        yield mount, fill
    finally:
        for folder in mounted:
            subprocess.run(["umount", "-l", str(folder)], check=False)


def files_of(day_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in day_dir.iterdir() if p.is_file()}


def built_on_a_small_disk(tmp_path: Path, small_disk, sids: list[str]) -> tuple[Path, Path, dt.date, Path]:
    """Bulletins of these stations built on a small disk of their own; then the stations are renamed, so a
    refresh would write every file again. Returns the configuration, output folder, day and day folder."""
    config_path = offline_config(tmp_path, "".join(station(s) for s in sids))
    out = tmp_path / "audio_out"
    small_disk[0](out)
    day = dt.date(2026, 10, 5)
    assert not api.build(load_config(config_path), out, day, at(day)).failed
    assert {f"{s}.mp3" for s in sids} <= {p.name for p in (out / day.isoformat()).iterdir()}
    config_path.write_text(config_path.read_text(encoding="utf-8").replace("Đài truyền thanh", "Đài phát thanh"),
                           encoding="utf-8")
    return config_path, out, day, out / day.isoformat()


def test_a_full_disk_stops_the_nightly_run_says_so_once_and_keeps_the_last_good_files(tmp_path, small_disk):
    import os
    import subprocess
    import sys

    fill = small_disk[1]
    sids = ["xa-a", "xa-b", "xa-c", "xa-d", "xa-e"]
    config_path, out, day, day_dir = built_on_a_small_disk(tmp_path, small_disk, sids)
    good = files_of(day_dir)
    # The operator's nightly refresh finds the bulletin disk full.
    filler = fill(out)
    log_file = tmp_path / "nhat-ky" / "build.log"
    env = {**os.environ, "BROADCAST_NOW": at(day, 4, 45).isoformat()}
    run_ = subprocess.run([sys.executable, "-m", "broadcast", "--config", str(config_path), "--out", str(out), "-q",
                           "--date", day.isoformat(), "build", "--refresh", "--no-fetch", "--log-file", str(log_file)],
                          capture_output=True, text=True, env=env, timeout=300)
    said = (run_.stdout + run_.stderr).splitlines()
    assert run_.returncode == 74, said
    full = [l for l in said if "dung lượng" in l]
    assert len(full) == 1, said
    line = full[0]
    assert "LỖI: Hết dung lượng đĩa" in line and "giải phóng dung lượng" in line, line
    assert "5/5 bản tin chưa làm được" in line and all(s in line for s in sids), line
    assert not [l for l in said if "LỖI" in l and l is not line], said
    assert run_.stdout.splitlines()[-1].split(" ", 2)[2].startswith("Xong: làm bản tin 0/5 đài"), said
    # The last good bulletins are there byte for byte, and nothing half-written beside them.
    filler.unlink()
    assert files_of(day_dir) == good
    assert not [p.name for p in day_dir.iterdir() if p.name.startswith(".")]
    # `grep LỖI nhat-ky/build.log` finds it once.
    logged = [l for l in log_file.read_text(encoding="utf-8").splitlines() if "LỖI" in l]
    assert len(logged) == 1 and "Hết dung lượng đĩa" in logged[0] and "5/5" in logged[0], logged

    # With space again, the same command makes them all.
    again = subprocess.run([sys.executable, "-m", "broadcast", "--config", str(config_path), "--out", str(out), "-q",
                            "--date", day.isoformat(), "build", "--refresh", "--no-fetch"],
                           capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode in (0, 4), again.stdout + again.stderr
    assert all("Đài phát thanh" in (day_dir / f"{s}.txt").read_text(encoding="utf-8") for s in sids)


@pytest.mark.parametrize("jobs", [1, 2], ids=["in-process", "workers"])
def test_a_disk_that_fills_while_audio_is_made_starts_no_more_renders(tmp_path, small_disk, jobs):
    fill = small_disk[1]
    sids = ["xa-a", "xa-b", "xa-c", "xa-d"]
    config_path, out, day, day_dir = built_on_a_small_disk(tmp_path, small_disk, sids)
    audio = {s: (day_dir / f"{s}.mp3").read_bytes() for s in sids}
    assert min(len(a) for a in audio.values()) > 200_000
    # Room for the new scripts, not for one more bulletin's audio.
    filler = fill(out, keep=100_000)
    report = api.build(load_config(config_path), out, day, at(day, 4, 45), fetch=False, refresh=True, jobs=jobs)
    assert report.disk_full.startswith("Hết dung lượng đĩa"), report.disk_full
    assert [r.disk_full for r in report.results] == [True] * 4, [(r.station, r.message) for r in report.results]
    # In one process, one render met the full disk and the others were never started; workers may have
    # started a few already.
    met = [r.message for r in report.results if r.message != "chưa làm vì hết dung lượng đĩa"]
    assert met[0] == report.disk_full and all(m.startswith("Hết dung lượng đĩa") for m in met), met
    if jobs == 1:
        assert len(met) == 1, met
    filler.unlink()
    assert {s: (day_dir / f"{s}.mp3").read_bytes() for s in sids} == audio
    assert not [p.name for p in day_dir.iterdir() if p.name.startswith(".")]
    # The old audio still airs, and says so: nothing is listed that is not there.
    listed = [l for l in (day_dir / "playlist.m3u").read_text(encoding="utf-8").splitlines() if l.endswith(".mp3")]
    assert sorted(Path(l).name for l in listed) == [f"{s}.mp3" for s in sids]
