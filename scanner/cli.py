"""Command line entry point: ``main(argv) -> int``.

``leaktrap scan ...`` (the pre-commit hook) is parsed by :mod:`scanner.scanargs`
and run without importing click; everything else (other commands, help,
``--version``, any usage error) goes through the click commands of
:mod:`scanner.cligroup`, built from the same option table.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import EXIT_CLEAN, EXIT_FINDINGS, run_guarded

# ``main`` reads this to decide whether tracebacks are shown (set by --debug).
_DEBUG_ENV = "LEAKTRAP_DEBUG"
# click's shell completion hook: when set, click must answer
_COMPLETE_ENV = "_LEAKTRAP_COMPLETE"


class _ExitCode(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` for the text we print: write, then flush (no stream: nothing).

    click would also strip ANSI codes on a non-terminal; ours carry colour only on a
    terminal and escape every control character of untrusted text (report.safe)."""
    stream = sys.stderr if err else sys.stdout
    if stream is None:
        return
    stream.write(text + "\n" if nl else text)
    stream.flush()


def _emit(text: str, output: Path | None, private: bool = False) -> None:
    if output is None:
        echo(text, nl=False)
        return
    from .atomic import write_report

    write_report(output, text, private=private)


def _use_color(output: Path | None) -> bool:
    return output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def scan_command(
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
) -> int:
    """``leaktrap scan`` with its parsed options (see scanargs.SCAN_OPTIONS): the exit code."""
    del debug  # read by main() before parsing
    with _importing():
        from .report import render
        from .scan import ScanOptions, run_scan

    if pre_push:
        from .prepush import push_scan

        push = push_scan(os.environ)
        if push.nothing:
            if not quiet:
                echo("leaktrap: nothing new to scan in this push", err=True)
            return EXIT_CLEAN
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

        echo(summary_line(result), err=True)
    return EXIT_FINDINGS if result.findings and not exit_zero else EXIT_CLEAN


@contextmanager
def _importing() -> Iterator[None]:
    """The first import of the scan modules makes thousands of objects that live as long as
    the process; the cyclic GC would walk them again and again (several ms of a hook run).
    It pauses while they are made, and they are then frozen out of its way, once."""
    import gc

    if "scanner.scan" in sys.modules:
        yield
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _fast_scan(args: list[str]) -> Callable[[], int] | None:
    """``scan`` with options the small parser fully accepts: run without click."""
    if not args or args[0] != "scan" or _COMPLETE_ENV in os.environ:
        return None
    from .scanargs import parse_scan_args

    params = parse_scan_args(args[1:])
    if params is None:
        return None
    return lambda: _as_click_would(params)


def _as_click_would(params: dict[str, Any]) -> int:
    """Run the scan command with click's handling of what escapes a command: Ctrl-C
    (and EOF) after an empty line become an interrupt, a closed pipe exits 1 quietly."""
    import errno

    try:
        return scan_command(**params)
    except (EOFError, KeyboardInterrupt):
        echo("", err=True)
        raise KeyboardInterrupt from None
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        from click import utils

        pacify: Any = utils.PacifyFlushWrapper  # no error at exit when flushing into the closed pipe
        sys.stdout, sys.stderr = pacify(sys.stdout), pacify(sys.stderr)
        sys.exit(1)


def _click_main(args: list[str]) -> int:
    import click

    from .cligroup import cli

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


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get(_DEBUG_ENV) == "1"
    fast = _fast_scan(args)
    return run_guarded(fast if fast is not None else lambda: _click_main(args), debug=debug)


def console() -> None:
    """The ``leaktrap`` command: :func:`main`, then exit without tearing the interpreter
    down. Freeing every module and object costs a hook run about 2 ms, and by now the
    report is written and closed; only the standard streams need a flush."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: let Python's own exit report it
        sys.exit(code)
    os._exit(code)


def __getattr__(name: str) -> Any:
    """``scanner.cli.cli`` (the click group) is built on first use."""
    if name == "cli":
        from .cligroup import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
