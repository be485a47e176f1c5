"""The click-free parser of ``leaktrap scan`` options agrees with click on every argv.

``scanner.scanargs.parse_scan_args`` must return exactly the parameters click
would pass to the ``scan`` command, or None wherever click would not simply
run it (help, any usage error), so that click answers those itself.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Repo, token
from scanner import cli as cli_module
from scanner.cligroup import cli
from scanner.scanargs import PATHS, SCAN_OPTIONS, parse_scan_args

GH = "ghp_{alnum:36}"


def click_params(argv: list[str]) -> dict[str, Any] | None:
    """The parameters click gives the scan command for ``leaktrap scan ARGV`` (None: click
    stops with an error or after printing help)."""
    group = click.Context(cli, info_name="leaktrap", **cli.context_settings)
    try:
        with cli.commands["scan"].make_context("scan", list(argv), parent=group) as ctx:
            return dict(ctx.params)
    except (click.ClickException, click.exceptions.Exit):
        return None


def assert_same(argv: list[str]) -> dict[str, Any] | None:
    fast = parse_scan_args(argv)
    expected = click_params(argv)
    assert fast == expected, argv
    return fast


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # paths are checked like click.Path does (an existing one must be readable)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "existing.py").write_text("x = 1\n")
    (tmp_path / "folder").mkdir()


ACCEPTED = [
    [],
    ["--staged"],
    ["--staged", "--quiet", "app/settings.py", "existing.py"],  # what pre-commit passes
    ["--no-baseline", "--format", "json", "--show-secrets", "-o", "/tmp/h.json", "--staged"],
    ["--format=sarif", "--output=report.sarif", "folder"],
    ["-oreport.json", "-j2", "-q"],
    ["-o", "--staged"],  # the option's value, not a flag
    ["-o=x"],  # click: the value is "=x"
    ["-qj", "3", "folder"],
    ["-qj4"],
    ["-qo", "out.txt"],
    ["--jobs", " 7 "],
    ["--jobs=+2", "-j", "0"],
    ["--exclude", "*.py", "--exclude=docs/**", "--exclude", ""],
    ["--max-file-size", "1", "--min-confidence", "low"],
    ["--range", "A..B", "--since", "2020-01-01", "--branch", "main", "--stash"],
    ["--baseline", "b.json", "--config", "c.toml", "--no-baseline", "--exit-zero", "--debug"],
    ["--history", "--pre-push", "--format", "text"],
    ["--format", "json", "--format", "text"],  # the last one wins
    ["a.py", "--staged", "b.py"],  # interspersed
    ["--", "--staged", "-o", "x"],  # after "--" everything is a path
    ["-", "--", "-"],
    ["--output="],
    ["", "folder/"],
    ["--since", "-1"],
    ["--jobs", "--staged", "-j2"],  # only the last value is converted
    ["-o", "x", "-o", "y", "--max-file-size", "zero", "--max-file-size", "5"],
]

REJECTED = [
    ["-h"],
    ["--help"],
    ["folder", "--help"],
    ["-qh"],
    ["--version"],
    ["--bogus"],
    ["-x"],
    ["-qx"],
    ["-staged"],
    ["--staged=1"],
    ["--quiet="],
    ["-o"],
    ["--exclude"],
    ["--format"],
    ["--format", "xml"],
    ["--format", "JSON"],
    ["--format="],
    ["--min-confidence", "none"],
    ["--max-file-size", "0"],
    ["--max-file-size", "-5"],
    ["--max-file-size", "1.5"],
    ["-j", "-1"],
    ["-j", "two"],
    ["-j"],
    ["--jobs="],
    ["--stag"],  # no abbreviations
]


@pytest.mark.parametrize("argv", ACCEPTED, ids=lambda a: " ".join(a) or "(none)")
def test_the_fast_parser_accepts_what_click_accepts_with_the_same_parameters(argv: list[str]) -> None:
    assert assert_same(argv) is not None


@pytest.mark.parametrize("argv", REJECTED, ids=lambda a: " ".join(a))
def test_what_click_rejects_or_answers_itself_is_left_to_click(argv: list[str]) -> None:
    assert parse_scan_args(argv) is None
    assert click_params(argv) is None


WORDS = [
    "--staged", "--history", "--range", "A..B", "--pre-push", "--since", "--branch", "main", "--stash",
    "--baseline", "--no-baseline", "--config", "--format", "json", "sarif", "xml", "--format=text",
    "--output", "-o", "out.json", "-oout.json", "-o=x", "--output=r.txt", "--exclude", "*.py",
    "--exclude=a/**", "--max-file-size", "0", "1", "12", "-3", "1.5", "--min-confidence", "low", "LOW",
    "--exit-zero", "--show-secrets", "--jobs", "-j", "-j2", "-j-1", "-qj2", "-qj", "--jobs=0", "-q",
    "--quiet", "--debug", "--", "-", "", "existing.py", "folder", "missing/x.py", "--bogus", "-x", "-h",
    "--help", "--staged=1", "-qo", "--stag", "=", "--=x", "-=", " 3",
]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(WORDS), max_size=7))
def test_random_argv_gives_the_same_parameters_or_the_same_refusal(argv: list[str]) -> None:
    assert_same(argv)


def test_the_option_table_is_the_one_definition_of_the_scan_command() -> None:
    command = cli.commands["scan"]
    click_names = [p.name for p in command.params]
    assert click_names == [PATHS, *(o.dest for o in SCAN_OPTIONS)]
    signature = list(inspect.signature(cli_module.scan_command).parameters)
    assert signature == [PATHS, *(o.dest for o in SCAN_OPTIONS)]
    for opt in SCAN_OPTIONS:
        param = next(p for p in command.params if p.name == opt.dest)
        assert isinstance(param, click.Option)
        assert tuple(param.opts) == opt.flags
        assert param.multiple == opt.multiple


# ---------------------------------------------------------------- through main()


def staged_repo(repo: Repo) -> Repo:
    repo.commit("first", **{"README.md": "hello\n"})
    repo.write("app/settings.py", f'DEBUG = True\nTOKEN = "{token(GH, 7)}"\n')
    repo.write("clean.py", "x = 1\n")
    repo.git("add", "-A")
    return repo


def run_main(args: list[str], capsys: pytest.CaptureFixture[str], *, with_click: bool = False) -> tuple[int, str, str]:
    if with_click:
        code = cli_module.run_guarded(lambda: cli_module._click_main(args))
    else:
        code = cli_module.main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "args",
    [
        ["scan", "--staged"],
        ["scan", "--staged", "--quiet", "app/settings.py", "clean.py"],
        ["scan", "--staged", "--format", "json", "-q"],
        ["scan", "--staged", "--exit-zero", "app"],
        ["scan", "--staged", "--exclude", "app/**"],
        ["scan", "."],
        ["scan", "--format=sarif", "-q", "app"],
    ],
)
def test_main_without_click_prints_and_exits_as_click_does(
    repo: Repo, args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(staged_repo(repo).path)
    fast = run_main(args, capsys)
    slow = run_main(args, capsys, with_click=True)
    assert fast[0] == slow[0] and fast[0] in (0, 1)
    durations = r'(\d+\.\d+s|"duration_seconds": [0-9.]+)'
    assert re.sub(durations, "D", fast[1]) == re.sub(durations, "D", slow[1])
    assert re.sub(durations, "D", fast[2]) == re.sub(durations, "D", slow[2])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan", "--format", "xml"], "Invalid value for '--format'"),
        (["scan", "--max-file-size", "0"], "Invalid value for '--max-file-size'"),
        (["scan", "-j", "-1"], "Invalid value for '--jobs' / '-j': -1 is not in the range x>=0."),
        (["scan", "--bogus"], "No such option '--bogus'"),
        (["scan", "-o"], "Option '-o' requires an argument"),
        (["scan", "--staged=yes"], "Option '--staged' does not take a value"),
    ],
)
def test_usage_errors_are_clicks_own_with_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(args, capsys)
    assert code == 2
    assert message in err and not out


def test_help_is_clicks(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run_main(["scan", "--help"], capsys)
    assert code == 0
    assert "Usage: leaktrap scan [OPTIONS] [PATHS]..." in out and "--max-file-size INTEGER RANGE" in out


def test_the_hook_never_imports_click(repo: Repo) -> None:
    staged_repo(repo)
    code = (
        "import sys\n"
        "from scanner.cli import main\n"
        "rc = main(['scan', '--staged', '--quiet', 'app/settings.py', 'clean.py'])\n"
        "print(rc, 'click' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "LEAKTRAP_DEBUG"}
    proc = subprocess.run([sys.executable, "-P", "-c", code], cwd=repo.path, capture_output=True, text=True, env=env)
    assert proc.stdout.split()[-2:] == ["1", "False"], proc.stderr
