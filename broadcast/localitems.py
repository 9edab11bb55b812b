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

Staff on the review desk write the same files (compose_local_item): their
names are made by the program (desk_file_name), never from what was typed,
and say which station wrote the item, so in a folder several stations share
each station withdraws only its own.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
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

# What one item written on the desk may hold. The body is read in full up to selection.LOCAL_ITEM_CHARS.
MAX_TITLE_CHARS = 200
MAX_AUTHOR_CHARS = 120
MAX_BODY_CHARS = 2000
# Items one station may write on the desk in one day: a commune has a few notices a day, not dozens.
DESK_ITEMS_PER_DAY = 10
# A withdrawn item is moved here (a hidden folder: never read as an item), so nothing typed is lost.
WITHDRAWN_FOLDER = ".da-rut"
# ban-duyet_<station>_<written yyyymmdd-hhmmss>_<random>.txt; the fixed tail makes the station id unambiguous.
DESK_NAME = re.compile(r"ban-duyet_(?P<station>[a-z0-9][a-z0-9_-]{0,63})_(?P<written>\d{8}-\d{6})_[0-9a-f]{8}\.txt")
_DESK_NOTE = re.compile(r"^#\s*Viết trên bàn duyệt, tài khoản (?P<account>[a-z0-9][a-z0-9._-]{0,63})\b", re.M)

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


def desk_file_name(station: str, now: dt.datetime) -> str:
    """A new file name for an item a station writes on the desk: its id, the time, a random part."""
    return f"ban-duyet_{station}_{now.strftime('%Y%m%d-%H%M%S')}_{secrets.token_hex(4)}.txt"


def desk_owner(name: str) -> str:
    """The station that wrote a file on the desk, from its name; '' for a file put in the folder by hand."""
    m = DESK_NAME.fullmatch(name)
    return m.group("station") if m else ""


def desk_written_on(name: str) -> dt.date | None:
    """The day a desk file was written (its name says), or None for another file."""
    m = DESK_NAME.fullmatch(name)
    if not m:
        return None
    try:
        return dt.datetime.strptime(m.group("written"), "%Y%m%d-%H%M%S").date()
    except ValueError:
        return None


def desk_account_of(path: Path) -> str:
    """The desk account a desk file's note names, or '' (no note, or the file cannot be read)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(512).decode("utf-8", "replace")
    except OSError:
        return ""
    m = _DESK_NOTE.search(head)
    return m.group("account") if m else ""


def _markup_dropped(label: str, raw: str, limit: int) -> str:
    """`raw` as one plain line, refused when reading would drop part of it or it is too long."""
    plain = collapse_spaces(normalize_unicode(raw))
    cleaned = clean_title(raw)
    if cleaned != plain:
        # The reader drops markup: "<b>x</b>" would be read as "x", "<script>" not at all.
        raise BroadcastError(f"{label} có mã HTML (thẻ trong dấu < > hay mã như &amp;) sẽ bị bỏ hoặc đổi khi "
                             "đọc lên loa. Hãy bỏ phần đó, viết bằng chữ thường rồi lưu lại.")
    if len(cleaned) > limit:
        raise BroadcastError(f"{label} dài {len(cleaned)} ký tự, tối đa {limit}. Hãy rút ngắn rồi lưu lại.")
    return cleaned


def compose_local_item(title: str, date: dt.date, body: str, author: str = "", note: str = "") -> tuple[str, dict]:
    """The text of an item file and the fields it reads back as; refuse (in Vietnamese) what would not.

    Each line of `body` is a paragraph. The result is checked by reading it
    back: what the file says is exactly what the loudspeaker reads.
    """
    title = _markup_dropped("Tiêu đề", title, MAX_TITLE_CHARS)
    if not title:
        raise BroadcastError("Hãy ghi tiêu đề của tin.")
    author = _markup_dropped("Người viết (đơn vị)", author, MAX_AUTHOR_CHARS)
    paragraphs = [p for p in (collapse_spaces(normalize_unicode(line)) for line in body.splitlines()) if p]
    text_body = "\n\n".join(paragraphs)
    if not text_body:
        raise BroadcastError("Hãy viết nội dung của tin.")
    if len(text_body) > MAX_BODY_CHARS:
        raise BroadcastError(f"Nội dung dài {len(text_body)} ký tự; loa chỉ đọc tối đa {MAX_BODY_CHARS} ký tự "
                             "của một tin địa phương. Hãy rút ngắn rồi lưu lại.")
    for n, p in enumerate(paragraphs, 1):
        if p.startswith("#"):
            raise BroadcastError(f"Đoạn thứ {n} của nội dung bắt đầu bằng dấu #: dòng như vậy là ghi chú và "
                                 "không được đọc. Hãy bỏ dấu # hoặc viết chữ trước nó.")
        if drop_media_captions(p) != p:
            raise BroadcastError(f"Đoạn thứ {n} của nội dung có chú thích ảnh hay video (\"Ảnh: ...\"), phần này "
                                 "không được đọc lên loa. Hãy bỏ chú thích đó rồi lưu lại.")
    lines = [f"# {one_line(note)}"] if note else []
    lines += [f"Tiêu đề: {title}", f"Ngày: {date.strftime('%d/%m/%Y')}"]
    if author:
        lines.append(f"Người viết: {author}")
    text = "\n".join(lines) + "\n\n" + text_body + "\n"
    fields = {"title": title, "date": date.strftime("%d/%m/%Y"), "author": author, "body": text_body}
    back = parse_local_item(text)
    published = parse_date(back["date"], order="dmy")
    read = {"title": clean_title(back["title"]), "date": back["date"], "author": clean_title(back["author"]),
            "body": drop_media_captions(back["body"])}
    if back != fields or read != fields or published is None or published.date() != date:
        # A safety net: the checks above should leave nothing the reader changes.
        raise BroadcastError("Tin này không ghi được đúng như đã gõ (có ký tự đặc biệt). "
                             "Hãy bỏ các ký tự lạ rồi lưu lại.")
    return text, fields
