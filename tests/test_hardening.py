"""Hostile names, interrupts, vanished files: defined outcomes, no leaks, no hangs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_cli, token

GH = "ghp_{alnum:36}"


def test_terminal_escapes_in_file_names_are_shown_escaped(tmp_path: Path) -> None:
    name = "evil\x1b]0;pwned\x07\x1b[2J.txt"
    (tmp_path / name).write_text(token(GH, 1) + "\n")
    res = run_cli("scan", "--no-baseline", str(tmp_path))
    assert res.code == 1
    assert "\x1b" not in res.out and "\x07" not in res.out
    assert "evil\\x1b]0;pwned\\x07\\x1b[2J.txt" in res.out


def _big_tree(root: Path, files: int = 40) -> None:
    """A tree that takes seconds whatever the engine's speed: a rule with catastrophic
    backtracking runs into its 0.2 s timeout on every file."""
    root.mkdir()
    (root / "slow.toml").write_text(
        "provider = \"Slow\"\n[[rules]]\nid = \"slow-rule\"\ndescription = \"slow\"\n"
        "regex = \'\'\'(?P<secret>(a|aa)+)$\'\'\'\nkeywords = [\"aaaa\"]\nmultiline = true\n"
        "[rules.examples]\npositive = [\'aaaa\']\nnegative = [\'b\']\n"
    )
    (root / ".leaktrap.toml").write_text('rules = ["slow.toml"]\nregex_timeout = 0.2\n')
    for i in range(files):
        (root / f"f{i:03}.txt").write_text("a" * 5000 + "b\n")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_exits_130_and_writes_no_report(tmp_path: Path, jobs: str) -> None:
    _big_tree(tmp_path / "tree")
    out = tmp_path / "report.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "scanner", "scan", "--no-baseline", "-j", jobs, "--format", "json",
         "--output", str(out), str(tmp_path / "tree")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    time.sleep(0.8)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal does on Ctrl-C: the whole group
    try:
        _stdout, stderr = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("leaktrap did not stop after Ctrl-C")
    if proc.returncode == 0:
        pytest.skip("the scan finished before the interrupt arrived")
    assert proc.returncode == 130
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
    assert not out.exists()


def test_vanished_file_is_reported_not_crashed(tmp_path: Path) -> None:
    from scanner.model import Skipped
    from scanner.sources.files import path_chunks

    items = list(path_chunks(tmp_path, "gone.txt", 1000))
    assert len(items) == 1 and isinstance(items[0], Skipped) and items[0].reason.startswith("missing")


def test_raw_secret_never_in_debug_output_of_a_failure(tmp_path: Path) -> None:
    secret = token(GH, 2)
    (tmp_path / "a.py").write_text(f'T = "{secret}"\n')
    (tmp_path / ".leaktrap.toml").write_text("max_file_size = -1\n")
    res = run_cli("scan", "--debug", str(tmp_path))
    assert res.code == 2
    assert secret not in res.out + res.err


def test_json_report_escapes_control_characters(tmp_path: Path) -> None:
    (tmp_path / "bad\x1bname.env").write_text(f"T={token(GH, 3)}\n")
    res = run_cli("scan", "--no-baseline", "--format", "json", str(tmp_path))
    assert "\x1b" not in res.out
    assert json.loads(res.out)["findings"][0]["path"] == "bad\x1bname.env"


def test_output_to_a_device_or_fifo_is_written_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text(f'T = "{token(GH, 4)}"\n')
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE, text=True)
    res = run_cli("scan", "--no-baseline", "--format", "json", "--output", str(fifo), str(tmp_path / "src"))
    out, _ = reader.communicate(timeout=30)
    assert res.code == 1
    assert json.loads(out)["findings"][0]["rule_id"] == "github-pat-classic"
    assert fifo.is_fifo()


def test_a_chunk_has_a_time_budget() -> None:
    from scanner.engine import EngineSettings, RuleSet, scan_chunk
    from scanner.model import Chunk
    from scanner.rules import load_rules

    rules = RuleSet(load_rules()[0])
    text = "".join(f'db_password_{i} = "Zq{i:06d}xK!v"\n' for i in range(20000))
    result = scan_chunk(Chunk(path="big.py", text=text), rules, EngineSettings(regex_timeout=0.001))
    assert any("time budget per file" in w for w in result.warnings)
    assert len(result.findings) < 20000
