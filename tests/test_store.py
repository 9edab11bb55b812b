"""The SQLite store: dedupe across runs and sources, what aired where, feed cache, two processes."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from broadcast.config import FeedConfig, StationConfig
from broadcast.dedupe import NearDuplicateIndex, entities, fingerprint, normalize_link, same_event, same_story
from broadcast.errors import BroadcastError
from broadcast.feeds import parse_feed
from broadcast.models import VN_TZ, FeedItem
from broadcast.selection import select
from broadcast.store import MIGRATIONS, Store
from event_cases import DIFFERENT, SAME_EVENT

FEEDS = Path(__file__).parent / "data" / "feeds"
NOW = dt.datetime(2026, 9, 14, 12, 0, tzinfo=VN_TZ)


@dataclass
class Rel:
    """Stand-in for relevance.Relevance: just the fields the store reads."""

    score: float
    topics: list[str] = field(default_factory=list)
    matches: list = field(default_factory=list)


@dataclass
class M:
    phrase: str
    topic: str
    weight: float


def item(n: int, feed: str = "f", title: str | None = None, link: str | None = None, guid: str = "",
         published: dt.datetime | None = NOW, summary: str = "", source: str = "Nguồn") -> FeedItem:
    return FeedItem(feed=feed, source=source, title=title or f"Tin số {n} về chuyện riêng thứ {n * 7919}",
                    summary=summary, link=link if link is not None else f"https://a.vn/tin-{n}.html",
                    guid=guid, published=published)


def parsed(name: str, feed: str, source: str) -> list[FeedItem]:
    doc = (FEEDS / name).read_bytes()
    return parse_feed(doc, FeedConfig(name=feed, url=str(FEEDS / name), source=source), now=NOW).items


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path / "broadcast.sqlite3")
    yield s
    s.close()


def test_creates_migrated_wal_database(tmp_path: Path) -> None:
    with Store(tmp_path / "data") as s:  # a data directory works too
        assert s.path == tmp_path / "data" / "broadcast.sqlite3"
        assert s.schema_version == len(MIGRATIONS)
        assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    with Store(tmp_path / "data" / "broadcast.sqlite3") as s:  # reopening changes nothing
        assert s.schema_version == len(MIGRATIONS)
        assert s.count() == 0


def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broadcast.sqlite3"
    Store(path).close()
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    con.close()
    with pytest.raises(BroadcastError) as err:
        Store(path)
    assert "phiên bản broadcast mới hơn" in str(err.value)


def test_corrupt_file_gives_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "broadcast.sqlite3"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(BroadcastError) as err:
        Store(path)
    assert str(path) in str(err.value) and "bị hỏng" in str(err.value)


def test_same_link_or_guid_is_one_story_across_runs(store: Store) -> None:
    first = store.add_items([(item(1, guid="g-1"), Rel(2.0))], NOW)
    assert first[0].status == "new"
    # Next run: same link written differently (scheme, www, tracking, slash).
    again = store.add_items([(item(1, link="http://www.a.vn/tin-1.html/?utm_source=rss"), Rel(2.0))], NOW)
    assert again[0].status == "known" and again[0].story_id == first[0].story_id
    # Same guid, new link (site moved the article).
    moved = store.add_items([(item(1, link="https://a.vn/moi/tin-1.html", guid="g-1"), Rel(2.0))], NOW)
    assert moved[0].story_id == first[0].story_id
    assert store.count() == 1


def test_syndicated_story_is_one_item_with_all_sources(store: Store) -> None:
    local = parsed("own-daklak.xml", "daklak", "Báo Đắk Lắk")
    national = parsed("own-national.xml", "tintuc", "Tin tức")
    res1 = store.add_items([(i, Rel(3.0, ["tthc"])) for i in local], NOW)
    res2 = store.add_items([(i, Rel(2.5, ["mot_cua", "tthc"])) for i in national], NOW)
    assert [r.status for r in res1] == ["new", "new", "new"]
    # The reworded national copy joins the local story; the two daily rate
    # reports differ only by date and stay separate stories.
    assert [r.status for r in res2] == ["merged", "new", "new"]
    assert res2[0].story_id == res1[0].story_id
    story = store.stories([res1[0].story_id])[0]
    assert story.sources == ["Báo Đắk Lắk", "Tin tức"]
    assert story.feeds == ["daklak", "tintuc"]
    assert story.topics == ["tthc", "mot_cua"]
    assert story.score == 3.0
    assert story.title.startswith("Đắk Lắk: 100% thủ tục hành chính")  # the first report's wording
    assert store.count() == 5


def test_score_topics_and_phrases_are_kept_for_explain(store: Store) -> None:
    rel = Rel(2.25, ["mot_cua"], [M("một cửa liên thông", "mot_cua", 1.5), M("UBND", "context", 0.1)])
    sid = store.add_items([(item(1), rel)], NOW)[0].story_id
    c = store.stories([sid])[0]
    assert c.score == 2.25 and c.topics == ["mot_cua"]
    assert c.matches == ["một cửa liên thông (mot_cua +1.5)", "UBND (context +0.1)"]


def test_candidates_fresh_and_never_aired_here(store: Store) -> None:
    old = NOW - dt.timedelta(hours=100)
    ids = [r.story_id for r in store.add_items([
        (item(1, published=NOW - dt.timedelta(hours=2)), Rel(2.0)),
        (item(2, published=old), Rel(5.0)),  # too old for a 72-hour window
        (item(3, published=None), Rel(1.0)),  # no date: first seen now counts
        (item(4, feed="other", published=NOW - dt.timedelta(hours=1)), Rel(3.0)),
    ], NOW)]
    got = store.candidates("hoa-phu", NOW, 72)
    assert [c.id for c in got] == [ids[3], ids[0], ids[2]]  # best score first
    assert got[2].published is None and got[2].first_seen == NOW
    assert [c.id for c in store.candidates("hoa-phu", NOW, 72, feeds=["f"])] == [ids[0], ids[2]]
    assert store.candidates("hoa-phu", NOW, 72, feeds=[]) == []

    store.record_aired("hoa-phu", NOW.date(), "sang", [ids[0], ids[3]], now=NOW)
    assert [c.id for c in store.candidates("hoa-phu", NOW, 72)] == [ids[2]]
    # Another station has aired nothing yet.
    assert len(store.candidates("ea-kao", NOW, 72)) == 3
    # Rebuilding the same bulletin offers its stories again.
    again = store.candidates("hoa-phu", NOW, 72, date=NOW.date(), slot="sang")
    assert {c.id for c in again} == {ids[0], ids[2], ids[3]}
    # A rebuild records what finally aired, replacing the first record.
    store.record_aired("hoa-phu", NOW.date(), "sang", [ids[3]], now=NOW)
    assert store.aired("hoa-phu") == [(NOW.date(), "sang", ids[3])]
    assert {c.id for c in store.candidates("hoa-phu", NOW, 72)} == {ids[0], ids[2]}


def test_aired_stays_aired_on_later_days(store: Store) -> None:
    sid = store.add_items([(item(1), Rel(2.0))], NOW)[0].story_id
    store.record_aired("hoa-phu", NOW.date(), "", [sid, 999999], now=NOW)  # unknown ids are ignored
    tomorrow = NOW + dt.timedelta(days=1)
    assert store.candidates("hoa-phu", tomorrow, 72) == []
    assert store.candidates("hoa-phu", tomorrow, 72, date=tomorrow.date(), slot="") == []


def test_bulletin_for_yesterday_takes_no_news_of_today(store: Store) -> None:
    yesterday = NOW.date() - dt.timedelta(days=1)
    # Fetched yesterday afternoon, and today.
    ids = [r.story_id for r in store.add_items([
        (item(1, published=NOW - dt.timedelta(days=1, hours=3)), Rel(2.0)),  # yesterday 09:00
    ], NOW - dt.timedelta(days=1))] + [r.story_id for r in store.add_items([
        (item(2, published=dt.datetime.combine(NOW.date(), dt.time(7, 30), VN_TZ)), Rel(3.0)),  # today 07:30
        (item(3, published=dt.datetime.combine(NOW.date(), dt.time(0, 0), VN_TZ)), Rel(3.0)),  # today 00:00
    ], NOW)]
    end_of_yesterday = dt.datetime.combine(yesterday, dt.time(23, 59), VN_TZ)
    got = store.candidates("hoa-phu", end_of_yesterday, 72, date=yesterday, slot="")
    assert [c.id for c in got] == [ids[0]]
    # Without a date, the day of `now` bounds the offer.
    assert [c.id for c in store.candidates("hoa-phu", end_of_yesterday, 72)] == [ids[0]]
    # Today's bulletin has all three.
    assert {c.id for c in store.candidates("hoa-phu", NOW, 72, date=NOW.date(), slot="")} == set(ids)


def test_feed_cache_headers(store: Store) -> None:
    assert store.cache_headers("bcp", "https://a.vn/rss") == (None, None)
    store.set_feed_state("bcp", "https://a.vn/rss", "ok", "bcp: 50 tin", NOW, '"v1"', "Mon, 14 Sep 2026 05:00:00 GMT")
    assert store.cache_headers("bcp", "https://a.vn/rss") == ('"v1"', "Mon, 14 Sep 2026 05:00:00 GMT")
    # A failure keeps the validators and the time of the last success.
    store.set_feed_state("bcp", "https://a.vn/rss", "failed", "lỗi 500", NOW + dt.timedelta(hours=1),
                         keep_validators=True)
    state = store.feed_state("bcp")
    assert (state.etag, state.last_status, state.last_ok) == ('"v1"', "failed", NOW)
    # A new address for the feed must not reuse the old validators.
    assert store.cache_headers("bcp", "https://a.vn/rss-moi") == (None, None)


def test_rescore_when_vocabulary_changes(store: Store) -> None:
    store.add_items([(item(1), Rel(0.5)), (item(2), Rel(0.5))], NOW)
    assert store.rescore(lambda t, s: Rel(9.0), "v1") == 0  # first vocabulary: nothing to redo
    assert store.rescore(lambda t, s: Rel(9.0), "v1") == 0
    assert store.rescore(lambda t, s: Rel(4.0, ["tthc"]), "v2") == 2
    assert [c.score for c in store.candidates("x", NOW, 24)] == [4.0, 4.0]


def test_prune_drops_old_stories_but_never_what_aired(store: Store) -> None:
    old = NOW - dt.timedelta(days=400)
    ids = [r.story_id for r in store.add_items([(item(1, published=old), Rel(1.0))], old)]
    store.add_items([(item(2), Rel(1.0))], NOW)
    store.record_aired("hoa-phu", old.date(), "", ids, now=old)
    assert store.prune(NOW - dt.timedelta(days=180)) == 1
    assert store.count() == 1
    # The report still needs to know what aired a year ago, with its title.
    assert store.aired("hoa-phu") == [(old.date(), "", ids[0])]
    (airing,) = store.airings(old.date(), old.date())
    assert airing.title and airing.station == "hoa-phu" and airing.story_id == ids[0]


def test_unwritable_data_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(BroadcastError) as err:
        Store(blocker / "sub" / "broadcast.sqlite3")
    assert "Không mở được tệp dữ liệu" in str(err.value)


def _writer(path: str, offset: int, n: int) -> None:
    s = Store(Path(path))
    now = dt.datetime(2026, 9, 14, 12, 0, tzinfo=VN_TZ)
    for start in range(0, n, 10):
        batch = [(item(k), Rel(1.0)) for k in range(offset + start, offset + start + 10)]
        s.add_items(batch, now)
        s.record_aired("hoa-phu", now.date(), f"p{offset}", [1], now=now)
    s.close()


def test_two_processes_at_once(tmp_path: Path) -> None:
    path = tmp_path / "broadcast.sqlite3"
    ctx = multiprocessing.get_context("spawn")
    # Overlapping ranges: both processes store items 100..199.
    procs = [ctx.Process(target=_writer, args=(str(path), off, 200)) for off in (0, 100)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    with Store(path) as s:
        assert s.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        links = s.db.execute("SELECT COUNT(DISTINCT key) FROM story_keys").fetchone()[0]
        assert links == 300
        # Each writer saw the other's rows inside its own locked transaction: no duplicates.
        assert s.count() == 300


# ------------------------------------------------------------ dedupe rules


def test_link_normalisation() -> None:
    assert normalize_link("https://www.Baodaklak.vn/a/b/?utm_source=zalo&id=5#top") == "baodaklak.vn/a/b?id=5"
    assert normalize_link("http://m.vnexpress.net/x.html") == normalize_link("https://vnexpress.net/x.html")
    assert normalize_link("") == ""


@pytest.mark.parametrize("a, b, same", [
    (("Thủ tướng yêu cầu đẩy mạnh cải cách thủ tục hành chính", ""),
     ("Thủ tướng: Đẩy mạnh cải cách thủ tục hành chính", ""), True),
    (("Lãi suất ngân hàng hôm nay 24/9/2026: Thận trọng", ""),
     ("Lãi suất ngân hàng hôm nay 25/9/2026: Thận trọng", ""), False),
    (("Đắk Lắk số hóa hồ sơ", "Từ ngày 1/9, toàn bộ hồ sơ thủ tục hành chính cấp tỉnh được số hóa và trả kết quả điện tử cho người dân."),
     ("Hồ sơ ở Đắk Lắk được số hóa toàn bộ", "Từ ngày 1/9, toàn bộ hồ sơ thủ tục hành chính cấp tỉnh được số hóa và trả kết quả điện tử cho người dân, doanh nghiệp."), True),
    (("Tin vắn", ""), ("Tin vắn sáng", ""), False),
    (("Hội nghị sơ kết công tác cải cách hành chính 6 tháng", ""),
     ("Hội nghị tổng kết công tác chuyển đổi số năm 2025", ""), False),
])
def test_near_duplicate_rules(a: tuple[str, str], b: tuple[str, str], same: bool) -> None:
    assert same_story(fingerprint(*a), fingerprint(*b)) is same


def test_index_respects_the_time_window() -> None:
    index = NearDuplicateIndex()
    fp = fingerprint("Thủ tướng yêu cầu đẩy mạnh cải cách thủ tục hành chính", "")
    index.add(1, fp, NOW)
    assert index.find(fp, NOW + dt.timedelta(days=1)) == 1
    assert index.find(fp, NOW + dt.timedelta(days=10)) is None  # a new story with an old title


# ------------------------------------------------------------ events and templates


def test_short_and_long_date_forms_are_one_number() -> None:
    a = fingerprint("Đắk Lắk áp dụng một cửa liên thông cấp tỉnh từ 1-10", "")
    b = fingerprint("Đắk Lắk áp dụng một cửa liên thông cấp tỉnh từ ngày 1/10", "")
    assert a.numbers == b.numbers == {"1/10"}
    assert same_story(a, b)
    assert fingerprint("Hạn chót ngày 01 tháng 10 năm 2026", "").numbers == {"1/10", "2026"}
    # A ratio is not a date, and a different day is a different story.
    assert fingerprint("25/63 tỉnh đạt chuẩn", "").numbers == {"25/63"}
    assert not same_story(fingerprint("Đắk Lắk áp dụng một cửa liên thông cấp tỉnh từ 1-10", ""),
                          fingerprint("Đắk Lắk áp dụng một cửa liên thông cấp tỉnh từ 15-10", ""))


@pytest.mark.parametrize("a, b", DIFFERENT)
def test_look_alike_stories_stay_apart(a: tuple[str, str], b: tuple[str, str]) -> None:
    fa, fb = fingerprint(*a), fingerprint(*b)
    assert not same_story(fa, fb)
    assert not same_event(fa, fb)


@pytest.mark.parametrize("a, b", SAME_EVENT)
def test_one_event_in_two_writers_words(a: tuple[str, str], b: tuple[str, str]) -> None:
    fa, fb = fingerprint(*a), fingerprint(*b)
    assert not same_story(fa, fb)  # not copies: each outlet keeps its own story
    assert same_event(fa, fb)


def test_names_from_titles_and_leads() -> None:
    text = "Theo Bộ Nội vụ, UBND tỉnh Đắk Lắk bổ nhiệm ông Nguyễn Văn Hùng. Sáng 15/9, Thủ tướng Phạm Minh Chính"
    assert entities(text) == {"bộ nội", "ubnd", "đắk lắk", "nguyễn văn hùng", "phạm minh chính"}


def test_other_outlets_report_is_not_aired_again_next_day(store: Store) -> None:
    (a_title, a_lead), (b_title, b_lead) = SAME_EVENT[0]
    day1 = NOW
    first = store.add_items([(item(1, feed="baodaklak", title=a_title, summary=a_lead, published=day1,
                                   source="Báo Đắk Lắk"), Rel(3.0))], day1)[0]
    store.record_aired("hoa-phu", day1.date(), "", [first.story_id], now=day1)
    day2 = NOW + dt.timedelta(days=1)
    second = store.add_items([(item(2, feed="vnexpress", title=b_title, summary=b_lead,
                                    published=day2 - dt.timedelta(hours=3), source="VnExpress"), Rel(3.0))],
                             day2)[0]
    assert second.status == "new" and second.story_id != first.story_id  # its own story, own words
    assert store.candidates("hoa-phu", day2, 72, date=day2.date(), slot="") == []
    # A station that has not aired the event gets one of the two, not both.
    both = store.candidates("ea-kao", day2, 72, date=day2.date(), slot="")
    assert {c.event for c in both} == {first.story_id} and len(both) == 2
    st = StationConfig(id="ea-kao", name="Đài xã Ea Kao")
    ranked = select(both, st, {}, 600, min_score=1.0, now=day2)
    assert [c.selected for c in ranked].count(True) == 1
    assert "cùng sự kiện" in ranked[1].reason


def test_templated_personnel_news_is_two_stories(store: Store) -> None:
    (a_title, a_lead), (b_title, b_lead) = DIFFERENT[0]
    res = store.add_items([(item(1, title=a_title, summary=a_lead), Rel(2.0)),
                           (item(2, feed="g", title=b_title, summary=b_lead), Rel(2.0))], NOW)
    assert [r.status for r in res] == ["new", "new"]
    got = store.candidates("hoa-phu", NOW, 72)
    assert len({c.event for c in got}) == 2


def test_event_grouping_survives_a_database_from_before_it(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.execute("INSERT INTO stories (title, first_seen, ref_time, updated) VALUES ('Tin cũ', ?, ?, ?)",
               ("2026-09-14T01:00:00+00:00",) * 3)
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with Store(path) as s:
        got = s.candidates("hoa-phu", NOW, 72)
        assert [(c.title, c.event, c.local) for c in got] == [("Tin cũ", got[0].id, False)]


def test_a_better_decoded_fetch_replaces_the_stored_text(store: Store) -> None:
    good = "Đắk Lắk: 100% thủ tục hành chính được tiếp nhận tại Trung tâm Phục vụ hành chính công"
    lead = "Người dân nộp hồ sơ trực tuyến và thanh toán phí qua Cổng Dịch vụ công quốc gia."
    mojibake = good.encode("utf-8").decode("cp1252", "replace")
    link = "https://baodaklak.vn/chinh-tri/dak-lak-100-thu-tuc.html"
    # Stored wrong by an older fetch (the whole document read as a code page).
    first = store.add_items([(item(1, title=mojibake, summary=lead, link=link), Rel(0.0))], NOW)[0]
    # The feed was fixed: the same item now decodes properly.
    again = store.add_items([(item(1, title=good, summary=lead, link=link), Rel(2.0))], NOW)[0]
    assert again.story_id == first.story_id and again.status == "known"
    story = store.stories([first.story_id])[0]
    assert story.title == good and story.score == 2.0
    # A later fetch with a bad byte does not undo it.
    damaged = FeedItem(feed="f", source="Nguồn", title=good.replace("thủ", "th"), summary=lead, link=link,
                       guid="", published=NOW, damage=1)
    store.add_items([(damaged, Rel(2.0))], NOW)
    assert store.stories([first.story_id])[0].title == good
