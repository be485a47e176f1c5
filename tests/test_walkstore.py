"""The history walk's tables on disk: what attribution asks of them, and bad disks."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from conftest import Repo, token
from scanner.sources import walkstore
from scanner.sources.walkstore import WHOLE, DiskStore, MemoryListing, MemoryStore, PackListing, StoreError, byte_slices

BLOB = ["%040x" % (i * 7919 + 1) for i in range(6)]


def _fill(store: DiskStore | MemoryStore, listing: list[tuple[str, int]]) -> None:
    c0 = store.add_commit("a" * 40)
    store.add_blobs(c0, [(BLOB[0], "one.py"), (BLOB[1], "caf\udce9.txt")])  # a path that is not UTF-8
    c1 = store.add_commit("b" * 40)
    store.add_parents(["a" * 40, "f" * 40])
    store.add_blobs(c1, [(BLOB[0], "copy.py"), (BLOB[2], "two.py"), (BLOB[5], "alternate.py")])
    store.add_deleted(c1, [(BLOB[1], "caf\udce9.txt")])
    target = store.listing_target()
    target.write(iter(listing))
    store.finish(target)  # type: ignore[arg-type]


LISTING = [(BLOB[2], 30), (BLOB[4], 99), (BLOB[0], 10), (BLOB[1], 5000)]  # pack order; BLOB[5] is not in it


@pytest.fixture(params=["memory", "disk"])
def store(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    made = MemoryStore() if request.param == "memory" else DiskStore(tmp_path)
    _fill(made, LISTING)
    yield made
    made.close()


def _read(store: DiskStore | MemoryStore, span: tuple[int, int], limit: int) -> list[tuple[str, str]]:
    rows = [row for batch in store.batches(span, limit) for row in batch]
    assert len(rows) == store.run_count(span, limit)
    return [(o, p if isinstance(p, str) else bytes(p).decode("utf-8", "surrogateescape")) for o, p in rows]


def test_first_sighting_wins_and_reading_follows_the_pack_order(store: DiskStore | MemoryStore) -> None:
    assert store.first(BLOB[0]) == (0, "one.py")  # not "copy.py", seen later
    assert store.first(BLOB[1]) == (0, "caf\udce9.txt")
    assert store.first(BLOB[4]) is None  # in the pack, never walked
    assert _read(store, WHOLE, 1000) == [(BLOB[2], "two.py"), (BLOB[0], "one.py"), (BLOB[5], "alternate.py")]
    assert store.run_count(WHOLE, 1000) == 3
    assert store.count(1000) == (3, 40)
    assert store.oversized(1000) == [("caf\udce9.txt", 5000)]


def test_attribution_lookups(store: DiskStore | MemoryStore) -> None:
    assert store.commit_sha(1) == "b" * 40
    assert store.deleted_in(1) == [(BLOB[1], "caf\udce9.txt")]
    assert store.deleted_in(0) == []
    assert store.boundary() == ["f" * 40]


def test_runs_split_the_bytes_and_cover_every_blob_once(store: DiskStore | MemoryStore) -> None:
    spans = store.slices(10_000, 2)
    assert len(spans) == 2
    read = [row for span in spans for row in _read(store, span, 10_000)]
    assert sorted(o for o, _p in read) == sorted([BLOB[0], BLOB[1], BLOB[2], BLOB[5]])


def test_byte_slices_balance_by_size() -> None:
    assert byte_slices([(0, 50), (3, 50), (7, 50), (9, 50)], 200, 2) == [(0, 3), (7, 9)]
    assert byte_slices([(0, 190), (1, 5), (2, 5)], 200, 2) == [(0, 0), (1, 2)]
    assert byte_slices([], 0, 3) == []


def test_a_store_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="history scratch database .*walk.db"):
        DiskStore(tmp_path / "gone")
    store = DiskStore(tmp_path)
    (tmp_path / "pack.db").mkdir()  # the listing cannot be written there
    with pytest.raises(StoreError, match="pack.db"):
        PackListing(tmp_path / "pack.db").write(iter([(BLOB[0], 1)]))
    store.close()


def test_the_memory_listing_is_dropped_once_used() -> None:
    store = MemoryStore()
    store.add_blobs(store.add_commit("a" * 40), [(BLOB[0], "x")])
    listing = MemoryListing()
    listing.write(iter(LISTING))
    store.finish(listing)
    assert listing.items == []


@pytest.mark.parametrize("blobs", [4, 5, 1])  # an exact multiple of the batch, one over, fewer
@pytest.mark.parametrize("kind", ["memory", "disk"])
def test_every_blob_is_read_whatever_the_batch_boundaries(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, kind: str, blobs: int
) -> None:
    """Batches of 2 blobs. Blobs of 100 KB: git's ``--buffer`` holds back its last answer
    until more input or the end of it, so the reader counts on a batch's answers being
    bigger than git's buffer (4,096 real blobs are at least 190 KB) and on hearing the
    end of the run as soon as it is handed out."""
    from scanner.scan import ScanOptions, prepare
    from scanner.sources import history

    secrets = [token("ghp_{alnum:36}", f"batch{i}") for i in range(blobs)]
    repo.commit("c", **{f"f{i}.txt": f"{s}\n" + "# filler line\n" * 8000 for i, s in enumerate(secrets)})
    monkeypatch.setattr(history, "BATCH_ROWS", 2)
    monkeypatch.setattr(walkstore, "BATCH_ROWS", 2)
    monkeypatch.setenv("LEAKTRAP_HISTORY_MEMORY_OBJECTS", "0" if kind == "disk" else "1000000000")
    options = ScanOptions(paths=(repo.path,), history=True, use_baseline=False, jobs=1)
    prepared = prepare(options)
    done: list = []
    worker = threading.Thread(target=lambda: done.append(history.scan_history(prepared, options)), daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert done, "the history scan hung at a batch boundary"
    result = done[0]
    assert result.files == blobs
    assert sorted(f.secret for f in result.findings) == sorted(secrets)
