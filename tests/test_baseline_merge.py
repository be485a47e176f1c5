"""Two branches change the baseline; `git merge` combines them, with and without the driver."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from pathlib import Path

from conftest import Repo, run_cli, token

from scanner import baseline as bl

PROJECT = Path(__file__).resolve().parents[1]
DRIVER = f"{shlex.quote(sys.executable)} -m scanner baseline merge %O %A %B"


def secret(seed: int) -> str:
    return token("ghp_{alnum:36}", seed=f"merge:{seed}")


def start(repo: Repo, driver: bool) -> None:
    shutil.copy(PROJECT / ".gitattributes", repo.path / ".gitattributes")
    if driver:
        repo.git("config", "merge.leaktrap-baseline.name", "leaktrap baseline")
        repo.git("config", "merge.leaktrap-baseline.driver", DRIVER)


def add_secret(repo: Repo, rel: str, seed: int) -> None:
    repo.write(rel, f'TOKEN = "{secret(seed)}"\n')


def leaktrap(repo: Repo, *args: str) -> None:
    res = run_cli(*args, cwd=repo.path)
    assert res.code == 0, (args, res.out, res.err)


def entries(repo: Repo) -> dict[str, bl.Entry]:
    return {e.path: e for e in bl.load(repo.path / "baseline.json").entries}


def label(repo: Repo, path: str, value: str, note: str = "") -> None:
    fp = entries(repo)[path].fingerprint
    leaktrap(repo, "baseline", "audit", "--label", f"{fp}={value}", *(["--note", note] if note else []))


def merge(repo: Repo, branch: str) -> tuple[int, str]:
    out = repo.git("merge", "--no-edit", branch, check=False)
    status = repo.git("status", "--porcelain")
    conflicted = any(line[:2] in ("UU", "AA") for line in status.splitlines())
    return (1 if conflicted else 0), out + status


def test_driver_merges_entries_added_at_the_same_place_and_keeps_labels(repo: Repo) -> None:
    start(repo, driver=False)
    add_secret(repo, "b.py", 1)
    leaktrap(repo, "baseline", "create")
    repo.commit("baseline")
    repo.git("checkout", "-q", "-b", "feature")
    add_secret(repo, "c1.py", 2)
    leaktrap(repo, "baseline", "update")
    label(repo, "b.py", "false-positive", "documented example")
    repo.commit("feature: c1 accepted, b labelled")
    repo.git("checkout", "-q", "main")
    add_secret(repo, "c2.py", 3)
    leaktrap(repo, "baseline", "update")
    repo.commit("main: c2 accepted")

    # Without the driver both new lines land between b.py and the end marker: git conflicts.
    code, _ = merge(repo, "feature")
    assert code == 1
    repo.git("merge", "--abort")

    start(repo, driver=True)
    code, detail = merge(repo, "feature")
    assert code == 0, detail
    got = entries(repo)
    assert set(got) == {"b.py", "c1.py", "c2.py"}
    assert (got["b.py"].label, got["b.py"].note) == ("false-positive", "documented example")
    assert repo.git("status", "--porcelain").strip() == ""
    res = run_cli("scan", cwd=repo.path)
    assert res.code == 0, res.out
    assert "3 suppressed by baseline" in res.out


def test_line_layout_merges_without_the_driver_when_entries_differ(repo: Repo) -> None:
    start(repo, driver=False)  # .gitattributes names the driver, but this clone never set it up
    add_secret(repo, "b.py", 10)
    add_secret(repo, "d.py", 11)
    leaktrap(repo, "baseline", "create")
    repo.commit("baseline")
    repo.git("checkout", "-q", "-b", "feature")
    add_secret(repo, "a.py", 12)
    leaktrap(repo, "baseline", "update")
    repo.commit("feature: a accepted")
    repo.git("checkout", "-q", "main")
    add_secret(repo, "c.py", 13)
    add_secret(repo, "e.py", 14)  # sorts last: the end marker keeps the line before it unchanged
    leaktrap(repo, "baseline", "update")
    repo.commit("main: c and e accepted")

    code, detail = merge(repo, "feature")
    assert code == 0, detail
    text = (repo.path / "baseline.json").read_text()
    assert set(entries(repo)) == {"a.py", "b.py", "c.py", "d.py", "e.py"}
    assert bl.dumps(bl.loads(text)) == text  # the line merge produced the canonical file
    assert run_cli("scan", cwd=repo.path).code == 0


def test_driver_keeps_both_salts_when_both_branches_created_a_baseline(repo: Repo) -> None:
    start(repo, driver=True)
    repo.commit("start", README="hello\n")
    repo.git("checkout", "-q", "-b", "feature")
    add_secret(repo, "one.py", 20)
    leaktrap(repo, "baseline", "create")
    label(repo, "one.py", "true-positive", "rotated on 2024-05-01")
    repo.commit("feature baseline")
    repo.git("checkout", "-q", "main")
    add_secret(repo, "two.py", 21)
    leaktrap(repo, "baseline", "create")
    repo.commit("main baseline")

    code, detail = merge(repo, "feature")
    assert code == 0, detail
    data = json.loads((repo.path / "baseline.json").read_text())
    assert len(data["salts"]) == 2
    assert len({e["salt"] for e in data["entries"][:-1]}) == 2
    assert run_cli("scan", cwd=repo.path).code == 0

    leaktrap(repo, "baseline", "update")  # re-scans, so it can re-key everything to one salt
    data = json.loads((repo.path / "baseline.json").read_text())
    assert len(data["salts"]) == 1
    got = entries(repo)
    assert (got["one.py"].label, got["one.py"].note) == ("true-positive", "rotated on 2024-05-01")
    assert run_cli("scan", cwd=repo.path).code == 0


def test_driver_reports_two_different_labels_as_a_conflict(repo: Repo) -> None:
    start(repo, driver=True)
    add_secret(repo, "a.py", 30)
    leaktrap(repo, "baseline", "create")
    repo.commit("baseline")
    repo.git("checkout", "-q", "-b", "feature")
    label(repo, "a.py", "false-positive")
    repo.commit("feature says false positive")
    repo.git("checkout", "-q", "main")
    label(repo, "a.py", "true-positive")
    repo.commit("main says true positive")

    proc_out = repo.git("merge", "--no-edit", "feature", check=False)
    assert "CONFLICT" in proc_out
    got = entries(repo)  # still a valid baseline: ours kept, nothing lost
    assert got["a.py"].label == "true-positive"
