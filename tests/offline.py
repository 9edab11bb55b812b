"""A station configuration that builds offline: the demo feed as a local file and the espeak voice."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

DATA = Path(__file__).parent / "data"

PREAMBLE = '''
[general]
data_dir = "data"

[[feeds]]
name = "tinh"
url = "tin.xml"
source = "Cổng Thông tin điện tử tỉnh"

[tts]
engine = "espeak"
'''


def offline_config(root: Path, rest: str) -> Path:
    """Write `root`/broadcast.toml: the offline preamble, then `rest` (stations, publishing…)."""
    feed = root / "tin.xml"
    if not feed.exists():
        shutil.copy(DATA / "demo-feed.xml", feed)
    path = root / "broadcast.toml"
    path.write_text(PREAMBLE + "\n" + rest, encoding="utf-8")
    return path


def approved_station(root: Path, base_url: str) -> Path:
    """An offline configuration of one station that airs only approved bulletins, its podcast at `base_url`."""
    return offline_config(root, f'''
[publish]
base_url = "{base_url}"

[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"
target_minutes = 1
publish = "approved"
''')


def cli_on(config: Path, out: Path, date: str) -> Callable[..., str]:
    """A runner of the CLI for one day: `run(*args, now=...)` fails the test unless it exits 0."""
    from click.testing import CliRunner

    from broadcast.cli import cli

    def run(*args: str, now: str) -> str:
        result = CliRunner().invoke(cli, ["--config", str(config), "--out", str(out), "--date", date, *args],
                                    env={"BROADCAST_NOW": now})
        assert result.exit_code == 0, result.output
        return result.output
    return run


# One station that airs whatever is made (no approval step).
AUTO_STATION = '''
[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"
target_minutes = 1
publish = "auto"
'''
