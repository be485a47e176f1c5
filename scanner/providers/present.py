"""What verify and revoke print: pure functions of rows and plans (secrets always masked)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from .actions import ALREADY, NO_ENDPOINT, SKIPPED, Candidate, RevokePlan, Row

NOTES = {
    "submitted": "submitted, not confirmed: the provider accepted the request and revokes asynchronously",
}


def _terminal(lines: list[str]) -> str:
    """Text for a terminal: paths, reasons and URLs come from scanned code and provider
    answers, so control characters are shown escaped (no terminal injection)."""
    from ..report.safe import printable

    return "".join(printable(line) + "\n" for line in lines)


def _where(row: Row) -> list[tuple[str, Any]]:
    return [(f"{f.path}:{f.line}", f) for f in row.findings]


def verify_text(rows: Sequence[Row]) -> str:
    lines: list[str] = []
    for row in rows:
        status = f" (HTTP {row.http_status})" if row.http_status is not None and f"HTTP {row.http_status}" not in row.reason else ""
        for place, f in _where(row):
            lines.append(f"{row.result.upper():8} {place}  {f.rule_id}  {f.redacted}  {row.reason}{status}")
    return _terminal(lines)


def rows_json(kind: str, rows: Sequence[Row], extra: dict[str, Any] | None = None) -> str:
    results = []
    for row in rows:
        for f in row.findings:
            results.append(
                {
                    "fingerprint": f.fingerprint,
                    "rule_id": f.rule_id,
                    "provider": f.provider,
                    "path": f.path,
                    "line": f.line,
                    "secret": f.redacted,
                    "spec": row.spec,
                    "result": row.result,
                    "reason": row.reason,
                    "http_status": row.http_status,
                    "endpoint": row.endpoint or None,
                    "sent": row.sent,
                }
            )
    doc: dict[str, Any] = {"schema": f"leaktrap-{kind}", "version": 1, "results": results}
    doc.update(extra or {})
    return json.dumps(doc, indent=2) + "\n"


def summary(kind: str, rows: Iterable[Row]) -> str:
    counts = Counter(row.result for row in rows for _ in row.findings)
    parts = ", ".join(f"{n} {result}" for result, n in sorted(counts.items()))
    return f"{kind}: {parts or 'no findings'}"


def plan_text(revoke_plan: RevokePlan, *, dry_run: bool) -> str:
    out: list[str] = []
    act = revoke_plan.actionable
    if dry_run:
        out.append("Dry run: nothing was sent. Re-run with --yes to revoke (on a terminal you are asked).")
        out.append("")
    out.append(f"{'Would revoke' if dry_run else 'To revoke'}: {len(act)} credential(s)")
    for c in act:
        out.extend(_candidate_lines(c))
    groups = (
        ("Already revoked (audit log), not sent again", [c for c in revoke_plan.candidates if c.revoked_before]),
        ("Not confirmed, skipped (verify first, label true-positive in the baseline, or --confirmed FP)",
         [c for c in revoke_plan.candidates if c.confirmation is None and not c.revoked_before]),
    )
    for title, items in groups:
        if items:
            out.append("")
            out.append(f"{title}: {len(items)}")
            for c in items:
                f = c.credential.findings[0]
                out.append(f"  {f.rule_id}  {f.redacted}  {f.path}:{f.line}  fingerprint {f.fingerprint}")
    if revoke_plan.unresolved:
        out.append("")
        out.append(f"No revoke endpoint (rotate by hand): {len(revoke_plan.unresolved)}")
        for u in revoke_plan.unresolved:
            out.append(f"  {u.finding.rule_id}  {u.finding.redacted}  {u.finding.path}:{u.finding.line}  {u.reason}")
    return _terminal(out) or "\n"


def _candidate_lines(c: Candidate) -> list[str]:
    f = c.credential.findings[0]
    lines = [f"  {f.rule_id}  {f.redacted}  {f.path}:{f.line}  ({c.credential.provider})"]
    lines.append(f"    fingerprint {f.fingerprint}")
    for other in c.credential.findings[1:]:
        lines.append(f"    also at {other.path}:{other.line} (fingerprint {other.fingerprint})")
    lines.append(f"    confirmed: {c.confirmation}")
    for i, step in enumerate(c.steps, start=1):
        prefix = f"    step {i}: " if len(c.steps) > 1 else "    "
        lines.append(f"{prefix}{step.method} {step.url}")
        for name, value in step.headers:
            lines.append(f"      {name}: {value}")
        if step.body is not None:
            lines.append(f"      body: {step.body}")
        if step.finds is not None:
            lines.append(f"      then picks {step.finds}")
    if c.spec.note:
        lines.append(f"    note: {c.spec.note}")
    return lines


def revoke_text(rows: Sequence[Row]) -> str:
    lines: list[str] = []
    for row in rows:
        status = f" (HTTP {row.http_status})" if row.http_status is not None and f"HTTP {row.http_status}" not in row.reason else ""
        note = f" [{NOTES[row.result]}]" if row.result in NOTES else ""
        for place, f in _where(row):
            lines.append(f"{row.result.upper():15} {place}  {f.rule_id}  {f.redacted}  {row.reason}{status}{note}")
    return _terminal(lines)


def plan_json(revoke_plan: RevokePlan) -> str:
    def cand(c: Candidate, state: str) -> dict[str, Any]:
        f = c.credential.findings[0]
        return {
            "fingerprint": f.fingerprint,
            "fingerprints": [x.fingerprint for x in c.credential.findings],
            "rule_id": f.rule_id,
            "provider": c.credential.provider,
            "path": f.path,
            "line": f.line,
            "secret": f.redacted,
            "spec": c.spec.name,
            "state": state,
            "confirmation": c.confirmation,
            "requests": [
                {"method": s.method, "url": s.url, "headers": dict(s.headers), "body": s.body, "picks": s.finds}
                for s in c.steps
            ],
            "note": c.spec.note,
        }

    items = []
    for c in revoke_plan.candidates:
        state = ALREADY if c.revoked_before else ("would-revoke" if c.confirmation else SKIPPED)
        items.append(cand(c, state))
    for u in revoke_plan.unresolved:
        f = u.finding
        items.append({"fingerprint": f.fingerprint, "rule_id": f.rule_id, "path": f.path, "line": f.line,
                      "secret": f.redacted, "state": NO_ENDPOINT, "reason": u.reason})
    return json.dumps({"schema": "leaktrap-revoke-plan", "version": 1, "dry_run": True, "credentials": items}, indent=2) + "\n"
