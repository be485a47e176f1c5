"""Resource limits: huge, many, deep and compressed inputs finish in bounded time and memory.

Each scan runs as a real process. Memory is the peak RSS of the leaktrap process itself
(``VmHWM`` printed by a small wrapper around ``scanner.cli.main``; ``ru_maxrss`` would also
count the test process it was forked from), not of the git
processes it starts: git may inflate a blob it is asked for, leaktrap must not hold one.
"""

from __future__ import annotations

import base64
import json
import os
import random
import string
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import Repo, token

GH = "ghp_{alnum:36}"
MB = 1024 * 1024

_MEASURED = (
    "import resource, sys\n"
    "from scanner.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "try:\n"
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
    "except OSError:\n"
    "    hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "sys.stderr.write('\\nmaxrss_kb=%s\\n' % hwm)\n"
    "sys.exit(code)\n"
)


@dataclass
class Measured:
    code: int
    out: str
    err: str
    seconds: float
    rss_mb: float

    def doc(self) -> dict:
        return json.loads(self.out)


def measured(*args: str, cwd: Path | None = None, timeout: float = 120) -> Measured:
    env = dict(os.environ)
    env.pop("LEAKTRAP_DEBUG", None)
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout
    )
    seconds = time.monotonic() - started
    rss = [line for line in proc.stderr.splitlines() if line.startswith("maxrss_kb=")]
    assert rss, proc.stderr
    return Measured(proc.returncode, proc.stdout, proc.stderr, seconds, int(rss[-1].split("=")[1]) / 1024)


def skipped_reasons(doc: dict) -> dict[str, str]:
    return {s["path"]: s["reason"] for s in doc["skipped"]}


@pytest.fixture
def fast_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder on tmpfs when there is one (creating 100,000 files on a disk costs more than scanning them)."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        with tempfile.TemporaryDirectory(dir=shm, prefix="leaktrap-limits-") as folder:
            yield Path(folder)
    else:
        yield tmp_path


def test_a_1gb_sparse_file_is_skipped_by_size_without_being_read(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    huge = root / "disk.img"
    with open(huge, "wb") as fh:
        fh.truncate(1024 * MB)
    (root / "app.py").write_text(f'T = "{token(GH, "beside-huge")}"\n')
    res = measured("scan", "--no-baseline", "--format", "json", str(root))
    assert res.code == 1, res.err
    reason = skipped_reasons(res.doc())["disk.img"]
    assert reason.startswith("larger than the size limit") and str(1024 * MB) in reason
    assert [f["path"] for f in res.doc()["findings"]] == ["app.py"]
    assert res.seconds < 20 and res.rss_mb < 200, (res.seconds, res.rss_mb)


def test_a_1gb_sparse_file_in_a_work_tree_is_skipped_too(repo: Repo) -> None:
    repo.commit("init", **{"a.txt": "hello\n"})
    with open(repo.path / "disk.img", "wb") as fh:  # untracked, not ignored: listed by git
        fh.truncate(1024 * MB)
    res = measured("scan", "--no-baseline", "--format", "json", ".", cwd=repo.path)
    assert res.code == 0, res.err
    assert skipped_reasons(res.doc())["disk.img"].startswith("larger than the size limit")
    assert res.rss_mb < 200, res.rss_mb


def _minified_line(size: int, seed: int = 0) -> str:
    """One line of minified-bundle-like text with a keyword every ~100 characters."""
    rnd = random.Random(seed)
    alphabet = string.ascii_letters + string.digits
    parts: list[str] = []
    total = 0
    keywords = ("apiKey:", "token=", "password", "Authorization", "secret", "key")
    while total < size:
        word = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(2, 12)))
        piece = f"var {word}=function(e,t){{return e.{word}(t)}};" if rnd.random() < 0.9 else f'{rnd.choice(keywords)}"{word}",'
        parts.append(piece)
        total += len(piece)
    return "".join(parts)


def test_a_50mb_single_line_finishes_in_bounded_time_and_memory(tmp_path: Path) -> None:
    root = tmp_path / "bundle"
    root.mkdir()
    secret = token(GH, "in-bundle")
    line = _minified_line(50 * MB)
    middle = len(line) // 2
    (root / "app.min.js").write_text(line[:middle] + f'token:"{secret}",' + line[middle:])
    res = measured("scan", "--no-baseline", "--format", "json", "--max-file-size", str(60 * MB), str(root), timeout=300)
    assert res.code == 1, res.err
    (finding,) = res.doc()["findings"]
    assert (finding["rule_id"], finding["line"]) == ("github-pat-classic", 1)
    assert finding["column"] == middle + len('token:"') + 1
    # a 50 MB text is held twice (bytes and str) plus the matcher's bookkeeping
    assert res.seconds < 90, res.seconds
    assert res.rss_mb < 700, res.rss_mb
    print(f"50 MB single line: {res.seconds:.1f} s, peak RSS {res.rss_mb:.0f} MB")


def test_100k_small_files(fast_dir: Path) -> None:
    root = fast_dir / "many"
    root.mkdir()
    started = time.monotonic()
    for d in range(100):
        folder = root / f"d{d:03}"
        folder.mkdir()
        for i in range(1000):
            fd = os.open(folder / f"f{i:04}.py", os.O_WRONLY | os.O_CREAT, 0o644)
            os.write(fd, f"value_{d}_{i} = compute(alpha, beta)  # key {i}\n".encode())
            os.close(fd)
    (root / "d050" / "leak.py").write_text(f'T = "{token(GH, "needle")}"\n')
    made = time.monotonic() - started
    res = measured("scan", "--no-baseline", "--format", "json", "-j", "1", str(root), timeout=300)
    assert res.code == 1, res.err
    doc = res.doc()
    assert doc["summary"]["files_scanned"] == 100_001
    assert [f["path"] for f in doc["findings"]] == ["d050/leak.py"]
    assert res.seconds < 60, res.seconds
    assert res.rss_mb < 300, res.rss_mb
    print(f"100,001 files: created in {made:.1f} s, scanned in {res.seconds:.1f} s, peak RSS {res.rss_mb:.0f} MB")


def _nest(text: str, levels: int) -> str:
    value = text.encode()
    for _ in range(levels):
        value = base64.b64encode(value)
    return value.decode()


def test_a_deeply_nested_base64_bomb_stops_at_the_depth_bound(tmp_path: Path) -> None:
    root = tmp_path / "deep"
    root.mkdir()
    shallow, deep = token(GH, "depth-2"), token(GH, "depth-25")
    (root / "values.yaml").write_text(
        f"auth_token: {_nest('token=' + shallow, 2)}\n"
        f"auth_blob: {_nest('token=' + deep, 25)}\n"  # 25 levels: ~34x longer than the token
    )
    res = measured("scan", "--no-baseline", "--format", "json", str(root))
    found = [(f["line"], f.get("decoded")) for f in res.doc()["findings"]]
    assert found == [(1, "base64+base64")]  # found at depth 2, never pursued to depth 25
    assert res.seconds < 20, res.seconds


def _b64_of_text(rnd: random.Random, n: int) -> str:
    return base64.b64encode("".join(rnd.choice(string.ascii_letters + string.digits + " ") for _ in range(n)).encode()).decode()


def test_a_line_of_many_encoded_runs_is_decoded_in_linear_time(tmp_path: Path) -> None:
    """256 runs on one credential line, each decoding to text that holds 60 more runs: before the
    fix each run's derived chunk carried the whole line before it and the next level decoded that
    again (quadratic per level: over 300 s on this 1 MB file)."""
    rnd = random.Random(5)
    root = tmp_path / "wide"
    root.mkdir()
    inner = [" ".join(_b64_of_text(rnd, 30) for _ in range(60)) for _ in range(8)]
    runs = [base64.b64encode(inner[i % 8].encode()).decode() for i in range(256)]
    secret = token(GH, "after-the-bomb")
    runs.append(_nest(f"token={secret}", 1))
    (root / "bomb.txt").write_text("token: " + " ".join(runs) + "\n")
    (root / "wide.txt").write_text("token: " + " ".join(_b64_of_text(rnd, 3000) for _ in range(256)) + "\n")
    res = measured("scan", "--no-baseline", "--format", "json", str(root), timeout=120)
    assert res.code in (0, 1), res.err
    assert res.seconds < 20, res.seconds
    assert res.rss_mb < 300, res.rss_mb


def test_decoder_work_is_bounded() -> None:
    from scanner.model import Chunk
    from scanner.sources import decoding

    rnd = random.Random(9)
    inner = " ".join(_b64_of_text(rnd, 24) for _ in range(300))
    line = "secret: " + " ".join(base64.b64encode(inner.encode()).decode() for _ in range(300))
    decoder = decoding.Decoder(max_depth=5)
    derived = list(decoder.chunks(Chunk(path="x", text=line)))
    assert len(derived) <= decoding.MAX_DERIVED
    assert decoder.truncated
    assert all(len(c.text) <= decoding.MAX_PREFIX + len(run) for c, run in derived)


def test_a_zip_bomb_is_binary_and_skipped_fast(tmp_path: Path) -> None:
    root = tmp_path / "archives"
    root.mkdir()
    bomb = root / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for i in range(10):
            with zf.open(f"layer{i}.bin", "w") as member:
                chunk = b"\0" * MB
                for _ in range(100):  # 100 MB of zeros each: 1 GB inflated, ~1 MB on disk
                    member.write(chunk)
    assert bomb.stat().st_size < 5 * MB
    res = measured("scan", "--no-baseline", "--format", "json", str(root))
    assert res.code == 0, res.err
    assert skipped_reasons(res.doc()) == {"bomb.zip": "binary"}
    assert res.seconds < 20 and res.rss_mb < 200, (res.seconds, res.rss_mb)


def test_a_500mb_blob_in_history_is_skipped_without_loading_it(repo: Repo) -> None:
    secret = token(GH, "history-beside-big")
    repo.commit("small", **{"app.py": f'T = "{secret}"\n'})
    # a 500 MB blob of zeros, streamed into git (compresses to well under a megabyte)
    with subprocess.Popen(["git", "hash-object", "-w", "--stdin"], cwd=repo.path, stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        zeros = b"\0" * (4 * MB)
        for _ in range(125):
            proc.stdin.write(zeros)
        proc.stdin.close()
        big = proc.stdout.read().decode().strip()
    text_big = subprocess.run(  # and a 200 MB text blob (no NUL): not binary, only too big
        ["git", "hash-object", "-w", "--stdin"], cwd=repo.path, input=b"a" * (200 * MB), capture_output=True, check=True
    ).stdout.decode().strip()
    tree = repo.git("ls-tree", "HEAD")
    tree += f"100644 blob {big}\tdisk.img\n100644 blob {text_big}\tdump.txt\n"
    new_tree = subprocess.run(["git", "mktree"], cwd=repo.path, input=tree.encode(), capture_output=True,
                              check=True).stdout.decode().strip()
    repo.git("update-ref", "HEAD", repo.git("commit-tree", new_tree, "-p", "HEAD", "-m", "big files").strip())
    res = measured("scan", "--history", "--no-baseline", "--format", "json", ".", cwd=repo.path, timeout=300)
    assert res.code == 1, res.err
    reasons = skipped_reasons(res.doc())
    assert reasons["disk.img"].startswith("larger than the size limit") and str(500 * MB) in reasons["disk.img"]
    assert reasons["dump.txt"].startswith("larger than the size limit")
    assert [f["path"] for f in res.doc()["findings"]] == ["app.py"]
    assert res.rss_mb < 200, res.rss_mb
    assert res.seconds < 30, res.seconds
    print(f"history with 500 MB + 200 MB blobs: {res.seconds:.1f} s, peak RSS {res.rss_mb:.0f} MB")


# ---------------------------------------------------------------- interrupts and concurrency

_INTERRUPT_AT_RENAME = (
    "import os, sys\n"
    "real = os.replace\n"
    "def replace(src, dst, *a, **k):\n"
    "    if os.path.basename(str(dst)) == 'baseline.json':\n"
    "        raise KeyboardInterrupt  # Ctrl-C at the worst moment: new content written, not yet renamed\n"
    "    return real(src, dst, *a, **k)\n"
    "os.replace = replace\n"
    "from scanner.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)

_HANG_WHILE_WRITING = (
    "import os, sys, time\n"
    "ready = sys.argv.pop(1)\n"
    "real = os.fsync\n"
    "def fsync(fd):\n"
    "    real(fd)\n"
    "    if '.baseline.json.' in os.readlink(f'/proc/self/fd/{fd}'):\n"
    "        open(ready, 'w').close()  # tell the test: the temporary file is written\n"
    "        time.sleep(120)\n"
    "os.fsync = fsync\n"
    "from scanner.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _baseline_repo(repo: Repo) -> tuple[Path, bytes]:
    repo.commit("one", **{"a.py": f'T = "{token(GH, "interrupt-1")}"\n'})
    res = subprocess.run([sys.executable, "-m", "scanner", "baseline", "create"], cwd=repo.path, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    repo.commit("two", **{"b.py": f'U = "{token(GH, "interrupt-2")}"\n'})  # so that update has something to write
    path = repo.path / "baseline.json"
    return path, path.read_bytes()


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_ctrl_c_during_a_baseline_write_keeps_the_old_file(repo: Repo) -> None:
    path, old = _baseline_repo(repo)
    res = subprocess.run([sys.executable, "-c", _INTERRUPT_AT_RENAME, "baseline", "update"], cwd=repo.path,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 130, res.stderr
    assert "Traceback" not in res.stderr
    assert path.read_bytes() == old
    assert _leftovers(repo.path) == []


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_kill_9_during_a_baseline_write_keeps_the_old_file(repo: Repo, tmp_path: Path) -> None:
    import signal

    path, old = _baseline_repo(repo)
    ready = tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-c", _HANG_WHILE_WRITING, str(ready), "baseline", "update"],
                            cwd=repo.path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the write never started"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert path.read_bytes() == old  # the rename never happened: the old baseline is whole
    for left in _leftovers(repo.path):  # a killed process cannot clean up; what it leaves is private
        assert (os.stat(left).st_mode & 0o077) == 0, oct(os.stat(left).st_mode)
    res = subprocess.run([sys.executable, "-m", "scanner", "baseline", "show"], cwd=repo.path, capture_output=True,
                         text=True)
    assert res.returncode == 0 and "1 entries" in res.stdout, res.stdout + res.stderr


def test_an_interrupted_audit_log_append_leaves_the_log_readable(tmp_path: Path) -> None:
    from scanner.providers.audit import AuditEntry, AuditLog

    log = AuditLog(tmp_path / "logs" / "audit.jsonl")

    def entry(n: int) -> AuditEntry:
        return AuditEntry("2024-01-01T00:00:00Z", "revoke", "r", "p", "github", f"fp{n}", f"cred{n}", "submitted",
                          "ok", 202, "POST https://x", True)

    log.append(entry(1))
    old = log.path.read_bytes()
    real_write = os.write
    try:
        def interrupted(fd: int, data: bytes) -> int:
            raise KeyboardInterrupt

        os.write = interrupted  # type: ignore[assignment]
        with pytest.raises(KeyboardInterrupt):
            log.append(entry(2))
    finally:
        os.write = real_write  # type: ignore[assignment]
    assert log.path.read_bytes() == old
    assert [e["fingerprint"] for e in log.entries()] == ["fp1"]
    assert stat_mode(log.path) == 0o600 and stat_mode(log.path.parent) == 0o700


def stat_mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777


def test_an_entry_after_a_torn_line_is_kept(tmp_path: Path) -> None:
    from scanner.providers.audit import AuditEntry, AuditLog

    log = AuditLog(tmp_path / "audit.jsonl")
    done = AuditEntry("2024-01-01T00:00:00Z", "revoke", "r", "p", "github", "fp", "cred", "submitted", "ok", 202,
                      "POST https://x", True)
    log.append(done)
    with open(log.path, "ab") as fh:
        fh.write(done.to_json().encode()[:40])  # power lost in the middle of a write
    log.append(done)
    assert [e["fingerprint"] for e in log.entries()] == ["fp", "fp"]
    assert log.already_revoked("cred", "github") is not None


def test_four_hooks_at_once_share_an_empty_cache_safely(repo: Repo, tmp_path: Path) -> None:
    """Four concurrent scans start with an empty cache and all write it: same output, valid cache."""
    repo.commit("init", **{"a.py": f'T = "{token(GH, "concurrent")}"\n', "b.txt": "nothing\n"})
    repo.write("c.py", f'U = "{token(GH, "concurrent-staged")}"\n')
    repo.git("add", "c.py")
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if k != "LEAKTRAP_DEBUG"}
    env["LEAKTRAP_CACHE_DIR"] = str(cache)
    cmd = [sys.executable, "-m", "scanner", "scan", "--staged", "--no-baseline", "--format", "json"]

    def run_all(n: int) -> list[tuple[int, str, str]]:
        procs = [subprocess.Popen(cmd, cwd=repo.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(n)]
        return [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]

    first = run_all(4)
    assert {code for code, _out, _err in first} == {1}, [err for _c, _o, err in first]
    docs = [json.loads(out)["findings"] for _code, out, _err in first]
    assert all(d == docs[0] for d in docs) and [f["path"] for f in docs[0]] == ["c.py"]
    assert _leftovers(cache) == []
    cached = sorted(p.name for p in cache.iterdir())
    assert any(n.startswith("rules-") for n in cached) and any(n.startswith("prefilter-") for n in cached), cached
    for rules_file in cache.glob("rules-*.json"):
        json.loads(rules_file.read_text())  # complete, not torn
    again = run_all(2)  # and the cache they left is used as is
    assert [json.loads(out)["findings"] for _c, out, _e in again] == [docs[0], docs[0]]
    assert sorted(p.name for p in cache.iterdir()) == cached
