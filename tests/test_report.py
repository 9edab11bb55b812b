"""The periodic report, checked figure by figure against a history built for real and then deleted from disk."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from broadcast import api
from broadcast.cli import cli
from broadcast.config import load_config
from broadcast.models import VN_TZ
from broadcast.report import parse_period, render
from broadcast.workspace import Workspace
from offline import offline_config

DATA = Path(__file__).parent / "data"
D1 = dt.date(2026, 10, 5)
DAYS = [D1 + dt.timedelta(days=i) for i in range(4)]


def at(day: dt.date, hour: int = 5) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), VN_TZ)


def cchc_seconds(manifest: Path) -> float:
    m = json.loads(manifest.read_text(encoding="utf-8"))
    return sum(s["end"] - s["start"] for s in m["segments"] if s["kind"] in ("item", "standing"))


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Four days of two stations, with what the report must say written down as it happens."""
    root = tmp_path_factory.mktemp("history")
    offline_config(root, '''
[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"
target_minutes = 2

[[stations]]
id = "ea-kao"
name = "Đài truyền thanh xã Ea Kao"
target_minutes = 2
publish = "approved"
''')
    config = load_config(root / "broadcast.toml")
    out = root / "audio_out"
    ws = Workspace(out, config.data_dir)
    expect = {"hoa-phu": {"items": 0, "seconds": 0.0, "edited": 0, "sources": 0},
              "ea-kao": {"items": 0, "seconds": 0.0, "edited": 0, "sources": 0}}

    def count_items(station: str, day: dt.date) -> int:
        return len(re.findall(r"^\[tin \d+\]", ws.paths(station, day).script.read_text(encoding="utf-8"), re.M))

    def aired(station: str, day: dt.date) -> None:
        expect[station]["items"] += count_items(station, day)
        expect[station]["seconds"] += cchc_seconds(ws.paths(station, day).manifest)

    # Day 1: both built; the approved-policy station airs only after approval. A priority notice is made by hand.
    assert not api.build(config, out, DAYS[0], at(DAYS[0])).failed
    api.approve(config, out, "ea-kao", DAYS[0], at(DAYS[0], 6), by="Hùng")
    aired("hoa-phu", DAYS[0])
    aired("ea-kao", DAYS[0])
    api.notice(config, out, "Chiều nay họp dân tại nhà văn hóa thôn 3.", ["hoa-phu"], DAYS[0], at(DAYS[0], 9),
               priority="priority")
    # An emergency notice stored for days 2 and 3 of hòa Phú.
    api.notice(config, out, "Mưa lớn, bà con không qua ngầm tràn.", ["hoa-phu"], DAYS[1], at(DAYS[0], 20),
               priority="emergency", valid_to=DAYS[2], build_now=False)
    # Day 2: staff delete the first story of hòa Phú; ea-kao is never approved.
    api.draft(config, out, DAYS[1], at(DAYS[1]))
    script = ws.paths("hoa-phu", DAYS[1]).script
    text = script.read_text(encoding="utf-8")
    m = re.search(r"\[tin 1\] (.*?)\n.*?(?=\n\[)", text, flags=re.S)
    deleted_title = m.group(1)
    script.write_text(text[:m.start()] + text[m.end():], encoding="utf-8")
    assert not api.build(config, out, DAYS[1], at(DAYS[1], 5)).failed
    aired("hoa-phu", DAYS[1])
    expect["hoa-phu"]["edited"] += 1
    # Day 3: hòa Phú held after rendering; ea-kao approved.
    assert not api.build(config, out, DAYS[2], at(DAYS[2])).failed
    api.hold(config, out, "hoa-phu", DAYS[2], at(DAYS[2], 6), by="Lan", reason="sai thông tin")
    api.approve(config, out, "ea-kao", DAYS[2], at(DAYS[2], 6), by="Hùng")
    aired("ea-kao", DAYS[2])
    # Day 4: nothing was made. Then retention removes every file.
    for child in out.iterdir():
        shutil.rmtree(child)
    return config, root, expect, deleted_title


def test_every_figure_matches_the_history(history):
    config, _, expect, deleted_title = history
    report = api.report(config, DAYS[0], DAYS[-1])
    by = {s.station: s for s in report.stations}
    hp, ek = by["hoa-phu"], by["ea-kao"]
    assert (hp.planned, hp.rendered, hp.aired) == (4, 3, 2)
    assert (ek.planned, ek.rendered, ek.aired) == (4, 3, 2)
    assert [(d, r) for d, _, r in hp.missing] == [(DAYS[2], "held"), (DAYS[3], "missing")]
    assert [(d, r) for d, _, r in ek.missing] == [(DAYS[1], "waiting"), (DAYS[3], "missing")]
    for station, rep in (("hoa-phu", hp), ("ea-kao", ek)):
        assert rep.items == expect[station]["items"] > 0
        assert rep.seconds == pytest.approx(expect[station]["seconds"], abs=0.01)
        assert rep.edited == expect[station]["edited"]
    assert ek.approved == 2 and hp.approved == 0
    # Day 2's emergency notice aired; day 3's was held with its bulletin; the hand-made notice counts too.
    assert hp.notices == {"emergency": 1, "priority": 1}
    assert ek.notices == {}
    assert hp.standing == 2 and ek.standing == 2
    assert set(hp.sources) == {"Cổng Thông tin điện tử tỉnh"}
    assert hp.engines == {"espeak": 3}
    assert sum(hp.topics.values()) >= hp.items
    total = report.total
    assert (total.planned, total.rendered, total.aired, total.items) == (8, 6, 4, hp.items + ek.items)
    assert report.ranking[0].coverage == 0.5
    history_titles = [i["title"] for e in api.history(config, DAYS[1], DAYS[1], ["hoa-phu"]) for i in e.items]
    assert deleted_title not in history_titles


def test_csv_has_a_row_per_station_and_the_province_total(history):
    config, root, expect, _ = history
    result = CliRunner().invoke(cli, ["--config", str(root / "broadcast.toml"), "report", "--from", "2026-10-05",
                                      "--to", "2026-10-08", "--format", "csv", "--output", str(root / "bc.csv")])
    assert result.exit_code == 0, result.output
    raw = (root / "bc.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["station"] for r in rows] == ["hoa-phu", "ea-kao", "TỔNG"]
    assert {"station", "bulletins", "items", "minutes"} <= set(rows[0])
    assert rows[0]["bulletins"] == "3" and rows[0]["items"] == str(expect["hoa-phu"]["items"])
    assert rows[-1]["bulletins"] == "6"
    assert int(rows[-1]["items"]) == expect["hoa-phu"]["items"] + expect["ea-kao"]["items"]
    minutes = (expect["hoa-phu"]["seconds"] + expect["ea-kao"]["seconds"]) / 60
    assert float(rows[-1]["minutes"]) == pytest.approx(minutes, abs=0.06)


def test_xlsx_and_docx_hold_the_same_tables(history):
    import docx
    import openpyxl

    config, _, expect, _ = history
    report = api.report(config, DAYS[0], DAYS[-1])
    wb = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))
    assert wb.sheetnames == ["Tổng hợp", "Chủ đề", "Chi tiết", "Buổi không phát", "Biểu đồ"]
    summary = list(wb["Tổng hợp"].iter_rows(min_row=3, values_only=True))
    assert [r[0] for r in summary] == ["hoa-phu", "ea-kao", "TỔNG"] or [r[0] for r in summary] == ["ea-kao", "hoa-phu", "TỔNG"]
    assert summary[-1][3] == 6 and summary[-1][4] == 4
    missing = list(wb["Buổi không phát"].iter_rows(min_row=3, values_only=True))
    assert ("hoa-phu", "07/10/2026", None, "tạm dừng") in missing
    assert len(wb["Biểu đồ"]._images) == 2
    document = docx.Document(io.BytesIO(render(report, "docx")))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "từ ngày 05/10/2026 đến ngày 08/10/2026" in text
    first = document.tables[0]
    cells = [[c.text for c in row.cells] for row in first.rows]
    assert cells[-1][0] == "TỔNG" and cells[-1][2] == "6" and cells[-1][3] == "4"
    assert len(document.inline_shapes) == 2


def test_markdown_writes_numbers_as_vietnamese_does(history):
    config, _, _, _ = history
    report = api.report(config, DAYS[0], DAYS[-1])
    rows = [line for line in render(report, "md").decode("utf-8").splitlines() if line.startswith("| TỔNG |")]
    cells = rows[0].strip("| ").split(" | ")
    minutes = f"{report.total.minutes:.1f}".replace(".", ",")
    assert cells[8] == minutes and cells[13] == "50,0", cells
    assert not any(re.fullmatch(r"\d+\.\d", c) for c in cells), cells


def test_periods():
    assert parse_period(quarter="2026-Q4") == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert parse_period(month="2026-02") == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert parse_period(year="2026") == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    with pytest.raises(Exception, match="quý dạng"):
        parse_period(quarter="2026-Q5")
    with pytest.raises(Exception, match="Chỉ chọn một"):
        parse_period(month="2026-11", year="2026")
