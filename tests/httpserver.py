"""A small threaded HTTP server on 127.0.0.1 for feed tests: routes, 304s, redirects, slow and huge answers."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    """How the server answers one path."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    redirect_to: str | None = None  # path or URL for a 301/302
    delay: float = 0.0  # seconds before the headers
    trickle: float = 0.0  # seconds between 1 KB chunks of the body
    huge: int = 0  # stream this many bytes of filler after the body, no Content-Length
    fail_times: int = 0  # answer 500 this many times first, then normally
    retry_after: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    """What a client sent, for assertions."""

    path: str
    headers: dict[str, str]


class FeedServer:
    """Serve routes on an ephemeral port; use as a context manager."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.in_flight = 0
        self.max_in_flight = 0  # most requests being answered at the same moment
        self._lock = threading.Lock()
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt: str, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False  # a slow handler must not hold the test at shutdown
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> "FeedServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str) -> str:
        """Full URL of a path on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, path: str, route: Route | None = None, **kwargs: object) -> Route:
        """Register (or replace) the answer for `path`."""
        r = route or Route(**kwargs)  # type: ignore[arg-type]
        with self._lock:
            self.routes[path] = r
        return r

    def hits(self, path: str) -> list[Request]:
        """Requests received for `path`."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server stops; False when stopped."""
        return not self._stop.wait(seconds)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self._answer(h)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests.append(Request(h.path, {k: v for k, v in h.headers.items()}))
            route = self.routes.get(h.path)
            if route is not None and route.fail_times > 0:
                route.fail_times -= 1
                failing = True
            else:
                failing = False
        try:
            if route is None:
                self._send(h, 404, b"<html><body>Not found</body></html>", "text/html; charset=utf-8")
                return
            if route.delay and not self._sleep(route.delay):
                return
            if failing:
                extra = {"Retry-After": route.retry_after} if route.retry_after else {}
                self._send(h, 500, b"server error", "text/plain", extra)
                return
            if route.redirect_to:
                target = route.redirect_to
                if target.startswith("/"):
                    target = self.url(target)
                self._send(h, route.status if route.status in (301, 302, 307, 308) else 302, b"",
                           "text/plain", {"Location": target})
                return
            inm = h.headers.get("If-None-Match")
            ims = h.headers.get("If-Modified-Since")
            if (route.etag and inm == route.etag) or (
                    route.last_modified and not route.etag and ims == route.last_modified):
                self._send(h, 304, b"", None, self._validators(route))
                return
            headers = {**self._validators(route), **route.headers}
            if route.huge:
                self._stream_huge(h, route, headers)
                return
            if route.trickle:
                self._trickle(h, route, headers)
                return
            self._send(h, route.status, route.body, route.content_type, headers)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout or size cap): that is the point of the test

    @staticmethod
    def _validators(route: Route) -> dict[str, str]:
        out = {}
        if route.etag:
            out["ETag"] = route.etag
        if route.last_modified:
            out["Last-Modified"] = route.last_modified
        return out

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str | None,
              headers: dict[str, str] | None = None) -> None:
        h.send_response(status)
        if content_type:
            h.send_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        if status != 304:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if body and status != 304:
            h.wfile.write(body)

    def _stream_huge(self, h: BaseHTTPRequestHandler, route: Route, headers: dict[str, str]) -> None:
        h.send_response(route.status)
        h.send_header("Content-Type", route.content_type)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True
        h.wfile.write(route.body)
        chunk = b"<!-- filler -->" * 4096
        sent = 0
        while sent < route.huge and not self._stop.is_set():
            h.wfile.write(chunk)
            sent += len(chunk)

    def _trickle(self, h: BaseHTTPRequestHandler, route: Route, headers: dict[str, str]) -> None:
        h.send_response(route.status)
        h.send_header("Content-Type", route.content_type)
        h.send_header("Content-Length", str(len(route.body)))
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        for i in range(0, len(route.body), 1024):
            h.wfile.write(route.body[i:i + 1024])
            h.wfile.flush()
            if not self._sleep(route.trickle):
                return

