"""Render workers die with their parent: a real process tree, the parent killed with SIGKILL mid-render."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from broadcast.audio import testsignal

OLD = b"yesterday's bulletin"

# The parent builds its pool the way the pipeline does: spawn context, one
# render per bulletin. Each worker notes its pid when a render starts.
PARENT = r'''
import concurrent.futures, multiprocessing, os, sys
from pathlib import Path
from broadcast.audio import Part, Tags, render
from broadcast.config import AudioConfig

def job(speech, out, pids):
    (Path(pids) / str(os.getpid())).touch()
    parts = [Part("speech", Path(speech), label=str(i)) for i in range(12)]
    return render(parts, AudioConfig(), Path(out), Tags("t", "a", "2025-06-01", "c"),
                  out_wav=Path(out).with_suffix(".wav"))

if __name__ == "__main__":
    speech, out_dir, pids = sys.argv[1:4]
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        futures = [pool.submit(job, speech, str(Path(out_dir) / f"xa-{i}.mp3"), pids) for i in range(4)]
        for f in futures:
            f.result()
'''


def _running(pid: int) -> bool:
    """True while `pid` runs (a zombie left for a non-reaping init counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False
    return True


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_workers_stop_and_write_nothing_after_the_parent_is_killed(tmp_path):
    speech = testsignal.write_wav(tmp_path / "s.wav", testsignal.speechlike(20.0, 22050, seed=1), 22050)
    out, pids = tmp_path / "out", tmp_path / "pids"
    out.mkdir()
    pids.mkdir()
    for i in range(4):
        (out / f"xa-{i}.mp3").write_bytes(OLD)
    script = tmp_path / "parent.py"
    script.write_text(PARENT, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    parent = subprocess.Popen([sys.executable, str(script), str(speech), str(out), str(pids)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while len(list(pids.iterdir())) < 2:
            assert parent.poll() is None, parent.stderr.read().decode()
            assert time.monotonic() < deadline, "the workers never started rendering"
            time.sleep(0.05)
        time.sleep(0.5)  # well inside a four-minute bulletin's render
        killed_at = time.time()
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    finally:
        if parent.poll() is None:
            parent.kill()
    workers = [int(p.name) for p in pids.iterdir()]
    deadline = time.monotonic() + 10
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if _running(pid)]
    for pid in left:  # do not leave them behind on failure
        os.kill(pid, signal.SIGKILL)
    assert not left, f"workers still running after their parent died: {left}"
    time.sleep(0.5)
    for i in range(4):
        mp3 = out / f"xa-{i}.mp3"
        # Either untouched, or finished while the parent was still alive.
        assert mp3.read_bytes() == OLD or mp3.stat().st_mtime <= killed_at + 0.05, mp3.name
    assert any((out / f"xa-{i}.mp3").read_bytes() == OLD for i in range(4))
    # An orphaned worker removes its unfinished files.
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


# A worker whose parent is gone starts no encoder: the watcher has already swept
# the encoders and temporaries, and one started now would outlive the worker and
# write a short file when its input pipe closed.
ORPHAN_ENCODE = r'''
import multiprocessing, sys
from pathlib import Path

def encode(out):
    from broadcast.audio import worker
    from broadcast.audio.ffmpeg import feed_ffmpeg
    worker._orphaned = True  # as the watcher leaves it when the parent has died
    feed_ffmpeg(["-f", "s16le", "-ar", "8000", "-ac", "1", "-i", "pipe:0", "-y", out], bytes(16000),
                what="test")

if __name__ == "__main__":
    ctx = multiprocessing.get_context("spawn")
    p = ctx.Process(target=encode, args=(sys.argv[1],))
    p.start()
    p.join()
    print(p.exitcode)
'''


def test_an_orphaned_worker_starts_no_encoder(tmp_path):
    from broadcast.audio.worker import ORPHAN_EXIT_CODE

    script = tmp_path / "orphan.py"
    script.write_text(ORPHAN_ENCODE)
    out = tmp_path / "out.wav"
    done = subprocess.run([sys.executable, str(script), str(out)], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == str(ORPHAN_EXIT_CODE), done.stderr
    time.sleep(0.5)  # an encoder that did start would have written its short file by now
    assert not out.exists()


def test_a_worker_with_its_parent_encodes(tmp_path):
    script = tmp_path / "orphan.py"
    script.write_text(ORPHAN_ENCODE.replace("worker._orphaned = True", "pass"))
    out = tmp_path / "out.wav"
    done = subprocess.run([sys.executable, str(script), str(out)], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "0", done.stderr
    assert out.stat().st_size > 16000
