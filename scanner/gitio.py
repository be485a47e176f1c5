"""The one module that talks to git.

Every call goes through :func:`git_command`, which disables everything a
repository can configure to run code (hooks, fsmonitor, pagers, external diff,
textconv, ssh commands) and never asks for credentials. Output is read with
``-z`` plumbing so that any path survives.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from .errors import GitError

# Options that neutralise what a hostile repository configuration could run.
SAFE_CONFIG: tuple[str, ...] = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "core.sshCommand=false",
    "core.askPass=",
    "diff.external=",
    "credential.helper=",
    "protocol.allow=never",
    "uploadpack.packObjectsHook=",
    "core.untrackedCache=false",
    "gc.auto=0",
    "maintenance.auto=false",
    "log.showSignature=false",
    "color.ui=false",
    "i18n.logOutputEncoding=UTF-8",
)

# Options for every command that could show a diff: no repository-configured
# program (external diff, textconv), no colour, no renames (cheap and exact).
DIFF_SAFE: tuple[str, ...] = ("--no-ext-diff", "--no-textconv", "--no-color", "--no-renames")


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_OPTIONAL_LOCKS": "0",
            "GIT_PAGER": "cat",
            "PAGER": "cat",
            "GIT_ASKPASS": "",
            "SSH_ASKPASS": "",
            "GIT_EXTERNAL_DIFF": "",
            "LC_ALL": "C",
        }
    )
    return env


def git_executable() -> str:
    exe = shutil.which("git")
    if exe is None:
        raise GitError("git is not installed or not on PATH")
    return exe


def git_command(cwd: Path | str, args: Sequence[str]) -> list[str]:
    cmd = [git_executable(), "--no-pager"]
    for option in SAFE_CONFIG:
        cmd += ["-c", option]
    cmd += ["-C", str(cwd)]
    cmd += list(args)
    return cmd


def run_git(cwd: Path | str, args: Sequence[str], *, input_bytes: bytes | None = None, check: bool = True) -> bytes:
    """Run one git command and return stdout; a failure is a GitError with git's own words."""
    try:
        proc = subprocess.run(
            git_command(cwd, args),
            input=input_bytes,
            capture_output=True,
            env=git_env(),
            stdin=None if input_bytes is not None else subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = message[-1] if message else f"exit status {proc.returncode}"
        raise GitError(f"git {args[0] if args else ''} failed in {cwd}: {detail}")
    return proc.stdout


def toplevel(path: Path) -> Path | None:
    """The work tree root containing ``path``, or None outside a work tree."""
    start = path if path.is_dir() else path.parent
    if shutil.which("git") is None:
        return None
    try:
        out = run_git(start, ["rev-parse", "--show-toplevel"], check=True)
    except GitError:
        return None
    text = out.decode("utf-8", "surrogateescape").strip()
    return Path(text) if text else None


def ls_files(root: Path, pathspecs: Sequence[str] = ()) -> list[str]:
    """Tracked plus untracked-but-not-ignored files under ``root`` (paths relative to it)."""
    args = ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--deduplicate"]
    if pathspecs:
        args += ["--", *pathspecs]
    out = run_git(root, args)
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def submodule_paths(root: Path) -> set[str]:
    """Gitlinks in the index (submodules), which are directories we do not descend into."""
    out = run_git(root, ["ls-files", "-z", "--stage"])
    paths: set[str] = set()
    for entry in out.decode("utf-8", "surrogateescape").split("\0"):
        if entry.startswith("160000 "):
            paths.add(entry.split("\t", 1)[1])
    return paths
