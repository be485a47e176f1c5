"""A finding's standing: baselined, verified live, revoked (from the audit log), or new;
how long it has been exposed; and what to do about it.

Audit-log reads never create anything: without the log's key file, entries are
matched by fingerprint only (the key is needed to recognise the same secret
under another path).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import LeaktrapError
from ..model import Finding
from .model import (
    BASELINED,
    INVALID,
    LIVE,
    NEW,
    NO_ENDPOINT,
    REVOKED,
    SUBMITTED,
    UNKNOWN,
    VALID,
    Verification,
)

DONE = {"revoked": REVOKED, "submitted": SUBMITTED}


# ---------------------------------------------------------------- baseline


def baselined(findings: Sequence[Finding], baseline_file: Path | None) -> tuple[set[int], list[str]]:
    """Indexes of the findings the baseline accepts, and warnings (an unreadable baseline
    is a warning: every finding then counts as new)."""
    if baseline_file is None:
        return set(), []
    from ..baseline import Matcher, load

    try:
        matcher = Matcher(load(baseline_file))
    except LeaktrapError as exc:
        return set(), [f"baseline not used ({exc}); every finding counts as new"]
    return {i for i, f in enumerate(findings) if matcher.entries_for(f)}, []


def baseline_file(root: Path, configured: Path | None) -> Path | None:
    """The repository's baseline: a regular file (a symbolic link could point anywhere)."""
    candidate = configured if configured is not None else root / "baseline.json"
    if candidate.is_symlink() or not candidate.is_file():
        return None
    return candidate


# ---------------------------------------------------------------- audit log


@dataclass(frozen=True)
class LogFacts:
    """What audit logs say about the findings of one repository."""

    revoked: Mapping[int, tuple[str, str]]  # finding index -> (revoked | submitted, time)
    verified: Mapping[int, Verification]  # finding index -> the last verification sent
    warnings: tuple[str, ...] = ()


def read_logs(findings: Sequence[Finding], logs: Iterable[Path]) -> LogFacts:
    revoked: dict[int, tuple[str, str]] = {}
    verified: dict[int, Verification] = {}
    warnings: list[str] = []
    for path in logs:
        try:
            entries, key = _log_entries(path)
        except LeaktrapError as exc:
            warnings.append(f"audit log not read ({exc})")
            continue
        index = _index(entries)
        for i, finding in enumerate(findings):
            for entry in _about(finding, index, key):
                _note(entry, i, revoked, verified)
    return LogFacts(revoked, verified, tuple(warnings))


def _log_entries(path: Path) -> tuple[list[dict[str, Any]], bytes | None]:
    """The entries of requests that were sent, and the log's key if it has one (never created)."""
    if path.is_symlink() or not path.is_file():
        return [], None
    from ..providers.audit import AuditLog

    log = AuditLog(path)
    entries = [e for e in log.entries() if e.get("sent") and not e.get("dry_run")]
    try:
        key = bytes.fromhex(log.key_path.read_text("ascii").strip()) if log.key_path.is_file() else None
    except (OSError, ValueError):
        key = None
    return entries, key


def _index(entries: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Entries by every fingerprint and credential id they name (in log order)."""
    index: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        names = {entry.get("fingerprint"), entry.get("credential_id"), *(entry.get("fingerprints") or ())}
        for name in names:
            if isinstance(name, str) and name:
                index.setdefault(name, []).append(entry)
    return index


def _about(finding: Finding, index: Mapping[str, list[dict[str, Any]]], key: bytes | None) -> list[dict[str, Any]]:
    """The entries about this finding: by its fingerprint, or by its secret's credential id."""
    found = list(index.get(finding.fingerprint, ()))
    if key is not None and finding.secret:
        cid = hmac.new(key, finding.secret.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        found += [e for e in index.get(cid, ()) if all(e is not f for f in found)]
    return found


def _note(entry: Mapping[str, Any], index: int, revoked: dict[int, tuple[str, str]], verified: dict[int, Verification]) -> None:
    when = str(entry.get("time") or "")
    result = entry.get("result")
    if entry.get("action") == "revoke" and result in DONE:
        previous = revoked.get(index)
        if previous is None or previous[0] != REVOKED:  # a confirmed revocation beats a submission
            revoked[index] = (DONE[str(result)], when)
    elif entry.get("action") == "verify" and result in (VALID, INVALID, UNKNOWN):
        last = verified.get(index)
        if last is None or (last.checked_at or "") <= when:
            status = entry.get("http_status")
            verified[index] = Verification(str(result), str(entry.get("reason") or ""), status if isinstance(status, int) else None, when)


# ---------------------------------------------------------------- verification rows


def verification_of(result: str, reason: str, http_status: int | None, spec: str | None) -> Verification:
    """A verify row as the audit shows it: a finding no spec covers is ``no-endpoint``."""
    if spec is None and result == UNKNOWN:
        return Verification(NO_ENDPOINT, reason)
    return Verification(result, reason, http_status)


# ---------------------------------------------------------------- standing


def standing(is_baselined: bool, verification: Verification, revocation: tuple[str, str] | None) -> str:
    """Verified valid beats everything (this run's check, or a logged check newer than the
    logged revocation: a revocation that did not take is no revocation); then revoked or
    submitted (audit log), baselined, and new."""
    if verification.result == VALID:
        checked = verification.checked_at
        if checked is None or revocation is None or revocation[1] < checked:
            return LIVE
    if revocation is not None:
        return revocation[0]
    if is_baselined:
        return BASELINED
    return NEW


def exposure_days(date: str | None, now: datetime) -> int | None:
    """Whole days from a commit's ISO 8601 date to ``now`` (None: never committed, or no date)."""
    if not date:
        return None
    try:
        when = datetime.fromisoformat(date.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0, (now - when).days)


def remediation(f: Finding, status: str, in_worktree: bool, revocable: bool) -> str:
    """The next step for this finding, in a sentence or two."""
    rotate = "revoke it (leaktrap revoke) or rotate it" if revocable else "rotate or revoke it in the provider's console"
    move = "load it from an environment variable or a secret manager instead"
    purge = "purge it from history (git filter-repo --replace-text) if the repository is shared"
    if status == REVOKED:
        return f"Revoked per the audit log: check nothing still uses it, then {purge}."
    if status == SUBMITTED:
        return f"Revocation submitted, not confirmed: run leaktrap audit --verify to check it is dead, then {purge}."
    if f.origin.commit is None:
        return f"Not committed: {move} before committing; if it was shared, {rotate}."
    if status == BASELINED:
        return f"Accepted in the baseline: if it is a real credential, {rotate}, {move}, and {purge}."
    head = f.at_head or in_worktree
    where = f"remove it from the code and {move}" if head else "it is no longer at HEAD but still readable in history"
    step = f"{rotate}; {where}; then {purge}."
    return f"It is live: {step}" if status == LIVE else step[0].upper() + step[1:]
