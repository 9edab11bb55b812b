"""Delivery targets: one small interface, one registry, and what every target shares.

A target receives one published bulletin (its bytes, already checked and
hashed) and puts it where the loudspeaker platform or transmitter PC takes
it. Built-in kinds register themselves exactly as another package would
(`register("kind")` on a `Target` subclass, or an entry point in the group
`broadcast.targets`), and the configuration accepts whatever is registered.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import os
import re
import string
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from broadcast.errors import BroadcastError
from broadcast.fsutil import read_limited, windows_name_problem

if TYPE_CHECKING:  # pragma: no cover
    from broadcast.config import _Reader

log = logging.getLogger(__name__)

DEFAULT_PATTERN = "{station}_{date}_{slot}.mp3"
PATTERN_FIELDS = ("station", "date", "yyyymmdd", "slot", "time", "base", "kind")
BUILTIN = ("broadcast.publish.folder", "broadcast.publish.sftp", "broadcast.publish.http")
ENTRY_POINT_GROUP = "broadcast.targets"
SECRET_MAX_BYTES = 64 * 1024  # a token or password, never a file this size


class DeliveryError(BroadcastError):
    """A delivery attempt failed; `retry` says whether trying again may help."""

    def __init__(self, message: str, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class Upload:
    """One bulletin version to deliver: the exact bytes that were checked, and how to name them."""

    station: str
    date: dt.date
    slot: str  # slot name, a notice's name, or ''
    slot_time: str  # '06:00' for a slot, '' otherwise
    kind: str  # bulletin | notice
    title: str
    base: str  # the bulletin's file stem in the output folder
    data: bytes
    checksum: str  # sha256 of data
    version: str

    @property
    def size(self) -> int:
        return len(self.data)

    def fields(self) -> dict[str, str]:
        """Values a naming pattern may use."""
        return {"station": self.station, "date": self.date.isoformat(), "yyyymmdd": self.date.strftime("%Y%m%d"),
                "slot": self.slot, "time": self.slot_time.replace(":", ""), "base": self.base, "kind": self.kind}


def file_name(pattern: str, upload: Upload) -> str:
    """The delivered file's name: the pattern filled in, separators left by empty fields dropped."""
    name = pattern.format(**upload.fields())
    # '{station}_{date}_{slot}.mp3' with no slot gives 'hoa-phu_2026-03-12.mp3', not '..._.mp3'.
    name = re.sub(r"[_-]+(?=[._-])", "", name).lstrip("_-.")
    problem = windows_name_problem(name)
    if problem:
        raise DeliveryError(f"Tên tệp giao '{name}' {problem}: hãy sửa khóa pattern của nơi nhận.", retry=False)
    return name


def check_pattern(r: "_Reader", key: str = "pattern") -> str:
    """Read a naming pattern and refuse one that names unknown fields or leaves the target's folder."""
    pattern = r.get(key, str, DEFAULT_PATTERN)
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None}
    except ValueError as exc:
        raise r._err(key, f"mẫu tên tệp sai cú pháp ({exc})") from None
    unknown = sorted(fields - set(PATTERN_FIELDS))
    if unknown or "" in fields:
        raise r._err(key, f"mẫu tên tệp chỉ dùng được {{{'}, {'.join(PATTERN_FIELDS)}}}, "
                          f"không có {{{unknown[0] if unknown else ''}}}")
    if "/" in pattern or "\\" in pattern or ".." in pattern:
        raise r._err(key, "mẫu tên tệp chỉ là tên tệp, không chứa '/', '\\' hay '..'")
    # The pattern's own text, fields filled with a plain stand-in: a USB stick or a Windows PC must take it.
    problem = windows_name_problem(re.sub(r"\{[^{}]*\}", "x", pattern))
    if problem:
        raise r._err(key, f"mẫu tên tệp {problem}")
    return pattern


class Target:
    """Where a station's bulletins go. Subclasses set `kind` and implement `from_config` and `send`."""

    kind: ClassVar[str] = ""

    def __init__(self, pattern: str = DEFAULT_PATTERN) -> None:
        self.pattern = pattern

    @property
    def label(self) -> str:
        """Where, in one line an operator recognises, with no secret in it."""
        raise NotImplementedError

    @classmethod
    def from_config(cls, r: "_Reader", root: Path) -> "Target":
        """Read and check the target's own keys (relative paths against `root`)."""
        raise NotImplementedError

    def unavailable_reason(self) -> str | None:
        """Why this target cannot be tried at all (a missing library or key file), or None."""
        return None

    def secrets(self) -> list[str]:
        """Values that must never appear in a message or the log."""
        return []

    def send(self, upload: Upload, name: str) -> str:
        """Deliver once; return where it went. Raise DeliveryError on failure."""
        raise NotImplementedError


_REGISTRY: dict[str, type[Target]] = {}
_loaded = False


def register(kind: str) -> Callable[[type[Target]], type[Target]]:
    """Make a target kind available to the configuration under `kind`."""
    def add(cls: type[Target]) -> type[Target]:
        cls.kind = kind
        _REGISTRY[kind] = cls
        return cls
    return add


def registry() -> dict[str, type[Target]]:
    """Every registered target kind: the built-in ones and those other packages declare."""
    global _loaded
    if not _loaded:
        _loaded = True
        for module in BUILTIN:
            importlib.import_module(module)
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                ep.load()
            except Exception as exc:  # a broken plugin must not stop the built-in targets
                log.warning("delivery target plugin %s could not be loaded: %s", ep.name, exc)
    return dict(_REGISTRY)


def parse_target(r: "_Reader", root: Path) -> Target:
    """One [[stations.deliver]] table as the target its `kind` names."""
    kinds = registry()
    kind = r.get("kind", str, "")
    if kind not in kinds:
        raise r._err("kind", f"phải là một trong {', '.join(sorted(kinds))}, đang ghi là '{kind}'")
    target = kinds[kind].from_config(r, root)
    r.check_unknown()
    return target


def secret_from(r: "_Reader", file_key: str, env_key: str, root: Path) -> tuple[Path | None, str | None]:
    """(file path, environment variable name) of a secret; its value is read only when delivering."""
    path = r.path_value(file_key, root)
    env = r.get(env_key, str, "") or None
    if path is not None and env is not None:
        raise r._err(env_key, f"chỉ khai báo một trong {file_key} hoặc {env_key}")
    return path, env


def read_secret(path: Path | None, env: str | None, what: str) -> str | None:
    """A secret's value from its file or environment variable; a clear error when it is not there."""
    if env is not None:
        value = os.environ.get(env)
        if not value:
            raise DeliveryError(f"Chưa đặt biến môi trường {env} ({what}): hãy đặt biến này cho tài khoản "
                                "chạy chương trình.", retry=False)
        return value
    if path is not None:
        # A regular file of a few KB: a pipe or device named by mistake must not hang the nightly run.
        try:
            raw = read_limited(path, what, SECRET_MAX_BYTES)
        except BroadcastError as exc:
            raise DeliveryError(str(exc), retry=False) from None
        try:
            return raw.decode("utf-8-sig").strip()
        except UnicodeDecodeError:
            raise DeliveryError(f"{what.capitalize()} {path} không phải chữ mã UTF-8: hãy lưu lại tệp.",
                                retry=False) from None
    return None


def missing_secret(path: Path | None, env: str | None, what: str) -> str | None:
    """Why a configured secret cannot be read now (without reading it into anything), or None."""
    if env is not None and not os.environ.get(env):
        return f"chưa đặt biến môi trường {env} ({what})"
    if path is not None and not path.is_file():
        return f"không thấy tệp {path} ({what})"
    return None


def redact(message: str, secrets: list[str]) -> str:
    """The message with every secret replaced by '***'."""
    for s in secrets:
        if s and len(s) >= 3:
            message = message.replace(s, "***")
    return message


def options_dict(r: "_Reader", key: str) -> dict[str, Any]:
    """A table of string values (headers, form fields)."""
    table = r.get(key, dict, {})
    for k, v in table.items():
        if not isinstance(v, str):
            raise r._err(key, f"giá trị của '{k}' phải là chuỗi")
    return dict(table)
