"""Git history -> Findings, each attributed to the commit where its secret entered.

Three streams, never a process per commit or per object:

1. one ``git log --raw --cc --reverse`` walk lists, oldest first, the blobs
   each commit introduced (merges: only content differing from every
   parent). The first sighting of a blob gives its commit and path, so
   attribution needs no second read of any content;
2. one ``git cat-file --batch-all-objects --batch-check --unordered`` pass,
   run while the walk runs, gives the pack order (and sizes, for progress),
   and one ``git cat-file --batch`` process streams each unique blob once in
   that order (git inflates the next blobs while this process scans);
3. findings are grouped per (rule, secret, path lineage): the same secret in
   many versions of a file is one finding, with the first commit, and the
   number of blobs it appeared in.

A range (``--range A..B``) or ``--since`` also has a base side: the parents
just outside the walked commits. A secret that already occurs in their trees
(``git grep -F``, secrets on stdin) was not introduced by the range, even if
the range rewrote the file that holds it.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pathspec

from .. import config, gitio
from ..errors import LeaktrapError, UsageError
from ..model import Chunk, Commit, Finding, Origin, OriginKind, Skipped, fingerprint
from ..progress import Progress
from ..record import field, record, replace
from .decoding import Decoder
from .files import bytes_chunks
from .staged import GITLINK_MODE, REGULAR_MODES, SYMLINK_MODE

if TYPE_CHECKING:
    from ..scan import Collected, Prepared, ScanOptions


@record
class Plan:
    """What to walk: revision arguments, path limits, and whether that is the whole history."""

    revs: tuple[str, ...]
    pathspecs: tuple[str, ...] = ()
    complete: bool = True  # every ref, no date or range limit, no path limit
    windowed: bool = False  # a range or a date limit: there is a base side to compare with
    warnings: tuple[str, ...] = ()


@record(frozen=False)
class Walk:
    """What the enumeration walk learned, held compactly (no content)."""

    commits: list[str] = field(default_factory=list)
    first: dict[str, tuple[int, str]] = field(default_factory=dict)  # blob -> (commit index, path)
    deleted: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # commit -> [(blob, path)]
    parents: set[str] = field(default_factory=set)
    skipped: set[Skipped] = field(default_factory=set)


@record(frozen=False)
class Hits:
    """Findings per blob (only blobs that had any) and the scan's counters."""

    by_blob: dict[str, list[Finding]] = field(default_factory=dict)
    skipped: set[Skipped] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    blobs: int = 0
    bytes: int = 0


def scan_history(prepared: Prepared, options: ScanOptions) -> Collected:
    from ..scan import Collected

    root = prepared.root
    gitio.git_dir(root)
    plan = make_plan(root, options)
    excludes = tuple(prepared.config.exclude) + tuple(options.excludes)
    packed = Packed(root)
    walk = enumerate_blobs(root, plan, excludes)
    hits = scan_blobs(root, walk, prepared, options.progress, options.jobs, packed.listing())
    findings = attribute(root, plan, walk, hits)
    warnings = list(plan.warnings) + hits.warnings
    skipped = sorted(walk.skipped | hits.skipped, key=lambda s: (s.path, s.reason))
    return Collected(findings, skipped, warnings, hits.blobs, hits.bytes)


# ---------------------------------------------------------------- what to walk


def make_plan(root: Path, options: ScanOptions) -> Plan:
    warnings: list[str] = []
    if gitio.is_shallow(root):
        warnings.append(
            "shallow clone: history before the shallow boundary is not there to scan, and secrets "
            "older than it are attributed to the oldest commit present (git fetch --unshallow for a full audit)"
        )
    revs: list[str] = []
    complete = True
    if options.commit_range:
        revs += _user_revs(root, options.commit_range, "--range")
        complete = False
    elif options.branch:
        revs += _user_revs(root, options.branch, "--branch")
        complete = False
    else:
        revs += _all_refs(root, options.stash)
    if options.since:
        revs.insert(0, f"--since={options.since}")
        complete = False
    pathspecs = _pathspecs(root, options.paths)
    if pathspecs:
        complete = False
    if gitio.resolve_commit(root, "HEAD") is None and not gitio.has_refs(root):
        warnings.append("the repository has no commits yet: no history to scan")
    windowed = bool(options.commit_range or options.since)
    return Plan(tuple(revs), pathspecs, complete, windowed, tuple(warnings))


def _user_revs(root: Path, spec: str, flag: str) -> list[str]:
    if not spec or spec.startswith("-"):
        raise UsageError(f"{flag} needs a revision or range, not {spec!r}")
    gitio.check_revisions(root, spec)
    return ["--end-of-options", spec]


def _all_refs(root: Path, stash: bool) -> list[str]:
    """Branches, tags, remotes, notes and HEAD (detached too); the stash only on request."""
    if stash:
        return ["--all", *gitio.stash_commits(root)]
    return ["--exclude=refs/stash", "--all"]


def _pathspecs(root: Path, paths: Sequence[Path]) -> tuple[str, ...]:
    """Scan targets inside the work tree limit the walk to those paths."""
    specs: list[str] = []
    real_root = Path(os.path.realpath(root))
    for target in paths:
        real = Path(os.path.realpath(os.path.abspath(target)))
        try:
            rel = real.relative_to(real_root).as_posix()
        except ValueError:
            continue  # a bare repository or a git dir given as the target
        if rel not in (".", ""):
            specs.append(rel)
    return tuple(specs)


# ---------------------------------------------------------------- enumeration


def enumerate_blobs(root: Path, plan: Plan, excludes: Sequence[str] = ()) -> Walk:
    """One walk, oldest first: each blob's first (commit, path); deletions where files were added."""
    walk = Walk()
    if not plan.revs:
        return walk
    spec = config.exclude_spec(excludes) if excludes else None
    for commit in gitio.walk_changes(root, plan.revs, pathspecs=plan.pathspecs):
        idx = len(walk.commits)
        walk.commits.append(commit.sha)
        if plan.windowed:
            walk.parents.update(commit.parents)
        _record(walk, idx, commit.changes, spec)
    return walk


def _record(walk: Walk, idx: int, changes: list[gitio.Change], spec: pathspec.PathSpec | None) -> None:  # type: ignore[type-arg]
    added = False
    deleted: list[tuple[str, str]] = []
    for change in changes:
        if change.status.startswith("D") or change.new_mode == "000000":
            deleted.extend((oid, change.path) for oid, mode in zip(change.old_oids, change.old_modes) if mode in REGULAR_MODES)
            continue
        if change.new_mode == GITLINK_MODE:
            walk.skipped.add(Skipped(change.path, "submodule (not scanned; scan it on its own)"))
        elif change.new_mode == SYMLINK_MODE:
            walk.skipped.add(Skipped(change.path, "symlink (not followed)"))
        elif change.new_mode in REGULAR_MODES and change.new_oid not in walk.first:
            if spec is None or not spec.match_file(change.path):
                walk.first[change.new_oid] = (idx, sys.intern(change.path))  # versions of a file share its path
                added = True
    if added and deleted:
        walk.deleted[idx] = deleted


# ---------------------------------------------------------------- reading and scanning


class Packed:
    """The repository's blobs in pack order (the fast order to inflate), listed by a thread
    while the walk runs (both are mostly git's work, on another core)."""

    def __init__(self, root: Path) -> None:
        self._listing: list[tuple[str, int]] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._list, args=(root,), name="leaktrap-pack-order", daemon=True)
        self._thread.start()

    def _list(self, root: Path) -> None:
        try:
            self._listing = list(gitio.blobs_in_pack_order(root))
        except BaseException as exc:  # noqa: BLE001 - raised by listing()
            self._error = exc

    def listing(self) -> list[tuple[str, int]]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._listing


def read_order(walk: Walk, listing: list[tuple[str, int]]) -> tuple[list[str], list[int]]:
    """The walk's blobs in pack order, with their sizes (``listing``: every blob, in pack order)."""
    order: list[str] = []
    sizes: list[int] = []
    if not walk.first:
        return order, sizes
    wanted = walk.first
    for oid, size in listing:
        if oid in wanted:
            order.append(oid)
            sizes.append(size)
    if len(order) != len(wanted):  # objects from alternates or promisor remotes: keep them all
        seen = set(order)
        rest = [oid for oid in wanted if oid not in seen]
        order += rest
        sizes += [0] * len(rest)
    return order, sizes


def scan_blobs(
    root: Path, walk: Walk, prepared: Prepared, progress: bool, jobs: int, listing: list[tuple[str, int]]
) -> Hits:
    """Every blob of the walk scanned once, in one process or in byte-balanced slices over several.
    ``listing``: every blob of the repository, in pack order."""
    order, sizes = read_order(walk, listing)
    order, sizes, oversized = _drop_oversized(order, sizes, walk.first, prepared.max_file_size)
    total = sum(sizes)
    workers = _worker_count(jobs, total)
    with Progress("history", total_items=len(order), total_bytes=total, enabled=progress) as bar:
        if workers <= 1:
            parts = [scan_slice(root, order, walk.first, prepared, bar.advance)]
        else:
            slices = _byte_slices(order, sizes, workers)
            parts = _run_slices(scan_slice, [(root, s, walk.first, prepared) for s in slices], bar)
    merged = merge_hits(parts)
    merged.skipped |= oversized
    merged.blobs += len(oversized)
    return merged


def _drop_oversized(
    order: list[str], sizes: list[int], first: dict[str, tuple[int, str]], limit: int
) -> tuple[list[str], list[int], set[Skipped]]:
    """Blobs over the size limit are skipped before anything reads them (git would inflate
    them whole just for us to drop them); their sizes come from the pack-order listing."""
    keep_order: list[str] = []
    keep_sizes: list[int] = []
    skipped: set[Skipped] = set()
    for oid, size in zip(order, sizes):
        if size > limit:
            skipped.add(Skipped(first[oid][1], f"larger than the size limit ({size} > {limit} bytes)"))
        else:
            keep_order.append(oid)
            keep_sizes.append(size)
    return keep_order, keep_sizes, skipped


def scan_slice(
    root: Path,
    oids: list[str],
    first: dict[str, tuple[int, str]],
    prepared: Prepared,
    advance: Callable[[int], None],
) -> Hits:
    """Read ``oids`` through one cat-file process and scan each; findings kept per blob.

    No reading thread: git inflates the next blobs into the pipe while this one is
    scanned, and a thread that took them out sooner would fight the scan for the GIL
    (measured: slower, not faster)."""
    hits = Hits()
    decoder = Decoder(prepared.decode_depth) if prepared.decode_depth > 0 else None
    for blob in gitio.read_blobs(root, oids, max_size=prepared.max_file_size):
        path = first[blob.oid][1]
        hits.blobs += 1
        advance(blob.size)
        if blob.data is None:
            hits.skipped.add(Skipped(path, f"larger than the size limit (> {prepared.max_file_size} bytes)"))
            continue
        hits.bytes += len(blob.data)
        oid = blob.oid
        items = list(bytes_chunks(path, blob.data, origin=Origin(OriginKind.HISTORY, blob=oid)))
        del blob  # only the text is kept while it is scanned: a big blob is not held twice
        _scan_items(oid, items, prepared, decoder, hits)
    return hits


def merge_hits(parts: Sequence[Hits]) -> Hits:
    out = Hits()
    for part in parts:
        out.by_blob.update(part.by_blob)
        out.skipped |= part.skipped
        out.warnings += part.warnings
        out.blobs += part.blobs
        out.bytes += part.bytes
    return out


def _scan_items(oid: str, items: list[Chunk | Skipped], prepared: Prepared, decoder: Decoder | None, hits: Hits) -> None:
    """One blob's chunks through the engine, decoded runs included, exactly as a file scan does it."""
    from ..scan import scan_item

    for item in items:
        if isinstance(item, Skipped):
            hits.skipped.add(item)
            continue
        findings = scan_item(item, prepared, decoder, hits.warnings)
        if findings:
            hits.by_blob.setdefault(oid, []).extend(findings)


# ---------------------------------------------------------------- several processes

PARALLEL_MIN_BYTES = 32 * 1024 * 1024  # below this, starting workers costs more than it saves
SliceArgs = tuple[Path, list[str], dict[str, tuple[int, str]], "Prepared"]


def _worker_count(jobs: int, total_bytes: int) -> int:
    """``--jobs``: 0 picks one worker per CPU for big histories; fork is needed (no pickled rules)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if jobs > 0:
        return jobs
    if total_bytes < PARALLEL_MIN_BYTES:
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, 8))


def _byte_slices(order: list[str], sizes: list[int], n: int) -> list[list[str]]:
    """``n`` contiguous runs of the pack order holding about the same number of bytes each."""
    total = sum(sizes) or 1
    slices: list[list[str]] = [[] for _ in range(n)]
    done = 0
    for oid, size in zip(order, sizes):
        slices[min(n - 1, done * n // total)].append(oid)
        done += size
    return [s for s in slices if s]


def _run_slices(func: Callable[..., Hits], jobs: list[SliceArgs], bar: Progress) -> list[Hits]:
    """Run ``func(*args, advance)`` for every slice in its own forked process.

    Rules and the walk reach the children by fork (nothing big is pickled);
    results come back through a queue, progress through shared counters. An
    error in a child is raised here; Ctrl-C reaches the parent only.
    """
    ctx = multiprocessing.get_context("fork")
    results: Any = ctx.Queue()
    counters: Any = ctx.Array("q", 2 * len(jobs), lock=False)
    procs = [
        ctx.Process(target=_child, args=(func, args, results, counters, i), daemon=True)
        for i, args in enumerate(jobs)
    ]
    try:
        for proc in procs:
            proc.start()
        return _gather(procs, results, counters, bar)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
            proc.join()


def _gather(procs: list[Any], results: Any, counters: Any, bar: Progress) -> list[Hits]:
    parts: dict[int, Hits] = {}
    while len(parts) < len(procs):
        try:
            index, status, payload = results.get(timeout=0.2)
        except queue.Empty:
            _show(counters, bar)
            dead = [p for i, p in enumerate(procs) if i not in parts and p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"a history scan worker died (exit code {dead[0].exitcode})")
            continue
        if status == "error":
            raise payload
        if status == "crash":
            raise RuntimeError(f"history scan worker failed: {payload}")
        parts[index] = payload
    _show(counters, bar)
    return [parts[i] for i in sorted(parts)]


def _show(counters: Any, bar: Progress) -> None:
    values = list(counters)
    bar.items = sum(values[0::2])
    bar.bytes = sum(values[1::2])
    bar.advance(0, items=0)


def _child(func: Callable[..., Hits], args: SliceArgs, results: Any, counters: Any, index: int) -> None:
    from ..parallel import ignore_ctrl_c

    ignore_ctrl_c()

    def advance(size: int) -> None:
        counters[2 * index] += 1
        counters[2 * index + 1] += size

    try:
        results.put((index, "ok", func(*args, advance)))
    except LeaktrapError as exc:
        results.put((index, "error", exc))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
        results.put((index, "crash", f"{type(exc).__name__}: {exc}"))


# ---------------------------------------------------------------- attribution


SecretKey = tuple[str, str]  # (rule id, secret)


@record(frozen=False)
class _Group:
    first: Finding
    blob: str
    commit: int
    blobs: set[str] = field(default_factory=set)


def attribute(root: Path, plan: Plan, walk: Walk, hits: Hits) -> list[Finding]:
    """One finding per (rule, secret, path lineage), with its first commit, occurrences and at_head."""
    if not hits.by_blob:
        return []
    groups = _group(walk, hits)
    if plan.windowed:
        groups = _drop_base_secrets(root, walk, groups)
    if not groups:
        return []
    metas = gitio.commit_metadata(root, sorted({walk.commits[g.commit] for g in groups.values()}))
    at_head = _present_at_head(root, plan, hits, {(g.first.rule_id, g.first.secret) for g in groups.values()})
    return [_finding(g, walk, metas, at_head) for g in groups.values()]


def _group(walk: Walk, hits: Hits) -> dict[tuple[str, str, str], _Group]:
    """Oldest blob first; a path inherits the lineage of a file deleted in the same commit
    that held the same secret (a rename or a move, with or without edits)."""
    blobs = sorted(hits.by_blob, key=lambda b: walk.first[b])
    secrets_of = {b: {(f.rule_id, f.secret) for f in hits.by_blob[b]} for b in blobs}
    lineage: dict[tuple[SecretKey, str], str] = {}
    groups: dict[tuple[str, str, str], _Group] = {}
    for blob in blobs:
        commit, path = walk.first[blob]
        for finding in sorted(hits.by_blob[blob], key=lambda f: (f.line, f.column, f.rule_id)):
            key: SecretKey = (finding.rule_id, finding.secret)
            origin_path = _lineage(key, commit, path, walk, secrets_of, lineage)
            group_key = (key[0], key[1], origin_path)
            group = groups.get(group_key)
            if group is None:
                group = groups[group_key] = _Group(finding, blob, commit)
            group.blobs.add(blob)
    return groups


def _lineage(
    key: SecretKey,
    commit: int,
    path: str,
    walk: Walk,
    secrets_of: dict[str, set[SecretKey]],
    lineage: dict[tuple[SecretKey, str], str],
) -> str:
    """The path a secret's finding is filed under: its own, or that of the file it moved from."""
    known = lineage.get((key, path))
    if known is not None:
        return known
    origin = path
    for old_blob, _old_path in walk.deleted.get(commit, ()):
        if key in secrets_of.get(old_blob, ()) and old_blob in walk.first:
            old_first = walk.first[old_blob][1]
            origin = lineage.get((key, old_first), old_first)
            break
    lineage[(key, path)] = origin
    return origin


def _drop_base_secrets(root: Path, walk: Walk, groups: dict[tuple[str, str, str], _Group]) -> dict[tuple[str, str, str], _Group]:
    """In a range or a date window: forget secrets already present just outside it."""
    boundary = sorted(walk.parents.difference(walk.commits))
    if not boundary:
        return groups
    old = gitio.grep_fixed(root, sorted({g.first.secret for g in groups.values()}), boundary)
    return {k: g for k, g in groups.items() if g.first.secret not in old}


def _present_at_head(root: Path, plan: Plan, hits: Hits, keys: set[SecretKey]) -> set[SecretKey]:
    head = gitio.resolve_commit(root, "HEAD")
    if head is None:
        return set()
    present: set[SecretKey] = set()
    for blob in gitio.tree_blobs(root, head):
        for f in hits.by_blob.get(blob, ()):
            present.add((f.rule_id, f.secret))
    if not plan.complete:  # HEAD may hold blobs this walk did not read
        missing = {k for k in keys if k not in present}
        found = gitio.grep_fixed(root, sorted({s for _r, s in missing}), [head])
        present |= {k for k in missing if k[1] in found}
    return present


def _finding(group: _Group, walk: Walk, metas: dict[str, gitio.CommitMeta], at_head: set[SecretKey]) -> Finding:
    f = group.first
    sha = walk.commits[group.commit]
    meta = metas.get(sha)
    commit = Commit(
        sha=sha,
        author_name=meta.author_name if meta else "",
        author_email=meta.author_email if meta else "",
        date=meta.date if meta else "",
        summary=meta.summary if meta else "",
    )
    return replace(
        f,
        fingerprint=fingerprint(f.rule_id, f.path, f.secret),
        origin=Origin(OriginKind.HISTORY, blob=group.blob, commit=commit),
        occurrences=len(group.blobs),
        at_head=(f.rule_id, f.secret) in at_head,
    )
