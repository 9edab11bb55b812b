"""Tie a render worker to its parent: when the parent dies, the worker exits and writes nothing more.

A nightly run renders in a pool of processes. If the main process is
killed (kill -9, out of memory, a cron timeout), orphaned workers must not
go on for minutes and then replace a bulletin the run will never record.
multiprocessing gives every child a sentinel, a pipe end the parent holds
open, which closes when the parent process dies (on every platform): a
thread waits on it and ends the worker at once, and a worker checks it
once more right before putting a file in place.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

ORPHAN_EXIT_CODE = 70
_started = False
_lock = threading.Lock()
_scratch: set[Path] = set()  # files this worker is writing; their temporaries go if it is orphaned
_children: set[subprocess.Popen] = set()  # encoders this worker runs; killed first if it is orphaned
_orphaned = False  # set, under _lock, when the parent is gone: no encoder may start after that


def watch_parent() -> None:
    """In a child process, exit as soon as the parent dies (idempotent; nothing to do in a main process).

    Usable as a ProcessPoolExecutor initializer, so idle workers are covered too.
    """
    global _started
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    with _lock:
        if _started:
            return
        _started = True
    if not parent.is_alive():
        os._exit(ORPHAN_EXIT_CODE)
    threading.Thread(target=_exit_with, args=(parent,), name="watch-parent", daemon=True).start()


def parent_alive() -> bool:
    """False in a child process whose parent has died; True otherwise."""
    parent = multiprocessing.parent_process()
    return parent is None or parent.is_alive()


@contextmanager
def scratch(final: Path) -> Iterator[Path]:
    """Delete the unfinished temporaries of `final` if the worker is stopped while this is open.

    Open it before the atomic write of `final` starts and keep it until the write is
    done: the temporary (`.<name>.<random><suffix>`, see fsutil.atomic_path) then
    exists only inside this window, from its creation to its move into place.
    """
    _scratch.add(final)
    try:
        yield final
    finally:
        _scratch.discard(final)


def start_child(start: Callable[[], subprocess.Popen]) -> subprocess.Popen:
    """Start an encoder with `start()`, to be killed if the worker is stopped before child_done().

    An encoder left running would go on writing after the worker removed its
    temporary: it opens or finishes its output file on its own time (and one whose
    input pipe closes with the worker writes a short file). So it is started and
    registered in one step, under the lock the parent's watcher takes: either the
    watcher finds it and kills it, or it is never started.
    """
    with _lock:
        if _orphaned:
            os._exit(ORPHAN_EXIT_CODE)  # the watcher is removing this worker's files and exiting
        proc = start()
        _children.add(proc)
    return proc


def child_done(proc: subprocess.Popen) -> None:
    """Forget an encoder start_child() started, once it has ended."""
    with _lock:
        _children.discard(proc)


def _remove_temporaries(final: Path) -> None:
    # Only this worker writes this bulletin (the bulletin lock is held), so every
    # temporary of it in the folder is this worker's own.
    try:
        for tmp in final.parent.glob(f".{final.name}.*"):
            tmp.unlink(missing_ok=True)
    except OSError:
        pass


def _exit_with(parent: multiprocessing.process.BaseProcess) -> None:
    global _orphaned
    parent.join()  # returns when the sentinel pipe closes: the parent is gone
    log.debug("parent process %s died: stopping this worker", parent.pid)
    # The lock is held to the end: no encoder starts once this sweep has begun.
    _lock.acquire()
    _orphaned = True
    for proc in list(_children):
        try:
            proc.kill()
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
    for final in list(_scratch):
        _remove_temporaries(final)
    os._exit(ORPHAN_EXIT_CODE)  # no cleanup handlers: nothing of this run may be written any more
