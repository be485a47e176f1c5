"""Verify and revoke, as typed functions the CLI adapts: findings in, rows out, audit log written."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..model import Finding, Rule
from .audit import AuditEntry, iso
from .runner import CallContext, Credential, Outcome, PlannedStep, execute, plan
from .spec import Spec, Specs
from .targets import Unresolved, build_credentials

# results a revoke row can end with, besides the spec results (revoked, submitted, failed, unknown)
SKIPPED = "not-confirmed"
ALREADY = "already-revoked"
NO_ENDPOINT = "no-endpoint"
DRY_RUN = "dry-run"
REVOKE_DONE = ("revoked", "submitted", ALREADY)


@dataclass(frozen=True)
class Row:
    """One credential (or one finding no spec covers) and what happened to it."""

    findings: tuple[Finding, ...]
    result: str
    reason: str
    spec: str | None = None
    http_status: int | None = None
    endpoint: str = ""
    sent: bool = False


@dataclass(frozen=True)
class Candidate:
    credential: Credential
    spec: Spec
    confirmation: str | None  # who or what confirmed the leak; None: not confirmed
    revoked_before: str | None  # time of an earlier revocation in the audit log
    steps: tuple[PlannedStep, ...] = field(default=())


@dataclass(frozen=True)
class RevokePlan:
    candidates: tuple[Candidate, ...]
    unresolved: tuple[Unresolved, ...]

    @property
    def actionable(self) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if c.confirmation is not None and c.revoked_before is None)


def by_id(rules: Iterable[Rule]) -> dict[str, Rule]:
    return {r.id: r for r in rules}


def verify_findings(findings: Iterable[Finding], rules: Mapping[str, Rule], specs: Specs, ctx: CallContext) -> list[Row]:
    creds, unresolved = build_credentials(findings, rules, specs.verify, "verify")
    rows: list[Row] = []
    for cred in creds:
        outcome = execute(specs.verify[cred.spec_name], cred, ctx)
        record(ctx, "verify", cred, outcome)
        rows.append(_row(cred, outcome))
    rows.extend(Row((u.finding,), "unknown", u.reason) for u in unresolved)
    return sorted(rows, key=_row_order)


def plan_revocations(
    findings: Iterable[Finding],
    rules: Mapping[str, Rule],
    specs: Specs,
    ctx: CallContext,
    confirmed: frozenset[str] = frozenset(),
    baseline_true_positives: frozenset[str] = frozenset(),
) -> RevokePlan:
    creds, unresolved = build_credentials(findings, rules, specs.revoke, "revoke")
    candidates: list[Candidate] = []
    for cred in creds:
        spec = specs.revoke[cred.spec_name]
        credential_id = ctx.audit.credential_id(cred.secret, cred.pair)
        before = ctx.audit.already_revoked(credential_id, spec.name)
        candidates.append(
            Candidate(
                credential=cred,
                spec=spec,
                confirmation=confirmation(cred, rules, ctx, credential_id, confirmed, baseline_true_positives),
                revoked_before=str(before.get("time")) if before else None,
                steps=plan(spec, cred, ctx.base_urls),
            )
        )
    candidates.sort(key=lambda c: _finding_order(c.credential.findings[0]))
    return RevokePlan(tuple(candidates), tuple(unresolved))


def confirmation(
    cred: Credential,
    rules: Mapping[str, Rule],
    ctx: CallContext,
    credential_id: str,
    confirmed: frozenset[str],
    baseline_true_positives: frozenset[str],
) -> str | None:
    fps = {f.fingerprint for f in cred.findings}
    if fps & confirmed:
        return "confirmed on the command line (--confirmed)"
    if fps & baseline_true_positives:
        return "labelled true-positive in the baseline"
    rule = rules.get(cred.rule_id)
    if rule is None or rule.verify is None:
        return None
    last = ctx.audit.last_verification(ctx.audit.credential_id(cred.secret, cred.pair), rule.verify)
    if last is not None and last.get("result") == "valid":
        return f"verified valid at {last.get('time')}"
    return None


def carry_out(revoke_plan: RevokePlan, ctx: CallContext) -> list[Row]:
    rows: list[Row] = []
    for c in revoke_plan.candidates:
        cred = c.credential
        if c.confirmation is None:
            rows.append(Row(cred.findings, SKIPPED, "not confirmed: verify it first, label it true-positive in the baseline, or pass --confirmed FINGERPRINT", c.spec.name))
        elif c.revoked_before is not None:
            rows.append(Row(cred.findings, ALREADY, f"revoked at {c.revoked_before} per the audit log; not sent again", c.spec.name))
        else:
            outcome = execute(c.spec, cred, ctx)
            record(ctx, "revoke", cred, outcome)
            rows.append(_row(cred, outcome))
    rows.extend(Row((u.finding,), NO_ENDPOINT, u.reason) for u in revoke_plan.unresolved)
    return rows


def record_dry_run(revoke_plan: RevokePlan, ctx: CallContext) -> None:
    for c in revoke_plan.actionable:
        first = c.steps[0] if c.steps else None
        endpoint = f"{first.method} {first.url}" if first else ""
        record(ctx, "revoke", c.credential, Outcome(DRY_RUN, "dry run: nothing sent", None, endpoint, False), dry_run=True)


def record(ctx: CallContext, action: str, cred: Credential, outcome: Outcome, *, dry_run: bool = False) -> None:
    ctx.audit.append(
        AuditEntry(
            time=iso(ctx.now().astimezone()),
            action=action,
            rule=cred.rule_id,
            provider=cred.provider,
            spec=cred.spec_name,
            fingerprint=cred.fingerprint,
            credential_id=ctx.audit.credential_id(cred.secret, cred.pair),
            result=outcome.result,
            reason=outcome.reason,
            http_status=outcome.http_status,
            endpoint=outcome.endpoint,
            sent=outcome.sent,
            dry_run=dry_run,
            fingerprints=tuple(f.fingerprint for f in cred.findings),
        )
    )


def _row(cred: Credential, outcome: Outcome) -> Row:
    return Row(cred.findings, outcome.result, outcome.reason, cred.spec_name, outcome.http_status, outcome.endpoint, outcome.sent)


def _finding_order(f: Finding) -> tuple[str, int, int, str]:
    return (f.path, f.line, f.column, f.rule_id)


def _row_order(row: Row) -> tuple[str, int, int, str]:
    return _finding_order(row.findings[0])
