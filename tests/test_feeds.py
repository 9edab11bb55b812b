"""Feed documents as real sites serve them, fetched from disk and from a local HTTP server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from broadcast.config import FeedConfig
from broadcast.errors import FeedError
from broadcast.feeds import (
    USER_AGENT, decode_document, fetch, looks_like_html, parse_feed, repair_document,
)
from broadcast.models import VN_TZ
from httpserver import FeedServer

FEEDS = Path(__file__).parent / "data" / "feeds"
NOW = dt.datetime(2026, 9, 25, 12, 0, tzinfo=VN_TZ)


def parse(name: str, source: str = ""):
    return parse_feed((FEEDS / name).read_bytes(), FeedConfig(name=name, url=str(FEEDS / name), source=source),
                      now=NOW)


def vn(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=VN_TZ)


# ------------------------------------------------------------ the shared real documents

@pytest.mark.parametrize("name, count, first_title, first_date", [
    ("baochinhphu-1.xml", 50, "Cơ chế, chính sách xác định giá sản phẩm in, đúc tiền", vn(2026, 9, 5, 13, 30)),
    ("baochinhphu-2.xml", 2, "Cửa khẩu số hóa, doanh nghiệp thêm lựa chọn thanh toán CNY từ Techcombank",
     vn(2026, 9, 14, 18, 44)),
    ("nhandan-1.xml", 2, "Tăng cường năng lực hỗ trợ hội nhập tài chính ASEAN", vn(2026, 9, 14, 18, 48, 23)),
    ("thanhnien-1.xml", 2, "Đề xuất giảm 30% thuế ngay trong kỳ kê khai với hộ có doanh thu dưới 10 tỉ đồng",
     vn(2026, 9, 14, 9, 13)),
    ("vtv-1.xml", 2, "EU xây dựng cơ chế chung kiểm soát áp lực nhà ở", vn(2026, 9, 14, 19, 46, 22)),
    ("vietnamnet-1.xml", 2, "Lãi suất ngân hàng hôm nay 24/9/2026: Thận trọng với lời chào lãi suất 14%/năm",
     vn(2026, 9, 24, 9, 13, 34)),
    ("vietnambiz-1.xml", 30, "TCH và hai mã họ FPT tăng mạnh nhất danh mục PYN Elite trong tháng 8",
     vn(2026, 9, 4, 18, 48, 27)),
    ("vietstock-1.xml", 30, "Chỉ 2 phiên giao dịch, VIC đưa VN-Index qua những cung bậc trái chiều",
     vn(2026, 9, 5, 20, 32)),
    ("vnexpress-1.xml", 25, "Một tuần Hà Nội có 1.400 người bệnh sốt xuất huyết vào viện",
     vn(2017, 7, 26, 19, 41, 14)),
    ("vnexpress-2.xml", 1, "Israel nối gót Mỹ rời Hội đồng Nhân quyền LHQ", vn(2025, 2, 6, 20, 30, 48)),
    ("vnexpress-3.xml", 24, "Con hẻm trăm tuổi ở Sài Gòn nhiều lần lên phim TVB 4", vn(2017, 11, 14, 17, 42, 1)),
])
def test_every_shared_document_yields_its_items(name: str, count: int, first_title: str,
                                                first_date: dt.datetime) -> None:
    feed = parse(name)
    assert len(feed.items) == count
    first = feed.items[0]
    assert first.title == first_title
    assert first.published == first_date
    assert all(i.title and i.link.startswith("http") for i in feed.items)
    assert all("\n" not in i.title and "\n" not in i.link and " " not in i.link for i in feed.items)
    assert all(i.published is not None for i in feed.items)
    assert all("<" not in i.summary and "&#" not in i.summary and "&amp;" not in i.summary for i in feed.items)


def test_vietnambiz_false_utf16_declaration() -> None:
    # A naive parse trusts encoding="utf-16" and finds nothing.
    feed = parse("vietnambiz-1.xml")
    assert len(feed.items) == 30
    titles = [i.title for i in feed.items]
    assert "HOSE bổ sung 5 mã vào danh sách không được giao dịch ký quỹ" in titles
    assert feed.items[-1].title == "Cổ phiếu nhà tỷ phú Nguyễn Đăng Quang tăng một mạch gần 44% sau hơn một tháng"
    assert feed.items[-1].published == vn(2026, 8, 29, 16, 17, 55)
    assert feed.items[0].guid == "6436edd2-b40a-4c66-9b26-a13159505de7"
    assert feed.items[0].summary.startswith("Thông tin cập nhật tháng 8 của PYN Elite")


def test_baochinhphu_us_dates_and_site_prefix() -> None:
    feed = parse("baochinhphu-1.xml", source="Báo Chính phủ")
    assert all(not i.summary.startswith("(Chinhphu.vn)") for i in feed.items)
    assert feed.items[0].summary.startswith("Chính phủ ban hành Nghị quyết số 40/2026/NQ-CP")
    assert feed.items[0].source == "Báo Chính phủ"
    assert feed.items[0].guid == ""  # no guid in this feed: the link identifies the item
    assert feed.items[-1].published == vn(2026, 8, 28, 12, 49)
    # All 50 dates lie between 28 August and 5 September: none read day-first.
    assert min(i.published for i in feed.items) >= vn(2026, 8, 28)
    assert max(i.published for i in feed.items) <= vn(2026, 9, 5, 23, 59)


def test_placeholder_descriptions_are_dropped() -> None:
    for name in ("baochinhphu-2.xml", "nhandan-1.xml", "vtv-1.xml"):
        assert [i.summary for i in parse(name).items] == ["", ""]


def test_vietstock_escaped_html_is_removed() -> None:
    first = parse("vietstock-1.xml").items[0]
    assert first.summary.startswith("Do trùng với kỳ nghỉ lễ dài, thị trường chứng khoán Việt Nam")
    assert first.link == "http://vietstock.vn/2026/09/chi-2-phien-giao-dich-vic-dua-vn-index-qua-nhung-cung-bac-trai-chieu-830-1489047.htm"


def test_vietnamnet_padded_cdata_and_raw_ampersand() -> None:
    items = parse("vietnamnet-1.xml").items
    assert items[0].summary.startswith("Lãi suất ngân hàng hôm nay, 24/9/2026, trong khi")
    assert items[1].title == "Trưởng phòng lương hơn 42 triệu phải trả lại 222 triệu tiền thưởng vì nghỉ việc sớm"


def test_vnexpress_stray_newlines_and_text_before_xml() -> None:
    one = parse("vnexpress-1.xml").items[0]
    assert one.link == ("http://suckhoe.vnexpress.net/tin-tuc/suc-khoe/"
                        "mot-tuan-ha-noi-co-1-400-nguoi-benh-sot-xuat-huyet-vao-vien-3618863.html")
    assert one.summary == ("Từ ngày 17-23/7, Hà Nội ghi nhận 1.400 ca sốt xuất huyết, hai người tử vong do kèm "
                           "bệnh lý tiểu đường, tăng huyết áp.")
    three = parse("vnexpress-3.xml")
    assert (three.entries, three.skipped, len(three.items)) == (25, 1, 24)  # one empty <item>
    assert three.warnings and "ngừng cập nhật" in three.warnings[0]  # newest item is from 2017


def test_vnexpress_raw_ampersand_in_attribute() -> None:
    item = parse("vnexpress-2.xml").items[0]
    assert item.summary.startswith("Ngoại trưởng Israel cho biết")


def test_source_defaults_to_the_outlet_of_the_channel() -> None:
    assert parse("nhandan-1.xml").items[0].source == "Báo Nhân Dân"  # channel "Báo Nhân Dân điện tử"
    assert parse("nhandan-1.xml", source="Báo Nhân Dân").items[0].source == "Báo Nhân Dân"


# ------------------------------------------------------------ our own hard cases

def test_genuine_utf16le_with_bom() -> None:
    feed = parse("own-utf16le.xml")
    assert [i.title for i in feed.items] == ["Công bố Chỉ số cải cách hành chính PAR INDEX năm 2025",
                                             "Hướng dẫn nộp hồ sơ trực tuyến toàn trình"]
    assert feed.items[0].published == vn(2026, 9, 14, 9, 30)  # Vietnamese day-first form


def test_utf16le_without_bom_and_utf8_bom() -> None:
    text = (FEEDS / "own-utf16le.xml").read_bytes()[2:].decode("utf-16-le")
    assert "PAR INDEX" in decode_document(text.encode("utf-16-le"))
    assert decode_document(b"\xef\xbb\xbf<rss/>") == "<rss/>"


def test_windows_1258_document_becomes_nfc() -> None:
    feed = parse("own-cp1258.xml")
    assert feed.title == "Trang tin huyện"
    item = feed.items[0]
    assert item.title == "Hội nghị sơ kết công tác cải cách hành chính 6 tháng"  # &nbsp; outside CDATA
    assert item.link == "http://example.gov.vn/tin?id=7&cat=2"
    assert item.published == vn(2026, 9, 10, 22, 0)


def test_atom_feed_with_escaped_html() -> None:
    item = parse("own-atom.xml").items[0]
    assert item.title == "Chính quyền số: 90% hồ sơ được số hóa"
    assert item.summary == "Tỷ lệ hồ sơ thủ tục hành chính được số hóa đạt 90%."
    assert item.published == vn(2026, 9, 14, 9, 0)


def test_empty_pubdate_gives_no_date() -> None:
    items = parse("own-daklak.xml").items
    assert items[2].title == "Giá cà phê hôm nay 14/9 tăng nhẹ"
    assert items[2].published is None  # the store uses the first-seen time
    assert items[0].summary.startswith("Từ ngày 1/9, toàn bộ thủ tục hành chính")
    assert "Ảnh" not in items[0].summary and "Hoàng Gia" not in items[0].summary


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(FeedError) as err:
        parse("own-html.html")
    msg = str(err.value)
    assert "own-html.html" in msg and "HTML" in msg and "không phải RSS" in msg


@pytest.mark.parametrize("body", [b"", b"   \n", b"just some text", b"<?xml version='1.0'?><root><a/></root>",
                                  b"\x00\x01\x02\xff\xfe garbage"])
def test_garbage_raises_feed_error_not_a_traceback(body: bytes) -> None:
    with pytest.raises(FeedError) as err:
        parse_feed(body, FeedConfig(name="rac", url="http://x.vn/rss"), now=NOW)
    assert "rac" in str(err.value)


def test_future_dates_are_not_trusted() -> None:
    doc = ("<rss><channel><title>T</title><item><title>Tin lệch ngày</title><link>http://a.vn/1</link>"
           "<pubDate>Mon, 14 Sep 2030 10:00:00 +0700</pubDate></item></channel></rss>").encode()
    feed = parse_feed(doc, FeedConfig(name="t", url="http://a.vn"), now=NOW)
    assert feed.items[0].published is None
    assert "tương lai" in feed.warnings[0]


def test_repair_leaves_cdata_alone_and_fixes_markup_outside() -> None:
    text = "junk<rss><channel><title>A & B &nbsp;</title><description><![CDATA[x & y]]></description></channel></rss>tail"
    fixed = repair_document(text)
    assert "A &amp; B &#160;" in fixed
    assert "<![CDATA[x & y]]>" in fixed
    assert fixed.endswith("</rss>") and "junk" not in fixed
    assert looks_like_html("<!DOCTYPE html><html><body>x</body></html>")
    assert not looks_like_html("This XML file does not appear... <rss><channel/></rss>")


# ------------------------------------------------------------ HTTP

RSS = (FEEDS / "nhandan-1.xml").read_bytes()


def feed_at(srv: FeedServer, path: str) -> FeedConfig:
    return FeedConfig(name="nhandan", url=srv.url(path), source="Báo Nhân Dân")


def test_fetch_200_sends_user_agent_and_gets_validators() -> None:
    with FeedServer() as srv:
        srv.add("/rss", body=RSS, etag='"v1"', last_modified="Mon, 14 Sep 2026 12:00:00 GMT")
        res = fetch(feed_at(srv, "/rss"), timeout=5, retries=0)
        assert res.status == "ok" and res.http_status == 200 and res.body == RSS
        assert res.etag == '"v1"' and res.last_modified == "Mon, 14 Sep 2026 12:00:00 GMT"
        sent = srv.hits("/rss")[0].headers
        assert sent["User-Agent"].encode("latin-1").decode("utf-8") == USER_AGENT
        assert "If-None-Match" not in sent


def test_conditional_get_304() -> None:
    with FeedServer() as srv:
        srv.add("/rss", body=RSS, etag='"v1"')
        res = fetch(feed_at(srv, "/rss"), timeout=5, retries=0, etag='"v1"')
        assert res.status == "not_modified" and res.body == b"" and res.etag == '"v1"'
        assert srv.hits("/rss")[0].headers["If-None-Match"] == '"v1"'
        srv.add("/lm", body=RSS, last_modified="Mon, 14 Sep 2026 12:00:00 GMT")
        res = fetch(feed_at(srv, "/lm"), timeout=5, retries=0, last_modified="Mon, 14 Sep 2026 12:00:00 GMT")
        assert res.status == "not_modified"


def test_redirects_are_followed() -> None:
    with FeedServer() as srv:
        srv.add("/old", redirect_to="/mid", status=301)
        srv.add("/mid", redirect_to="/new", status=302)
        srv.add("/new", body=RSS)
        res = fetch(feed_at(srv, "/old"), timeout=5, retries=0)
        assert res.status == "ok" and res.final_url == srv.url("/new")
        srv.add("/loop", redirect_to="/loop")
        with pytest.raises(FeedError) as err:
            fetch(feed_at(srv, "/loop"), timeout=5, retries=0)
        assert "chuyển hướng" in str(err.value)


@pytest.mark.parametrize("status, words", [(404, "không tìm thấy địa chỉ (404)"), (403, "(403)"), (410, "(410)")])
def test_client_errors_fail_at_once(status: int, words: str) -> None:
    with FeedServer() as srv:
        srv.add("/rss", status=status, body=b"no")
        with pytest.raises(FeedError) as err:
            fetch(feed_at(srv, "/rss"), timeout=5, retries=3, backoff=0)
        assert words in str(err.value) and "nhandan" in str(err.value)
        assert len(srv.hits("/rss")) == 1  # not retried


def test_server_errors_are_retried_then_succeed() -> None:
    with FeedServer() as srv:
        srv.add("/rss", body=RSS, fail_times=2)
        res = fetch(feed_at(srv, "/rss"), timeout=5, retries=2, backoff=0)
        assert res.status == "ok" and res.attempts == 3
        srv.add("/down", body=RSS, fail_times=10)
        with pytest.raises(FeedError) as err:
            fetch(feed_at(srv, "/down"), timeout=5, retries=1, backoff=0)
        assert "lỗi (500)" in str(err.value) and "đã thử 2 lần" in str(err.value)
        assert len(srv.hits("/down")) == 2


def test_slow_server_times_out() -> None:
    with FeedServer() as srv:
        srv.add("/slow", body=RSS, delay=5)
        with pytest.raises(FeedError) as err:
            fetch(feed_at(srv, "/slow"), timeout=0.3, retries=0)
        assert "không trả lời trong 0,3 giây" in str(err.value)
        assert "fetch_timeout" in str(err.value)


def test_trickling_server_hits_the_total_deadline() -> None:
    with FeedServer() as srv:
        srv.add("/drip", body=RSS * 20, trickle=0.2)  # every read is quick, the whole is not
        with pytest.raises(FeedError):
            fetch(feed_at(srv, "/drip"), timeout=0.5, retries=0, total_timeout=0.8)


def test_huge_body_is_capped() -> None:
    with FeedServer() as srv:
        srv.add("/huge", body=RSS, huge=5_000_000)  # streamed without Content-Length
        with pytest.raises(FeedError) as err:
            fetch(feed_at(srv, "/huge"), timeout=5, retries=0, max_bytes=100_000)
        assert "vượt giới hạn 100 KB" in str(err.value)
        srv.add("/big", body=b"x" * 300_000)  # announced by Content-Length
        with pytest.raises(FeedError):
            fetch(feed_at(srv, "/big"), timeout=5, retries=0, max_bytes=100_000)


def test_connection_refused() -> None:
    with FeedServer() as srv:
        url = srv.url("/rss")
    with pytest.raises(FeedError) as err:  # the server is gone now
        fetch(FeedConfig(name="chet", url=url), timeout=1, retries=1, backoff=0)
    assert "không kết nối được tới máy chủ 127.0.0.1" in str(err.value)


def test_local_files(tmp_path: Path) -> None:
    res = fetch(FeedConfig(name="tep", url=str(FEEDS / "vtv-1.xml")))
    assert res.status == "ok" and b"vtv.vn" in res.body
    res = fetch(FeedConfig(name="tep", url=(FEEDS / "vtv-1.xml").as_uri()))
    assert b"vtv.vn" in res.body
    with pytest.raises(FeedError) as err:
        fetch(FeedConfig(name="tep", url=str(tmp_path / "khong-co.xml")))
    assert "không tìm thấy tệp" in str(err.value)
    with pytest.raises(FeedError):
        fetch(FeedConfig(name="tep", url=str(FEEDS / "baochinhphu-1.xml")), max_bytes=10_000)
    with pytest.raises(FeedError):
        fetch(FeedConfig(name="tep", url=str(tmp_path)))


def test_relative_item_links_resolve_against_the_site():
    from broadcast.config import FeedConfig
    from broadcast.feeds import parse_feed

    with_site = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
                 '<link>https://site.vn/</link><item><title>Tin E</title><link>/tin-e.html</link></item>'
                 '</channel></rss>').encode()
    items = parse_feed(with_site, FeedConfig(name="a", url="/tmp/a.xml"), now=NOW).items
    assert items[0].link == "https://site.vn/tin-e.html"
    no_site = with_site.replace(b"<link>https://site.vn/</link>", b"")
    items = parse_feed(no_site, FeedConfig(name="a", url="https://rss.site.vn/feed/cchc.rss"), now=NOW).items
    assert items[0].link == "https://rss.site.vn/tin-e.html"


# ------------------------------------------------------------ damaged and hostile text


def _with_bad_byte(doc: bytes, declaration: bool = True) -> bytes:
    # "thủ" cut after the first two bytes of "ủ", as a CMS that truncates bytes writes it.
    bad = doc.replace("100% thủ tục".encode(), b"100% th\xe1\xbb" + " tục".encode(), 1)
    if not declaration:
        bad = bad.replace(b'<?xml version="1.0" encoding="UTF-8"?>', b"")
    return bad


@pytest.mark.parametrize("declaration, content_type", [(True, ""), (False, ""), (True, "text/xml; charset=utf-8")])
def test_one_bad_byte_does_not_turn_a_utf8_feed_into_mojibake(declaration: bool, content_type: str) -> None:
    doc = _with_bad_byte((FEEDS / "own-daklak.xml").read_bytes(), declaration)
    assert doc != (FEEDS / "own-daklak.xml").read_bytes()
    feed = parse_feed(doc, FeedConfig(name="bdl", url="https://baodaklak.vn/rss"), content_type=content_type, now=NOW)
    first, second = feed.items[0], feed.items[1]
    assert first.title == "Đắk Lắk: 100% th tục hành chính được tiếp nhận tại Trung tâm Phục vụ hành chính công"
    assert first.damage == 1 and "\ufffd" not in first.title
    assert second.title == "Xã Hòa Phú triển khai kết nối VNeID cho người cao tuổi" and second.damage == 0


def test_only_web_links_are_kept() -> None:
    doc = ('<rss><channel><title>T</title>'
           '<item><title>Tin một</title><link>javascript:alert(1)</link></item>'
           '<item><title>Tin hai</title><link>file:///etc/passwd</link></item>'
           '<item><title>Tin ba</title><link>data:text/html,x</link><guid>ba-1</guid></item>'
           '<item><title>Tin bốn</title><link>//baodaklak.vn/tin-bon.html</link></item>'
           '<item><title>Tin năm</title><link>https://baodaklak.vn/tin-nam.html</link></item>'
           '</channel></rss>').encode()
    items = parse_feed(doc, FeedConfig(name="t", url="https://baodaklak.vn/rss"), now=NOW).items
    assert [(i.title, i.link) for i in items] == [
        ("Tin một", ""), ("Tin hai", ""), ("Tin ba", ""),
        ("Tin bốn", "https://baodaklak.vn/tin-bon.html"), ("Tin năm", "https://baodaklak.vn/tin-nam.html")]


def test_bidi_controls_entities_and_replacement_marks_leave_feed_text() -> None:
    doc = ('<rss><channel><title>T</title><item>'
           '<title>Công bố \u202eChỉ số\u202c PAR\u200f INDEX\u2066 2025\u2069 &amp;hellip;x &amp;amp;foo;</title>'
           '<link>https://a.vn/1</link>'
           '<description>Tỷ lệ \u061chồ sơ\u180e trực tuyến đạt 90%\ufffd &amp;amp;amp;amp;amp;nbsp;cao nhất.</description>'
           '</item></channel></rss>').encode()
    item = parse_feed(doc, FeedConfig(name="t", url="https://a.vn/rss"), now=NOW).items[0]
    assert item.title == "Công bố Chỉ số PAR INDEX 2025 …x"
    assert item.summary == "Tỷ lệ hồ sơ trực tuyến đạt 90% cao nhất."
    for text in (item.title, item.summary):
        assert "&" not in text and not any(0x2066 <= ord(ch) <= 0x2069 or 0x202A <= ord(ch) <= 0x202E
                                           for ch in text)
