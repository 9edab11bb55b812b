"""A hostile (or broken) feed served from 127.0.0.1 and fetched by the real CLI into real SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

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


def fetch_from(tmp_path: Path, url: str) -> tuple[str, sqlite3.Connection]:
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
    assert result.exit_code == 0, result.output
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
