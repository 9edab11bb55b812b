"""A hold lands while a publisher is writing the same station's feed: the feed left on disk is the one written
from the store after the hold, never the publisher's, read before it, that still lists the held bulletin."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import feedparser
from click.testing import CliRunner

from broadcast import api
from broadcast.cli import cli
from broadcast.config import load_config
from broadcast.publish import podcast
from offline import AUTO_STATION, offline_config

DATE = "2026-03-12"
DAY = dt.date(2026, 3, 12)
VN = dt.timezone(dt.timedelta(hours=7))
NOW = dt.datetime(2026, 3, 12, 5, 30, tzinfo=VN)
BASE_URL = "https://truyenthanh.example.gov.vn/bantin/podcast/"
STATION = AUTO_STATION


def test_a_hold_during_the_publishers_feed_write_keeps_the_feed_empty(tmp_path, monkeypatch):
    out = tmp_path / "audio_out"
    built = CliRunner().invoke(cli, ["--config", str(offline_config(tmp_path, STATION)), "--out", str(out),
                                     "--date", DATE, "build"], env={"BROADCAST_NOW": NOW.isoformat()})
    assert built.exit_code == 0, built.output
    config = load_config(offline_config(tmp_path, f'[publish]\nbase_url = "{BASE_URL}"\n{STATION}'))

    # The publisher pauses inside its feed write, after it read the episodes from the store.
    real_feed_xml = podcast._feed_xml
    in_write, go_on = threading.Event(), threading.Event()

    def paused_feed_xml(*args, **kwargs):
        if threading.current_thread().name == "publisher" and not in_write.is_set():
            in_write.set()
            go_on.wait(30)
        return real_feed_xml(*args, **kwargs)

    monkeypatch.setattr(podcast, "_feed_xml", paused_feed_xml)
    errors: list[BaseException] = []

    def run(fn) -> None:
        try:
            fn()
        except BaseException as exc:  # the test reports it below
            errors.append(exc)

    publisher = threading.Thread(target=run, args=(lambda: api.publish(config, out, DAY, NOW),), name="publisher")
    publisher.start()
    assert in_write.wait(60), errors
    staff = threading.Thread(target=run, args=(lambda: api.hold(
        config, out, "hoa-phu", DAY, NOW + dt.timedelta(minutes=1), by="Chị Lan", reason="sai số liệu"),),
        name="staff")
    staff.start()
    staff.join(1.0)
    go_on.set()
    publisher.join(60)
    staff.join(60)
    assert not errors, errors

    feed = feedparser.parse((out / "podcast" / "hoa-phu.xml").read_bytes())
    assert feed.entries == [], "the held bulletin is still in the podcast"
    assert not list((out / "podcast" / "hoa-phu").glob("*.mp3"))
