"""Items the province or commune writes itself: a folder of plain text files, one item per file.

A file staff can write in Notepad (saved as UTF-8 or "Unicode"):

    Tiêu đề: Xã Hòa Phú trả kết quả đúng hạn 100% hồ sơ trong tháng 11
    Ngày: 28/11/2026
    Người viết: Bộ phận Một cửa xã Hòa Phú

    Trong tháng 11, Bộ phận Một cửa xã tiếp nhận 312 hồ sơ ...

The header lines come first, in any order, each "Tên: giá trị"; the names are
read without regard to case or accents ("Tieu de", "TIÊU ĐỀ"). Without a
"Tiêu đề" line the first line is the title. Everything after the header is
the body. Lines starting with "#" are notes and are not read.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import unicodedata
from pathlib import Path

from broadcast.config import FeedConfig
from broadcast.errors import BroadcastError, FeedError
from broadcast.feeddates import parse_date
from broadcast.fsutil import read_staff_text, resolved_inside
from broadcast.models import FeedItem
from broadcast.textclean import clean_title, collapse_spaces, drop_media_captions, normalize_unicode
from broadcast.vitext import one_line, os_reason

# A local item is a few hundred words; anything much larger is not one.
MAX_FILE_BYTES = 64 * 1024
MAX_FILES = 500
SUFFIXES = (".txt",)

# Header names, written without accents and in lower case.
_FIELDS = {
    "tieu de": "title", "tua de": "title", "ten tin": "title",
    "ngay": "date", "ngay dang": "date", "ngay viet": "date",
    "nguoi viet": "author", "tac gia": "author", "nguon": "author", "don vi": "author",
}
_HEADER = re.compile(r"^\s*([^:]{2,20}?)\s*:\s*(.*)$")


def _plain(text: str) -> str:
    """Lower case without accents: 'Người viết' -> 'nguoi viet'."""
    text = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return " ".join("".join(ch for ch in text if not unicodedata.combining(ch)).split())


def parse_local_item(text: str) -> dict[str, str]:
    """Split one file's text into title, date, author and body (missing ones are '')."""
    lines = [line for line in text.split("\n") if not line.lstrip().startswith("#")]
    fields = {"title": "", "date": "", "author": "", "body": ""}
    pos = 0
    while pos < len(lines) and not lines[pos].strip():
        pos += 1
    while pos < len(lines):
        m = _HEADER.match(lines[pos])
        key = _FIELDS.get(_plain(m.group(1))) if m else None
        if key is None:
            break
        fields[key] = m.group(2).strip()
        pos += 1
    rest = lines[pos:]
    if not fields["title"]:
        while rest and not rest[0].strip():
            rest = rest[1:]
        if rest:
            fields["title"], rest = rest[0].strip(), rest[1:]
    paragraphs = re.split(r"\n\s*\n", "\n".join(rest))
    fields["body"] = "\n\n".join(p for p in (collapse_spaces(normalize_unicode(p)) for p in paragraphs) if p)
    return fields


def _files(folder: Path, feed: FeedConfig) -> list[Path]:
    where = f"Nguồn tin địa phương '{feed.name}' ({folder})"
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except FileNotFoundError:
        raise FeedError(f"{where}: không có thư mục này. Hãy tạo thư mục hoặc sửa path trong cấu hình.") from None
    except NotADirectoryError:
        raise FeedError(f"{where}: đây là tệp, không phải thư mục. Hãy sửa path trong cấu hình.") from None
    except OSError as exc:
        raise FeedError(f"{where}: không đọc được thư mục ({exc.strerror or exc}).") from None
    return [p for p in entries
            if p.suffix.lower() in SUFFIXES and not p.name.startswith((".", "~"))][:MAX_FILES]


def read_local_items(feed: FeedConfig, now: dt.datetime) -> tuple[list[FeedItem], int, list[str]]:
    """Read every item file of a local source: (items, files skipped, warnings naming each file).

    A file that cannot be read is skipped with a warning; the others still count.
    """
    folder = Path(feed.url)
    items: list[FeedItem] = []
    warnings: list[str] = []
    skipped = 0
    for path in _files(folder, feed):
        try:
            # A link is followed only to a file inside the folder, and the file read is that one.
            real = resolved_inside(path, folder)
            if real is None:
                raise BroadcastError("là liên kết tới tệp ngoài thư mục tin địa phương, không đọc")
            info = os.stat(real)
            if not stat.S_ISREG(info.st_mode):
                raise BroadcastError("không phải tệp văn bản thường")
            if info.st_size > MAX_FILE_BYTES:
                raise BroadcastError(f"tệp lớn hơn {MAX_FILE_BYTES // 1024} KB, không phải một tin")
            # The same cap while reading, for a file that grows after the check; no link swapped in since.
            fields = parse_local_item(read_staff_text(real, "tệp tin địa phương", MAX_FILE_BYTES, follow=False))
        except (OSError, BroadcastError) as exc:
            skipped += 1
            warnings.append(f"bỏ qua tệp {path.name}: {_reason(exc, path)}")
            continue
        title = clean_title(fields["title"])
        if not title:
            skipped += 1
            warnings.append(f"bỏ qua tệp {path.name}: không có tiêu đề")
            continue
        published = None
        if fields["date"]:
            published = parse_date(fields["date"], order="dmy")
            if published is None:
                warnings.append(f"tệp {path.name}: không hiểu ngày '{fields['date']}' "
                                "(hãy ghi như 28/11/2026), dùng thời điểm đọc tệp")
        items.append(FeedItem(
            feed=feed.name, source=clean_title(fields["author"]) or feed.source or feed.name,
            title=title, summary=drop_media_captions(fields["body"]), link="", guid=f"local:{path.name}",
            published=published, local=True,
        ))
    # File names are whatever the share's users typed: ESC in one must not reach the operator's terminal.
    return items, skipped, [one_line(w) for w in warnings]


def _reason(exc: Exception, path: Path) -> str:
    if isinstance(exc, OSError):
        return os_reason(exc)  # a link to nowhere, a file removed meanwhile
    text = str(exc)
    # read_staff_text names the file (as read: the link's target) already; the warning names it once.
    for named in {path, path.resolve()}:
        text = text.replace(f"Tệp tin địa phương {named}, ", "").replace(f"tệp tin địa phương {named}", "tệp")
    return text.rstrip(".")  # the warning goes inside a sentence
