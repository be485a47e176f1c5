"""The history walk's tables: in memory for most repositories, on disk for big ones.

A history scan must know, for every unique blob, the commit and path where it
first appeared (attribution without a second read), plus the pack order and
size of each blob (the fast order to read them). Held as Python objects that
costs about 300 bytes per blob (measured: 63 MB more at 200,000 blobs, 290 MB
more at 800,000), gigabytes for the largest public histories.

So there are two stores with one interface, chosen before the walk from the
repository's object count (``git count-objects``):

* ``MemoryStore`` (up to ``MEMORY_OBJECTS`` objects): dicts and lists, the
  fastest; its tables stay under about 40 MB by that limit;
* ``DiskStore`` (above it): SQLite files in a private scratch folder,
  ``walk.db`` (commits, sightings, deletions, parents, then the read order),
  written by the walk, and ``pack.db`` (the pack-order listing, from the pack
  indexes), written by a thread while the walk runs. SQLite keeps a bounded
  page cache per connection and does the sorting and joining in C, so memory
  stays flat however long the history (``bench/memory.py``: 36 MB at 200,000
  and at 800,000 blobs). The folder holds object ids and paths, never
  content, and is deleted when the scan ends.

Both stores number the blobs to read by their position in the read order;
a worker process reads one run of positions: ``run_count`` says how many
blobs, ``batches`` yields their (oid, path) a few thousand at a time.
Paths are stored as bytes on disk (``surrogateescape``): git paths need not be UTF-8.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from .. import gitio
from ..errors import InputError

MEMORY_OBJECTS = 200_000  # above this many objects in the repository, the walk's tables go to disk
CACHE_KIB = 2 * 1024  # SQLite page cache per connection (its default; 8 MB was no faster)
FLUSH_ROWS = 4096  # rows buffered by the walk before one executemany
WHOLE = (0, (1 << 63) - 1)  # every position of the read order

T = TypeVar("T")
Span = tuple[int, int]  # first and last position of a run of the read order
Batch = list[tuple[str, str]]  # (oid, path) of blobs to read, in order
BATCH_ROWS = 4096


class StoreError(InputError):
    """The scratch database could not be written or read (disk full, temp folder not writable)."""


def byte_slices(sized: Iterable[tuple[int, int]], total: int, n: int) -> list[Span]:
    """``n`` contiguous runs of (position, size) pairs holding about the same number of
    bytes each, as (first, last) positions; empty runs left out."""
    total = total or 1
    bounds: list[list[int]] = [[] for _ in range(n)]
    done = 0
    for pos, size in sized:
        run = bounds[min(n - 1, done * n // total)]
        if run:
            run[1] = pos
        else:
            run += [pos, pos]
        done += size
    return [(b[0], b[1]) for b in bounds if b]


# ---------------------------------------------------------------- in memory


class MemoryListing:
    """The pack-order listing as a list (for ``MemoryStore``), filled by the listing thread
    from ``cat-file --batch-all-objects`` (git keeps a set of the ids it lists: fine for a
    repository this size, and one process)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, int]] = []

    def fill(self, root: Path) -> None:
        self.write(gitio.blobs_in_pack_order(root))

    def write(self, listing: Iterable[tuple[str, int]]) -> None:
        """(oid, size) of every blob, in pack order."""
        self.items = list(listing)


class MemoryStore:
    """The walk's tables as dicts and lists (repositories up to ``MEMORY_OBJECTS`` objects)."""

    def __init__(self) -> None:
        self._commits: list[str] = []
        self._first: dict[str, tuple[int, str]] = {}  # blob -> (commit index, path)
        self._deleted: dict[int, list[tuple[str, str]]] = {}
        self._parents: set[str] = set()
        self._order: list[str] = []
        self._sizes: list[int] = []

    def close(self) -> None:
        pass

    def listing_target(self) -> MemoryListing:
        return MemoryListing()

    def add_commit(self, sha: str) -> int:
        self._commits.append(sha)
        return len(self._commits) - 1

    def add_blobs(self, commit: int, blobs: Sequence[tuple[str, str]]) -> None:
        first = self._first
        for oid, path in blobs:
            if oid not in first:
                first[oid] = (commit, sys.intern(path))  # versions of a file share its path

    def add_deleted(self, commit: int, blobs: Sequence[tuple[str, str]]) -> None:
        self._deleted[commit] = list(blobs)

    def add_parents(self, parents: Sequence[str]) -> None:
        self._parents.update(parents)

    def finish(self, listing: MemoryListing) -> None:
        """The walk's blobs in pack order, with their sizes (blobs the listing lacks, from
        alternates or promisor remotes, go last with size 0)."""
        wanted = self._first
        order, sizes = self._order, self._sizes
        for oid, size in listing.items:
            if oid in wanted:
                order.append(oid)
                sizes.append(size)
        listing.items = []
        if len(order) != len(wanted):
            seen = set(order)
            rest = [oid for oid in wanted if oid not in seen]
            order += rest
            sizes += [0] * len(rest)

    def count(self, limit: int) -> tuple[int, int]:
        kept = [s for s in self._sizes if s <= limit]
        return len(kept), sum(kept)

    def oversized(self, limit: int) -> list[tuple[str, int]]:
        return [(self._first[o][1], s) for o, s in zip(self._order, self._sizes) if s > limit]

    def slices(self, limit: int, n: int, total: int) -> list[Span]:
        """``n`` byte-balanced runs of the blobs at or under ``limit`` (``total`` bytes: ``count``)."""
        return byte_slices(((i, s) for i, s in enumerate(self._sizes) if s <= limit), total, n)

    def run_count(self, span: Span, limit: int) -> int:
        return sum(1 for _ in self._positions(span, limit))

    def _positions(self, span: Span, limit: int) -> Iterator[int]:
        sizes = self._sizes
        for i in range(max(span[0], 0), min(span[1], len(sizes) - 1) + 1):
            if sizes[i] <= limit:
                yield i

    def batches(self, span: Span, limit: int) -> Generator[Batch, None, None]:
        order, first = self._order, self._first
        batch: Batch = []
        for i in self._positions(span, limit):
            oid = order[i]
            batch.append((oid, first[oid][1]))
            if len(batch) == BATCH_ROWS:
                yield batch
                batch = []
        if batch:
            yield batch

    def first(self, oid: str) -> tuple[int, str] | None:
        return self._first.get(oid)

    def deleted_in(self, commit: int) -> list[tuple[str, str]]:
        return self._deleted.get(commit, [])

    def commit_sha(self, idx: int) -> str:
        return self._commits[idx]

    def boundary(self) -> list[str]:
        return sorted(self._parents.difference(self._commits))


# ---------------------------------------------------------------- on disk


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection tuned for scratch data: no journal, no fsync, a bounded cache."""
    try:
        if readonly:
            conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None)
        else:
            conn = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "temp_store=FILE", f"cache_size=-{CACHE_KIB}"):
            conn.execute(f"PRAGMA {pragma}")
    except sqlite3.Error as exc:
        raise _failed(path, exc) from None
    return conn


def _failed(path: Path, exc: sqlite3.Error) -> StoreError:
    return StoreError(f"history scratch database {path}: {exc}")


def _guard(path: Path, action: Callable[[], T]) -> T:
    try:
        return action()
    except sqlite3.Error as exc:
        raise _failed(path, exc) from None


ROWS_PER_STATEMENT = 200  # multi-row INSERTs: SQLite releases the GIL once per statement, not per row


def insert_rows(conn: sqlite3.Connection, table: str, width: int, rows: Iterable[tuple[object, ...]]) -> None:
    """Append ``rows`` to ``table`` with multi-row INSERT statements.

    One statement per row gave the GIL back to Python once per row; with the listing thread
    busy in Python, each take-back could wait for a switch interval: 4 µs a row instead of 1."""
    one = "(" + ",".join("?" * width) + ")"
    full = f"INSERT INTO {table} VALUES " + ",".join([one] * ROWS_PER_STATEMENT)
    batch: list[object] = []
    batches: list[list[object]] = []
    size = width * ROWS_PER_STATEMENT
    for row in rows:
        batch.extend(row)
        if len(batch) == size:
            batches.append(batch)
            batch = []
            if len(batches) == 16:
                conn.executemany(full, batches)
                batches.clear()
    if batches:
        conn.executemany(full, batches)
    if batch:
        conn.execute(f"INSERT INTO {table} VALUES " + ",".join([one] * (len(batch) // width)), batch)


def _path_bytes(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape")


def _path_str(raw: bytes) -> str:
    return bytes(raw).decode("utf-8", "surrogateescape")


class PackListing:
    """The pack-order listing in ``pack.db`` (for ``DiskStore``), filled by the listing thread.

    Git's own listing (``cat-file --batch-all-objects``) keeps a set of every id it has
    listed: 200 MB at 1.2 million objects. Here the pack indexes are read directly (ids and
    offsets, a chunk at a time), SQLite sorts them into pack order, and one plain
    ``cat-file --batch-check`` fed in that order gives each blob's size, all in flat memory.
    Loose objects are in no pack: the store reads them last and sizes them apart (see
    ``DiskStore.finish``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root: Path | None = None  # the repository, once filled from it

    def fill(self, root: Path) -> None:
        self.root = root
        self._run(lambda conn: self._fill(conn, root))

    def write(self, listing: Iterable[tuple[str, int]]) -> None:
        """(oid, size) of every blob, in pack order."""
        self._run(lambda conn: self._write(conn, listing))

    def _run(self, action: Callable[[sqlite3.Connection], None]) -> None:
        conn = connect(self.path)
        try:
            _guard(self.path, lambda: action(conn))
        finally:
            conn.close()

    def _write(self, conn: sqlite3.Connection, listing: Iterable[tuple[str, int]]) -> None:
        conn.execute("CREATE TABLE listing(pos INTEGER PRIMARY KEY, oid TEXT NOT NULL, size INTEGER NOT NULL)")
        conn.execute("BEGIN")
        insert_rows(conn, "listing", 3, ((i, oid, size) for i, (oid, size) in enumerate(listing)))
        conn.execute("CREATE INDEX listing_oid ON listing(oid)")  # for the join in finish: made here, while the walk runs
        conn.execute("COMMIT")

    def _fill(self, conn: sqlite3.Connection, root: Path) -> None:
        conn.execute("CREATE TABLE packed(pack INTEGER NOT NULL, offset INTEGER NOT NULL, oid TEXT NOT NULL)")
        hash_len = gitio.hash_length(root)
        conn.execute("BEGIN")
        for number, idx in enumerate(gitio.pack_indexes(root)):
            for oids, offsets in gitio.pack_index_entries(idx, hash_len):
                insert_rows(conn, "packed", 3, zip([number] * len(oids), offsets, oids))
        conn.execute("COMMIT")
        (count,) = conn.execute("SELECT count(*) FROM packed").fetchone()
        # the sorted ids go to a file of their own: the feeding thread reads them while this
        # connection writes the listing (one file would lock the reader out)
        ordered = self.path.with_name("order.db")
        conn.execute("ATTACH DATABASE ? AS ord", (str(ordered),))
        conn.execute("CREATE TABLE ord.ordered AS SELECT oid FROM packed ORDER BY pack, offset")
        conn.execute("DETACH DATABASE ord")
        conn.execute("DROP TABLE packed")
        self._write(conn, gitio.blob_sizes(root, self._ordered(ordered, int(count))))
        ordered.unlink(missing_ok=True)

    def _ordered(self, ordered: Path, count: int) -> Iterator[list[str]]:
        """The ids in pack order, for the thread that feeds git, in chunks of one SQLite step
        each (``group_concat`` over a range of rows): a cursor stepped row by row would trade
        the GIL with the threads parsing git's output, row by row."""
        conn = connect(ordered, readonly=True)
        try:
            for start in range(1, count + 1, BATCH_ROWS):
                row = conn.execute(
                    "SELECT group_concat(oid, ' ') FROM ordered WHERE rowid BETWEEN ? AND ?", (start, start + BATCH_ROWS - 1)
                ).fetchone()
                yield row[0].split(" ") if row and row[0] else []
        except sqlite3.Error as exc:
            raise _failed(ordered, exc) from None
        finally:
            conn.close()


_SCHEMA = """
CREATE TABLE commits(idx INTEGER PRIMARY KEY, sha TEXT NOT NULL);
CREATE TABLE sightings(oid TEXT NOT NULL, commit_idx INTEGER NOT NULL, path BLOB NOT NULL);
CREATE TABLE firsts(oid TEXT PRIMARY KEY, seq INTEGER NOT NULL, commit_idx INTEGER NOT NULL,
                    path BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE deleted(commit_idx INTEGER NOT NULL, oid TEXT NOT NULL, path BLOB NOT NULL);
CREATE TABLE parents(sha TEXT NOT NULL);
CREATE TABLE readorder(pos INTEGER PRIMARY KEY, oid TEXT NOT NULL, size INTEGER NOT NULL, path BLOB NOT NULL);
"""

_WIDTH = {"commits": 2, "sightings": 3, "deleted": 3, "parents": 1}  # the tables the walk appends to


class DiskStore:
    """The walk's tables in ``folder/walk.db`` (repositories over ``MEMORY_OBJECTS`` objects)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "walk.db"
        self._conn = connect(self.path)
        _guard(self.path, lambda: self._conn.executescript(_SCHEMA))
        self._pending: dict[str, list[tuple[object, ...]]] = {table: [] for table in _WIDTH}
        self._commits = 0
        self._indexed: set[str] = set()
        self._conn.execute("BEGIN")

    def close(self) -> None:
        self._conn.close()

    def listing_target(self) -> PackListing:
        return PackListing(self.folder / "pack.db")

    # ------------------------------------------------------------ written by the walk

    def add_commit(self, sha: str) -> int:
        idx = self._commits
        self._commits += 1
        self._buffer("commits", (idx, sha))
        return idx

    def add_blobs(self, commit: int, blobs: Sequence[tuple[str, str]]) -> None:
        """Every sighting is appended (no lookup while walking); ``finish`` keeps the first."""
        for oid, path in blobs:
            self._buffer("sightings", (oid, commit, _path_bytes(path)))

    def add_deleted(self, commit: int, blobs: Sequence[tuple[str, str]]) -> None:
        for oid, path in blobs:
            self._buffer("deleted", (commit, oid, _path_bytes(path)))

    def add_parents(self, parents: Sequence[str]) -> None:
        for sha in parents:
            self._buffer("parents", (sha,))

    def _buffer(self, table: str, row: tuple[object, ...]) -> None:
        rows = self._pending[table]
        rows.append(row)
        if len(rows) >= FLUSH_ROWS:
            self._flush(table)

    def _flush(self, table: str) -> None:
        rows = self._pending[table]
        if rows:
            _guard(self.path, lambda: insert_rows(self._conn, table, _WIDTH[table], rows))
            rows.clear()

    def finish(self, listing: PackListing) -> None:
        """The read order: the walk's blobs in pack order, with size and first path, as one
        table read front to back (blobs the listing lacks go last: loose objects,
        sized by one more ``cat-file --batch-check`` so that the size limit skips them before
        reading, as in memory; objects of alternates or promisor remotes, size 0).

        Only sorts, no random lookups into big tables (SQLite sorts in C, in bounded memory;
        a lookup per row into a tree larger than the cache is what is slow): the sightings
        grouped by id keep their first (``min(rowid)``: SQLite takes the other columns from
        that row), and the listing is joined to them in id order, then sorted by position.
        Measured on 800,000 blobs: 4.3 s, against 6.9 s for a keyed insert per sighting."""
        for table in self._pending:
            self._flush(table)
        conn = self._conn
        statements = (
            "COMMIT",
            "INSERT INTO firsts SELECT oid, min(rowid), commit_idx, path FROM sightings GROUP BY oid ORDER BY oid",
            "DROP TABLE sightings",
            # an object in two packs is listed twice: read once, where it is listed first
            "INSERT INTO readorder SELECT min(l.pos), l.oid, l.size, f.path FROM pack.listing AS l"
            " INDEXED BY listing_oid JOIN firsts AS f ON f.oid = l.oid GROUP BY l.oid ORDER BY 1",
        )

        def run() -> int | None:
            """The read order; the first position after the listing when blobs were not in it."""
            after = None
            conn.execute("ATTACH DATABASE ? AS pack", (str(listing.path),))
            for sql in statements:
                conn.execute(sql)
            (found,) = conn.execute("SELECT count(*) FROM readorder").fetchone()
            (walked,) = conn.execute("SELECT count(*) FROM firsts").fetchone()
            if found != walked:
                (after,) = conn.execute("SELECT coalesce(max(pos), 0) + 1 FROM pack.listing").fetchone()
                conn.execute(
                    "INSERT INTO readorder SELECT ? + f.seq, f.oid, 0, f.path FROM firsts AS f"
                    " WHERE NOT EXISTS (SELECT 1 FROM pack.listing AS l WHERE l.oid = f.oid) ORDER BY f.seq",
                    (after,),
                )
            conn.execute("DETACH DATABASE pack")
            return after

        unlisted = _guard(self.path, run)
        listing.path.unlink(missing_ok=True)
        if unlisted is not None and listing.root is not None:
            self._size_unlisted(listing.root, unlisted)

    def _size_unlisted(self, root: Path, after: int) -> None:
        """Sizes of the blobs no pack lists (loose objects), a batch at a time."""
        last = after - 1
        while rows := self._query("SELECT pos, oid FROM readorder WHERE pos > ? ORDER BY pos LIMIT ?", (last, BATCH_ROWS)):
            last = int(rows[-1][0])  # type: ignore[call-overload]
            sizes = dict(gitio.blob_sizes(root, [[str(oid) for _pos, oid in rows]]))
            updates = [(sizes[str(oid)], pos) for pos, oid in rows if str(oid) in sizes]
            _guard(self.path, lambda: self._conn.executemany("UPDATE readorder SET size = ? WHERE pos = ?", updates))

    # ------------------------------------------------------------ read back

    def _query(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        return _guard(self.path, lambda: self._conn.execute(sql, args).fetchall())

    def count(self, limit: int) -> tuple[int, int]:
        ((n, total),) = self._query("SELECT count(*), coalesce(sum(size), 0) FROM readorder WHERE size <= ?", (limit,))
        return int(n), int(total)  # type: ignore[call-overload]

    def oversized(self, limit: int) -> list[tuple[str, int]]:
        rows = self._query("SELECT path, size FROM readorder WHERE size > ? ORDER BY pos", (limit,))
        return [(_path_str(p), int(s)) for p, s in rows]  # type: ignore[arg-type, call-overload]

    def slices(self, limit: int, n: int, total: int) -> list[Span]:
        sized = _guard(self.path, lambda: self._conn.execute("SELECT pos, size FROM readorder WHERE size <= ? ORDER BY pos", (limit,)))
        return byte_slices(sized, total, n)

    _RUN = "FROM readorder WHERE pos BETWEEN ? AND ? AND size <= ?"

    def run_count(self, span: Span, limit: int) -> int:
        ((n,),) = self._query(f"SELECT count(*) {self._RUN}", (span[0], span[1], limit))
        return int(n)  # type: ignore[call-overload]

    def batches(self, span: Span, limit: int) -> Generator[Batch, None, None]:
        """Through a new read-only connection (in a forked worker, never the parent's); rows
        stream, nothing is held per blob beyond one batch. Read by the scanning thread: a
        thread that stepped the cursor while that one scanned would trade the GIL with it
        on every row (measured: 30% slower)."""
        conn = connect(self.path, readonly=True)
        try:
            cursor = conn.execute(f"SELECT oid, path {self._RUN} ORDER BY pos", (span[0], span[1], limit))
            while rows := cursor.fetchmany(BATCH_ROWS):
                yield [(oid, _path_str(path)) for oid, path in rows]
        except sqlite3.Error as exc:
            raise _failed(self.path, exc) from None
        finally:
            conn.close()

    def first(self, oid: str) -> tuple[int, str] | None:
        rows = self._query("SELECT commit_idx, path FROM firsts WHERE oid = ?", (oid,))
        return None if not rows else (int(rows[0][0]), _path_str(rows[0][1]))  # type: ignore[call-overload, arg-type]

    def _index(self, name: str, sql: str) -> None:
        """Indexes only attribution needs are made when it first asks."""
        if name not in self._indexed:
            _guard(self.path, lambda: self._conn.execute(sql))
            self._indexed.add(name)

    def deleted_in(self, commit: int) -> list[tuple[str, str]]:
        self._index("deleted", "CREATE INDEX deleted_commit ON deleted(commit_idx)")
        rows = self._query("SELECT oid, path FROM deleted WHERE commit_idx = ? ORDER BY rowid", (commit,))
        return [(str(o), _path_str(p)) for o, p in rows]  # type: ignore[arg-type]

    def commit_sha(self, idx: int) -> str:
        rows = self._query("SELECT sha FROM commits WHERE idx = ?", (idx,))
        if not rows:
            raise StoreError(f"history scratch database {self.path}: no commit number {idx}")
        return str(rows[0][0])

    def boundary(self) -> list[str]:
        self._index("commits", "CREATE INDEX commits_sha ON commits(sha)")
        rows = self._query(
            "SELECT DISTINCT p.sha FROM parents AS p"
            " WHERE NOT EXISTS (SELECT 1 FROM commits AS c WHERE c.sha = p.sha) ORDER BY p.sha"
        )
        return [str(r[0]) for r in rows]


WalkStore = MemoryStore | DiskStore
