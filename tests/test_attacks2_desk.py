"""The review desk (`broadcast serve` on 127.0.0.1) meeting careless files and hostile colleagues.

A light site: two stations with no bulletin yet, accounts made with the real
CLI, the real server in its own process, real SQLite, real files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import socket
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
import requests
from werkzeug.serving import make_server

from broadcast.config import load_config
from broadcast.web.app import DeskSettings, create_app

from offline import offline_config
from test_web import NOW, PASSWORDS, cli_run
from test_web_e2e import serve_site

STATIONS = '''
[[stations]]
id = "hoa-phu"
name = "Đài truyền thanh xã Hòa Phú"
target_minutes = 3
lexicon = "tu-dien-hoa-phu.tsv"

[[stations]]
id = "ea-tieu"
name = "Đài truyền thanh xã Ea Tiêu"
target_minutes = 2
'''


def make_light_site(root: Path) -> Path:
    """Configuration and accounts only: 'lan' staffs Hòa Phú, 'hung' Ea Tiêu, 'quantri' administers."""
    (root / "tu-dien-hoa-phu.tsv").write_text("# Từ điển phát âm của đài\n", encoding="utf-8")
    config = offline_config(root, STATIONS)
    for name, role, station in (("lan", "staff", "hoa-phu"), ("hung", "staff", "ea-tieu"),
                                ("quantri", "admin", "")):
        args = ["user", "add", name, "--role", role, "--password-stdin"] + (["--station", station] if station else [])
        result = cli_run(config, *args, input=PASSWORDS[name] + "\n")
        assert result.exit_code == 0, result.output
    return config


def form_value(html: str, name: str) -> str:
    found = re.findall(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} in the page"
    return found[-1]


def log_in(base: str, name: str) -> requests.Session:
    s = requests.Session()
    token = form_value(s.get(f"{base}/login", timeout=10).text, "csrf_token")
    resp = s.post(f"{base}/login", data={"username": name, "password": PASSWORDS[name], "csrf_token": token},
                  allow_redirects=False, timeout=10)
    assert resp.status_code == 302, resp.text[:500]
    return s


def error_line(resp: requests.Response) -> str:
    m = re.search(r'class="error" role="alert">([^<]+)<', resp.text)
    assert m, resp.text[:1500]
    return m.group(1)


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    make_light_site(root)
    return root


# ---------------------------------------------------------------- the dictionary file as staff left it


def add_entry(base: str, s: requests.Session, written: str, spoken: str) -> requests.Response:
    page = s.get(f"{base}/stations/hoa-phu/lexicon", timeout=10)
    return s.post(f"{base}/stations/hoa-phu/lexicon", data={"csrf_token": form_value(page.text, "csrf_token"),
                                                             "written": written, "spoken": spoken},
                  allow_redirects=False, timeout=20)


def test_an_entry_joins_a_dictionary_saved_by_notepad_as_unicode(site):
    # Notepad's "Unicode" is UTF-16 with a byte-order mark: the nightly run reads such a file, so the desk
    # must add to it too, keeping every entry already there.
    lexicon = site / "tu-dien-hoa-phu.tsv"
    lexicon.write_bytes("# Từ điển của đài\r\nEa Kly\tÊ a Kly\r\n".encode("utf-16"))
    with serve_site(site) as base:
        s = log_in(base, "lan")
        resp = add_entry(base, s, "HTX", "hợp tác xã")
        assert resp.status_code == 302, error_line(resp)
        page = s.get(f"{base}/stations/hoa-phu/lexicon", timeout=10).text
    assert "Ê a Kly" in page and "hợp tác xã" in page
    from broadcast.textnorm.lexicon import read_tsv
    assert dict(read_tsv(lexicon)) == {"Ea Kly": "Ê a Kly", "HTX": "hợp tác xã"}


def test_a_dictionary_path_that_is_a_pipe_is_refused_not_waited_on(site):
    # A careless configuration names a FIFO (or a device) as the station's dictionary: adding an entry
    # must answer with the reason, not hang a desk thread on it for ever (or, for /dev/zero, read it all).
    lexicon = site / "tu-dien-hoa-phu.tsv"
    lexicon.unlink()
    os.mkfifo(lexicon)
    release = threading.Event()

    def unblock() -> None:
        # Whatever reads the pipe before the fix is let go at the end, so the server can stop.
        release.wait()
        try:
            fd = os.open(lexicon, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
        except OSError:
            pass

    helper = threading.Thread(target=unblock, daemon=True)
    helper.start()
    try:
        with serve_site(site) as base:
            s = log_in(base, "lan")
            try:
                resp = add_entry(base, s, "HTX", "hợp tác xã")
            except requests.Timeout:
                pytest.fail("the desk waited on the pipe instead of answering")
            assert resp.status_code == 400
            assert "không phải tệp thường" in error_line(resp)
    finally:
        release.set()


# ---------------------------------------------------------------- the voice service is the province's


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@contextlib.contextmanager
def desk_in_process(root: Path, clock: Clock, settings: DeskSettings) -> Iterator[str]:
    """The desk app with its own settings and clock behind a real HTTP server on a free port."""
    app = create_app(load_config(root / "broadcast.toml"), root / "audio_out", clock, settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def hear(base: str, s: requests.Session, station: str, text: str) -> requests.Response:
    return s.get(f"{base}/stations/{station}/speech", params={"text": text},
                 headers={"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Dest": "audio"}, timeout=60)


def test_one_account_cannot_spend_the_voice_service_without_limit(site):
    # Every new paragraph heard is read by the station's engine: with a vendor voice, a paid request on the
    # province's key. A script (or a stuck key) on one staffer's computer must not spend it without end.
    clock = Clock(NOW)
    settings = DeskSettings()
    settings.speech_chars_per_hour = 300  # a few sentences, so the test stays short
    sentences = [f"Thôn {n} đã hoàn thành việc kích hoạt tài khoản định danh điện tử cho người dân." for n in
                 ("một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám")]
    with desk_in_process(site, clock, settings) as base:
        lan, hung = log_in(base, "lan"), log_in(base, "hung")
        answers = [hear(base, lan, "hoa-phu", text) for text in sentences]
        codes = [a.status_code for a in answers]
        assert codes[:3] == [200, 200, 200] and codes[-1] == 429, codes
        refused = answers[codes.index(429)]
        assert "trong một giờ" in error_line(refused) and "300" in error_line(refused)
        # The limit is the account's, not the desk's: a colleague of another commune still hears hers.
        assert hear(base, hung, "ea-tieu", sentences[-1]).status_code == 200
        clock.now += dt.timedelta(minutes=61)
        assert hear(base, lan, "hoa-phu", sentences[-1]).status_code == 200


# ---------------------------------------------------------------- days nobody planned


def wait_render(base: str, s: requests.Session, day: str) -> str:
    """Follow the render's progress page until it ends; return its text or the page it sends to."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        page = s.get(f"{base}/stations/hoa-phu/{day}/render", allow_redirects=False, timeout=30)
        if page.status_code == 302:
            return page.headers["Location"]
        if "Không làm được âm thanh" in page.text:
            return page.text
        time.sleep(0.3)
    pytest.fail("the render never ended")


def test_remaking_audio_never_makes_a_bulletin_for_a_day_without_a_script(site):
    # "Làm lại âm thanh" remakes a script's audio. On a day with no script (any day of any year fits in the
    # address) it drafted and rendered a whole new bulletin: a few MB each, days ahead are never removed by
    # retention, so one account looping over dates fills the province server's disk.
    clock = Clock(NOW)
    with desk_in_process(site, clock, DeskSettings()) as base:
        lan = log_in(base, "lan")
        for day in ("2026-03-13", "9000-01-01"):
            page = lan.get(f"{base}/stations/hoa-phu/{day}", timeout=30)
            resp = lan.post(f"{base}/stations/hoa-phu/{day}/render",
                            data={"csrf_token": form_value(page.text, "csrf_token")}, allow_redirects=False,
                            timeout=30)
            if resp.status_code == 302:
                ended = wait_render(base, lan, day)
                assert "Chưa có kịch bản" in ended, ended[:2000]
            else:
                assert "Chưa có kịch bản" in error_line(resp)
    assert not (site / "audio_out" / "9000-01-01").exists()
    assert not list((site / "audio_out").rglob("*.mp3"))


def test_a_notice_is_never_made_into_audio_for_a_day_years_ahead(site):
    # An emergency notice is built at once, for its first day: a first day in the year 9000 made a bulletin
    # retention would never remove, one more for every such post.
    clock = Clock(NOW)
    with desk_in_process(site, clock, DeskSettings()) as base:
        lan = log_in(base, "lan")
        page = lan.get(f"{base}/stations/hoa-phu/notices", timeout=30)
        resp = lan.post(f"{base}/stations/hoa-phu/notices", params={"date": "9000-01-01"},
                        data={"csrf_token": form_value(page.text, "csrf_token"), "priority": "emergency",
                              "text": "Bà con chú ý: ngày mai cắt điện toàn xã.", "valid_from": "9000-01-01"},
                        allow_redirects=False, timeout=120)
        assert resp.status_code == 400
        assert "31 ngày" in error_line(resp)
    assert not (site / "audio_out" / "9000-01-01").exists()


# ---------------------------------------------------------------- a stranger's upload


def bytes_taken(base: str, head: bytes, body_piece: bytes, total: int) -> int:
    """Send `head`, then `body_piece` until `total` bytes: how many the server let in before it hung up."""
    port = int(base.rsplit(":", 1)[1])
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        try:
            while sent < total:
                sock.sendall(body_piece)
                sent += len(body_piece)
        except OSError:
            pass  # refused: what should happen
    return sent


def test_a_stranger_cannot_make_the_server_store_a_huge_upload(site):
    # No account needed: the server read any request whole into a temporary file (up to 1 GB, a hundred
    # connections at once) before the desk could refuse it for its size.
    total = 300 * 1024 * 1024
    piece = b"a" * (1 << 20)
    with serve_site(site) as base:
        declared = bytes_taken(base, (f"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/"
                                      f"x-www-form-urlencoded\r\nContent-Length: {total}\r\n\r\n").encode(),
                               piece, total)
        chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
        chunked = bytes_taken(base, (b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/"
                                     b"x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"),
                              chunk, total)
        # The desk is still there for everyone else.
        assert requests.get(f"{base}/healthz", timeout=10).text == "ok"
    assert declared < 64 * 1024 * 1024 and chunked < 64 * 1024 * 1024, (declared, chunked)


def test_previews_spending_the_speech_budget_stop_only_for_a_while(site):
    # Previews counted against one budget for the desk's whole life (reset only when somebody rendered):
    # once staff together had heard tts.speech_budget_chars of new speech, nobody in the province could
    # hear a paragraph again, and a voice service that failed once stayed skipped the same way.
    config = site / "broadcast.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('engine = "espeak"',
                                                                  'engine = "espeak"\nspeech_budget_chars = 1000'),
                      encoding="utf-8")
    clock = Clock(NOW)
    paragraph = ("Thôn {} đã hoàn thành việc kích hoạt tài khoản định danh điện tử mức hai cho người dân, "
                 "hướng dẫn nộp hồ sơ trực tuyến và thanh toán phí, lệ phí không dùng tiền mặt.")
    with desk_in_process(site, clock, DeskSettings()) as base:
        lan, hung = log_in(base, "lan"), log_in(base, "hung")
        codes = [hear(base, lan, "hoa-phu", paragraph.format(n)).status_code
                 for n in ("một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín", "mười")]
        assert codes[0] == 200 and codes[-1] == 400, codes
        clock.now += dt.timedelta(minutes=11)
        assert hear(base, hung, "ea-tieu", paragraph.format("mười một")).status_code == 200
        assert hear(base, lan, "hoa-phu", paragraph.format("mười hai")).status_code == 200
