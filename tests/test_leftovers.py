"""Defects found in the pipeline after the fact: a past day's candidates, template work, the playlist, holidays."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from broadcast import api
from broadcast.config import load_config
from broadcast.models import VN_TZ
from offline import offline_config

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
