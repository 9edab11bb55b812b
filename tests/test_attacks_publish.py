"""Delivery targets attacked by the servers they talk to: real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from broadcast.publish.http import HTTPTarget
from broadcast.publish.targets import DeliveryError, Upload

TOKEN = "tok-Rr92-bi-mat-cua-dai"
AUDIO = b"ID3" + bytes(range(256)) * 40


class Recorder:
    """An HTTP server that records every request and answers from a function of the request."""

    def __init__(self, answer) -> None:
        self.requests: list[dict] = []
        rec = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                rec.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                     "body": body})
                status, headers, reply = answer(self.command, self.path)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_PUT = do_POST = _any  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers():
    made: list[Recorder] = []

    def make(answer) -> Recorder:
        made.append(Recorder(answer))
        return made[-1]
    yield make
    for s in made:
        s.close()


def upload() -> Upload:
    return Upload(station="hoa-phu", date=dt.date(2026, 3, 12), slot="", slot_time="", kind="bulletin",
                  title="Bản tin", base="hoa-phu", data=AUDIO, checksum=hashlib.sha256(AUDIO).hexdigest(),
                  version="v1")


def target(url: str, method: str, monkeypatch, header: str = "X-Api-Key") -> HTTPTarget:
    monkeypatch.setenv("LOA_TOKEN_ATTACK", TOKEN)
    return HTTPTarget(url, method, "{station}_{date}.mp3", field="file", form={}, headers={}, token_file=None,
                      token_env="LOA_TOKEN_ATTACK", token_header=header, timeout=10)


def test_a_redirect_never_carries_the_token_or_the_bulletin_to_another_server(servers, monkeypatch):
    # The receiving platform (or whoever took over its name) answers 307 towards another host: the upload
    # would be sent again there, with the station's access token in its custom header.
    thief = servers(lambda method, path: (201, {}, b"ok"))
    platform = servers(lambda method, path: (307, {"Location": thief.url("/lay-ma")}, b""))
    with pytest.raises(DeliveryError) as caught:
        target(platform.url("/api/upload/{name}"), "PUT", monkeypatch).send(upload(), "hoa-phu_2026-03-12.mp3")
    assert thief.requests == []
    assert not caught.value.retry
    assert "chuyển hướng" in str(caught.value) and TOKEN not in str(caught.value)


def test_an_upload_redirected_to_a_page_is_not_counted_as_delivered(servers, monkeypatch):
    # A portal whose session expired sends every POST to its login page, which answers 200: following it
    # turns the upload into a GET of that page, and the bulletin would be logged as delivered.
    def portal(method, path):
        if path.startswith("/dang-nhap"):
            return 200, {"Content-Type": "text/html"}, b"<html>dang nhap</html>"
        return 302, {"Location": "/dang-nhap"}, b""
    site = servers(portal)
    with pytest.raises(DeliveryError) as caught:
        target(site.url("/upload"), "POST", monkeypatch, header="Authorization").send(upload(), "hoa-phu.mp3")
    assert [r["method"] for r in site.requests] == ["POST"]
    assert "/dang-nhap" in str(caught.value)


def test_a_plain_upload_still_arrives_with_its_token(servers, monkeypatch):
    platform = servers(lambda method, path: (201, {}, b"ok"))
    where = target(platform.url("/api/upload/{name}"), "PUT", monkeypatch).send(upload(), "hoa-phu.mp3")
    assert where.endswith("/api/upload/hoa-phu.mp3")
    assert platform.requests[0]["body"] == AUDIO
    assert platform.requests[0]["headers"]["X-Api-Key"] == TOKEN


def test_a_password_in_the_upload_address_is_sent_but_never_shown(servers, monkeypatch):
    answers = iter([503, 201])
    platform = servers(lambda method, path: (next(answers), {}, b"ban tin"))
    url = platform.url("/api/{name}").replace("http://", "http://loa:Mk-loa-ip-77@")
    t = target(url, "PUT", monkeypatch)
    with pytest.raises(DeliveryError) as caught:
        t.send(upload(), "hoa-phu.mp3")
    where = t.send(upload(), "hoa-phu.mp3")
    assert platform.requests[0]["headers"]["Authorization"].startswith("Basic ")
    for shown in (str(caught.value), where, t.label):
        assert "Mk-loa-ip-77" not in shown and "loa:***@127.0.0.1" in shown, shown


def test_a_receivers_answer_cannot_write_terminal_sequences_into_the_delivery_log(servers, monkeypatch):
    # The first line of a refusal is quoted to the operator (and stored in the delivery log, printed by
    # `broadcast deliveries`): ESC from the server would drive the operator's terminal.
    platform = servers(lambda method, path: (403, {}, "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J từ chối\r\n".encode()))
    with pytest.raises(DeliveryError) as caught:
        target(platform.url("/api/{name}"), "PUT", monkeypatch).send(upload(), "hoa-phu.mp3")
    message = str(caught.value)
    assert "403" in message and "từ chối" in message
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in message), repr(message)


def test_an_sftp_servers_refusal_cannot_write_terminal_sequences_either(tmp_path):
    import asyncssh

    from broadcast.publish.sftp import SFTPTarget
    from publish_servers import SFTPServer

    class Hostile(asyncssh.SFTPServer):
        def open(self, path, pflags, attrs):  # noqa: A003 (asyncssh's name)
            raise asyncssh.SFTPPermissionDenied("\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J không cho ghi")

    with SFTPServer(tmp_path / "sftp", tmp_path / "keys", sftp_class=Hostile) as server:
        t = SFTPTarget("127.0.0.1", server.port, "loa", "nhan", "{station}.mp3",
                       known_hosts=server.known_hosts(tmp_path / "known_hosts"), key_file=server.user_key_file,
                       key_env=None, password_file=None, password_env=None, timeout=10)
        with pytest.raises(DeliveryError) as caught:
            t.send(upload(), "hoa-phu.mp3")
    message = str(caught.value)
    assert "không cho ghi" in message
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in message), repr(message)


@pytest.mark.parametrize("kind", ["http", "sftp"])
def test_a_secret_file_that_is_a_pipe_fails_the_delivery_instead_of_hanging_the_run(servers, tmp_path, kind):
    import os

    from broadcast.publish.sftp import SFTPTarget

    platform = servers(lambda method, path: (201, {}, b"ok"))
    fifo = tmp_path / "ma-truy-cap"
    os.mkfifo(fifo)
    if kind == "http":
        t = HTTPTarget(platform.url("/api/{name}"), "PUT", "{station}.mp3", field="file", form={}, headers={},
                       token_file=fifo, token_env=None, token_header="Authorization", timeout=10)
    else:
        t = SFTPTarget("127.0.0.1", 9, "loa", "nhan", "{station}.mp3", known_hosts=None, key_file=fifo,
                       key_env=None, password_file=None, password_env=None, timeout=10)
    outcome: list[BaseException | str] = []

    def deliver() -> None:
        try:
            outcome.append(t.send(upload(), "hoa-phu.mp3"))
        except BaseException as exc:  # noqa: BLE001 (reported below)
            outcome.append(exc)

    worker = threading.Thread(target=deliver, daemon=True)
    worker.start()
    worker.join(5)
    if worker.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # let the blocked reader go
        worker.join(5)
        pytest.fail("reading the token from a pipe blocked the delivery (and the nightly run)")
    (exc,) = outcome
    assert isinstance(exc, DeliveryError) and not exc.retry
    assert "ma-truy-cap" in str(exc) and platform.requests == []


# ---------------------------------------------------------------- what the web can fetch


def served_urls(public: Path, base_url: str, station: str) -> list[str]:
    """Every address the station's feed and page give, made absolute the way a reader resolves them."""
    import urllib.parse
    import xml.etree.ElementTree as ET
    from html.parser import HTMLParser

    feed_url = base_url + f"{station}.xml"
    urls: list[str] = []
    for el in ET.fromstring((public / f"{station}.xml").read_bytes()).iter():
        for name in ("href", "url"):
            if el.get(name):
                urls.append(el.get(name))
        if el.tag in ("link", "url") and el.text and el.text.strip():
            urls.append(el.text.strip())

    class Links(HTMLParser):
        def handle_starttag(self, tag, attrs):
            for name, value in attrs:
                if name in ("href", "src") and value:
                    urls.append(urllib.parse.urljoin(base_url + f"{station}.html", value))

    Links().feed((public / f"{station}.html").read_text(encoding="utf-8"))
    return [urllib.parse.urldefrag(u).url for u in urls] + [feed_url]


def public_file(public: Path, base_url: str, url: str) -> Path:
    """The file in the public folder a web server serving only that folder at `base_url` answers with."""
    assert url.startswith(base_url), f"{url} is outside the public folder's address"
    path = (public / url[len(base_url):]).resolve()
    assert path.is_relative_to(public.resolve()) and path.is_file(), f"{url} names no file in the public folder"
    return path


def test_the_web_serves_only_published_versions_of_a_bulletin(tmp_path):
    # Build, approve, edit and make again, approve again: at every step the public folder (the only one a
    # web server serves) holds exactly the approved version, and the feed and page name nothing else.
    import feedparser

    from offline import approved_station, cli_on

    base_url = "https://truyenthanh.example.vn/bantin/"
    config = approved_station(tmp_path, base_url)
    out = tmp_path / "audio_out"
    public = out / "podcast"
    day = out / "2026-03-12"
    run = cli_on(config, out, "2026-03-12")

    def public_audio() -> dict[str, bytes]:
        return {p.relative_to(public).as_posix(): p.read_bytes() for p in public.rglob("*.mp3")}

    def check_links() -> list[bytes]:
        """Every address of feed and page is a file of the public folder; the enclosures' bytes."""
        for url in served_urls(public, base_url, "hoa-phu"):
            public_file(public, base_url, url)
        entries = feedparser.parse((public / "hoa-phu.xml").read_bytes()).entries
        return [public_file(public, base_url, e.enclosures[0].href).read_bytes() for e in entries]

    run("build", now="2026-03-12T05:00:00+07:00")
    unapproved = (day / "hoa-phu.mp3").read_bytes()
    assert public_audio() == {}, "a bulletin waiting for approval is on the web"
    assert check_links() == []

    run("approve", "hoa-phu", now="2026-03-12T05:10:00+07:00")
    run("publish", now="2026-03-12T05:15:00+07:00")
    ((first_name, first),) = public_audio().items()
    assert first == unapproved == (day / "hoa-phu.mp3").read_bytes(), "the public copy is the approved bulletin"
    assert first_name.startswith("hoa-phu/2026-03-12_") and first_name != "hoa-phu/2026-03-12.mp3"
    assert check_links() == [first]

    # Edited and made again: the new audio waits for approval, and the old version stops being served.
    script = day / "hoa-phu.txt"
    head, rest = script.read_text(encoding="utf-8").split("\n\n", 1)
    script.write_text(f"{head}\n\nMột câu mới chưa ai duyệt.\n\n{rest}", encoding="utf-8")
    run("build", "--station", "hoa-phu", now="2026-03-12T06:00:00+07:00")
    remade = (day / "hoa-phu.mp3").read_bytes()
    assert remade != first
    assert public_audio() == {}, "a version nobody approved, or one withdrawn, is on the web"
    assert check_links() == []

    run("approve", "hoa-phu", now="2026-03-12T06:10:00+07:00")
    run("publish", now="2026-03-12T06:15:00+07:00")
    ((second_name, second),) = public_audio().items()
    assert second == remade and second_name != first_name
    assert check_links() == [remade]
    assert not (public / first_name).exists()

    # Held: gone from the web at once, and publishing again changes nothing.
    run("hold", "hoa-phu", "--reason", "sai số liệu", now="2026-03-12T06:20:00+07:00")
    assert public_audio() == {} and check_links() == []
    run("publish", now="2026-03-12T06:25:00+07:00")
    assert public_audio() == {} and check_links() == []
    run("publish", now="2026-03-12T06:30:00+07:00")
    assert public_audio() == {}
    # Nothing but the feed, the page and the artwork remains in the public folder.
    assert sorted(p.name for p in public.rglob("*") if p.is_file()) == ["hoa-phu.html", "hoa-phu.png", "hoa-phu.xml"]
