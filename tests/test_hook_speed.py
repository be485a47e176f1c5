"""The pre-commit hook path stays lean: what it imports, how many git processes it starts,
and ``python -m scanner`` never importing the scanned folder's files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Repo, token
from scanner import gitio

GH = "ghp_{alnum:36}"
HEAVY = ("click", "pathspec", "regex._regex_core", "tomllib", "scanner.cligroup", "importlib.resources", "dataclasses", "inspect")


def staged(repo: Repo) -> Repo:
    repo.commit("first", **{"README.md": "hello\n"})
    repo.write("app/settings.py", f'password = "hunter2hunter2"\nTOKEN = "{token(GH, 3)}"\n')
    repo.write("notes.txt", "nothing here\n")
    repo.git("add", "-A")
    return repo


def hook_run(repo: Repo, cache: Path, *args: str) -> tuple[int, list[str]]:
    """``leaktrap scan --staged ARGS`` in a fresh process: exit code and the heavy modules it imported."""
    code = (
        "import sys\n"
        "from scanner.cli import main\n"
        f"rc = main(['scan', '--staged', '--quiet', *{list(args)!r}])\n"
        f"print(rc, *[m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    env = dict(os.environ, LEAKTRAP_CACHE_DIR=str(cache))
    env.pop("LEAKTRAP_DEBUG", None)
    proc = subprocess.run([sys.executable, "-P", "-c", code], cwd=repo.path, capture_output=True, text=True, env=env)
    last = proc.stdout.strip().splitlines()[-1].split()
    return int(last[0]), last[1:]


@pytest.mark.parametrize("files", [(), ("app/settings.py", "notes.txt")])
def test_a_warm_hook_run_imports_no_heavy_module(repo: Repo, tmp_path: Path, files: tuple[str, ...]) -> None:
    staged(repo)
    cache = tmp_path / "cache"
    first = hook_run(repo, cache, *files)  # fills the caches (parsed rules, prefilter, programs)
    assert first[0] == 1
    assert hook_run(repo, cache, *files) == (1, [])


def test_a_config_file_is_still_read(repo: Repo, tmp_path: Path) -> None:
    staged(repo)
    repo.write(".leaktrap.toml", 'exclude = ["app/**"]\n')
    cache = tmp_path / "cache"
    hook_run(repo, cache)
    # the exclude is compiled by pathspec (which brings its own dataclasses)
    assert hook_run(repo, cache) == (0, ["pathspec", "tomllib", "dataclasses", "inspect"])


def test_a_staged_scan_starts_few_git_processes(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    staged(repo)
    monkeypatch.chdir(repo.path)
    started: list[str] = []
    real = gitio.git_command

    def counting(cwd: Path | str, args: list[str]) -> list[str]:
        started.append(args[0])
        return real(cwd, args)

    monkeypatch.setattr(gitio, "git_command", counting)
    from scanner.cli import main

    assert main(["scan", "--staged", "-q", "--format", "json", "-o", os.devnull]) == 1
    # one rev-parse: work tree root, git directory and HEAD together
    assert started == ["rev-parse", "diff-index", "cat-file"]
    started.clear()
    assert main(["scan", "--staged", "-q", "--format", "json", "-o", os.devnull, "app/settings.py", "notes.txt"]) == 1
    assert started == ["rev-parse", "ls-files", "cat-file"]


def test_locating_the_work_tree_also_gives_the_repository_state(repo: Repo, tmp_path: Path) -> None:
    git_dir = Path(os.path.realpath(repo.path / ".git"))
    assert gitio.repo_state(repo.path) == (git_dir, None)  # no commit yet
    assert gitio.locate(repo.path) == (Path(os.path.realpath(repo.path)), gitio.RepoState(git_dir, None))
    head = repo.commit("first", **{"a.txt": "a\n"})
    sub = repo.path / "sub"
    sub.mkdir()
    located = gitio.locate(sub)
    assert located is not None and located.root == Path(os.path.realpath(repo.path))
    assert located.state == gitio.RepoState(git_dir, head) == gitio.repo_state(located.root)
    assert gitio.locate(tmp_path) is None  # not a repository
    repo.git("worktree", "add", "-q", str(tmp_path / "wt"))
    located = gitio.locate(tmp_path / "wt")
    assert located is not None and located.root == Path(os.path.realpath(tmp_path / "wt"))
    assert located.state == gitio.repo_state(tmp_path / "wt") and located.state.git_dir.parent.name == "worktrees"


def test_a_repository_without_commits_is_scanned_from_its_index(repo: Repo, tmp_path: Path) -> None:
    repo.write("app/settings.py", f'TOKEN = "{token(GH, 4)}"\n')
    repo.git("add", "-A")
    assert hook_run(repo, tmp_path / "cache")[0] == 1
    assert hook_run(repo, tmp_path / "cache") == (1, [])


def test_python_m_scanner_does_not_import_the_scanned_folders_modules(repo: Repo) -> None:
    staged(repo)
    marker = repo.path / "imported.txt"
    for name in ("selectors", "json", "dataclasses", "tempfile", "hashlib"):
        repo.write(f"{name}.py", f"open({str(marker)!r}, 'a').write({name!r})\nraise SystemExit(99)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("LEAKTRAP_DEBUG", "PYTHONSAFEPATH")}
    proc = subprocess.run(
        [sys.executable, "-m", "scanner", "scan", "--staged", "--format", "json", "app/settings.py"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 1, proc.stderr
    assert '"github-pat-classic"' in proc.stdout
    assert not marker.exists()
