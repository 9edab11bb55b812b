"""A receiving server that never stops answering: real HTTP servers on 127.0.0.1, the real HTTP target."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from broadcast.publish.http import HTTPTarget
from broadcast.publish.targets import DeliveryError, Upload

AUDIO = b"ID3" + bytes(range(256)) * 40
# Far longer than any answer takes here: a send still running then is one that would never end.
WATCHDOG = 20.0


class Endless:
    """Receives the upload, then answers `status` with a chunked body that never ends (or trickles)."""

    def __init__(self, status: int, first: bytes, piece: bytes, pause: float) -> None:
        self.received: list[bytes] = []
        self.sent = 0
        me = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_PUT(self) -> None:  # noqa: N802
                me.received.append(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                self.send_response(status)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for data in [first] + [piece] * 10_000_000:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                        self.wfile.flush()
                        me.sent += len(data)
                        time.sleep(pause)
                except OSError:
                    pass  # the client hung up: what it should do

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/api/{{name}}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def upload() -> Upload:
    return Upload(station="hoa-phu", date=dt.date(2026, 3, 12), slot="", slot_time="", kind="bulletin",
                  title="Bản tin", base="hoa-phu", data=AUDIO, checksum=hashlib.sha256(AUDIO).hexdigest(),
                  version="v1")


def send_with_watchdog(server: Endless) -> tuple[float, object]:
    """Deliver once in a thread: (seconds taken, the result or the DeliveryError); fail if it never returns."""
    target = HTTPTarget(server.url(), "PUT", "{station}.mp3", field="file", form={}, headers={}, token_file=None,
                        token_env=None, token_header="Authorization", timeout=2)
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(target.send(upload(), "hoa-phu.mp3"))
        except DeliveryError as exc:
            outcome.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(WATCHDOG)
    taken = time.monotonic() - started
    assert not worker.is_alive(), (f"the delivery still ran after {WATCHDOG:g} s, having taken "
                                   f"{server.sent // 1_000_000} MB of the answer into memory")
    return taken, outcome[0]


@pytest.fixture
def endless():
    made: list[Endless] = []

    def make(status: int, first: bytes = b"", piece: bytes = b"x" * 65536, pause: float = 0.01) -> Endless:
        made.append(Endless(status, first, piece, pause))
        return made[-1]
    yield make
    for s in made:
        s.close()


def test_an_accepted_upload_with_an_endless_answer_is_delivered_without_reading_it(endless):
    # The platform took the whole file and said 201, then streams a body forever (a misbehaving proxy,
    # or a hostile receiver): the night's run must neither hang on it nor hold it in memory.
    server = endless(201, b"ok\n")
    taken, result = send_with_watchdog(server)
    assert server.received == [AUDIO]
    assert isinstance(result, str) and result.endswith("/api/hoa-phu.mp3")
    assert taken < 10
    assert server.sent < 50_000_000


def test_a_refusal_with_an_endless_answer_is_quoted_from_its_first_line_and_retried(endless):
    server = endless(503, "Máy nhận đang bảo trì\r\n".encode())
    taken, result = send_with_watchdog(server)
    assert isinstance(result, DeliveryError) and result.retry
    assert "503" in str(result) and "Máy nhận đang bảo trì" in str(result)
    assert taken < 10


def test_a_refusal_trickled_byte_by_byte_ends_within_the_targets_timeout(endless):
    # One byte every second never trips a per-read timeout of two seconds: the answer needs its own limit.
    server = endless(403, "Từ chối".encode(), piece=b"y", pause=1.0)
    taken, result = send_with_watchdog(server)
    assert isinstance(result, DeliveryError) and not result.retry
    assert "403" in str(result) and "Từ chối" in str(result)
    assert taken < 10
