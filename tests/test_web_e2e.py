"""The desk end to end: `broadcast serve` (waitress) on 127.0.0.1 driven by real headless Chromium.

Needs Debian's chromium (`apt-get install -y chromium`); Playwright's own browser
download is not used. Without the browser these tests are skipped.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from test_web import DATE, ENV, HOSTILE, PASSWORDS, make_site, script_text

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
INSTALL = "apt-get update && apt-get install -y chromium"
# CI sets this, so a browser that went missing fails the run instead of skipping quietly.
REQUIRED = os.environ.get("BROADCAST_REQUIRE_BROWSER") == "1"
pytestmark = pytest.mark.skipif(CHROMIUM is None and not REQUIRED, reason=f"cần trình duyệt Chromium: {INSTALL}")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
OFFICE = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


# ---------------------------------------------------------------- screenshots


# Counted by the browser itself on a blank page: its PNG decoder, not one of ours.
PIXEL_STATS = """async (src) => {
  const img = new Image();
  img.src = src;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.width; canvas.height = img.height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, img.width, img.height).data;
  const counts = new Map();
  for (let i = 0; i < data.length; i += 4) {
    const key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  let top = 0;
  counts.forEach(n => { if (n > top) top = n; });
  return {width: img.width, height: img.height, pixels: data.length / 4, background: top, colours: counts.size};
}"""


def check_screenshot(page, path: Path, texts: list[str]) -> None:
    """Take a screenshot, and check it is not blank and the page shows the key texts."""
    # A form post may still be navigating to its answer page: let it settle first.
    page.wait_for_load_state("load")
    for attempt in range(3):
        try:
            data = page.screenshot(path=str(path), full_page=False)
            break
        except Exception as exc:  # Chromium refuses a capture while a navigation commits
            if "captureScreenshot" not in str(exc) or attempt == 2:
                raise
            page.wait_for_timeout(300)
            page.wait_for_load_state("load")
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    blank = page.context.new_page()
    try:
        stats = blank.evaluate(PIXEL_STATS, "data:image/png;base64," + base64.b64encode(data).decode())
    finally:
        blank.close()
    viewport = page.viewport_size
    assert (stats["width"], stats["height"]) == (viewport["width"], viewport["height"])
    assert stats["pixels"] - stats["background"] > stats["pixels"] * 0.03, f"{path.name} is nearly blank"
    assert stats["colours"] > 20, f"{path.name} has almost no distinct colours"
    body = page.inner_text("body")
    for text in texts:
        assert text in body, f"{text!r} not shown in {path.name}"


# ---------------------------------------------------------------- the server and the browser


@contextlib.contextmanager
def serve_site(root: Path) -> Iterator[str]:
    """Run `broadcast serve` over the site in `root` on a free port; yield its address."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", **ENV)
    proc = subprocess.Popen([sys.executable, "-m", "broadcast", "--config", str(root / "broadcast.toml"), "--out",
                             str(root / "audio_out"), "serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert m, line + proc.stdout.read() if proc.poll() is not None else line
        yield f"http://127.0.0.1:{m.group(1)}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("desk-e2e")
    make_site(root)
    with serve_site(root) as base:
        yield base, root


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail(f"cần trình duyệt Chromium: {INSTALL}")
    sync_api = pytest.importorskip("playwright.sync_api", reason="cần gói playwright: pip install playwright")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("BROADCAST_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_page(browser, viewport=OFFICE):
    context = browser.new_context(viewport=viewport, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(60_000)
    return context, page


def log_in(page, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


# ---------------------------------------------------------------- what staff do


def test_bulletin_player_loads_and_markers_seek(browser, server, shots):
    base, _ = server
    context, page = open_page(browser)
    log_in(page, base, "tinh")
    page.goto(f"{base}/stations/hoa-phu/{DATE}")
    page.wait_for_function("() => document.getElementById('bulletin-audio').duration > 0")
    check_screenshot(page, shots / "bulletin.png", ["[mở đầu]", "Cách đọc", "Nghe cả bản tin", "chờ duyệt",
                                                   "tin 1:"])
    total = page.evaluate("document.getElementById('bulletin-audio').duration")
    markers = page.locator("a.marker-item")
    assert markers.count() >= 2
    start = float(markers.nth(1).get_attribute("data-start"))
    markers.nth(1).click()
    page.wait_for_function(f"() => Math.abs(document.getElementById('bulletin-audio').currentTime - {start}) < 1.5")
    assert 30 < total < 400 and 0 < start < total
    context.close()


def test_log_in_edit_hear_approve_and_render(browser, server, shots):
    # Ea Tiêu's bulletin is only drafted; the other tests read Hòa Phú's, so the order does not matter.
    base, root = server
    context, page = open_page(browser)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, base, "hung")
    check_screenshot(page, shots / "home-drafted.png", ["Bản tin ngày 12/03/2026", "Đài truyền thanh xã Ea Tiêu",
                                                        "đã soạn"])
    page.click("table.bulletins a")
    page.wait_for_url(f"{base}/stations/ea-tieu/{DATE}")
    check_screenshot(page, shots / "bulletin-drafted.png", ["[mở đầu]", "Cách đọc", "Duyệt bản tin", "đã soạn"])

    # Edit the greeting's first paragraph and save.
    box = page.locator("textarea").first
    old = box.input_value()
    new_greeting = "Kính thưa bà con, đây là lời chào đã được cán bộ đài sửa."
    box.fill(new_greeting + "\n\n" + old.split("\n\n", 1)[1] if "\n\n" in old else new_greeting)
    page.click("#save")
    page.wait_for_url(re.compile(r".*done=saved.*"))
    assert page.inner_text("#state") == "đã sửa"
    assert new_greeting in script_text(root, "ea-tieu")

    # Hear the edited paragraph: synthesised on demand, played in the page.
    reading = page.locator(".block").first.locator(".reading .para").first
    assert "Kính thưa bà con" in reading.inner_text()
    reading.locator("a.play").click()
    page.wait_for_function("() => { const a = document.getElementById('para-player');"
                           " return a.readyState >= 1 && a.duration > 0; }")
    duration = page.evaluate("document.getElementById('para-player').duration")
    assert 1.0 < duration < 30, duration
    assert "/stations/ea-tieu/speech?text=" in page.evaluate("document.getElementById('para-player').currentSrc")

    page.click("#approve")
    page.wait_for_url(re.compile(r".*done=approved.*"))
    assert page.inner_text("#state") == "đã duyệt"
    check_screenshot(page, shots / "approved.png", ["Đã duyệt bản tin.", "đã duyệt bởi hung",
                                                   "bấm “Làm lại âm thanh”"])

    # Render the approved script again, watching the progress page.
    page.click("#render")
    page.wait_for_url(re.compile(r".*/render$"))
    check_screenshot(page, shots / "rendering.png", ["Đang làm âm thanh"])
    page.wait_for_url(re.compile(r".*done=rendered.*"), timeout=180_000)
    assert page.inner_text("#state") == "đã làm âm thanh"
    page.wait_for_function("() => document.getElementById('bulletin-audio').duration > 0")
    assert page.locator("a.marker-greeting").count() == 1
    check_screenshot(page, shots / "rendered.png", ["Đã làm xong âm thanh.", "sẵn sàng phát"])
    assert not dialogs
    context.close()


def test_staff_cannot_reach_another_station(browser, server, shots):
    base, _ = server
    context, page = open_page(browser)
    log_in(page, base, "lan")
    check_screenshot(page, shots / "home.png", ["Bản tin ngày 12/03/2026", "Đài truyền thanh xã Hòa Phú",
                                               "đã làm âm thanh", "espeak"])
    assert "Ea Tiêu" not in page.inner_text("body")
    for path in (f"/stations/ea-tieu/{DATE}", f"/stations/ea-tieu/{DATE}/audio",
                 f"/stations/ea-tieu/{DATE}/candidates", f"/api/stations/ea-tieu/{DATE}", "/stations/ea-tieu/lexicon"):
        resp = page.goto(base + path)
        assert resp.status == 403, path
    check_screenshot(page, shots / "forbidden.png", ["Tài khoản của bạn không được xem đài này."])
    assert page.request.get(f"{base}/stations/ea-tieu/{DATE}/audio").status == 403
    context.close()


def test_a_form_without_its_csrf_token_is_refused(browser, server, shots):
    base, root = server
    context, page = open_page(browser)
    log_in(page, base, "lan")
    page.goto(f"{base}/stations/hoa-phu/{DATE}")
    before = script_text(root)
    page.locator("textarea").first.fill("Lời chào giả mạo.")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    with page.expect_response(re.compile(r".*/save.*")) as answer:
        page.click("#save")
    assert answer.value.status == 403
    check_screenshot(page, shots / "csrf.png", ["thiếu mã bảo vệ biểu mẫu"])
    assert script_text(root) == before
    # Another site's page cannot post with the desk's cookie either (SameSite) nor knows the token.
    resp = page.request.post(f"{base}/stations/hoa-phu/{DATE}/approve", form={"base_sha": "0" * 64},
                             max_redirects=0)
    assert resp.status == 403
    context.close()


def test_hostile_title_is_shown_as_text(browser, server, shots):
    base, _ = server
    context, page = open_page(browser, PHONE)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, base, "lan")
    for path, name in ((f"/stations/hoa-phu/{DATE}", "hostile-bulletin-phone.png"),
                       (f"/stations/hoa-phu/{DATE}/candidates", "hostile-candidates-phone.png")):
        page.goto(base + path)
        assert page.evaluate("typeof window.__pwned") == "undefined"
        title = HOSTILE.split(" Dịch")[0]
        check_screenshot(page, shots / name, [title])
        # Readable on a phone: nothing wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    assert not dialogs
    context.close()
