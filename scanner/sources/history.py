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
   the walk's tables (first sightings, pack order) live in a scratch SQLite
   database (``walkstore``), so memory does not grow with the history;
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
import shutil
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import config, gitio
from ..errors import LeaktrapError, UsageError
from ..model import Chunk, Commit, Finding, Origin, OriginKind, Skipped, fingerprint
from ..progress import Progress
from ..record import field, record, replace
from .decoding import Decoder
from .files import bytes_chunks
from .staged import GITLINK_MODE, REGULAR_MODES, SYMLINK_MODE
from .walkstore import BATCH_ROWS, MEMORY_OBJECTS, WHOLE, DiskStore, MemoryListing, MemoryStore, PackListing, Span, StoreError, WalkStore

if TYPE_CHECKING:
    from ..pathmatch import PathMatcher
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
    """What the enumeration walk learned: its tables on disk (no content), skipped paths in memory."""

    store: WalkStore
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
    with _store(root) as store:
        packed = Packed(root, store.listing_target())
        try:
            walk = enumerate_blobs(root, plan, store, excludes)
        finally:
            packed.join()  # the thread writes into the scratch folder: wait before it goes
        store.finish(packed.listing())  # type: ignore[arg-type]
        hits = scan_blobs(root, walk, prepared, options.progress, options.jobs)
        findings = attribute(root, plan, walk, hits)
    warnings = list(plan.warnings) + hits.warnings
    skipped = sorted(walk.skipped | hits.skipped, key=lambda s: (s.path, s.reason))
    return Collected(findings, skipped, warnings, hits.blobs, hits.bytes)


MEMORY_OBJECTS_ENV = "LEAKTRAP_HISTORY_MEMORY_OBJECTS"  # tuning and tests: 0 always puts the walk on disk


@contextmanager
def _store(root: Path) -> Iterator[WalkStore]:
    """The walk's tables: in memory for a repository of up to ``MEMORY_OBJECTS`` objects,
    else on disk in a private folder (0700) deleted when the scan ends."""
    limit = os.environ.get(MEMORY_OBJECTS_ENV, "")
    if gitio.object_count(root) <= (int(limit) if limit.isdigit() else MEMORY_OBJECTS):
        yield MemoryStore()
        return
    try:
        folder = tempfile.mkdtemp(prefix="leaktrap-history-")
    except OSError as exc:
        raise StoreError(f"cannot make a scratch folder for the history scan in {tempfile.gettempdir()}: {exc}") from None
    try:
        store = DiskStore(Path(folder))
        try:
            yield store
        finally:
            store.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


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


def enumerate_blobs(root: Path, plan: Plan, store: WalkStore, excludes: Sequence[str] = ()) -> Walk:
    """One walk, oldest first: each blob's first (commit, path); deletions where files were added."""
    walk = Walk(store)
    if not plan.revs:
        return walk
    spec = config.exclude_spec(excludes) if excludes else None
    for commit in gitio.walk_changes(root, plan.revs, pathspecs=plan.pathspecs):
        idx = store.add_commit(commit.sha)
        if plan.windowed:
            store.add_parents(commit.parents)
        _record(walk, idx, commit.changes, spec)
    return walk


def _record(walk: Walk, idx: int, changes: list[gitio.Change], spec: PathMatcher | None) -> None:
    """A commit's regular files go to the store (which keeps only a blob's first sighting);
    its deletions too when it added any (what a rename looks like, for lineage)."""
    added: list[tuple[str, str]] = []
    deleted: list[tuple[str, str]] = []
    for change in changes:
        if change.status.startswith("D") or change.new_mode == "000000":
            deleted.extend((oid, change.path) for oid, mode in zip(change.old_oids, change.old_modes) if mode in REGULAR_MODES)
            continue
        if change.new_mode == GITLINK_MODE:
            walk.skipped.add(Skipped(change.path, "submodule (not scanned; scan it on its own)"))
        elif change.new_mode == SYMLINK_MODE:
            walk.skipped.add(Skipped(change.path, "symlink (not followed)"))
        elif change.new_mode in REGULAR_MODES and (spec is None or not spec.match_file(change.path)):
            added.append((change.new_oid, change.path))
    if added:
        walk.store.add_blobs(idx, added)
        if deleted:
            walk.store.add_deleted(idx, deleted)


# ---------------------------------------------------------------- reading and scanning


class Packed:
    """The repository's blobs in pack order (the fast order to inflate), listed into the
    store's listing by a thread while the walk runs (both are mostly git's work, on another core)."""

    def __init__(self, root: Path, target: MemoryListing | PackListing) -> None:
        self._target = target
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._list, args=(root,), name="leaktrap-pack-order", daemon=True)
        self._thread.start()

    def _list(self, root: Path) -> None:
        try:
            self._target.fill(root)
        except BaseException as exc:  # noqa: BLE001 - raised by listing()
            self._error = exc

    def join(self) -> None:
        self._thread.join()

    def listing(self) -> MemoryListing | PackListing:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._target


def scan_blobs(root: Path, walk: Walk, prepared: Prepared, progress: bool, jobs: int) -> Hits:
    """Every blob of the walk scanned once, in pack order, in one process or in byte-balanced
    runs over several. Blobs over the size limit are skipped before anything reads them
    (git would inflate them whole just for us to drop them); their sizes come from the listing."""
    store, limit = walk.store, prepared.max_file_size
    oversized = {Skipped(path, f"larger than the size limit ({size} > {limit} bytes)") for path, size in store.oversized(limit)}
    count, total = store.count(limit)
    workers = _worker_count(jobs, total)
    with Progress("history", total_items=count, total_bytes=total, enabled=progress) as bar:
        if workers <= 1:
            parts = [scan_slice(root, store, WHOLE, prepared, bar.advance)]
        else:
            spans = store.slices(limit, workers, total)
            parts = _run_slices(scan_slice, [(root, store, span, prepared) for span in spans], bar)
    merged = merge_hits(parts)
    merged.skipped |= oversized
    merged.blobs += len(oversized)
    return merged


def scan_slice(
    root: Path,
    store: WalkStore,
    span: Span,
    prepared: Prepared,
    advance: Callable[[int], None],
) -> Hits:
    """Read one run of the pack order (``span``: first and last position) through one
    cat-file process and scan each blob; findings kept per blob. This thread takes the
    run's (id, path) from the store a batch at a time, ahead of git: the ids go to the
    thread that writes them to git, the pairs to ``paths``, popped as git answers in order.

    No reading thread: git inflates the next blobs into the pipe while this one is
    scanned, and a thread that took them out sooner would fight the scan for the GIL
    (measured: slower, not faster)."""
    hits = Hits()
    decoder = Decoder(prepared.decode_depth) if prepared.decode_depth > 0 else None
    limit = prepared.max_file_size
    count = store.run_count(span, limit)
    batches = store.batches(span, limit)
    paths: deque[tuple[str, str]] = deque()  # handed to git, not yet read back
    to_git: queue.SimpleQueue[list[str] | None] = queue.SimpleQueue()

    def refill() -> bool:
        """The next batch; False once the run is all handed out. ``cat-file --buffer`` holds
        its last answer back until more input comes or the input ends, so while this side
        waits for a blob, either a whole batch of requests (4,096 answers, at least 190 KB)
        is queued behind it, or git has seen the end of its input."""
        batch = next(batches, None)
        if batch:
            paths.extend(batch)
            to_git.put([oid for oid, _path in batch])
        if batch is None or len(batch) < BATCH_ROWS:
            to_git.put(None)
            return False
        return True

    def feed() -> Iterator[list[str]]:  # iterated by the thread that writes to git
        while (oids := to_git.get()) is not None:
            yield oids

    more = refill()
    try:
        for blob in gitio.read_blob_chunks(root, feed(), count=count, max_size=limit):
            oid, path = paths.popleft()
            if more and len(paths) < BATCH_ROWS:  # a batch still ahead of git: see refill
                more = refill()
            if blob.oid != oid:
                raise gitio.GitError(f"git cat-file returned object {blob.oid}, not {oid}")
            hits.blobs += 1
            advance(blob.size)
            if blob.data is None:
                hits.skipped.add(Skipped(path, f"larger than the size limit (> {limit} bytes)"))
                continue
            hits.bytes += len(blob.data)
            items = list(bytes_chunks(path, blob.data, origin=Origin(OriginKind.HISTORY, blob=oid)))
            del blob  # only the text is kept while it is scanned: a big blob is not held twice
            _scan_items(oid, items, prepared, decoder, hits)
    finally:
        to_git.put(None)  # a feeder still waiting ends
        batches.close()
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
SliceArgs = tuple[Path, WalkStore, Span, "Prepared"]


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
    shas = {g.commit: walk.store.commit_sha(g.commit) for g in groups.values()}
    metas = gitio.commit_metadata(root, sorted(set(shas.values())))
    at_head = _present_at_head(root, plan, hits, {(g.first.rule_id, g.first.secret) for g in groups.values()})
    return [_finding(g, shas[g.commit], metas, at_head) for g in groups.values()]


def _group(walk: Walk, hits: Hits) -> dict[tuple[str, str, str], _Group]:
    """Oldest blob first; a path inherits the lineage of a file deleted in the same commit
    that held the same secret (a rename or a move, with or without edits)."""
    firsts = {b: _first(walk, b) for b in hits.by_blob}
    blobs = sorted(hits.by_blob, key=lambda b: firsts[b])
    secrets_of = {b: {(f.rule_id, f.secret) for f in hits.by_blob[b]} for b in blobs}
    lineage: dict[tuple[SecretKey, str], str] = {}
    groups: dict[tuple[str, str, str], _Group] = {}
    for blob in blobs:
        commit, path = firsts[blob]
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
    for old_blob, _old_path in walk.store.deleted_in(commit):
        old = walk.store.first(old_blob) if key in secrets_of.get(old_blob, ()) else None
        if old is not None:
            origin = lineage.get((key, old[1]), old[1])
            break
    lineage[(key, path)] = origin
    return origin


def _drop_base_secrets(root: Path, walk: Walk, groups: dict[tuple[str, str, str], _Group]) -> dict[tuple[str, str, str], _Group]:
    """In a range or a date window: forget secrets already present just outside it."""
    boundary = walk.store.boundary()
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


def _first(walk: Walk, blob: str) -> tuple[int, str]:
    first = walk.store.first(blob)
    if first is None:  # every scanned blob came from the walk
        raise StoreError(f"history scan: blob {blob} was read but never walked")
    return first


def _finding(group: _Group, sha: str, metas: dict[str, gitio.CommitMeta], at_head: set[SecretKey]) -> Finding:
    f = group.first
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
