"""The province operator's path: many stations on one server, cron runs, overlaps, retention and the report.

Real espeak, real ffmpeg, real SQLite; the CLI clock is fixed with BROADCAST_NOW.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from click.testing import CliRunner

from broadcast import api
from broadcast.cli import cli
from broadcast.config import load_config
from broadcast.models import VN_TZ
from broadcast.workspace import Workspace
from offline import offline_config


def station(sid: str, extra: str = "") -> str:
    return f'''
[[stations]]
id = "{sid}"
name = "Đài truyền thanh xã {sid}"
target_minutes = 1
{extra}
'''


def at(day: dt.date, hour: int = 4, minute: int = 30) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), VN_TZ)


def cron(config: Path, now: dt.datetime, *args: str):
    """One run of the CLI as cron starts it: no terminal, -q, the clock fixed."""
    return CliRunner().invoke(cli, ["--config", str(config), "--out", str(config.parent / "audio_out"), "-q",
                                    *args], env={"BROADCAST_NOW": now.isoformat()})


def csv_rows(output: str) -> dict[str, dict[str, str]]:
    return {r["station"]: r for r in csv.DictReader(io.StringIO(output.lstrip("\ufeff")))}


def test_report_asked_mid_month_does_not_count_the_days_still_to_come(tmp_path):
    # Bulletins on 30/09 and 01/10; the report is asked on the morning of 01/10.
    config = offline_config(tmp_path, station("xa-a"))
    for day in (dt.date(2026, 9, 30), dt.date(2026, 10, 1)):
        assert cron(config, at(day), "build").exit_code in (0, 4)
    asked = at(dt.date(2026, 10, 1), 8)

    october = cron(config, asked, "report", "--month", "2026-10", "--format", "csv")
    assert october.exit_code == 0, october.output
    row = csv_rows(october.output)["xa-a"]
    assert (row["planned"], row["aired"], row["days_without"], row["coverage"]) == ("1", "1", "0", "100.0")

    # Across the month end: both days planned, both aired.
    across = cron(config, asked, "report", "--from", "2026-09-30", "--to", "2026-10-01", "--format", "csv")
    row = csv_rows(across.output)["xa-a"]
    assert (row["planned"], row["aired"], row["days_without"]) == ("2", "2", "0")

    # September is over: its plan starts at the first bulletin and ends with the month.
    september = cron(config, asked, "report", "--month", "2026-09", "--format", "csv")
    row = csv_rows(september.output)["xa-a"]
    assert (row["planned"], row["aired"]) == ("1", "1")

    # The Markdown says how far the figures go.
    text = cron(config, asked, "report", "--month", "2026-10").output
    assert "số liệu đến hết ngày 01/10/2026" in text
    assert "| xa-a | 02/10/2026" not in text  # tomorrow is not listed as a day without a bulletin


def test_one_station_without_a_usable_voice_fails_alone(tmp_path, monkeypatch):
    monkeypatch.delenv("OPSQA_NO_SUCH_KEY", raising=False)
    config = offline_config(tmp_path, station("xa-a") + station("xa-b", '''
[stations.tts]
engine = "fpt"
[stations.tts.fpt]
key_env = "OPSQA_NO_SUCH_KEY"
''') + station("xa-c"))
    day = dt.date(2026, 10, 5)
    result = cron(config, at(day), "build")
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    (bad,) = [l for l in lines if " xa-b: " in l]
    assert "LỖI: Không có bộ đọc nào dùng được cho đài xa-b" in bad and "OPSQA_NO_SUCH_KEY" in bad
    out = tmp_path / "audio_out" / day.isoformat()
    assert (out / "xa-a.mp3").stat().st_size > 10_000 and (out / "xa-c.mp3").stat().st_size > 10_000
    assert not (out / "xa-b.mp3").exists()
    assert "Xong: làm bản tin 2/3 đài" in result.output
    # The report gives the reason for the day xa-b did not air.
    rep = {s.station: s for s in api.report(load_config(config), day, day, today=day).stations}
    assert rep["xa-b"].missing == [(day, "", "failed")] and rep["xa-a"].aired == 1

    # Built alone, the station has no sound at all: nothing is touched, exit 3 as documented.
    alone = cron(config, at(day, 5), "build", "--station", "xa-b")
    assert alone.exit_code == 3, alone.output


def test_a_run_overlapping_another_neither_waits_for_nor_warns_about_its_bulletins(tmp_path):
    config_path = offline_config(tmp_path, station("xa-a") + station("xa-b"))
    config = load_config(config_path)
    out = tmp_path / "audio_out"
    day = dt.date(2026, 10, 5)
    # The nightly run made both yesterday's... and is now making xa-a's bulletin of the day again.
    assert not api.build(config, out, day, at(day)).failed
    ws = Workspace(out, config.data_dir)
    with ws.bulletin_lock("xa-a", day):
        report = api.build(config, out, day, at(day, 7), refresh=True, force=True)
    by = {r.station: r.status for r in report.results}
    assert by == {"xa-a": "busy", "xa-b": by["xa-b"]} and by["xa-b"] in ("built", "unchanged")
    assert not [w for w in report.warnings if "xa-a" in w], report.warnings


def test_report_names_a_failure_that_came_before_any_script(tmp_path):
    config = offline_config(tmp_path, station("xa-a") + station("xa-b", 'notices_file = "khong-co.toml"'))
    day = dt.date(2026, 10, 5)
    result = cron(config, at(day), "build")
    assert result.exit_code == 1 and "xa-b: LỖI: Không thấy tệp thông báo" in result.output, result.output
    assert not (tmp_path / "audio_out" / day.isoformat() / "xa-b.txt").exists()
    text = cron(config, at(day, 9), "report", "--from", day.isoformat(), "--to", day.isoformat()).output
    assert "| xa-b | 05/10/2026 |  | lỗi khi làm bản tin |" in text, text


def test_a_typo_in_one_stations_table_costs_that_station_alone(tmp_path):
    config = offline_config(tmp_path, station("xa-a") + station("xa-b", "target_minuts = 3") + station("xa-c"))
    day = dt.date(2026, 10, 5)
    result = cron(config, at(day), "build")
    assert result.exit_code == 1, result.output
    (bad,) = [l for l in result.output.splitlines() if " xa-b: " in l]
    assert "LỖI: cấu hình của đài sai nên chưa làm bản tin" in bad and "stations[1].target_minuts" in bad
    out = tmp_path / "audio_out" / day.isoformat()
    assert (out / "xa-a.mp3").exists() and (out / "xa-c.mp3").exists() and not (out / "xa-b.txt").exists()
    assert "Xong: làm bản tin 2/3 đài" in result.output

    # Naming the station is a configuration error (exit 2) with the same key.
    alone = cron(config, at(day, 5), "build", "--station", "xa-b")
    assert alone.exit_code == 2 and "target_minuts" in alone.output, alone.output
    # Other commands work for the other stations and say once which station is left out.
    status = CliRunner().invoke(cli, ["--config", str(config), "--out", str(tmp_path / "audio_out"), "--date",
                                      day.isoformat(), "status"], env={"BROADCAST_NOW": at(day, 8).isoformat()})
    assert status.exit_code == 0, status.output
    assert status.output.count("bỏ qua đài xa-b vì cấu hình của đài sai") == 1
    doctor = cron(config, at(day, 8), "doctor")
    assert doctor.exit_code == 1 and "đài xa-b: cấu hình" in doctor.output, doctor.output

    # When no station is left, the whole configuration is wrong: exit 2 as before.
    only_bad = offline_config(tmp_path / "x" if (tmp_path / "x").mkdir() is None else tmp_path,
                              station("xa-b", "target_minuts = 3"))
    assert cron(only_bad, at(day), "build").exit_code == 2


def test_retention_removes_the_lock_files_of_removed_days_and_keeps_the_records(tmp_path):
    config_path = offline_config(tmp_path, station("xa-a") + "\n[audio]\nretention_days = 2\n")
    config = load_config(config_path)
    out = tmp_path / "audio_out"
    old, today = dt.date(2026, 9, 28), dt.date(2026, 10, 5)
    assert not api.build(config, out, old, at(old)).failed
    locks = config.data_dir / "locks"
    assert (locks / f"xa-a-{old}.lock").exists() and (locks / f"playlist-{old}.lock").exists()
    # A lock another run holds right now stays.
    ws = Workspace(out, config.data_dir)
    with ws.bulletin_lock("xa-b", old):
        assert not api.build(config, out, today, at(today)).failed
    names = {p.name for p in locks.iterdir()}
    assert f"xa-a-{old}.lock" not in names and f"playlist-{old}.lock" not in names
    assert f"xa-b-{old}.lock" in names
    assert f"xa-a-{today}.lock" in names and "feeds.lock" in names
    assert not (out / old.isoformat()).exists()
    # The records stay: the report still sees the old day aired.
    (row,) = api.report(config, old, old, today=today).stations
    assert (row.planned, row.aired) == (1, 1)


def test_a_station_whose_only_feed_is_broken_is_told_so_on_its_own_line(tmp_path):
    from httpserver import FeedServer, Route

    with FeedServer() as server:
        server.routes["/tin-xa.xml"] = Route(status=404, body=b"not found", content_type="text/html")
        config = offline_config(tmp_path, f'''
[[feeds]]
name = "tin-xa"
url = "{server.url('/tin-xa.xml')}"
''' + station("xa-a") + station("xa-b", 'feeds = ["tin-xa"]'))
        result = cron(config, at(dt.date(2026, 3, 12), 5), "build")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    (b,) = [l for l in lines if " xa-b: " in l]
    assert "Không có tin mới vì mọi nguồn tin của đài (tin-xa) đều không tải được lần này" in b, b
    (a,) = [l for l in lines if " xa-a: " in l]
    assert "không có tin" not in a and "tin-xa" not in a, a
    assert sum("Nguồn tin 'tin-xa'" in l for l in lines) == 1


def test_the_reason_a_cron_run_stopped_is_in_the_log_file(tmp_path):
    import logging

    config = offline_config(tmp_path, "[general]\nfetch_timout = 5\n" + station("xa-a"))
    config.write_text(config.read_text(encoding="utf-8").replace('[general]\ndata_dir = "data"\n', ""),
                      encoding="utf-8")
    log_file = tmp_path / "nhat-ky" / "build.log"
    try:
        result = cron(config, at(dt.date(2026, 10, 5)), "build", "--log-file", str(log_file))
    finally:
        for handler in logging.getLogger().handlers[:]:
            if getattr(handler, "baseFilename", "") == str(log_file):
                logging.getLogger().removeHandler(handler)
                handler.close()
    assert result.exit_code == 2, result.output
    (line,) = [l for l in log_file.read_text(encoding="utf-8").splitlines() if "fetch_timout" in l]
    assert "ERROR" in line and "Lỗi:" in line and "general.fetch_timout" in line
    assert result.output.count("fetch_timout") == 1  # said once on stderr, not twice


def test_report_tables_for_readers_write_decimals_with_a_comma(tmp_path):
    import docx

    from broadcast.report import render

    config_path = offline_config(tmp_path, station("xa-a"))
    config = load_config(config_path)
    day = dt.date(2026, 10, 5)
    assert not api.build(config, tmp_path / "audio_out", day, at(day)).failed
    report = api.report(config, day, day, today=day)
    minutes = f"{report.total.minutes:.1f}".replace(".", ",")
    md = render(report, "md").decode("utf-8")
    assert f"| {minutes} | 1 | 0 | 0 | 0 | 100,0 |" in md, md
    document = docx.Document(io.BytesIO(render(report, "docx")))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert "100,0" in cells and minutes in cells
    assert not [c for c in cells if c.replace(".", "", 1).isdigit() and "." in c], cells
    # The CSV stays for machines: a decimal point.
    assert ",100.0\r\n" in render(report, "csv").decode("utf-8-sig")


def test_a_station_that_started_after_the_period_has_no_rate_rather_than_zero(tmp_path):
    config_path = offline_config(tmp_path, station("xa-a") + station("xa-b"))
    config = load_config(config_path)
    out = tmp_path / "audio_out"
    early, late = dt.date(2026, 10, 5), dt.date(2026, 10, 10)
    assert not api.build(config, out, early, at(early), ["xa-a"]).failed
    assert not api.build(config, out, late, at(late)).failed
    # xa-b had its first bulletin on 10/10: the week of 01–07/10 plans nothing for it.
    result = cron(config_path, at(dt.date(2026, 10, 12), 8), "report", "--from", "2026-10-01", "--to", "2026-10-07",
                  "--format", "csv")
    rows = csv_rows(result.output)
    assert (rows["xa-b"]["planned"], rows["xa-b"]["aired"], rows["xa-b"]["coverage"]) == ("0", "0", "—")
    assert (rows["xa-a"]["planned"], rows["xa-a"]["coverage"]) == ("3", "33.3")
    md = cron(config_path, at(dt.date(2026, 10, 12), 8), "report", "--from", "2026-10-01", "--to", "2026-10-07").output
    assert "| xa-b | Đài truyền thanh xã xa-b | 0 | 0 | 0 | 0 | 0 | 0 | 0,0 | 0 | 0 | 0 | 0 | — |" in md, md


def test_report_says_a_bulletin_held_after_it_was_delivered_may_have_aired(tmp_path):
    config_path = offline_config(tmp_path, station("xa-a", '[[stations.deliver]]\nkind = "folder"\npath = "giao/xa-a"\n')
                                 + station("xa-b"))
    config = load_config(config_path)
    out = tmp_path / "audio_out"
    day = dt.date(2026, 10, 5)
    assert not api.build(config, out, day, at(day)).failed
    assert [p.suffix for p in (tmp_path / "giao" / "xa-a").iterdir()] == [".mp3"]  # delivered at 04:30
    api.hold(config, out, "xa-a", day, at(day, 9), by="Tỉnh", reason="sai số liệu")
    # xa-b was never delivered anywhere (no target): a hold is just "tạm dừng".
    api.hold(config, out, "xa-b", day, at(day, 9), by="Tỉnh")
    report = {s.station: s for s in api.report(config, day, day, today=day).stations}
    assert report["xa-a"].missing == [(day, "", "held_published")]
    assert report["xa-b"].missing == [(day, "", "held")]
    result = cron(config_path, at(day, 10), "report", "--from", day.isoformat(), "--to", day.isoformat())
    assert "| xa-a | 05/10/2026 |  | tạm dừng sau khi đã phát hành (nơi nhận có thể đã phát) |" in result.output
    assert "| xa-b | 05/10/2026 |  | tạm dừng |" in result.output


def test_a_station_left_out_for_a_typo_never_gets_its_unapproved_bulletin_into_the_playlist(tmp_path):
    approved = 'publish = "approved"'
    config_path = offline_config(tmp_path, station("xa-a") + station("xa-b", approved))
    day = dt.date(2026, 10, 5)
    assert cron(config_path, at(day), "build").exit_code in (0, 4)
    playlist = tmp_path / "audio_out" / day.isoformat() / "playlist.m3u"
    assert "xa-a.mp3" in playlist.read_text(encoding="utf-8")
    assert "xa-b.mp3" not in playlist.read_text(encoding="utf-8")  # waiting for approval
    # Someone mistypes a key in xa-b's table; the next run of the day rewrites the playlist.
    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(text.replace(approved, approved + "\ntarget_minuts = 2"), encoding="utf-8")
    result = cron(config_path, at(day, 6), "build", "--refresh", "--force")
    assert result.exit_code == 1 and "xa-b: LỖI" in result.output, result.output
    assert "xa-b.mp3" not in playlist.read_text(encoding="utf-8")
    assert "xa-a.mp3" in playlist.read_text(encoding="utf-8")
