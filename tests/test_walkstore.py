"""The history walk's tables on disk: what attribution asks of them, and bad disks."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import pytest

from conftest import Repo, run_cli, token
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
    spans = store.slices(10_000, 2, store.count(10_000)[1])
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


def test_pack_index_entries_match_git_show_index(repo: Repo) -> None:
    from scanner import gitio

    for i in range(3):
        repo.commit(f"c{i}", **{f"f{i}.txt": f"content {i}\n" * (i + 1)})
    repo.git("repack", "-a", "-d", "-q")
    (idx,) = gitio.pack_indexes(repo.path)
    ours = {oid: off for oids, offs in gitio.pack_index_entries(idx, 20) for oid, off in zip(oids, offs)}
    shown = subprocess.run(["git", "show-index"], stdin=idx.open("rb"), capture_output=True, text=True, check=True).stdout
    theirs = {line.split()[1]: int(line.split()[0]) for line in shown.splitlines()}
    assert ours == theirs and len(ours) >= 9  # 3 commits, 3 trees, 3 blobs


def test_a_truncated_pack_index_is_a_git_error(tmp_path: Path) -> None:
    from scanner import gitio
    from scanner.errors import GitError

    idx = tmp_path / "pack-x.idx"
    idx.write_bytes(b"\xfftOc" + (2).to_bytes(4, "big") + (0).to_bytes(4 * 255, "big") + (5).to_bytes(4, "big") + b"\0" * 30)
    with pytest.raises(GitError, match="truncated pack index"):
        list(gitio.pack_index_entries(idx, 20))
    idx.write_bytes(b"PACK" + b"\0" * 2000)
    with pytest.raises(GitError, match="not a version 2 pack index"):
        list(gitio.pack_index_entries(idx, 20))


def test_packed_loose_and_twice_packed_objects_scan_the_same_on_disk_and_in_memory(repo: Repo) -> None:
    """Disk mode lists packs itself: objects in two packs, loose objects, and sizes (a blob
    over the limit, packed or loose, is skipped before it is read, with its size)."""
    secrets = [token("ghp_{alnum:36}", f"packs{i}") for i in range(4)]
    repo.commit("one", **{"a.txt": f"{secrets[0]}\n", "big.txt": "x" * 5000 + "\n"})
    repo.git("repack", "-d", "-q")  # pack 1
    repo.commit("two", **{"b.txt": f"{secrets[1]}\n"})
    repo.git("repack", "-a", "-q")  # pack 2 holds everything again; pack 1 stays: objects in two packs
    repo.commit("three", **{"c.txt": f"{secrets[2]}\n", "a.txt": f"{secrets[3]}\n", "big2.txt": "y" * 3000 + "\n"})  # loose
    reports = {}
    for kind, limit in (("disk", "0"), ("memory", "1000000000")):
        res = run_cli("scan", "--history", "--no-baseline", "--format", "json", "--max-file-size", "1000",
                      cwd=repo.path, env={"LEAKTRAP_HISTORY_MEMORY_OBJECTS": limit})
        assert res.code == 1, res.err
        reports[kind] = json.loads(res.out)
    assert len(list((repo.path / ".git" / "objects" / "pack").glob("*.idx"))) == 2
    strip = lambda doc: sorted((f["path"], f["line"], f["rule_id"], f["commit"]["sha"], f["occurrences"]) for f in doc["findings"])  # noqa: E731
    assert strip(reports["disk"]) == strip(reports["memory"])
    assert len(reports["disk"]["findings"]) == 4
    assert reports["disk"]["skipped"] == reports["memory"]["skipped"]
    reasons = {s["path"]: s["reason"] for s in reports["disk"]["skipped"]}
    assert "5001 > 1000 bytes" in reasons["big.txt"]  # packed: its size from the pack listing
    assert "3001 > 1000 bytes" in reasons["big2.txt"]  # loose: sized before reading too


def test_a_sha256_repository_reads_the_same_on_disk_and_in_memory(tmp_path: Path) -> None:
    """Pack indexes of SHA-256 repositories hold 32-byte ids."""
    from conftest import git

    sha = Repo(tmp_path / "sha256")
    sha.path.mkdir()
    git(sha.path, "init", "-q", "-b", "main", "--object-format=sha256")
    secret = token("ghp_{alnum:36}", "sha256-repo")
    sha.commit("one", **{"a.py": f'T = "{secret}"\n', "big.txt": "x" * 3000})
    sha.git("repack", "-a", "-d", "-q")
    sha.commit("two", **{"big.txt": "x" * 3005})
    docs = []
    for limit in ("0", "1000000000"):
        res = run_cli("scan", "--history", "--no-baseline", "--format", "json", "--max-file-size", "2000",
                      cwd=sha.path, env={"LEAKTRAP_HISTORY_MEMORY_OBJECTS": limit})
        assert res.code == 1, res.err
        docs.append(json.loads(res.out))
    disk, memory = docs
    assert [(f["path"], f["commit"]["sha"]) for f in disk["findings"]] == [(f["path"], f["commit"]["sha"]) for f in memory["findings"]]
    assert len(disk["findings"][0]["commit"]["sha"]) == 64
    assert disk["skipped"] == memory["skipped"] and len(disk["skipped"]) == 2
