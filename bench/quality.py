"""Detection quality: precision, recall and F1 of leaktrap on a labelled corpus (a script, not a test).

    .venv/bin/python bench/quality.py                      # build, scan at high/medium/low, print tables
    .venv/bin/python bench/quality.py --keep --details 5   # keep the corpus, show 5 misses / FPs per class
    .venv/bin/python bench/quality.py --disable jwk-private-member,nats-nkey-seed   # without some rules
    .venv/bin/python bench/quality.py --rules /tmp/proposed.toml --disable generic-password
    .venv/bin/python bench/quality.py --json /tmp/quality.json --confidence medium

The corpus (``bench/quality_corpus.py``) is built from ``--seed`` into a temporary folder: about
300 files in 30 formats with planted secrets in realistic contexts, one example of every provider
rule (regenerated from the rule's own templates with this seed) and many near misses; plus a
copy of a few standard-library packages with no secrets. Labels are (file, line, category):
a line with a planted secret is a positive; every other line is a negative. A reported line is a
true positive when it is a labelled positive line, a false positive otherwise; in the stdlib
copy every finding is a false positive unless ``STDLIB_ALLOW`` below justifies it. Line level,
micro-averaged: one line with two findings counts once.

A false positive is charged to a category through its rule: the category most of that rule's
true positives fall in (so a per-category precision is comparable to the overall one).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import quality_corpus  # noqa: E402

# Findings in the stdlib copy that are not false positives, with the reason.
STDLIB_ALLOW: tuple[tuple[str, str, str], ...] = ()

FIXED_FORMAT = ("private-key", "jwt", "provider", "aws-keys")


@dataclass
class Run:
    confidence: str
    seconds: float
    findings: list[dict]
    report_seconds: float = 0.0


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Result:
    confidence: str
    seconds: float
    overall: Score
    context_only: Score  # categories other than fixed formats
    by_category: dict[str, Score]
    fp_by_class: Counter
    fp_by_rule: Counter
    tp_by_rule: Counter
    misses: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    false_pos: dict[str, list[tuple[str, int, str]]] = field(default_factory=dict)
    allowed: int = 0


def scan(corpus: Path, confidence: str, config: Path | None, jobs: int | None) -> Run:
    exe = ROOT / ".venv" / "bin" / "leaktrap"
    cmd = [str(exe) if exe.exists() else "leaktrap", "scan", "--format", "json", "--no-baseline", "-q",
           "--min-confidence", confidence, "--show-secrets"]
    if config is not None:
        cmd += ["--config", str(config)]
    if jobs is not None:
        cmd += ["--jobs", str(jobs)]
    cmd.append(".")
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=corpus, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"leaktrap scan failed ({proc.returncode}):\n{proc.stderr}")
    report = json.loads(proc.stdout)
    for w in report.get("warnings", []):
        print(f"warning: {w}", file=sys.stderr)
    return Run(confidence, seconds, report["findings"], report["summary"].get("duration_seconds", 0.0))


def _allowed(path: str, rule: str) -> bool:
    return any(fnmatch.fnmatch(path, pat) and fnmatch.fnmatch(rule, r) for pat, r, _why in STDLIB_ALLOW)


def score(run: Run, labels: list[dict]) -> Result:
    pos = {(lab["path"], lab["line"]): lab["class"] for lab in labels if lab["kind"] == "pos"}
    neg = {(lab["path"], lab["line"]): lab["class"] for lab in labels if lab["kind"] == "neg"}
    pred: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for f in run.findings:
        pred[(f["path"], f["line"])].append(f)
    tp_by_rule: Counter = Counter()
    rule_cats: dict[str, Counter] = defaultdict(Counter)
    for key, fs in pred.items():
        if key in pos:
            for f in fs:
                tp_by_rule[f["rule_id"]] += 1
                rule_cats[f["rule_id"]][pos[key]] += 1
    res = Result(run.confidence, run.seconds, Score(), Score(), defaultdict(Score), Counter(), Counter(), tp_by_rule)
    res.misses = defaultdict(list)
    res.false_pos = defaultdict(list)
    for key, cat in pos.items():
        s = res.by_category[cat]
        if key in pred:
            s.tp += 1
        else:
            s.fn += 1
            res.misses[cat].append(key)
    for key, fs in pred.items():
        if key in pos:
            continue
        rules = sorted({f["rule_id"] for f in fs})
        if key[0].startswith("stdlib/") and all(_allowed(key[0], r) for r in rules):
            res.allowed += 1
            continue
        cls = neg.get(key) or ("stdlib" if key[0].startswith("stdlib/") else "unlabelled")
        res.fp_by_class[cls] += 1
        for r in rules:
            res.fp_by_rule[r] += 1
        rule = fs[0]["rule_id"]
        cat = rule_cats[rule].most_common(1)[0][0] if rule_cats.get(rule) else _fallback_category(rule)
        res.by_category[cat].fp += 1
        res.false_pos[cls].append((key[0], key[1], ",".join(rules)))
    for cat, s in res.by_category.items():
        res.overall.tp += s.tp
        res.overall.fp += s.fp
        res.overall.fn += s.fn
        if cat not in FIXED_FORMAT:
            res.context_only.tp += s.tp
            res.context_only.fp += s.fp
            res.context_only.fn += s.fn
    return res


def _fallback_category(rule: str) -> str:
    if rule.startswith(("generic-password", "generic-secret-unquoted")):
        return "password-config"
    if rule.startswith("generic-"):
        return "generic-secret"
    return {"sql-password": "sql-password", "url-credentials": "url-credentials",
            "connection-string-password": "connection-string", "authorization-basic": "auth-basic",
            "authorization-bearer": "auth-bearer", "otpauth-secret": "otp-seed",
            "credential-over-http": "url-credentials"}.get(rule, "provider")


# --- printing ---------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def print_tables(results: list[Result], corpus_info: str) -> None:
    print(f"\n{corpus_info}\n")
    print(f"{'min-confidence':<15}{'precision':>10}{'recall':>8}{'F1':>7}{'TP':>6}{'FP':>6}{'FN':>6}"
          f"{'ctx P':>8}{'ctx R':>7}{'ctx F1':>7}{'seconds':>9}")
    for r in results:
        o, c = r.overall, r.context_only
        print(f"{r.confidence:<15}{_fmt(o.precision):>10}{_fmt(o.recall):>8}{_fmt(o.f1):>7}{o.tp:>6}{o.fp:>6}{o.fn:>6}"
              f"{_fmt(c.precision):>8}{_fmt(c.recall):>7}{_fmt(c.f1):>7}{r.seconds:>9.2f}")
    print("(ctx: context categories only, without provider formats, private keys and JWTs)")
    cats = sorted({c for r in results for c in r.by_category})
    head = "".join(f"{r.confidence + ' P/R/F1':>24}" for r in results)
    print(f"\n{'category':<20}{'n':>5}{head}")
    for cat in cats:
        n = next(r.by_category[cat].tp + r.by_category[cat].fn for r in results)
        cells = ""
        for r in results:
            s = r.by_category.get(cat, Score())
            cells += f"{_fmt(s.precision) + ' ' + _fmt(s.recall) + ' ' + _fmt(s.f1):>24}"
        print(f"{cat:<20}{n:>5}{cells}")
    classes = sorted({c for r in results for c in r.fp_by_class})
    if classes:
        print(f"\n{'false positives by negative class':<36}" + "".join(f"{r.confidence:>8}" for r in results))
        for cls in classes:
            print(f"  {cls:<34}" + "".join(f"{r.fp_by_class.get(cls, 0):>8}" for r in results))
    rules = sorted({k for r in results for k in r.fp_by_rule} | {k for r in results for k in r.tp_by_rule})
    print(f"\n{'rule (TP / FP lines)':<40}" + "".join(f"{r.confidence:>12}" for r in results))
    for rule in rules:
        if not any(r.fp_by_rule.get(rule) for r in results) and rule not in _GENERICISH:
            continue
        print(f"  {rule:<38}" + "".join(f"{str(r.tp_by_rule.get(rule, 0)) + ' / ' + str(r.fp_by_rule.get(rule, 0)):>12}"
                                         for r in results))
    for r in results:
        if r.allowed:
            print(f"({r.confidence}: {r.allowed} stdlib lines allowlisted)")


_GENERICISH = {
    "generic-password", "generic-secret", "generic-secret-unquoted", "generic-cli-password", "sql-password",
    "url-credentials", "connection-string-password", "authorization-basic", "authorization-bearer", "otpauth-secret",
}


def print_details(result: Result, corpus: Path, limit: int) -> None:
    cache: dict[str, list[str]] = {}

    def line(path: str, n: int) -> str:
        if path not in cache:
            cache[path] = (corpus / path).read_text(encoding="utf-8", errors="replace").split("\n")
        text = cache[path][n - 1] if n - 1 < len(cache[path]) else ""
        return text.strip()[:150]

    print(f"\n== misses at {result.confidence} ==")
    for cat in sorted(result.misses):
        items = sorted(result.misses[cat])
        print(f"-- {cat}: {len(items)}")
        for path, n in items[:limit]:
            print(f"   {path}:{n}: {line(path, n)}")
    print(f"\n== false positives at {result.confidence} ==")
    for cls in sorted(result.false_pos):
        items = sorted(result.false_pos[cls])
        print(f"-- {cls}: {len(items)}")
        for path, n, rules in items[:limit]:
            print(f"   {path}:{n} [{rules}]: {line(path, n)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reps", type=int, default=3, help="times each context is planted (with fresh values)")
    ap.add_argument("--keep", action="store_true", help="keep the corpus (its path is printed)")
    ap.add_argument("--workdir", type=Path, help="build the corpus here instead of a temporary folder")
    ap.add_argument("--confidence", default="high,medium,low", help="comma-separated min-confidence levels")
    ap.add_argument("--disable", default="", help="comma-separated rule ids to switch off")
    ap.add_argument("--rules", action="append", default=[], type=Path, help="extra rule file (repeatable)")
    ap.add_argument("--no-stdlib", action="store_true", help="leave the standard-library copy out")
    ap.add_argument("--details", type=int, default=0, metavar="N", help="show N misses / false positives per class")
    ap.add_argument("--details-at", default="medium", help="confidence level the details are shown for")
    ap.add_argument("--json", type=Path, help="write the scores as JSON")
    ap.add_argument("--jobs", type=int, default=None)
    args = ap.parse_args(argv)

    base = args.workdir or Path(tempfile.mkdtemp(prefix="leaktrap-quality-"))
    corpus_dir = base / "corpus"
    if corpus_dir.exists():
        shutil.rmtree(corpus_dir)
    try:
        corpus = quality_corpus.build(seed=args.seed, reps=args.reps)
        info = quality_corpus.write(corpus, corpus_dir, stdlib=not args.no_stdlib)
        labels = corpus.labels()
        (base / "labels.json").write_text(json.dumps(labels, indent=0))
        npos = sum(1 for lab in labels if lab["kind"] == "pos")
        nneg = sum(1 for lab in labels if lab["kind"] == "neg")
        nlines = sum(len(d.lines) for d in corpus.files.values())
        corpus_info = (f"corpus seed {args.seed}: {info['files']} labelled files ({nlines} lines; {npos} positive lines, "
                       f"{nneg} labelled near-miss lines) + {info['stdlib_files']} stdlib files ({base})")
        config = None
        disable = [d for d in args.disable.split(",") if d]
        if disable or args.rules:
            config = base / "leaktrap.toml"
            config.write_text(
                "rules = " + json.dumps([str(p.resolve()) for p in args.rules]) + "\n"
                + "disable = " + json.dumps(disable) + "\n"
            )
        results = []
        for conf in [c for c in args.confidence.split(",") if c]:
            run = scan(corpus_dir, conf, config, args.jobs)
            results.append(score(run, labels))
        print_tables(results, corpus_info)
        if args.details:
            for r in results:
                if r.confidence == args.details_at or len(results) == 1:
                    print_details(r, corpus_dir, args.details)
        if args.json:
            args.json.write_text(json.dumps([_as_json(r) for r in results], indent=1))
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(base, ignore_errors=True)
        elif args.keep:
            print(f"\ncorpus kept in {corpus_dir} (labels: {base / 'labels.json'})")
    return 0


def _as_json(r: Result) -> dict:
    def s(x: Score) -> dict:
        return {"tp": x.tp, "fp": x.fp, "fn": x.fn, "precision": round(x.precision, 4), "recall": round(x.recall, 4),
                "f1": round(x.f1, 4)}

    return {"confidence": r.confidence, "seconds": round(r.seconds, 3), "overall": s(r.overall),
            "context_only": s(r.context_only), "by_category": {k: s(v) for k, v in sorted(r.by_category.items())},
            "fp_by_class": dict(r.fp_by_class), "fp_by_rule": dict(r.fp_by_rule), "tp_by_rule": dict(r.tp_by_rule)}


if __name__ == "__main__":
    sys.exit(main())
