"""What the audio benchmarks compare against, measured in the same run: bare ffmpeg encoding, and memory.

The floor of rendering a bulletin is encoding its samples to MP3 once:
ffmpeg reading a WAV of the same audio and writing an MP3 with the same
settings (mono, CBR, the same LAME quality), as many processes at once as
the machine has cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from broadcast.audio import find_ffmpeg  # noqa: E402
from broadcast.audio.ffmpeg import run_ffmpeg  # noqa: E402


def decode_to_wav(mp3: Path, wav: Path, rate: int) -> None:
    """Decode a built MP3 back to the mono s16 WAV the floor encodes (not timed)."""
    run_ffmpeg(["-i", str(mp3), "-ac", "1", "-ar", str(rate), "-c:a", "pcm_s16le", "-y", str(wav)],
               what="bench")


def encode_all(wavs: list[Path], out_dir: Path, bitrate: str, rate: int, processes: int) -> float:
    """Encode every WAV to MP3 with bare ffmpeg, `processes` at a time; return the wall time."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ffmpeg = find_ffmpeg()

    def one(wav: Path) -> None:
        subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(wav),
                        "-c:a", "libmp3lame", "-b:a", bitrate, "-ac", "1", "-ar", str(rate),
                        "-y", str(out_dir / (wav.stem + ".mp3"))], check=True)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=processes) as pool:
        list(pool.map(one, wavs))
    return time.perf_counter() - start


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its children that have ended."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def load() -> str:
    """The machine's load average, to read next to any timing from a shared machine."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


class PeakRSS:
    """Sample the summed resident memory of this process and all its descendants (Linux /proc)."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    def __enter__(self) -> "PeakRSS":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self._sample())

    def _sample(self) -> int:
        proc = Path("/proc")
        if not proc.is_dir():  # elsewhere: the largest single process seen so far
            import resource

            kib = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            return kib * 1024
        parent: dict[int, int] = {}
        rss: dict[int, int] = {}
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                pages = int((entry / "statm").read_text().split()[1])
            except (OSError, ValueError, IndexError):
                continue
            pid = int(entry.name)
            parent[pid] = int(stat.rsplit(")", 1)[1].split()[1])
            rss[pid] = pages * self._page
        me = os.getpid()
        total = 0
        for pid, size in rss.items():
            p = pid
            while p and p != me:
                p = parent.get(p, 0)
            if p == me:
                total += size
        return total
