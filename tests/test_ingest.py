"""Ingest: every feed fetched, failures reported per feed, stories stored, scored and deduplicated."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from broadcast.config import AudioConfig, Config, FeedConfig, SelectionConfig, StationConfig, TTSConfig
from broadcast.ingest import ingest, vocabulary_id
from broadcast.models import VN_TZ
from broadcast.relevance import load_vocabulary
from broadcast.selection import select
from broadcast.store import Store
from httpserver import FeedServer

FEEDS = Path(__file__).parent / "data" / "feeds"
NOW = dt.datetime(2026, 9, 14, 20, 0, tzinfo=VN_TZ)
SHARED = ["baochinhphu-1.xml", "baochinhphu-2.xml", "nhandan-1.xml", "thanhnien-1.xml", "vietnambiz-1.xml",
          "vietnamnet-1.xml", "vietstock-1.xml", "vnexpress-1.xml", "vnexpress-2.xml", "vnexpress-3.xml", "vtv-1.xml"]


def config(tmp_path: Path, feeds: list[FeedConfig], **kw: object) -> Config:
    return Config(path=None, is_demo=False, data_dir=tmp_path, province="Đắk Lắk", feeds=feeds,
                  stations=[StationConfig(id="hoa-phu", name="Đài xã Hòa Phú")], tts=TTSConfig(),
                  audio=AudioConfig(), selection=SelectionConfig(), **kw)


def local(name: str, feed: str | None = None, **kw: object) -> FeedConfig:
    return FeedConfig(name=feed or name.rsplit(".", 1)[0], url=str(FEEDS / name), **kw)


@pytest.fixture(scope="module")
def vocab():
    return load_vocabulary()


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path / "broadcast.sqlite3")
    yield s
    s.close()


def test_all_shared_documents_and_broken_feeds_in_one_run(tmp_path: Path, store: Store, vocab) -> None:
    feeds = [local(n) for n in SHARED]
    feeds.insert(3, FeedConfig(name="trang-html", url=str(FEEDS / "own-html.html")))
    feeds.insert(6, FeedConfig(name="mat-tep", url=str(tmp_path / "khong-co.xml")))
    report = ingest(config(tmp_path, feeds), store, now=NOW, vocab=vocab)

    by_name = {line.feed: line for line in report.lines}
    assert [line.feed for line in report.lines] == [f.name for f in feeds]  # config order
    assert by_name["trang-html"].status == "failed"
    assert "trang-html" in by_name["trang-html"].message and "HTML" in by_name["trang-html"].message
    assert by_name["mat-tep"].status == "failed" and "không tìm thấy tệp" in by_name["mat-tep"].message
    ok = [line for line in report.lines if line.status == "ok"]
    assert len(ok) == 11 and report.failed == 2
    assert by_name["baochinhphu-1"].items == 50 and by_name["vietnambiz-1"].items == 30
    assert by_name["vnexpress-3"].items == 24 and by_name["vnexpress-3"].skipped == 1
    # vnexpress-1 and -3 share no story, but the two baochinhphu documents do not overlap either:
    assert report.new == sum(line.items for line in ok) - report.merged
    assert report.new == store.count()
    assert 0 < report.relevant < report.new
    assert "tin về CCHC" in by_name["baochinhphu-1"].message
    assert "ngừng cập nhật" in by_name["vnexpress-1"].message  # newest item from 2017
    assert report.summary.startswith(f"Tổng cộng: {report.new} tin mới, {report.relevant} tin về cải cách hành chính")
    assert "2 nguồn lỗi" in report.summary


def test_syndicated_story_merged_and_empty_date_uses_first_seen(tmp_path: Path, store: Store, vocab) -> None:
    feeds = [local("own-daklak.xml", "daklak", source="Báo Đắk Lắk", weight=2.0),
             local("own-national.xml", "tintuc", source="Tin tức")]
    report = ingest(config(tmp_path, feeds), store, now=NOW, vocab=vocab)
    assert report.new == 5 and report.merged == 1
    cands = store.candidates("hoa-phu", NOW, 72)
    story = next(c for c in cands if c.title.startswith("Đắk Lắk: 100% thủ tục"))
    assert story.sources == ["Báo Đắk Lắk", "Tin tức"]
    assert "mot_cua" in story.topics and story.score >= vocab.threshold
    assert any("trung tâm phục vụ hành chính công" in m for m in story.matches)
    coffee = next(c for c in cands if c.title.startswith("Giá cà phê"))
    assert coffee.published is None and coffee.first_seen == NOW
    # The selection airs reform news and leaves the coffee price and bank rates out.
    st = StationConfig(id="hoa-phu", name="Đài xã Hòa Phú")
    ranked = select(cands, st, {f.name: f.weight for f in feeds}, 300, min_score=vocab.threshold, now=NOW)
    chosen = [c.title for c in ranked if c.selected]
    assert chosen[0].startswith("Đắk Lắk: 100% thủ tục")
    assert "Xã Hòa Phú triển khai kết nối VNeID cho người cao tuổi" in chosen
    assert not any("cà phê" in t or "Lãi suất" in t for t in chosen)


def test_feed_that_changes_between_runs(tmp_path: Path, store: Store, vocab) -> None:
    v1 = (FEEDS / "vtv-1.xml").read_bytes()
    extra = ("<item><title><![CDATA[Bộ Nội vụ công bố Chỉ số cải cách hành chính năm 2025]]></title>"
             "<link>https://vtv.vn/par-index-2025.htm</link><pubDate>Mon, 14 Sep 2026 19:50:00 +07</pubDate>"
             "<description>Chỉ số PAR INDEX của tỉnh tăng 5 bậc.</description></item>").encode("utf-8")
    v2 = v1.replace(b"<item>", extra + b"<item>", 1)
    with FeedServer() as srv:
        srv.add("/vtv.rss", body=v1, etag='"a1"')
        srv.add("/bcp.rss", body=(FEEDS / "baochinhphu-2.xml").read_bytes(),
                last_modified="Mon, 14 Sep 2026 12:00:00 GMT")
        feeds = [FeedConfig(name="vtv", url=srv.url("/vtv.rss"), source="VTV"),
                 FeedConfig(name="bcp", url=srv.url("/bcp.rss"), source="Báo Chính phủ")]
        cfg = config(tmp_path, feeds, fetch_timeout=5.0, fetch_retries=1)

        first = ingest(cfg, store, now=NOW, vocab=vocab, backoff=0)
        assert [(l.status, l.new) for l in first.lines] == [("ok", 2), ("ok", 2)]

        second = ingest(cfg, store, now=NOW, vocab=vocab, backoff=0)
        assert [l.status for l in second.lines] == ["not_modified", "not_modified"]
        assert second.new == 0 and "không có tin mới" in second.lines[0].message
        assert srv.hits("/vtv.rss")[-1].headers["If-None-Match"] == '"a1"'
        assert srv.hits("/bcp.rss")[-1].headers["If-Modified-Since"] == "Mon, 14 Sep 2026 12:00:00 GMT"

        srv.add("/vtv.rss", body=v2, etag='"a2"')
        srv.add("/bcp.rss", status=500, body=b"down", fail_times=0)
        third = ingest(cfg, store, now=NOW, vocab=vocab, backoff=0)
        vtv, bcp = third.lines
        assert (vtv.status, vtv.items, vtv.new, vtv.relevant) == ("ok", 3, 1, 1)
        assert bcp.status == "failed" and "bcp" in bcp.message and "(500)" in bcp.message
        assert "Hãy kiểm tra" in bcp.message
        # Items stored earlier stay, and the failure does not forget the validators.
        titles = {c.title for c in store.candidates("hoa-phu", NOW, 72)}
        assert "Vietjet và Thales mở rộng hợp tác hàng không công nghệ cao Việt Nam - Pháp" in titles
        assert "Bộ Nội vụ công bố Chỉ số cải cách hành chính năm 2025" in titles
        assert store.cache_headers("bcp", srv.url("/bcp.rss"))[1] == "Mon, 14 Sep 2026 12:00:00 GMT"


def test_slow_and_dead_feeds_do_not_hold_up_the_others(tmp_path: Path, store: Store) -> None:
    with FeedServer() as srv:
        srv.add("/slow", body=b"<rss/>", delay=5)
        srv.add("/ok", body=(FEEDS / "nhandan-1.xml").read_bytes())
        feeds = [FeedConfig(name="cham", url=srv.url("/slow")), FeedConfig(name="chet", url=srv.url("/missing")),
                 FeedConfig(name="tot", url=srv.url("/ok"))]
        report = ingest(config(tmp_path, feeds, fetch_timeout=0.3, fetch_retries=0), store, now=NOW, backoff=0)
    assert [l.status for l in report.lines] == ["failed", "failed", "ok"]
    assert "không trả lời" in report.lines[0].message
    assert "(404)" in report.lines[1].message
    assert report.lines[2].new == 2 and report.relevant == 0  # no vocabulary: nothing counts as relevant


def test_changed_vocabulary_rescores_stored_stories(tmp_path: Path, store: Store, vocab) -> None:
    cfg = config(tmp_path, [local("own-daklak.xml", "daklak")])
    ingest(cfg, store, now=NOW, vocab=vocab)
    coffee = [c for c in store.candidates("hoa-phu", NOW, 72) if "cà phê" in c.title][0]
    assert coffee.score == 0
    extra = tmp_path / "topics-xa.toml"
    extra.write_text('[topics.tthc.phrases]\n"giá cà phê" = 1.5\n', encoding="utf-8")
    station_vocab = load_vocabulary(extra)
    assert vocabulary_id(station_vocab) != vocabulary_id(vocab)
    report = ingest(cfg, store, now=NOW, vocab=station_vocab)
    assert report.rescored == 3 and report.new == 0
    coffee = [c for c in store.candidates("hoa-phu", NOW, 72) if "cà phê" in c.title][0]
    assert coffee.score > 0 and coffee.topics == ["tthc"]


def test_stand_in_scorer_and_report_dict(tmp_path: Path, store: Store) -> None:
    class Rel:
        def __init__(self, score: float) -> None:
            self.score, self.topics, self.matches = score, ["x"] if score else [], []

    cfg = config(tmp_path, [local("thanhnien-1.xml", "tn")])
    report = ingest(cfg, store, now=NOW, scorer=lambda t, s: Rel(2.0 if "30%" in t else 0.0))
    assert report.new == 2 and report.relevant == 1  # without a vocabulary: any positive score
    data = report.to_dict()
    assert data["new"] == 2 and data["feeds"][0]["feed"] == "tn" and data["feeds"][0]["status"] == "ok"
    assert [c.score for c in store.candidates("hoa-phu", NOW, 72)] == [2.0, 0.0]


def test_fetching_is_concurrent_but_bounded(tmp_path: Path, store: Store) -> None:
    page = (FEEDS / "own-html.html").read_bytes()
    with FeedServer() as srv:
        feeds = []
        for i in range(6):
            srv.add(f"/f{i}", body=(FEEDS / "vtv-1.xml").read_bytes(), delay=0.2)
            feeds.append(FeedConfig(name=f"f{i}", url=srv.url(f"/f{i}")))
        srv.add("/page", body=page, content_type="text/html; charset=utf-8")
        feeds.append(FeedConfig(name="trang-web", url=srv.url("/page")))
        report = ingest(config(tmp_path, feeds, fetch_workers=2, fetch_timeout=5.0), store, now=NOW, backoff=0)
        assert srv.max_in_flight == 2  # never more than fetch_workers at once, and more than one
    assert [l.status for l in report.lines] == ["ok"] * 6 + ["failed"]
    assert "trang web (HTML), không phải RSS" in report.lines[-1].message
    assert report.new == 2 and report.merged == 10  # the same two stories reached through six feeds


def test_stored_in_configuration_order_whatever_answers_first(tmp_path: Path, store: Store, vocab) -> None:
    # The first feed in the configuration answers last; it must still name the
    # shared story and be credited first.
    with FeedServer() as srv:
        srv.add("/daklak.rss", body=(FEEDS / "own-daklak.xml").read_bytes(), delay=0.6)
        srv.add("/tintuc.rss", body=(FEEDS / "own-national.xml").read_bytes())
        feeds = [FeedConfig(name="daklak", url=srv.url("/daklak.rss"), source="Báo Đắk Lắk"),
                 FeedConfig(name="tintuc", url=srv.url("/tintuc.rss"), source="Tin tức")]
        report = ingest(config(tmp_path, feeds, fetch_timeout=5.0), store, now=NOW, vocab=vocab, backoff=0)
    assert [(l.feed, l.new, l.merged) for l in report.lines] == [("daklak", 3, 0), ("tintuc", 2, 1)]
    story = next(c for c in store.candidates("hoa-phu", NOW, 72) if "Trung tâm Phục vụ" in c.title)
    assert story.title.startswith("Đắk Lắk: 100% thủ tục")
    assert story.sources == ["Báo Đắk Lắk", "Tin tức"] and story.feeds == ["daklak", "tintuc"]
