"""Worker processes of a rebuild: forked, dying with their parent, counting files done.

Workers drop the writer lock they inherit and die with their parent, so a killed
rebuild leaves nothing running and nothing locked.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable

from searchengine.segmenter import use_user_dict
from searchengine.store import forget_inherited_locks

Progress = Callable[[int], None]

_COUNTER = None  # files done by all workers, shared with the parent


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:
            os._exit(1)


def _init_worker(user_dict: str | None, counter) -> None:
    global _COUNTER
    _die_with_parent()
    forget_inherited_locks()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl+C
    # A stop signal ends a worker at once, wherever it waits (a Python handler
    # inherited from the command could be left waiting on the pool's queue lock).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    _COUNTER = counter
    use_user_dict(user_dict)


def count_file() -> None:
    """Count one file done, for the parent's progress bar (nothing outside a worker)."""
    if _COUNTER is not None:
        with _COUNTER.get_lock():
            _COUNTER.value += 1


def run_in_workers(
    task: Callable, tasks: list[tuple], user_dict: str | None, progress: Progress | None
) -> list:
    """Run ``task`` on each argument tuple, one worker each, showing files done as they go."""
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("q", 0)
    with ctx.Pool(len(tasks), initializer=_init_worker, initargs=(user_dict, counter)) as pool:
        pending = pool.starmap_async(task, tasks)
        shown = 0
        while not pending.ready():
            pending.wait(0.2)
            if progress and counter.value > shown:
                progress(counter.value - shown)
                shown = counter.value
        results = pending.get()
        pool.close()  # let the idle workers leave on their own rather than be killed
        pool.join()
    if progress and counter.value > shown:
        progress(counter.value - shown)
    return results
