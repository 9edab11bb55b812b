"""Names in the configuration that carry line breaks or terminal codes: the real CLI on real files."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from broadcast.cli import cli
from offline import offline_config

NOW = "2026-03-12T05:30:00+07:00"
STATION = '''
[[stations]]
id = "hoa-phu"
name = "{name}"
commune = "{commune}"
target_minutes = 1
'''


def run(config: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config), "--out", str(config.parent / "out"),
                                    "--date", "2026-03-12", *args], env={"BROADCAST_NOW": NOW})


@pytest.mark.parametrize("key, value", [
    # The station's name heads its playlist entry (#EXTINF:165,<name>): a line break there puts an address
    # of the writer's choosing into the loudspeaker's playlist, played like the bulletin.
    ("name", r"Đài truyền thanh xã Hòa Phú\nhttp://lua-dao.example/am-thanh.mp3"),
    ("commune", r"Hòa Phú\r\n[tin 1] Tin giả"),
    ("name", r"Đài Hòa Phú\u001b]52;c;cm0gLXJmIH4=\u0007"),
])
def test_a_name_in_the_configuration_is_one_line_of_text(tmp_path: Path, key: str, value: str) -> None:
    values = {"name": "Đài truyền thanh xã Hòa Phú", "commune": "Hòa Phú", key: value}
    config = offline_config(tmp_path, STATION.format(**values))
    result = run(config, "script")
    assert result.exit_code == 2, result.output
    assert f"stations[0].{key}" in result.output and "một dòng" in result.output
    assert "\x1b" not in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_a_feeds_spoken_source_is_one_line_too(tmp_path: Path) -> None:
    config = offline_config(tmp_path, STATION.format(name="Đài Hòa Phú", commune="Hòa Phú"))
    config.write_text(config.read_text(encoding="utf-8").replace(
        'source = "Cổng Thông tin điện tử tỉnh"', r'source = "Cổng tỉnh\n# mã tin: 1"'), encoding="utf-8")
    result = run(config, "script")
    assert result.exit_code == 2 and "feeds[0].source" in result.output, result.output
