"""The review desk in a browser: staff read, hear, correct and approve their bulletins.

`create_app` builds the Flask application over broadcast.api; `serve` runs
it with waitress, a production WSGI server that also runs on Windows.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path
from typing import Callable

from broadcast.config import Config
from broadcast.errors import BroadcastError
from broadcast.vitext import os_reason

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def is_loopback(host: str) -> bool:
    """Whether an address only this machine can reach."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(config: Config, out_dir: Path, clock: Callable[[], dt.datetime], *, host: str = DEFAULT_HOST,
          port: int = DEFAULT_PORT, threads: int = 4, behind_proxy: bool = False,
          announce: Callable[[str], None] = print) -> None:
    """Run the desk until interrupted; refuse an address other machines reach while no account exists."""
    from waitress import create_server

    from broadcast import api
    from broadcast.web.app import MAX_POST_BYTES, create_app

    with api.accounts(config) as acc:
        has_accounts = acc.count() > 0
    if not is_loopback(host) and not has_accounts:
        raise BroadcastError(
            f"Chưa có tài khoản nào: không mở bàn duyệt ra mạng ({host}). Hãy tạo tài khoản trước bằng "
            "'broadcast user add TÊN --station MÃ_ĐÀI', hoặc chạy trên 127.0.0.1.")
    app = create_app(config, out_dir, clock)
    # waitress reads a whole request (to a temporary file) before the desk sees it, by default up to 1 GB
    # for anyone who connects. It stops at eight times the desk's own limit: room for a long edit
    # percent-encoded, which the desk then refuses in Vietnamese, saying how to keep the text.
    options = {"host": host, "port": port, "threads": threads, "ident": "broadcast",
               "max_request_body_size": 8 * MAX_POST_BYTES}
    if behind_proxy:
        # HTTPS ends at a reverse proxy on this machine: trust its X-Forwarded-Proto so cookies get Secure.
        options.update(trusted_proxy="127.0.0.1", trusted_proxy_headers={"x-forwarded-proto", "x-forwarded-for"},
                       clear_untrusted_proxy_headers=True)
    try:
        server = create_server(app, **options)
    except OSError as exc:
        raise BroadcastError(f"Không mở được cổng {port} trên {host}: {os_reason(exc)}. "
                             "Hãy chọn cổng khác bằng --port.") from None
    shown = f"[{host}]" if ":" in host else host
    announce(f"Bàn duyệt đang chạy tại http://{shown}:{server.effective_port}/ (Ctrl+C để dừng)")
    if not has_accounts:
        announce("Chưa có tài khoản nào: tạo bằng 'broadcast user add TÊN --station MÃ_ĐÀI'.")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
