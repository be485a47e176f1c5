"""``leaktrap audit``: a thin click adapter over :mod:`scanner.audit`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, UsageError
from ..audit.model import AuditResult, AuditSettings, RepoAudit, Target

_FORMAT = click.Choice(["html", "json", "sarif"])
_DEFAULT_NAME = {"html": "leaktrap-audit.html", "json": "leaktrap-audit.json", "sarif": "leaktrap-audit.sarif"}
STDOUT = Path("-")


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--repos", "repos_file", type=click.Path(path_type=Path), help="A file listing repositories or folders of repositories, one a line (# comments).")
@click.option("--format", "fmt", type=_FORMAT, default="html", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Report file (default: leaktrap-audit.html, .json or .sarif here; - for stdout).")
@click.option("--verify", is_flag=True, help="Ask each provider whether the secrets found are live (sends them to the provider).")
@click.option("--audit-log", type=click.Path(path_type=Path), help="Audit log of --verify, also read for revocations (default: .leaktrap/audit.jsonl beside the report).")
@click.option("--base-url", "base_urls", multiple=True, metavar="NAME=URL", help="--verify: send spec NAME to URL (GitHub Enterprise, self-hosted GitLab; repeatable).")
@click.option("--timeout", type=click.FloatRange(min=0.05, max=600), help="--verify: seconds per HTTP call (default 10).")
@click.option("--trust-repo-config", is_flag=True, help="Load each repository's own configuration (.leaktrap.toml, [tool.leaktrap]); off by default.")
@click.option("--no-baseline", is_flag=True, help="Ignore the repositories' baselines (every finding counts as new).")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, help="Repositories audited at once (0: one per CPU).")
@click.option("--max-file-size", type=click.IntRange(min=1), help="Skip files and blobs larger than this many bytes.")
@click.option("--min-confidence", type=click.Choice(["high", "medium", "low"]), help="Report only findings at least this confident.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are open findings.")
@click.option("--quiet", "-q", is_flag=True, help="No progress and no summary on stderr.")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
def audit(
    paths: tuple[Path, ...],
    repos_file: Path | None,
    fmt: str,
    output: Path | None,
    verify: bool,
    audit_log: Path | None,
    base_urls: tuple[str, ...],
    timeout: float | None,
    trust_repo_config: bool,
    no_baseline: bool,
    jobs: int,
    max_file_size: int | None,
    min_confidence: str | None,
    exit_zero: bool,
    quiet: bool,
    debug: bool,
) -> None:
    """Audit repositories (working tree and full history) into one report.

    PATHs are repositories, or folders searched for repositories; --repos
    FILE lists more. Baselines are applied (baselined findings are shown,
    not hidden); --verify checks with the providers. Writes one report (HTML by
    default) and never writes into an audited repository; its hooks, filters and
    (unless --trust-repo-config) configuration are never used.

    Exit codes: 0 no open finding (new or live) and every repository audited,
    1 open findings, 2 usage error or a repository could not be audited.
    """
    from ..audit import discover, run_audit

    found = discover(paths, repos_file)
    target = _output(output, fmt)
    log = audit_log if audit_log is not None else _default_log(target)
    _refuse_inside(found.targets, target, log, verify)
    _check_folder(target)
    overrides, notes = _overrides(base_urls, verify)
    settings = AuditSettings(
        verify=verify,
        trust_repo_config=trust_repo_config,
        use_baseline=not no_baseline,
        audit_log=log,
        base_urls=overrides,
        http_timeout=timeout,
        jobs=jobs,
        max_file_size=max_file_size,
        min_confidence=min_confidence,
    )
    show = not quiet
    for note in notes if show else ():
        click.echo(f"leaktrap: note: {note}", err=True)
    bar = _ProgressLine(show and sys.stderr.isatty())
    bar.start(len(found.targets) + len(found.problems))
    try:
        result = run_audit(found, settings, bar.update, debug=debug, notes=notes)
    finally:
        bar.close()
    _write(result, fmt, target)
    if show:
        _summary(result, target)
    from ..cli import _ExitCode

    raise _ExitCode(_exit_code(result, exit_zero))


def _output(output: Path | None, fmt: str) -> Path:
    return output if output is not None else Path(_DEFAULT_NAME[fmt])


def _default_log(output: Path) -> Path:
    from ..providers.audit import DEFAULT_AUDIT_LOG

    folder = Path(".") if output == STDOUT else output.parent
    return Path(os.path.abspath(folder / DEFAULT_AUDIT_LOG))


def _refuse_inside(targets: tuple[Target, ...], output: Path, log: Path, verify: bool) -> None:
    """Nothing is written into an audited repository: not the report, not the audit log."""
    from ..audit.discover import containing_repository

    writes = ([("the report", output)] if output != STDOUT else []) + ([("the audit log", log)] if verify else [])
    for what, path in writes:
        repo = containing_repository(path, targets)
        if repo is not None:
            flag = "--output" if what == "the report" else "--audit-log"
            raise UsageError(
                f"{what} ({path}) would be written inside the audited repository {repo.name}; "
                f"an audit writes nothing into what it audits: give {flag} outside it"
            )


def _check_folder(output: Path) -> None:
    """Fail before the audit, not after it, when the report cannot be written there."""
    folder = output.parent if str(output.parent) else Path(".")
    if output != STDOUT and not folder.is_dir():
        raise UsageError(f"cannot write {output}: no folder {folder}")


def _overrides(given: tuple[str, ...], verify: bool) -> tuple[dict[str, str], tuple[str, ...]]:
    """--base-url NAME=URL, checked as ``leaktrap verify`` checks them (built-in spec names)."""
    if not given:
        return {}, ()
    if not verify:
        raise UsageError("--base-url is only used with --verify")
    from ..providers.spec import parse_specs
    from ..rules import load_rules
    from ..providers.spec import base_url_overrides

    _rules, verify_specs, revoke_specs = load_rules((), ())
    overrides = base_url_overrides({}, given, parse_specs(verify_specs, revoke_specs))
    notes = tuple(f"spec '{name}' is sent to {url} (base URL override)" for name, url in sorted(overrides.items()))
    return overrides, notes


def _write(result: AuditResult, fmt: str, output: Path) -> None:
    text = _render(result, fmt)
    if output == STDOUT:
        click.echo(text, nl=False)
        return
    from ..atomic import write_report

    write_report(output, text)


def _render(result: AuditResult, fmt: str) -> str:
    if fmt == "json":
        from ..audit.formats import render_json

        return render_json(result)
    if fmt == "sarif":
        from ..audit.formats import render_sarif

        return render_sarif(result)
    from ..report.html import render_html

    return render_html(result)


def _summary(result: AuditResult, output: Path) -> None:
    from ..audit.summary import summary_lines

    for line in summary_lines(result):
        click.echo(line, err=True)
    if output != STDOUT:
        click.echo(f"report: {output}", err=True)


def _exit_code(result: AuditResult, exit_zero: bool) -> int:
    from ..audit.summary import totals

    if totals(result).open and not exit_zero:
        return EXIT_FINDINGS
    return EXIT_USAGE if result.failed else EXIT_CLEAN


class _ProgressLine:
    """``[2/5] name: 3 findings`` redrawn in place on a terminal's stderr; nothing elsewhere."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.width = 0

    def start(self, total: int) -> None:
        if self.enabled:
            self._draw(f"leaktrap audit: 0/{total} repositories")

    def update(self, record: RepoAudit, done: int, total: int) -> None:
        if not self.enabled:
            return
        from ..report.safe import printable

        state = f"{len(record.findings)} findings" if record.ok else "failed"
        text = f"leaktrap audit: {done}/{total} repositories, last {printable(record.target.name)[:60]} ({state})"
        self._draw(text)

    def _draw(self, text: str) -> None:
        pad = max(0, self.width - len(text))
        self.width = len(text)
        sys.stderr.write("\r" + text + " " * pad)
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()
        self.enabled = False
