"""Where the findings to verify or revoke come from: a fresh scan, or a JSON report.

A JSON report normally holds no raw secret. Two ways to use one:

* a report made with ``scan --format json --show-secrets`` carries
  ``raw_secret``; each is checked against its fingerprint and used as is;
* otherwise the report's target is scanned again, the same way (files,
  staged or history), from the current folder, and findings are matched by
  fingerprint. Findings that cannot be found again (the file changed, or the
  command runs from another folder) are reported, never guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..model import Finding, Origin, OriginKind, fingerprint
from ..scan import Prepared, ScanOptions, prepare, run_scan


@dataclass(frozen=True)
class Loaded:
    findings: tuple[Finding, ...]
    prepared: Prepared
    missing: tuple[dict[str, Any], ...] = field(default=())  # report entries not found again


@dataclass(frozen=True)
class Selection:
    paths: tuple[Path, ...] = (Path("."),)
    history: bool = False
    staged: bool = False
    config_path: Path | None = None


def from_scan(selection: Selection) -> Loaded:
    options = ScanOptions(
        paths=selection.paths or (Path("."),),
        history=selection.history,
        staged=selection.staged,
        config_path=selection.config_path,
        use_baseline=False,  # a baselined secret can still be live: verify and revoke see everything
    )
    result, prepared = run_scan(options)
    return Loaded(result.findings, prepared)


def from_report(report: Path, config_path: Path | None) -> Loaded:
    doc = _read_report(report)
    raw_findings = doc.get("findings", [])
    if not isinstance(raw_findings, list):
        raise UsageError(f"{report}: 'findings' is not a list (not a leaktrap JSON report?)")
    entries = [e for e in raw_findings if isinstance(e, dict)]
    if entries and all(isinstance(e.get("raw_secret"), str) for e in entries):
        prepared = prepare(ScanOptions(paths=(Path("."),), config_path=config_path))
        return Loaded(tuple(_finding_from_entry(e, report) for e in entries), prepared)
    summary = doc.get("summary", {}) if isinstance(doc.get("summary"), dict) else {}
    target = str(summary.get("target") or ".")
    mode = summary.get("mode", "files")
    selection = Selection(
        paths=tuple(Path(p) for p in target.split(" ") if p) or (Path("."),),
        history=mode == "history",
        staged=mode == "staged",
        config_path=config_path,
    )
    for p in selection.paths:
        if not p.exists():
            raise UsageError(
                f"{report}: its target {p} does not exist here; run from the folder the scan ran in, "
                "or make the report with --show-secrets"
            )
    scanned = from_scan(selection)
    wanted = {str(e.get("fingerprint")): e for e in entries}
    found = tuple(f for f in scanned.findings if f.fingerprint in wanted)
    seen = {f.fingerprint for f in found}
    missing = tuple(e for fp, e in wanted.items() if fp not in seen)
    return Loaded(found, scanned.prepared, missing)


def _read_report(report: Path) -> dict[str, Any]:
    try:
        doc = json.loads(report.read_text("utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{report}: no such report") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{report}: not a readable JSON report ({type(exc).__name__})") from None
    if not isinstance(doc, dict) or doc.get("schema") != "leaktrap-report":
        raise UsageError(f"{report}: not a leaktrap JSON report (scan --format json)")
    if doc.get("version") != 1:
        raise UsageError(f"{report}: report version {doc.get('version')!r} is not supported (expected 1)")
    return doc


def _finding_from_entry(entry: dict[str, Any], report: Path) -> Finding:
    try:
        rule_id, path, secret = str(entry["rule_id"]), str(entry["path"]), str(entry["raw_secret"])
        fp = str(entry["fingerprint"])
    except KeyError as exc:
        raise UsageError(f"{report}: a finding lacks {exc.args[0]!r}") from None
    if fingerprint(rule_id, path, secret) != fp:
        raise UsageError(f"{report}: finding {fp} does not match its raw_secret (edited report?)")
    return Finding(
        rule_id=rule_id,
        provider=str(entry.get("provider", "")),
        description=str(entry.get("description", "")),
        severity=str(entry.get("severity", "high")),
        confidence=str(entry.get("confidence", "high")),
        path=path,
        line=_number(entry, "line", int, report),
        column=_number(entry, "column", int, report),
        end_column=_number(entry, "end_column", int, report),
        redacted=str(entry.get("secret", "")),
        fingerprint=fp,
        entropy=_number(entry, "entropy", float, report),
        secret=secret,
        origin=_origin(entry),
    )


def _number(entry: dict[str, Any], key: str, kind: type, report: Path) -> Any:
    value = entry.get(key, 0) or 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{report}: a finding's {key!r} is not a number")
    try:
        return kind(value)
    except (ValueError, OverflowError):
        raise UsageError(f"{report}: a finding's {key!r} is out of range") from None


def _origin(entry: dict[str, Any]) -> Origin:
    try:
        kind = OriginKind(entry.get("source", "worktree"))
    except ValueError:
        kind = OriginKind.WORKTREE
    blob = entry.get("blob")
    return Origin(kind=kind, blob=blob if isinstance(blob, str) else None)
