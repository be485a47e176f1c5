"""Memory follows the largest file, not how many keyword hits it holds.

A 50 MB line of ``token=`` repeated is millions of prefilter hits; kept one by one as
Python objects they took over a gigabyte. The prefilter now reports an entry once per
line and scans long texts piecewise, so the peak stays a small multiple of the file.
Measured on a real process (``wait4``: the largest of leaktrap and the git it runs).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Repo

BIG = 50 * 1024 * 1024
PEAK_LIMIT = 200 * 1024 * 1024


def _dense_line() -> str:
    return "token=" * (BIG // 6) + "\n"


# Run from a small Python of its own: a child's peak RSS counts the pages it shares with its
# parent between fork and exec, and the test runner itself may be hundreds of MB by now.
_MEASURE = """
import os, subprocess, sys
with open("out.log", "wb") as out:
    proc = subprocess.Popen([sys.executable, "-m", "scanner", *sys.argv[1:]], stdout=out, stderr=out)
    _pid, status, usage = os.wait4(proc.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss * 1024)  # KiB on Linux
"""


def _peak(args: list[str], cwd: Path) -> tuple[int, int]:
    """(exit code, peak resident bytes) of ``leaktrap`` run with ``args`` in ``cwd``."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    code, peak = done.stdout.split()
    return int(code), int(peak)


def test_a_keyword_dense_file_is_scanned_in_bounded_memory(tmp_path: Path) -> None:
    (tmp_path / "dense.txt").write_text(_dense_line())
    code, peak = _peak(["scan", "--no-baseline", "-q", "--max-file-size", str(2 * BIG), "dense.txt"], tmp_path)
    assert code in (0, 1), (tmp_path / "out.log").read_text()
    assert peak < PEAK_LIMIT, f"peak RSS {peak / 2**20:.0f} MiB"


def test_a_keyword_dense_blob_is_scanned_in_bounded_memory(repo: Repo) -> None:
    repo.commit("big", **{"dense.txt": _dense_line()})
    (repo.path / "dense.txt").unlink()  # only the blob in history is read
    code, peak = _peak(["scan", "--history", "--no-baseline", "-q", "--max-file-size", str(2 * BIG), "."], repo.path)
    assert code in (0, 1), (repo.path / "out.log").read_text()
    assert peak < PEAK_LIMIT, f"peak RSS {peak / 2**20:.0f} MiB"


# The history walk keeps, per unique blob, its first commit and path and its place in the
# pack order. In memory that is ~600 bytes a blob; above a repository size it goes to a
# SQLite scratch file, and leaktrap's own peak must then not grow with the number of blobs.
# Measured on leaktrap's process alone (git's processes are its children: reported apart).
_SELF = """
import resource, sys
sys.argv[0] = "leaktrap"
from scanner.cli import main
code = main(sys.argv[1:])
print(code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, file=sys.__stderr__)
"""


def _many_blobs(path: Path, blobs: int) -> None:
    """A history of ``blobs`` unique small blobs, 100 per commit over 500 paths (git fast-import)."""
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    stream = bytearray()
    for c in range(blobs // 100):
        stream += b"commit refs/heads/main\ncommitter A <a@example.com> %d +0000\ndata 2\nc\n" % (1_600_000_000 + c)
        for j in range(100):
            body = b"value_%d_%d = %d\n" % (c, j, c * 100 + j)
            stream += b"M 100644 inline src/f%d.py\ndata %d\n%s\n" % ((c * 100 + j) % 500, len(body), body)
        stream += b"\n"
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=bytes(stream), check=True)


def _self_peak(repo: Path, store: str) -> int:
    env = {**os.environ, "LEAKTRAP_HISTORY_MEMORY_OBJECTS": "0" if store == "disk" else "1000000000"}
    args = ["scan", "--history", "--no-baseline", "-q", "-j", "1", "."]
    # launched from a small Python of its own, for the reason given above _MEASURE
    launch = "import subprocess, sys; sys.exit(subprocess.run([sys.executable, *sys.argv[1:]]).returncode)"
    done = subprocess.run(
        [sys.executable, "-c", launch, "-c", _SELF, *args], cwd=repo, env=env, capture_output=True, text=True, timeout=300
    )
    code, peak = done.stderr.split()[-2:]
    assert code == "0", done.stderr
    return int(peak)


@pytest.fixture(scope="module")
def histories(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    small, large = tmp_path_factory.mktemp("small"), tmp_path_factory.mktemp("large")
    # big enough that SQLite's page caches (2 MB per connection, bounded) are already full:
    # they fill between 20,000 and 40,000 blobs, and stay flat after that
    _many_blobs(small, 40_000)
    _many_blobs(large, 120_000)
    return small, large


def test_history_memory_does_not_grow_with_the_number_of_blobs(histories: tuple[Path, Path]) -> None:
    small, large = histories
    _self_peak(small, "disk")  # warm: a first run may compile and store the rules
    on_disk = _self_peak(large, "disk") - _self_peak(small, "disk")
    tables = _self_peak(large, "memory") - _self_peak(large, "disk")
    # the measurement can see the tables: 120,000 blobs held in memory cost well over 10 MB
    assert tables > 10 * 2**20, f"in memory: +{tables / 2**20:.1f} MiB"
    assert on_disk < 3 * 2**20, f"on disk: +{on_disk / 2**20:.1f} MiB for 80,000 more blobs"
