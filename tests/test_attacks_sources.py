"""Sources attacked by whoever can write into them: a shared local-items folder, a hostile listing page.

Real files, real symlinks, real SQLite: nothing is mocked."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from broadcast.config import FeedConfig
from broadcast.localitems import read_local_items
from broadcast.models import VN_TZ

NOW = dt.datetime(2026, 11, 28, 8, 0, tzinfo=VN_TZ)
SECRET = "mat-khau-sftp-Kx81"


@contextlib.contextmanager
def site(answer):
    """A real HTTP server on 127.0.0.1 answering every GET with answer(request) -> (status, headers, body)."""
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            status, headers, body = answer(self)
            self.send_response(status)
            for k, v in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def local_feed(folder: Path) -> FeedConfig:
    return FeedConfig(name="xa", url=str(folder), source="UBND xã Hòa Phú", kind="local")


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A local-items folder (a share commune staff write into) next to the server's private files."""
    private = tmp_path / "srv"
    private.mkdir()
    (private / "password.txt").write_text(f"Tiêu đề: {SECRET}\n\n{SECRET}\n", encoding="utf-8")
    folder = tmp_path / "tin-dia-phuong"
    folder.mkdir()
    (folder / "2026-11-28-mot-cua.txt").write_text(
        "Tiêu đề: Xã trả kết quả đúng hạn\nNgày: 28/11/2026\n\nToàn bộ hồ sơ được trả đúng hạn.\n", encoding="utf-8")
    return folder


def test_a_link_out_of_the_local_folder_is_never_read_on_air(shared: Path) -> None:
    # Whoever may drop files in the share plants a link to a file only the server may read:
    # its text would be read on the loudspeakers and shown on the desk.
    os.symlink(shared.parent / "srv" / "password.txt", shared / "tin-moi.txt")
    items, skipped, warnings = read_local_items(local_feed(shared), NOW)
    assert [i.title for i in items] == ["Xã trả kết quả đúng hạn"]
    assert all(SECRET not in i.title + i.summary for i in items)
    assert skipped == 1
    assert any("tin-moi.txt" in w and "ngoài thư mục" in w for w in warnings), warnings


def test_a_link_to_another_item_inside_the_folder_is_still_an_item(shared: Path) -> None:
    (shared / "ban-goc").mkdir()
    (shared / "ban-goc" / "lich.txt").write_text("Tiêu đề: Lịch tiếp công dân\n\nThứ Hai hằng tuần.\n",
                                                 encoding="utf-8")
    os.symlink(Path("ban-goc") / "lich.txt", shared / "lich-tiep-dan.txt")
    items, skipped, _ = read_local_items(local_feed(shared), NOW)
    assert sorted(i.title for i in items) == ["Lịch tiếp công dân", "Xã trả kết quả đúng hạn"]
    assert skipped == 0


# ------------------------------------------------------------ characters no text needs

# ESC starts terminal sequences (an OSC 52 one writes the operator's clipboard when `broadcast candidates`
# prints the title); U+0008 erases what was printed before it; U+FFFE, U+FFFF and the C0 controls other than
# tab and newline cannot be written into XML at all (podcast feed, XLSX, DOCX).
HOSTILE_TITLE = "Dịch vụ công\x1b]52;c;cm0gLXJmIH4=\x07 trực tuyến\x08\x08 toàn trình\x7f\x9b2J"


def hostile_page() -> bytes:
    return (f"<html><head><title>Sở Nội vụ\ufffe\uffff</title></head><body><ul class='tin'>"
            f"<li><a href='/tin/1.html'>{HOSTILE_TITLE}</a><p class='sapo'>Tóm tắt\x01 có\x1b[31m mã màu "
            "và đủ dài để được giữ lại làm đoạn tóm tắt của tin.</p></li></ul></body></html>").encode("utf-8")


def assert_plain(text: str) -> None:
    bad = [hex(ord(ch)) for ch in text if (ord(ch) < 32 and ch not in "\n\t") or 0x7F <= ord(ch) <= 0x9F
           or ch in "\ufffe\uffff"]
    assert not bad, (text, bad)


def test_a_listing_page_cannot_put_control_characters_into_titles_or_sources() -> None:
    from broadcast.htmlsource import parse_listing

    feed = FeedConfig(name="snv", url="https://snv.example.vn/cchc", kind="html",
                      selectors={"item": "ul.tin li", "title": "a", "summary": ".sapo"})
    parsed = parse_listing(hostile_page(), feed, now=NOW)
    (item,) = parsed.items
    for text in (item.title, item.summary, item.source, parsed.title):
        assert_plain(text)
    assert "Dịch vụ công" in item.title and "toàn trình" in item.title
    assert item.source.startswith("Sở Nội vụ")


def test_a_local_item_cannot_put_control_characters_on_air(shared: Path) -> None:
    (shared / "tin-la.txt").write_text(f"Tiêu đề: {HOSTILE_TITLE}\nNgười viết: Văn phòng\x1b[8m UBND\ufffe\n\n"
                                       "Nội dung\x00 có\x07 ký tự lạ.\n", encoding="utf-8")
    items, _, _ = read_local_items(local_feed(shared), NOW)
    (item,) = [i for i in items if i.guid == "local:tin-la.txt"]
    for text in (item.title, item.summary, item.source):
        assert_plain(text)
    assert item.summary.startswith("Nội dung")


# ------------------------------------------------------------ a portal's password in a feed address

PORTAL_PASSWORD = "Mk-cong-tin-91"


def test_a_password_in_a_feed_address_is_used_but_never_printed_or_stored(tmp_path: Path) -> None:
    import base64

    from broadcast.config import load_config
    from broadcast.ingest import ingest
    from broadcast.store import Store

    seen: list[str] = []

    def portal(request):
        seen.append(request.headers.get("Authorization", ""))
        page = b"<html><body><p>Trang tin</p></body></html>"
        return (404, {}, b"") if request.path == "/rss-cu" else (200, {"Content-Type": "text/html"}, page)

    with site(portal) as where:
        base = f"http://can-bo:{PORTAL_PASSWORD}@{where}"
        (tmp_path / "broadcast.toml").write_text(f'''
[general]
data_dir = "data"
fetch_retries = 0

[[feeds]]
name = "cong-cu"
url = "{base}/rss-cu"

[[feeds]]
name = "snv"
kind = "html"
url = "{base}/cchc"
[feeds.selectors]
item = ".tin"
title = "a"

[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"
''', encoding="utf-8")
        config = load_config(tmp_path / "broadcast.toml")
        store = Store(config.data_dir / "broadcast.sqlite3")
        try:
            report = ingest(config, store, now=NOW, backoff=0)
            states = [store.feed_state(name) for name in ("cong-cu", "snv")]
        finally:
            store.close()
    expected = "Basic " + base64.b64encode(f"can-bo:{PORTAL_PASSWORD}".encode()).decode()
    assert seen == [expected, expected]  # the address's credentials still open the portal
    assert [line.status for line in report.lines] == ["failed", "failed"]
    shown = [line.message for line in report.lines] + [line.url for line in report.lines]
    shown += [s.last_message for s in states if s]
    assert len(shown) == 6
    for text in shown:
        assert PORTAL_PASSWORD not in text, text
    assert "can-bo:***@127.0.0.1" in report.lines[0].message


def test_a_file_name_in_the_local_folder_cannot_drive_the_operators_terminal(shared: Path) -> None:
    # `broadcast fetch` names each skipped file: a name carrying ESC would be a terminal command.
    (shared / "tin\x1b]0;pwn\x07\x1b[2J.txt").write_bytes(b"\xff\xfe\x00")
    _, skipped, warnings = read_local_items(local_feed(shared), NOW)
    assert skipped == 1 and len(warnings) == 1
    assert "tin" in warnings[0] and ".txt" in warnings[0]
    assert_plain(warnings[0])


# ------------------------------------------------------------ compressed twice

def test_a_tiny_response_compressed_twice_cannot_fill_memory() -> None:
    # "Content-Encoding: gzip, gzip": under 2 KB on the wire, 300 MB once unpacked. The HTTP library must
    # unpack it no faster than it is read (urllib3 2.6 and later do; 2.5 unpacked it whole at the first read).
    import tracemalloc
    import zlib

    from broadcast.errors import FeedError
    from broadcast.feeds import fetch

    def gzip_of(blocks) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)
        return b"".join([packer.compress(b) for b in blocks] + [packer.flush()])

    body = gzip_of([gzip_of(b" " * (1 << 20) for _ in range(300))])
    headers = {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip, gzip"}
    with site(lambda request: (200, headers, body)) as where:
        tracemalloc.start()
        try:
            with pytest.raises(FeedError) as caught:
                fetch(FeedConfig("bom", f"http://{where}/rss"), retries=0, max_bytes=5_000_000)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert len(body) < 2000
    assert "vượt giới hạn" in str(caught.value)
    assert peak < 40_000_000, f"unpacking held {peak / 1e6:.0f} MB"
