"""Deliver into a folder: a loudspeaker platform's watch folder, a shared drive, a USB stick."""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from broadcast.fsutil import held_open, held_open_error, replace_file
from broadcast.vitext import os_reason
from broadcast.publish.targets import DeliveryError, Target, Upload, check_pattern, register

if TYPE_CHECKING:  # pragma: no cover
    from broadcast.config import _Reader


@register("folder")
class FolderTarget(Target):
    """Copy atomically: the watcher sees the finished file appear under its final name, never a partial one."""

    def __init__(self, path: Path, pattern: str) -> None:
        super().__init__(pattern)
        self.path = path

    @property
    def label(self) -> str:
        return f"thư mục {self.path}"

    @classmethod
    def from_config(cls, r: "_Reader", root: Path) -> "FolderTarget":
        path = r.path_value("path", root)
        if path is None:
            raise r._err("path", "cần thư mục nhận tệp, ví dụ \"giao/hoa-phu\"")
        return cls(path, check_pattern(r))

    def unavailable_reason(self) -> str | None:
        if self.path.exists() and not self.path.is_dir():
            return f"{self.path} là một tệp, không phải thư mục"
        if self.path.is_dir() and not os.access(self.path, os.W_OK):
            return f"không có quyền ghi vào {self.path}"
        return None

    def send(self, upload: Upload, name: str) -> str:
        final = self.path / name
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            # A hidden name with a suffix watchers ignore until the rename.
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=self.path)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(upload.data)
                    fh.flush()
                    os.fsync(fh.fileno())
                with open(tmp, "rb") as fh:
                    if hashlib.sha256(fh.read()).hexdigest() != upload.checksum:
                        raise DeliveryError(f"Tệp chép vào {self.path} khác tệp gốc (đĩa lỗi?).")
                os.chmod(tmp, 0o644)
                replace_file(Path(tmp), final)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            if held_open(exc):  # a player on the amplifier PC has it open: it may close before the next try
                raise DeliveryError(str(held_open_error(final)), retry=True) from None
            retry = exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR)
            raise DeliveryError(f"Không chép được vào thư mục {self.path}: {os_reason(exc)}.",
                                retry=retry) from None
        return str(final)
