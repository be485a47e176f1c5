"""User-facing errors and the one place that turns them into exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


class LeaktrapError(Exception):
    """An error the user can act on. Its message must never contain a raw secret."""

    exit_code = EXIT_USAGE
    label = "error"


class UsageError(LeaktrapError):
    label = "usage error"


class ConfigError(LeaktrapError):
    label = "config error"


class RuleError(ConfigError):
    label = "rule error"

    def __init__(self, source: str, rule_id: str | None, message: str) -> None:
        where = f"{source}" + (f" [rule {rule_id}]" if rule_id else "")
        super().__init__(f"{where}: {message}")
        self.source = source
        self.rule_id = rule_id


class InputError(LeaktrapError):
    label = "input error"


class GitError(InputError):
    label = "git error"


class BaselineError(InputError):
    label = "baseline error"


def run_guarded(func: Callable[[], int], stderr: TextIO | None = None, debug: bool = False) -> int:
    """Run ``func`` and map every outcome to an exit code.

    Known errors print one line; interrupts exit 130; anything else is an
    internal error (3) whose traceback is shown only with ``--debug``.
    """
    err = stderr if stderr is not None else sys.stderr
    try:
        return func()
    except LeaktrapError as exc:
        from .report.safe import printable

        print(f"leaktrap: {exc.label}: {printable(str(exc))}", file=err)
        return exc.exit_code
    except KeyboardInterrupt:
        print("leaktrap: interrupted", file=err)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_CLEAN
    except Exception as exc:  # noqa: BLE001 - this is the one place that catches everything
        if debug:
            import traceback

            traceback.print_exc(file=err)
        print(
            f"leaktrap: internal error: {type(exc).__name__} (run with --debug for details; "
            "please report it)",
            file=err,
        )
        return EXIT_INTERNAL
