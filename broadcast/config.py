"""Configuration: defaults <- TOML file <- command line, merged and validated once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from broadcast.errors import ConfigError
from broadcast.fsutil import MAX_SETTINGS_BYTES, read_limited, windows_device
from broadcast.vitext import decimal, without_controls

STATION_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # always fullmatch: "$" accepts a final newline


def bundled_data(*parts: str) -> Path:
    """Path of a file shipped in broadcast/data."""
    return Path(str(resources.files("broadcast").joinpath("data", *parts)))


def demo_config_path() -> Path:
    """The bundled demo configuration used when no broadcast.toml is found."""
    return bundled_data("demo", "broadcast.toml")


# Kinds of news source: an RSS/Atom feed, a web page listing articles (read
# with CSS selectors), a folder of items the province or commune writes.
FEED_KINDS = ("rss", "html", "local")
SELECTOR_KEYS = ("item", "title", "link", "date", "summary")
LOCAL_WEIGHT = 2.0  # local items outrank the news unless the config says otherwise


@dataclass
class FeedConfig:
    name: str
    url: str  # http(s) URL or an absolute local path (for "local": the folder)
    source: str = ""  # spoken source name; empty means the feed's own title
    weight: float = 1.0  # local/provincial feeds weigh more than national ones
    kind: str = "rss"  # one of FEED_KINDS
    selectors: dict[str, str] = field(default_factory=dict)  # kind "html": CSS selectors by SELECTOR_KEYS


@dataclass
class SelectionConfig:
    max_items: int = 6
    fresh_hours: float = 72.0
    min_score: float | None = None  # None: the vocabulary's own threshold
    per_source_max: int = 3
    item_chars: int = 600  # budget for one item's lead, in characters
    topics_file: Path | None = None  # extra topic vocabulary


@dataclass
class EngineSettings:
    """One engine's own settings: the [tts.<engine>] table of broadcast.toml."""

    voice: str = ""  # the engine's voice name; empty: the engine's default
    model: Path | None = None  # piper: the .onnx voice model (its .onnx.json beside it)
    key_env: str = ""  # environment variable holding the API key; empty: the engine's default
    key_file: Path | None = None  # file whose first line is the API key
    app_id: str = ""  # vendors that also want an application id (Vbee)
    callback_url: str = ""  # vendors that insist on a webhook (Vbee); results are still polled
    url: str = ""  # endpoint override, e.g. a provincial proxy; empty: the vendor's documented one
    lexicon: Path | None = None  # pronunciation fixes for this engine only (written<Tab>spoken)
    timeout: float = 20.0  # seconds per HTTP request
    retries: int = 3
    poll_timeout: float = 120.0  # seconds to wait for an asynchronous result


ENGINE_KEYS = {f.name for f in dataclasses.fields(EngineSettings)}
AUTO_CHAIN = ["gtts", "espeak"]


def known_engines() -> list[str]:
    """Names of the registered speech engines (the registry is the source of truth)."""
    # Imported here: the speech package imports this module for TTSConfig.
    from broadcast.speech.base import registered_engines

    return registered_engines()


@dataclass
class TTSConfig:
    engine: str = "auto"
    chain: list[str] = field(default_factory=list)  # explicit order; overrides engine
    speed: float = 1.0
    espeak_voice: str = "vi"
    espeak_rate: int = 150  # words per minute as espeak counts them
    gtts_tld: str = "com.vn"
    gtts_timeout: float = 10.0
    gtts_probe_timeout: float = 3.0
    gtts_retries: int = 3
    gtts_concurrency: int = 4
    gtts_request_budget: int = 2000
    # New speech per run, all stations together: about 3.5 hours of speech,
    # far above a normal night, low enough that a runaway script cannot
    # fill the disk with speech cache.
    speech_budget_chars: int = 200_000
    command: list[str] = field(default_factory=list)
    command_voice: str = ""  # fills {voice} in the command; empty: espeak_voice
    command_timeout: float = 120.0
    syllables_per_minute: dict[str, float] = field(
        default_factory=lambda: {"gtts": 210.0, "espeak": 235.0, "command": 200.0}
    )
    engines: dict[str, EngineSettings] = field(default_factory=dict)  # [tts.<engine>] tables

    def resolved_chain(self) -> list[str]:
        """The ordered engines to try."""
        if self.chain:
            return list(self.chain)
        if self.engine == "auto":
            return list(AUTO_CHAIN)
        return [self.engine]

    def settings(self, engine: str) -> EngineSettings:
        """The [tts.<engine>] settings, defaults when the table is absent."""
        return self.engines.get(engine) or EngineSettings()


@dataclass
class AudioConfig:
    jingles: bool = True  # False: no intro, outro or stings, only speech and pauses
    jingle: Path | None = None
    outro: Path | None = None  # default: the intro jingle again
    sting: Path | None = None
    bed: Path | None = None
    bed_enabled: bool = False
    bed_duck_db: float = 15.0
    bed_level_db: float = -20.0
    pause_ms: int = 600
    item_pause_ms: int = 900
    loudness: float = -16.0
    true_peak: float = -1.0
    highpass_hz: float = 120.0
    compress: bool = True
    bitrate: str = "128k"
    sample_rate: int = 44100
    wav: bool = False
    retention_days: int = 30


@dataclass
class Slot:
    name: str  # "sang"
    time: str  # "06:00"


@dataclass
class NoticeConfig:
    """A local notice written in the configuration or a notices file."""

    text: str
    priority: str = "normal"  # normal | priority | emergency
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


@dataclass
class StationConfig:
    id: str
    name: str
    commune: str = ""
    province: str = ""
    phone: str = ""  # the station's own contact number, read in the closing
    one_stop: str = ""  # its one-stop desk, e.g. "Bộ phận một cửa xã Hòa Phú"
    publish: str = "auto"  # auto: rendered is enough to air | approved: only approved bulletins air
    standing_file: Path | None = None  # the station's own standing messages, added to the province's
    target_minutes: float = 10.0
    feeds: list[str] = field(default_factory=list)  # empty: every feed
    slots: list[Slot] = field(default_factory=list)
    templates: Path | None = None
    lexicon: Path | None = None
    notices: list[NoticeConfig] = field(default_factory=list)
    notices_file: Path | None = None
    tts: TTSConfig = field(default_factory=TTSConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    selection: SelectionConfig = field(default_factory=SelectionConfig)
    deliver: list = field(default_factory=list)  # delivery targets (broadcast.publish.targets)


@dataclass
class PublishConfig:
    """Where published bulletins are served and how deliveries retry."""

    base_url: str = ""  # the URL where the public folder (audio_out/podcast) is served; empty: no podcast feed
    image: Path | None = None  # channel artwork (PNG/JPEG); None: a generated one
    author: str = ""  # empty: the station's name
    email: str = ""  # the feed owner's address (podcast directories ask for one)
    podcast_days: int | None = None  # days an episode stays in the feed; None: audio.retention_days
    retries: int = 3  # further attempts after a failed delivery
    retry_delay: float = 2.0  # seconds before the first retry; doubles each time


@dataclass
class Config:
    path: Path | None  # None only for configs built in code
    is_demo: bool
    data_dir: Path
    province: str
    feeds: list[FeedConfig]
    stations: list[StationConfig]
    tts: TTSConfig
    audio: AudioConfig
    selection: SelectionConfig
    lexicon: Path | None = None
    templates: Path | None = None
    standing_file: Path | None = None  # the province's standing messages; None: the bundled ones
    fetch_timeout: float = 15.0
    fetch_retries: int = 2
    fetch_max_bytes: int = 5_000_000
    fetch_workers: int = 4
    publish: PublishConfig = field(default_factory=PublishConfig)
    # Stations whose own [[stations]] table is wrong: id -> the error. They are left out of
    # `stations`, so one commune's typo fails that commune alone, not the province's night.
    broken: dict[str, str] = field(default_factory=dict)

    def station(self, station_id: str) -> StationConfig:
        for st in self.stations:
            if st.id == station_id:
                return st
        if station_id in self.broken:
            raise ConfigError(self.broken[station_id])
        known = ", ".join(s.id for s in self.stations)
        raise ConfigError(
            f"Không có đài '{station_id}' trong {self.path}. Các đài đã khai báo: {known}."
        )

    def feeds_for(self, station: StationConfig) -> list[FeedConfig]:
        if not station.feeds:
            return list(self.feeds)
        return [f for f in self.feeds if f.name in station.feeds]


# ---------------------------------------------------------------- parsing


class _Reader:
    """Typed access to one TOML table that names file and key in every error."""

    def __init__(self, table: dict[str, Any], where: str, path: Path | None) -> None:
        self.table = table
        self.where = where
        self.path = path
        self.used: set[str] = set()

    def _err(self, key: str, msg: str) -> ConfigError:
        return ConfigError(f"{self.path}: khóa '{self.where}{key}': {msg}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        self.used.add(key)
        if key not in self.table:
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            try:
                value = float(value)
            except OverflowError:
                raise self._err(key, "số quá lớn") from None
        if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float)):
            names = {str: "chuỗi", int: "số nguyên", float: "số", bool: "true/false",
                     list: "danh sách", dict: "bảng"}
            want = names.get(kind, str(kind)) if isinstance(kind, type) else "giá trị hợp lệ"
            raise self._err(key, f"cần {want}, đang ghi là {value!r}")
        return value

    def line(self, key: str, default: str = "") -> str:
        """A name people read or hear: one line, no control characters."""
        value = self.get(key, str, default)
        # A line break would write a line of its own into the playlist (#EXTINF:…,<name>) or the script,
        # and ESC codes would drive the operator's terminal.
        if without_controls(value) != value or "\n" in value or "\r" in value:
            raise self._err(key, f"cần một dòng chữ, không có ký tự xuống dòng hay ký tự điều khiển; nhận được "
                                 f"{value!r}")
        return value

    def path_value(self, key: str, base: Path) -> Path | None:
        raw = self.get(key, str)
        if not raw:
            return None
        if any(ord(c) < 32 for c in raw):
            # In a TOML "..." string '\b', '\t', '\n', '\f' are escapes: "D:\bantin" reads as D:<backspace>antin.
            raise self._err(key, f"đường dẫn có ký tự điều khiển ({raw!r}): {WINDOWS_PATH_HINT}")
        p = Path(os.path.expanduser(raw))
        return p if p.is_absolute() else (base / p)

    def number(self, key: str, default: float, lo: float, hi: float) -> float:
        v = self.get(key, float, default)
        if not lo <= v <= hi:
            raise self._err(key, f"phải nằm trong khoảng {decimal(lo)} đến {decimal(hi)}, đang ghi là {decimal(v)}")
        return v

    def integer(self, key: str, default: int, lo: int, hi: int) -> int:
        v = self.get(key, int, default)
        if not lo <= v <= hi:
            raise self._err(key, f"phải nằm trong khoảng {lo} đến {hi}, đang ghi là {v}")
        return v

    def check_unknown(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            raise self._err(unknown[0], "khóa không được hỗ trợ (gõ sai tên khóa?)")


WINDOWS_PATH_HINT = ("hãy viết đường dẫn Windows trong dấu nháy đơn, ví dụ 'E:\\BanTin', "
                     "hoặc dùng dấu '/', ví dụ \"E:/BanTin\"")


def _line_of(text: str, exc: tomllib.TOMLDecodeError) -> int | None:
    lineno = getattr(exc, "lineno", None)
    if lineno:
        return lineno
    m = re.search(r"line (\d+)", str(exc))
    return int(m.group(1)) if m else None


def read_toml(path: Path, what: str, hint: str = "") -> dict[str, Any]:
    """Parse a TOML file; every failure is a ConfigError naming the file (and line).

    `what` names the file for staff ("tệp cấu hình", "tệp từ khóa"); `hint`
    ends a syntax error with where to look.
    """
    raw = read_limited(path, what, MAX_SETTINGS_BYTES, ConfigError)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}, dòng {line}: {what} phải lưu bằng mã UTF-8.") from None
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ConfigError(f"{path}: {what} lồng bảng hoặc danh sách quá sâu; hãy viết phẳng hơn{hint}.") from None
    except tomllib.TOMLDecodeError as exc:
        line = _line_of(text, exc)
        where = f", dòng {line}" if line else ""
        msg = getattr(exc, "msg", None) or re.sub(r"\s*\(at line.*\)$", "", str(exc))
        bad_line = text.splitlines()[line - 1] if line and line <= len(text.splitlines()) else ""
        if "\\" in bad_line and '"' in bad_line:  # a Windows path typed in "...": '\B' is no TOML escape
            raise ConfigError(f"{path}{where}: lỗi cú pháp TOML ({msg}): {WINDOWS_PATH_HINT}.") from None
        raise ConfigError(f"{path}{where}: lỗi cú pháp TOML ({msg}){hint}.") from None
    except ValueError:  # an integer with thousands of digits
        raise ConfigError(f"{path}: {what} có số quá dài, không đọc được{hint}.") from None


def _parse_engine(r: _Reader, base: EngineSettings, root: Path) -> EngineSettings:
    c = dataclasses.replace(base)
    c.voice = r.get("voice", str, c.voice)
    c.key_env = r.get("key_env", str, c.key_env)
    if c.key_env and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", c.key_env):
        raise r._err("key_env", f"tên biến môi trường không hợp lệ: '{c.key_env}' (ví dụ FPT_API_KEY)")
    for key in ("model", "key_file", "lexicon"):
        if key in r.table:
            setattr(c, key, r.path_value(key, root))
    c.app_id = r.get("app_id", str, c.app_id)
    for key in ("url", "callback_url"):
        value = r.get(key, str, getattr(c, key))
        if value and not re.match(r"^https?://", value):
            raise r._err(key, f"cần địa chỉ bắt đầu bằng http:// hoặc https://, đang ghi là '{value}'")
        setattr(c, key, value)
    c.timeout = r.number("timeout", c.timeout, 1, 300)
    c.retries = r.integer("retries", c.retries, 0, 10)
    c.poll_timeout = r.number("poll_timeout", c.poll_timeout, 1, 3600)
    r.check_unknown()
    return c


def _parse_tts(r: _Reader, base: TTSConfig, root: Path) -> TTSConfig:
    c = dataclasses.replace(base)
    known = known_engines()
    c.engine = r.get("engine", str, c.engine)
    if c.engine != "auto" and c.engine not in known:
        raise r._err("engine", f"phải là auto hoặc một bộ đọc đã cài ({', '.join(known)}), "
                               f"đang ghi là '{c.engine}'")
    chain = r.get("chain", list, c.chain)
    for name in chain:
        if name not in known:
            raise r._err("chain", f"'{name}' không phải bộ đọc đã cài ({', '.join(known)})")
    c.chain = list(chain)
    c.engines = dict(c.engines)
    for name, table in r.table.items():
        if not isinstance(table, dict) or name == "syllables_per_minute":
            continue
        r.used.add(name)
        if name not in known:
            raise r._err(name, f"không có bộ đọc tên '{name}' (các bộ đọc đã cài: {', '.join(known)})")
        sub = _Reader(table, f"{r.where}{name}.", r.path)
        c.engines[name] = _parse_engine(sub, c.settings(name), root)
    c.speed = r.number("speed", c.speed, 0.8, 1.3)
    c.espeak_voice = r.get("espeak_voice", str, c.espeak_voice)
    if c.espeak_voice not in ("vi", "vi-vn-x-central", "vi-vn-x-south"):
        raise r._err("espeak_voice", "phải là vi, vi-vn-x-central hoặc vi-vn-x-south")
    c.espeak_rate = r.integer("espeak_rate", c.espeak_rate, 80, 300)
    c.gtts_tld = r.get("gtts_tld", str, c.gtts_tld)
    c.gtts_timeout = r.number("gtts_timeout", c.gtts_timeout, 0.1, 120)
    c.gtts_probe_timeout = r.number("gtts_probe_timeout", c.gtts_probe_timeout, 0.1, 60)
    c.gtts_retries = r.integer("gtts_retries", c.gtts_retries, 0, 10)
    c.gtts_concurrency = r.integer("gtts_concurrency", c.gtts_concurrency, 1, 32)
    c.gtts_request_budget = r.integer("gtts_request_budget", c.gtts_request_budget, 1, 1_000_000)
    c.speech_budget_chars = r.integer("speech_budget_chars", c.speech_budget_chars, 1_000, 100_000_000)
    command = r.get("command", list, c.command)
    if not all(isinstance(a, str) for a in command):
        raise r._err("command", "phải là danh sách chuỗi, ví dụ [\"piper\", \"--model\", \"vi.onnx\"]")
    c.command = list(command)
    c.command_voice = r.get("command_voice", str, c.command_voice)
    c.command_timeout = r.number("command_timeout", c.command_timeout, 1, 3600)
    spm = r.get("syllables_per_minute", dict, None)
    if spm is not None:
        merged = dict(c.syllables_per_minute)
        for k, v in spm.items():
            if not isinstance(v, (int, float)) or not 60 <= v <= 400:
                raise r._err("syllables_per_minute", f"giá trị cho '{k}' phải từ 60 đến 400")
            merged[k] = float(v)
        c.syllables_per_minute = merged
    if "command" in c.resolved_chain() and not c.command:
        raise r._err("command", "cần khai báo lệnh khi dùng bộ đọc 'command'")
    r.check_unknown()
    return c


def _parse_audio(r: _Reader, base: AudioConfig, root: Path) -> AudioConfig:
    c = dataclasses.replace(base)
    c.jingles = r.get("jingles", bool, c.jingles)
    for key in ("jingle", "outro", "sting", "bed"):
        if key in r.table:
            setattr(c, key, r.path_value(key, root))
    c.bed_enabled = r.get("bed_enabled", bool, c.bed_enabled)
    c.bed_duck_db = r.number("bed_duck_db", c.bed_duck_db, 0, 40)
    c.bed_level_db = r.number("bed_level_db", c.bed_level_db, -60, 0)
    c.pause_ms = r.integer("pause_ms", c.pause_ms, 0, 10_000)
    c.item_pause_ms = r.integer("item_pause_ms", c.item_pause_ms, 0, 10_000)
    c.loudness = r.number("loudness", c.loudness, -36, -6)
    c.true_peak = r.number("true_peak", c.true_peak, -9, 0)
    c.highpass_hz = r.number("highpass_hz", c.highpass_hz, 0, 1000)
    c.compress = r.get("compress", bool, c.compress)
    c.bitrate = r.get("bitrate", str, c.bitrate)
    if not re.fullmatch(r"(32|40|48|56|64|80|96|112|128|160|192|224|256|320)k", c.bitrate):
        raise r._err("bitrate", f"tốc độ bit MP3 không hợp lệ: '{c.bitrate}' (ví dụ \"128k\")")
    c.sample_rate = r.get("sample_rate", int, c.sample_rate)
    if c.sample_rate not in (22050, 24000, 32000, 44100, 48000):
        raise r._err("sample_rate", "phải là 22050, 24000, 32000, 44100 hoặc 48000")
    c.wav = r.get("wav", bool, c.wav)
    c.retention_days = r.integer("retention_days", c.retention_days, 0, 3650)
    r.check_unknown()
    return c


def _parse_selection(r: _Reader, base: SelectionConfig, root: Path) -> SelectionConfig:
    c = dataclasses.replace(base)
    c.max_items = r.integer("max_items", c.max_items, 0, 50)
    c.fresh_hours = r.number("fresh_hours", c.fresh_hours, 1, 24 * 60)
    if "min_score" in r.table:
        c.min_score = r.number("min_score", 0.0, 0, 1000)
    c.per_source_max = r.integer("per_source_max", c.per_source_max, 1, 50)
    c.item_chars = r.integer("item_chars", c.item_chars, 100, 5000)
    if "topics_file" in r.table:
        c.topics_file = r.path_value("topics_file", root)
    r.check_unknown()
    return c


NOTICE_PRIORITIES = ("normal", "priority", "emergency")


def parse_notice(raw: Any, r: _Reader, key: str) -> NoticeConfig:
    """A notice: a plain string, or a table with text, priority, valid_from, valid_to."""
    if isinstance(raw, str):
        return NoticeConfig(text=raw.strip())
    if not isinstance(raw, dict):
        raise r._err(key, "cần chuỗi, hoặc bảng có text, priority, valid_from, valid_to")
    nr = _Reader(raw, f"{r.where}{key}.", r.path)
    text = nr.get("text", str, "").strip()
    priority = nr.get("priority", str, "normal")
    if priority not in NOTICE_PRIORITIES:
        raise nr._err("priority", "phải là normal (thường), priority (ưu tiên) hoặc emergency (khẩn cấp)")
    dates = []
    for name in ("valid_from", "valid_to"):
        value = nr.get(name, (dt.date, str), None)
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                raise nr._err(name, f"cần ngày dạng YYYY-MM-DD, đang ghi là '{value}'") from None
        if isinstance(value, dt.datetime):
            value = value.date()
        dates.append(value)
    if dates[0] and dates[1] and dates[1] < dates[0]:
        raise nr._err("valid_to", "ngày kết thúc trước ngày bắt đầu")
    nr.check_unknown()
    return NoticeConfig(text=text, priority=priority, valid_from=dates[0], valid_to=dates[1])


def _feed_location(fr: _Reader, root: Path) -> str:
    """An http(s) address as written, or a file path (a file:// URL becomes its path) made absolute."""
    url = fr.get("url", str)
    if not url:
        raise fr._err("url", "thiếu địa chỉ nguồn tin (http(s):// hoặc đường dẫn tệp)")
    if re.match(r"^https?://", url, re.I):
        return url
    if url.lower().startswith("file://"):
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise fr._err("url", f"tệp trên máy khác ({parts.netloc}) không đọc được; hãy ghi đường dẫn tệp trên máy này")
        # On Windows url2pathname makes file:///C:/tin/x.xml C:\tin\x.xml; it unquotes everywhere.
        return str(Path(url2pathname(parts.path)))
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url):
        raise fr._err("url", f"chỉ dùng được địa chỉ http://, https:// hoặc đường dẫn tệp, đang ghi là '{url}'")
    return str(fr.path_value("url", root))


def _parse_feed(fr: _Reader, root: Path) -> FeedConfig:
    name = fr.line("name")
    if not name:
        raise fr._err("name", "thiếu tên nguồn tin")
    kind = fr.get("kind", str, "rss")
    if kind not in FEED_KINDS:
        raise fr._err("kind", f"phải là một trong {', '.join(FEED_KINDS)}, đang ghi là '{kind}'")
    selectors: dict[str, str] = {}
    if kind == "local":
        folder = fr.path_value("path", root)
        if folder is None:
            raise fr._err("path", "nguồn tin địa phương cần thư mục chứa các tệp tin, ví dụ path = \"tin-dia-phuong\"")
        url = str(folder)
    else:
        url = _feed_location(fr, root)
    if kind == "html":
        selectors = _parse_selectors(fr)
    feed = FeedConfig(name=name, url=url, source=fr.line("source"),
                      weight=fr.number("weight", LOCAL_WEIGHT if kind == "local" else 1.0, 0.0, 10.0),
                      kind=kind, selectors=selectors)
    fr.check_unknown()
    return feed


def _parse_selectors(fr: _Reader) -> dict[str, str]:
    import soupsieve

    sr = _sub(fr, "selectors", f"{fr.where}selectors.")
    out: dict[str, str] = {}
    for key in SELECTOR_KEYS:
        value = sr.get(key, str, "").strip()
        if not value:
            continue
        try:
            soupsieve.compile(value)
        except soupsieve.SelectorSyntaxError as exc:
            reason = str(exc).splitlines()[0]
            raise sr._err(key, f"bộ chọn CSS \"{value}\" sai cú pháp ({reason})") from None
        out[key] = value
    for key in ("item", "title"):
        if key not in out:
            raise sr._err(key, "trang tin (kind = \"html\") cần bộ chọn CSS cho item và title, "
                               "ví dụ selectors = { item = \".news-item\", title = \"h3 a\", date = \".date\" }")
    sr.check_unknown()
    return out


def _sub(r: _Reader, key: str, where: str) -> _Reader:
    table = r.get(key, dict, {})
    return _Reader(table, where, r.path)


def bulletin_bases(station: StationConfig) -> list[str]:
    """The file stems of a station's daily bulletins: its id, or '<id>-<slot>' for each slot."""
    return [f"{station.id}-{s.name}" for s in station.slots] or [station.id]


def parse_config(data: dict[str, Any], path: Path | None, is_demo: bool = False,
                 data_dir: Path | None = None, *, cwd: Path | None = None) -> Config:
    """Validate a parsed TOML document into a Config.

    Relative paths count from the file's folder; a document without a file,
    and the bundled demo's data, count from `cwd` (the caller's working folder).
    """
    if (path is None or is_demo) and cwd is None:
        raise ValueError("parse_config needs cwd for a document without a file or for the demo")
    root = path.parent if path else cwd
    assert root is not None
    top = _Reader(data, "", path)
    general = _sub(top, "general", "general.")
    dd = general.path_value("data_dir", cwd if is_demo and cwd else root)
    province = general.line("province", "Đắk Lắk")
    lexicon = general.path_value("lexicon", root)
    templates = general.path_value("templates", root)
    standing_file = general.path_value("standing_file", root)
    fetch_timeout = general.number("fetch_timeout", 15.0, 0.5, 300)
    fetch_retries = general.integer("fetch_retries", 2, 0, 10)
    fetch_max_bytes = general.integer("fetch_max_bytes", 5_000_000, 10_000, 200_000_000)
    fetch_workers = general.integer("fetch_workers", 4, 1, 32)
    general.check_unknown()

    tts = _parse_tts(_sub(top, "tts", "tts."), TTSConfig(), root)
    audio = _parse_audio(_sub(top, "audio", "audio."), AudioConfig(), root)
    selection = _parse_selection(_sub(top, "selection", "selection."), SelectionConfig(), root)

    feeds: list[FeedConfig] = []
    for i, raw in enumerate(top.get("feeds", list, [])):
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: khóa 'feeds[{i}]': cần bảng [[feeds]]")
        feed = _parse_feed(_Reader(raw, f"feeds[{i}].", path), root)
        if any(f.name == feed.name for f in feeds):
            raise ConfigError(f"{path}: khóa 'feeds[{i}].name': tên nguồn tin '{feed.name}' bị trùng")
        feeds.append(feed)

    stations: list[StationConfig] = []
    broken: dict[str, str] = {}
    raw_stations = top.get("stations", list, [])
    if not raw_stations:
        raise ConfigError(f"{path}: khóa 'stations': cần ít nhất một đài [[stations]] có id và name")
    for i, raw in enumerate(raw_stations):
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: khóa 'stations[{i}]': cần bảng [[stations]]")
        sr = _Reader(raw, f"stations[{i}].", path)
        sid = sr.get("id", str)
        if not sid or not STATION_ID.fullmatch(sid):
            raise sr._err("id", "cần mã đài gồm chữ thường không dấu, số, '-' hoặc '_' (ví dụ \"hoa-phu\")")
        if windows_device(sid):  # its files would be 'con.txt', 'con.mp3': a device, not a file, on Windows
            raise sr._err("id", f"mã đài '{sid}' trùng tên thiết bị dành riêng của Windows; hãy đặt tên khác "
                                f"(ví dụ \"xa-{sid}\")")
        if any(s.id == sid for s in stations) or sid in broken:
            raise sr._err("id", f"mã đài '{sid}' bị trùng")
        try:
            stations.append(_parse_station(sr, i, sid, stations, feeds, tts, audio, selection, province,
                                           templates, lexicon, root))
        except ConfigError as exc:
            broken[sid] = str(exc)
    if not stations:
        raise ConfigError(next(iter(broken.values())))

    publish = _parse_publish(_sub(top, "publish", "publish."), root)
    top.check_unknown()
    return Config(
        path=path, is_demo=is_demo,
        data_dir=data_dir or dd or ((cwd or root) / "data" if is_demo else root / "data"),
        province=province, feeds=feeds, stations=stations, tts=tts, audio=audio,
        selection=selection, lexicon=lexicon, templates=templates, standing_file=standing_file,
        fetch_timeout=fetch_timeout, fetch_retries=fetch_retries,
        fetch_max_bytes=fetch_max_bytes, fetch_workers=fetch_workers, publish=publish, broken=broken,
    )


def _parse_station(sr: _Reader, i: int, sid: str, stations: list[StationConfig], feeds: list[FeedConfig],
                   tts: TTSConfig, audio: AudioConfig, selection: SelectionConfig, province: str,
                   templates: Path | None, lexicon: Path | None, root: Path) -> StationConfig:
    """One [[stations]] table whose id is known good; a ConfigError names its key."""
    name = sr.line("name")
    if not name:
        raise sr._err("name", "thiếu tên đài")
    st = StationConfig(id=sid, name=name)
    st.commune = sr.line("commune")
    st.province = sr.line("province", province)
    st.target_minutes = sr.number("target_minutes", 10.0, 1, 120)
    st.feeds = list(sr.get("feeds", list, []))
    for fname in st.feeds:
        if not any(f.name == fname for f in feeds):
            raise sr._err("feeds", f"không có nguồn tin tên '{fname}'")
    for j, slot in enumerate(sr.get("slots", list, [])):
        if isinstance(slot, str):
            slot = {"time": slot}
        if not isinstance(slot, dict) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", str(slot.get("time", ""))):
            raise sr._err("slots", f"buổi phát thứ {j + 1} cần giờ dạng \"06:00\"")
        sname = str(slot.get("name") or slot["time"].replace(":", "h"))
        if not re.fullmatch(r"[a-z0-9_-]+", sname):
            raise sr._err("slots", f"tên buổi phát '{sname}' chỉ gồm chữ thường không dấu, số, '-'")
        if any(s.name == sname for s in st.slots):
            raise sr._err("slots", f"tên buổi phát '{sname}' bị trùng")
        st.slots.append(Slot(name=sname, time=slot["time"]))
    st.templates = sr.path_value("templates", root) or templates
    st.lexicon = sr.path_value("lexicon", root) or lexicon
    st.phone = sr.line("phone")
    st.one_stop = sr.line("one_stop")
    st.publish = sr.get("publish", str, "auto")
    if st.publish not in ("auto", "approved"):
        raise sr._err("publish", f"phải là \"auto\" hoặc \"approved\", đang ghi là '{st.publish}'")
    st.standing_file = sr.path_value("standing_file", root)
    st.notices = [parse_notice(n, sr, f"notices[{j}]") for j, n in enumerate(sr.get("notices", list, []))]
    st.notices = [n for n in st.notices if n.text]
    st.notices_file = sr.path_value("notices_file", root)
    st.tts = _parse_tts(_sub(sr, "tts", f"stations[{i}].tts."), tts, root)
    st.audio = _parse_audio(_sub(sr, "audio", f"stations[{i}].audio."), audio, root)
    st.selection = _parse_selection(_sub(sr, "selection", f"stations[{i}].selection."), selection, root)
    st.deliver = _parse_deliver(sr, f"stations[{i}].", root)
    sr.check_unknown()
    # Every bulletin's files are named <id> or <id>-<slot>: two bulletins
    # with one name would overwrite each other's script and audio.
    for base in bulletin_bases(st):
        other = next((o for o in stations if base in bulletin_bases(o)), None)
        if other is not None:
            raise sr._err("slots" if st.slots else "id", f"bản tin '{base}' trùng tên tệp với một bản tin của "
                          f"đài '{other.id}': hãy đổi mã đài hoặc tên buổi phát")
    return st


def _parse_publish(r: _Reader, root: Path) -> PublishConfig:
    c = PublishConfig()
    c.base_url = r.get("base_url", str, "").strip()
    if c.base_url:
        if not re.fullmatch(r"https?://[^/\s]+(/\S*)?", c.base_url):
            raise r._err("base_url", "cần địa chỉ đầy đủ bắt đầu bằng http:// hoặc https://, "
                                     f"ví dụ \"https://truyenthanh.example.gov.vn/bantin/\", đang ghi là '{c.base_url}'")
        c.base_url = c.base_url.rstrip("/") + "/"
    c.image = r.path_value("image", root)
    if c.image is not None and c.image.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise r._err("image", "ảnh của podcast phải là tệp .png hoặc .jpg")
    c.author = r.get("author", str, "")
    c.email = r.get("email", str, "")
    if "podcast_days" in r.table:
        c.podcast_days = r.integer("podcast_days", 30, 1, 3650)
    c.retries = r.integer("retries", c.retries, 0, 20)
    c.retry_delay = r.number("retry_delay", c.retry_delay, 0, 600)
    r.check_unknown()
    return c


def _parse_deliver(sr: _Reader, where: str, root: Path) -> list:
    """The station's [[stations.deliver]] tables, each checked by the target kind it names."""
    from broadcast.publish.targets import parse_target

    raw = sr.get("deliver", list, [])
    targets = []
    for j, table in enumerate(raw):
        if not isinstance(table, dict):
            raise sr._err(f"deliver[{j}]", "cần bảng [[stations.deliver]] có kind")
        targets.append(parse_target(_Reader(table, f"{where}deliver[{j}].", sr.path), root))
    return targets


def load_config(path: str | os.PathLike[str] | None = None, data_dir: Path | None = None, *,
                cwd: Path | None = None) -> Config:
    """Load `path`, else broadcast.toml in `cwd`, else the bundled demo configuration (data in `cwd`)."""
    is_demo = False
    if path is None:
        if cwd is None:
            raise ValueError("load_config needs a path or the caller's working folder (cwd)")
        local = cwd / "broadcast.toml"
        if local.exists():
            path = local
        else:
            path, is_demo = demo_config_path(), True
    p = Path(path).expanduser()
    if not p.exists():
        raise ConfigError(f"Không tìm thấy tệp cấu hình {p}: hãy kiểm tra đường dẫn --config.")
    data = read_toml(p, "tệp cấu hình")
    return parse_config(data, p.resolve(), is_demo=is_demo, data_dir=data_dir, cwd=cwd)
