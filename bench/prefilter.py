"""Benchmark: the keyword prefilter, Hyperscan against Aho-Corasick (a script, not a test).

Issue 8 asks for both to be measured. Every rule keyword (lower-cased literals, matched
case-insensitively) is searched in the text of the speed corpus' stdlib tree, file by file, the
way the engine does it, and every hit's (keyword, end offset) is collected:

* ``hyperscan``: one caseless literal database (what leaktrap ships), over the UTF-8 bytes;
* ``hyperscan+patterns``: the same plus the rules' own ``prefilter`` patterns (leaktrap's real
  database);
* ``aho-corasick``: ``pyahocorasick`` over the lower-cased text (``str.lower`` first, since the
  automaton is case-sensitive);
* ``python``: leaktrap's fallback without Hyperscan, ``str.find`` per keyword on the lower-cased text.

    python3 -m venv /tmp/acbench && /tmp/acbench/bin/pip install hyperscan pyahocorasick regex pathspec click
    /tmp/acbench/bin/python bench/prefilter.py [--corpus bench/.corpus/speed/tree] [--reps 3]

pyahocorasick is a benchmark-only install, never a dependency. Prints a Markdown table: MB/s
(median of the reps, one core) and the number of hits each engine reports.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from scanner.rules import load_rules  # noqa: E402


def corpus_texts(root: Path, limit_bytes: int) -> list[str]:
    texts: list[str] = []
    total = 0
    for path in sorted(root.rglob("*.py")):
        if ".git" in path.parts:
            continue
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        texts.append(text)
        total += len(text)
        if total >= limit_bytes:
            break
    return texts


def hyperscan_engine(keywords: list[str], patterns: list[str]) -> Callable[[str], int]:
    import hyperscan as hs

    exprs = ["".join("\\x%02x" % b for b in k.encode()).encode() for k in keywords]
    flags = [hs.HS_FLAG_CASELESS] * len(exprs)
    exprs += [p.encode() for p in patterns]
    flags += [hs.HS_FLAG_ALLOWEMPTY] * len(patterns)
    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs), flags=flags)
    scratch = hs.Scratch(db)

    def run(text: str) -> int:
        hits: list[tuple[int, int]] = []
        append = hits.append
        db.scan(text.encode("utf-8"), match_event_handler=lambda i, _f, to, _fl, _c: append((i, to)), scratch=scratch)
        return len(hits)

    return run


def aho_corasick_engine(keywords: list[str]) -> Callable[[str], int]:
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for i, k in enumerate(keywords):
        automaton.add_word(k, i)
    automaton.make_automaton()

    def run(text: str) -> int:
        return sum(1 for _hit in automaton.iter(text.lower()))

    return run


def python_engine(keywords: list[str]) -> Callable[[str], int]:
    def run(text: str) -> int:
        lowered = text.lower()
        n = 0
        for k in keywords:
            pos = lowered.find(k)
            while pos != -1:
                n += 1
                pos = lowered.find(k, pos + 1)
        return n

    return run


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, default=HERE / ".corpus" / "speed" / "tree")
    p.add_argument("--mb", type=float, default=40.0, help="MB of text to take from the corpus")
    p.add_argument("--reps", type=int, default=3)
    args = p.parse_args(argv)
    if not args.corpus.is_dir():
        raise SystemExit(f"{args.corpus}: build it first (python bench/speed.py --build-only)")
    rules, _v, _r = load_rules([])
    keywords = sorted({k.lower() for r in rules for k in r.keywords})
    patterns = [r.prefilter for r in rules if r.prefilter]
    texts = corpus_texts(args.corpus, int(args.mb * 1e6))
    size = sum(len(t.encode("utf-8")) for t in texts)
    engines: dict[str, Callable[[str], int]] = {}
    try:
        engines["hyperscan"] = hyperscan_engine(keywords, [])
        engines["hyperscan+patterns"] = hyperscan_engine(keywords, patterns)
    except ImportError:
        print("hyperscan is not installed: skipped", file=sys.stderr)
    try:
        engines["aho-corasick"] = aho_corasick_engine(keywords)
    except ImportError:
        print("pyahocorasick is not installed: skipped (pip install pyahocorasick)", file=sys.stderr)
    engines["python"] = python_engine(keywords)
    print(f"{len(keywords)} keywords, {len(patterns)} prefilter patterns, {len(texts)} files, {size / 1e6:.1f} MB\n")
    print("| engine | MB/s (one core) | hits |\n|---|---|---|")
    for name, run in engines.items():
        times = []
        hits = 0
        for _ in range(args.reps):
            t0 = time.perf_counter()
            hits = sum(run(t) for t in texts)
            times.append(time.perf_counter() - t0)
        print(f"| {name} | {size / 1e6 / statistics.median(times):.0f} | {hits:,} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
