"""Files of a folder or work tree -> Chunks.

Inside a git work tree the files are those git knows plus untracked ones it
does not ignore; elsewhere the tree is walked honouring every ``.gitignore``.
Symbolic links are never followed (no escape from the root, no loops);
binary, oversized, special and unreadable files are reported as skipped.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .. import config, gitio
from ..model import Chunk, Origin, Skipped
from ..record import record
from . import notebooks
from .text import decode

if TYPE_CHECKING:
    import pathspec

DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024


@record
class FileSet:
    """The files a scan of one target reads, and what discovery skipped."""

    root: Path
    paths: tuple[str, ...]  # relative to root, posix
    skipped: tuple[Skipped, ...]
    in_git: bool
    tracked: frozenset[str] = frozenset()  # the paths (as in ``paths``) that git tracks


def discover(target: Path, excludes: Sequence[str] = ()) -> FileSet:
    """Which files a scan of ``target`` reads."""
    exclude_spec = config.exclude_spec(excludes) if excludes else None
    if target.is_file() or target.is_symlink() and not target.is_dir():
        return FileSet(root=target.parent, paths=(target.name,), skipped=(), in_git=False)
    top = gitio.toplevel(target)
    skipped: list[Skipped] = []
    rel = target.resolve().relative_to(top.resolve()).as_posix() if top is not None and _same_or_inside(target, top) else None
    if top is not None and rel is not None and rel != "." and gitio.is_ignored(top, rel):
        # the user named a folder that git ignores: scan it as a plain folder
        top = None
    if top is not None and rel is not None:
        listed = gitio.ls_files(top, [rel] if rel != "." else [])
        prefix = "" if rel == "." else rel + "/"
        submodules = gitio.submodule_paths(top)
        tracked_all = gitio.tracked_files(top)
        tracked = frozenset(p[len(prefix):] for p in tracked_all if p.startswith(prefix))
        paths = []
        for p in listed:
            sub = p[len(prefix):] if p.startswith(prefix) else p
            if p in submodules:
                skipped.append(Skipped(sub, "submodule (not scanned; scan it on its own)"))
                continue
            paths.append(sub)
        in_git = True
    else:
        paths, skipped = _walk(target)
        in_git = False
        tracked = frozenset()
    if exclude_spec is not None:
        paths = [p for p in paths if not exclude_spec.match_file(p)]
    return FileSet(root=target, paths=tuple(sorted(paths)), skipped=tuple(skipped), in_git=in_git, tracked=tracked)


def _same_or_inside(path: Path, top: Path) -> bool:
    try:
        path.resolve().relative_to(top.resolve())
        return True
    except ValueError:
        return False


def _walk(root: Path) -> tuple[list[str], list[Skipped]]:
    out: list[str] = []
    skipped: list[Skipped] = []
    stack: list[tuple[str, list[tuple[str, pathspec.PathSpec]]]] = [("", [])]
    while stack:
        rel_dir, specs = stack.pop()
        abs_dir = root / rel_dir if rel_dir else root
        specs = list(specs)
        ignore_file = abs_dir / ".gitignore"
        if ignore_file.is_file() and not ignore_file.is_symlink():
            try:
                lines = ignore_file.read_text("utf-8", "replace").splitlines()
                specs.append((rel_dir, _ignore_spec(lines)))
            except OSError as exc:
                skipped.append(Skipped(_join(rel_dir, ".gitignore"), f"unreadable: {exc.strerror}"))
        try:
            entries = sorted(os.scandir(abs_dir), key=lambda e: e.name)
        except OSError as exc:
            skipped.append(Skipped(rel_dir or ".", f"unreadable folder: {exc.strerror}"))
            continue
        for entry in entries:
            if entry.name == ".git":
                continue
            rel = _join(rel_dir, entry.name)
            is_dir = entry.is_dir(follow_symlinks=False)
            if _ignored(rel, is_dir, specs):
                continue
            if is_dir:
                stack.append((rel, specs))
            else:
                out.append(rel)
    return out, skipped


def _ignore_spec(lines: list[str]) -> pathspec.PathSpec:
    """A ``.gitignore`` file's patterns; a line that is no valid pattern is ignored, as git does
    (a hostile ``.gitignore`` must not stop the scan)."""
    from ..pathmatch import gitignore_spec

    try:
        return gitignore_spec(lines)
    except Exception:  # noqa: BLE001 - pathspec raises several types (its own, re.error, ValueError)
        pass
    valid = []
    for line in lines:
        try:
            gitignore_spec([line])
        except Exception:  # noqa: BLE001 - see above
            continue
        valid.append(line)
    return gitignore_spec(valid)


def _join(a: str, b: str) -> str:
    return f"{a}/{b}" if a else b


def _ignored(rel: str, is_dir: bool, specs: list[tuple[str, pathspec.PathSpec]]) -> bool:
    for base, spec in specs:
        sub = rel[len(base) + 1 :] if base else rel
        if spec.match_file(sub + "/" if is_dir else sub):
            return True
    return False


def path_chunks(root: Path, rel: str, max_file_size: int, origin: Origin | None = None) -> Iterator[Chunk | Skipped]:
    full = root / rel
    try:
        st = os.lstat(full)
    except FileNotFoundError:
        yield Skipped(rel, "missing (deleted in the work tree, or removed during the scan)")
        return
    except OSError as exc:
        yield Skipped(rel, f"unreadable: {exc.strerror}")
        return
    if stat.S_ISLNK(st.st_mode):
        yield Skipped(rel, _symlink_reason(root, full))
        return
    if not stat.S_ISREG(st.st_mode):
        yield Skipped(rel, "not a regular file")
        return
    if st.st_size > max_file_size:
        yield Skipped(rel, f"larger than the size limit ({st.st_size} > {max_file_size} bytes)")
        return
    try:
        fd = os.open(full, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(max_file_size + 1)
    except OSError as exc:
        yield Skipped(rel, f"unreadable: {exc.strerror}")
        return
    if len(data) > max_file_size:
        yield Skipped(rel, f"larger than the size limit (> {max_file_size} bytes)")
        return
    chunks = bytes_chunks(rel, data) if origin is None else bytes_chunks(rel, data, origin=origin)
    del data  # the bytes are dropped once decoded (bytes_chunks holds the last reference)
    yield from chunks


def bytes_chunks(rel: str, data: bytes, **chunk_args: object) -> Iterator[Chunk | Skipped]:
    """Chunks of one file's content (shared by the work tree, the index and history)."""
    text = decode(data)
    del data  # the file's bytes need not stay alive beside its text while it is scanned
    if text is None:
        yield Skipped(rel, "binary")
        return
    if rel.endswith(".ipynb"):
        cells = notebooks.notebook_chunks(rel, text, **chunk_args)
        if cells is not None:
            yield from cells
            return
    yield Chunk(path=rel, text=text, **chunk_args)  # type: ignore[arg-type]


def _symlink_reason(root: Path, full: Path) -> str:
    try:
        target = full.resolve(strict=True)
    except (OSError, RuntimeError):
        return "broken symlink (not followed)"
    try:
        target.relative_to(root.resolve())
    except ValueError:
        return "symlink pointing outside the scanned folder (not followed)"
    return "symlink (not followed; its target is scanned in place)"
