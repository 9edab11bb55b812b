"""Fetch feed documents over HTTP(S) or from disk, repair what real sites serve, and parse them."""

from __future__ import annotations

import codecs
import datetime as dt
import html.entities
import io
import ipaddress
import logging
import random
import re
import socket
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urljoin, urlsplit

import feedparser
import requests

from broadcast.config import FeedConfig
from broadcast.vitext import decimal, grouped, shown_url, size_text
from broadcast.errors import FeedError
from broadcast.feeddates import parse_date, slash_order
from broadcast.fsutil import read_limited
from broadcast.models import FeedItem
from broadcast.netread import pieces
from broadcast.textclean import clean_summary, clean_title, outlet_name

log = logging.getLogger(__name__)

USER_AGENT = "broadcast/0.1 (+ban tin CCHC)"
# HTTP header values travel as bytes; the Vietnamese words go as UTF-8, which
# servers pass through (latin-1, the library default, cannot hold "ả").
_UA_BYTES = USER_AGENT.encode("utf-8")
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
MAX_REDIRECTS = 5
MAX_RETRY_AFTER = 30.0
# An item dated more than this after the fetch is misdated (often a day/month swap).
FUTURE_SLACK = dt.timedelta(hours=24)
# A feed whose newest item is older than this is probably a dead category page.
STALE_AFTER = dt.timedelta(days=30)
# No real source lists more stories at once, nor writes a longer title or lead (the longest lead read
# aloud is item_chars, at most 5000): past these a source is broken or hostile, and each of its items
# would be stored, scored and offered to every station every night.
MAX_ITEMS = 500
MAX_TITLE_CHARS = 500
MAX_SUMMARY_CHARS = 8000

HTTP_REASONS = {
    400: "máy chủ từ chối yêu cầu (400)",
    401: "nguồn tin yêu cầu đăng nhập (401)",
    403: "máy chủ không cho phép truy cập (403)",
    404: "không tìm thấy địa chỉ (404)",
    410: "địa chỉ đã bị gỡ bỏ (410)",
    429: "máy chủ báo truy cập quá nhiều (429)",
    500: "máy chủ nguồn tin bị lỗi (500)",
    502: "máy chủ nguồn tin không phản hồi đúng (502)",
    503: "máy chủ nguồn tin tạm ngừng phục vụ (503)",
    504: "máy chủ nguồn tin quá tải (504)",
}


@dataclass
class FetchResult:
    """The raw document of one feed, or the fact that it has not changed."""

    feed: str
    status: str  # "ok" | "not_modified"
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    final_url: str = ""
    http_status: int | None = None
    attempts: int = 1
    elapsed: float = 0.0


@dataclass
class ParsedFeed:
    """Items of one feed document, cleaned, plus what the station staff should know about it."""

    title: str
    items: list[FeedItem]
    entries: int  # entries in the document, before dropping empty ones
    skipped: int  # empty entries: no title or no link
    newest: dt.datetime | None = None
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- fetching


def _where(feed: FeedConfig) -> str:
    return f"Nguồn tin '{feed.name}' ({shown_url(feed.url)})"






def is_local(url: str) -> bool:
    """True for a file path or file:// URL rather than a web address."""
    return not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url) or url.lower().startswith("file://")


def _local_path(url: str) -> Path:
    if url.lower().startswith("file://"):
        return Path(unquote(urlsplit(url).path))
    return Path(url).expanduser()


def fetch_local(feed: FeedConfig, max_bytes: int) -> FetchResult:
    """Read a feed document from disk, refusing files over `max_bytes`."""
    path = _local_path(feed.url)
    started = time.monotonic()
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise FeedError(f"{_where(feed)}: đây là thư mục, không phải tệp RSS. Hãy sửa url trong cấu hình.")
        if size > max_bytes:
            raise FeedError(
                f"{_where(feed)}: tệp lớn {size_text(size)}, vượt giới hạn {size_text(max_bytes)}. "
                "Hãy kiểm tra tệp hoặc tăng fetch_max_bytes trong [general]."
            )
        # Regular files only, never past the cap: a device or FIFO must not hang the run.
        body = read_limited(path, f"tệp RSS của nguồn tin '{feed.name}'", max_bytes, FeedError)
    except FileNotFoundError:
        raise FeedError(f"{_where(feed)}: không tìm thấy tệp {path}. Hãy kiểm tra đường dẫn url trong cấu hình.") from None
    except PermissionError:
        raise FeedError(f"{_where(feed)}: không có quyền đọc tệp {path}. Hãy kiểm tra quyền tệp.") from None
    except OSError as exc:
        raise FeedError(f"{_where(feed)}: không đọc được tệp {path} ({exc.strerror or exc}).") from None
    return FetchResult(feed=feed.name, status="ok", body=body, final_url=str(path),
                       elapsed=time.monotonic() - started)


class _InwardRedirect(Exception):
    """A redirect towards addresses further inside than the feed's own."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


def _inwardness(host: str) -> int:
    """How far inside an address is: 0 the internet, 1 a private network, 2 this machine, 3 link-local and
    other special addresses (where a cloud keeps its metadata service); the most inside of all it resolves to."""
    try:
        found = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return 0  # no address: the request fails on its own
    rank = 0
    for *_, sockaddr in found:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        ip = getattr(ip, "ipv4_mapped", None) or ip  # ::ffff:127.0.0.1 is this machine too
        if ip.is_loopback:
            rank = max(rank, 2)
        elif ip.is_link_local or ip.is_unspecified or ip.is_multicast or ip.is_reserved:
            rank = 3
        elif ip.is_private:
            rank = max(rank, 1)
    return rank


def _no_inward_redirects(feed_url: str) -> Callable[..., None]:
    """A response hook refusing a redirect that leads further inside than the feed's own address.

    A feed on the internet answering 302 towards 127.0.0.1, the office network or a cloud's metadata
    service would have the nightly fetch make that request from inside, and bring an inside feed back
    as stories. A feed already inside may move within what its own address reaches.
    """
    own: list[int] = []

    def check(resp: requests.Response, *args: object, **kwargs: object) -> None:
        if not resp.is_redirect:
            return
        target = urljoin(resp.url, resp.headers.get("Location", ""))
        if not own:
            own.append(_inwardness(urlsplit(feed_url).hostname or ""))
        if _inwardness(urlsplit(target).hostname or "") > own[0]:
            resp.close()
            raise _InwardRedirect(target)
    return check


def _retry_after(resp: requests.Response, default: float) -> float:
    value = resp.headers.get("Retry-After", "")
    if value.strip().isdigit():
        return min(float(value.strip()), MAX_RETRY_AFTER)
    return default


def _read_body(resp: requests.Response, feed: FeedConfig, max_bytes: int, deadline: float,
               timeout: float) -> bytes:
    length = resp.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise FeedError(
            f"{_where(feed)}: nội dung lớn {size_text(int(length))}, vượt giới hạn {size_text(max_bytes)}. "
            "Hãy kiểm tra địa chỉ (có thể là tệp khác, không phải RSS) hoặc tăng fetch_max_bytes."
        )
    buf = bytearray()
    for chunk in pieces(resp):
        buf += chunk
        if len(buf) > max_bytes:
            raise FeedError(
                f"{_where(feed)}: nội dung vượt giới hạn {size_text(max_bytes)}. "
                "Hãy kiểm tra địa chỉ (có thể là tệp khác, không phải RSS) hoặc tăng fetch_max_bytes."
            )
        if time.monotonic() > deadline:
            # A server that trickles bytes never trips the per-read timeout.
            raise requests.Timeout(f"body not complete after {timeout:g}s")
    return bytes(buf)


def fetch(feed: FeedConfig, *, timeout: float = 15.0, retries: int = 2,
          max_bytes: int = 5_000_000, etag: str | None = None, last_modified: str | None = None,
          backoff: float = 0.5, total_timeout: float | None = None,
          session: requests.Session | None = None) -> FetchResult:
    """Fetch one feed document; raise FeedError with a Vietnamese message saying what to check.

    Conditional GET with `etag` / `last_modified` gives status "not_modified" on 304.
    Timeouts, connection errors, 408/429/5xx are retried `retries` times with
    exponential backoff; other errors fail at once. The whole download must end
    within `total_timeout` (default: three times `timeout`).
    """
    if is_local(feed.url):
        return fetch_local(feed, max_bytes)
    own = session is None
    sess = session or requests.Session()
    sess.max_redirects = MAX_REDIRECTS
    headers = {"User-Agent": _UA_BYTES, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    started = time.monotonic()
    total = total_timeout if total_timeout is not None else timeout * 3
    last_error = ""
    try:
        for attempt in range(retries + 1):
            wait = backoff * (2 ** attempt) * (1 + random.random() * 0.25)
            try:
                deadline = time.monotonic() + total
                with sess.get(feed.url, headers=headers, timeout=(min(timeout, 10.0), timeout),
                              stream=True, allow_redirects=True,
                              hooks={"response": _no_inward_redirects(feed.url)}) as resp:
                    status = resp.status_code
                    if status == 304:
                        return FetchResult(
                            feed=feed.name, status="not_modified", http_status=304,
                            etag=resp.headers.get("ETag") or etag,
                            last_modified=resp.headers.get("Last-Modified") or last_modified,
                            final_url=resp.url, attempts=attempt + 1,
                            elapsed=time.monotonic() - started)
                    if status in RETRY_STATUS:
                        last_error = HTTP_REASONS.get(status, f"máy chủ trả lỗi {status}")
                        wait = max(wait, _retry_after(resp, wait) if status in (429, 503) else wait)
                        log.info("%s: HTTP %s, attempt %d", feed.name, status, attempt + 1)
                    elif status >= 400:
                        reason = HTTP_REASONS.get(status, f"máy chủ trả lỗi {status}")
                        raise FeedError(f"{_where(feed)}: {reason}. Hãy kiểm tra lại địa chỉ url trong cấu hình "
                                        "(mở thử bằng trình duyệt).")
                    else:
                        body = _read_body(resp, feed, max_bytes, deadline, total)
                        return FetchResult(
                            feed=feed.name, status="ok", body=body,
                            content_type=resp.headers.get("Content-Type", ""),
                            etag=resp.headers.get("ETag"),
                            last_modified=resp.headers.get("Last-Modified"),
                            final_url=resp.url, http_status=status, attempts=attempt + 1,
                            elapsed=time.monotonic() - started)
            except _InwardRedirect as exc:
                raise FeedError(f"{_where(feed)}: địa chỉ chuyển hướng tới {shown_url(exc.target)}, một địa chỉ "
                                "trên chính máy này hay trong mạng nội bộ: không đi theo. Nếu nguồn tin thật sự ở "
                                "đó, hãy ghi thẳng địa chỉ ấy vào url trong cấu hình.") from None
            except requests.TooManyRedirects:
                raise FeedError(f"{_where(feed)}: địa chỉ chuyển hướng quá {MAX_REDIRECTS} lần (có thể bị vòng lặp). "
                                "Hãy mở thử bằng trình duyệt và cập nhật địa chỉ mới.") from None
            except requests.Timeout:
                last_error = f"máy chủ không trả lời trong {decimal(timeout)} giây"
            except requests.exceptions.SSLError:
                last_error = ("lỗi chứng chỉ bảo mật (SSL) của máy chủ; hãy kiểm tra ngày giờ của máy tính "
                              "và thử mở địa chỉ bằng trình duyệt")
            except requests.ConnectionError as exc:
                host = urlsplit(feed.url).hostname or feed.url
                text = str(exc)
                if any(s in text for s in ("NameResolution", "Name or service not known",
                                           "Temporary failure in name resolution", "getaddrinfo")):
                    last_error = f"không tìm thấy máy chủ {host} (sai tên miền hoặc mất mạng)"
                else:
                    last_error = f"không kết nối được tới máy chủ {host}"
            except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                    requests.exceptions.InvalidSchema, requests.exceptions.InvalidHeader) as exc:
                raise FeedError(f"{_where(feed)}: địa chỉ không hợp lệ ({type(exc).__name__}). "
                                "Hãy sửa url trong cấu hình.") from None
            except requests.RequestException as exc:
                last_error = f"lỗi khi tải ({type(exc).__name__})"
            if attempt < retries:
                time.sleep(wait)
        raise FeedError(f"{_where(feed)}: {last_error} (đã thử {retries + 1} lần). "
                        "Hãy kiểm tra kết nối mạng và địa chỉ nguồn tin; nếu máy chủ chậm, tăng fetch_timeout.")
    finally:
        if own:
            sess.close()


# ---------------------------------------------------------------- repairing

_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
]
_DECL_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9._-]+)""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FEED_START = re.compile(r"<\?xml\b|<(?:rss|feed|rdf:RDF|RDF)\b", re.I)
_FEED_END = re.compile(r"</(?:rss|feed|rdf:RDF|RDF)\s*>", re.I)
_ROOT = re.compile(r"^(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*<([A-Za-z_][\w:.-]*)", re.S)
_CDATA = re.compile(r"<!\[CDATA\[.*?\]\]>", re.S)
_BAD_AMP = re.compile(r"&(?!(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)")
_NAMED = re.compile(r"&([A-Za-z][A-Za-z0-9]{1,31});")
_XML_NAMED = {"amp", "lt", "gt", "quot", "apos"}


def _mostly_utf8(data: bytes) -> bool:
    """True when the bytes are UTF-8 with a few damaged sequences, not another code page."""
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 0x7F) - bad
    # A single-byte code page read as UTF-8 gives almost nothing but errors:
    # its letters rarely form valid multi-byte sequences.
    return good >= 4 * bad


def decode_document(data: bytes, content_type: str = "") -> str:
    """Decode feed bytes to text, trusting byte evidence over declarations that lie.

    A BOM wins; then UTF-16 seen in the bytes; then UTF-8 if the bytes are valid
    UTF-8 (vietnambiz declares utf-16 but sends UTF-8); then the HTTP charset,
    the XML declaration or an HTML meta charset. A document declared (or, with
    no declaration, defaulting to) UTF-8 that has a few bad bytes stays UTF-8,
    with U+FFFD for the bad bytes only: guessing another code page would turn
    every Vietnamese letter into mojibake. A statistical guess comes last.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(enc, "replace")
    head = data[:4]
    if head[:2] == b"<\x00" and head[3:4] == b"\x00":
        return data.decode("utf-16-le", "replace")
    if head[:2] == b"\x00<":
        return data.decode("utf-16-be", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared: list[str] = []
    m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9._-]+)", content_type or "")
    if m:
        declared.append(m.group(1))
    m2 = _DECL_ENCODING.match(data[:200])
    if m2:
        declared.append(m2.group(1).decode("ascii"))
    m3 = _META_CHARSET.search(data[:4096])
    if m3:
        declared.append(m3.group(1).decode("ascii"))
    for enc in declared:
        try:
            name = codecs.lookup(enc).name
        except LookupError:
            continue
        if name.startswith(("utf-16", "utf-32")):
            continue  # the bytes are not UTF-16 (checked above): the declaration lies
        if name == "utf-8":
            if _mostly_utf8(data):
                return data.decode("utf-8", "replace")
            continue  # declared UTF-8 but written in a code page
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            continue
    if not declared and _mostly_utf8(data):
        return data.decode("utf-8", "replace")  # XML without a declaration is UTF-8
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
        if best is not None and best.encoding:
            return data.decode(best.encoding, "replace")
    except Exception:  # the guess is a last resort; never fail the feed over it
        pass
    return data.decode("utf-8", "replace")


def root_tag(text: str) -> str:
    """Name of the document's first element, '' if none."""
    m = _ROOT.match(text[:20_000])
    return m.group(1) if m else ""


def looks_like_html(text: str) -> bool:
    """True when the document is a web page rather than a feed."""
    root = root_tag(text).lower()
    if root == "html":
        return True
    if root in ("rss", "feed", "rdf:rdf", "rdf"):
        return False
    head = text[:5000].lower()
    return bool(re.search(r"<!doctype\s+html|<html\b|<body\b", head)) and not _FEED_START.search(
        re.sub(r"<\?xml\b", "", text[:5000]))


def _fix_markup(segment: str) -> str:
    """Escape raw '&' and turn HTML-only named entities into numbers, outside CDATA."""
    segment = _BAD_AMP.sub("&amp;", segment)

    def named(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in _XML_NAMED:
            return m.group(0)
        cp = html.entities.name2codepoint.get(name)
        return f"&#{cp};" if cp else f"&amp;{name};"

    return _NAMED.sub(named, segment)


def repair_document(text: str) -> str:
    """Make a feed document well-formed enough for a strict XML parser.

    Drops text before the XML (a browser's "This XML file does not appear..."
    banner) and after the root element, illegal control characters, the false
    encoding declaration (the text is already decoded), and escapes raw '&'
    and HTML entities outside CDATA sections.
    """
    text = text.lstrip("\ufeff")
    text = _ILLEGAL_XML.sub("", text)
    if not root_tag(text):
        m = _FEED_START.search(text)
        if m:
            text = text[m.start():]
    ends = list(_FEED_END.finditer(text))
    if ends:
        text = text[: ends[-1].end()]
    text = _XML_DECL.sub("", text, count=1).lstrip()
    out: list[str] = []
    pos = 0
    for m in _CDATA.finditer(text):
        out.append(_fix_markup(text[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_fix_markup(text[pos:]))
    return '<?xml version="1.0" encoding="utf-8"?>\n' + "".join(out)


# ---------------------------------------------------------------- parsing


def _entry_text(entry: dict, *keys: str) -> str:
    for key in keys:
        # Plain dict lookup: feedparser's own .get() maps aliases and warns.
        value = dict.get(entry, key)
        if isinstance(value, list):  # feedparser's content: list of dicts
            value = " ".join(v.get("value", "") for v in value if isinstance(v, dict))
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _no_spaces(url: str) -> str:
    return "".join(url.split())


def web_link(raw: str, base: str = "") -> str:
    """An item's link as an absolute http(s) address, resolved against `base`; '' for any other kind.

    `javascript:`, `file:`, `data:` or `mailto:` links from a feed are never
    written into a script or manifest.
    """
    link = _no_spaces(raw)
    if link and base and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", link):
        link = urljoin(base, link)
    return link if re.match(r"^https?://[^/\s]", link, re.I) else ""


def parse_feed(data: bytes, feed: FeedConfig, *, now: dt.datetime, content_type: str = "",
               base_url: str = "") -> ParsedFeed:
    """Parse a fetched document into cleaned FeedItems; raise FeedError when it is not a feed."""
    if not data.strip():
        raise FeedError(f"{_where(feed)}: máy chủ trả về nội dung rỗng. Hãy kiểm tra địa chỉ hoặc thử lại sau.")
    text = decode_document(data, content_type)
    if looks_like_html(text):
        raise FeedError(
            f"{_where(feed)}: địa chỉ trả về trang web (HTML), không phải RSS. "
            "Hãy kiểm tra lại địa chỉ: trang có thể đã đổi đường dẫn RSS."
        )
    fixed = repair_document(text)
    parsed = feedparser.parse(io.BytesIO(fixed.encode("utf-8")),
                              sanitize_html=False, resolve_relative_uris=False)
    entries = parsed.get("entries") or []
    if not entries and not parsed.get("version"):
        raise FeedError(
            f"{_where(feed)}: nội dung không phải RSS/Atom đọc được. "
            "Hãy mở địa chỉ bằng trình duyệt để kiểm tra."
        )
    if parsed.get("bozo") and entries:
        log.debug("%s: tolerated malformed XML: %s", feed.name, parsed.get("bozo_exception"))
    channel_title = clean_title(parsed.get("feed", {}).get("title", ""))
    # Relative item links ("/tin-a.html") resolve against the site the feed
    # names, else the address it was fetched from.
    base = _no_spaces(str(parsed.get("feed", {}).get("link", "") or ""))
    if not base.lower().startswith(("http://", "https://")):
        base = base_url or (feed.url if feed.url.lower().startswith(("http://", "https://")) else "")
    source = feed.source or outlet_name(channel_title, base) or feed.name
    raw_dates = [_entry_text(e, "published", "updated", "created") for e in entries]
    order = slash_order(raw_dates)
    items: list[FeedItem] = []
    skipped = 0
    future = 0
    seen: set[str] = set()
    for entry, raw_date in zip(entries, raw_dates):
        raw_title = _entry_text(entry, "title")
        raw_summary = _entry_text(entry, "summary", "content")
        title = clean_title(raw_title)
        link = web_link(_entry_text(entry, "link"), base)
        guid = _no_spaces(_entry_text(entry, "id"))
        if not link and guid.lower().startswith(("http://", "https://")):
            link = guid
        if not title or not (link or guid or _entry_text(entry, "link").strip()):
            skipped += 1
            continue
        key = link or guid or title  # a link of another kind was dropped: the title identifies it
        if key in seen:  # the same article twice in one document
            skipped += 1
            continue
        seen.add(key)
        summary = clean_summary(raw_summary, title)
        published = parse_date(raw_date, order=order)
        if published is not None and published > now + FUTURE_SLACK:
            future += 1
            published = None
        items.append(FeedItem(feed=feed.name, source=source, title=title, summary=summary,
                              link=link, guid=guid, published=published,
                              damage=raw_title.count("\ufffd") + raw_summary.count("\ufffd")))
    return finish_parsed(channel_title, items, len(entries), skipped, future, now)


def _shortened(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at a space when one is near the end."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 0.8 else cut).rstrip(" ,;:-–—")


def finish_parsed(title: str, items: list[FeedItem], entries: int, skipped: int, future: int,
                  now: dt.datetime, *, check_stale: bool = True) -> ParsedFeed:
    """Wrap parsed items with what staff should know: misdated items, an empty or dead source.

    Every kind of source ends here, so here a source's items are held to what a
    real one gives: the first MAX_ITEMS of its list, titles and leads cut to
    MAX_TITLE_CHARS and MAX_SUMMARY_CHARS.
    """
    extra = max(0, len(items) - MAX_ITEMS)
    items = items[:MAX_ITEMS]
    cut = 0
    for i, it in enumerate(items):
        short = replace(it, title=_shortened(it.title, MAX_TITLE_CHARS), source=_shortened(it.source, MAX_TITLE_CHARS),
                        summary=_shortened(it.summary, MAX_SUMMARY_CHARS))
        if short != it:
            items[i], cut = short, cut + 1
    result = ParsedFeed(title=_shortened(title, MAX_TITLE_CHARS), items=items, entries=entries, skipped=skipped)
    if extra:
        result.warnings.append(f"nguồn tin có {MAX_ITEMS + extra} bài, chỉ lấy {MAX_ITEMS} bài đầu danh sách")
    if cut:
        result.warnings.append(f"{cut} tin có tiêu đề hoặc tóm tắt dài bất thường, đã cắt bớt (tiêu đề tối đa "
                               f"{MAX_TITLE_CHARS} ký tự, tóm tắt tối đa {grouped(MAX_SUMMARY_CHARS)} ký tự)")
    dated = [i.published for i in items if i.published]
    result.newest = max(dated) if dated else None
    if future:
        result.warnings.append(f"{future} tin có ngày đăng ở tương lai, dùng thời điểm tải thay thế")
    if not entries:
        result.warnings.append("nguồn tin không có bài nào")
    elif check_stale and result.newest and now - result.newest > STALE_AFTER:
        result.warnings.append(
            f"tin mới nhất từ ngày {result.newest:%d/%m/%Y}: nguồn có thể đã ngừng cập nhật, "
            "hãy kiểm tra địa chỉ"
        )
    return result
