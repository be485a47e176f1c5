"""Command line: thin click adapters over typed functions. ``main(argv) -> int``."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from . import __version__
from .errors import EXIT_CLEAN, EXIT_FINDINGS, run_guarded

# ``main`` reads this to decide whether tracebacks are shown (set by --debug).
_DEBUG_ENV = "LEAKTRAP_DEBUG"


class _ExitCode(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def _emit(text: str, output: Path | None, private: bool = False) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    from .atomic import write_report

    write_report(output, text, private=private)


def _use_color(output: Path | None) -> bool:
    return output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ


class _LazyGroup(click.Group):
    """Sub-commands that live in their own modules, imported only when used (fast hook start)."""

    lazy: dict[str, str] = {
        # name: "module:attribute" of a click command or group
        "verify": "scanner.commands.verify:verify",
        "revoke": "scanner.commands.verify:revoke",
        "baseline": "scanner.commands.baseline:baseline",
        "audit": "scanner.commands.audit:audit",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            import importlib

            module_name, attr = self.lazy[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module_name), attr), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="leaktrap")
def cli() -> None:
    """leaktrap: find hard-coded secrets in files, staged changes and git history."""


_FORMAT = click.Choice(["text", "json", "sarif"])


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--staged", is_flag=True, help="Scan the content staged in the index (what the next commit holds).")
@click.option("--history", is_flag=True, help="Scan the whole git history (all refs).")
@click.option("--range", "commit_range", metavar="A..B", help="Scan only what the commits in A..B added.")
@click.option("--pre-push", "pre_push", is_flag=True, help="Scan what a push adds (pre-commit's pre-push stage sets the refs).")
@click.option("--since", metavar="DATE", help="History: only commits after DATE.")
@click.option("--branch", metavar="REF", help="History: only commits reachable from REF.")
@click.option("--stash", is_flag=True, help="History: also scan the stash entries.")
@click.option("--baseline", "baseline_path", type=click.Path(path_type=Path), help="Baseline file (default: baseline.json at the repository root when present).")
@click.option("--no-baseline", is_flag=True, help="Ignore any baseline.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file (default: .leaktrap.toml or [tool.leaktrap] in pyproject.toml).")
@click.option("--format", "fmt", type=_FORMAT, default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the report to FILE (atomically) instead of stdout.")
@click.option("--exclude", multiple=True, metavar="PATTERN", help="gitignore-style pattern to skip (repeatable).")
@click.option("--max-file-size", type=click.IntRange(min=1), help="Skip files larger than this many bytes.")
@click.option("--min-confidence", type=click.Choice(["high", "medium", "low"]), help="Report only findings at least this confident.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings (report-only runs).")
@click.option("--show-secrets", is_flag=True, help="Print raw secrets in the report (never the default).")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, help="Worker processes (0: one per CPU for big scans).")
@click.option("--quiet", "-q", is_flag=True, help="No progress and no summary on stderr.")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
def scan(
    paths: tuple[Path, ...],
    staged: bool,
    history: bool,
    commit_range: str | None,
    pre_push: bool,
    since: str | None,
    branch: str | None,
    stash: bool,
    baseline_path: Path | None,
    no_baseline: bool,
    config_path: Path | None,
    fmt: str,
    output: Path | None,
    exclude: tuple[str, ...],
    max_file_size: int | None,
    min_confidence: str | None,
    exit_zero: bool,
    show_secrets: bool,
    jobs: int,
    quiet: bool,
    debug: bool,
) -> None:
    """Scan PATHS (default: the current folder) for hard-coded secrets.

    Exit codes: 0 no new finding, 1 new findings, 2 usage/config/input error,
    3 internal error, 130 interrupted.
    """
    from .report import render
    from .scan import ScanOptions, run_scan

    if pre_push:
        from .prepush import push_scan

        push = push_scan(os.environ)
        if push.nothing:
            if not quiet:
                click.echo("leaktrap: nothing new to scan in this push", err=True)
            raise _ExitCode(EXIT_CLEAN)
        commit_range, branch, history = push.commit_range, push.branch, True

    options = ScanOptions(
        paths=paths or (Path("."),),
        staged=staged,
        history=history,
        commit_range=commit_range,
        since=since,
        branch=branch,
        stash=stash,
        config_path=config_path,
        baseline_path=baseline_path,
        use_baseline=not no_baseline,
        excludes=exclude,
        max_file_size=max_file_size,
        min_confidence=min_confidence,
        show_secrets=show_secrets,
        jobs=jobs,
        progress=not quiet and sys.stderr.isatty(),
    )
    result, prepared = run_scan(options)
    text = render(fmt, result, prepared.rules, color=_use_color(output), show_secrets=show_secrets)
    _emit(text, output, private=show_secrets)
    if output is not None and not quiet:
        from .report.text import summary_line

        click.echo(summary_line(result), err=True)
    raise _ExitCode(EXIT_FINDINGS if result.findings and not exit_zero else EXIT_CLEAN)


@cli.group()
def rules() -> None:
    """Inspect the rule set."""


@rules.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file with extra rules.")
def rules_list(as_json: bool, config_path: Path | None) -> None:
    """List every rule: id, provider, severity, confidence, keywords."""
    import json

    from .config import find_config, load_config
    from .rules import load_rules

    config = load_config(config_path or find_config(Path(".")))
    loaded, _verify, _revoke = load_rules(config.rule_files, config.disable)
    if as_json:
        rows = [
            {
                "id": r.id,
                "provider": r.provider,
                "description": r.description,
                "severity": r.severity,
                "confidence": r.confidence,
                "keywords": list(r.keywords),
                "min_entropy": r.min_entropy,
                "verify": r.verify,
                "revoke": r.revoke,
                "source": Path(r.source).name,
            }
            for r in loaded
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    width = max((len(r.id) for r in loaded), default=10)
    click.echo(f"{'ID':{width}}  {'PROVIDER':20}  {'SEVERITY':8}  CONFIDENCE  DESCRIPTION")
    for r in loaded:
        click.echo(f"{r.id:{width}}  {r.provider[:20]:20}  {r.severity:8}  {r.confidence:10}  {r.description}")
    providers = {r.provider for r in loaded}
    click.echo(f"\n{len(loaded)} rules, {len(providers)} providers")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get(_DEBUG_ENV) == "1"

    def invoke() -> int:
        try:
            cli.main(args=args, prog_name="leaktrap", standalone_mode=False)
        except _ExitCode as done:
            return done.code
        except click.exceptions.Abort:
            raise KeyboardInterrupt from None
        except click.exceptions.Exit as ex:
            return ex.exit_code
        except click.ClickException as exc:
            exc.show()
            return 2
        return EXIT_CLEAN

    return run_guarded(invoke, debug=debug)
