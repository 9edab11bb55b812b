"""What the project writes for others to read (podcast feed and page, office reports) stays well-formed
whatever characters a feed, a local item or a stored record carried. Real SQLite, real files, and the
written documents parsed back by real XML, XLSX and DOCX readers."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from broadcast.config import load_config
from broadcast.models import VN_TZ
from broadcast.publish import podcast
from broadcast.publish.records import Episode, save_episode
from broadcast.report import Report, StationReport, render
from broadcast.store import Store
from broadcast.workspace import Workspace

DAY = dt.date(2026, 3, 12)
NOW = dt.datetime(2026, 3, 12, 6, 0, tzinfo=VN_TZ)
# A story title as stored before titles were cleaned of control characters, and one no XML can hold.
DIRTY = "Dịch vụ công\x1b[2J trực tuyến\x08 toàn trình\ufffe"


def test_the_podcast_is_written_even_when_a_stored_title_carries_control_characters(tmp_path: Path) -> None:
    (tmp_path / "broadcast.toml").write_text('''
[general]
data_dir = "data"

[publish]
base_url = "https://truyenthanh.example.vn/bantin/"

[[feeds]]
name = "tinh"
url = "tin.xml"

[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"
''', encoding="utf-8")
    config = load_config(tmp_path / "broadcast.toml")
    out = tmp_path / "audio_out"
    (out / DAY.isoformat()).mkdir(parents=True)
    mp3 = b"ID3" + bytes(4000)
    (out / DAY.isoformat() / "hoa-phu.mp3").write_bytes(mp3)
    version = "0" * 16 + "." + "1" * 16
    store = Store(config.data_dir / "broadcast.sqlite3")
    try:
        save_episode(store, Episode(
            station="hoa-phu", date=DAY, slot="", guid=podcast.guid_for("hoa-phu", DAY, "", version), version=version,
            title="Bản tin cải cách hành chính ngày 12/03/2026\x07", description=f"Các tin: {DIRTY}.",
            audio=f"{DAY.isoformat()}/hoa-phu.mp3", size=len(mp3), duration=61.0,
            checksum=hashlib.sha256(mp3).hexdigest(), published_at=NOW))
        feed = podcast.write_station(config, Workspace(out, config.data_dir), store, config.stations[0], NOW)
    finally:
        store.close()
    root = ET.fromstring(feed.read_bytes())
    (item,) = root.iter("item")
    description = item.findtext("description")
    assert "Dịch vụ công" in description and "toàn trình" in description
    assert not any(ord(ch) < 32 or ch in "\ufffe\uffff" for ch in description)
    page = podcast.page_path(Workspace(out, config.data_dir), "hoa-phu").read_text(encoding="utf-8")
    assert "\x1b" not in page and "\x08" not in page and "toàn trình" in page


def test_the_xlsx_report_survives_a_source_name_no_xml_can_hold() -> None:
    openpyxl = pytest.importorskip("openpyxl")
    pytest.importorskip("matplotlib")
    # A listing page's <title> names the source when the configuration does not.
    st = StationReport(station="hoa-phu", name="Đài truyền thanh xã Hòa Phú", planned=1, aired=1)
    st.sources["Sở Nội vụ\ufffe\uffff"] += 1
    total = StationReport(station="TỔNG", name="Đắk Lắk")
    total.add(st)
    report = Report(start=DAY, end=DAY, province="Đắk Lắk", stations=[st], total=total,
                    topic_labels={"mot-cua": "Một cửa"})
    book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))
    cells = [c.value for row in book["Chi tiết"].iter_rows() for c in row]
    assert any(isinstance(v, str) and v.startswith("Sở Nội vụ (1)") for v in cells), cells


def test_audio_made_again_and_not_yet_approved_never_stays_behind_a_published_episode(tmp_path: Path) -> None:
    # A station that airs only approved bulletins: the approved one is published, then someone edits the
    # script and makes the audio again. The bulletin's file now holds the new, unapproved audio.
    import feedparser

    from offline import approved_station, cli_on

    base_url = "https://truyenthanh.example.vn/bantin/"
    config = approved_station(tmp_path, base_url)
    run = cli_on(config, tmp_path / "audio_out", "2026-03-12")

    run("build", now="2026-03-12T05:00:00+07:00")
    run("approve", "hoa-phu", now="2026-03-12T05:10:00+07:00")
    run("publish", now="2026-03-12T05:15:00+07:00")
    day = tmp_path / "audio_out" / "2026-03-12"
    published = hashlib.sha256((day / "hoa-phu.mp3").read_bytes()).hexdigest()
    feed_path = tmp_path / "audio_out" / "podcast" / "hoa-phu.xml"
    assert len(feedparser.parse(feed_path.read_bytes()).entries) == 1

    script = day / "hoa-phu.txt"
    text = script.read_text(encoding="utf-8")
    head, rest = text.split("\n\n", 1)
    script.write_text(f"{head}\n\nMột câu mới chưa ai duyệt.\n\n{rest}", encoding="utf-8")
    run("build", "--station", "hoa-phu", now="2026-03-12T06:00:00+07:00")
    assert hashlib.sha256((day / "hoa-phu.mp3").read_bytes()).hexdigest() != published

    # Whatever the feed still lists must be what was published: the same bytes at its address.
    for entry in feedparser.parse(feed_path.read_bytes()).entries:
        data = (tmp_path / "audio_out" / "podcast" / entry.enclosures[0].href[len(base_url):]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == published, "the feed serves audio nobody approved"
        assert int(entry.enclosures[0].length) == len(data)
    # Approved, the new version is published in its place.
    run("approve", "hoa-phu", now="2026-03-12T06:10:00+07:00")
    run("publish", now="2026-03-12T06:15:00+07:00")
    (entry,) = feedparser.parse(feed_path.read_bytes()).entries
    assert int(entry.enclosures[0].length) == (day / "hoa-phu.mp3").stat().st_size
