"""How numbers are written in what staff read (the Vietnamese decimal comma), and which characters never are.

Messages, reports and pages write "2,8 phút" and "0,5 giây", as Vietnamese
does; machine-read values (config keys, wire parameters, file names) keep the
decimal point and never pass through here.
"""

from __future__ import annotations

import errno
import re
from urllib.parse import urlsplit, urlunsplit


def decimal(x: float, places: int | None = None) -> str:
    """Write `x` with a decimal comma: `places` digits after it, or as short as it reads (1,25; 30)."""
    text = f"{x:g}" if places is None else f"{x:.{places}f}"
    return text.replace(".", ",")


def size_text(n: int) -> str:
    """Write a byte count for staff: '1,5 MB', '200 KB'."""
    if n >= 1_000_000:
        return f"{decimal(n / 1_000_000, 1).removesuffix(',0')} MB"
    return f"{max(1, round(n / 1000))} KB"


def grouped(n: int) -> str:
    """Write a whole number with thousands grouped by dots, as Vietnamese does: 200.000."""
    return f"{n:,}".replace(",", ".")


OS_REASONS = {
    errno.ENOENT: "không tìm thấy tệp hay thư mục này",
    errno.ENOTDIR: "một phần của đường dẫn là tệp, không phải thư mục",
    errno.EEXIST: "đó là tệp, không phải thư mục",
    errno.EISDIR: "đường dẫn là thư mục",
    errno.EACCES: "không có quyền truy cập",
    errno.EPERM: "không có quyền truy cập",
    errno.EROFS: "ổ đĩa chỉ cho đọc",
    errno.ENOSPC: "hết dung lượng đĩa",
    errno.EADDRINUSE: "cổng này đang được một chương trình khác dùng",
    errno.EADDRNOTAVAIL: "máy này không có địa chỉ đó",
}


# Windows errors Python folds into an errno that would mislead (EACCES, ENOENT, EINVAL).
WINDOWS_REASONS = {
    32: "tệp đang được mở trong một chương trình khác (trình phát nhạc, Excel, phần mềm diệt virus): "
        "hãy đóng chương trình đó",
    33: "tệp đang được mở trong một chương trình khác: hãy đóng chương trình đó",
    206: "đường dẫn quá dài cho Windows: hãy dùng thư mục ngắn hơn, ví dụ C:\\broadcast",
    123: "tên tệp hay thư mục có ký tự Windows không cho dùng (<>:\"/\\|?*)",
}


def os_reason(exc: OSError) -> str:
    """Say why a system call failed, in Vietnamese (the system's own text is English)."""
    windows = WINDOWS_REASONS.get(getattr(exc, "winerror", None) or 0)
    return windows or OS_REASONS.get(exc.errno or 0, exc.strerror or str(exc))


# C0 controls except tab and line ends, DEL, C1 controls, lone surrogates and the noncharacters U+FFFE and
# U+FFFF: no reader needs them, ESC opens terminal sequences, and XML (podcast, XLSX, DOCX) cannot hold most.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def without_controls(text: str) -> str:
    """`text` with every control or non-character replaced by a space."""
    return CONTROL_CHARS.sub(" ", text)


def one_line(value: object) -> str:
    """`value` as one line of words without control characters: a cell, or a server's words in a message."""
    return " ".join(without_controls(str(value)).split())


def shown_url(url: str) -> str:
    """The address as messages, logs and the database's messages show it: never with the password an
    address may carry (https://user:password@host/rss)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{parts.netloc.rpartition('@')[2]}"))
