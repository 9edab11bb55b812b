"""Standing messages and local notices: what a bulletin reads besides the news, and on which dates.

Standing messages come from the plan (the year's theme, the hotline, online
public services…). The province keeps them in one file; a station can add
its own. Each may carry validity dates, so a 2025 theme is not read in 2026.

Local notices come from the configuration, a station's notices file and the
store (written at the desk or with `broadcast notice`); each has a priority
(normal, priority, emergency: the three levels of commune IP radio) and
validity dates, and is read on its dates, highest priority first.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from broadcast.config import NOTICE_PRIORITIES, StationConfig
from broadcast.errors import BroadcastError, ConfigError
from broadcast.fsutil import read_staff_text

STANDING_TOML = "thong-diep.toml"
STANDING_TXT = "thong-diep.txt"
PRIORITY_ORDER = {"emergency": 0, "priority": 1, "normal": 2}


@dataclass
class StandingMessage:
    text: str
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    def valid_on(self, date: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= date) and (
            self.valid_to is None or date <= self.valid_to)


@dataclass
class Notice:
    """One local notice as read in a bulletin."""

    text: str
    priority: str = "normal"
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    origin: str = "config"  # config | file | store
    id: int | None = None  # for notices in the store

    def valid_on(self, date: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= date) and (
            self.valid_to is None or date <= self.valid_to)


def bundled_standing_file() -> Path:
    """The province messages shipped with the package (from the Dak Lak 2025 plan)."""
    from broadcast.script import bundled_templates

    return bundled_templates() / STANDING_TOML


def _date(value: Any, path: Path, n: int, key: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{path}: thông điệp thứ {n}, khóa '{key}': cần ngày dạng YYYY-MM-DD.")


def read_standing_file(path: Path) -> list[StandingMessage]:
    """Read a standing-messages file: TOML ([[messages]] text, valid_from, valid_to) or plain text.

    Plain text: messages separated by a line of three dashes, '#' lines are
    notes; such messages have no dates.
    """
    if path.suffix.lower() == ".toml":
        from broadcast.config import read_toml

        data = read_toml(path, "tệp thông điệp")
        out = []
        raw = data.get("messages", [])
        if not isinstance(raw, list):
            raise ConfigError(f"{path}: cần các bảng [[messages]] có text.")
        for n, m in enumerate(raw, 1):
            if not isinstance(m, dict) or not isinstance(m.get("text"), str):
                raise ConfigError(f"{path}: thông điệp thứ {n} cần khóa text là một chuỗi.")
            unknown = set(m) - {"text", "valid_from", "valid_to"}
            if unknown:
                raise ConfigError(f"{path}: thông điệp thứ {n}: khóa '{sorted(unknown)[0]}' không được hỗ trợ.")
            text = " ".join(m["text"].split())
            if text:
                out.append(StandingMessage(text, _date(m.get("valid_from"), path, n, "valid_from"),
                                           _date(m.get("valid_to"), path, n, "valid_to")))
        return out
    text = read_staff_text(path, "tệp thông điệp")
    body = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
    return [StandingMessage(m.strip()) for m in re.split(r"^\s*---\s*$", body, flags=re.M) if m.strip()]


def standing_messages(province_file: Path | None, station: StationConfig | None = None) -> list[StandingMessage]:
    """The province's messages (its file, else a thong-diep file in the templates folder, else bundled),
    then the station's own."""
    sources: list[Path] = []
    if province_file is not None:
        sources.append(province_file)
    else:
        folder = station.templates if station else None
        found = None
        if folder is not None:
            for name in (STANDING_TOML, STANDING_TXT):
                if (folder / name).exists():  # a FIFO or device here is named, not skipped
                    found = folder / name
                    break
        sources.append(found or bundled_standing_file())
    if station is not None and station.standing_file is not None:
        sources.append(station.standing_file)
    out: list[StandingMessage] = []
    for path in sources:
        if not path.exists():  # anything else that is not a regular file is refused when read
            raise BroadcastError(f"Không thấy tệp thông điệp {path}: hãy kiểm tra đường dẫn standing_file.")
        out += read_standing_file(path)
    return out


def standing_for(date: dt.date, messages: list[StandingMessage]) -> str:
    """The message of the day: rotate through those valid on the date."""
    valid = [m for m in messages if m.valid_on(date)]
    if not valid:
        return ""
    return valid[date.toordinal() % len(valid)].text


def _file_notices(path: Path, station_id: str) -> list[Notice]:
    if not path.exists():  # anything else that is not a regular file is refused when read
        raise BroadcastError(
            f"Không thấy tệp thông báo {path} (khóa notices_file của đài {station_id}): "
            "hãy tạo tệp hoặc bỏ khóa này.")
    if path.suffix.lower() == ".toml":
        from broadcast.config import _Reader, parse_notice, read_toml

        data = read_toml(path, "tệp thông báo")
        reader = _Reader(data, "", path)
        raw = reader.get("notices", list, [])
        reader.check_unknown()
        out = []
        for j, n in enumerate(raw):
            nc = parse_notice(n, reader, f"notices[{j}]")
            if nc.text:
                out.append(Notice(nc.text, nc.priority, nc.valid_from, nc.valid_to, origin="file"))
        return out
    text = read_staff_text(path, "tệp thông báo")
    body = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
    return [Notice(" ".join(n.split()), origin="file") for n in re.split(r"\n\s*\n", body) if n.strip()]


def notices_for(station: StationConfig, date: dt.date, stored: list[dict[str, Any]] | None = None) -> list[Notice]:
    """The notices a station reads on a date: config, notices file, then stored; highest priority first."""
    found = [Notice(n.text, n.priority, n.valid_from, n.valid_to, origin="config") for n in station.notices]
    if station.notices_file:
        found += _file_notices(station.notices_file, station.id)
    for row in stored or []:
        found.append(Notice(row["text"], row["priority"], row["valid_from"], row["valid_to"],
                            origin="store", id=row["id"]))
    valid = [n for n in found if n.valid_on(date)]
    # Stable: within a priority, the order they were written in.
    return sorted(valid, key=lambda n: PRIORITY_ORDER.get(n.priority, 2))


def check_priority(priority: str) -> str:
    """Validate a priority name given by staff."""
    if priority not in NOTICE_PRIORITIES:
        raise BroadcastError("Mức ưu tiên phải là normal (thường), priority (ưu tiên) hoặc emergency (khẩn cấp).")
    return priority
