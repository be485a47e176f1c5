"""Records of an audit: what was asked, what each repository gave, each finding's standing.

Everything here is plain data a reporter can render. No record carries a raw
secret: the audit of a repository strips it from every finding before the
finding leaves the process that scanned (and possibly verified) it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..model import Finding, Rule

# A finding's standing, most urgent first (the order reports use).
LIVE = "live"  # verified valid in this run
NEW = "new"  # not in the baseline, not revoked
SUBMITTED = "submitted"  # a revocation was submitted (GitHub, Hugging Face answer 202), not confirmed
REVOKED = "revoked"  # revoked, per the audit log
BASELINED = "baselined"  # accepted in the repository's baseline
STATUSES = (LIVE, NEW, SUBMITTED, REVOKED, BASELINED)
OPEN_STATUSES = (LIVE, NEW)  # what makes the audit exit 1

# Verification results; the first three are the providers' own (see scanner.providers).
VALID = "valid"
INVALID = "invalid"
UNKNOWN = "unknown"
NO_ENDPOINT = "no-endpoint"  # no verify spec covers the rule (generic passwords...)
NOT_CHECKED = "not-checked"  # --verify not given and nothing in the audit log
VERIFICATIONS = (VALID, INVALID, UNKNOWN, NO_ENDPOINT, NOT_CHECKED)

REPO_OK = "ok"
REPO_FAILED = "failed"


@dataclass(frozen=True)
class AuditSettings:
    """What the user asked for; one value for every repository of the run."""

    verify: bool = False
    trust_repo_config: bool = False
    use_baseline: bool = True
    audit_log: Path | None = None  # outside every audited repository
    base_urls: Mapping[str, str] = field(default_factory=dict)  # checked overrides (NAME -> URL)
    http_timeout: float | None = None
    jobs: int = 0  # 0: one worker per CPU
    max_file_size: int | None = None
    min_confidence: str | None = None
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@dataclass(frozen=True)
class Target:
    """A repository to audit (found on the command line, under a folder or in a list)."""

    path: Path  # absolute
    name: str  # as shown in reports
    bare: bool = False


@dataclass(frozen=True)
class Verification:
    result: str = NOT_CHECKED
    reason: str = ""
    http_status: int | None = None
    checked_at: str | None = None  # from the audit log: when an earlier run checked it


@dataclass(frozen=True)
class AuditFinding:
    repository: str
    finding: Finding  # its ``secret`` is empty: stripped before leaving the worker
    status: str
    verification: Verification
    exposure_days: int | None  # days since the first commit (None: never committed)
    in_worktree: bool  # found in the working tree as it is now
    remediation: str

    @property
    def committed(self) -> bool:
        return self.finding.origin.commit is not None


@dataclass(frozen=True)
class RepoCounts:
    files_scanned: int = 0
    blobs_scanned: int = 0
    bytes_scanned: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class RepoAudit:
    target: Target
    status: str  # ok | failed
    reason: str = ""  # why it failed
    head: str | None = None
    findings: tuple[AuditFinding, ...] = ()
    counts: RepoCounts = field(default_factory=RepoCounts)
    warnings: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()  # the rules of its findings (SARIF metadata)
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == REPO_OK


@dataclass(frozen=True)
class AuditResult:
    repositories: tuple[RepoAudit, ...]
    settings: AuditSettings
    generated: str  # ISO 8601, UTC
    notes: tuple[str, ...] = ()  # run-level notes (base URL overrides...)

    @property
    def findings(self) -> tuple[AuditFinding, ...]:
        return tuple(f for r in self.repositories for f in r.findings)

    @property
    def failed(self) -> tuple[RepoAudit, ...]:
        return tuple(r for r in self.repositories if not r.ok)


def failed(target: Target, reason: str, duration: float = 0.0) -> RepoAudit:
    return RepoAudit(target=target, status=REPO_FAILED, reason=reason, duration=duration)
