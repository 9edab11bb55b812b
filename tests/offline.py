"""A station configuration that builds offline: the demo feed as a local file and the espeak voice."""

from __future__ import annotations

import shutil
from pathlib import Path

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
