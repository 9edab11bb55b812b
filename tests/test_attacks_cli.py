"""The command line given names that try to leave their folders: real files, the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from broadcast.cli import cli
from offline import offline_config


@pytest.mark.parametrize("command", ["hold", "approve", "diff"])
def test_a_slot_name_cannot_reach_outside_the_bulletin_folders(tmp_path: Path, command: str) -> None:
    config = offline_config(tmp_path, '[[stations]]\nid = "hoa-phu"\nname = "Đài truyền thanh xã Hòa Phú"\n')
    # A folder whose name ends in "..", as an unlucky copy or a hostile share leaves: "hoa-phu-" + "../.."
    # then walks up out of data/locks and out of the day's folder.
    (tmp_path / "data" / "locks" / "hoa-phu-..").mkdir(parents=True)
    (tmp_path / "out" / "2026-03-12" / "hoa-phu-..").mkdir(parents=True)
    result = CliRunner().invoke(cli, ["--config", str(config), "--out", str(tmp_path / "out"), "--date", "2026-03-12",
                                      command, "hoa-phu", "--slot", "../../../ngoai"],
                                env={"BROADCAST_NOW": "2026-03-12T05:00:00+07:00"})
    assert result.exit_code == 2, result.output
    assert "buổi phát" in result.output and "Traceback" not in result.output
    assert not [p for p in tmp_path.rglob("*ngoai*")], "nothing is created outside the bulletin folders"


def test_text_from_feeds_and_the_desk_cannot_drive_the_operators_terminal(tmp_path: Path) -> None:
    # A story stored before titles were cleaned, and a hold reason posted to the desk, both carrying ESC:
    # `broadcast items` and `broadcast history` print them on the operator's terminal.
    import datetime as dt

    from broadcast import api
    from broadcast.config import load_config
    from broadcast.models import VN_TZ, FeedItem
    from broadcast.store import Store

    now = dt.datetime(2026, 3, 12, 5, 0, tzinfo=VN_TZ)
    config_path = offline_config(tmp_path, '[[stations]]\nid = "hoa-phu"\nname = "Đài truyền thanh xã Hòa Phú"\n')
    config = load_config(config_path)
    store = Store(config.data_dir / "broadcast.sqlite3")
    try:
        store.add_items([(FeedItem(feed="tinh", source="Báo\x1b[8m tỉnh", title="Dịch vụ công\x1b]52;c;eA==\x07 trực tuyến",
                                   summary="Thủ tục hành chính một cửa.", link="https://a.vn/1", guid="1",
                                   published=now), None)], now)
    finally:
        store.close()

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, ["--config", str(config_path), "--out", str(tmp_path / "out"),
                                          "--date", "2026-03-12", *args], env={"BROADCAST_NOW": now.isoformat()})
        assert result.exit_code == 0, result.output
        return result.output

    run("script", "--no-fetch")
    api.hold(config, tmp_path / "out", "hoa-phu", now.date(), now, by="lan", reason="sai số liệu\x1b[2J\x1b[H")
    printed = run("items", "--all") + run("history")
    assert "Dịch vụ công" in printed and "sai số liệu" in printed
    assert "\x1b" not in printed and "\x07" not in printed
