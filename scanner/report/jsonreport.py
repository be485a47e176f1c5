"""JSON report with a versioned schema (``schema: leaktrap-report``, ``version: 1``)."""

from __future__ import annotations

import json

from .. import __version__
from ..model import Rule, ScanResult

SCHEMA_VERSION = 1


def to_document(result: ScanResult, *, show_secrets: bool = False) -> dict:
    return {
        "schema": "leaktrap-report",
        "version": SCHEMA_VERSION,
        "tool": {"name": "leaktrap", "version": __version__},
        "summary": {
            "target": result.target,
            "mode": result.mode,
            "findings": len(result.findings),
            "files_scanned": result.files_scanned,
            "bytes_scanned": result.bytes_scanned,
            "files_skipped": len(result.skipped),
            "rules_run": result.rules_run,
            "duration_seconds": round(result.duration, 3),
            "baseline": result.baseline,
            "suppressed_by_baseline": result.suppressed,
            "warnings": len(result.warnings),
        },
        "findings": [f.to_dict(show_secret=show_secrets) for f in result.findings],
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped],
        "warnings": list(result.warnings),
    }


def render_json(result: ScanResult, rules: tuple[Rule, ...], *, color: bool = False, show_secrets: bool = False) -> str:
    del rules, color
    return json.dumps(to_document(result, show_secrets=show_secrets), indent=2, sort_keys=False) + "\n"
