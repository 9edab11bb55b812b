"""Sources attacked by whoever can write into them: a shared local-items folder, a hostile listing page.

Real files, real symlinks, real SQLite: nothing is mocked."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from broadcast.config import FeedConfig
from broadcast.localitems import read_local_items
from broadcast.models import VN_TZ

NOW = dt.datetime(2026, 11, 28, 8, 0, tzinfo=VN_TZ)
SECRET = "mat-khau-sftp-Kx81"


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
