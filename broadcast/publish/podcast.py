"""A station's podcast feed (RSS 2.0 with the iTunes tags) and a small web page of its episodes.

The feed is rebuilt from the episodes recorded in the store, so it always
lists exactly the bulletin versions that were published and may still air,
newest first. Every URL in it is absolute (from `[publish] base_url`), each
enclosure gives the file's size in bytes, dates are RFC 822, and each
bulletin version has its own GUID that never changes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import logging
import shutil
import struct
import zlib
from pathlib import Path
from typing import TypeVar

from broadcast import __version__
from broadcast.config import Config, StationConfig
from broadcast.fsutil import atomic_path, atomic_write_bytes, atomic_write_text
from broadcast.models import VN_TZ
from broadcast.publish.records import Episode, episodes, remove_episode
from broadcast.vitext import decimal, without_controls
from broadcast.store import Store
from broadcast.workspace import Workspace

log = logging.getLogger(__name__)

PODCAST_DIR = "podcast"
IMAGE_SIDE = 1400
T = TypeVar("T", StationConfig, Episode)  # the smallest square podcast directories accept


def feed_path(ws: Workspace, station: str) -> Path:
    """`<out>/podcast/<station>.xml`."""
    return ws.out_dir / PODCAST_DIR / f"{station}.xml"


def page_path(ws: Workspace, station: str) -> Path:
    """`<out>/podcast/<station>.html`."""
    return ws.out_dir / PODCAST_DIR / f"{station}.html"


def image_name(config: Config, station: str) -> str:
    """The channel artwork's file name in the podcast folder."""
    suffix = ".jpg" if config.publish.image and config.publish.image.suffix.lower() in (".jpg", ".jpeg") else ".png"
    return f"{station}{suffix}"


def guid_for(station: str, date: dt.date, slot: str, version: str) -> str:
    """A GUID that names one bulletin version and nothing else, the same every time it is computed."""
    return f"urn:broadcast:{station}:{date.isoformat()}:{slot or '-'}:{version}"


def itunes_duration(seconds: float) -> str:
    """'0:04:07' for 247 seconds."""
    total = int(round(seconds))
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def write_station(config: Config, ws: Workspace, store: Store, station: StationConfig, now: dt.datetime) -> Path:
    """Write the station's feed, page and artwork from its recorded episodes; return the feed's path."""
    eps = []
    for ep in episodes(store, station.id):
        if (ws.out_dir / ep.audio).is_file():
            eps.append(ep)
        else:  # removed by hand or by retention elsewhere: a feed must not point at nothing
            remove_episode(store, ep.station, ep.date, ep.slot)
            log.info("podcast %s: %s is gone, episode removed", station.id, ep.audio)
    _write_image(config, ws, station.id)
    path = feed_path(ws, station.id)
    atomic_write_bytes(path, _feed_xml(config, station, eps, now))
    atomic_write_text(page_path(ws, station.id), _page_html(config, station, eps))
    return path


def _feed_xml(config: Config, station: StationConfig, eps: list[Episode], now: dt.datetime) -> bytes:
    from feedgen.feed import FeedGenerator

    # Titles come from feeds and from records stored long ago: no character XML cannot hold may stop the feed.
    station = _printable(station)
    eps = [_printable(ep) for ep in eps]
    base = config.publish.base_url
    page_url = f"{base}{PODCAST_DIR}/{station.id}.html"
    image_url = f"{base}{PODCAST_DIR}/{image_name(config, station.id)}"
    author = without_controls(config.publish.author) or station.name
    where = station.commune or "địa phương"
    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.title(f"{station.name}: Bản tin cải cách hành chính")
    # The self link first: feedgen takes the channel's <link> from the last one given.
    fg.link(href=f"{base}{PODCAST_DIR}/{station.id}.xml", rel="self", type="application/rss+xml")
    fg.link(href=page_url, rel="alternate")
    fg.description(f"Bản tin cải cách hành chính hằng ngày của {station.name}"
                   f"{', ' + station.province if station.province else ''}: thủ tục hành chính, dịch vụ công "
                   f"trực tuyến và thông báo của {where}.")
    fg.language("vi")
    fg.image(url=image_url, title=f"{station.name}: Bản tin cải cách hành chính", link=page_url)
    fg.generator(f"broadcast {__version__}")
    fg.lastBuildDate(now)  # never the clock: a rebuild with the same inputs writes the same feed
    if eps:
        fg.pubDate(eps[0].published_at)
    fg.podcast.itunes_author(author)
    fg.podcast.itunes_image(image_url)
    fg.podcast.itunes_category("Government")
    fg.podcast.itunes_explicit("no")
    fg.podcast.itunes_type("episodic")
    fg.podcast.itunes_summary(fg.description())
    if config.publish.email:
        fg.podcast.itunes_owner(name=author, email=config.publish.email)
    for ep in eps:
        fe = fg.add_entry(order="append")
        fe.title(ep.title)
        fe.guid(ep.guid, permalink=False)
        fe.link(href=f"{page_url}#{_anchor(ep)}")
        fe.description(ep.description or ep.title)
        fe.enclosure(f"{base}{ep.audio}", str(ep.size), "audio/mpeg")
        fe.pubDate(ep.published_at)
        fe.podcast.itunes_duration(itunes_duration(ep.duration))
        fe.podcast.itunes_author(author)
        fe.podcast.itunes_explicit("no")
    return fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)


def _printable(record: T) -> T:
    """A copy of a station or episode whose text fields hold no control characters."""
    return dataclasses.replace(record, **{f.name: without_controls(getattr(record, f.name))
                                          for f in dataclasses.fields(record) if isinstance(getattr(record, f.name), str)})


def _anchor(ep: Episode) -> str:
    return f"{ep.date.isoformat()}-{ep.slot or 'ban-tin'}"


def _page_html(config: Config, station: StationConfig, eps: list[Episode]) -> str:
    esc = html.escape
    station = _printable(station)
    eps = [_printable(ep) for ep in eps]
    rows = []
    for ep in eps:
        when = ep.published_at.astimezone(VN_TZ).strftime("%H:%M ngày %d/%m/%Y")
        minutes = decimal(ep.duration / 60, 1)
        rows.append(
            f'<article id="{esc(_anchor(ep))}">\n<h2>{esc(ep.title)}</h2>\n'
            f"<p>{esc(ep.description)}</p>\n"
            f'<audio controls preload="none" src="../{esc(ep.audio)}"></audio>\n'
            f'<p class="meta">Phát hành lúc {esc(when)}, dài {esc(minutes)} phút. '
            f'<a href="../{esc(ep.audio)}" download>Tải tệp MP3</a></p>\n</article>')
    body = "\n".join(rows) or "<p>Chưa có bản tin nào được phát hành.</p>"
    title = f"{station.name}: Bản tin cải cách hành chính"
    return f"""<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<link rel="alternate" type="application/rss+xml" href="{esc(station.id)}.xml" title="{esc(title)}">
<style>body{{font-family:sans-serif;max-width:44rem;margin:auto;padding:1rem}}audio{{width:100%}}
.meta{{color:#555;font-size:.9rem}}article{{border-bottom:1px solid #ddd;padding:.5rem 0}}</style>
</head>
<body>
<h1>{esc(title)}</h1>
<p>Nghe trên điện thoại: thêm địa chỉ <a href="{esc(station.id)}.xml">{esc(station.id)}.xml</a> vào ứng dụng nghe podcast.</p>
{body}
</body>
</html>
"""


def _write_image(config: Config, ws: Workspace, station: str) -> None:
    dest = ws.out_dir / PODCAST_DIR / image_name(config, station)
    source = config.publish.image
    if source is not None:
        try:
            if dest.exists() and dest.read_bytes() == source.read_bytes():
                return
            with atomic_path(dest, suffix=dest.suffix) as tmp:
                shutil.copyfile(source, tmp)
        except OSError as exc:
            log.warning("podcast artwork %s could not be copied (%s): the generated one is used", source, exc)
            source = None
    if source is None and not dest.exists():
        atomic_write_bytes(dest, artwork_png(IMAGE_SIDE))


def artwork_png(side: int) -> bytes:
    """A plain square PNG (red field, yellow band): artwork for a station that has none of its own."""
    red, yellow = b"\xb0\x1c\x1c", b"\xf2\xc9\x1f"
    band = range(side * 2 // 5, side * 3 // 5)
    raw = b"".join(b"\x00" + (yellow if y in band else red) * side for y in range(side))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def retain(config: Config, ws: Workspace, store: Store, today: dt.date, now: dt.datetime) -> set[str]:
    """Drop episodes past the feed's retention from the feeds, rewrite those feeds, and return the audio files
    (relative to the output folder) the feeds still reference, so that retention keeps them."""
    days = config.publish.podcast_days if config.publish.podcast_days is not None else config.audio.retention_days
    keep: set[str] = set()
    for st in config.stations:
        eps = episodes(store, st.id)
        changed = False
        for ep in eps:
            if days and ep.date < today - dt.timedelta(days=days):
                remove_episode(store, ep.station, ep.date, ep.slot)
                log.info("podcast %s: episode %s left the feed (older than %d days)", st.id, ep.audio, days)
                changed = True
            else:
                keep.add(ep.audio)
        if changed and config.publish.base_url:
            write_station(config, ws, store, st, now)
    return keep
