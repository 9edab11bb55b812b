"""News from a web page that lists articles (a provincial portal without RSS), found by CSS selectors.

The configuration names, for the page, the selector of one entry of the list
(`item`) and, inside an entry, of its title, link, date and optional lead.
"""

from __future__ import annotations

import datetime as dt
import logging

from bs4 import BeautifulSoup
from bs4.element import Tag

from broadcast.config import FeedConfig
from broadcast.errors import FeedError
from broadcast.feeddates import parse_date, slash_order
from broadcast.feeds import ParsedFeed, decode_document, finish_parsed, web_link
from broadcast.models import FeedItem
from broadcast.textclean import clean_summary, clean_title
from broadcast.vitext import shown_url

log = logging.getLogger(__name__)


def _text(el: Tag | None) -> str:
    if el is None:
        return ""
    return el.get_text(" ", strip=True) or str(el.get("title") or "")


def _href(el: Tag | None) -> str:
    """The address an element links to: its own href, else the first link inside it."""
    if el is None:
        return ""
    if el.get("href"):
        return str(el["href"])
    inner = el.find("a", href=True)
    return str(inner["href"]) if inner else ""


def _date_text(el: Tag | None) -> str:
    if el is None:
        return ""
    # <time datetime="2026-11-28T08:30:00+07:00">28/11</time> says it best in the attribute.
    return str(el.get("datetime") or el.get("content") or "") or el.get_text(" ", strip=True)


def _select_one(entry: Tag, selector: str) -> Tag | None:
    if not selector:
        return None
    return entry if entry.css.match(selector) else entry.select_one(selector)


def parse_listing(data: bytes, feed: FeedConfig, *, content_type: str = "",
                  now: dt.datetime, base_url: str = "") -> ParsedFeed:
    """Read the entries of a listing page with the feed's selectors; raise FeedError when none match."""
    where = f"Trang tin '{feed.name}' ({shown_url(feed.url)})"
    if not data.strip():
        raise FeedError(f"{where}: máy chủ trả về nội dung rỗng. Hãy kiểm tra địa chỉ hoặc thử lại sau.")
    sel = feed.selectors
    soup = BeautifulSoup(decode_document(data, content_type), "html.parser")
    entries = soup.select(sel["item"])
    if not entries:
        raise FeedError(
            f"{where}: không thấy mục tin nào theo bộ chọn item = \"{sel['item']}\". "
            "Trang có thể đã đổi giao diện: hãy mở trang bằng trình duyệt và sửa selectors trong cấu hình."
        )
    page_title = clean_title(soup.title.get_text(" ", strip=True) if soup.title else "")
    base = base_url or (feed.url if feed.url.lower().startswith(("http://", "https://")) else "")
    rows = []
    for entry in entries:
        title_el = _select_one(entry, sel.get("title", "")) or entry
        link_el = _select_one(entry, sel.get("link", "")) or title_el
        rows.append((entry, title_el, link_el, _date_text(_select_one(entry, sel.get("date", "")))))
    order = slash_order(r[3] for r in rows) or "dmy"  # portals write day first
    source = feed.source or page_title or feed.name
    items: list[FeedItem] = []
    seen: set[str] = set()
    skipped = future = 0
    for entry, title_el, link_el, raw_date in rows:
        title = clean_title(_text(title_el))
        link = web_link(_href(link_el) or _href(entry), base)
        if not title or not link or link in seen:  # featured stories repeat in the list
            skipped += 1
            continue
        seen.add(link)
        summary = clean_summary(_text(_select_one(entry, sel.get("summary", ""))), title)
        published = parse_date(raw_date, order=order)
        if published is not None and published > now + dt.timedelta(hours=24):
            future += 1
            published = None
        items.append(FeedItem(feed=feed.name, source=source, title=title, summary=summary,
                              link=link, guid="", published=published))
    return finish_parsed(page_title, items, len(entries), skipped, future, now)
