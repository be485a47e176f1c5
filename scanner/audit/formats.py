"""The audit as JSON (versioned schema ``leaktrap-audit``) and as SARIF 2.1.0 (one run per
repository). Pure functions of an :class:`AuditResult`; no raw secret can appear,
since the records hold none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import __version__
from ..model import ScanResult
from .model import AuditFinding, AuditResult, RepoAudit
from .summary import Count, Timeline, timeline, totals

SCHEMA = "leaktrap-audit"
SCHEMA_VERSION = 1


def render_json(result: AuditResult) -> str:
    return json.dumps(to_document(result), indent=2, ensure_ascii=False) + "\n"


def to_document(result: AuditResult) -> dict[str, Any]:
    t = totals(result)
    settings = result.settings
    return {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "tool": {"name": "leaktrap", "version": __version__},
        "generated": result.generated,
        "settings": {
            "verify": settings.verify,
            "trust_repo_config": settings.trust_repo_config,
            "baseline": settings.use_baseline,
            "audit_log": str(settings.audit_log) if settings.audit_log else None,
        },
        "summary": {
            "repositories": t.repositories,
            "failed": t.failed,
            "findings": t.findings,
            "open": t.open,
            "by_severity": _dict(t.by_severity),
            "by_status": _dict(t.by_status),
            "by_verification": _dict(t.by_verification),
            "by_provider": _dict(t.by_provider),
            "by_repository": _dict(t.by_repository),
            "timeline": _timeline(timeline(result.findings)),
        },
        "notes": list(result.notes),
        "repositories": [_repository(r) for r in result.repositories],
        "findings": [finding_dict(f) for f in result.findings],
    }


def _dict(counts: tuple[Count, ...]) -> dict[str, int]:
    return dict(counts)


def _timeline(line: Timeline) -> dict[str, Any]:
    return {
        "unit": line.unit,
        "periods": [{"period": p.label, "findings": p.total, "by_severity": _dict(p.counts)} for p in line.periods],
        "not_committed": line.undated,
    }


def _repository(r: RepoAudit) -> dict[str, Any]:
    return {
        "name": r.target.name,
        "path": str(r.target.path),
        "bare": r.target.bare,
        "status": r.status,
        "reason": r.reason or None,
        "head": r.head,
        "findings": len(r.findings),
        "files_scanned": r.counts.files_scanned,
        "blobs_scanned": r.counts.blobs_scanned,
        "bytes_scanned": r.counts.bytes_scanned,
        "skipped": r.counts.skipped,
        "warnings": list(r.warnings),
        "duration_seconds": round(r.duration, 3),
    }


def finding_dict(a: AuditFinding) -> dict[str, Any]:
    data = {"repository": a.repository, **a.finding.to_dict(show_secret=False)}
    data.update(
        {
            "status": a.status,
            "verification": {
                "result": a.verification.result,
                "reason": a.verification.reason or None,
                "http_status": a.verification.http_status,
                "checked_at": a.verification.checked_at,
            },
            "committed": a.committed,
            "at_head": bool(a.finding.at_head),
            "in_working_tree": a.in_worktree,
            "exposure_days": a.exposure_days,
            "remediation": a.remediation,
        }
    )
    return data


# ---------------------------------------------------------------- SARIF


def render_sarif(result: AuditResult) -> str:
    """SARIF 2.1.0: each repository one run (``%SRCROOT%`` is that repository), built by
    the scan reporter and annotated with the audit's standing of each result."""
    runs = [_run(r) for r in result.repositories]
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": runs}
    return json.dumps(doc, indent=2) + "\n"


def _run(r: RepoAudit) -> dict[str, Any]:
    from ..report.sarif import render_sarif as scan_sarif

    scan = ScanResult(tuple(a.finding for a in r.findings), 0, 0, (), (), len(r.rules), r.duration, mode="audit")
    run: dict[str, Any] = json.loads(scan_sarif(scan, r.rules))["runs"][0]
    for item, a in zip(run["results"], r.findings):
        item["properties"].update(
            {
                "repository": a.repository,
                "status": a.status,
                "verification": a.verification.result,
                "atHead": bool(a.finding.at_head),
                "exposureDays": a.exposure_days,
                "remediation": a.remediation,
            }
        )
    run["automationDetails"] = {"id": f"leaktrap-audit/{r.target.name}/"}
    run["originalUriBaseIds"] = {"%SRCROOT%": {"uri": _dir_uri(r.target.path)}}
    run["invocations"] = [_invocation(r)]
    return run


def _invocation(r: RepoAudit) -> dict[str, Any]:
    inv: dict[str, Any] = {"executionSuccessful": r.ok}
    notes = [{"level": "error", "message": {"text": r.reason}}] if not r.ok else []
    notes += [{"level": "warning", "message": {"text": w}} for w in r.warnings]
    if notes:
        inv["toolExecutionNotifications"] = notes
    return inv


def _dir_uri(path: Path) -> str:
    return path.as_uri().rstrip("/") + "/"
