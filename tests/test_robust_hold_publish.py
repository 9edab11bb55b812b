"""A hold pressed while `broadcast publish` is sending the same bulletin: once the hold is confirmed, nothing
is delivered or published after it, and the record never shows a publication after the hold."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import feedparser
from click.testing import CliRunner

from broadcast import api
from broadcast.cli import cli
from broadcast.config import load_config
from broadcast.store import Store
from offline import AUTO_STATION, offline_config
from publish_servers import HoldingReceiver

DATE = "2026-03-12"
DAY = dt.date(2026, 3, 12)
NOW = "2026-03-12T05:30:00+07:00"
HOLD_AT = dt.datetime(2026, 3, 12, 5, 31, tzinfo=dt.timezone(dt.timedelta(hours=7)))
BASE_URL = "https://truyenthanh.example.gov.vn/bantin/podcast/"


def test_a_confirmed_hold_is_never_followed_by_a_delivery(tmp_path):
    receiver = HoldingReceiver()
    try:
        station = AUTO_STATION
        out = tmp_path / "audio_out"
        # Built with nowhere to publish, so the bulletin is rendered and not yet sent anywhere.
        config_path = offline_config(tmp_path, station)
        built = CliRunner().invoke(cli, ["--config", str(config_path), "--out", str(out), "--date", DATE,
                                         "build"], env={"BROADCAST_NOW": NOW})
        assert built.exit_code == 0, built.output
        config_path = offline_config(tmp_path, f'''
[publish]
base_url = "{BASE_URL}"
retry_delay = 0.01
retries = 0
{station}
[[stations.deliver]]
kind = "http"
url = "{receiver.url()}"
timeout = 60
''')

        env = {**os.environ, "BROADCAST_NOW": NOW}
        publisher = subprocess.Popen(
            [sys.executable, "-m", "broadcast", "--config", str(config_path), "--out", str(out), "--date", DATE,
             "publish"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            if not receiver.arrived.wait(60):
                publisher.kill()
                raise AssertionError(publisher.communicate()[0])
            config = load_config(config_path)
            held_at: list[float] = []

            def hold() -> None:
                api.hold(config, out, "hoa-phu", DAY, HOLD_AT, by="Chị Lan", reason="sai số liệu")
                held_at.append(time.monotonic())

            staff = threading.Thread(target=hold)
            staff.start()
            staff.join(1.5)
            # The upload is still on its way: the hold cannot be confirmed before it ends.
            assert not held_at, "hold confirmed while the bulletin was still being delivered"
            receiver.release.set()
            staff.join(60)
            output, _ = publisher.communicate(timeout=60)
        finally:
            receiver.release.set()
            if publisher.poll() is None:
                publisher.kill()
                publisher.wait()
        assert held_at and receiver.finished and receiver.finished[0] <= held_at[0], output

        with Store(tmp_path / "data" / "broadcast.sqlite3") as store:
            actions = [e["action"] for e in store.events("hoa-phu", DAY)]
            row = store.bulletin_row("hoa-phu", DAY)
        assert row["held"]
        assert actions.index("held") > max(i for i, a in enumerate(actions) if a == "published"), actions
        # Off the web once the hold is confirmed.
        feed = feedparser.parse((out / "podcast" / "hoa-phu.xml").read_bytes())
        assert feed.entries == []
        assert not list((out / "podcast" / "hoa-phu").glob("*.mp3"))
    finally:
        receiver.close()
