"""The click commands: thin adapters over typed functions.

``leaktrap scan`` takes its options from :data:`scanner.scanargs.SCAN_OPTIONS`
(the same table the click-free hook path parses with); the other commands live
in their own modules and are imported only when used.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import __version__
from .cli import _ExitCode, scan_command
from .scanargs import PATHS, SCAN_OPTIONS, Opt


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


def _click_option(opt: Opt) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    kwargs: dict[str, Any] = {"help": opt.help or None, "metavar": opt.metavar, "show_default": opt.show_default}
    if opt.kind == "flag":
        kwargs["is_flag"] = True
    elif opt.kind == "path":
        kwargs["type"] = click.Path(path_type=Path)
    elif opt.kind == "choice":
        kwargs["type"] = click.Choice(list(opt.choices))
    elif opt.kind == "int":
        kwargs["type"] = click.IntRange(min=opt.min)
    if opt.multiple:
        kwargs["multiple"] = True
    elif opt.kind != "flag" and opt.default is not None:
        kwargs["default"] = opt.default
    return click.option(*opt.flags, opt.dest, **kwargs)


def _scan_parameters(func: Callable[..., Any]) -> Callable[..., Any]:
    """The ``scan`` command's argument and options, in the table's order."""
    for opt in reversed(SCAN_OPTIONS):
        func = _click_option(opt)(func)
    return click.argument(PATHS, nargs=-1, type=click.Path(path_type=Path))(func)


@cli.command()
@_scan_parameters
def scan(**params: Any) -> None:
    """Scan PATHS (default: the current folder) for hard-coded secrets.

    Exit codes: 0 no new finding, 1 new findings, 2 usage/config/input error,
    3 internal error, 130 interrupted.
    """
    raise _ExitCode(scan_command(**params))


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
