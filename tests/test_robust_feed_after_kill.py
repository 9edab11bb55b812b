"""`broadcast publish` killed (SIGKILL) after it recorded a podcast episode and before it wrote the feed: the
next run writes the feed, so the store never says "published to the podcast" while the feed does not list it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import feedparser

from broadcast.publish.records import episodes
from broadcast.store import Store
from offline import AUTO_STATION, offline_config
from publish_servers import HoldingReceiver

DATE = "2026-03-12"
NOW = "2026-03-12T05:30:00+07:00"
BASE_URL = "https://truyenthanh.example.gov.vn/bantin/podcast/"
STATION = AUTO_STATION


def broadcast(config: Path, date: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "broadcast", "--config", str(config), "--out",
                             str(config.parent / "audio_out"), "--date", date, *args],
                            env={**os.environ, "BROADCAST_NOW": NOW}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen) -> str:
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, output
    return output


def test_a_publish_killed_before_the_feed_is_written_is_finished_by_the_next(tmp_path):
    receiver = HoldingReceiver()
    try:
        finish(broadcast(offline_config(tmp_path, STATION), DATE, "build"))  # nowhere to publish yet
        config = offline_config(tmp_path, f'''
[publish]
base_url = "{BASE_URL}"
retries = 0
{STATION}
[[stations.deliver]]
kind = "http"
url = "{receiver.url()}"
timeout = 60
''')
        finish(broadcast(config, "2026-03-11", "publish"))  # the day before: the station's feed, still empty
        feed = tmp_path / "audio_out" / "podcast" / "hoa-phu.xml"
        assert feedparser.parse(feed.read_bytes()).entries == []

        proc = broadcast(config, DATE, "publish")
        try:
            assert receiver.arrived.wait(120), proc.communicate(timeout=5)[0] if proc.poll() is not None else ""
        finally:
            proc.send_signal(signal.SIGKILL)  # the episode is recorded; the delivery and the feed are not done
            proc.wait()
        receiver.release.set()
        with Store(tmp_path / "data" / "broadcast.sqlite3") as store:
            assert len(episodes(store, "hoa-phu")) == 1

        finish(broadcast(config, DATE, "publish"))
        entries = feedparser.parse(feed.read_bytes()).entries
        with Store(tmp_path / "data" / "broadcast.sqlite3") as store:
            eps = episodes(store, "hoa-phu")
            row = store.bulletin_row("hoa-phu", __import__("datetime").date(2026, 3, 12))
        assert row["published_sha"] == row["rendered_sha"]
        assert [e.id for e in entries] == [ep.guid for ep in eps], "the feed lists what the store says is published"
        served = tmp_path / "audio_out" / "podcast" / entries[0].enclosures[0].href[len(BASE_URL):]
        assert served.is_file()
    finally:
        receiver.close()
