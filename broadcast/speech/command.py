"""Speech from any local program, e.g. Piper with a Vietnamese voice the station downloaded.

The command is an argument list with placeholders: `{input}` (a UTF-8 text
file holding the text; when absent the text goes to standard input),
`{output}` (the audio file the program must write; when absent its standard
output is taken as the audio) and `{voice}` (the station's voice setting).
It runs without a shell, with a timeout that ends the program and every helper it started.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from broadcast.config import TTSConfig
from broadcast.speech.base import EngineFailure, register_engine
from broadcast.speech.pcm import to_mono16_wav
from broadcast.vitext import decimal

log = logging.getLogger(__name__)

STDERR_TAIL = 300


def _stderr_tail(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    text = " ".join(text.split())
    return text[-STDERR_TAIL:]


class CommandEngine:
    """A station's own speech program, run as an argument list."""

    name = "command"
    parallelism = 1  # local models are heavy: one at a time

    def __init__(self, tts: TTSConfig) -> None:
        self.argv = list(tts.command)
        self.timeout = tts.command_timeout
        # A dedicated key may come later; the station's regional voice is the best default.
        self.voice = tts.settings(self.name).voice or tts.command_voice or tts.espeak_voice

    @property
    def program(self) -> str:
        """The program name as configured."""
        return self.argv[0] if self.argv else ""

    def _resolve(self) -> str | None:
        prog = self.program
        if os.sep in prog or (os.altsep and os.altsep in prog):
            return prog if os.path.isfile(prog) else None
        return shutil.which(prog)

    def unavailable_reason(self) -> str | None:
        """Return why the program cannot run (not configured, not installed), or None."""
        if not self.argv:
            return "chưa khai báo lệnh đọc (khóa tts.command)"
        if self._resolve() is None:
            return f"không tìm thấy chương trình '{self.program}': hãy cài đặt hoặc sửa khóa tts.command"
        if not os.access(self._resolve() or "", os.X_OK):
            return f"chương trình '{self.program}' không có quyền chạy (chmod +x)"
        return None

    def cache_params(self) -> dict:
        """The full command line and voice: a different program or model sounds different."""
        return {"command": self.argv, "voice": self.voice}

    def synthesize(self, text: str, out_wav: Path) -> None:
        """Run the program on `text` and convert what it wrote to a mono 16-bit WAV."""
        reason = self.unavailable_reason()
        if reason:
            raise EngineFailure(reason)
        # Windows cannot delete a file a stopped helper still had open: leave it to the temp cleaner.
        with tempfile.TemporaryDirectory(prefix="broadcast-cmd-", ignore_cleanup_errors=True) as tmp:
            in_path = Path(tmp) / "input.txt"
            out_path = Path(tmp) / "output.wav"
            in_path.write_text(text, encoding="utf-8")
            uses_input = any("{input}" in a for a in self.argv)
            uses_output = any("{output}" in a for a in self.argv)
            argv = [
                a.replace("{input}", str(in_path)).replace("{output}", str(out_path)).replace("{voice}", self.voice)
                for a in self.argv
            ]
            stdout = self._run(argv, None if uses_input else text.encode("utf-8"))
            if not uses_output:
                out_path.write_bytes(stdout)
            if not out_path.exists() or out_path.stat().st_size == 0:
                raise EngineFailure(f"chương trình '{self.program}' chạy xong nhưng không tạo ra âm thanh")
            to_mono16_wav(out_path, out_wav)

    def _run(self, argv: list[str], stdin: bytes | None) -> bytes:
        prog = self.program
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # so a timeout can kill helpers it started too
            )
        except FileNotFoundError:
            raise EngineFailure(
                f"không tìm thấy chương trình '{prog}': hãy cài đặt hoặc sửa khóa tts.command"
            ) from None
        except PermissionError:
            raise EngineFailure(f"chương trình '{prog}' không có quyền chạy (chmod +x)") from None
        except OSError as exc:
            raise EngineFailure(f"không chạy được chương trình '{prog}': {exc.strerror or exc}") from None
        try:
            out, err = proc.communicate(input=stdin, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self._kill(proc)
            proc.communicate()
            raise EngineFailure(
                f"chương trình '{prog}' chạy quá {decimal(self.timeout)} giây nên đã bị dừng "
                "(tăng khóa tts.command_timeout nếu máy chậm)"
            ) from None
        except BaseException:
            self._kill(proc)
            proc.wait()
            raise
        if proc.returncode != 0:
            code = proc.returncode
            what = f"bị tín hiệu {-code} dừng" if code < 0 else f"thoát với mã {code}"
            tail = _stderr_tail(err)
            detail = f" (stderr: {tail})" if tail else " (không có thông báo lỗi)"
            raise EngineFailure(f"chương trình '{prog}' {what}{detail}")
        return out

    @staticmethod
    def _kill(proc: subprocess.Popen) -> None:
        try:
            if hasattr(os, "killpg"):
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                # Windows: no process groups to signal. A wrapper (.bat) killed alone leaves the program it
                # started holding the pipes, and the run would wait for it: taskkill /T ends the whole tree.
                subprocess.run(["taskkill", "/F", "/T", "/PID", str(proc.pid)], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30, check=False)
                proc.kill()
        except (OSError, subprocess.SubprocessError):
            proc.kill()


register_engine("command", CommandEngine)
