"""Local item folders, provincial portals without RSS, and which day's news a bulletin may read."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from broadcast.cli import cli
from broadcast.config import AudioConfig, Config, FeedConfig, SelectionConfig, StationConfig, TTSConfig, load_config
from broadcast.errors import ConfigError
from broadcast.ingest import ingest
from broadcast.localitems import parse_local_item
from broadcast.models import VN_TZ
from broadcast.selection import select
from broadcast.store import Store
from httpserver import FeedServer

SOURCES = Path(__file__).parent / "data" / "sources"
NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=VN_TZ)
PORTAL_SELECTORS = {"item": ".news-item", "title": "h3.title a", "date": ".date", "summary": ".sapo"}


class Rel:
    """A scorer's answer that finds nothing about reform: local items must not need it."""

    score, topics, matches = 0.0, [], []


def config(tmp_path: Path, feeds: list[FeedConfig]) -> Config:
    return Config(path=None, is_demo=False, data_dir=tmp_path, province="Đắk Lắk", feeds=feeds,
                  stations=[StationConfig(id="hoa-phu", name="Đài xã Hòa Phú")], tts=TTSConfig(),
                  audio=AudioConfig(), selection=SelectionConfig(), fetch_timeout=5.0)


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path / "broadcast.sqlite3")
    yield s
    s.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SOURCES / "tin-dia-phuong", tmp_path / "tin-dia-phuong"))


# ------------------------------------------------------------ local items


def test_item_file_format() -> None:
    got = parse_local_item("Tiêu đề: Họp dân\nNgày: 1/12/2026\nNgười viết: UBND xã\n\nNội dung   một.\n\n\nHai.\n")
    assert got == {"title": "Họp dân", "date": "1/12/2026", "author": "UBND xã", "body": "Nội dung một.\n\nHai."}
    # No header: the first line is the title; a colon in the body is just text.
    got = parse_local_item("\nHọp dân thôn 3\nGiờ họp: 14h00 chiều nay.\n")
    assert got == {"title": "Họp dân thôn 3", "date": "", "author": "", "body": "Giờ họp: 14h00 chiều nay."}


def test_local_folder_items_are_read_credited_and_always_relevant(tmp_path: Path, store: Store,
                                                                  folder: Path) -> None:
    feed = FeedConfig(name="xa", url=str(folder), source="UBND xã Hòa Phú", weight=2.0, kind="local")
    report = ingest(config(tmp_path, [feed]), store, now=NOW, scorer=lambda t, s: Rel())
    line = report.lines[0]
    assert (line.status, line.items, line.new, line.relevant, line.skipped) == ("ok", 3, 3, 3, 1)
    assert line.message == (
        "xa (UBND xã Hòa Phú): 3 tin, 3 tin mới, 3 tin về CCHC (chú ý: bỏ qua tệp 04-ban-nhap-loi-ma.txt: "
        "dòng 1: không phải chữ mã UTF-8. Hãy mở tệp và lưu lại với bảng mã UTF-8 (Save As → Encoding: UTF-8)).")
    cands = store.candidates("hoa-phu", NOW, 72 * 4)
    by_title = {c.title: c for c in cands}
    one = by_title["Xã Hòa Phú trả kết quả đúng hạn 100% hồ sơ trong tháng 11"]
    assert one.sources == ["Bộ phận Một cửa xã Hòa Phú"] and one.local and one.link == ""
    assert one.published == dt.datetime(2026, 11, 20, 0, 0, tzinfo=VN_TZ)
    assert one.summary.startswith("Trong tháng 11, Bộ phận Một cửa xã Hòa Phú tiếp nhận 312 hồ sơ")
    assert one.summary.endswith("gọi số 0262.3650.123 trong giờ hành chính.")
    two = by_title["Lịch tiếp công dân tháng 12 của Chủ tịch UBND xã"]  # UTF-16 from Notepad, CRLF
    assert two.sources == ["Văn phòng HĐND và UBND xã Hòa Phú"] and "ghi chú" not in two.summary
    assert two.published == dt.datetime(2026, 11, 20, 16, 30, tzinfo=VN_TZ)
    three = by_title["Hướng dẫn cài đặt ứng dụng VNeID mức độ 2 tại nhà văn hóa thôn 3"]
    assert three.sources == ["UBND xã Hòa Phú"] and three.published is None and three.first_seen == NOW

    # Scored 0 by the relevance scorer, and still read.
    st = StationConfig(id="hoa-phu", name="Đài xã Hòa Phú", selection=SelectionConfig(fresh_hours=240))
    ranked = select(cands, st, {"xa": 2.0}, 600, min_score=1.0, now=NOW)
    assert all(c.selected for c in ranked)
    assert all(c.reason.startswith("được chọn: tin địa phương") for c in ranked)


def test_local_items_follow_their_files(tmp_path: Path, store: Store, folder: Path) -> None:
    feed = FeedConfig(name="xa", url=str(folder), source="UBND xã Hòa Phú", kind="local")
    cfg = config(tmp_path, [feed])
    ingest(cfg, store, now=NOW, scorer=lambda t, s: Rel())
    (folder / "03-vneid-thon-3.txt").unlink()
    (folder / "01-mot-cua-thang-11.txt").write_text(
        "Tiêu đề: Xã Hòa Phú trả kết quả đúng hạn 100% hồ sơ trong tháng 11 (đã cập nhật)\n"
        "Ngày: 21/11/2026\nNgười viết: Bộ phận Một cửa xã Hòa Phú\n\nSố liệu mới: 315 hồ sơ.\n", encoding="utf-8")
    (folder / "02-lich-tiep-cong-dan.txt").write_text(
        "Tiêu đề: Lịch tiếp công dân tháng 12 của Chủ tịch UBND xã\nNgày: 22/11/2026\n"
        "Người viết: Văn phòng UBND xã\n\nChủ tịch UBND xã tiếp công dân sáng thứ Năm.\n", encoding="utf-8")
    report = ingest(cfg, store, now=NOW, scorer=lambda t, s: Rel())
    assert report.new == 0
    moved = next(c for c in store.candidates("hoa-phu", NOW, 72 * 4) if c.title.startswith("Lịch tiếp"))
    assert moved.published == dt.datetime(2026, 11, 22, tzinfo=VN_TZ) and moved.sources == ["Văn phòng UBND xã"]
    titles = sorted((c.title, c.summary) for c in store.candidates("hoa-phu", NOW, 72 * 4))
    assert titles == [("Lịch tiếp công dân tháng 12 của Chủ tịch UBND xã", titles[0][1]),
                      ("Xã Hòa Phú trả kết quả đúng hạn 100% hồ sơ trong tháng 11 (đã cập nhật)",
                       "Số liệu mới: 315 hồ sơ.")]


def test_missing_local_folder_is_one_clear_line(tmp_path: Path, store: Store) -> None:
    feed = FeedConfig(name="xa", url=str(tmp_path / "khong-co"), kind="local")
    line = ingest(config(tmp_path, [feed]), store, now=NOW).lines[0]
    assert line.status == "failed"
    assert line.message == (f"Nguồn tin địa phương 'xa' ({tmp_path / 'khong-co'}): không có thư mục này. "
                            "Hãy tạo thư mục hoặc sửa path trong cấu hình.")


# ------------------------------------------------------------ portals without RSS


def test_portal_listing_page_over_http(tmp_path: Path, store: Store) -> None:
    page = (SOURCES / "portal-sonoivu.html").read_bytes()
    with FeedServer() as srv:
        srv.add("/cai-cach-hanh-chinh", body=page, content_type="text/html; charset=utf-8")
        feed = FeedConfig(name="sonoivu", url=srv.url("/cai-cach-hanh-chinh"), source="Sở Nội vụ Đắk Lắk",
                          kind="html", selectors=PORTAL_SELECTORS)
        report = ingest(config(tmp_path, [feed]), store, now=NOW, scorer=lambda t, s: Rel())
        base = srv.url("")
    line = report.lines[0]
    # The featured story repeats in the list, and one entry links nowhere.
    assert (line.status, line.items, line.skipped) == ("ok", 3, 2), line.message
    got = sorted(store.candidates("hoa-phu", NOW, 24 * 10), key=lambda c: c.published)
    assert [(c.title, c.link, c.published) for c in got] == [
        ("Kết quả khảo sát Chỉ số hài lòng SIPAS năm 2026 tại các Bộ phận Một cửa",
         "https://snv.daklak.gov.vn/cai-cach-hanh-chinh/ket-qua-khao-sat-sipas-2026-1228.html",
         dt.datetime(2026, 11, 20, 10, 40, tzinfo=VN_TZ)),
        ("Tập huấn kỹ năng tiếp nhận hồ sơ tại Bộ phận Một cửa cấp xã năm 2026",
         f"{base}/cai-cach-hanh-chinh/tap-huan-ky-nang-tiep-nhan-ho-so-tai-bo-phan-mot-cua-cap-xa-1230.html",
         dt.datetime(2026, 11, 25, 8, 5, tzinfo=VN_TZ)),
        ("Công bố Chỉ số cải cách hành chính năm 2025 của các sở, ban, ngành và UBND cấp xã",
         f"{base}/cai-cach-hanh-chinh/cong-bo-chi-so-cai-cach-hanh-chinh-nam-2025-cua-cac-so-nganh-1234.html",
         dt.datetime(2026, 11, 27, 15, 20, tzinfo=VN_TZ)),
    ]
    assert got[2].sources == ["Sở Nội vụ Đắk Lắk"]
    assert got[2].summary.startswith("Ngày 27/11, UBND tỉnh Đắk Lắk ban hành Quyết định số 3120/QĐ-UBND")
    assert got[0].summary == ""


def test_portal_that_changed_its_layout(tmp_path: Path, store: Store) -> None:
    with FeedServer() as srv:
        srv.add("/tin", body=(SOURCES / "portal-sonoivu.html").read_bytes(), content_type="text/html")
        feed = FeedConfig(name="sonoivu", url=srv.url("/tin"), kind="html",
                          selectors={"item": ".article-list li", "title": "a"})
        line = ingest(config(tmp_path, [feed]), store, now=NOW).lines[0]
    assert line.status == "failed"
    assert 'không thấy mục tin nào theo bộ chọn item = ".article-list li"' in line.message
    assert "sửa selectors trong cấu hình" in line.message


STATION = '\n[[stations]]\nid = "hoa-phu"\nname = "Đài xã Hòa Phú"\n'


@pytest.mark.parametrize("feed, key, words", [
    ('kind = "web"\nurl = "https://a.vn"', "feeds[0].kind", "phải là một trong rss, html, local"),
    ('kind = "html"\nurl = "https://a.vn"', "feeds[0].selectors.item", "cần bộ chọn CSS cho item và title"),
    ('kind = "html"\nurl = "https://a.vn"\nselectors = { item = "div[class=", title = "a" }',
     "feeds[0].selectors.item", 'bộ chọn CSS "div[class=" sai cú pháp'),
    ('kind = "local"', "feeds[0].path", "cần thư mục chứa các tệp tin"),
    ('kind = "local"\npath = "tin"\nurl = "https://a.vn"', "feeds[0].url", "khóa không được hỗ trợ"),
])
def test_source_kinds_are_checked_at_load(tmp_path: Path, feed: str, key: str, words: str) -> None:
    path = tmp_path / "broadcast.toml"
    path.write_text(f'[[feeds]]\nname = "x"\n{feed}\n{STATION}', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert f"khóa '{key}'" in str(err.value) and words in str(err.value)


def test_source_kinds_load(tmp_path: Path) -> None:
    path = tmp_path / "broadcast.toml"
    path.write_text('[[feeds]]\nname = "xa"\nkind = "local"\npath = "tin-dia-phuong"\nsource = "UBND xã"\n'
                    '[[feeds]]\nname = "snv"\nkind = "html"\nurl = "https://snv.daklak.gov.vn/cchc"\n'
                    '[feeds.selectors]\nitem = ".news-item"\ntitle = "h3 a"\ndate = ".date"\n' + STATION,
                    encoding="utf-8")
    xa, snv = load_config(path).feeds
    assert (xa.kind, xa.url, xa.weight) == ("local", str(tmp_path / "tin-dia-phuong"), 2.0)
    assert (snv.kind, snv.selectors) == ("html", {"item": ".news-item", "title": "h3 a", "date": ".date"})


# ------------------------------------------------------------ a bulletin reads its own day's news


DATED_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Cổng thông tin tỉnh</title><link>https://daklak.gov.vn/</link>
<item><title>Đắk Lắk đẩy mạnh cải cách thủ tục hành chính, 100% hồ sơ được giải quyết qua dịch vụ công trực tuyến</title>
<link>https://daklak.gov.vn/tin-20.html</link><pubDate>Fri, 20 Nov 2026 09:00:00 +0700</pubDate>
<description>UBND tỉnh yêu cầu các sở, ngành đẩy mạnh cải cách thủ tục hành chính, giải quyết hồ sơ qua dịch vụ công trực tuyến và bộ phận một cửa.</description></item>
<item><title>Trung tâm Phục vụ hành chính công tỉnh tiếp nhận hồ sơ thủ tục hành chính không phụ thuộc địa giới</title>
<link>https://daklak.gov.vn/tin-21.html</link><pubDate>Sat, 21 Nov 2026 07:30:00 +0700</pubDate>
<description>Từ hôm nay, người dân nộp hồ sơ thủ tục hành chính tại bất kỳ bộ phận một cửa nào trong tỉnh, hoặc qua dịch vụ công trực tuyến.</description></item>
</channel></rss>
"""


def test_bulletin_for_a_past_day_reads_that_days_news_and_credits_local_authors(tmp_path: Path,
                                                                                folder: Path) -> None:
    (tmp_path / "tinh.xml").write_text(DATED_FEED, encoding="utf-8")
    (tmp_path / "broadcast.toml").write_text(
        '[general]\ndata_dir = "data"\n'
        '[[feeds]]\nname = "tinh"\nurl = "tinh.xml"\nsource = "Cổng thông tin tỉnh"\n'
        '[[feeds]]\nname = "xa"\nkind = "local"\npath = "tin-dia-phuong"\nsource = "UBND xã Hòa Phú"\n'
        '[selection]\nmin_score = 0.01\n'  # which day's news, not how relevant: both stories qualify
        '[tts]\nengine = "espeak"\n' + STATION, encoding="utf-8")
    # Fetched on the evening of the 20th (the feed already lists the 21st's story); scripted three days on.
    common = ["--config", str(tmp_path / "broadcast.toml"), "--out", str(tmp_path / "out")]
    fetched = CliRunner().invoke(cli, [*common, "fetch"], env={"BROADCAST_NOW": "2026-11-20T20:00:00+07:00"})
    assert fetched.exit_code == 0, fetched.output
    result = CliRunner().invoke(cli, [*common, "--date", "2026-11-20", "script"], catch_exceptions=False,
                                env={"BROADCAST_NOW": "2026-11-23T05:00:00+07:00"})
    assert result.exit_code == 0, result.output
    script = (tmp_path / "out" / "2026-11-20" / "hoa-phu.txt").read_text(encoding="utf-8")
    assert "100% hồ sơ được giải quyết qua dịch vụ công trực tuyến" in script
    assert "không phụ thuộc địa giới" not in script  # published on the 21st
    assert "Theo Bộ phận Một cửa xã Hòa Phú." in script
    assert "Theo Văn phòng HĐND và UBND xã Hòa Phú." in script


def test_doctor_reads_every_source_kind(tmp_path: Path, folder: Path) -> None:
    with FeedServer() as srv:
        srv.add("/cchc", body=(SOURCES / "portal-sonoivu.html").read_bytes(), content_type="text/html")
        (tmp_path / "broadcast.toml").write_text(
            '[general]\ndata_dir = "data"\n[tts]\nengine = "espeak"\n'
            '[[feeds]]\nname = "xa"\nkind = "local"\npath = "tin-dia-phuong"\n'
            f'[[feeds]]\nname = "snv"\nkind = "html"\nurl = "{srv.url("/cchc")}"\n'
            '[feeds.selectors]\nitem = ".news-item"\ntitle = "h3.title a"\ndate = ".date"\n' + STATION,
            encoding="utf-8")
        result = CliRunner().invoke(cli, ["--config", str(tmp_path / "broadcast.toml"), "--out",
                                          str(tmp_path / "out"), "doctor"], catch_exceptions=False)
    lines = {line.split("] ", 1)[1].split(":")[0]: line for line in result.output.splitlines() if "] " in line}
    assert lines["nguồn tin xa"].startswith("[OK  ] nguồn tin xa: 3 tin trong thư mục; bỏ qua tệp 04-ban-nhap")
    assert "nguồn tin snv: 3 tin, tin mới nhất cách đây" in lines["nguồn tin snv"]
