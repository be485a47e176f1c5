"""The audit of one repository: working tree and full history, baseline, verification,
audit log; every finding leaves with its standing and without its secret.

Safety for repositories nobody vouched for:

* configuration inside the repository (``.leaktrap.toml``, ``[tool.leaktrap]``) is
  read only with ``trust_repo_config``; so are its own audit log and any base URL
  overrides it declares;
* git runs only through :mod:`scanner.gitio` (no hooks, fsmonitor, filters,
  textconv, pagers or credential helpers) and only read-only commands;
* nothing is written into the repository: the audit log named in the settings is
  outside every audited repository (the command checks it).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import gitio
from ..errors import GitError, LeaktrapError
from ..model import Finding, ScanResult
from ..record import replace
from ..scan import Prepared, ScanOptions, run_scan
from . import status as st
from .model import REPO_OK, AuditFinding, AuditSettings, RepoAudit, RepoCounts, Target, Verification, failed


@dataclass(frozen=True)
class Scanned:
    """Both scans of one repository, merged: findings (with secrets) and where each was seen."""

    findings: tuple[Finding, ...]
    in_worktree: tuple[bool, ...]
    counts: RepoCounts
    warnings: tuple[str, ...]
    prepared: Prepared


def audit_repository(target: Target, settings: AuditSettings, jobs: int = 1, debug: bool = False) -> RepoAudit:
    """Never raises for a repository's sake: a broken one comes back failed, with the reason."""
    started = time.monotonic()
    try:
        return _audit(target, settings, jobs, started)
    except LeaktrapError as exc:
        return failed(target, f"{exc.label}: {exc}", time.monotonic() - started)
    except Exception as exc:  # noqa: BLE001 - one repository's crash must not stop the others
        if debug:
            import traceback

            traceback.print_exc(file=sys.stderr)
        reason = f"internal error: {type(exc).__name__} (run with --debug for the traceback and report it)"
        return failed(target, reason, time.monotonic() - started)


def _audit(target: Target, settings: AuditSettings, jobs: int, started: float) -> RepoAudit:
    check_repository(target)
    head = gitio.resolve_commit(target.path, "HEAD")
    scanned = scan_repository(target, settings, jobs)
    findings, notes = classify(target, scanned, settings)
    rule_ids = {f.finding.rule_id for f in findings}
    return RepoAudit(
        target=target,
        status=REPO_OK,
        head=head,
        findings=findings,
        counts=scanned.counts,
        warnings=scanned.warnings + notes,
        rules=tuple(r for r in scanned.prepared.rules if r.id in rule_ids),
        duration=time.monotonic() - started,
    )


def check_repository(target: Target) -> None:
    """Git must read ``target`` as a repository of its own. With a corrupt ``.git`` git
    would otherwise go up and find an enclosing repository, and audit that one."""
    try:
        found = gitio.git_dir(target.path) if target.bare else gitio.work_tree_root(target.path)
    except GitError as exc:
        words = str(exc).partition(f" failed in {target.path}: ")[2] or str(exc)
        raise GitError(f"not a readable git repository ({words})") from None
    if os.path.realpath(found) != os.path.realpath(target.path):
        raise GitError("git does not read this folder as a repository (corrupt HEAD, config or objects?)")


# ---------------------------------------------------------------- scanning


def scan_repository(target: Target, settings: AuditSettings, jobs: int) -> Scanned:
    options = ScanOptions(
        paths=(target.path,),
        use_baseline=False,  # the audit classifies baselined findings instead of hiding them
        trust_repo_config=settings.trust_repo_config,
        jobs=jobs,
        max_file_size=settings.max_file_size,
        min_confidence=settings.min_confidence,
    )
    history, prepared = run_scan(replace(options, history=True))
    worktree = None if target.bare else run_scan(options)[0]
    findings, seen = combine(history.findings, worktree.findings if worktree else ())
    return Scanned(findings, seen, _counts(history, worktree), _warnings(history, worktree), prepared)


def combine(history: Sequence[Finding], worktree: Sequence[Finding]) -> tuple[tuple[Finding, ...], tuple[bool, ...]]:
    """History findings (they know their first commit), then the working-tree findings
    history does not explain (untracked files, uncommitted edits). For each: is the
    secret in the working tree now."""
    in_tree_prints = {f.fingerprint for f in worktree}
    in_tree_keys = {(f.rule_id, f.secret) for f in worktree}
    history_prints = {f.fingerprint for f in history}
    history_keys = {(f.rule_id, f.secret) for f in history}
    out = list(history)
    seen = [f.fingerprint in in_tree_prints or (f.rule_id, f.secret) in in_tree_keys for f in history]
    for f in worktree:
        explained = f.fingerprint in history_prints or (f.origin.tracked and (f.rule_id, f.secret) in history_keys)
        if not explained:
            out.append(replace(f, at_head=False))
            seen.append(True)
    return tuple(out), tuple(seen)


def _counts(history: ScanResult, worktree: ScanResult | None) -> RepoCounts:
    return RepoCounts(
        files_scanned=worktree.files_scanned if worktree else 0,
        blobs_scanned=history.files_scanned,
        bytes_scanned=history.bytes_scanned + (worktree.bytes_scanned if worktree else 0),
        skipped=len(history.skipped) + (len(worktree.skipped) if worktree else 0),
    )


def _warnings(history: ScanResult, worktree: ScanResult | None) -> tuple[str, ...]:
    both = list(history.warnings) + (list(worktree.warnings) if worktree else [])
    return tuple(dict.fromkeys(both))


# ---------------------------------------------------------------- standing


@dataclass(frozen=True)
class Evidence:
    """What is known about one finding besides the finding itself."""

    baselined: bool
    verification: Verification
    revocation: tuple[str, str] | None  # (revoked | submitted, time) from an audit log
    in_worktree: bool
    revocable: bool  # a revoke spec covers its rule


def classify(target: Target, scanned: Scanned, settings: AuditSettings) -> tuple[tuple[AuditFinding, ...], tuple[str, ...]]:
    """Each finding's standing, exposure and next step; and warnings (baseline, audit logs)."""
    findings = scanned.findings
    if not findings:
        return (), ()
    prepared = scanned.prepared
    accepted, notes = st.baselined(findings, _baseline(target, prepared, settings))
    checked = verify(findings, prepared, settings) if settings.verify else {}
    facts = st.read_logs(findings, audit_logs(target, prepared, settings))
    revocable = {r.id for r in prepared.rules if r.revoke}
    out = []
    for i, f in enumerate(findings):
        evidence = Evidence(
            baselined=i in accepted,
            verification=checked.get(i) or facts.verified.get(i) or Verification(),
            revocation=facts.revoked.get(i),
            in_worktree=scanned.in_worktree[i],
            revocable=f.rule_id in revocable,
        )
        out.append(audit_finding(target, f, evidence, settings))
    return tuple(out), tuple(notes) + facts.warnings


def audit_finding(target: Target, f: Finding, evidence: Evidence, settings: AuditSettings) -> AuditFinding:
    standing = st.standing(evidence.baselined, evidence.verification, evidence.revocation)
    commit = f.origin.commit
    return AuditFinding(
        repository=target.name,
        finding=replace(f, secret=""),  # the secret stays in this process
        status=standing,
        verification=evidence.verification,
        exposure_days=st.exposure_days(commit.date if commit else None, settings.now),
        in_worktree=evidence.in_worktree,
        remediation=st.remediation(f, standing, evidence.in_worktree, evidence.revocable),
    )


def _baseline(target: Target, prepared: Prepared, settings: AuditSettings) -> Path | None:
    if not settings.use_baseline or target.bare:
        return None
    return st.baseline_file(prepared.root, _configured_baseline(prepared, settings))


def _configured_baseline(prepared: Prepared, settings: AuditSettings) -> Path | None:
    return prepared.config.baseline if settings.trust_repo_config else None


def audit_logs(target: Target, prepared: Prepared, settings: AuditSettings) -> list[Path]:
    """The run's audit log, and with a trusted configuration the repository's own."""
    from ..providers.audit import DEFAULT_AUDIT_LOG

    logs = [settings.audit_log] if settings.audit_log is not None else []
    if settings.trust_repo_config and not target.bare:
        logs.append(prepared.config.audit_log or prepared.root / DEFAULT_AUDIT_LOG)
    return list(dict.fromkeys(logs))


def verify(findings: Sequence[Finding], prepared: Prepared, settings: AuditSettings) -> dict[int, Verification]:
    """``leaktrap verify``'s own machinery over these findings; the log is the run's."""
    from ..providers.spec import base_url_overrides
    from ..providers.actions import by_id, verify_findings
    from ..providers.audit import AuditLog
    from ..providers.http import ClientSettings
    from ..providers.runner import CallContext
    from ..providers.spec import parse_specs

    if settings.audit_log is None:
        raise LeaktrapError("verification needs an audit log outside the repository")
    specs = parse_specs(prepared.verify_specs, prepared.revoke_specs)
    given = tuple(f"{name}={url}" for name, url in settings.base_urls.items())
    overrides = base_url_overrides(prepared.config.base_urls if settings.trust_repo_config else {}, given, specs)
    timeout = settings.http_timeout or prepared.config.http_timeout or 10.0
    ctx = CallContext(settings=ClientSettings(timeout=timeout), audit=AuditLog(settings.audit_log), base_urls=overrides)
    rows = verify_findings(findings, by_id(prepared.rules), specs, ctx)
    index = {id(f): i for i, f in enumerate(findings)}
    out: dict[int, Verification] = {}
    for row in rows:
        for f in row.findings:
            if id(f) in index:
                out[index[id(f)]] = st.verification_of(row.result, row.reason, row.http_status, row.spec)
    return out
