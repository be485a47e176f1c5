"""Memory follows the largest file, not how many keyword hits it holds.

A 50 MB line of ``token=`` repeated is millions of prefilter hits; kept one by one as
Python objects they took over a gigabyte. The prefilter now reports an entry once per
line and scans long texts piecewise, so the peak stays a small multiple of the file.
Measured on a real process (``wait4``: the largest of leaktrap and the git it runs).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
