"""Defects found in the pipeline after the fact: a past day's candidates, template work, the playlist, holidays."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from broadcast import api
from broadcast.config import load_config
from broadcast.models import VN_TZ
from offline import PREAMBLE, offline_config

DAY = dt.date(2026, 3, 12)


def at(day: dt.date, hour: int = 5, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), VN_TZ)


def station(root: Path, extra: str = ""):
    """The configuration of one offline station, Hòa Phú, with `extra` lines in its table."""
    return load_config(offline_config(root, f'''
[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"
target_minutes = 3
{extra}
'''))


def rss(*items: tuple[str, str, dt.datetime]) -> str:
    """An RSS document of (title, summary, published) items."""
    body = "".join(
        f"<item><title>{title}</title><link>https://daklak.gov.vn/tin/{n}</link>"
        f"<pubDate>{published.strftime('%a, %d %b %Y %H:%M:%S %z')}</pubDate>"
        f"<description>{summary}</description></item>"
        for n, (title, summary, published) in enumerate(items))
    return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Tin tỉnh</title>'
            f"<link>https://daklak.gov.vn/</link><description>Tin</description>{body}</channel></rss>")


# ---------------------------------------------------------------- 1. a past day's candidates

KNOWN = ("Đắk Lắk: hơn 85% hồ sơ thủ tục hành chính được tiếp nhận trực tuyến",
         "Theo Sở Nội vụ, các cơ quan đã tiếp nhận 245.316 hồ sơ thủ tục hành chính, trong đó hơn 85% "
         "hồ sơ được nộp trực tuyến qua Cổng Dịch vụ công quốc gia.")
LATE = ("Vận hành Trung tâm Phục vụ hành chính công cấp xã theo cơ chế một cửa liên thông",
        "Toàn bộ xã, phường đã bố trí Bộ phận tiếp nhận và trả kết quả thủ tục hành chính theo cơ chế "
        "một cửa, một cửa liên thông; người dân nộp hồ sơ dịch vụ công trực tuyến tại nhà.")


def test_a_past_days_candidates_are_the_stories_known_that_day_as_its_bulletin_saw_them(tmp_path):
    config = station(tmp_path)
    feed = tmp_path / "tin.xml"
    day_before = at(DAY - dt.timedelta(days=1), 8)
    # The nightly fetch of DAY sees one story; another, dated later that day, is first fetched two days on
    # (the site was down, or its feed lists stories late).
    feed.write_text(rss((*KNOWN, day_before)), encoding="utf-8")
    api.fetch(config, at(DAY, 4, 30))
    feed.write_text(rss((*KNOWN, day_before), (*LATE, at(DAY, 10))), encoding="utf-8")
    later = DAY + dt.timedelta(days=2)
    api.fetch(config, at(later, 9))

    looked_up = at(DAY + dt.timedelta(days=3), 10)
    past = [c.title for c in api.candidates(config, "hoa-phu", DAY, looked_up).candidates]
    assert past == [KNOWN[0]], past
    # The late story is a candidate from the day it became known.
    assert LATE[0] in [c.title for c in api.candidates(config, "hoa-phu", later, looked_up).candidates]

    # A rebuild of the past day chooses from the same stories: one rule for both.
    out = tmp_path / "audio_out"
    report = api.draft(config, out, DAY, looked_up, fetch=False)
    assert not report.failed, [r.message for r in report.failed]
    script = (out / DAY.isoformat() / "hoa-phu.txt").read_text(encoding="utf-8")
    assert KNOWN[0] in script and LATE[0] not in script


# ---------------------------------------------------------------- 2. template work

# Nine million loop turns that write nothing: no output limit ever trips.
SILENT_LOOPS = ("[mở đầu]\nXin chào bà con.\n"
                "{% for i in range(3000) %}{% for j in range(3000) %}{% endfor %}{% endfor %}\n")
# No loop at all: a macro that calls itself twice, 2^40 calls, writing nothing.
SILENT_CALLS = ("{% macro twice(n) %}{% if n %}{{ twice(n - 1) }}{{ twice(n - 1) }}{% endif %}{% endmacro %}"
                "[mở đầu]\nXin chào bà con.{{ twice(40) }}\n")


def test_a_template_that_loops_without_writing_is_stopped_and_the_last_good_script_kept(tmp_path):
    config = station(tmp_path, 'templates = "mau-hoa-phu"')
    folder = tmp_path / "mau-hoa-phu"
    folder.mkdir()
    out = tmp_path / "audio_out"
    report = api.draft(config, out, DAY, at(DAY))
    assert not report.failed, [r.message for r in report.failed]
    script = out / DAY.isoformat() / "hoa-phu.txt"
    good = script.read_bytes()

    for hostile in (SILENT_LOOPS, SILENT_CALLS):
        (folder / "ban-tin.txt.j2").write_text(hostile, encoding="utf-8")
        report = api.draft(config, out, DAY, at(DAY, 5, 10), fetch=False, refresh=True)
        (failed,) = report.failed
        assert failed.message.count("\n") == 0 and "Traceback" not in failed.message
        assert "Mẫu kịch bản bị dừng vì phải lặp quá nhiều" in failed.message, failed.message
        assert "Kịch bản đã có được giữ nguyên" in failed.message
        assert script.read_bytes() == good


def test_the_bundled_templates_render_a_full_bulletin_within_the_budget(tmp_path):
    from broadcast import script
    from broadcast.models import Candidate

    items = [Candidate(id=n, title=f"Tin thứ {n} về thủ tục hành chính", summary="Người dân nộp hồ sơ trực tuyến.",
                       link="https://daklak.gov.vn/tin", sources=["Báo Đắk Lắk", "Cổng tỉnh"], feeds=["tinh"],
                       published=None, first_seen=None, score=3.0, topics=["tthc"], matches=[])
             for n in range(1, 41)]
    ctx = script.ScriptContext(station_name="Đài truyền thanh xã Hòa Phú", date=DAY, items=items,
                               standing="Thông điệp.", notices=[f"Thông báo {n}." for n in range(20)],
                               slot_time="06:00", commune="xã Hòa Phú", phone="0262.3868123")
    text = script.render_script(ctx)
    assert "[tin 40]" in text and "[thông báo 20]" in text


# ---------------------------------------------------------------- 3. the playlist across processes

# A nightly build of one station that stops, as the render of its new audio is about to start, until told to go on.
PAUSED_BUILD = textwrap.dedent('''
    import datetime as dt, sys, time
    from pathlib import Path
    from broadcast import api
    from broadcast.config import load_config

    config, out, flags = load_config(Path(sys.argv[1])), Path(sys.argv[2]), Path(sys.argv[3])

    def progress(p):
        if p.stage == "audio" and p.label.startswith("hoa-phu"):
            (flags / "paused").touch()
            for _ in range(6000):  # a bound, not a timing assumption: the test says go long before
                if (flags / "go").exists():
                    return
                time.sleep(0.05)
            sys.exit("never told to go on")

    report = api.build(config, out, dt.date(2026, 3, 12),
                       dt.datetime(2026, 3, 12, 5, 30, tzinfo=dt.timezone(dt.timedelta(hours=7))),
                       ["hoa-phu"], fetch=False, jobs=1, progress=progress)
    sys.exit(1 if report.failed else 0)
''')

APPROVE = textwrap.dedent('''
    import datetime as dt, sys
    from pathlib import Path
    from broadcast import api
    from broadcast.config import load_config

    api.approve(load_config(Path(sys.argv[1])), Path(sys.argv[2]), sys.argv[3], dt.date(2026, 3, 12),
                dt.datetime(2026, 3, 12, 5, 31, tzinfo=dt.timezone(dt.timedelta(hours=7))), by="Chị Lan")
''')


def two_stations(hoa_phu_audio: str = "") -> str:
    """Two stations that air only approved bulletins; Hòa Phú last, so `hoa_phu_audio` lines are its own."""
    return f'''
[[stations]]
id = "ea-tieu"
name = "Đài truyền thanh xã Ea Tiêu"
target_minutes = 1
publish = "approved"

[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"
target_minutes = 1
publish = "approved"
{hoa_phu_audio}
'''


def playlist(out: Path) -> list[str]:
    return [line for line in (out / DAY.isoformat() / "playlist.m3u").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]


def wait_for(path: Path, process: subprocess.Popen) -> None:
    """Wait until a process has made `path` (or has ended, which fails the test)."""
    for _ in range(6000):
        if path.exists():
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError(f"{path.name} never appeared")


def test_approving_one_station_while_another_process_remakes_a_bulletin_never_lists_the_one_being_replaced(tmp_path):
    config_path = offline_config(tmp_path, two_stations())
    config = load_config(config_path)
    out = tmp_path / "audio_out"
    report = api.build(config, out, DAY, at(DAY), jobs=1)
    assert not report.failed, [r.message for r in report.failed]
    for sid in ("hoa-phu", "ea-tieu"):
        api.approve(config, out, sid, DAY, at(DAY, 5, 5), by="Chị Lan")
    assert sorted(playlist(out)) == ["ea-tieu.mp3", "hoa-phu.mp3"]
    approved_audio = (out / DAY.isoformat() / "hoa-phu.mp3").read_bytes()

    # The operator changes Hòa Phú's pauses: its approved script stays, its audio is made again.
    changed = tmp_path / "doi-nhip.toml"
    changed.write_text(PREAMBLE + two_stations("[stations.audio]\npause_ms = 900\n"), encoding="utf-8")
    flags = tmp_path / "flags"
    flags.mkdir()
    build = subprocess.Popen([sys.executable, "-c", PAUSED_BUILD, str(changed), str(out), str(flags)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(flags / "paused", build)
        assert playlist(out) == ["ea-tieu.mp3"]
        # Meanwhile staff approve Ea Tiêu in another process, which writes the day's playlist again.
        approve = subprocess.run([sys.executable, "-c", APPROVE, str(config_path), str(out), "ea-tieu"],
                                 capture_output=True, text=True, timeout=600)
        assert approve.returncode == 0, approve.stderr
        assert playlist(out) == ["ea-tieu.mp3"], "a bulletin whose audio is being replaced is listed again"
        (remaking,) = api.status(config, out, DAY, ["hoa-phu"])
        assert not remaking.may_air and remaking.note.startswith("đang làm lại âm thanh: chưa có trong danh sách phát")
    finally:
        (flags / "go").touch()
        stdout, stderr = build.communicate(timeout=600)
    assert build.returncode == 0, stderr
    # Its new audio is recorded and still approved: it plays again.
    assert sorted(playlist(out)) == ["ea-tieu.mp3", "hoa-phu.mp3"]
    assert (out / DAY.isoformat() / "hoa-phu.mp3").read_bytes() != approved_audio


# ---------------------------------------------------------------- 4. holidays of the lunar calendar

# Published dates: Tết; the last days of Ất Tỵ and the first of Bính Ngọ as the 2026 holiday notices give them;
# Giỗ Tổ 2025 (Monday 7 April, month 3 of 30 days from 29 March); Ất Tỵ's leap sixth month (25/7–22/8/2025).
LUNAR_FACTS = [
    (dt.date(2024, 2, 10), (2024, 1, 1, False)),
    (dt.date(2025, 1, 29), (2025, 1, 1, False)),
    (dt.date(2026, 2, 17), (2026, 1, 1, False)),
    (dt.date(2026, 2, 14), (2025, 12, 27, False)),
    (dt.date(2026, 2, 16), (2025, 12, 29, False)),
    (dt.date(2026, 2, 22), (2026, 1, 6, False)),
    (dt.date(2025, 3, 29), (2025, 3, 1, False)),
    (dt.date(2025, 4, 7), (2025, 3, 10, False)),
    (dt.date(2025, 6, 25), (2025, 6, 1, False)),
    (dt.date(2025, 7, 24), (2025, 6, 30, False)),
    (dt.date(2025, 7, 25), (2025, 6, 1, True)),
    (dt.date(2025, 8, 22), (2025, 6, 29, True)),
    (dt.date(2025, 8, 23), (2025, 7, 1, False)),
]


def test_the_lunar_calendar_is_vietnams_on_published_dates():
    from broadcast.lunar import to_lunar

    for solar, (year, month, day, leap) in LUNAR_FACTS:
        got = to_lunar(solar)
        assert (got.year, got.month, got.day, got.leap) == (year, month, day, leap), solar


def test_every_day_of_this_century_has_one_lunar_date_that_follows_the_calendars_rules():
    from broadcast.lunar import to_lunar

    day, previous = dt.date(2000, 1, 1), to_lunar(dt.date(1999, 12, 31))
    new_years, month_starts, leap_months = [], 0, {}
    while day <= dt.date(2100, 12, 31):
        moon = to_lunar(day)
        if moon.day == 1:
            # A month is 29 or 30 days and follows the one before: the same number once when it is the leap one.
            assert previous.day == previous.month_days in (29, 30), (day, previous)
            assert (moon.month == previous.month and moon.leap and not previous.leap
                    or moon.month == previous.month % 12 + 1 and not moon.leap), (day, moon, previous)
            month_starts += 1
            if moon.leap:
                leap_months[moon.year] = leap_months.get(moon.year, 0) + 1
            if moon.month == 1 and not moon.leap:
                new_years.append(day)
        else:
            assert (moon.year, moon.month, moon.leap, moon.day) == (
                previous.year, previous.month, previous.leap, previous.day + 1), day
        day, previous = day + dt.timedelta(days=1), moon
    # Tết falls between 21 January and 20 February; a lunar year has 12 or 13 months, so 353 to 385 days.
    assert [d.year for d in new_years] == list(range(2000, 2101))
    assert all(dt.date(d.year, 1, 21) <= d <= dt.date(d.year, 2, 20) for d in new_years)
    assert all(353 <= (b - a).days <= 385 for a, b in zip(new_years, new_years[1:]))
    assert set(leap_months.values()) == {1} and 36 <= len(leap_months) <= 38  # 7 leap years in 19


def test_tet_2007_is_a_day_earlier_in_vietnam_than_in_china():
    from broadcast.lunar import new_moon_ut, to_lunar

    # Vietnam's calendar counts days in UTC+7: the new moon of 17 February 2007, 16:14 UTC, fell at 23:14 in
    # Hanoi and 00:14 on the 18th in Beijing. Tết was the 17th in Vietnam, the 18th in China.
    assert (to_lunar(dt.date(2007, 2, 17)).month, to_lunar(dt.date(2007, 2, 17)).day) == (1, 1)
    assert to_lunar(dt.date(2007, 2, 16)).month == 12
    k = round((2454149 - 2451550) / 29.530588861)  # the lunation nearest JD 2454149 (17 Feb 2007)
    moment = dt.datetime(2000, 1, 1, 12, tzinfo=dt.timezone.utc) + dt.timedelta(days=new_moon_ut(k) - 2451545.0)
    assert moment.astimezone(dt.timezone(dt.timedelta(hours=7))).date() == dt.date(2007, 2, 17)
    assert moment.astimezone(dt.timezone(dt.timedelta(hours=8))).date() == dt.date(2007, 2, 18)


def test_the_greeting_names_tet_gio_to_and_both_days_of_national_day():
    from broadcast.script import ScriptContext, holiday, render_script

    expected = {
        dt.date(2026, 2, 16): "ngày cuối cùng của năm Ất Tỵ",
        dt.date(2026, 2, 17): "mùng Một Tết Nguyên đán Bính Ngọ",
        dt.date(2026, 2, 21): "mùng Năm Tết Nguyên đán Bính Ngọ",
        dt.date(2026, 2, 22): "",
        dt.date(2025, 1, 28): "ngày cuối cùng của năm Giáp Thìn",
        dt.date(2024, 2, 10): "mùng Một Tết Nguyên đán Giáp Thìn",
        dt.date(2025, 4, 7): "ngày Giỗ Tổ Hùng Vương, mùng Mười tháng Ba âm lịch",
        dt.date(2025, 4, 8): "",
        dt.date(2026, 9, 1): "ngày nghỉ lễ Quốc khánh nước Cộng hòa xã hội chủ nghĩa Việt Nam",
        dt.date(2026, 9, 3): "",
        dt.date(2024, 9, 3): "ngày nghỉ lễ Quốc khánh nước Cộng hòa xã hội chủ nghĩa Việt Nam",
        dt.date(2024, 9, 1): "",
        dt.date(2026, 9, 2): "ngày Quốc khánh nước Cộng hòa xã hội chủ nghĩa Việt Nam",
        dt.date(2026, 5, 1): "ngày Quốc tế Lao động",
        DAY: "",
    }
    assert {day: holiday(day) for day in expected} == expected
    ctx = ScriptContext(station_name="Đài truyền thanh xã Hòa Phú", date=dt.date(2026, 2, 17), items=[],
                        standing="")
    assert ", mùng Một Tết Nguyên đán Bính Ngọ.\n" in render_script(ctx)


# ---------------------------------------------------------------- 5. today inside the library

def test_the_library_takes_no_time_or_working_folder_from_anywhere_but_its_callers():
    # test_packaging looks for now()/today()/time.time(); the same clock hides in time.strftime(fmt) and its
    # kin, and the working folder in Path("."). Only the command line and __main__ may read them.
    import re

    root = Path(__file__).resolve().parent.parent / "broadcast"
    reads = re.compile(r"""\btime\.(?:strftime|localtime|gmtime|ctime|asctime)\(|\bPath\(\s*["']\.?["']\s*\)""")
    adapters = {"cli.py", "cli_vi.py", "__main__.py"}
    found = [f"{path.relative_to(root).as_posix()}:{n}: {line.strip()}"
             for path in sorted(root.rglob("*.py")) if path.relative_to(root).as_posix() not in adapters
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if reads.search(line)]
    assert not found, "\n".join(found)
