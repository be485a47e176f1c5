"""The index (what the next commit holds) -> Chunks.

Without file arguments: every path the index changes relative to HEAD (or,
in a repository without commits, every path in the index). With file
arguments, as pre-commit passes them: the index content of exactly those
files, changed or not, so ``pre-commit run --all-files`` is a real scan. A
folder argument means "the staged changes under it".

Content always comes from index blobs, read through one ``git cat-file
--batch`` process, never from the work tree: a secret staged and then removed
from the file is still found, a secret only in the work tree is not, and line
numbers are those of the staged file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from .. import config, gitio
from ..errors import UsageError
from ..model import Chunk, Origin, OriginKind, Skipped
from ..record import field, record
from .files import bytes_chunks

REGULAR_MODES = ("100644", "100755")
SYMLINK_MODE = "120000"
GITLINK_MODE = "160000"


@record(frozen=False)
class _Selection:
    """Index blobs to read (path -> oid) and what was set aside, with why."""

    blobs: dict[str, str] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)


def staged_items(
    root: Path,
    paths: Sequence[Path],
    max_file_size: int,
    excludes: Sequence[str] = (),
    state: gitio.RepoState | None = None,
) -> Iterator[Chunk | Skipped]:
    """Chunks of the staged content of ``paths`` (see the module docstring). ``state``: the
    repository's git directory and HEAD when the caller already knows them (no git process)."""
    if state is None:
        state = gitio.repo_state(root)
    index_file = gitio.hook_index_file(root, state.git_dir)
    files, folders = _split_targets(root, paths)
    selection = _Selection()
    if files:
        _select_files(root, files, index_file, selection)
    if folders:
        _select_changes(root, folders, state.head, index_file, selection)
    if excludes:
        spec = config.exclude_spec(excludes)
        selection.blobs = {p: o for p, o in selection.blobs.items() if not spec.match_file(p)}
    yield from selection.skipped
    yield from _read(root, selection.blobs, max_file_size)


def _split_targets(root: Path, paths: Sequence[Path]) -> tuple[list[str], list[str]]:
    """Repository-relative posix paths: (files, folders). ``"."`` is the whole repository."""
    files: list[str] = []
    folders: list[str] = []
    for target in paths or (Path("."),):
        if target == Path("."):  # no argument (or "."): all staged changes, from any sub-folder
            folders.append(".")
            continue
        rel = _repo_relative(root, target)
        if target.is_dir() and not target.is_symlink():
            folders.append(rel)
        else:
            files.append(rel)
    return files, folders


def _repo_relative(root: Path, target: Path) -> str:
    absolute = Path(os.path.abspath(target))
    if target.is_dir() and not target.is_symlink():
        real = Path(os.path.realpath(absolute))
    else:  # keep the file's own name (a symlink is scanned as the link, not its target)
        real = Path(os.path.realpath(absolute.parent)) / absolute.name
    try:
        rel = real.relative_to(Path(os.path.realpath(root)))
    except ValueError:
        raise UsageError(f"{target} is outside the repository {root}") from None
    return rel.as_posix()


def _select_files(root: Path, files: list[str], index_file: str | None, out: _Selection) -> None:
    entries = gitio.index_entries(root, files, index_file=index_file)
    found: set[str] = set()
    for entry in entries:
        found.add(entry.path)
        if entry.stage != 0:
            out.skipped.append(Skipped(entry.path, "unmerged (resolve the conflict first)"))
        else:
            _add(entry.path, entry.mode, entry.oid, out)
    for rel in files:
        if rel not in found:
            out.skipped.append(Skipped(rel, "not in the index (not staged)"))


def _select_changes(root: Path, folders: list[str], head: str | None, index_file: str | None, out: _Selection) -> None:
    specs = [] if "." in folders else folders
    if head is None:  # a new repository: everything in the index is staged
        for entry in gitio.index_entries(root, specs, index_file=index_file):
            if entry.stage == 0:
                _add(entry.path, entry.mode, entry.oid, out)
            else:
                out.skipped.append(Skipped(entry.path, "unmerged (resolve the conflict first)"))
        return
    for change in gitio.staged_changes(root, head, specs, index_file=index_file):
        if change.status.startswith("U"):
            out.skipped.append(Skipped(change.path, "unmerged (resolve the conflict first)"))
        elif not change.status.startswith("D"):
            _add(change.path, change.new_mode, change.new_oid, out)


def _add(path: str, mode: str, oid: str, out: _Selection) -> None:
    if mode in REGULAR_MODES:
        out.blobs[path] = oid
    elif mode == SYMLINK_MODE:
        out.skipped.append(Skipped(path, "symlink (not followed)"))
    elif mode == GITLINK_MODE:
        out.skipped.append(Skipped(path, "submodule (not scanned; scan it on its own)"))


def _read(root: Path, blobs: dict[str, str], max_file_size: int) -> Iterator[Chunk | Skipped]:
    """Chunks of every selected blob, read once each through one cat-file process."""
    paths_of: dict[str, list[str]] = {}
    for path in sorted(blobs):
        paths_of.setdefault(blobs[path], []).append(path)
    for blob in gitio.read_blobs(root, list(paths_of), max_size=max_file_size):
        for path in paths_of[blob.oid]:
            if blob.data is None:
                yield Skipped(path, f"larger than the size limit ({blob.size} > {max_file_size} bytes)")
                continue
            yield from bytes_chunks(path, blob.data, origin=Origin(OriginKind.INDEX, blob=blob.oid))
