"""Local items written on the desk: the library function, the desk's forms, and the way into a bulletin.

The site is the desk tests' two stations (Hòa Phú built, Ea Tiêu drafted) sharing one local items
folder, plus Cư M'gar, which reads no local folder. Pages are driven in Debian's Chromium.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from broadcast import api
from broadcast.config import load_config
from broadcast.errors import BroadcastError, ParameterError
from broadcast.localitems import DESK_ITEMS_PER_DAY, DESK_NAME, WITHDRAWN_FOLDER, read_local_items
from broadcast.models import VN_TZ
from broadcast.web.app import DeskSettings, create_app
from test_desk_qa import NARROW, in_browser, serve, shots, staffer  # noqa: F401 (fixture)
from test_web import DATE, DAY, NOW, csrf_of, logged_in, make_site
from test_web_e2e import browser, check_screenshot  # noqa: F401 (fixture)

AT = NOW + dt.timedelta(minutes=30)  # the desk's clock: 06:00 on the bulletin's day
SITE_MORE = '''
[[feeds]]
name = "tin-xa"
kind = "local"
path = "tin-dia-phuong"
source = "UBND xã Hòa Phú"

[[stations]]
id = "cu-mgar"
name = "Đài truyền thanh xã Cư M'gar"
target_minutes = 2
feeds = ["tinh"]
'''
TITLE = "Xã Hòa Phú trả kết quả đúng hạn 100% hồ sơ trong tháng 3"
BODY = ("Trong tháng 3, Bộ phận Một cửa xã   tiếp nhận 312 hồ sơ,\r\n"
        "trong đó 187 hồ sơ nộp trực tuyến.\r\n\r\n\r\n  Toàn bộ hồ sơ được trả kết quả đúng hạn.  ")
# What the loudspeaker reads of BODY: each typed line a paragraph, spaces tidied.
BODY_READ = ("Trong tháng 3, Bộ phận Một cửa xã tiếp nhận 312 hồ sơ,\n\n"
             "trong đó 187 hồ sơ nộp trực tuyến.\n\n"
             "Toàn bộ hồ sơ được trả kết quả đúng hạn.")
AUTHOR = "Bộ phận Một cửa xã Hòa Phú"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    config = make_site(tmp_path_factory.mktemp("desk-local"))
    with config.open("a", encoding="utf-8") as f:
        f.write(SITE_MORE)
    (config.parent / "tin-dia-phuong").mkdir()
    return config.parent


@pytest.fixture
def root(built, tmp_path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(built, root, symlinks=True)
    return root


@pytest.fixture
def config(root):
    return load_config(root / "broadcast.toml")


def folder_of(root: Path) -> Path:
    return root / "tin-dia-phuong"


def add(config, station: str = "hoa-phu", title: str = TITLE, date: dt.date = DAY, body: str = BODY,
        author: str = AUTHOR, now: dt.datetime = AT, by: str = "lan") -> api.LocalChange:
    return api.add_local_item(config, station, title, date, body, now, author=author, by=by)


# ---------------------------------------------------------------- the library


def test_what_the_desk_writes_is_read_back_as_written(config, root):
    change = add(config, date=DAY + dt.timedelta(days=2))
    files = list(folder_of(root).iterdir())
    assert [p.name for p in files] == [change.entry.name]  # one file, no temporary left behind
    assert DESK_NAME.fullmatch(change.entry.name) and change.entry.name.startswith("ban-duyet_hoa-phu_20260312-")
    feed = next(f for f in config.feeds if f.name == "tin-xa")
    items, skipped, warnings = read_local_items(feed, AT)
    assert (skipped, warnings) == (0, [])
    [item] = items
    assert (item.title, item.summary, item.source) == (TITLE, BODY_READ, AUTHOR)
    assert item.published == dt.datetime(2026, 3, 14, tzinfo=VN_TZ) and item.local
    assert (change.entry.title, change.entry.body, change.entry.author) == (TITLE, BODY_READ, AUTHOR)
    text = files[0].read_text(encoding="utf-8")
    assert "Tiêu đề: " + TITLE in text and "Ngày: 14/03/2026" in text and "tài khoản lan" in text


def test_an_item_without_author_is_credited_to_the_folder_source(config):
    change = add(config, author="")
    assert change.entry.author == "UBND xã Hòa Phú"
    found = api.candidates(config, "hoa-phu", DAY, AT).candidates
    assert [c.sources for c in found if c.title == TITLE] == [["UBND xã Hòa Phú"]]


def test_the_file_name_never_comes_from_what_was_typed(config, root):
    change = add(config, title="../../broadcast.toml")
    assert DESK_NAME.fullmatch(change.entry.name)
    assert [p.name for p in folder_of(root).iterdir()] == [change.entry.name]
    assert change.entry.title == "../../broadcast.toml"


def test_a_written_item_is_a_candidate_at_once_and_in_the_next_bulletin(config, root):
    before = {c.title for c in api.candidates(config, "hoa-phu", DAY, AT).candidates}
    assert TITLE not in before
    change = add(config)
    assert change.in_candidates
    [c] = [c for c in api.candidates(config, "hoa-phu", DAY, AT).candidates if c.title == TITLE]
    assert c.local and c.sources == [AUTHOR] and c.summary == BODY_READ
    # The next night's build fetches, selects and drafts: the item leads the news, credited to its author.
    nxt = dt.datetime(2026, 3, 13, 4, 30, tzinfo=VN_TZ)
    report = api.draft(config, root / "audio_out", DAY + dt.timedelta(days=1), nxt, ["hoa-phu"])
    assert not report.failed, report
    script = (root / "audio_out" / "2026-03-13" / "hoa-phu.txt").read_text(encoding="utf-8")
    assert TITLE in script and f"Theo {AUTHOR}." in script
    assert script.index(TITLE) < script.index("[tin 2]") if "[tin 2]" in script else True


def test_an_item_dated_later_waits_for_its_day(config):
    add(config, date=DAY + dt.timedelta(days=3))
    assert TITLE not in {c.title for c in api.candidates(config, "hoa-phu", DAY, AT).candidates}
    later = dt.datetime(2026, 3, 15, 4, 30, tzinfo=VN_TZ)
    assert TITLE in {c.title for c in api.candidates(config, "hoa-phu", DAY + dt.timedelta(days=3), later).candidates}


def test_a_station_without_a_local_folder_is_told_what_to_configure(config):
    with pytest.raises(ParameterError) as exc:
        add(config, station="cu-mgar")
    text = str(exc.value)
    assert "chưa có thư mục tin địa phương" in text and "broadcast.toml" in text
    assert '[[feeds]]' in text and 'kind = "local"' in text and 'name = "tin-cu-mgar"' in text
    assert "\n" not in text
    assert api.local_items(config, Path("."), "cu-mgar", AT).setup == text


def test_a_missing_folder_is_refused_without_creating_it(config, root):
    folder_of(root).rmdir()
    with pytest.raises(ParameterError, match="hãy nhờ người quản trị tạo thư mục"):
        add(config)
    assert not folder_of(root).exists()


@pytest.mark.parametrize("field, value, said", [
    ("title", "", "Hãy ghi tiêu đề"),
    ("title", "x" * 201, "Tiêu đề dài 201 ký tự, tối đa 200"),
    ("title", "<script>alert(1)</script> Họp dân", "Tiêu đề có mã HTML"),
    ("author", "y" * 121, "Người viết (đơn vị) dài 121 ký tự, tối đa 120"),
    ("body", "  \n \n", "Hãy viết nội dung"),
    ("body", "z" * 2001, "Nội dung dài 2001 ký tự; loa chỉ đọc tối đa 2000"),
    ("body", "Họp dân.\n#CCHC năm 2026", "Đoạn thứ 2 của nội dung bắt đầu bằng dấu #"),
    ("body", "Họp dân. Ảnh: Nguyễn Văn A", "chú thích ảnh"),
    ("date", DAY - dt.timedelta(days=1), "Ngày của tin phải từ hôm nay (12/03/2026) đến 11/05/2026"),
    ("date", DAY + dt.timedelta(days=61), "Ngày của tin phải từ hôm nay"),
])
def test_what_cannot_be_read_as_typed_is_refused_and_nothing_is_written(config, root, field, value, said):
    with pytest.raises(BroadcastError) as exc:
        add(config, **{field: value})
    assert said in str(exc.value)
    assert list(folder_of(root).iterdir()) == []


def test_a_station_writes_at_most_so_many_items_a_day(config, root):
    names = [add(config, title=f"Tin số {n}", now=AT + dt.timedelta(seconds=n)).entry.name
             for n in range(DESK_ITEMS_PER_DAY)]
    with pytest.raises(ParameterError, match=f"đã viết {DESK_ITEMS_PER_DAY} tin địa phương"):
        add(config, title="Một tin nữa")
    # Withdrawing frees no room that day; the other station sharing the folder has its own count.
    api.withdraw_local_item(config, root / "audio_out", "hoa-phu", names[0], AT)
    with pytest.raises(ParameterError):
        add(config, title="Một tin nữa")
    add(config, station="ea-tieu", title="Tin của Ea Tiêu", by="hung")
    tomorrow = AT + dt.timedelta(days=1)
    add(config, title="Tin ngày mai", date=DAY + dt.timedelta(days=1), now=tomorrow)
    assert api.local_items(config, root / "audio_out", "hoa-phu", tomorrow).written_today == 1


def test_a_shared_folder_says_whose_each_item_is_and_only_its_station_withdraws_it(config, root):
    by_hand = folder_of(root) / "lich-tiep-dan.txt"
    by_hand.write_text("Tiêu đề: Lịch tiếp công dân tháng 3\nNgày: 12/03/2026\n\nChủ tịch xã tiếp dân.\n",
                       encoding="utf-8")
    mine = add(config).entry.name
    found = api.local_items(config, root / "audio_out", "ea-tieu", AT)
    assert found.folder.stations == ["hoa-phu", "ea-tieu"]
    owners = {e.title: (e.owner, e.account) for e in found.items}
    assert owners == {TITLE: ("hoa-phu", "lan"), "Lịch tiếp công dân tháng 3": ("", "")}
    with pytest.raises(api.NotYoursError, match="Tin này do Đài truyền thanh xã Hòa Phú viết"):
        api.withdraw_local_item(config, root / "audio_out", "ea-tieu", mine, AT, by="hung")
    for name in ("lich-tiep-dan.txt", "../broadcast.toml", f"../tin-dia-phuong/{mine}", "ban-duyet_hoa-phu_x.txt"):
        with pytest.raises(api.NotFoundError):
            api.withdraw_local_item(config, root / "audio_out", "hoa-phu", name, AT)
    assert sorted(p.name for p in folder_of(root).iterdir()) == sorted([mine, "lich-tiep-dan.txt"])
    assert (root / "broadcast.toml").exists()


def test_withdrawing_moves_the_file_aside_and_out_of_the_candidates(config, root):
    name = add(config).entry.name
    change = api.withdraw_local_item(config, root / "audio_out", "hoa-phu", name, AT, by="lan")
    assert change.in_candidates and change.uses == [] and change.entry.title == TITLE
    assert list(folder_of(root).glob("*.txt")) == []
    assert (folder_of(root) / WITHDRAWN_FOLDER / name).read_text(encoding="utf-8").count(TITLE) == 1
    assert TITLE not in {c.title for c in api.candidates(config, "hoa-phu", DAY, AT, show_all=True).candidates}
    assert api.local_items(config, root / "audio_out", "hoa-phu", AT).items == []
    with pytest.raises(api.NotFoundError):
        api.withdraw_local_item(config, root / "audio_out", "hoa-phu", name, AT)


def test_withdrawing_an_item_an_approved_bulletin_carries_names_that_bulletin(config, root):
    out = root / "audio_out"
    name = add(config).entry.name
    [c] = [c for c in api.candidates(config, "hoa-phu", DAY, AT).candidates if c.title == TITLE]
    api.swap_story(config, out, "hoa-phu", DAY, c.id, True, AT, by="lan")
    api.approve(config, out, "hoa-phu", DAY, AT, by="lan")
    [entry] = api.local_items(config, out, "hoa-phu", AT).items
    assert [(u.station, u.date, u.state.value) for u in entry.uses] == [("hoa-phu", DAY, "approved")]
    change = api.withdraw_local_item(config, out, "hoa-phu", name, AT, by="lan")
    assert [(u.station, u.date, u.state.value) for u in change.uses] == [("hoa-phu", DAY, "approved")]
    # The reviewed script is left as it was approved: staff take the item out there if it must not air.
    assert TITLE in (out / DATE / "hoa-phu.txt").read_text(encoding="utf-8")
    assert api.bulletin_status(config, out, "hoa-phu", DAY).approved
    # Taking it out there works though the story is no longer stored; the bulletin then needs approving again.
    [use] = change.uses
    api.swap_story(config, out, "hoa-phu", DAY, use.story, False, AT, base_sha=use.sha, by="lan")
    assert TITLE not in (out / DATE / "hoa-phu.txt").read_text(encoding="utf-8")
    assert not api.bulletin_status(config, out, "hoa-phu", DAY).approved


# ---------------------------------------------------------------- the desk over HTTP


@pytest.fixture
def app(root, config):
    app = create_app(config, root / "audio_out", lambda: AT, DeskSettings())
    app.testing = True
    return app


def post_item(client, station: str = "hoa-phu", **fields):
    token = csrf_of(client.get(f"/stations/{station}/local").get_data(as_text=True))
    data = {"csrf_token": token, "title": TITLE, "date": DATE, "text": BODY, "author": AUTHOR, **fields}
    return client.post(f"/stations/{station}/local", data=data)


def test_desk_staff_write_only_for_their_station(app, root):
    hung = logged_in(app, "hung")  # Ea Tiêu's staffer
    assert hung.get("/stations/hoa-phu/local").status_code == 403
    token = csrf_of(hung.get("/stations/ea-tieu/local").get_data(as_text=True))
    resp = hung.post("/stations/hoa-phu/local", data={"csrf_token": token, "title": TITLE, "date": DATE,
                                                       "text": BODY})
    assert resp.status_code == 403 and "không được xem đài này" in resp.get_data(as_text=True)
    assert list(folder_of(root).iterdir()) == []
    lan = logged_in(app, "lan")
    resp = post_item(lan)
    assert resp.status_code == 302 and "done=local_added" in resp.headers["Location"]
    page = lan.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Đã lưu tin địa phương" in page and TITLE in page and "tài khoản lan" in page
    # The form posts to the page itself, not to the address with the message: a refusal shows alone.
    assert 'action="/stations/hoa-phu/local" class="stack" id="local-form"' in page


def test_desk_posts_need_the_form_token(app, root):
    lan = logged_in(app, "lan")
    resp = lan.post("/stations/hoa-phu/local", data={"title": TITLE, "date": DATE, "text": BODY})
    assert resp.status_code == 403 and "mã bảo vệ biểu mẫu" in resp.get_data(as_text=True)
    assert list(folder_of(root).iterdir()) == []


@pytest.mark.parametrize("fields, said", [
    ({"date": "mai"}, "không phải ngày hợp lệ"),
    ({"date": "2026-02-30"}, "không phải ngày hợp lệ"),
    ({"title": "t" * 500_000}, "tối đa 200"),
    ({"text": "\x00\x01"}, "Hãy viết nội dung"),
    ({"title": '<script>window.__pwned=1</script> Họp dân'}, "có mã HTML"),
])
def test_bad_input_is_a_vietnamese_line_with_the_text_kept(app, root, fields, said):
    lan = logged_in(app, "lan")
    resp = post_item(lan, **fields)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and said in page
    if "text" not in fields:
        assert BODY.strip()[:30] in page  # what was typed is still in the form
    assert "<script>window" not in page
    if "<script>" in fields.get("title", ""):
        assert 'value="&lt;script&gt;window.__pwned=1&lt;/script&gt; Họp dân"' in page  # shown as text
    assert list(folder_of(root).iterdir()) == []


def test_markup_in_the_body_is_stored_and_shown_as_text(app, root):
    lan = logged_in(app, "lan")
    assert post_item(lan, text="Giờ làm việc <script>window.__pwned=1</script> từ 7 giờ.").status_code == 302
    page = lan.get("/stations/hoa-phu/local").get_data(as_text=True)
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page and "<script>window" not in page
    page = lan.get(f"/stations/hoa-phu/{DATE}/candidates").get_data(as_text=True)
    assert TITLE in page and "<script>window" not in page


def test_a_station_cannot_withdraw_another_stations_item_on_the_desk(app, root):
    lan = logged_in(app, "lan")
    post_item(lan)
    [name] = [p.name for p in folder_of(root).iterdir()]
    hung = logged_in(app, "hung")
    page = hung.get("/stations/ea-tieu/local").get_data(as_text=True)
    assert "dùng chung cho 2 đài" in page and "Đài truyền thanh xã Hòa Phú viết trên bàn duyệt" in page
    assert "Rút tin</button>" not in page
    resp = hung.post("/stations/ea-tieu/local/withdraw", data={"csrf_token": csrf_of(page), "name": name})
    assert resp.status_code == 403 and "chỉ cán bộ của đài đó rút" in resp.get_data(as_text=True)
    resp = hung.post("/stations/hoa-phu/local/withdraw", data={"csrf_token": csrf_of(page), "name": name})
    assert resp.status_code == 403
    assert [p.name for p in folder_of(root).iterdir()] == [name]
    page = lan.get("/stations/hoa-phu/local").get_data(as_text=True)
    resp = lan.post("/stations/hoa-phu/local/withdraw", data={"csrf_token": csrf_of(page), "name": name})
    assert resp.status_code == 200 and f"Đã rút tin “{TITLE}”" in resp.get_data(as_text=True)
    assert list(folder_of(root).glob("*.txt")) == []


def test_the_desk_tells_a_station_without_a_folder_what_to_add(app):
    tinh = logged_in(app, "tinh")
    page = tinh.get("/stations/cu-mgar/local").get_data(as_text=True)
    assert "chưa có thư mục tin địa phương" in page and 'id="local-form"' not in page
    resp = post_item(tinh, station="cu-mgar")
    assert resp.status_code == 400 and "kind = &#34;local&#34;" in resp.get_data(as_text=True)


# ---------------------------------------------------------------- in the browser


@in_browser
def test_a_staffer_writes_an_item_that_reaches_the_candidates_and_the_next_bulletin(browser, root, shots):  # noqa: F811
    with serve(root) as desk, staffer(browser, desk, "lan", NARROW) as page:
        page.get_by_role("link", name="tin địa phương").click()
        page.get_by_label("Tiêu đề").fill(TITLE)
        page.get_by_label("Nội dung").fill("Trong tháng 3, Bộ phận Một cửa xã tiếp nhận 312 hồ sơ.\n"
                                           "Giờ làm việc <script>window.__pwned=1</script> từ 7 giờ.")
        page.get_by_label("Người viết, đơn vị").fill(AUTHOR)
        page.get_by_role("button", name="Lưu tin").click()
        page.wait_for_selector("p.ok")
        assert "Đã lưu tin địa phương" in page.inner_text("p.ok")
        card = page.locator("article.local-item")
        assert card.count() == 1 and TITLE in card.inner_text() and "tài khoản lan" in card.inner_text()
        assert "<script>window.__pwned=1</script>" in card.inner_text()  # shown as text, never run
        assert page.evaluate("window.__pwned") is None
        check_screenshot(page, shots / "local-written-phone.png", ["Tin địa phương", TITLE, "Rút tin"])
        assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]  # nothing off the side
        page.get_by_role("link", name="Tin ứng viên hôm nay").click()
        page.wait_for_url(re.compile(r"/candidates"))
        assert TITLE in page.inner_text("main") and AUTHOR in page.inner_text("main")
        assert page.evaluate("window.__pwned") is None

        # The next night's build (fetch, select, draft) reads it, credited to its author.
        config = load_config(root / "broadcast.toml")
        nxt = dt.datetime(2026, 3, 13, 4, 30, tzinfo=VN_TZ)
        assert not api.draft(config, root / "audio_out", DAY + dt.timedelta(days=1), nxt, ["hoa-phu"]).failed
        script = (root / "audio_out" / "2026-03-13" / "hoa-phu.txt").read_text(encoding="utf-8")
        assert TITLE in script and f"Theo {AUTHOR}." in script

        # Withdrawn before it airs: the drafted bulletin that carries it is named, with what to do.
        page.get_by_role("link", name="← Về bản tin").click()
        page.get_by_role("link", name="Tin địa phương").click()
        page.get_by_role("button", name="Rút tin").click()
        page.wait_for_selector("#withdrawn")
        said = page.inner_text("#withdrawn")
        assert f"Đã rút tin “{TITLE}”" in said and "bản tin ngày 13/03/2026 của Đài truyền thanh xã Hòa Phú" in said
        assert "Rút tin không tự sửa các kịch bản này" in said
        assert page.locator("article.local-item").count() == 0
        page.get_by_role("button", name="Bỏ tin khỏi kịch bản này").click()
        page.wait_for_url(re.compile(r"/stations/hoa-phu/2026-03-13/candidates\?done=swapped_out"))
        assert "Đã bỏ tin khỏi kịch bản." in page.inner_text("p.ok")
        assert TITLE not in (root / "audio_out" / "2026-03-13" / "hoa-phu.txt").read_text(encoding="utf-8")


def test_an_item_written_while_a_fetch_runs_is_kept_and_read_by_the_next_fetch(config, root):
    from broadcast.workspace import Workspace

    with Workspace(config.data_dir, config.data_dir).feeds_lock():
        change = add(config)
    assert not change.in_candidates and (folder_of(root) / change.entry.name).is_file()
    assert TITLE not in {c.title for c in api.candidates(config, "hoa-phu", DAY, AT).candidates}
    api.fetch(config, AT + dt.timedelta(minutes=5))
    assert TITLE in {c.title for c in api.candidates(config, "hoa-phu", DAY, AT + dt.timedelta(minutes=5)).candidates}


def test_the_list_shows_the_items_that_may_still_be_read(config, root):
    for name, day in (("cu.txt", "05/03/2026"), ("hom-kia.txt", "10/03/2026"), ("tuan-sau.txt", "19/03/2026")):
        (folder_of(root) / name).write_text(f"Tiêu đề: Tin {name}\nNgày: {day}\n\nNội dung.\n", encoding="utf-8")
    (folder_of(root) / "khong-ngay.txt").write_text("Tin không ngày\nNội dung.\n", encoding="utf-8")
    found = api.local_items(config, root / "audio_out", "hoa-phu", AT)
    # 72 hours of freshness before 06:00 on 12/03: items dated from 09/03 may still be offered.
    assert found.since == dt.date(2026, 3, 9)
    assert [e.title for e in found.items] == ["Tin hom-kia.txt", "Tin tuan-sau.txt", "Tin không ngày"]
    assert [e.owner for e in found.items] == ["", "", ""]


@pytest.mark.parametrize("name", ["", "../broadcast.toml", "ban-duyet_hoa-phu_\x00.txt", "a" * 100_000,
                                  "ban-duyet_hoa-phu_20260312-060000_0000000g.txt"])
def test_withdrawing_a_name_the_desk_never_made_is_a_plain_not_found(app, root, name):
    lan = logged_in(app, "lan")
    token = csrf_of(lan.get("/stations/hoa-phu/local").get_data(as_text=True))
    resp = lan.post("/stations/hoa-phu/local/withdraw", data={"csrf_token": token, "name": name})
    assert resp.status_code == 404 and "Không có tin này" in resp.get_data(as_text=True)
    assert (root / "broadcast.toml").is_file()


def test_a_long_item_typed_while_the_session_ran_out_is_shown_back(root, config):
    from test_web import Clock

    clock = Clock(AT)
    app = create_app(config, root / "audio_out", clock, DeskSettings())
    app.testing = True
    lan = logged_in(app, "lan")
    token = csrf_of(lan.get("/stations/hoa-phu/local").get_data(as_text=True))
    clock.now = AT + dt.timedelta(hours=3)  # past the two idle hours
    resp = lan.post("/stations/hoa-phu/local", data={"csrf_token": token, "title": TITLE, "date": DATE,
                                                      "text": BODY})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 401 and "chưa được lưu" in page and "Bộ phận Một cửa xã   tiếp nhận" in page
    assert "next=/stations/hoa-phu/local" in page
    assert list(folder_of(root).iterdir()) == []


def test_two_sources_naming_one_folder_are_one_shared_folder(tmp_path):
    from offline import offline_config

    (tmp_path / "tin").mkdir()
    path = offline_config(tmp_path, '''
[[feeds]]
name = "xa-a"
kind = "local"
path = "tin"

[[feeds]]
name = "xa-b"
kind = "local"
path = "./tin/"

[[stations]]
id = "a"
name = "Đài xã A"
feeds = ["tinh", "xa-a"]

[[stations]]
id = "b"
name = "Đài xã B"
feeds = ["xa-b"]
''')
    config = load_config(path)
    change = add(config, station="a", by="")
    assert change.folder.stations == ["a", "b"] and change.entry.author == AUTHOR
    found = api.local_items(config, tmp_path / "audio_out", "b", AT)
    assert [(e.title, e.owner, e.feed) for e in found.items] == [(TITLE, "a", "xa-b")]
    assert TITLE in {c.title for c in api.candidates(config, "b", DAY, AT).candidates}  # read for B at once
    with pytest.raises(api.NotYoursError, match="Tin này do Đài xã A viết"):
        api.withdraw_local_item(config, tmp_path / "audio_out", "b", change.entry.name, AT)
    assert api.withdraw_local_item(config, tmp_path / "audio_out", "a", change.entry.name, AT).entry.title == TITLE
    assert TITLE not in {c.title for c in api.candidates(config, "b", DAY, AT, show_all=True).candidates}
