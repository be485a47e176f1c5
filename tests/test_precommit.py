"""The hooks through the real pre-commit framework, in real repositories."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import AUTHOR, Repo, git, token

ROOT = Path(__file__).resolve().parent.parent
GH = "ghp_{alnum:36}"
IGNORE = shutil.ignore_patterns(".git", ".venv*", "__pycache__", "*.egg-info", "build", "dist", ".pytest_cache", ".corpus", ".hypothesis")


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """This project's current tree as a git repository with one commit (pre-commit needs a rev)."""
    dest = tmp_path_factory.mktemp("hookrepo") / "leaktrap"
    shutil.copytree(ROOT, dest, ignore=IGNORE)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "leaktrap under test")
    return dest, git(dest, "rev-parse", "HEAD").strip()


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def hooked(repo: Repo, hook_repo: tuple[Path, str], pre_commit_home: Path) -> Repo:
    path, rev = hook_repo
    repo.write(
        ".pre-commit-config.yaml",
        f"repos:\n  - repo: {path}\n    rev: {rev}\n    hooks:\n      - id: leaktrap\n      - id: leaktrap-push\n",
    )
    repo.commit("add pre-commit config")
    return repo


def pre_commit(repo: Repo, home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    full.update(AUTHOR)
    full["PRE_COMMIT_HOME"] = str(home)
    full["PRE_COMMIT_COLOR"] = "never"
    if env:
        full.update(env)
    exe = Path(sys.executable).with_name("pre-commit")
    return subprocess.run([str(exe), *args], cwd=repo.path, env=full, capture_output=True, text=True, timeout=600)


def test_staged_token_is_blocked_with_file_line_and_rule(hooked: Repo, pre_commit_home: Path) -> None:
    secret = token(GH, 1)
    hooked.write("app/settings.py", f'DEBUG = True\nTOKEN = "{secret}"\n')
    hooked.git("add", "app/settings.py")
    res = pre_commit(hooked, pre_commit_home, "run")
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    assert "app/settings.py" in out and "2:10" in out and "github-pat-classic" in out
    assert "ghp_****" in out and secret not in out
    assert "revoke or rotate" in out


def test_clean_commit_passes_and_staged_content_is_what_counts(hooked: Repo, pre_commit_home: Path) -> None:
    hooked.write("clean.py", "x = 1\n")
    hooked.git("add", "clean.py")
    res = pre_commit(hooked, pre_commit_home, "run")
    assert res.returncode == 0, res.stdout + res.stderr


def test_baseline_and_inline_allow_are_respected(hooked: Repo, pre_commit_home: Path) -> None:
    known = token(GH, 2)
    hooked.commit("known secret", **{"legacy.py": f'OLD = "{known}"\n'})
    assert subprocess.run(
        [sys.executable, "-m", "scanner", "baseline", "create"], cwd=hooked.path, capture_output=True
    ).returncode == 0
    hooked.commit("baseline", **{"notes.txt": "n\n"})
    hooked.write("legacy.py", f'OLD = "{known}"\nX = 2\n')
    hooked.write("fixture.py", f'FAKE = "{token(GH, 3)}"  # leaktrap:allow\n')
    hooked.git("add", "-A")
    res = pre_commit(hooked, pre_commit_home, "run")
    assert res.returncode == 0, res.stdout + res.stderr


def test_all_files_is_a_real_scan(hooked: Repo, pre_commit_home: Path) -> None:
    secret = token(GH, 4)
    hooked.commit("sneaked in", **{"deep/old.cfg": f"token={secret}\n"})
    res = pre_commit(hooked, pre_commit_home, "run", "--all-files")
    out = res.stdout + res.stderr
    assert res.returncode == 1
    assert "deep/old.cfg" in out and secret not in out


def test_git_commit_is_blocked_after_install(hooked: Repo, pre_commit_home: Path) -> None:
    assert pre_commit(hooked, pre_commit_home, "install").returncode == 0
    hooked.write("k.env", f"API_TOKEN={token(GH, 5)}\n")
    hooked.git("add", "k.env")
    env = {**AUTHOR, "PRE_COMMIT_HOME": str(pre_commit_home), "PRE_COMMIT_COLOR": "never",
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    res = subprocess.run(["git", "commit", "-m", "oops"], cwd=hooked.path, env={**os.environ, **env},
                         capture_output=True, text=True, timeout=600)
    assert res.returncode != 0
    assert "k.env" in res.stdout + res.stderr
    assert hooked.git("log", "--oneline").count("\n") == 1  # only the config commit


def test_pre_push_blocks_pushed_secret_and_passes_clean_push(hooked: Repo, pre_commit_home: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    hooked.git("remote", "add", "origin", str(remote))
    assert pre_commit(hooked, pre_commit_home, "install", "--hook-type", "pre-push").returncode == 0
    env = {**os.environ, **AUTHOR, "PRE_COMMIT_HOME": str(pre_commit_home), "PRE_COMMIT_COLOR": "never",
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    first = subprocess.run(["git", "push", "-q", "origin", "main"], cwd=hooked.path, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stdout + first.stderr
    hooked.commit("clean change", **{"a.py": "a = 1\n"})
    hooked.commit("leak", **{"b.py": f'B = "{token(GH, 6)}"\n'})
    blocked = subprocess.run(["git", "push", "-q", "origin", "main"], cwd=hooked.path, env=env, capture_output=True, text=True)
    assert blocked.returncode != 0
    assert "b.py" in blocked.stdout + blocked.stderr
    hooked.git("reset", "-q", "--hard", "HEAD~1")
    clean = subprocess.run(["git", "push", "-q", "origin", "main"], cwd=hooked.path, env=env, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stdout + clean.stderr


def test_push_scan_reads_pre_commit_refs() -> None:
    from scanner.prepush import ZERO, push_scan

    a, b = "a" * 40, "b" * 40
    assert push_scan({"PRE_COMMIT_FROM_REF": a, "PRE_COMMIT_TO_REF": b}).commit_range == f"{a}..{b}"
    assert push_scan({"PRE_COMMIT_FROM_REF": a, "PRE_COMMIT_TO_REF": ZERO}).nothing
    assert push_scan({"PRE_COMMIT_LOCAL_BRANCH": "refs/heads/topic"}).branch == "refs/heads/topic"
    assert push_scan({}).branch == "HEAD"
