"""A station's podcast feed (RSS 2.0 with the iTunes tags), a small web page of its episodes, and the
published audio they point at, all in the workspace's public folder.

The feed is rebuilt from the episodes recorded in the store, so it always
lists exactly the bulletin versions that were published and may still air,
newest first. Every URL in it is absolute (from `[publish] base_url`, the
address of the public folder) and names a file inside that folder: each
published version gets its own copy of the audio there, made when it is
published and removed when it is withdrawn, replaced or retired, so the web
never serves a bulletin that is held, waiting for approval or superseded.
Each enclosure gives the file's size in bytes, dates are RFC 822, and each
bulletin version has its own GUID that never changes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import html
import logging
import os
import shutil
import struct
import zlib
from pathlib import Path
from typing import TypeVar

from broadcast import __version__
from broadcast.config import Config, StationConfig
from broadcast.errors import BroadcastError
from broadcast.fsutil import atomic_path, atomic_write_bytes, atomic_write_text, remove_file
from broadcast.models import VN_TZ
from broadcast.publish.records import Episode, episodes, remove_episode, save_episode
from broadcast.vitext import decimal, without_controls
from broadcast.store import Store
from broadcast.workspace import STALE_AFTER, Workspace

log = logging.getLogger(__name__)

IMAGE_SIDE = 1400
T = TypeVar("T", StationConfig, Episode)  # the smallest square podcast directories accept


def feed_path(ws: Workspace, station: str) -> Path:
    """`<public>/<station>.xml`."""
    return ws.public_dir / f"{station}.xml"


def page_path(ws: Workspace, station: str) -> Path:
    """`<public>/<station>.html`."""
    return ws.public_dir / f"{station}.html"


def image_name(config: Config, station: str) -> str:
    """The channel artwork's file name in the public folder."""
    suffix = ".jpg" if config.publish.image and config.publish.image.suffix.lower() in (".jpg", ".jpeg") else ".png"
    return f"{station}{suffix}"


def public_path(ws: Workspace, ep: Episode) -> Path | None:
    """Where the episode's audio is served from; None for a record no publication could have made."""
    try:
        return ws.public_audio(ep.station, ep.date, ep.slot, ep.version)
    except BroadcastError:
        return None


def audio_ref(ws: Workspace, path: Path) -> str:
    """How an episode records its public audio: relative to the output folder, '/'-separated."""
    return path.relative_to(ws.out_dir).as_posix()


def is_public(ws: Workspace, ep: Episode) -> bool:
    """Whether the episode points at its own copy in the public folder (not, as in layout 1, a day folder)."""
    path = public_path(ws, ep)
    return path is not None and ep.audio == audio_ref(ws, path)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in pieces."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def put_public_audio(dest: Path, source: Path, data: bytes, checksum: str) -> None:
    """Put a published version's audio at its public name, atomically: a hard link to the bulletin's file while
    that still holds exactly these bytes (no second copy on disk), else a copy of the bytes that were checked."""
    if dest.is_file() and dest.stat().st_size == len(data) and file_sha256(dest) == checksum:
        return  # the same version published again
    with atomic_path(dest, suffix=".mp3") as tmp:
        try:
            tmp.unlink()
            os.link(source, tmp)
            # The bulletin may have been made again since it was checked: only the checked bytes go out.
            linked = file_sha256(tmp) == checksum
        except OSError:  # another filesystem, or one without links
            linked = False
        if not linked:
            tmp.unlink(missing_ok=True)
            tmp.write_bytes(data)


def drop_public_audio(ws: Workspace, ep: Episode) -> None:
    """Remove an episode's public copy, so its address answers nothing from now on."""
    path = public_path(ws, ep)
    if path is None:
        return
    try:
        remove_file(path)
    except OSError as exc:
        log.warning("could not remove the public copy %s: %s", path, exc)
    else:
        log.info("podcast %s: removed %s from the public folder", ep.station, path.name)


def drop_episode(ws: Workspace, store: Store, ep: Episode) -> None:
    """Take an episode out of its feed and its audio out of the public folder."""
    remove_episode(store, ep.station, ep.date, ep.slot)
    drop_public_audio(ws, ep)


def sweep_public(ws: Workspace, store: Store, station: str, now: dt.datetime) -> list[Path]:
    """Remove every file in a station's public audio folder that no episode of its feed names.

    Withdrawals remove their copy themselves; this catches what a killed run
    or a hand-edited store left. Call it only under the publish lock: a copy
    another publisher just made is not yet in the store. A temporary file
    younger than an hour may be a feed being moved to this layout by a hold.
    """
    folder = ws.public_audio_dir(station)
    if not folder.is_dir():
        return []
    wanted = {p for p in (public_path(ws, ep) for ep in episodes(store, station) if is_public(ws, ep)) if p}
    cutoff = (now - STALE_AFTER).timestamp()
    removed = []
    for child in folder.iterdir():
        if child in wanted or child.is_dir():
            continue
        try:
            if child.name.startswith(".") and child.stat().st_mtime >= cutoff:
                continue
            child.unlink()
        except OSError as exc:
            log.warning("could not remove %s from the public folder: %s", child, exc)
            continue
        removed.append(child)
        log.info("podcast %s: %s is no published episode, removed from the public folder", station, child.name)
    return removed


def guid_for(station: str, date: dt.date, slot: str, version: str) -> str:
    """A GUID that names one bulletin version and nothing else, the same every time it is computed."""
    return f"urn:broadcast:{station}:{date.isoformat()}:{slot or '-'}:{version}"


def itunes_duration(seconds: float) -> str:
    """'0:04:07' for 247 seconds."""
    total = int(round(seconds))
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def write_station(config: Config, ws: Workspace, store: Store, station: StationConfig, now: dt.datetime) -> Path:
    """Write the station's feed, page and artwork from its recorded episodes; return the feed's path."""
    with ws.podcast_lock(station.id):
        eps = [ep for ep in (_current(ws, store, ep) for ep in episodes(store, station.id)) if ep is not None]
        _write_image(config, ws, station.id)
        path = feed_path(ws, station.id)
        atomic_write_bytes(path, _feed_xml(config, ws, station, eps, now))
        atomic_write_text(page_path(ws, station.id), _page_html(config, ws, station, eps))
    return path


def _current(ws: Workspace, store: Store, ep: Episode) -> Episode | None:
    """The episode as the feed may list it, its audio in the public folder; None once it has to go."""
    source = ws.paths(ep.station, ep.date, ep.slot).audio
    dest = public_path(ws, ep)
    if dest is None or not source.is_file():  # the bulletin was deleted (by hand or by retention)
        drop_episode(ws, store, ep)
        log.info("podcast %s: the bulletin of %s is gone, episode removed", ep.station, ep.audio)
        return None
    if is_public(ws, ep):
        if dest.is_file():
            return ep
        remove_episode(store, ep.station, ep.date, ep.slot)
        log.info("podcast %s: %s is gone from the public folder, episode removed", ep.station, ep.audio)
        return None
    # Published under layout 1, pointing into a day folder: it moves to the public folder, keeping its GUID
    # so listeners' apps do not fetch it again, if the bulletin still holds the published bytes.
    try:
        data = source.read_bytes()
    except OSError:
        data = b""
    if hashlib.sha256(data).hexdigest() != ep.checksum:
        remove_episode(store, ep.station, ep.date, ep.slot)
        log.info("podcast %s: %s no longer holds the published audio, episode removed", ep.station, ep.audio)
        return None
    put_public_audio(dest, source, data, ep.checksum)
    moved = dataclasses.replace(ep, audio=audio_ref(ws, dest))
    save_episode(store, moved)
    log.info("podcast %s: %s moved to the public folder as %s", ep.station, ep.audio, moved.audio)
    return moved


def needs_rewrite(ws: Workspace, store: Store, station: str) -> bool:
    """Whether the station's feed is missing, lists other episodes than the store records (a run was stopped
    between the two, or a hold could not write it), or lists an episode of layout 1 (outside the public folder)
    or one whose bulletin or public copy is gone."""
    def intact(ep: Episode) -> bool:
        dest = public_path(ws, ep)
        return (is_public(ws, ep) and dest is not None and dest.is_file()
                and ws.paths(ep.station, ep.date, ep.slot).audio.is_file())

    eps = episodes(store, station)
    return listed_guids(ws, station) != {ep.guid for ep in eps} or not all(intact(ep) for ep in eps)


def _feed_root(ws: Workspace, station: str):  # type: ignore[no-untyped-def]
    """The station's feed on disk as an XML tree (it is our own file), or None when there is none to read."""
    import xml.etree.ElementTree as ET

    try:
        return ET.fromstring(feed_path(ws, station).read_bytes())
    except (OSError, ET.ParseError):
        return None


def listed_guids(ws: Workspace, station: str) -> set[str] | None:
    """The GUIDs of the episodes the station's feed on disk lists; None when there is no feed to read."""
    root = _feed_root(ws, station)
    if root is None:
        return None
    return {(guid.text or "").strip() for item in root.iter("item") for guid in item.iter("guid")}


def feed_address(ws: Workspace, station: str) -> str | None:
    """The address the station's feed on disk says it lives at (its self link), if there is one to read."""
    root = _feed_root(ws, station)
    if root is None:
        return None
    for link in root.iter("{http://www.w3.org/2005/Atom}link"):
        if link.get("rel") == "self":
            return link.get("href")
    return None


def public_url(config: Config, ws: Workspace, path: Path) -> str:
    """The absolute web address of a file in the public folder."""
    return config.publish.base_url + ws.public_rel(path)


def _feed_xml(config: Config, ws: Workspace, station: StationConfig, eps: list[Episode], now: dt.datetime) -> bytes:
    from feedgen.feed import FeedGenerator

    # Titles come from feeds and from records stored long ago: no character XML cannot hold may stop the feed.
    station = _printable(station)
    eps = [_printable(ep) for ep in eps]
    page_url = public_url(config, ws, page_path(ws, station.id))
    image_url = public_url(config, ws, ws.public_dir / image_name(config, station.id))
    author = without_controls(config.publish.author) or station.name
    where = station.commune or "địa phương"
    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.title(f"{station.name}: Bản tin cải cách hành chính")
    # The self link first: feedgen takes the channel's <link> from the last one given.
    fg.link(href=public_url(config, ws, feed_path(ws, station.id)), rel="self", type="application/rss+xml")
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
        fe.enclosure(public_url(config, ws, _served(ws, ep)), str(ep.size), "audio/mpeg")
        fe.pubDate(ep.published_at)
        fe.podcast.itunes_duration(itunes_duration(ep.duration))
        fe.podcast.itunes_author(author)
        fe.podcast.itunes_explicit("no")
    return fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)


def _printable(record: T) -> T:
    """A copy of a station or episode whose text fields hold no control characters."""
    return dataclasses.replace(record, **{f.name: without_controls(getattr(record, f.name))
                                          for f in dataclasses.fields(record) if isinstance(getattr(record, f.name), str)})


def _served(ws: Workspace, ep: Episode) -> Path:
    path = public_path(ws, ep)
    assert path is not None  # _current dropped every episode without one
    return path


def _anchor(ep: Episode) -> str:
    return f"{ep.date.isoformat()}-{ep.slot or 'ban-tin'}"


def _page_html(config: Config, ws: Workspace, station: StationConfig, eps: list[Episode]) -> str:
    esc = html.escape
    station = _printable(station)
    eps = [_printable(ep) for ep in eps]
    rows = []
    for ep in eps:
        when = ep.published_at.astimezone(VN_TZ).strftime("%H:%M ngày %d/%m/%Y")
        minutes = decimal(ep.duration / 60, 1)
        src = ws.public_rel(_served(ws, ep))  # relative to the page, which sits at the public folder's top
        rows.append(
            f'<article id="{esc(_anchor(ep))}">\n<h2>{esc(ep.title)}</h2>\n'
            f"<p>{esc(ep.description)}</p>\n"
            f'<audio controls preload="none" src="{esc(src)}"></audio>\n'
            f'<p class="meta">Phát hành lúc {esc(when)}, dài {esc(minutes)} phút. '
            f'<a href="{esc(src)}" download>Tải tệp MP3</a></p>\n</article>')
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
    dest = ws.public_dir / image_name(config, station)
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
    """Drop episodes past the feed's retention from the feeds (and their audio from the public folder), rewrite
    those feeds, and return the bulletins' audio files (relative to the output folder) the feeds still list, so
    that retention keeps their day: an episode whose bulletin is deleted leaves its feed."""
    days = config.publish.podcast_days if config.publish.podcast_days is not None else config.audio.retention_days
    keep: set[str] = set()
    for st in config.stations:
        eps = episodes(store, st.id)
        changed = False
        for ep in eps:
            if days and ep.date < today - dt.timedelta(days=days):
                drop_episode(ws, store, ep)
                log.info("podcast %s: episode %s left the feed (older than %d days)", st.id, ep.audio, days)
                changed = True
            else:
                keep.add(audio_ref(ws, ws.paths(ep.station, ep.date, ep.slot).audio))
        if changed and config.publish.base_url:
            write_station(config, ws, store, st, now)
    return keep
