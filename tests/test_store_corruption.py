"""A damaged database stops the run with the recovery step and exit 2, never a traceback."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from broadcast.errors import StoreCorruptError
from broadcast.models import VN_TZ, FeedItem
from broadcast.store import Store

NOW = dt.datetime(2026, 9, 14, 12, 0, tzinfo=VN_TZ)
FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Báo xã</title>
<item><title>Xã Hòa Phú tiếp nhận hồ sơ trực tuyến</title><link>https://a.vn/moi.html</link>
<description>Bộ phận một cửa hướng dẫn người dân nộp hồ sơ trực tuyến.</description></item>
</channel></rss>"""


class Rel:
    score, topics, matches = 1.0, ["dvctt"], []


def filled_database(path: Path, stories: int = 600) -> Path:
    """A real database with enough stories to span many pages."""
    with Store(path) as store:
        items = [(FeedItem(feed="f", source="Báo xã", title=f"Tin số {n} về cải cách thủ tục thứ {n * 7919}",
                           summary=f"Nội dung tin số {n}. " * 30, link=f"https://a.vn/tin-{n}.html",
                           guid="", published=NOW - dt.timedelta(minutes=n)), Rel()) for n in range(stories)]
        store.add_items(items, NOW)
    assert not path.with_name(path.name + "-wal").exists() or path.with_name(path.name + "-wal").stat().st_size == 0
    return path


def damage_middle(path: Path) -> None:
    """Overwrite the middle third of the pages, leaving the header page intact."""
    page = sqlite3.connect(str(path)).execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(path.read_bytes())
    pages = len(data) // page
    assert pages > 20
    for n in range(pages // 3, 2 * pages // 3):
        data[n * page:(n + 1) * page] = b"\xa5" * page
    path.write_bytes(bytes(data))


def test_damage_past_the_header_found_by_a_query_is_a_clear_exit_2(tmp_path: Path) -> None:
    path = filled_database(tmp_path / "broadcast.sqlite3")
    damage_middle(path)
    with pytest.raises(StoreCorruptError) as err:
        with Store(path) as store:  # the header page is fine: opening works
            store.candidates("hoa-phu", NOW, 72.0)
    assert err.value.exit_code == 2
    message = str(err.value)
    assert str(path) in message and "bị hỏng" in message and "đổi tên" in message
    assert "tải lại tin" in message


def test_damage_found_while_iterating_rows_is_the_same_error(tmp_path: Path) -> None:
    path = filled_database(tmp_path / "broadcast.sqlite3")
    damage_middle(path)
    with Store(path) as store, pytest.raises(StoreCorruptError):
        for _ in store.db.execute("SELECT id, summary FROM stories ORDER BY id"):
            pass


def test_a_file_that_is_not_sqlite_is_found_at_open(tmp_path: Path) -> None:
    path = tmp_path / "broadcast.sqlite3"
    path.write_bytes(b"this is not sqlite at all" * 200)
    with pytest.raises(StoreCorruptError, match="đổi tên"):
        Store(path)


def test_a_sound_database_is_untouched_by_the_guard(tmp_path: Path) -> None:
    path = filled_database(tmp_path / "broadcast.sqlite3", stories=50)
    with Store(path) as store:
        assert store.count() == 50
        assert len(store.candidates("hoa-phu", NOW, 72.0)) == 50


def _config(tmp_path: Path) -> Path:
    feed = tmp_path / "tin.xml"
    feed.write_text(FEED, encoding="utf-8")
    cfg = tmp_path / "broadcast.toml"
    cfg.write_text(f"""
[general]
data_dir = "{tmp_path / 'data'}"

[[feeds]]
name = "bao-xa"
url = "{feed}"

[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"

[tts]
engine = "espeak"
""", encoding="utf-8")
    return cfg


@pytest.mark.parametrize("command", [["items"], ["script", "--no-fetch"], ["fetch"], ["script"]])
def test_cli_stops_with_exit_2_and_the_recovery_step(tmp_path: Path, command: list[str]) -> None:
    cfg = _config(tmp_path)
    db = filled_database(tmp_path / "data" / "broadcast.sqlite3")
    damage_middle(db)
    proc = subprocess.run([sys.executable, "-m", "broadcast", "--config", str(cfg), "--date", "2026-09-14",
                           "--out", str(tmp_path / "out"), *command],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith(f"Lỗi: Tệp dữ liệu {db} bị hỏng") and "đổi tên" in lines[-1]
    assert "Traceback" not in proc.stderr and "không mong đợi" not in proc.stderr
