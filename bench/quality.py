"""Detection quality: precision, recall and F1 of leaktrap on a labelled corpus (a script, not a test).

    .venv/bin/python bench/quality.py                      # build, scan at high/medium/low, print tables
    .venv/bin/python bench/quality.py --keep --details 5   # keep the corpus, show 5 misses / FPs per class
    .venv/bin/python bench/quality.py --explain 8          # why the misses were missed (rule, filter)
    .venv/bin/python bench/quality.py --disable nats-nkey-seed,jwk-private-key-member   # without some rules
    .venv/bin/python bench/quality.py --rules /tmp/mine.toml --disable generic-password  # try a rule
    .venv/bin/python bench/quality.py --proposal NAME                     # measure a proposed change
    .venv/bin/python bench/quality.py --proposal all --holdout            # ... on the holdout contexts
    .venv/bin/python bench/quality.py --real .venv/lib/python3.11/site-packages/pip   # more secret-free text
    .venv/bin/python bench/quality.py --json /tmp/quality.json --confidence medium --seed 3

The corpus (``bench/quality_corpus.py``) is built from ``--seed`` into a temporary folder: about
300 files in 40 formats with planted secrets in realistic contexts, one example of every provider
rule (regenerated from the rule's own templates with this seed) and many near misses; plus a
copy of a few standard-library packages with no secrets (json, email, http, logging, urllib,
unittest, asyncio; ``--real`` adds other folders). Labels are (file, line, category): a line
with a planted secret is a positive; every other line is a negative. A reported line is a true
positive when it is a labelled positive line, a false positive otherwise; in the stdlib copy
every finding is a false positive unless ``STDLIB_ALLOW`` below justifies it. Line level,
micro-averaged: one line with two findings counts once. ``ctx`` columns leave out the fixed
formats (provider tokens, private keys, JWTs, AWS key pairs).

A false positive is charged to a category through its rule: the category most of that rule's
true positives fall in (so a per-category precision is comparable to the overall one).

``PROPOSALS`` (at the end) holds changes proposed for the rules, scanner/detect/filters.py or the
sources, so that their effect can be measured before they are applied: a rule proposal is a user
rule file that replaces the rules it disables; a patch proposal monkeypatches the module during an
in-process scan. It is empty once its proposals are applied (the first round, now in
rules/generic.toml, rules/sentry.toml, filters.py and sources/notebooks.py, is covered by
tests/test_quality_regressions.py). ``--holdout`` builds only contexts written after that first
round, to see how far it generalises. The corpus shares its author's idea of what secrets look
like with the rules: treat its numbers as a regression check and a map of blind spots, not as a
forecast of the held-out benchmark.
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

# Findings in the stdlib copy that are not false positives: (path glob, rule id glob, reason).
# Empty on purpose: the one finding there today, urllib/request.py:56 (passwd='geheim$parole' in a
# docstring example), is a false positive and is counted as one.
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


def scan(corpus: Path, confidence: str, config: Path | None, jobs: int | None, patch: Path | None = None) -> Run:
    """``leaktrap scan`` as a user runs it; with ``patch``, in this process after running the
    patch file (which may monkeypatch ``scanner.detect.filters`` or ``scanner.engine``)."""
    args = ["scan", "--format", "json", "--no-baseline", "-q", "--min-confidence", confidence, "--show-secrets"]
    if config is not None:
        args += ["--config", str(config)]
    if patch is not None:
        jobs = 1  # worker processes would not see the patch
    if jobs is not None:
        args += ["--jobs", str(jobs)]
    args.append(".")
    start = time.perf_counter()
    if patch is None:
        exe = ROOT / ".venv" / "bin" / "leaktrap"
        proc = subprocess.run([str(exe) if exe.exists() else "leaktrap", *args], cwd=corpus, capture_output=True, text=True)
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    else:
        code, out, err = _scan_in_process(corpus, args, patch)
    seconds = time.perf_counter() - start
    if code not in (0, 1):
        sys.exit(f"leaktrap scan failed ({code}):\n{err}")
    report = json.loads(out)
    for w in report.get("warnings", []):
        print(f"warning: {w}", file=sys.stderr)
    return Run(confidence, seconds, report["findings"], report["summary"].get("duration_seconds", 0.0))


_PATCHED: set[Path] = set()


def _scan_in_process(corpus: Path, args: list[str], patch: Path) -> tuple[int, str, str]:
    import contextlib
    import io
    import runpy

    from scanner.cli import main as cli_main

    if patch not in _PATCHED:
        runpy.run_path(str(patch), run_name="leaktrap_quality_patch")
        _PATCHED.add(patch)
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(corpus)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli_main(args)
            except SystemExit as exc:  # click may exit
                code = int(exc.code or 0)
    finally:
        os.chdir(cwd)
    return code, out.getvalue(), err.getvalue()


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
    "generic-password", "generic-credential-call", "generic-password-setter", "generic-secret-markup",
    "generic-password-unquoted", "generic-secret", "generic-secret-unquoted", "generic-api-key-header",
    "generic-cli-password", "sql-password", "url-credentials", "connection-string-password", "authorization-basic",
    "authorization-bearer", "otpauth-secret", "registry-basic-auth", "k8s-env-secret-value",
    "terraform-variable-default-secret", "pgpass-password",
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


def explain(result: Result, corpus: Path, config: Path | None, limit: int) -> None:
    """Why each miss was missed: for every rule whose regex matches the missed line, the first
    check of the engine that drops the match (replayed here; the engine is not changed)."""
    import regex

    from scanner.config import load_config
    from scanner.detect import filters
    from scanner.detect.entropy import shannon
    from scanner.rules import load_rules

    cfg = load_config(config) if config is not None else None
    rules, _v, _r = load_rules(cfg.rule_files if cfg else (), cfg.disable if cfg else ())
    compiled = [(r, regex.compile(r.regex)) for r in rules if "hygiene" not in r.tags]
    texts: dict[str, list[str]] = {}
    print(f"\n== why the misses at {result.confidence} were missed (rule: reason) ==")
    for cat in sorted(result.misses):
        reasons: Counter = Counter()
        examples: dict[str, tuple[str, int]] = {}
        for path, n in result.misses[cat]:
            if path not in texts:
                texts[path] = (corpus / path).read_text(encoding="utf-8", errors="replace").split("\n")
            line = texts[path][n - 1] if n - 1 < len(texts[path]) else ""
            why = _why(line, path, compiled, filters, shannon) or ["no rule's regex matches the line"]
            for w in why:
                reasons[w] += 1
                examples.setdefault(w, (path, n))
        print(f"-- {cat}: {len(result.misses[cat])} missed lines")
        for w, k in reasons.most_common(limit):
            print(f"   {k:>4}  {w}   e.g. {examples[w][0]}:{examples[w][1]}")


def _why(line: str, path: str, compiled: list, filters, shannon) -> list[str]:  # noqa: ANN001
    out = []
    for rule, pat in compiled:
        try:
            matches = list(pat.finditer(line, timeout=1.0))
        except TimeoutError:
            continue
        for m in matches:
            secret = m.group("secret") or ""
            low = secret.lower()
            reason = None
            if any(w in low for w in rule.allowlist.stopwords):
                reason = "rule stopword"
            elif any(regex_search(a, secret) for a in rule.allowlist.regexes):
                reason = "rule allowlist regex"
            elif rule.min_entropy is not None and shannon(secret) < rule.min_entropy:
                reason = f"entropy {shannon(secret):.2f} < {rule.min_entropy:g}"
            elif rule.generic and filters.is_placeholder(secret):
                reason = "placeholder filter"
            elif rule.generic and filters.is_non_secret(secret):
                reason = f"non-secret filter ({filters.is_non_secret(secret)})"
            elif "random" in rule.tags and not filters.looks_random(secret):
                reason = "not random-looking (tag random)"
            elif rule.allowlist.paths and _path_match(rule.allowlist.paths, path):
                reason = "rule path allowlist"
            elif rule.generic and filters.is_test_path(path):
                reason = "test path: low confidence"
            elif "password" in rule.tags and filters.is_wordlike(secret):
                reason = "word-like password: low confidence"
            else:
                reason = "would be reported (engine context: overlap, line mapping, decoding)"
            out.append(f"{rule.id}: {reason}")
            break
    return sorted(set(out))


def regex_search(pattern: str, text: str) -> bool:
    import regex

    return regex.search(pattern, text) is not None


def _path_match(patterns: tuple[str, ...], path: str) -> bool:
    import pathspec

    return pathspec.PathSpec.from_lines("gitignore", patterns).match_file(path)


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
    ap.add_argument("--holdout", action="store_true",
                    help="only the holdout contexts (written after the first round of rule changes, to check they generalise)")
    ap.add_argument("--details", type=int, default=0, metavar="N", help="show N misses / false positives per class")
    ap.add_argument("--details-at", default="medium", help="confidence level the details are shown for")
    ap.add_argument("--explain", type=int, default=0, metavar="N",
                    help="for each category, the N most common reasons its misses were missed")
    ap.add_argument("--json", type=Path, help="write the scores as JSON")
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--patch", type=Path, help="Python file run before an in-process scan (to measure a filter change)")
    ap.add_argument("--proposal", action="append", default=[], metavar="NAME",
                    help="apply a proposed change (see PROPOSALS at the end; repeatable; 'all' for every one)")
    ap.add_argument("--real", action="append", default=[], type=Path,
                    help="another folder of real text with no secrets (copied; every finding there is a false positive)")
    args = ap.parse_args(argv)

    base = args.workdir or Path(tempfile.mkdtemp(prefix="leaktrap-quality-"))
    corpus_dir = base / "corpus"
    if corpus_dir.exists():
        shutil.rmtree(corpus_dir)
    try:
        corpus = quality_corpus.build(seed=args.seed, reps=args.reps, holdout=args.holdout)
        info = quality_corpus.write(corpus, corpus_dir, stdlib=not args.no_stdlib)
        for k, extra in enumerate(args.real):
            shutil.copytree(extra, corpus_dir / "stdlib" / f"real{k}-{extra.name}", symlinks=False,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".git"))
        labels = corpus.labels()
        (base / "labels.json").write_text(json.dumps(labels, indent=0))
        npos = sum(1 for lab in labels if lab["kind"] == "pos")
        nneg = sum(1 for lab in labels if lab["kind"] == "neg")
        nlines = sum(len(d.lines) for d in corpus.files.values())
        corpus_info = (f"corpus seed {args.seed}: {info['files']} labelled files ({nlines} lines; {npos} positive lines, "
                       f"{nneg} labelled near-miss lines) + {info['stdlib_files']} stdlib files ({base})")
        config = None
        disable = [d for d in args.disable.split(",") if d]
        names = [n for n, p in PROPOSALS.items() if p.in_all] if "all" in args.proposal else args.proposal
        patches = [args.patch.read_text()] if args.patch else []
        for name in names:
            if name not in PROPOSALS:
                sys.exit(f"unknown proposal {name!r} (known: {', '.join(PROPOSALS) or 'none'}, all)")
            prop = PROPOSALS[name]
            if prop.rules:
                path = base / f"proposal-{name}.toml"
                path.write_text(prop.rules.lstrip())
                args.rules.append(path)
            disable.extend(prop.disable)
            if prop.patch:
                patches.append(prop.patch)
        if patches:
            args.patch = base / "proposal-patch.py"
            args.patch.write_text("\n\n".join(patches) + "\n")
        if disable or args.rules:
            config = base / "leaktrap.toml"
            config.write_text(
                "rules = " + json.dumps([str(p.resolve()) for p in args.rules]) + "\n"
                + "disable = " + json.dumps(disable) + "\n"
            )
        results = []
        for conf in [c for c in args.confidence.split(",") if c]:
            run = scan(corpus_dir, conf, config, args.jobs, args.patch.resolve() if args.patch else None)
            results.append(score(run, labels))
        print_tables(results, corpus_info)
        if args.details:
            for r in results:
                if r.confidence == args.details_at or len(results) == 1:
                    print_details(r, corpus_dir, args.details)
        if args.explain:
            for r in results:
                if r.confidence == args.details_at or len(results) == 1:
                    explain(r, corpus_dir, config, args.explain)
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


# --- proposed changes to the rules, scanner/detect/filters.py and scanner/sources ---
# Measured with --proposal NAME (repeatable; "all" for every one). A rule proposal is a user rule file
# that replaces the rules named in its disable list; a patch proposal monkeypatches the module in an
# in-process scan (--patch). Nothing here changes the scanner itself.


@dataclass(frozen=True)
class Proposal:
    summary: str
    rules: str = ""  # a rule file (TOML)
    disable: tuple[str, ...] = ()
    patch: str = ""  # Python run before an in-process scan
    in_all: bool = True  # False: an alternative to others (superseded by them in "all")


PROPOSALS: dict[str, Proposal] = {}
# Add one as PROPOSALS["name"] = Proposal("what it changes", rules=r"""<a rule file>""", disable=("rule-id",))
# or Proposal("...", patch=r"""<Python that monkeypatches scanner.detect.filters ...>"""); remove it
# once it is applied.


if __name__ == "__main__":
    sys.exit(main())
