"""A hostile (or broken) feed served from 127.0.0.1 and fetched by the real CLI into real SQLite."""

from __future__ import annotations

import ipaddress
import socket
import sqlite3
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from broadcast.cli import cli
from httpserver import FeedServer

NOW = "2026-03-12T05:30:00+07:00"


def rss(items: list[str]) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Cổng tin xã</title>'
            '<link>https://xa.example.vn/</link>' + "".join(items) + "</channel></rss>").encode("utf-8")


def item(n: int, title: str, summary: str = "Thủ tục hành chính một cửa.") -> str:
    return (f"<item><title>{title}</title><link>https://xa.example.vn/tin-{n}</link>"
            f"<description>{summary}</description></item>")


def fetch_from(tmp_path: Path, url: str, expect_ok: bool = True) -> tuple[str, sqlite3.Connection]:
    tmp_path.mkdir(exist_ok=True)
    config = tmp_path / "broadcast.toml"
    config.write_text(f'''
[general]
data_dir = "data"

[[feeds]]
name = "xa"
url = "{url}"

[tts]
engine = "espeak"

[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"
''', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "--out", str(tmp_path / "out"), "--date", "2026-03-12",
                                      "fetch"], env={"BROADCAST_NOW": NOW})
    assert (result.exit_code == 0) == expect_ok, result.output
    return result.output, sqlite3.connect(tmp_path / "data" / "broadcast.sqlite3")


def test_a_feed_of_endless_stories_and_megabyte_fields_is_cut_to_what_a_feed_can_be(tmp_path):
    # A hijacked or broken portal: thousands of entries, a "title" of a megabyte, a "lead" of two. Each would
    # be stored, scored, offered on every station's candidate list and printed to the operator every night.
    huge_title = "Đẩy mạnh cải cách hành chính, chuyển đổi số tại xã. " * 20_000
    huge_lead = "Dịch vụ công trực tuyến toàn trình cho người dân. " * 40_000
    entries = [item(0, huge_title), item(1, "Người dân nộp hồ sơ trực tuyến", huge_lead)]
    entries += [item(n, f"Tin cải cách hành chính số {n}") for n in range(2, 3000)]
    with FeedServer() as server:
        server.add("/rss", body=rss(entries))
        output, db = fetch_from(tmp_path, server.url("/rss"))
    try:
        kept = {row[0] for row in db.execute("SELECT key FROM story_keys WHERE key LIKE 'link:%'")}
        longest_title = db.execute("SELECT MAX(LENGTH(title)) FROM story_sources").fetchone()[0]
        longest_title = max(longest_title, db.execute("SELECT MAX(LENGTH(title)) FROM stories").fetchone()[0])
        longest_lead = db.execute("SELECT MAX(LENGTH(summary)) FROM stories").fetchone()[0]
    finally:
        db.close()
    # The list's head is kept (feeds put the newest first), the two giants among them, cut short.
    assert len(kept) == 500
    assert {"link:xa.example.vn/tin-0", "link:xa.example.vn/tin-1", "link:xa.example.vn/tin-499"} <= kept, sorted(kept)[:3]
    assert longest_title <= 500 and longest_lead <= 8000
    assert "chỉ lấy 500 bài đầu" in output and "đã cắt bớt" in output
    assert len(output) < 5000, "the operator's screen gets a line, not the megabytes"


def outward_address() -> str:
    """This machine's address on its network (the one a route to the internet leaves from)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("203.0.113.1", 9))  # no packet is sent: this only picks the route
            address = probe.getsockname()[0]
        except OSError:
            address = ""
    if not address or ipaddress.ip_address(address).is_loopback:
        pytest.skip("máy không có địa chỉ mạng nào ngoài 127.0.0.1 để đặt nguồn tin 'bên ngoài'")
    return address


class OnAddress(FeedServer):
    """The test feed server, listening on another address of this machine."""

    def __init__(self, address: str) -> None:
        super().__init__()
        self.httpd.server_close()
        handler = self.httpd.RequestHandlerClass
        self.httpd = ThreadingHTTPServer((address, 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self.address = address

    def url(self, path: str) -> str:
        return f"http://{self.address}:{self.port}{path}"


def test_a_feed_outside_cannot_send_the_fetcher_to_this_machine_or_its_network(tmp_path):
    # A hijacked portal answers 302 towards 127.0.0.1 (the desk, a database's web console) or a cloud's
    # metadata service: the nightly fetch would make that request from inside, and what an inside feed
    # holds would come back as stories.
    address = outward_address()
    inside_item = item(1, "Danh sách nội bộ: mật khẩu máy chủ")
    with FeedServer() as inside, OnAddress(address) as outside:
        inside.add("/noi-bo.xml", body=rss([inside_item]))
        outside.add("/rss", redirect_to=inside.url("/noi-bo.xml"), status=302)
        output, db = fetch_from(tmp_path, outside.url("/rss"), expect_ok=False)
        db.close()
        assert inside.hits("/noi-bo.xml") == []
    assert "chuyển hướng" in output and "127.0.0.1" in output
    # A feed on this machine may still move within it: what its own address already reaches.
    with FeedServer() as local:
        local.add("/rss", redirect_to=f"http://localhost:{local.port}/moi.xml", status=301)
        local.add("/moi.xml", body=rss([item(2, "Cải cách hành chính ở xã")]))
        output, db = fetch_from(tmp_path / "2", local.url("/rss"))
        db.close()
        assert local.hits("/moi.xml")
