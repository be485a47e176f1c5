"""The options of ``leaktrap scan``, as data, and a small parser for them.

:data:`SCAN_OPTIONS` is the one definition: the click command is built from it
(help text, types, defaults) and so is :func:`parse_scan_args`, the parser the
hook path uses so that it never imports click (tens of milliseconds per run).
The parser follows click's rules (``--opt value``, ``--opt=value``, ``-o FILE``,
``-oFILE``, grouped short flags ``-qj2``, interspersed arguments, ``--``) and
click's checks (choices, integer minimums, readable existing paths). Whatever
it does not fully accept (help, unknown options, a missing or invalid value)
makes it return None, and the caller hands the same argv to click, so errors
and help stay exactly click's.
"""

# No ``from __future__ import annotations`` here: typing.NamedTuple compiles every string
# annotation into a ForwardRef (about 0.15 ms a field, milliseconds on each hook run).

import os
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple


class Opt(NamedTuple):
    """One option of ``leaktrap scan``."""

    dest: str  # the parameter name
    flags: tuple[str, ...]  # "--output", "-o"
    help: str = ""
    kind: str = "str"  # flag | str | path | choice | int
    choices: tuple[str, ...] = ()
    min: int | None = None  # kind "int": the smallest value accepted
    default: Any = None
    multiple: bool = False
    metavar: str | None = None
    show_default: bool = False


SCAN_OPTIONS: tuple[Opt, ...] = (
    Opt("staged", ("--staged",), "Scan the content staged in the index (what the next commit holds).", "flag", default=False),
    Opt("history", ("--history",), "Scan the whole git history (all refs).", "flag", default=False),
    Opt("commit_range", ("--range",), "Scan only what the commits in A..B added.", metavar="A..B"),
    Opt("pre_push", ("--pre-push",), "Scan what a push adds (pre-commit's pre-push stage sets the refs).", "flag", default=False),
    Opt("since", ("--since",), "History: only commits after DATE.", metavar="DATE"),
    Opt("branch", ("--branch",), "History: only commits reachable from REF.", metavar="REF"),
    Opt("stash", ("--stash",), "History: also scan the stash entries.", "flag", default=False),
    Opt("baseline_path", ("--baseline",), "Baseline file (default: baseline.json at the repository root when present).", "path"),
    Opt("no_baseline", ("--no-baseline",), "Ignore any baseline.", "flag", default=False),
    Opt("config_path", ("--config",), "Config file (default: .leaktrap.toml or [tool.leaktrap] in pyproject.toml).", "path"),
    Opt("fmt", ("--format",), "", "choice", choices=("text", "json", "sarif"), default="text", show_default=True),
    Opt("output", ("--output", "-o"), "Write the report to FILE (atomically) instead of stdout.", "path"),
    Opt("exclude", ("--exclude",), "gitignore-style pattern to skip (repeatable).", multiple=True, default=(), metavar="PATTERN"),
    Opt("max_file_size", ("--max-file-size",), "Skip files larger than this many bytes.", "int", min=1),
    Opt("min_confidence", ("--min-confidence",), "Report only findings at least this confident.", "choice", choices=("high", "medium", "low")),
    Opt("exit_zero", ("--exit-zero",), "Exit 0 even when there are findings (report-only runs).", "flag", default=False),
    Opt("show_secrets", ("--show-secrets",), "Print raw secrets in the report (never the default).", "flag", default=False),
    Opt("jobs", ("--jobs", "-j"), "Worker processes (0: one per CPU for big scans).", "int", min=0, default=0),
    Opt("quiet", ("--quiet", "-q"), "No progress and no summary on stderr.", "flag", default=False),
    Opt("debug", ("--debug",), "Show tracebacks of internal errors.", "flag", default=False),
)
PATHS = "paths"  # the positional argument: files and folders (click.Path), any number

# click matches "--name" (and "--name=value") as long options, "-x" one letter at a time
_LONG: dict[str, Opt] = {f: opt for opt in SCAN_OPTIONS for f in opt.flags if f.startswith("--")}
_SHORT: dict[str, Opt] = {f: opt for opt in SCAN_OPTIONS for f in opt.flags if not f.startswith("--")}


class _Unsupported(Exception):
    """Something only click may answer (help, an error): the caller falls back to it."""


def parse_scan_args(args: Sequence[str]) -> dict[str, Any] | None:
    """The parameters click would pass to the ``scan`` command for ``args`` (the words
    after ``scan``), or None when click must handle them (help, errors, anything unusual)."""
    try:
        return _parse(deque(args))
    except _Unsupported:
        return None


def _parse(rest: deque[str]) -> dict[str, Any]:
    raw: dict[str, Any] = {}  # as given; like click, only the final value of an option is converted
    positional: list[str] = []
    while rest:
        arg = rest.popleft()
        if arg == "--":
            positional.extend(rest)
            break
        if arg[:1] != "-" or len(arg) == 1:
            positional.append(arg)
            continue
        name, eq, value = arg.partition("=")
        opt = _LONG.get(name)
        if opt is not None:
            if eq and opt.kind == "flag":
                raise _Unsupported  # "does not take a value"
            if eq:
                rest.appendleft(value)
            _take(raw, opt, rest)
        elif arg.startswith("--"):
            raise _Unsupported  # unknown option, or --help
        else:
            _short_group(raw, arg, rest)
    params = {PATHS: tuple(_path(p) for p in positional)}
    for opt in SCAN_OPTIONS:
        if opt.dest not in raw:
            params[opt.dest] = opt.default
        elif opt.multiple:
            params[opt.dest] = tuple(_convert(opt, v) for v in raw[opt.dest])
        else:
            params[opt.dest] = _convert(opt, raw[opt.dest])
    return params


def _short_group(raw: dict[str, Any], arg: str, rest: deque[str]) -> None:
    """``-q``, ``-oFILE``, ``-o=FILE`` (the value is ``=FILE``), ``-j2``, ``-qj2``."""
    for i, ch in enumerate(arg[1:], start=2):
        opt = _SHORT.get("-" + ch)
        if opt is None:
            raise _Unsupported  # unknown, or -h
        if opt.kind == "flag":
            raw[opt.dest] = True
            continue
        if i < len(arg):
            rest.appendleft(arg[i:])  # the rest of the word is the value
        _take(raw, opt, rest)
        return


def _take(raw: dict[str, Any], opt: Opt, rest: deque[str]) -> None:
    if opt.kind == "flag":
        raw[opt.dest] = True
    elif not rest:
        raise _Unsupported  # "requires an argument"
    elif opt.multiple:
        raw.setdefault(opt.dest, []).append(rest.popleft())
    else:
        raw[opt.dest] = rest.popleft()


def _convert(opt: Opt, raw: Any) -> Any:
    if opt.kind == "flag":
        return raw
    if opt.kind == "path":
        return _path(raw)
    if opt.kind == "choice":
        if raw not in opt.choices:
            raise _Unsupported
        return raw
    if opt.kind == "int":
        try:
            number = int(raw)
        except ValueError:
            raise _Unsupported from None
        if opt.min is not None and number < opt.min:
            raise _Unsupported
        return number
    return raw


def _path(raw: str) -> Path:
    """click.Path(path_type=Path): a path that exists must be readable."""
    try:
        os.stat(raw)
    except OSError:
        return Path(raw)
    except ValueError:  # an embedded NUL: click fails on it its own way
        raise _Unsupported from None
    if not os.access(raw, os.R_OK):
        raise _Unsupported
    return Path(raw)
