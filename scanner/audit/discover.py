"""Which repositories an audit covers: the paths given, the repositories under a folder,
or the entries of a list file (``--repos FILE``).

Discovery only looks at names on disk (a ``.git`` entry, or the layout of a
bare repository); it never runs git and never follows a symbolic link, so a
hostile folder cannot send it elsewhere or into a loop. Whether git can really
read a repository is checked when it is audited: a broken one is reported as
failed, with git's reason, and the others go on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from .model import RepoAudit, Target, failed


@dataclass(frozen=True)
class Discovery:
    targets: tuple[Target, ...]
    problems: tuple[RepoAudit, ...]  # paths that are no repository: reported as failed


def discover(paths: Sequence[Path], repos_file: Path | None = None) -> Discovery:
    """Every repository named by ``paths`` and the lines of ``repos_file``, each once."""
    given = list(paths) + (read_repo_list(repos_file) if repos_file is not None else [])
    if not given:
        raise UsageError("nothing to audit: give one or more PATHs or --repos FILE")
    targets: dict[Path, Target] = {}
    problems: list[RepoAudit] = []
    for path in given:
        found, problem = _expand(path)
        if problem is not None:
            problems.append(problem)
        for target in found:
            targets.setdefault(_real(target.path), target)
    return Discovery(tuple(sorted(targets.values(), key=lambda t: t.name)), tuple(problems))


def read_repo_list(path: Path) -> list[Path]:
    """One path a line; blank lines and ``#`` comments are ignored; relative paths
    are taken from the list file's folder."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise UsageError(f"--repos {path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"--repos {path}: not UTF-8 text") from None
    base = path.parent
    return [_from_list(base, line.strip()) for line in text.splitlines() if _is_entry(line)]


def _is_entry(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _from_list(base: Path, entry: str) -> Path:
    candidate = Path(os.path.expanduser(entry))
    return candidate if candidate.is_absolute() else base / candidate


def _expand(path: Path) -> tuple[list[Target], RepoAudit | None]:
    shown = path.as_posix()
    if path.is_symlink() and not path.is_dir():
        return [], failed(Target(Path(os.path.abspath(path)), shown), "a symbolic link to no folder")
    if not path.is_dir():
        reason = "no such folder" if not path.exists() else "not a folder"
        return [], failed(Target(Path(os.path.abspath(path)), shown), reason)
    kind = repository_kind(path)
    if kind is not None:
        return [Target(Path(os.path.abspath(path)), shown, bare=kind == "bare")], None
    found = list(repositories_under(path))
    if not found:
        return [], failed(Target(Path(os.path.abspath(path)), shown), "not a git repository, and no repository below it")
    return found, None


def repository_kind(folder: Path) -> str | None:
    """``"worktree"`` (a ``.git`` folder or file), ``"bare"`` (HEAD, objects/ and refs/), or None."""
    dot_git = folder / ".git"
    if dot_git.is_symlink() or dot_git.exists():
        return "worktree"
    if (folder / "HEAD").is_file() and (folder / "objects").is_dir() and (folder / "refs").is_dir():
        return "bare"
    return None


def repositories_under(folder: Path) -> Iterator[Target]:
    """Repositories below ``folder`` (not inside one: a repository's own folders are not searched)."""
    base = folder.as_posix().rstrip("/")
    for dirpath, dirnames, _files in os.walk(folder, followlinks=False, onerror=None):
        here = Path(dirpath)
        keep: list[str] = []
        for name in sorted(dirnames):
            child = here / name
            if child.is_symlink() or name == ".git":
                continue
            kind = repository_kind(child)
            if kind is None:
                keep.append(name)
                continue
            rel = child.relative_to(folder).as_posix()
            yield Target(Path(os.path.abspath(child)), f"{base}/{rel}", bare=kind == "bare")
        dirnames[:] = keep


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def containing_repository(path: Path, targets: Iterable[Target]) -> Target | None:
    """The audited repository ``path`` would be written into, if any (links resolved)."""
    real = Path(os.path.realpath(path))
    for target in targets:
        root = _real(target.path)
        if real == root or root in real.parents:
            return target
    return None
