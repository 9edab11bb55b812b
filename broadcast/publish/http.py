"""Deliver by HTTP upload: an IP-loudspeaker platform's or portal's upload endpoint."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit
from typing import TYPE_CHECKING

from broadcast.netread import read_start
from broadcast.publish.targets import (
    DeliveryError,
    Target,
    Upload,
    check_pattern,
    missing_secret,
    options_dict,
    read_secret,
    register,
    secret_from,
)
from broadcast.vitext import decimal, one_line, shown_url

if TYPE_CHECKING:  # pragma: no cover
    from broadcast.config import _Reader

METHODS = ("PUT", "POST")
# Of a refusal only the first line is quoted: more than this is never read.
ANSWER_BYTES = 4096


@register("http")
class HTTPTarget(Target):
    """PUT the MP3 as the body, or POST it as a multipart form field, with configured headers.

    The URL and form fields may use the naming pattern's fields
    ({station}, {date}, {slot}, {name} for the file name). A token is read
    from a file or an environment variable and sent as
    `Authorization: Bearer …` (or in `token_header`); it is never logged.
    """

    def __init__(self, url: str, method: str, pattern: str, *, field: str, form: dict[str, str],
                 headers: dict[str, str], token_file: Path | None, token_env: str | None, token_header: str,
                 timeout: float) -> None:
        super().__init__(pattern)
        self.url, self.method, self.field, self.form = url, method, field, form
        self.headers = headers
        self.token_file, self.token_env, self.token_header = token_file, token_env, token_header
        self.timeout = timeout
        self._secrets: list[str] = []

    @property
    def label(self) -> str:
        return f"http {self.method} {shown_url(self.url)}"

    @classmethod
    def from_config(cls, r: "_Reader", root: Path) -> "HTTPTarget":
        url = r.get("url", str, "")
        if not url.startswith(("http://", "https://")):
            raise r._err("url", "cần địa chỉ bắt đầu bằng http:// hoặc https://")
        method = r.get("method", str, "PUT").upper()
        if method not in METHODS:
            raise r._err("method", "phải là PUT (gửi tệp làm nội dung) hoặc POST (gửi biểu mẫu multipart)")
        token_file, token_env = secret_from(r, "token_file", "token_env", root)
        headers = options_dict(r, "headers")
        for k in headers:
            if k.lower() == "authorization":
                raise r._err("headers", "không ghi Authorization thẳng vào cấu hình: dùng token_env hoặc token_file")
        target = cls(url, method, check_pattern(r), field=r.get("field", str, "file"),
                     form=options_dict(r, "form"), headers=headers, token_file=token_file, token_env=token_env,
                     token_header=r.get("token_header", str, "Authorization"),
                     timeout=r.number("timeout", 60.0, 1, 3600))
        try:
            target.url.format(**dict.fromkeys(("station", "date", "yyyymmdd", "slot", "time", "base", "kind",
                                                "name"), ""))
        except (KeyError, IndexError, ValueError) as exc:
            raise r._err("url", f"địa chỉ có trường không biết: {exc}") from None
        return target

    def unavailable_reason(self) -> str | None:
        return missing_secret(self.token_file, self.token_env, "mã truy cập")

    def secrets(self) -> list[str]:
        return list(self._secrets)

    def send(self, upload: Upload, name: str) -> str:
        import requests

        token = read_secret(self.token_file, self.token_env, "mã truy cập")
        self._secrets = [x for x in (token, urlsplit(self.url).password) if x]
        if token and not token.isascii():
            raise DeliveryError("Mã truy cập có ký tự không phải ASCII (có dấu?): HTTP không gửi được; hãy kiểm tra "
                                f"lại {self.token_env or self.token_file}.", retry=False)
        values = dict(upload.fields(), name=name)
        url = self.url.format(**values)
        shown = shown_url(url)  # a password in the address is sent, never written in a message or the log
        headers = dict(self.headers)
        if token:
            headers[self.token_header] = f"Bearer {token}" if self.token_header.lower() == "authorization" else token
        try:
            # Streamed: the answer is the receiver's, and only a refusal's first line is ever read.
            if self.method == "PUT":
                headers.setdefault("Content-Type", "audio/mpeg")
                resp = requests.put(url, data=upload.data, headers=headers, timeout=self.timeout,
                                    allow_redirects=False, stream=True)
            else:
                form = {k: v.format(**values) for k, v in self.form.items()}
                resp = requests.post(url, files={self.field: (name, upload.data, "audio/mpeg")}, data=form,
                                     headers=headers, timeout=self.timeout, allow_redirects=False, stream=True)
        except requests.Timeout:
            raise DeliveryError(f"{shown} không trả lời trong {decimal(self.timeout)} giây.") from None
        except requests.ConnectionError:
            raise DeliveryError(f"Không kết nối được tới {shown}: máy nhận tắt, sai địa chỉ hoặc mất mạng.") from None
        except requests.RequestException as exc:
            raise DeliveryError(f"Không gửi được tới {shown}: {type(exc).__name__}.") from None
        with resp:
            if 300 <= resp.status_code < 400:
                # Never followed: the token (in any header) and the bulletin are for the configured address only,
                # and a POST turned into a GET of a login page would answer 200 without any file received.
                where = one_line(resp.headers.get("Location", ""))[:200] or "?"
                raise DeliveryError(f"{shown} chuyển hướng tới {where} ({resp.status_code}): không gửi theo địa chỉ "
                                    "mới. Nếu đó đúng là máy nhận, hãy sửa url trong cấu hình.", retry=False)
            if not 200 <= resp.status_code < 300:
                # 408, 429 and 5xx pass; anything else is a refusal that the same request will get again.
                retry = resp.status_code in (408, 425, 429) or resp.status_code >= 500
                # A few KB within the timeout: an answer that never ends must not hold the run or its memory.
                answer = read_start(resp, ANSWER_BYTES, time.monotonic() + self.timeout)
                text = answer.decode(resp.encoding or "utf-8", "replace").strip()
                reason = text.splitlines()[0][:200] if text else resp.reason
                reason = one_line(reason or "")  # the server's words, never its ESC codes
                raise DeliveryError(f"{shown} trả lời {resp.status_code} ({reason}).", retry=retry)
        return shown

