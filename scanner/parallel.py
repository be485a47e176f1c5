"""Big scans spread over processes; small ones (the hook) stay in one.

Workers are forked, so they inherit the compiled rule set instead of rebuilding
it. The files are cut into a few byte-balanced slices per worker, handed out as
workers free up (a slice of slow files does not leave the other workers idle),
and each slice comes back as a Collected. The caller sorts the merged findings,
so the output does not depend on scheduling.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .scan import Collected, FileTask, Prepared

# Below these, a process pool costs more than it saves.
MIN_PARALLEL_BYTES = 8 * 1024 * 1024
MIN_PARALLEL_FILES = 200
SLICES_PER_WORKER = 4

_worker_prepared: Prepared | None = None  # set once per worker process by _init


def worker_count(requested: int, total_bytes: int, total_files: int) -> int:
    if requested == 1:
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if requested > 1:
        return requested
    if total_bytes < MIN_PARALLEL_BYTES or total_files < MIN_PARALLEL_FILES:
        return 1
    return max(1, cpus)


def balance(tasks: list[FileTask], parts: int) -> list[list[FileTask]]:
    """Greedy split by size, largest first: each slice gets about the same bytes."""
    slices: list[list[FileTask]] = [[] for _ in range(parts)]
    loads = [0] * parts
    for task in sorted(tasks, key=lambda t: -t.size):
        i = loads.index(min(loads))
        slices[i].append(task)
        loads[i] += task.size + 512  # a per-file cost beside the bytes
    return [s for s in slices if s]


def ignore_ctrl_c() -> None:
    """In a worker process: Ctrl-C reaches the whole process group, but it is the parent's
    to handle (exit 130, no report); a worker must not die with a traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _init(prepared: Prepared) -> None:
    global _worker_prepared
    ignore_ctrl_c()
    _worker_prepared = prepared


def _run(tasks: list[FileTask]) -> Collected:
    from .scan import collect, task_items

    assert _worker_prepared is not None
    return collect(task_items(tasks, _worker_prepared.max_file_size), _worker_prepared)


def scan_tasks_parallel(tasks: list[FileTask], prepared: Prepared, jobs: int) -> Collected:
    from .scan import Collected

    if "fork" not in multiprocessing.get_all_start_methods():
        from .scan import collect, task_items

        return collect(task_items(tasks, prepared.max_file_size), prepared)
    ctx = multiprocessing.get_context("fork")
    merged = Collected([], [], [], 0, 0)
    # the pool's initializer runs in the forked child, which already holds `prepared`
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init, initargs=(prepared,)) as pool:
        for part in pool.map(_run, balance(tasks, jobs * SLICES_PER_WORKER)):
            merged.findings.extend(part.findings)
            merged.skipped.extend(part.skipped)
            merged.warnings.extend(part.warnings)
            merged.files += part.files
            merged.bytes += part.bytes
    return merged
