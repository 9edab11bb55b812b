"""The desk as a stranger or a careless colleague would use it, on `broadcast serve` (waitress) at 127.0.0.1.

Odd requests, stale forms, expired sessions and two staffers on one bulletin:
each must get a Vietnamese answer, change nothing it should not, and never
drop what a staffer typed. Page behaviour is checked in headless Chromium.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest
import requests

from test_web import DATE, PASSWORDS, cli_run, make_site, script_text
from test_web_e2e import CHROMIUM, INSTALL, REQUIRED, browser, log_in, open_page, serve_site  # noqa: F401 (fixture)

BULLETIN = f"/stations/hoa-phu/{DATE}"
EA_TIEU = f"/stations/ea-tieu/{DATE}"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The two-station site plus a station on air twice a day (drafted), built once; each test serves a copy."""
    config = make_site(tmp_path_factory.mktemp("desk-audit"))
    with config.open("a", encoding="utf-8") as f:
        f.write('\n[[stations]]\nid = "krong"\nname = "Đài truyền thanh xã Krông Búk"\ntarget_minutes = 2\n'
                'slots = [{ name = "sang", time = "06:00" }, { name = "chieu", time = "17:00" }]\n')
    result = cli_run(config, "script", "--station", "krong", "--no-fetch")
    assert result.exit_code == 0, result.output
    return config.parent


@pytest.fixture
def server(built, tmp_path):
    root = tmp_path / "site"
    shutil.copytree(built, root, symlinks=True)
    with serve_site(root) as base:
        yield base, root


def needs_browser():
    if CHROMIUM is None and not REQUIRED:
        pytest.skip(f"cần trình duyệt Chromium: {INSTALL}")


def http_login(base: str, name: str, password: str | None = None) -> tuple[requests.Session, requests.Response]:
    s = requests.Session()
    token = form_value(s.get(f"{base}/login").text, "csrf_token")
    resp = s.post(f"{base}/login", data={"username": name, "password": password or PASSWORDS[name],
                                         "csrf_token": token}, allow_redirects=False)
    return s, resp


def form_value(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, f"no {name} in the page"
    return m.group(1)


def open_bulletin(server) -> tuple[requests.Session, str, str, str]:
    """Lan's session on Hòa Phú's bulletin: (session, form token, script version, script text)."""
    base, root = server
    s, _ = http_login(base, "lan")
    html = s.get(base + BULLETIN).text
    return s, form_value(html, "csrf_token"), form_value(html, "base_sha"), script_text(root)


def vietnamese_error(resp: requests.Response) -> str:
    """The page's error line, after checking it is a desk page and not the framework's English one."""
    html = resp.text
    assert '<html lang="vi">' in html, html[:300]
    for english in ("Internal Server Error", "Method Not Allowed", "Requested Range", "Request Entity", "Bad Request"):
        assert english not in html
    assert resp.headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")
    m = re.search(r'class="error" role="alert">([^<]+)<', html)
    assert m, html[:1000]
    return m.group(1)


# ---------------------------------------------------------------- odd requests


def test_odd_requests_get_a_vietnamese_page_not_a_server_error(server):
    base, _ = server
    s, _ = http_login(base, "lan")
    resp = s.get(f"{base}{BULLETIN}/save")
    assert resp.status_code == 405
    assert "nút" in vietnamese_error(resp)
    resp = s.get(f"{base}{BULLETIN}/audio", headers={"Range": "bytes=999999999-"})
    assert resp.status_code == 416
    assert "âm thanh" in vietnamese_error(resp)
    # The first and last days a date can hold: the pages link to the day before and after.
    for path in ("/?date=9999-12-31", "/?date=0001-01-01", "/history?to=0001-01-05", "/history?from=9999-12-31"):
        resp = s.get(base + path)
        assert resp.status_code == 404, path
        assert "Không có trang này." == vietnamese_error(resp)


def test_a_post_too_large_to_read_says_the_limit_and_how_to_keep_the_text(server):
    base, root = server
    s, token, sha, before = open_bulletin(server)
    resp = s.post(f"{base}{BULLETIN}/save", data={"csrf_token": token, "base_sha": sha,
                                                  "block-1": "Kính thưa bà con. " * 120_000})
    assert resp.status_code == 413
    message = vietnamese_error(resp)
    assert "2 MB" in message and "Quay lại" in message
    assert script_text(root) == before


def test_a_form_that_is_not_utf8_is_refused_not_saved_garbled(server):
    base, root = server
    s, token, sha, before = open_bulletin(server)
    body = f"csrf_token={token}&base_sha={sha}&block-1=Ch%E0o%FF b%C3%A0 con".encode("ascii")
    resp = s.post(f"{base}{BULLETIN}/save", data=body,
                  headers={"Content-Type": "application/x-www-form-urlencoded"}, allow_redirects=False)
    assert resp.status_code == 400
    assert "UTF-8" in vietnamese_error(resp)
    assert script_text(root) == before


def test_a_save_that_does_not_say_which_version_it_edits_is_refused(server):
    # Without the version read, the desk cannot know whether a colleague saved in between.
    base, root = server
    s, token, _, before = open_bulletin(server)
    typed = "Lời chào gửi lên mà không kèm phiên bản đã đọc."
    resp = s.post(f"{base}{BULLETIN}/save", data={"csrf_token": token, "block-1": typed}, allow_redirects=False)
    assert resp.status_code == 409
    assert "tải lại trang" in vietnamese_error(resp) and typed in resp.text
    resp = s.post(f"{base}{BULLETIN}/swap", data={"csrf_token": token, "story": "1", "include": "0"},
                  allow_redirects=False)
    assert resp.status_code == 409
    assert "tải lại trang" in vietnamese_error(resp)
    assert script_text(root) == before


def test_a_station_with_two_broadcasts_a_day_is_reachable_from_every_link(browser, server):
    needs_browser()
    base, _ = server
    context, page = open_page(browser)
    log_in(page, base, "tinh")
    links = page.locator("ul.stations li", has_text="Krông Búk").locator("a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert any("candidates" in h for h in hrefs), hrefs
    for href in hrefs:
        resp = page.goto(base + href)
        assert resp.status == 200, (href, page.inner_text("main")[:300])
        assert "--slot" not in page.inner_text("body")
    # A day's address without its broadcast opens the first one instead of a command-line hint.
    resp = page.goto(f"{base}/stations/krong/{DATE}")
    assert resp.status == 200 and page.url.endswith("slot=sang"), page.url
    context.close()


def test_a_broadcast_the_station_does_not_have_is_not_found_and_not_rendered(server):
    base, root = server
    s, token, _, _ = open_bulletin(server)
    for path in (f"{BULLETIN}?slot=khong-co", f"{BULLETIN}/candidates?slot=khong-co"):
        resp = s.get(base + path)
        assert resp.status_code == 404, path
        assert "--slot" not in resp.text and "khong-co" in vietnamese_error(resp)
    # A render of a broadcast that does not exist must not start the station's whole build.
    resp = s.post(f"{base}{BULLETIN}/render?slot=khong-co", data={"csrf_token": token}, allow_redirects=False)
    assert resp.status_code == 404
    assert not (root / "audio_out" / DATE / "hoa-phu-khong-co.txt").exists()
    status = s.get(f"{base}/api{BULLETIN}").json()
    assert status["render"] is None


def test_a_dictionary_entry_with_nothing_to_read_is_refused_not_reported_added(server):
    # The browser's "required" lets spaces through, and a word starting with # would be saved as a comment.
    base, root = server
    s, _ = http_login(base, "lan")
    token = form_value(s.get(f"{base}/stations/hoa-phu/lexicon").text, "csrf_token")
    before = (root / "tu-dien.tsv").read_text(encoding="utf-8")
    for written, spoken in (("   ", "  "), ("UBND", "   "), ("#UBND", "ủy ban nhân dân")):
        resp = s.post(f"{base}/stations/hoa-phu/lexicon", data={"csrf_token": token, "written": written,
                                                               "spoken": spoken}, allow_redirects=False)
        assert resp.status_code == 400, (written, spoken)
        assert "Hãy" in vietnamese_error(resp) and "dòng" not in vietnamese_error(resp)
        assert f'value="{spoken}"' in resp.text, "what was typed stays in the form"
    assert (root / "tu-dien.tsv").read_text(encoding="utf-8") == before


# ---------------------------------------------------------------- logging in


def test_a_new_password_from_the_admin_lifts_the_lockout(server):
    base, _ = server
    for _ in range(5):
        _, resp = http_login(base, "hung", "doan-sai-mat-khau")
        assert resp.status_code == 401
    _, resp = http_login(base, "hung")
    assert resp.status_code == 429
    assert "nhờ người quản trị đặt lại mật khẩu" in resp.text
    admin, _ = http_login(base, "quantri")
    token = form_value(admin.get(f"{base}/accounts").text, "csrf_token")
    resp = admin.post(f"{base}/accounts/hung/password", data={"csrf_token": token, "password": "mat-khau-moi-1"},
                      allow_redirects=False)
    assert resp.status_code == 302
    # As the lockout message promised, the new password works at once.
    s, resp = http_login(base, "hung", "mat-khau-moi-1")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert s.get(base + EA_TIEU).status_code == 200


def test_a_huge_account_name_does_not_fill_the_database(server):
    # Every failed login is remembered by name: a megabyte "name" must not be stored as such.
    base, root = server
    db = root / "data" / "broadcast.sqlite3"
    for _ in range(3):
        _, resp = http_login(base, "x" * 1_500_000, "sai-mat-khau")
        assert resp.status_code == 401
        assert "Sai tên tài khoản hoặc mật khẩu." in resp.text
    con = sqlite3.connect(db)
    try:
        count, longest = con.execute("SELECT COUNT(*), MAX(LENGTH(who)) FROM desk_login_failures").fetchone()
    finally:
        con.close()
    assert count == 9 and longest <= 200  # by name, by address, by the two together
    assert sum(f.stat().st_size for f in db.parent.glob(db.name + "*")) < 3_000_000


def test_logging_in_over_a_session_ends_the_old_one(server):
    # An office computer: the next staffer logs in without the first having logged out.
    base, _ = server
    s, _ = http_login(base, "lan")
    first = s.cookies["desk_session"]
    # The page's last form is the login form (the first is the logged-in header's log-out button).
    token = re.findall(r'name="csrf_token" value="([^"]*)"', s.get(f"{base}/login").text)[-1]
    resp = s.post(f"{base}/login", data={"username": "hung", "password": PASSWORDS["hung"], "csrf_token": token},
                  allow_redirects=False)
    assert resp.status_code == 302 and s.cookies["desk_session"] != first
    resp = requests.get(base + BULLETIN, cookies={"desk_session": first}, allow_redirects=False)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_a_stations_audio_and_status_are_not_kept_by_shared_caches(server):
    base, _ = server
    s, _ = http_login(base, "lan")
    audio = s.get(f"{base}{BULLETIN}/audio", headers={"Range": "bytes=0-99"})
    assert audio.status_code == 206 and "private" in audio.headers["Cache-Control"]
    status = s.get(f"{base}/api{BULLETIN}")
    assert status.status_code == 200 and status.headers["Cache-Control"] == "no-store"


# ---------------------------------------------------------------- never losing an edit


def test_a_save_after_a_colleague_took_a_story_out_keeps_every_typed_block(browser, server):
    needs_browser()
    base, root = server
    ctx_a, a = open_page(browser)
    ctx_b, b = open_page(browser)
    log_in(a, base, "hung")
    log_in(b, base, "tinh")
    a.goto(base + EA_TIEU)
    closing = a.locator("textarea").last
    mine = "Lời kết do cán bộ Hùng viết lại rất công phu, xin đừng làm mất."
    closing.fill(mine)
    # Meanwhile a colleague takes the first story out: every block after it moves up by one.
    b.goto(f"{base}{EA_TIEU}/candidates")
    b.locator("article.in-script button").first.click()
    b.wait_for_url(re.compile(r".*done=swapped_out.*"))
    theirs = script_text(root, "ea-tieu")
    with a.expect_response(re.compile(r".*/save$")) as answer:
        a.click("#save")
    assert answer.value.status == 409
    a.wait_for_load_state("load")
    assert "Kịch bản vừa được sửa ở nơi khác" in a.inner_text("p.error")
    kept = a.locator("textarea.unsaved").evaluate_all("boxes => boxes.map(b => b.value)")
    # Only what this staffer typed: not the story the colleague removed, which they never touched.
    assert kept == [mine], kept
    assert script_text(root, "ea-tieu") == theirs
    ctx_a.close()
    ctx_b.close()


def save_after_logging_out_elsewhere(browser, server, mine: str, log_in_again: bool, status: int, said: str):
    """Type into the greeting, log out (and maybe in) in another tab, then save: the answer page."""
    needs_browser()
    base, root = server
    context, page = open_page(browser)
    log_in(page, base, "lan")
    page.goto(base + BULLETIN)
    page.locator("textarea").first.fill(mine)
    other = context.new_page()
    other.goto(base + "/")
    other.click("button.link")
    other.wait_for_url(re.compile(r".*/login$"))
    if log_in_again:
        log_in(other, base, "lan")
    other.close()
    before = script_text(root)
    with page.expect_response(re.compile(r".*/save$")) as answer:
        page.click("#save")
    assert answer.value.status == status
    page.wait_for_load_state("load")
    assert said in page.inner_text("p.error")
    assert page.locator("textarea.unsaved").first.input_value() == mine
    assert script_text(root) == before
    return page


def test_a_save_after_the_session_ended_keeps_the_text_and_logs_back_in(browser, server):
    # The session ended on the server (idle too long, password changed, logged out in another tab).
    page = save_after_logging_out_elsewhere(browser, server, "Lời chào gõ xong thì phiên đăng nhập đã hết.",
                                            False, 401, "Phiên đăng nhập đã hết")
    # Logging in again on that page comes back to the bulletin, where the text can be pasted.
    page.fill("input[name=username]", "lan")
    page.fill("input[name=password]", PASSWORDS["lan"])
    page.click("button[type=submit]")
    page.wait_for_url(server[0] + BULLETIN)
    page.context.close()


def test_a_save_from_a_page_older_than_the_login_keeps_the_text(browser, server):
    # Logged out and in again in another tab: this page's form token belongs to the old session.
    page = save_after_logging_out_elsewhere(browser, server, "Lời chào gõ trên trang mở từ phiên đăng nhập trước.",
                                            True, 403, "mã bảo vệ biểu mẫu")
    page.context.close()
