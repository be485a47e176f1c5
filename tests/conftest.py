"""Shared test helpers: real git repositories in tmp_path, generated secrets, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from scanner.template import generate

AUTHOR = {
    "GIT_AUTHOR_NAME": "Ada Tester",
    "GIT_AUTHOR_EMAIL": "ada@example.test",
    "GIT_COMMITTER_NAME": "Ada Tester",
    "GIT_COMMITTER_EMAIL": "ada@example.test",
}


def token(template: str = "ghp_{alnum:36}", seed: int | str = 0) -> str:
    """A secret generated from a format (never a literal in the repository)."""
    return generate(template, seed=f"test:{seed}")


def git(cwd: Path, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    full_env.update(AUTHOR)
    full_env["GIT_CONFIG_NOSYSTEM"] = "1"
    full_env["HOME"] = str(cwd)  # no user config leaks in
    if env:
        full_env.update(env)
    proc = subprocess.run(["git", *args], cwd=cwd, env=full_env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


@dataclass
class Repo:
    path: Path

    def write(self, rel: str, content: str | bytes) -> Path:
        p = self.path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
        return p

    def git(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
        return git(self.path, *args, env=env, check=check)

    def commit(self, message: str, date: str | None = None, **files: str) -> str:
        for rel, content in files.items():
            self.write(rel, content)
        self.git("add", "-A")
        env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else None
        self.git("commit", "-q", "--allow-empty", "-m", message, env=env)
        return self.git("rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", AUTHOR["GIT_AUTHOR_NAME"])
    git(path, "config", "user.email", AUTHOR["GIT_AUTHOR_EMAIL"])
    git(path, "config", "commit.gpgsign", "false")
    return Repo(path)


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(*args: str, cwd: Path | None = None, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    """Run ``python -m scanner`` as a user would (a real process)."""
    full_env = dict(os.environ)
    full_env.pop("LEAKTRAP_DEBUG", None)
    if env:
        full_env.update(env)
    proc = subprocess.run(
        [sys.executable, "-m", "scanner", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=input,
        env=full_env,
        timeout=300,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli():
    return run_cli


# Provider tests: proxies point at a dead loopback port, so a call that escaped the
# base-URL overrides would fail there instead of reaching any other address.
NO_NETWORK = {
    "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9", "NO_PROXY": "", "no_proxy": "",
}


@pytest.fixture(scope="module")
def _server():
    """A real HTTP server on 127.0.0.1 speaking the providers' APIs (one per test module)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def srv(_server: HTTPServer) -> HTTPServer:
    # the server thread logs a request just after answering it: let the previous test's
    # last entry land before clearing, or it shows up in this test's log
    time.sleep(0.1)
    _server.clear()
    return _server
