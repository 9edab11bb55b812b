"""The desk walked as a commune staffer new to it would: on a phone, by keyboard, and when things go wrong.

The desk runs on waitress at 127.0.0.1 (a free port) with a clock the tests move, so a
session can run out in the middle of an edit; pages are driven in Debian's Chromium.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Iterator

import pytest
import requests

from broadcast.audio.ffmpeg import find_ffmpeg
from broadcast.config import load_config
from broadcast.web.app import DeskSettings, create_app
from test_web import DATE, NOW, PASSWORDS, Clock, make_site, script_text
from test_web_e2e import CHROMIUM, INSTALL, REQUIRED, browser, check_screenshot  # noqa: F401 (fixture)

BULLETIN = f"/stations/hoa-phu/{DATE}"
NARROW = {"width": 360, "height": 740}  # the narrowest phones staff use
OFFICE = {"width": 1366, "height": 768}
# One browser for the module (the fixture); without Chromium the page tests are skipped, the HTTP ones run.
in_browser = pytest.mark.skipif(CHROMIUM is None and not REQUIRED, reason=f"cần trình duyệt Chromium: {INSTALL}")


# ---------------------------------------------------------------- the desk and the browser


class Desk:
    """A desk served over a copy of the site, with its address and the clock it reads."""

    def __init__(self, root: Path, base: str, clock: Clock) -> None:
        self.root, self.base, self.clock = root, base, clock

    def url(self, path: str) -> str:
        return self.base + path


@contextlib.contextmanager
def serve(root: Path) -> Iterator[Desk]:
    """Serve the desk over the site in `root` with waitress on a free port of 127.0.0.1."""
    from waitress import create_server

    clock = Clock(NOW + dt.timedelta(minutes=30))
    app = create_app(load_config(root / "broadcast.toml"), root / "audio_out", clock, DeskSettings())
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except OSError:  # the socket closed under the poll loop when the test ends
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True, name="desk")
    thread.start()
    try:
        yield Desk(root, f"http://127.0.0.1:{server.effective_port}", clock)
    finally:
        stopping.set()
        server.close()  # the thread's loop ends with the browser's last keep-alive connection


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The two-station site (Hòa Phú built, Ea Tiêu drafted) and Cư M'gar with nothing yet, made once;
    each test serves a copy."""
    config = make_site(tmp_path_factory.mktemp("desk-qa"))
    with config.open("a", encoding="utf-8") as f:
        f.write('\n[[stations]]\nid = "cu-mgar"\nname = "Đài truyền thanh xã Cư M\'gar"\ntarget_minutes = 2\n')
    return config.parent


@pytest.fixture
def desk(built, tmp_path) -> Iterator[Desk]:
    root = tmp_path / "site"
    shutil.copytree(built, root, symlinks=True)
    with serve(root) as d:
        yield d


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("BROADCAST_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextlib.contextmanager
def staffer(browser, desk: Desk, name: str, viewport=OFFICE):
    """A browser window logged in as `name`, typing like a person: by keyboard from the login form."""
    context = browser.new_context(viewport=viewport, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.bring_to_front()  # only the page that has the focus gets its autofocus field focused
        page.goto(desk.url("/login"))
        # The name box takes the focus by itself (autofocus), but Chromium applies that at a
        # rendering step after the load event: keys typed before it would go nowhere.
        page.wait_for_function("document.activeElement && document.activeElement.name === 'username'")
        page.keyboard.type(name)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORDS[name])
        page.keyboard.press("Enter")
        page.wait_for_url(desk.url("/"))
        yield page
    finally:
        context.close()


def http_session(desk: Desk, name: str) -> requests.Session:
    s = requests.Session()
    token = form_value(s.get(desk.url("/login")).text, "csrf_token")
    resp = s.post(desk.url("/login"), data={"username": name, "password": PASSWORDS[name], "csrf_token": token},
                  allow_redirects=False)
    assert resp.status_code == 302, resp.text[:500]
    return s


def form_value(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, f"no {name} in the page"
    return m.group(1)


def save_block(desk: Desk, name: str, index: int, text: str) -> None:
    """Save one block of Hòa Phú's script over HTTP, as a colleague at another desk would."""
    s = http_session(desk, name)
    html = s.get(desk.url(BULLETIN)).text
    resp = s.post(desk.url(BULLETIN + "/save"), allow_redirects=False, data={
        "csrf_token": form_value(html, "csrf_token"), "base_sha": form_value(html, "base_sha"),
        f"block-{index}": text})
    assert resp.status_code == 302, resp.text[:500]

def decoded_seconds(data: bytes, tmp_path: Path, suffix: str) -> float:
    """Decode audio bytes fully with ffmpeg; the seconds of sound they hold."""
    path = tmp_path / f"heard{suffix}"
    path.write_bytes(data)
    out = subprocess.run([find_ffmpeg(), "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", "8000", "-"],
                         capture_output=True, check=True).stdout
    return len(out) / 2 / 8000


def played(page, player: str) -> float:
    """Wait until an audio element of the page has loaded its sound; its duration in seconds."""
    page.wait_for_function(f"() => {{ const a = document.getElementById('{player}');"
                           " return a.readyState >= 1 && a.duration > 0 && isFinite(a.duration); }")
    return page.evaluate(f"document.getElementById('{player}').duration")


# ---------------------------------------------------------------- the staffer's day


@in_browser
def test_a_corrected_pronunciation_is_heard_at_once(browser, desk, tmp_path):
    # The staffer hears the greeting, adds how the commune's name is read, and hears the greeting again:
    # the sample must be the new reading, not the one the browser kept from a minute ago.
    with staffer(browser, desk, "lan") as page:
        page.goto(desk.url(BULLETIN))
        greeting = page.locator(".block").first.locator(".reading .para").first
        greeting.locator("a.play").click()
        before = played(page, "para-player")
        page.goto(desk.url(f"/stations/hoa-phu/lexicon?date={DATE}"))
        page.fill("input[name=written]", "Hòa Phú")
        page.fill("input[name=spoken]", "Hòa Phú, xã Hòa Phú của huyện Krông Pắc, tỉnh Đắk Lắk thân yêu")
        page.click("form button.primary")
        page.wait_for_url(re.compile(r".*done=lexicon.*"))
        page.goto(desk.url(BULLETIN))
        greeting = page.locator(".block").first.locator(".reading .para").first
        assert "huyện Krông Pắc" in greeting.inner_text()
        greeting.locator("a.play").click()
        page.wait_for_function(f"() => document.getElementById('para-player').duration > {before + 2}")
        after = played(page, "para-player")
        heard = decoded_seconds(page.request.get(page.evaluate("document.getElementById('para-player').currentSrc"))
                                .body(), tmp_path, ".wav")
        assert abs(heard - after) < 0.2 and after > before + 2, (before, after, heard)


@in_browser
def test_an_action_clicked_after_the_session_ended_says_it_was_not_done(browser, desk):
    # The page stayed open over lunch; the staffer comes back and clicks Duyệt.
    with staffer(browser, desk, "lan") as page:
        page.goto(desk.url(BULLETIN))
        desk.clock.now += dt.timedelta(hours=3)
        with page.expect_response(re.compile(r".*/approve$")) as answer:
            page.click("#approve")
        assert answer.value.status == 401
        page.wait_for_load_state("load")
        said = page.inner_text("p.error")
        assert "Phiên đăng nhập đã hết" in said and "chưa được" in said, said
        page.fill("input[name=username]", "lan")
        page.fill("input[name=password]", PASSWORDS["lan"])
        page.click("form.login button[type=submit]")
        # Back on the bulletin, still waiting for approval, so the click is made again knowingly.
        page.wait_for_url(desk.url(BULLETIN))
        assert page.inner_text("#state") != "đã duyệt"


@in_browser
def test_a_script_with_a_long_web_address_fits_a_narrow_phone(browser, desk, shots):
    # News about online public services carries their addresses, which cannot be broken at a space.
    address = "https://dichvucong.daklak.gov.vn/dichvucong/thu-tuc-hanh-chinh/chi-tiet-thu-tuc-cap-ban-sao"
    save_block(desk, "lan", 1, f"Kính thưa bà con, thủ tục được nộp tại địa chỉ {address} hoặc tại Bộ phận Một cửa.")
    with staffer(browser, desk, "lan", NARROW) as page:
        for path in (BULLETIN, BULLETIN + "/diff", BULLETIN + "/candidates", "/history"):
            page.goto(desk.url(path))
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= NARROW["width"], (path, width)
        page.goto(desk.url(BULLETIN))
        check_screenshot(page, shots / "bulletin-narrow-address.png", ["Cách đọc", "Duyệt bản tin"])


@in_browser
def test_a_failed_render_is_told_in_words_without_server_paths(browser, desk, shots):
    # The bulletin's audio cannot be written (here: a folder stands where the file goes).
    audio = desk.root / "audio_out" / DATE / "hoa-phu.mp3"
    audio.unlink()
    audio.mkdir()
    with staffer(browser, desk, "tinh", NARROW) as page:
        page.goto(desk.url(BULLETIN))
        page.click("#render")
        page.wait_for_url(re.compile(r".*/render$"))
        page.wait_for_selector("p.error", timeout=180_000)
        shown = page.inner_text("main")
        check_screenshot(page, shots / "render-failed.png", ["Không làm được âm thanh"])
        page.goto(desk.url("/history"))
        history = page.inner_text("main")
    assert "Progress(" not in shown and "stage=" not in shown, shown
    assert "làm âm thanh" in shown.split("Không làm được âm thanh", 1)[1]
    assert "hoa-phu.mp3" in history
    for text in (shown, history):
        assert str(desk.root) not in text and "/audio_out/" not in text



@in_browser
def test_a_sample_that_cannot_be_heard_says_why(browser, desk, shots):
    # A pasted decision runs to one very long paragraph: too long to sample, which the staffer must be told.
    from playwright.sync_api import expect

    sentence = "Ủy ban nhân dân xã Hòa Phú thông báo lịch tiếp công dân định kỳ vào thứ Năm hằng tuần tại trụ sở. "
    save_block(desk, "lan", 1, sentence * 60)
    with staffer(browser, desk, "lan", NARROW) as page:
        page.goto(desk.url(BULLETIN))
        page.locator(".block").first.locator("a.play").first.click()
        alert = page.locator("#player-error")
        alert.wait_for(state="visible")
        expect(alert).to_be_in_viewport()  # beside the ▶ clicked, not above the script out of sight
        assert "quá dài" in alert.inner_text() and "chia thành các đoạn ngắn" in alert.inner_text()
        assert page.evaluate("document.getElementById('para-player').error.code") == 4
        check_screenshot(page, shots / "sample-too-long.png", ["Đoạn quá dài để nghe thử"])
        # The next sample that plays takes the message away.
        page.locator(".block").nth(1).locator("a.play").first.click()
        played(page, "para-player")
        alert.wait_for(state="hidden")


@in_browser
def test_a_station_with_no_bulletin_yet_can_have_one_made_from_the_desk(browser, desk, tmp_path, shots):
    # The nightly run has not made Cư M'gar's bulletin (a new station, or the server was off): the province
    # officer opening it must find a way forward on the page, not a command to type on the server.
    with staffer(browser, desk, "tinh", NARROW) as page:
        page.locator("table.bulletins a", has_text="Bản tin").nth(2).click()
        page.wait_for_url(desk.url(f"/stations/cu-mgar/{DATE}"))
        assert page.inner_text("#state") == "chưa soạn"
        assert "broadcast" not in page.inner_text("main")
        check_screenshot(page, shots / "no-bulletin-yet.png", ["Cư M'gar", "chưa soạn"])
        page.click("#render")
        page.wait_for_url(re.compile(r".*done=rendered.*"), timeout=240_000)
        assert page.inner_text("#state") == "đã làm âm thanh"
        assert page.locator("textarea").count() >= 3
        seconds = played(page, "bulletin-audio")
        mp3 = page.request.get(page.evaluate("document.getElementById('bulletin-audio').currentSrc"))
        assert mp3.headers["content-type"] == "audio/mpeg"
        heard = decoded_seconds(mp3.body(), tmp_path, ".mp3")
        assert 20 < seconds < 400 and abs(heard - seconds) < 1.0, (seconds, heard)
    # Only today's: another day chosen in the address makes nothing (the nightly run makes those).
    s = http_session(desk, "tinh")
    token = form_value(s.get(desk.url(f"/stations/cu-mgar/{DATE}")).text, "csrf_token")
    resp = s.post(desk.url("/stations/cu-mgar/2026-03-13/make"), data={"csrf_token": token}, allow_redirects=False)
    assert resp.status_code == 400 and "Chỉ soạn ngay được bản tin của hôm nay" in resp.text
    assert not (desk.root / "audio_out" / "2026-03-13").exists()


@in_browser
def test_an_edit_outliving_the_session_is_back_in_its_box_after_logging_in(browser, desk):
    # A long correction typed on a phone; the session ran out before Lưu. Copying text out of a box on a
    # phone is clumsy: after logging in again the correction must be back where it was typed.
    mine = "Kính thưa bà con, sáng nay Bộ phận Một cửa xã làm việc từ 7 giờ 30 đến 11 giờ 30."
    with staffer(browser, desk, "lan", NARROW) as page:
        page.goto(desk.url(BULLETIN))
        page.locator("#box-1").fill(mine)
        desk.clock.now += dt.timedelta(hours=3)
        with page.expect_response(re.compile(r".*/save$")) as answer:
            page.click("#save")
        assert answer.value.status == 401
        page.wait_for_load_state("load")
        page.fill("input[name=username]", "lan")
        page.fill("input[name=password]", PASSWORDS["lan"])
        page.click("form.login button[type=submit]")
        page.wait_for_url(desk.url(BULLETIN))
        assert page.locator("#box-1").input_value() == mine
        assert "chưa lưu" in page.inner_text("#draft-note")
        page.click("#save")
        page.wait_for_url(re.compile(r".*done=saved.*"))
        assert mine in script_text(desk.root)
        # Saved: nothing is offered back any more.
        page.reload()
        assert page.locator("#box-1").input_value() == mine
        assert page.locator("#draft-note").count() == 0 or not page.locator("#draft-note").is_visible()


def post_notice(s: requests.Session, desk: Desk, text: str, priority: str) -> requests.Response:
    html = s.get(desk.url(f"/stations/hoa-phu/notices?date={DATE}")).text
    return s.post(desk.url(f"/stations/hoa-phu/notices?date={DATE}"), allow_redirects=False, data={
        "csrf_token": form_value(html, "csrf_token"), "date": DATE, "text": text, "priority": priority,
        "valid_from": DATE, "valid_to": DATE})


def test_an_emergency_notice_sent_again_after_a_failed_build_is_stored_once(built, tmp_path):
    # The station's jingle is broken, so the emergency bulletin cannot be made; the staffer, told so,
    # presses Lưu thông báo again (and again once the jingle is fixed): the notice is one notice,
    # read once in the day's bulletins, not once per attempt.
    root = tmp_path / "site"
    shutil.copytree(built, root, symlinks=True)
    (root / "nhac-hieu.mp3").write_bytes(b"ID3" + bytes(10) + "không phải âm thanh".encode("utf-8") * 50)
    config = root / "broadcast.toml"
    good = config.read_text(encoding="utf-8")
    config.write_text(good + '\n[audio]\njingle = "nhac-hieu.mp3"\n', encoding="utf-8")
    text = "Thông báo khẩn: mất điện toàn xã từ 14 giờ đến 16 giờ chiều nay để sửa đường dây."
    with serve(root) as desk:
        s = http_session(desk, "lan")
        for _ in range(2):
            resp = post_notice(s, desk, text, "emergency")
            assert resp.status_code == 400 and "nhạc hiệu" in resp.text
    config.write_text(good, encoding="utf-8")
    with serve(root) as desk:
        s = http_session(desk, "lan")
        assert post_notice(s, desk, text, "emergency").status_code == 302
        listed = s.get(desk.url(f"/stations/hoa-phu/notices?date={DATE}")).text
        assert listed.count(text) == 1, listed
        # A different notice of the same day is its own.
        assert post_notice(s, desk, "Thông báo: chiều nay họp dân tại nhà văn hóa thôn 3.", "normal").status_code == 302
        assert s.get(desk.url(f"/stations/hoa-phu/notices?date={DATE}")).text.count("<li class=\"priority-") == 2


def tab_to(page, selector: str, limit: int = 80) -> int:
    """Press Tab until the element matching `selector` has the focus; how many presses it took."""
    for n in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement === document.querySelector({selector!r})"):
            return n
    raise AssertionError(f"{selector} is not reachable with Tab")


@in_browser
def test_the_whole_edit_is_done_with_the_keyboard_on_a_phone(browser, desk):
    # Log in (by keyboard, in `staffer`), open the bulletin, hear a paragraph, correct it, save, approve.
    with staffer(browser, desk, "lan", NARROW) as page:
        tab_to(page, "table.bulletins a")
        page.keyboard.press("Enter")
        page.wait_for_url(desk.url(BULLETIN))
        tab_to(page, "#block-1 a.play")
        page.keyboard.press("Enter")
        played(page, "para-player")
        page.focus("#approve")  # start again from the top of the page's own controls
        tab_to(page, "#box-1")
        page.keyboard.press("Control+End")
        page.keyboard.type(" Xin cảm ơn bà con.")
        tab_to(page, "#save", limit=200)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*done=saved.*"))
        assert "Xin cảm ơn bà con." in script_text(desk.root)
        tab_to(page, "#approve")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*done=approved.*"))
        assert page.inner_text("#state") == "đã duyệt"
