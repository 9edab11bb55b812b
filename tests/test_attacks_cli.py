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
