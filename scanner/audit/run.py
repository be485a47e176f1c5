"""Audit many repositories, several at a time, each in its own process.

Each worker audits whole repositories (both scans, verification, audit log) and
sends back secret-free records; one repository's failure is its own record and
never stops the others. With one repository (or ``--jobs 1``) everything runs
here, and that repository's history scan may use the workers instead.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

from ..providers.audit import iso
from .discover import Discovery
from .model import AuditResult, AuditSettings, RepoAudit, Target, failed
from .repo import audit_repository

OnDone = Callable[[RepoAudit, int, int], None]  # (record, done so far, total)


def cpu_count() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def run_audit(
    discovery: Discovery,
    settings: AuditSettings,
    on_done: OnDone | None = None,
    *,
    debug: bool = False,
    notes: Sequence[str] = (),
) -> AuditResult:
    """Every target audited; the records come back in the targets' order (stable reports)."""
    report = on_done or _quiet
    total = len(discovery.targets) + len(discovery.problems)
    done = 0
    for problem in discovery.problems:
        done += 1
        report(problem, done, total)
    workers = min(settings.jobs or cpu_count(), len(discovery.targets))
    if workers <= 1:
        audited = _serial(discovery.targets, settings, report, done, total, debug)
    else:
        audited = _parallel(discovery.targets, settings, workers, report, done, total, debug)
    order = {t.path: i for i, t in enumerate(discovery.targets)}
    records = sorted(audited, key=lambda r: order[r.target.path]) + list(discovery.problems)
    return AuditResult(tuple(records), settings, iso(settings.now), tuple(notes))


def _quiet(record: RepoAudit, done: int, total: int) -> None:
    del record, done, total


def _serial(
    targets: Sequence[Target], settings: AuditSettings, report: OnDone, done: int, total: int, debug: bool
) -> list[RepoAudit]:
    records: list[RepoAudit] = []
    inner = settings.jobs if len(targets) == 1 else 1  # a lone repository's history may use the workers
    for target in targets:
        record = audit_repository(target, settings, inner, debug)
        records.append(record)
        done += 1
        report(record, done, total)
    return records


def _parallel(
    targets: Sequence[Target], settings: AuditSettings, workers: int, report: OnDone, done: int, total: int, debug: bool
) -> list[RepoAudit]:
    """One repository per task; inside a worker the scans stay in one process."""
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    records: list[RepoAudit] = []
    from ..parallel import ignore_ctrl_c

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=ignore_ctrl_c)
    try:
        futures: dict[Future[RepoAudit], Target] = {
            pool.submit(audit_repository, t, settings, 1, debug): t for t in targets
        }
        for future in as_completed(futures):
            record = _outcome(future, futures[future])
            records.append(record)
            done += 1
            report(record, done, total)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return records


def _outcome(future: Future[RepoAudit], target: Target) -> RepoAudit:
    try:
        return future.result()
    except BrokenProcessPool:
        return failed(target, "internal error: the worker process auditing it died")
