"""Benchmark: peak memory of a history scan as the history grows (a script, not a test).

    .venv/bin/python bench/memory.py                          # 20k, 200k and 800k unique blobs
    .venv/bin/python bench/memory.py --blobs 50000 --tools leaktrap

Each corpus is a git repository written with ``git fast-import`` under
``bench/.corpus/memory/<blobs>`` (gitignored, reused): ``blobs`` unique small Python-like
files, 100 per commit over 5,000 paths, with one generated GitHub token planted per 50,000
blobs. Every tool scans the full history once; the table gives the wall time, the peak RSS
of the largest process of the run (``os.wait4``: git's processes count too) and, for
leaktrap, the peak of its own main process. leaktrap runs twice: as shipped (the walk's
tables in memory up to ``MEMORY_OBJECTS`` objects, on disk above) and with the tables
forced into memory (``LEAKTRAP_HISTORY_MEMORY_OBJECTS``), which shows what the disk store
saves and costs. Peers as in ``bench/speed.py`` (native binaries, no validation).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from speed import ROOT, RunFailed, find_exe, kingfisher_tool, leaks_tool, planted_found, run_env, run_once  # noqa: E402

from scanner.template import generate  # noqa: E402

PER_COMMIT = 100
PATHS = 5_000
PLANT_EVERY = 50_000

# leaktrap's own peak, written where LEAKTRAP_BENCH_SELF says (run_once gives the tree's)
SELF = f"""
import resource, sys, os
sys.path.insert(0, {str(ROOT)!r})
sys.argv[0] = "leaktrap"
from scanner.cli import main
code = main(sys.argv[1:])
with open(os.environ["LEAKTRAP_BENCH_SELF"], "w") as f:
    f.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
sys.exit(code)
"""


def build(repo: Path, blobs: int) -> list[str]:
    """The corpus (once) and its planted secrets."""
    secrets = [generate("ghp_{alnum:36}", seed=f"bench-memory:{i}") for i in range(max(1, blobs // PLANT_EVERY))]
    if (repo / ".git" / "leaktrap-bench-done").is_file():
        return secrets
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    proc = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=repo, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    step = blobs // len(secrets)
    plant = {i * step + step // 2: s for i, s in enumerate(secrets)}
    n = 0
    for c in range(blobs // PER_COMMIT):
        out = bytearray(b"commit refs/heads/main\ncommitter A <a@example.com> %d +0000\ndata 2\nc\n" % (1_600_000_000 + c))
        for _ in range(PER_COMMIT):
            body = b"# module %d\nvalue_%d = %d\nname = 'item %d'\n" % (n, n, n * 7919 % 100_003, n)
            if n in plant:
                body += b'GITHUB_TOKEN = "%s"\n' % plant[n].encode()
            out += b"M 100644 inline src/d%d/f%d.py\ndata %d\n%s\n" % (n % 50, n % PATHS, len(body), body)
            n += 1
        proc.stdin.write(bytes(out) + b"\n")
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "repack", "-a", "-d", "-q"], cwd=repo, check=True)
    (repo / ".git" / "leaktrap-bench-done").touch()
    return secrets


def run_leaktrap(repo: Path, out: Path, force_memory: bool) -> tuple[float, float, float, str]:
    env = run_env()
    own = out.with_suffix(".self")
    env["LEAKTRAP_BENCH_SELF"] = str(own)
    if force_memory:
        env["LEAKTRAP_HISTORY_MEMORY_OBJECTS"] = str(10**12)
    argv = [sys.executable, "-c", SELF, "scan", "--history", "--no-baseline", "-q", "--show-secrets",
            "--format", "json", "-o", str(out), str(repo)]
    sample = run_once(argv, out.parent, out.with_suffix(".stdout"), out.with_suffix(".log"), env, 3600)
    if sample.code not in (0, 1):
        raise RunFailed(f"leaktrap exit {sample.code}")
    return sample.seconds, sample.rss_mb, int(own.read_text()) / 1024, out.read_text()


def run_peer(name: str, exe: str, repo: Path, out: Path) -> tuple[float, float, str]:
    tool = kingfisher_tool(exe) if name == "kingfisher" else leaks_tool(name, exe)
    argv = [a.format(target=repo, out=out) for a in tool.commands["history"]]
    sample = run_once(argv, out.parent, out.with_suffix(".stdout"), out.with_suffix(".log"), run_env(), 3600)
    if sample.code not in tool.ok_codes:
        raise RunFailed(f"{name} exit {sample.code}")
    return sample.seconds, sample.rss_mb, out.read_text() if out.is_file() else ""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--blobs", default="20000,200000,800000", help="corpus sizes, in unique blobs")
    p.add_argument("--tools", default="leaktrap,gitleaks,betterleaks,kingfisher")
    p.add_argument("--workdir", type=Path, default=HERE / ".corpus" / "memory")
    p.add_argument("--peers-venv", type=Path, default=Path("/tmp/peers/bin"))
    opts = p.parse_args()
    tools = opts.tools.split(",")
    rows: list[dict[str, object]] = []
    print("| blobs (objects) | tool | time | peak RSS, largest process | leaktrap's own process | planted found |")
    print("|---|---|---|---|---|---|")
    for blobs in (int(b) for b in opts.blobs.split(",")):
        repo = opts.workdir / str(blobs)
        secrets = build(repo, blobs)
        objects = sum(int(line.split()[1]) for line in subprocess.run(
            ["git", "count-objects", "-v"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout.splitlines() if line.split()[0] in ("count:", "in-pack:"))
        outdir = opts.workdir / "out"
        outdir.mkdir(parents=True, exist_ok=True)
        label = f"{blobs:,} ({objects:,})"
        runs: list[tuple[str, float, float, float | None, str]] = []
        if "leaktrap" in tools:
            for force, name in ((False, "leaktrap"), (True, "leaktrap, tables in memory")):
                seconds, rss, own, report = run_leaktrap(repo, outdir / f"leaktrap-{blobs}-{int(force)}.json", force)
                runs.append((name, seconds, rss, own, report))
        for name in ("gitleaks", "betterleaks", "kingfisher"):
            exe = find_exe(name, opts.peers_venv) if name in tools else None
            if exe:
                seconds, rss, report = run_peer(name, exe, repo, outdir / f"{name}-{blobs}.json")
                runs.append((name, seconds, rss, None, report))
        for name, seconds, rss, own, report in runs:
            own_text = f"{own:.0f} MB" if own is not None else ""
            found = planted_found(report, tuple(secrets))
            print(f"| {label} | {name} | {seconds:.2f} s | {rss:.0f} MB | {own_text} | {found}/{len(secrets)} |", flush=True)
            rows.append({"blobs": blobs, "objects": objects, "tool": name, "seconds": seconds, "rss_mb": rss,
                         "own_mb": own, "planted": len(secrets), "found": found})
    (opts.workdir / "results.json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
