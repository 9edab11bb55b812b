"""Deliver over SFTP: the drop folder on the commune PC that feeds the FM transmitter."""

from __future__ import annotations

import asyncio
import logging
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING

from broadcast.errors import BroadcastError
from broadcast.fsutil import read_limited
from broadcast.publish.targets import (
    SECRET_MAX_BYTES,
    DeliveryError,
    Target,
    Upload,
    check_pattern,
    missing_secret,
    read_secret,
    register,
    secret_from,
)
from broadcast.vitext import one_line

if TYPE_CHECKING:  # pragma: no cover
    from broadcast.config import _Reader

log = logging.getLogger(__name__)
DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"


@register("sftp")
class SFTPTarget(Target):
    """Upload under a hidden name, check the size, then rename into place.

    The server's host key is checked against a known_hosts file unless the
    configuration turns that off by name; the key or password is read from a
    file or an environment variable at delivery time and never logged.
    """

    def __init__(self, host: str, port: int, user: str, path: str, pattern: str, *, known_hosts: Path | None,
                 key_file: Path | None, key_env: str | None, password_file: Path | None,
                 password_env: str | None, timeout: float) -> None:
        super().__init__(pattern)
        self.host, self.port, self.user, self.path = host, port, user, path
        self.known_hosts = known_hosts
        self.key_file, self.key_env = key_file, key_env
        self.password_file, self.password_env = password_file, password_env
        self.timeout = timeout
        self._secrets: list[str] = []

    @property
    def label(self) -> str:
        return f"sftp {self.user}@{self.host}:{self.port}{'' if self.path.startswith('/') else ':'}{self.path}"

    @classmethod
    def from_config(cls, r: "_Reader", root: Path) -> "SFTPTarget":
        host = r.get("host", str, "")
        if not host:
            raise r._err("host", "cần tên máy hoặc địa chỉ IP của máy nhận")
        user = r.get("user", str, "")
        if not user:
            raise r._err("user", "cần tên đăng nhập SFTP")
        port = r.integer("port", 22, 1, 65535)
        path = r.get("path", str, ".") or "."
        verify = r.get("verify_host_key", bool, True)
        known_hosts = None
        if verify:
            raw = r.get("known_hosts", str, DEFAULT_KNOWN_HOSTS)
            known_hosts = Path(raw).expanduser()
            if not known_hosts.is_absolute():
                known_hosts = root / known_hosts
        elif "known_hosts" in r.table:
            raise r._err("known_hosts", "không dùng được khi verify_host_key = false")
        key_file, key_env = secret_from(r, "key_file", "key_env", root)
        password_file, password_env = secret_from(r, "password_file", "password_env", root)
        if not any((key_file, key_env, password_file, password_env)):
            raise r._err("key_file", "cần khóa (key_file hoặc key_env) hoặc mật khẩu (password_file hoặc "
                                     "password_env); không ghi mật khẩu thẳng vào cấu hình")
        timeout = r.number("timeout", 30.0, 1, 600)
        return cls(host, port, user, path, check_pattern(r), known_hosts=known_hosts, key_file=key_file,
                   key_env=key_env, password_file=password_file, password_env=password_env, timeout=timeout)

    def unavailable_reason(self) -> str | None:
        try:
            import asyncssh  # noqa: F401
        except ImportError:
            return "chưa cài thư viện asyncssh (pip install asyncssh)"
        if self.known_hosts is not None and not self.known_hosts.is_file():
            return (f"không có tệp known_hosts {self.known_hosts} để kiểm tra khóa của máy {self.host}: "
                    f"hãy tạo bằng 'ssh-keyscan -p {self.port} {self.host} > {self.known_hosts}' rồi kiểm tra "
                    "dấu vân tay với người quản trị máy đó")
        return (missing_secret(self.key_file, self.key_env, "khóa SFTP")
                or missing_secret(self.password_file, self.password_env, "mật khẩu SFTP"))

    def secrets(self) -> list[str]:
        return list(self._secrets)

    def send(self, upload: Upload, name: str) -> str:
        import asyncssh

        if self.known_hosts is None:
            log.warning("SFTP %s: the server's host key is not checked (verify_host_key = false)", self.host)
        password = read_secret(self.password_file, self.password_env, "mật khẩu SFTP")
        key_text = read_secret(None, self.key_env, "khóa SFTP")
        self._secrets = [s for s in (password, key_text) if s]
        keys: list = []
        try:
            if key_text:
                keys = [asyncssh.import_private_key(key_text)]
            elif self.key_file is not None:
                # Read as a regular file of a few KB first: a pipe named by mistake must not hang the run.
                keys = [asyncssh.import_private_key(read_limited(self.key_file, "khóa SFTP", SECRET_MAX_BYTES))]
        except BroadcastError as exc:
            raise DeliveryError(str(exc), retry=False) from None
        except (OSError, asyncssh.KeyImportError) as exc:
            where = f"biến môi trường {self.key_env}" if key_text else str(self.key_file)
            raise DeliveryError(f"Không đọc được khóa SFTP ({where}): {getattr(exc, 'strerror', None) or exc}.",
                                retry=False) from None
        try:
            return asyncio.run(asyncio.wait_for(self._send(upload, name, keys, password), self.timeout * 4))
        except asyncssh.HostKeyNotVerifiable as exc:
            raise DeliveryError(f"Khóa của máy {self.host} không khớp hoặc chưa có trong tệp known_hosts "
                                f"{self.known_hosts} ({exc}): không gửi. Hãy hỏi người quản trị máy đó trước khi "
                                "sửa known_hosts.", retry=False) from None
        except asyncssh.PermissionDenied:
            raise DeliveryError(f"Máy {self.host} từ chối đăng nhập của {self.user}: hãy kiểm tra khóa hoặc "
                                "mật khẩu.", retry=False) from None
        except asyncssh.SFTPError as exc:
            raise DeliveryError(f"Lỗi SFTP trên máy {self.host}: {one_line(exc.reason)}.") from None
        except (asyncssh.Error, OSError, asyncio.TimeoutError) as exc:
            detail = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc) or "quá thời gian chờ"
            raise DeliveryError(f"Không kết nối được SFTP {self.host}:{self.port}: {one_line(detail)}.") from None

    async def _send(self, upload: Upload, name: str, keys: list, password: str | None) -> str:
        import asyncssh

        options = dict(username=self.user, port=self.port, client_keys=keys or None, password=password,
                       known_hosts=str(self.known_hosts) if self.known_hosts is not None else None,
                       agent_path=None, config=None, connect_timeout=self.timeout)
        if not keys:
            options["client_keys"] = None
        async with asyncssh.connect(self.host, **options) as conn:
            async with conn.start_sftp_client() as sftp:
                if self.path not in (".", ""):
                    await sftp.makedirs(self.path, exist_ok=True)
                final = posixpath.join(self.path, name)
                tmp = posixpath.join(self.path, f".{name}.part")
                async with sftp.open(tmp, "wb") as fh:
                    await fh.write(upload.data)
                size = (await sftp.stat(tmp)).size
                if size != upload.size:
                    await sftp.remove(tmp)
                    raise DeliveryError(f"Máy {self.host} nhận {size} byte thay vì {upload.size}.")
                try:
                    await sftp.posix_rename(tmp, final)
                except asyncssh.SFTPOpUnsupported:
                    # Plain SFTP rename refuses to replace: remove the old file first.
                    if await sftp.exists(final):
                        await sftp.remove(final)
                    await sftp.rename(tmp, final)
        return f"{self.user}@{self.host}:{final}"

