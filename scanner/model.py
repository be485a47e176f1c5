"""Frozen records passed between the stages: source -> Chunk -> Finding -> report.

The raw secret travels inside a :class:`Finding` only because verification and
revocation need it; it is excluded from ``repr`` and equality so that it never
ends up in a log line, a traceback or an assertion message by accident.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from .digest import sha256
from .record import field, record

SEVERITIES = ("critical", "high", "medium", "low", "info")
CONFIDENCES = ("high", "medium", "low")


class OriginKind(str, Enum):
    WORKTREE = "worktree"
    INDEX = "index"
    HISTORY = "history"


@record
class Commit:
    """Where a finding entered history."""

    sha: str
    author_name: str
    author_email: str
    date: str  # ISO 8601, author date
    summary: str


@record
class Origin:
    """Where a chunk's content comes from: work tree, index or history (blob, commit)."""

    kind: OriginKind = OriginKind.WORKTREE
    blob: str | None = None
    commit: Commit | None = None
    tracked: bool = False  # the content is (or is about to be) in git: index, history or a tracked file

    @property
    def in_git(self) -> bool:
        return self.tracked or self.kind is not OriginKind.WORKTREE


@record
class Chunk:
    """A unit of text to scan.

    ``line_map`` maps the chunk's own line numbers (1-based index into the
    tuple) to real line numbers in ``path``; it is ``None`` when they coincide.
    ``decoded`` names the decoding applied (``"base64"``...) for derived chunks.
    """

    path: str
    text: str = field(repr=False)  # scanned content may hold secrets: never in a repr
    origin: Origin = field(default_factory=Origin)
    line_map: tuple[int, ...] | None = None
    decoded: str | None = None
    base_line: int = 0  # added to every line (derived chunks point into their parent line)

    def real_line(self, line: int) -> int:
        if self.line_map is not None and 1 <= line <= len(self.line_map):
            return self.line_map[line - 1]
        return line + self.base_line


@record
class Example:
    """A rule's own examples: templates that must match (positive) or must not (negative)."""

    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    path: str = "example.txt"  # the file name the examples are scanned as (for paths_only rules)


@record
class Allowlist:
    """What a rule ignores: secrets holding a stopword or matching a regex, and paths."""

    stopwords: tuple[str, ...] = ()
    regexes: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()


@record
class Rule:
    """One detection rule, as loaded from a rule file (see scanner.rules)."""

    id: str
    provider: str
    description: str
    regex: str
    keywords: tuple[str, ...]
    severity: str = "high"
    confidence: str = "high"
    min_entropy: float | None = None
    generic: bool = False
    allowlist: Allowlist = field(default_factory=Allowlist)
    examples: Example = field(default_factory=Example)
    verify: str | None = None
    revoke: str | None = None
    source: str = ""  # the file it was loaded from
    tags: tuple[str, ...] = ()
    paths_only: tuple[str, ...] = ()  # gitignore-style: the rule runs only on these paths
    once_per_file: bool = False  # one finding per file is enough (file-level hygiene rules)
    tracked_only: bool = False  # only content that is in git (committed, staged or history)
    multiline: bool = False  # a match may span lines: run over whole texts, not keyword lines
    prefilter: str | None = None  # Hyperscan pattern every match contains (instead of common keywords)


def redact(secret: str) -> str:
    """A masked form that keeps a recognisable prefix and nothing else."""
    keep = 0
    for sep in ("_", "-"):
        idx = secret.find(sep)
        if 0 < idx <= 12 and secret[:idx].isalnum():
            keep = max(keep, idx + 1)
    if keep == 0:
        keep = min(4, len(secret) // 4)
    return secret[:keep] + "****"


def fingerprint(rule_id: str, path: str, secret: str) -> str:
    """A stable identity for a finding: independent of line and column."""
    digest = sha256(f"leaktrap:v1\0{rule_id}\0{path}\0{secret}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


@record
class Finding:
    """A secret found by a rule: where, how sure, and a fingerprint that survives moves."""

    rule_id: str
    provider: str
    description: str
    severity: str
    confidence: str
    path: str
    line: int
    column: int
    end_column: int
    redacted: str
    fingerprint: str
    entropy: float
    secret: str = field(repr=False, compare=False, hash=False)
    origin: Origin = field(default_factory=Origin)
    decoded: str | None = None
    occurrences: int = 1
    at_head: bool | None = None
    extra: tuple[tuple[str, Any], ...] = ()

    def to_dict(self, show_secret: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule_id": self.rule_id,
            "provider": self.provider,
            "description": self.description,
            "severity": self.severity,
            "confidence": self.confidence,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_column": self.end_column,
            "secret": self.redacted,
            "fingerprint": self.fingerprint,
            "entropy": round(self.entropy, 3),
            "source": self.origin.kind.value,
        }
        if show_secret:
            data["raw_secret"] = self.secret
        if self.decoded:
            data["decoded"] = self.decoded
        if self.origin.blob:
            data["blob"] = self.origin.blob
        if self.origin.commit is not None:
            c = self.origin.commit
            data["commit"] = {
                "sha": c.sha,
                "author_name": c.author_name,
                "author_email": c.author_email,
                "date": c.date,
                "summary": c.summary,
            }
            data["occurrences"] = self.occurrences
        if self.at_head is not None:
            data["at_head"] = self.at_head
        for key, value in self.extra:
            data[key] = value
        return data


@record
class Skipped:
    """A file the scan did not read, and why."""

    path: str
    reason: str


@record
class ScanResult:
    """Everything a scan found and did, for the reporters."""

    findings: tuple[Finding, ...]
    files_scanned: int
    bytes_scanned: int
    skipped: tuple[Skipped, ...]
    warnings: tuple[str, ...]
    rules_run: int
    duration: float
    suppressed: int = 0
    baseline: str | None = None
    target: str = "."
    mode: str = "files"
