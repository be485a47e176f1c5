"""`leaktrap baseline audit`: questions on a terminal (CliRunner and a real pseudo-terminal)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from conftest import Repo, run_cli, token

from scanner import baseline as bl
from scanner.cli import cli


def secret(seed: int) -> str:
    return token("ghp_{alnum:36}", seed=f"audit:{seed}")


def prepared(repo: Repo) -> list[str]:
    raws = [secret(1), secret(2), secret(3)]
    for n, raw in enumerate(raws):
        repo.write(f"f{n}.py", f"import os\n\n# credentials for the demo\nTOKEN = \"{raw}\"\nprint(TOKEN)\n")
    res = run_cli("baseline", "create", cwd=repo.path)
    assert res.code == 0, res.err
    return raws


def by_path(repo: Repo) -> dict[str, bl.Entry]:
    return {e.path: e for e in bl.load(repo.path / "baseline.json").entries}


def test_audit_through_clirunner(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    raws = prepared(repo)
    monkeypatch.chdir(repo.path)
    result = CliRunner().invoke(cli, ["baseline", "audit", "--interactive"], input="f\nonly a demo\nt\n\nq\n")
    assert result.exit_code == 0, result.output
    assert "# credentials for the demo" in result.output  # context around the finding
    assert "> " in result.output and "ghp_****" in result.output
    assert all(raw not in result.output for raw in raws)
    got = by_path(repo)
    assert (got["f0.py"].label, got["f0.py"].note) == ("false-positive", "only a demo")
    assert (got["f1.py"].label, got["f1.py"].note) == ("true-positive", "")
    assert got["f2.py"].label == "unlabelled"  # quit before it

    again = CliRunner().invoke(cli, ["baseline", "audit", "--interactive"], input="s\n")
    assert again.exit_code == 0
    assert "[1/1]" in again.output  # only the unlabelled one is asked about


def test_neighbouring_secrets_are_masked_too_and_asked_in_line_order(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = secret(4), secret(5)
    repo.write("app.py", f'A = "{first}"\nB = "{second}"\n')
    assert run_cli("baseline", "create", cwd=repo.path).code == 0
    monkeypatch.chdir(repo.path)
    result = CliRunner().invoke(cli, ["baseline", "audit", "--interactive"], input="s\ns\n")
    assert result.exit_code == 0, result.output
    assert first not in result.output and second not in result.output
    assert result.output.index("app.py:1") < result.output.index("app.py:2")


def test_show_secrets_reveals_them_in_context(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    raws = prepared(repo)
    monkeypatch.chdir(repo.path)
    result = CliRunner().invoke(cli, ["baseline", "audit", "--interactive", "--show-secrets"], input="q\n")
    assert raws[0] in result.output


def test_audit_without_a_terminal_asks_for_label(repo: Repo) -> None:
    prepared(repo)
    res = run_cli("baseline", "audit", cwd=repo.path, input="")
    assert res.code == 2 and "--label" in res.err


def _read_until(fd: int, wanted: bytes, seen: bytearray, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out waiting for {wanted!r}; got {bytes(seen)[-500:]!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                raise AssertionError(f"process ended before {wanted!r}; got {bytes(seen)[-500:]!r}")
            seen.extend(chunk)


@pytest.mark.skipif(not hasattr(pty, "openpty") or sys.platform == "win32", reason="needs a pseudo-terminal")
def test_audit_on_a_pseudo_terminal_saves_after_each_answer(repo: Repo) -> None:
    raws = prepared(repo)
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "LEAKTRAP_DEBUG"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "scanner", "baseline", "audit"],
        cwd=repo.path, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
    )
    os.close(slave)
    seen = bytearray()
    try:
        _read_until(master, b"[q]uit", seen)
        os.write(master, b"f\n")
        _read_until(master, b"Note", seen)
        os.write(master, b"vendored test data\n")
        _read_until(master, b"saved", seen)
        assert by_path(repo)["f0.py"].label == "false-positive"  # saved before the next question
        _read_until(master, b"[2/3]", seen)
        os.write(master, b"q\n")
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert all(raw.encode() not in seen for raw in raws)
    assert by_path(repo)["f0.py"].note == "vendored test data"
    assert by_path(repo)["f1.py"].label == "unlabelled"
