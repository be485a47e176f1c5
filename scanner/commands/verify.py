"""``leaktrap verify`` and ``leaktrap revoke``: thin click adapters over scanner.providers."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import EXIT_CLEAN, EXIT_FINDINGS, UsageError
from ..model import Finding, Rule
from ..record import replace

if TYPE_CHECKING:
    from ..config import Config
    from ..providers.runner import CallContext
    from ..providers.spec import Specs

_FORMAT = click.Choice(["text", "json"])


@dataclass(frozen=True)
class Common:
    paths: tuple[Path, ...]
    report: Path | None
    history: bool
    staged: bool
    config_path: Path | None
    rule_ids: tuple[str, ...]
    fingerprints: tuple[str, ...]
    audit_log: Path | None
    base_urls: tuple[str, ...]
    timeout: float | None
    fmt: str
    quiet: bool
    trust_repo_config: bool


def _common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("paths", nargs=-1, type=click.Path(path_type=Path)),
        click.option("--report", type=click.Path(path_type=Path), help="Use the findings of a JSON report (scan --format json) instead of scanning PATHS."),
        click.option("--history", is_flag=True, help="Scan the whole git history for findings."),
        click.option("--staged", is_flag=True, help="Scan the content staged in the index."),
        click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file."),
        click.option("--rule", "rule_ids", multiple=True, metavar="ID", help="Only findings of this rule (repeatable)."),
        click.option("--fingerprint", "fingerprints", multiple=True, metavar="FP", help="Only this finding (repeatable)."),
        click.option("--audit-log", type=click.Path(path_type=Path), help="Audit log (default: .leaktrap/audit.jsonl at the repository root)."),
        click.option("--base-url", "base_urls", multiple=True, metavar="NAME=URL", help="Send spec NAME to URL (GitHub Enterprise, self-hosted GitLab; repeatable)."),
        click.option("--timeout", type=click.FloatRange(min=0.05, max=600), help="Seconds per HTTP call (default 10)."),
        click.option("--format", "fmt", type=_FORMAT, default="text", show_default=True),
        click.option("--quiet", "-q", is_flag=True, help="No notes and no summary on stderr."),
        click.option(
            "--trust-repo-config",
            is_flag=True,
            help="Let the scanned repository's own config choose endpoints (its rule files' specs, base URLs, audit log).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _common(kwargs: dict[str, Any]) -> Common:
    names = Common.__dataclass_fields__
    return Common(**{k: kwargs.pop(k) for k in list(kwargs) if k in names})


@dataclass
class Session:
    findings: tuple[Finding, ...]
    missing: tuple[dict[str, Any], ...]
    rules: dict[str, Rule]
    specs: Specs
    ctx: CallContext
    root: Path
    config: Config


def _open_session(common: Common) -> Session:
    from ..providers.actions import by_id
    from ..providers.audit import DEFAULT_AUDIT_LOG, AuditLog
    from ..providers.http import ClientSettings
    from ..providers.runner import CallContext
    from ..providers.sources import Selection, from_report, from_scan
    from ..providers.spec import base_url_overrides, parse_specs
    from ..rules import load_rules

    if common.report is not None and common.paths:
        raise UsageError("give PATHS or --report, not both")
    if common.report is not None:
        loaded = from_report(common.report, common.config_path)
    else:
        loaded = from_scan(Selection(common.paths or (Path("."),), common.history, common.staged, common.config_path))
    prepared = loaded.prepared
    trusted = common.trust_repo_config or common.config_path is not None or prepared.config.source is None
    config = prepared.config if trusted else replace(prepared.config, base_urls={}, audit_log=None)
    findings_in = loaded.findings
    if trusted:
        specs = parse_specs(prepared.verify_specs, prepared.revoke_specs)
    else:
        # secrets go only where the built-in specs send them: never to an endpoint, base URL or
        # rule chosen by the code being scanned
        builtin_rules, builtin_verify, builtin_revoke = load_rules()
        specs = parse_specs(builtin_verify, builtin_revoke)
        builtin_ids = {r.id for r in builtin_rules}
        dropped = [f for f in findings_in if f.rule_id not in builtin_ids]
        findings_in = tuple(f for f in findings_in if f.rule_id in builtin_ids)
        if not common.quiet:
            click.echo(
                f"leaktrap: note: the repository's config ({prepared.config.source}) chooses no endpoint; "
                f"{len(dropped)} finding(s) of its own rules are not sent (--trust-repo-config to use it)",
                err=True,
            )
    overrides = base_url_overrides(config.base_urls, common.base_urls, specs)
    audit_path = common.audit_log or config.audit_log or (prepared.root / DEFAULT_AUDIT_LOG)
    settings = ClientSettings(timeout=common.timeout or prepared.config.http_timeout or 10.0)
    ctx = CallContext(settings=settings, audit=AuditLog(audit_path), base_urls=overrides)
    findings = _select(findings_in, common)
    if not common.quiet:
        for name, url in sorted(overrides.items()):
            click.echo(f"leaktrap: note: spec '{name}' is sent to {url} (base URL override)", err=True)
    return Session(findings, loaded.missing, by_id(prepared.rules), specs, ctx, prepared.root, config)


def _select(findings: tuple[Finding, ...], common: Common) -> tuple[Finding, ...]:
    chosen = findings
    if common.rule_ids:
        chosen = tuple(f for f in chosen if f.rule_id in set(common.rule_ids))
    if common.fingerprints:
        wanted = set(common.fingerprints)
        chosen = tuple(f for f in chosen if f.fingerprint in wanted)
        missing = wanted - {f.fingerprint for f in chosen}
        if missing:
            raise UsageError(f"no finding with fingerprint {', '.join(sorted(missing))}")
    return chosen


def _missing_note(session: Session, quiet: bool) -> None:
    if session.missing and not quiet:
        click.echo(
            f"leaktrap: note: {len(session.missing)} finding(s) of the report were not found again "
            "(file changed, or not run from where the scan ran); they are not checked",
            err=True,
        )


@click.command()
@_common_options
def verify(**kwargs: Any) -> None:
    """Check with each provider whether the secrets found are live.

    Every finding gets valid, invalid or unknown, with a reason. 429, 5xx,
    timeouts, HTML (WAF) pages and unexpected answers are unknown, never valid.
    Findings come from a fresh scan of PATHS (default: the current folder) or
    from a JSON report (--report). Every call is recorded in the audit log.

    Exit codes: 0 no finding is valid, 1 at least one is valid (a live leak),
    2 usage/config error.
    """
    from ..providers import present
    from ..providers.actions import verify_findings

    common = _common(kwargs)
    session = _open_session(common)
    _missing_note(session, common.quiet)
    rows = verify_findings(session.findings, session.rules, session.specs, session.ctx)
    if common.fmt == "json":
        click.echo(present.rows_json("verify", rows), nl=False)
    else:
        click.echo(present.verify_text(rows), nl=False)
    if not common.quiet:
        click.echo(f"leaktrap: {present.summary('verify', rows)} (audit log: {session.ctx.audit.path})", err=True)
    from ..cli import _ExitCode

    raise _ExitCode(EXIT_FINDINGS if any(r.result == "valid" for r in rows) else EXIT_CLEAN)


@click.command()
@_common_options
@click.option("--confirmed", "confirmed", multiple=True, metavar="FP", help="A person confirms this finding is a real leak (repeatable).")
@click.option("--baseline", "baseline_path", type=click.Path(path_type=Path), help="Baseline whose true-positive labels count as confirmation.")
@click.option("--yes", "-y", is_flag=True, help="Act: send the revocations (default is a dry run).")
@click.option("--dry-run", is_flag=True, help="Only show what would be sent, even on a terminal.")
def revoke(confirmed: tuple[str, ...], baseline_path: Path | None, yes: bool, dry_run: bool, **kwargs: Any) -> None:
    """Revoke confirmed leaks through each provider's own endpoint.

    Acts only on confirmed leaks: verified valid (by an earlier `leaktrap
    verify`, from the audit log), labelled true-positive in the baseline, or
    named with --confirmed FINGERPRINT. Dry run by default: prints which
    credential, which endpoint and what would be sent (secret masked). --yes
    sends; on a terminal you are asked. A credential the audit log shows as
    revoked is not sent again.

    Exit codes: 0 every confirmed credential revoked or submitted (or a dry
    run), 1 some revocation failed, is unknown or was not confirmed, 2 usage.
    """
    from ..cli import _ExitCode
    from ..providers import present
    from ..providers.actions import REVOKE_DONE, carry_out, plan_revocations, record_dry_run

    if yes and dry_run:
        raise UsageError("--yes and --dry-run contradict each other")
    common = _common(kwargs)
    session = _open_session(common)
    _missing_note(session, common.quiet)
    known = {f.fingerprint for f in session.findings}
    unknown = set(confirmed) - known
    if unknown:
        raise UsageError(f"--confirmed: no finding with fingerprint {', '.join(sorted(unknown))}")
    true_positives = _baseline_true_positives(session, baseline_path)
    the_plan = plan_revocations(
        session.findings, session.rules, session.specs, session.ctx, frozenset(confirmed), true_positives
    )
    act = yes
    if not yes and not dry_run and the_plan.actionable and sys.stdin.isatty() and sys.stdout.isatty():
        click.echo(present.plan_text(the_plan, dry_run=False), nl=False)
        act = click.confirm(f"Revoke these {len(the_plan.actionable)} credential(s) now? This cannot be undone", default=False)
        if not act:
            click.echo("Nothing was sent.", err=True)
            raise _ExitCode(EXIT_FINDINGS)
    if not act:
        record_dry_run(the_plan, session.ctx)
        text = present.plan_json(the_plan) if common.fmt == "json" else present.plan_text(the_plan, dry_run=True)
        click.echo(text, nl=False)
        raise _ExitCode(EXIT_CLEAN)
    rows = carry_out(the_plan, session.ctx)
    if common.fmt == "json":
        click.echo(present.rows_json("revoke", rows), nl=False)
    else:
        click.echo(present.revoke_text(rows), nl=False)
    if not common.quiet:
        click.echo(f"leaktrap: {present.summary('revoke', rows)} (audit log: {session.ctx.audit.path})", err=True)
    counted = [r for r in rows if r.spec is not None]  # findings with no endpoint are listed, not counted
    raise _ExitCode(EXIT_CLEAN if all(r.result in REVOKE_DONE for r in counted) else EXIT_FINDINGS)


def _baseline_true_positives(session: Session, given: Path | None) -> frozenset[str]:
    """Fingerprints of findings the baseline labels true-positive (a person's confirmation)."""
    path = given or session.config.baseline or (session.root / "baseline.json")
    if given is None and not path.is_file():
        return frozenset()
    from ..baseline import TRUE_POSITIVE, Matcher, load

    matcher = Matcher(load(path))
    return frozenset(
        f.fingerprint for f in session.findings if any(e.label == TRUE_POSITIVE for e in matcher.entries_for(f))
    )
