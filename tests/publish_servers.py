"""Real receivers on 127.0.0.1 for publishing tests and the publishing benchmark: an HTTP server that keeps
uploads, and an asyncssh SFTP server with a generated host key and one user."""

from __future__ import annotations

import asyncio
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import asyncssh

PASSWORD = "mk-Zq81-khong-duoc-lo"


class UploadServer:
    """An HTTP server on 127.0.0.1 that keeps every PUT and POST; answers from a per-path script."""

    def __init__(self) -> None:
        self.uploads: list[dict] = []
        self.answers: dict[str, list[int]] = {}  # path -> statuses to give first (then 201)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _take(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                server.uploads.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                       "body": body})
                queue = server.answers.get(self.path, [])
                status = queue.pop(0) if queue else 201
                reply = b"ok" if status < 300 else b"refused"
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_PUT = do_POST = _take  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def __enter__(self) -> "UploadServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class SFTPServer:
    """An asyncssh SFTP server on 127.0.0.1 in its own thread: a generated host key, one user with a key and a
    password, files kept under `root`."""

    def __init__(self, root: Path, keys_dir: Path, sftp_class: type = asyncssh.SFTPServer) -> None:
        self.sftp_class = sftp_class  # a subclass answers as a hostile or broken receiver would
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.user_key = asyncssh.generate_private_key("ssh-ed25519")
        keys_dir.mkdir(parents=True, exist_ok=True)
        self.user_key_file = keys_dir / "id_loa"
        self.user_key.write_private_key(str(self.user_key_file))
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.logins: list[str] = []

    def known_hosts(self, path: Path, key=None) -> Path:
        key = key or self.host_key
        path.write_text(f"[127.0.0.1]:{self.port} {key.export_public_key().decode().strip()}\n")
        return path

    async def _start(self):
        server = self
        authorized = asyncssh.import_authorized_keys(self.user_key.export_public_key().decode())

        class Auth(asyncssh.SSHServer):
            def begin_auth(self, username: str) -> bool:
                server.logins.append(username)
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                return username == "loa" and password == PASSWORD

        return await asyncssh.listen("127.0.0.1", 0, server_host_keys=[self.host_key], server_factory=Auth,
                                     authorized_client_keys=authorized,
                                     sftp_factory=lambda chan: self.sftp_class(chan, chroot=str(self.root)))

    def __enter__(self) -> "SFTPServer":
        self.thread.start()
        self.acceptor = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        self.port = self.acceptor.get_port()
        return self

    def __exit__(self, *exc) -> None:
        async def stop():
            self.acceptor.close()
            await self.acceptor.wait_closed()
        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class HoldingReceiver:
    """An HTTP receiver on 127.0.0.1 that keeps every PUT waiting until `release` is set, then answers 201.

    `arrived` is set when an upload is in; `finished` holds when each was answered (time.monotonic)."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.finished: list[float] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_PUT(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.arrived.set()
                receiver.release.wait(60)
                receiver.finished.append(time.monotonic())
                self.send_response(201)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/loa/{{name}}"

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
