"""Detection quality: precision, recall and F1 of leaktrap on a labelled corpus (a script, not a test).

    .venv/bin/python bench/quality.py                      # build, scan at high/medium/low, print tables
    .venv/bin/python bench/quality.py --keep --details 5   # keep the corpus, show 5 misses / FPs per class
    .venv/bin/python bench/quality.py --explain 8          # why the misses were missed (rule, filter)
    .venv/bin/python bench/quality.py --disable nats-nkey-seed,jwk-private-key-member   # without some rules
    .venv/bin/python bench/quality.py --rules /tmp/mine.toml --disable generic-password  # try a rule
    .venv/bin/python bench/quality.py --proposal cli --proposal filters   # measure proposed changes
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

``PROPOSALS`` (at the end) are changes proposed for rules/generic.toml, scanner/detect/filters.py
and scanner/sources/notebooks.py, kept here so that their effect can be measured again: a rule
proposal is a user rule file that replaces the rules it disables; a patch proposal monkeypatches
the module during an in-process scan. ``--holdout`` builds only contexts written after the
first round of proposals, to see how far they generalise. The corpus shares its author's idea
of what secrets look like with the rules: treat its numbers as a regression check and a map of
blind spots, not as a forecast of the held-out benchmark.
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
                    help="only the holdout contexts (written after the proposals below, to check they generalise)")
    ap.add_argument("--details", type=int, default=0, metavar="N", help="show N misses / false positives per class")
    ap.add_argument("--details-at", default="medium", help="confidence level the details are shown for")
    ap.add_argument("--explain", type=int, default=0, metavar="N",
                    help="for each category, the N most common reasons its misses were missed")
    ap.add_argument("--json", type=Path, help="write the scores as JSON")
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--patch", type=Path, help="Python file run before an in-process scan (to measure a filter change)")
    ap.add_argument("--proposal", action="append", default=[], metavar="NAME",
                    help="apply a proposed change (see PROPOSALS; repeatable; 'all' for every one)")
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
        names = list(PROPOSALS) if "all" in args.proposal else args.proposal
        patches = [args.patch.read_text()] if args.patch else []
        for name in names:
            if name not in PROPOSALS:
                sys.exit(f"unknown proposal {name!r} (known: {', '.join(PROPOSALS)}, all)")
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


# --- proposed changes to rules/generic.toml, scanner/detect/filters.py and scanner/sources/notebooks.py ---
# Measured with --proposal NAME (repeatable; "all" for every one). A rule proposal is a user rule file
# that replaces the rules named in its disable list; a patch proposal monkeypatches the module in an
# in-process scan (--patch). Nothing here changes the scanner itself.


@dataclass(frozen=True)
class Proposal:
    summary: str
    rules: str = ""  # a rule file (TOML)
    disable: tuple[str, ...] = ()
    patch: str = ""  # Python run before an in-process scan


PROPOSALS: dict[str, Proposal] = {}

PROPOSALS['password'] = Proposal(
    'generic-password: quoted assignments (typed names, ["x"] subscripts, camelCase ...Pass, _pw, ADMIN_PASS), positional credentials, setters and fallbacks, XML / key-value markup',
    rules=r"""
provider = "Generic"

[[rules]]
id = "generic-password-v2"
description = "Password assigned to a password-like name"
regex = '''(?i)(?<![\w])[\w.-]{0,40}?(?:passw(?:or)?d|passwd|passphrase|\bpwd|\bpass\b|_pass\b|(?-i:[a-z]Pass)\b|_pw\b|\bpw\b)(?<!(?:^|[\W_])(?:old|new|confirm|reset|forgot|show|hide|toggle|check|validate|hash(?:ed)?|salted|enc(?:rypted)?|md5|sha\d*|min|max)_?(?:passw(?:or)?d|pass))(?![\w.-]*?(?:_?(?:type|url|uri|endpoint|name|id|file|path|dir|length|len|size|count|field|label|prefix|header|param|env|var|policy|format|pattern|regex|hint|placeholder|input|template|class|style|mode|enabled|required|expires?|expiry|ttl|timeout|hash|salt|min|max|rules?|reset|changed?|confirm(?:ation)?|strength|validator|manager|store|provider|prompt|flag|enc(?:rypted)?|attempts?|policy|widget|form|html|text|message|msg|error|help|md5|sha\d*|digest)\b))[\w.-]{0,20}["'\]]{0,2}(?::\s*(?:typing\.)?(?:Final|ClassVar|Optional|str|bytes|string|SecretStr)\b[\w.\[\]| ]{0,24}?\s*(?==))?\s*(?:=|:=|:|=>|==|\)\s*=)\s*[bru]{0,2}(?P<q>["'`])(?P<secret>(?:(?!(?P=q))[^\s\\]){4,128})(?P=q)'''
keywords = ["pass", "pwd", "pw"]
severity = "high"
confidence = "medium"
min_entropy = 2.0
generic = true
tags = ["password"]
[rules.allowlist]
stopwords = ["password", "passwd", "example", "changeme", "placeholder", "secret", "dummy", "redacted", "hunter2x"]
[rules.examples]
positive = ['DB_PASSWORD = "{alnum:14}"']
negative = ['password = "${DB_PASSWORD}"']

[[rules]]
id = "generic-credential-call"
description = "Password passed positionally to a login / connect / basic-auth call"
regex = '''(?i)(?:\bauth\s*=\s*\(|\b(?:HTTPBasicAuth|HTTPDigestAuth|BasicAuth|PasswordAuthentication|UsernamePasswordCredentials|NetworkCredential|PlainCredentials)\(|\.(?:login|SetBasicAuth|setBasicAuth|basicAuth|simple_bind_s|simple_bind|bind_s)\(|\.getConnection\(\s*[^,()]+,|\bmysqli\(\s*(?P<hq>["'])[^"'\s]{1,128}(?P=hq)\s*,|\bmysql_connect\(\s*(?P<hq>["'])[^"'\s]{1,128}(?P=hq)\s*,)\s*(?P<uq>["'])[^"'\n]{1,128}(?P=uq)\s*,\s*(?P<q>["'])(?!-)(?P<secret>(?:(?!(?P=q))[^\s\\]){4,128})(?P=q)'''
keywords = ["auth=(", "auth = (", "basicauth(", "digestauth(", "passwordauthentication(", "credential(", "credentials(", "login(", "getconnection(", "mysqli(", "mysql_connect(", "bind_s(", "simple_bind("]
severity = "high"
confidence = "medium"
min_entropy = 2.0
generic = true
tags = ["password"]
[rules.allowlist]
stopwords = ["password", "passwd", "example", "changeme", "placeholder", "secret", "dummy", "redacted"]
[rules.examples]
positive = ['requests.get(url, auth=("admin", "{alnum:12}"))']
negative = ['requests.get(url, auth=("admin", password))']

[[rules]]
id = "generic-password-setter"
description = "Password passed to a setter, as the value of a (name, value) call or as a fallback default"
regex = '''(?i)(?:\.set(?:db|admin|user|root)?_?password\(\s*|\(\s*["'][\w.-]{0,40}?(?:passw(?:or)?d|passwd|passphrase|_pass|_pwd|_pw)["']\s*,\s*(?=["'][^"'\n]*["']\s*\))|\b(?:passw(?:or)?d|passwd|pwd|pass)\w*\s*=\s*[^;\n]{1,80}?(?:\|\||\?\?|\bor\b)\s*)(?P<q>["'])(?!-)(?P<secret>(?:(?!(?P=q))[^\s\\]){4,128})(?P=q)'''
keywords = ["password", "passwd", "pwd", "pass"]
severity = "high"
confidence = "medium"
min_entropy = 2.0
generic = true
tags = ["password"]
[rules.allowlist]
stopwords = ["password", "passwd", "example", "changeme", "placeholder", "secret", "dummy", "redacted"]
[rules.examples]
positive = ['ds.setPassword("{alnum:12}");']
negative = ['ds.setPassword(System.getenv("DB_PASSWORD"));']

[[rules]]
id = "generic-secret-markup"
description = "Password, token or key in an XML element, a key/value attribute pair or a Postman-style {key, value} object"
regex = '''(?i)(?:<(?P<tag>[\w.:-]*?(?:passw(?:or)?d|passwd|pwd|pass|secret|token|api[_.-]?key|apikey)(?![\w.:-]*?(?:hash|salt|policy|length|len|min|max|file|path|type|name|id|url|uri|field|label|expires?|ttl|header|prompt|hint|format|regex|pattern|enabled|required|reset|confirm|encoder|attribute)\b)[\w.:-]*)>(?P<secret>[^<>\s]{4,256})</(?P=tag)>|["']?(?:key|name)["']?\s*[=:]\s*["'][\w.:-]*?(?:passw(?:or)?d|passwd|pwd|pass|secret|token|api[_.-]?key|apikey)(?![\w.:-]*?(?:hash|salt|policy|length|len|min|max|file|path|type|name|id|url|uri|field|label|expires?|ttl|header|prompt|hint|format|regex|pattern|enabled|required|reset|confirm|encoder|attribute)\b)[\w.:-]*["']\s*,?\s*["']?value["']?\s*[=:]\s*(?P<q>["'])(?P<secret>(?:(?!(?P=q))[^\s\\]){4,256})(?P=q)|<entry\s+key\s*=\s*["'][\w.:-]*?(?:passw(?:or)?d|passwd|pwd|pass|secret|token|api[_.-]?key|apikey)(?![\w.:-]*?(?:hash|salt|policy|length|len|min|max|file|path|type|name|id|url|uri|field|label|expires?|ttl|header|prompt|hint|format|regex|pattern|enabled|required|reset|confirm|encoder|attribute)\b)[\w.:-]*["']\s*>(?P<secret>[^<>\s]{4,256})<)'''
# the element form always holds "<name>" and the attribute form "value" next to its operator
keywords = ["word>", "wd>", "pass>", "secret>", "token>", "key>", "value=", "value\"", "value'", "value:", "<entry"]
severity = "high"
confidence = "medium"
min_entropy = 2.3
generic = true
tags = ["password"]
[rules.allowlist]
stopwords = ["password", "passwd", "example", "changeme", "placeholder", "dummy", "redacted"]
[rules.examples]
positive = ['<password>{alnum:12}</password>']
negative = ['<password>${DB_PASSWORD}</password>']
""",
    disable=('generic-password',),
)
PROPOSALS['unquoted'] = Proposal(
    'generic-secret-unquoted split: passwords (any PASS name, floor 2.3, word-like -> low) incl. Dockerfile ENV/ARG, server directives, .netrc, YAML flow maps; secrets (ENV, app_key, not existingSecret)',
    rules=r"""
provider = "Generic"

[[rules]]
id = "generic-password-unquoted"
description = "Password in an env file, YAML, INI, properties, Dockerfile ENV/ARG or server directive (unquoted value)"
regex = '''(?im)(?:^[ \t]*(?:-[ \t]+)?(?:(?:export|set|ENV|ARG)[ \t]+)?[\w.-]{0,40}?(?:passw(?:or)?d|passwd|passphrase|pwd|pass|_pw|(?-i:[a-z]Pass))(?<!(?:^|[\W_])(?:old|new|confirm|reset|forgot|min|max|hash(?:ed)?|enc(?:rypted)?|md5|sha\d*)_?(?:passw(?:or)?d|pass))(?![\w.-]*?(?:_?(?:type|url|uri|name|id|file|path|dir|length|len|size|count|field|label|prefix|header|param|env|var|policy|format|pattern|regex|hint|placeholder|input|template|class|style|mode|enabled|required|expires?|expiry|ttl|timeout|ref|arn|version|limit|hash|salt|min|max|rules?|reset|attribute|provider|manager|store|location|source|algorithm|alg|enc(?:rypted)?|command|cmd|dialog|auth|md5|sha\d*|digest)\b))[\w.-]{0,20}[ \t]*(?:=|:)[ \t]*(?:&[\w-]+[ \t]+)?|^[ \t]*(?:ENV|SetEnv|setenv)[ \t]+[\w.-]{0,40}?(?:passw(?:or)?d|passwd|pwd|pass)\w*[ \t]+|^[ \t]*(?:requirepass|masterauth|AuthLDAPBindPassword|bind_?pw|rootpw)[ \t]+(?P<dq>")?|\bmachine[ \t]+\S+[ \t]+login[ \t]+\S+[ \t]+password[ \t]+|[{,][ \t]*(?:password|passwd|pass|pwd)[ \t]*:[ \t]*(?=[^\s,{}"'\[\]]{4,128}[ \t]*[,}]))(?P<secret>[^\s"'#,;()\[\]{}<>!&*|$%`\\][^\s"'#,;()\[\]{}<>`\\]{3,200})(?(dq)")[ \t]*(?:[#;].*|[,}].*)?\r?$'''
keywords = ["pass", "pwd", "pw", "masterauth"]
severity = "high"
confidence = "medium"
min_entropy = 2.3
generic = true
tags = ["password"]
[rules.allowlist]
stopwords = ["password", "passwd", "example", "changeme", "placeholder", "dummy", "redacted", "foobared"]
regexes = ['''^(?:exec|env|file):''']
paths = ["*.py", "*.pyi", "*.js", "*.mjs", "*.cjs", "*.ts", "*.tsx", "*.jsx", "*.go", "*.java", "*.kt", "*.scala",
         "*.rb", "*.php", "*.c", "*.h", "*.cc", "*.cpp", "*.hpp", "*.cs", "*.rs", "*.swift", "*.m", "*.lua", "*.pl",
         "*.r", "*.R", "*.dart", "*.ex", "*.exs", "*.erl", "*.hs", "*.ml", "*.clj", "*.groovy", "*.vb", "*.fs"]
[rules.examples]
positive = ['SMTP_PASS={alnum:12}']
negative = ['SMTP_PASS=']

[[rules]]
id = "generic-secret-unquoted-v2"
description = "Secret in an env file, YAML, INI or properties line (unquoted value)"
regex = '''(?im)^[ \t]*(?:-[ \t]+)?(?:(?:export|set|ENV|ARG)[ \t]+)?[\w.-]{0,40}?(?<!existing)(?:secret|token|api[_.-]?key|apikey|access[_.-]?key|auth[_.-]?key|private[_.-]?key|client[_.-]?secret|credentials?|signing[_.-]?key|encryption[_.-]?key|app[_.-]?key|master[_.-]?key)(?![\w.-]*?(?:_?(?:type|url|uri|endpoint|name|id|file|path|dir|length|len|size|count|field|label|prefix|header|param|env|var|policy|format|pattern|regex|hint|placeholder|input|template|class|style|mode|enabled|required|expires?|expiry|ttl|timeout|ref|arn|version|limit|hash|provider|manager|store|location|source|algorithm|alg)\b))[\w.-]{0,20}(?:[ \t]*(?:=|:)[ \t]*|(?<=^[ \t]*ENV[ \t]+[\w.-]+)[ \t]+)(?P<secret>[^\s"'#,;()\[\]{}<>!&*|$%`\\][^\s"'#,;()\[\]{}<>`\\]{7,200})[ \t]*(?:[#;].*)?\r?$'''
keywords = ["secret", "token", "key", "credential"]
severity = "high"
confidence = "medium"
min_entropy = 3.0
generic = true
[rules.allowlist]
paths = ["*.py", "*.pyi", "*.js", "*.mjs", "*.cjs", "*.ts", "*.tsx", "*.jsx", "*.go", "*.java", "*.kt", "*.scala",
         "*.rb", "*.php", "*.c", "*.h", "*.cc", "*.cpp", "*.hpp", "*.cs", "*.rs", "*.swift", "*.m", "*.lua", "*.pl",
         "*.r", "*.R", "*.dart", "*.ex", "*.exs", "*.erl", "*.hs", "*.ml", "*.clj", "*.groovy", "*.vb", "*.fs"]
[rules.examples]
positive = ['export STRIPE_SECRET={alnum:32}']
negative = ['api_key: ${API_KEY}']
""",
    disable=('generic-secret-unquoted',),
)
PROPOSALS['cli'] = Proposal(
    'generic-cli-password: docker/helm login -p, sshpass, redis-cli -a, mongo -p, sqlcmd -P, htpasswd -b, openssl pass:, keytool -storepass, rabbitmqctl, chpasswd, echo | login --password-stdin, az login -p, PGPASSWORD=... cmd, ldap* -w, smbclient -U u%p, lftp -u u,p, sqlplus u/p@; tag password',
    rules=r"""
provider = "Generic"

[[rules]]
id = "generic-cli-password-v2"
description = "Password passed on a command line (--password, -p, :password@, tool-specific flags)"
regex = '''(?i)(?:--(?:db-|admin-|root-|user-|client-|registry-|docker-)?(?:password|passwd|pass|secret|token|api-key|requirepass|masterauth)(?:=|[ \t]+)(?P<q>["']?)(?P<secret>[^\s"'$`\\-][^\s"'`\\]{3,127})(?P=q)(?=\s|$|[;&|)])|\b(?:mysql|mysqldump|mysqladmin|mariadb)\b[^\n]*?[ \t]-p(?P<secret>[^\s"'$`\\-][^\s"'`\\]{3,127})|\b(?:docker|podman|nerdctl|buildah|skopeo|oras|helm(?:[ \t]+registry)?)[ \t]+login\b[^\n]*?[ \t]-p[ \t]+(?P<q2>["']?)(?P<secret>[^\s"'$`\\-][^\s"'`\\]{3,127})(?P=q2)(?=\s|$)|\bsshpass["']?(?:[ \t]*,[ \t]*|[ \t]+)["']?-p["']?(?:[ \t]*,[ \t]*["']|[ \t]*["']?)(?P<secret>[^\s"'$`\\-][^\s"'`\\]{3,127})|\b(?:redis-cli|keydb-cli)\b[^\n]*?[ \t]-a[ \t]+(?P<q3>["']?)(?P<secret>[^\s"'$`\\-][^\s"'`\\]{3,127})(?P=q3)(?=\s|$)|\b(?:mongo|mongosh|mongodump|mongorestore|mongoexport|mongoimport)\b[^\n]*?[ \t]-p[ \t]+(?P<q4>["']?)(?P<secret>[^\s"'$`\\-][^\s"'`\\]{3,127})(?P=q4)(?=\s|$)|\b(?:sqlcmd|bcp|osql|isql)\b[^\n]*?[ \t]-P[ \t]*(?P<q5>["']?)(?P<secret>[^\s"'$`\\-][^\s"'`\\]{3,127})(?P=q5)(?=\s|$)|\bhtpasswd[ \t]+-[a-zA-Z]*b[a-zA-Z]*[ \t]+\S+[ \t]+\S+[ \t]+(?P<q6>["']?)(?P<secret>[^\s"'$`\\-][^\s"'`\\]{3,127})(?P=q6)(?=\s|$)|-pass(?:in|out)?[ \t]+pass:(?P<secret>[^\s"'$`\\][^\s"'`\\]{3,127})|-(?:src|dest|new)?(?:store|key)pass[ \t]+(?P<q7>["']?)(?P<secret>[^\s"'$`\\:-][^\s"'`\\]{3,127})(?P=q7)(?=\s|$)|\brabbitmqctl[ \t]+(?:add_user|change_password)[ \t]+\S+[ \t]+(?P<q8>["']?)(?P<secret>[^\s"'$`\\-][^\s"'`\\]{3,127})(?P=q8)(?=\s|$)|\becho[ \t]+(?P<q9>["']?)[\w.-]{1,32}:(?P<secret>[^\s"'$`|\\][^\s"'`|\\]{3,127})(?P=q9)[ \t]*\|[ \t]*(?:sudo[ \t]+)?chpasswd\b|\becho[ \t]+(?P<q10>["']?)(?P<secret>[^\s"'$`|\\-][^\s"'`|\\]{3,127})(?P=q10)[ \t]*\|[ \t]*(?:sudo[ \t]+)?(?:docker|podman|helm|oras|nerdctl)[ \t]+(?:registry[ \t]+)?login\b[^\n]*--password-stdin|\baz[ \t]+login\b[^\n]*?[ \t](?:-p|--password)[ \t]+(?P<q11>["']?)(?P<secret>[^\s"'$`\\-][^\s"'`\\]{3,127})(?P=q11)(?=\s|$)|\b(?:ldapsearch|ldapadd|ldapmodify|ldapdelete|ldappasswd|ldapwhoami)\b[^\n]*?[ \t]-w[ \t]+(?P<q13>["']?)(?P<secret>[^\s"'$`\\-][^\s"'`\\]{3,127})(?P=q13)(?=\s|$)|\bsmbclient\b[^\n]*?[ \t]-U[ \t]+["']?[^\s%"']{1,64}%(?P<secret>[^\s"'$`\\][^\s"'`\\]{3,127})|\blftp\b[^\n]*?[ \t]-u[ \t]+["']?[^\s,"']{1,64},(?P<secret>[^\s"'$`\\][^\s"'`\\]{3,127})|\b(?:sqlplus|rman|expdp|impdp|exp|imp)[ \t]+(?:-[sSlL][ \t]+)*["']?[\w$#]{1,30}/(?P<secret>[^\s"'@/$`\\][^\s"'@/`\\]{3,127})@|(?:^|[\s;&|(])(?:PGPASSWORD|MYSQL_PWD|REDISCLI_AUTH|SSHPASS|MONGO_PASSWORD|SQLCMDPASSWORD)=(?P<q12>["']?)(?P<secret>[^\s"'$`\\][^\s"'`\\]{3,127})(?P=q12)[ \t]+(?=[a-z]))'''
keywords = ["--pass", "--secret", "--token", "--api-key", "--db-pass", "--admin-pass", "--root-pass", "--user-pass", "--client-secret", "--registry-pass", "--docker-pass", "--requirepass", "--masterauth", "mysql", "mariadb", "login", "sshpass", "redis-cli", "keydb-cli", "mongo", "sqlcmd", "bcp", "osql", "isql", "htpasswd", "pass:", "storepass", "keypass", "rabbitmqctl", "chpasswd", "pgpassword", "mysql_pwd", "rediscli_auth", "ldapsearch", "ldapadd", "ldapmodify", "ldapdelete", "ldappasswd", "ldapwhoami", "smbclient", "lftp", "sqlplus", "rman", "expdp", "impdp"]
severity = "high"
confidence = "medium"
min_entropy = 2.3
generic = true
tags = ["password"]
[rules.allowlist]
stopwords = ["password", "passwd", "example", "changeme", "placeholder", "dummy", "redacted"]
[rules.examples]
positive = ['docker login -u ci -p {alnum:16} registry.acme.test']
negative = ['docker login -u ci --password-stdin']
""",
    disable=('generic-cli-password',),
)
PROPOSALS['sql'] = Proposal(
    "sql-password: LOGIN/ROLE ... PASSWORD '..', WITH PASSWORD = '..', PASSWORD('..'), sp_addlogin, unquoted Oracle IDENTIFIED BY",
    rules=r"""
provider = "Generic"

[[rules]]
id = "sql-password-v2"
description = "Password in SQL (IDENTIFIED BY, [WITH] PASSWORD, PASSWORD(...))"
regex = '''(?i)(?:\b(?:identified\s+(?:with\s+\w+\s+)?by(?!\s+(?:password|values)\b)|with\s+(?:encrypted\s+|unencrypted\s+)?password\s*=?|(?<=\b(?:create|alter)\s[^;\n]{0,200})\b(?:login|nologin|superuser|createdb|createrole|inherit|(?:user|role)\s+[\w"]+)\s+password|\bpassword\s*=|\bpassword\s*\()\s*(?P<q>['"])(?P<secret>(?:(?!(?P=q))[^\s\\]){4,128})(?P=q)|\bsp_addlogin\s+(?:@loginame\s*=\s*)?N?'[^'\n]{1,128}'\s*,\s*(?:@passwd\s*=\s*)?N?'(?P<secret>[^'\s]{4,128})'|\bidentified\s+by\s+(?!password\b|values\b)(?P<secret>[A-Za-z][A-Za-z0-9_$#]{3,29})(?=\s*(?:;|$|\s+(?:using|account|default|quota|password|profile)\b)))'''
keywords = ["identified", "password", "sp_addlogin"]
severity = "high"
confidence = "medium"
min_entropy = 2.0
generic = true
tags = ["password"]
[rules.allowlist]
stopwords = ["password", "passwd", "secret", "example", "changeme", "placeholder", "dummy", "redacted"]
[rules.examples]
positive = ["CREATE USER 'app'@'%' IDENTIFIED BY '{alnum:14}';"]
negative = ["CREATE USER 'app'@'%' IDENTIFIED BY '<password>';"]
""",
    disable=('sql-password',),
)
PROPOSALS['connection'] = Proposal(
    'connection-string-password: URL query password=, libpq key=value DSN, Go DSN user:pass@tcp(), StackExchange.Redis ,password=, JDBC ;user=;password=',
    rules=r"""
provider = "Generic"

[[rules]]
id = "connection-string-password-v2"
description = "Password in a connection string (Password=...;, URL query password=, libpq key=value, Go DSN user:pass@tcp())"
regex = '''(?i)(?:(?:^|[;"'\s])(?:server|data source|host|uid|user id|user|username|database|databasename|initial catalog)\s*=[^;\n]{1,100};(?:[^;\n]{0,100};)*?\s*(?:password|pwd)\s*=\s*(?P<secret>[^;"'\s]{4,128})|://[^\s"'<>]*?[?&;](?:password|passwd|pwd)=(?P<secret>[^&;\s"'<>#]{4,128})|\b(?:host|hostaddr|dbname|user|port|sslmode)=[^\s'"=,()]+(?:[ \t]+[a-z_]+=[^\s'"=,()]+)*?[ \t]+password=(?P<secret>[^\s'",()]{4,128})|(?<![\w/:@])[\w.-]{1,64}:(?P<secret>[^@\s"'/:]{4,128})@(?:tcp|unix)\(|\b[\w.-]+:\d{2,5},(?:[^,\n"']*,)*?password=(?P<secret>[^,\s"']{4,128}))'''
keywords = ["password=", "pwd=", "passwd=", "password =", "pwd =", "@tcp(", "@unix("]
severity = "high"
confidence = "high"
min_entropy = 2.0
generic = true
[rules.examples]
positive = ['Server=tcp:sql.prod.local,1433;Database=app;User ID=app;Password={alnum:16};Encrypt=true']
negative = ['Server=db;Database=app;User ID=app;Password=${DB_PASSWORD};']
""",
    disable=('connection-string-password',),
)
PROPOSALS['url'] = Proposal(
    'url-credentials: empty user (redis://:pass@host)',
    rules=r"""
provider = "Generic"

[[rules]]
id = "url-credentials-v2"
description = "Password embedded in a URL or connection string (scheme://user:password@host, scheme://:password@host)"
regex = '''(?i)\b[a-z][a-z0-9+.-]{1,30}://(?P<user>[^:/?#@\s"'`<>{}]{0,128}):(?P<secret>[^@/?#\s"'`<>{}]{3,256})@(?!(?:[a-z0-9-]+\.)*(?:example\.(?:com|org|net)|example|test|invalid)\b)(?:[a-z0-9-]+\.)*[a-z0-9-]+'''
keywords = ["://"]
severity = "high"
confidence = "high"
min_entropy = 1.5
generic = true
[rules.allowlist]
stopwords = ["password", "passwd", "pass@", "secret", "changeme", "example", "placeholder", "dummy", "redacted"]
regexes = ['''(?i)^(?:\*+|x+|\.+|pass|pwd|pw|p|pass(?:word)?\d?|\$\w+|secret|user|username)$''', '''^%[0-9a-fA-F]{2}''']
[rules.examples]
positive = ['REDIS_URL=redis://:{alnum:16}@cache.internal:6379/0']
negative = ['postgres://app:password@localhost/db']
""",
    disable=('url-credentials',),
)
PROPOSALS['auth'] = Proposal(
    "authorization-basic/bearer: ', ' and whitespace separators (Java/Go header calls, nginx, Apache), Postman {key,value} and bearer blocks, backticks",
    rules=r"""
provider = "Generic"

[[rules]]
id = "authorization-basic-v2"
description = "HTTP Basic credentials in an Authorization header or curl -u"
regex = '''(?i)(?:authorization["'\]]*\s*(?:[:=,]\s*|\s+)(?:["']?value["']?\s*[:=]\s*)?["'`]?basic\s+(?P<secret>[A-Za-z0-9+/]{12,}={0,2})(?![A-Za-z0-9+/=])|\bcurl\b[^\n]*?\s(?:-u|--user)\s+["']?(?P<user>[^\s:'"$]{1,64}):(?P<secret>[^\s'"$@]{4,128})["']?(?=\s|$))'''
keywords = ["basic", "curl"]
severity = "high"
confidence = "high"
min_entropy = 2.5
generic = true
[rules.examples]
positive = ['Authorization: Basic {b64:32}']
negative = ['Authorization: Basic <base64>']

[[rules]]
id = "authorization-bearer-v2"
description = "Bearer token in an Authorization header (or a Postman bearer auth block)"
regex = '''(?i)(?:authorization["'\]]*\s*(?:[:=,]\s*|\s+)(?:["']?value["']?\s*[:=]\s*)?["'`]?bearer\s+(?P<secret>[A-Za-z0-9._~+/-]{20,}=*)|"bearer"\s*:\s*\[\s*\{[^}]*?"value"\s*:\s*"(?P<secret>[A-Za-z0-9._~+/-]{20,}=*)")'''
keywords = ["bearer"]
severity = "high"
confidence = "high"
min_entropy = 3.5
generic = true
[rules.examples]
positive = ['Authorization: Bearer {b64url:40}']
negative = ['Authorization: Bearer ${TOKEN}']
""",
    disable=('authorization-basic', 'authorization-bearer'),
)
PROPOSALS['secret'] = Proposal(
    'generic-secret: ["NAME"] subscripts, type annotations, sha*/md5 names excluded; new X-API-Key header / jwt.sign rule',
    rules=r"""
provider = "Generic"

[[rules]]
id = "generic-secret-v2"
description = "High-entropy secret assigned to a key, token or secret name"
regex = '''(?i)(?<![\w])[\w.-]{0,40}?(?:secret|token|api[_.-]?key|apikey|access[_.-]?key|auth[_.-]?key|private[_.-]?key|client[_.-]?secret|credentials?|signing[_.-]?key|encryption[_.-]?key|master[_.-]?key|session[_.-]?key|app[_.-]?key|service[_.-]?key|license[_.-]?key|webhook[_.-]?secret)(?![\w.-]*?(?:_?(?:type|url|uri|endpoint|name|id|file|path|dir|length|len|size|count|field|label|prefix|header|param|env|var|policy|format|pattern|regex|hint|placeholder|input|template|class|style|mode|enabled|required|expires?|expiry|expires_at|ttl|timeout|ref|arn|version|limit|usage|kind|index|start|end|pos|position|list|set|types?|ids|names|provider|manager|store|location|source|count|hash|sha\d*|md5|digest|fingerprint|checksum|kid|algorithm|alg)\b))[\w.-]{0,20}["'\]]{0,2}(?::\s*(?:typing\.)?(?:Final|ClassVar|Optional|str|bytes|string|SecretStr)\b[\w.\[\]| ]{0,24}?\s*(?==))?\s*(?:=|:=|:|=>|==|\)\s*=)\s*[bru]{0,2}(?P<q>["'`])(?P<secret>[A-Za-z0-9+/=_.~:-]{16,256})(?P=q)'''
keywords = ["secret", "token", "key", "credential"]
severity = "high"
confidence = "medium"
min_entropy = 3.5
generic = true
tags = ["random"]
[rules.examples]
positive = ['API_KEY = "{alnum:32}"']
negative = ['token_type = "{alnum:32}"']

[[rules]]
id = "generic-api-key-header"
description = "API key or token sent in a custom header (X-API-Key, X-Auth-Token, ...) or passed to jwt.sign"
regex = '''(?i)(?:\bx-(?:api-?key|auth-token|access-token|api-token|token)["']?\s*(?:[:,]\s*|\s+)["']?(?P<secret>[A-Za-z0-9+/=_.~-]{16,256})(?![A-Za-z0-9+/=_.~-])|\bjwt\.(?:sign|encode)\([^,()\n]{1,80},\s*(?P<q>["'])(?P<secret>[A-Za-z0-9+/=_.~:-]{12,256})(?P=q))'''
keywords = ["x-api", "x-auth-token", "x-access-token", "x-token", "jwt.sign", "jwt.encode"]
severity = "high"
confidence = "medium"
min_entropy = 3.3
generic = true
tags = ["random"]
[rules.examples]
positive = ['curl -H "X-API-Key: {alnum:32}" https://api.acme.test']
negative = ['curl -H "X-API-Key: ${API_KEY}" https://api.acme.test']
""",
    disable=('generic-secret',),
)
PROPOSALS['otp'] = Proposal(
    'otpauth-secret: pyotp.TOTP("..."), base32 values of totp/otp/mfa/2fa ...secret|seed|key names',
    rules=r"""
provider = "Generic"

[[rules]]
id = "otp-seed-v2"
description = "TOTP/HOTP seed (otpauth:// URI, pyotp.TOTP(...), or a base32 value of an otp/mfa/totp secret name)"
regex = '''(?:(?i:otpauth://[th]otp/[^\s?"']*\?(?:[^\s"'#]*&)?secret=)(?P<secret>[A-Za-z2-7]{16,128}=*)|\b(?:pyotp\.)?(?:TOTP|HOTP)\(\s*["'](?P<secret>[A-Z2-7]{16,128}=*)["']|(?i:(?<![\w])[\w.-]{0,30}?(?:totp|otp|mfa|2fa|two[_-]?factor|authenticator)[\w.-]{0,20}?(?:secret|seed|key))["'\]]{0,2}\s*(?:=|:|=>)\s*["']?(?P<secret>[A-Z2-7]{16,128}=*)(?![A-Za-z0-9]))'''
keywords = ["otpauth://", "totp", "hotp", "otp", "mfa", "2fa", "two_factor", "two-factor", "authenticator"]
severity = "high"
confidence = "high"
min_entropy = 3.0
generic = true
[rules.examples]
positive = ['otpauth://totp/ACME:alice@acme.test?secret={base32:32}&issuer=ACME']
negative = ['otpauth://totp/ACME:alice?secret=JBSWY3DP&issuer=ACME']
""",
    disable=('otpauth-secret',),
)
PROPOSALS['registry'] = Proposal(
    'new: base64 user:password in Docker config "auth" and .npmrc _auth/_password',
    rules=r"""
provider = "Generic"

[[rules]]
id = "registry-basic-auth"
description = "Base64 user:password of a registry in a Docker config.json / .dockerconfigjson or .npmrc (_auth, _password)"
regex = '''(?im)(?:"auth"\s*:\s*"|^[ \t]*(?://[^\s:]+/:)?_auth\s*=\s*|^[ \t]*(?://[^\s:]+/:)?_password\s*=\s*)(?P<secret>[A-Za-z0-9+/]{8,}={0,2})(?=["\s]|$)'''
keywords = ["\"auth\"", "_auth", "_password"]
severity = "high"
confidence = "high"
min_entropy = 3.0
[rules.allowlist]
regexes = ['''^[a-z]+$''']
[rules.examples]
positive = ['{{"auths": {{"registry.acme.test": {{"auth": "{b64:24}"}}}}}}']
negative = ['{{"auths": {{"registry.acme.test": {{}}}}}}']
""",
    disable=(),
)
PROPOSALS['multiline'] = Proposal(
    'new: k8s env name/value pairs, Terraform variable defaults, .pgpass / pgbouncer userlist',
    rules=r"""
provider = "Generic"

[[rules]]
id = "k8s-env-secret-value"
description = "Secret value of a password/secret/token environment variable in a Kubernetes or compose env list (name: ... / value: ...)"
regex = '''(?m)^[ \t]*-[ \t]+name:[ \t]*["']?[\w.-]*(?i:passw(?:or)?d|passwd|pwd|_pass|secret|token|api_?key|private_?key|credentials?)(?![\w.-]*(?i:_file|_path|_url|_name|_length|_min|_max|_ttl|_expiry|_timeout))["']?[ \t]*\r?\n[ \t]+value:[ \t]*(?P<q>["']?)(?P<secret>[^\s"'$][^\s"']{3,200})(?P=q)[ \t]*\r?$'''
keywords = ["value:"]
multiline = true
severity = "high"
confidence = "medium"
min_entropy = 2.3
[rules.allowlist]
regexes = ['''^\$''', '''^\{\{''', '''^<''', '''(?i)^(?:true|false|null|none|changeme|password|secret)$''', '''^/''']
[rules.examples]
positive = ["- name: DB_PASSWORD\n  value: {alnum:12}"]
negative = ["- name: DB_PASSWORD\n  valueFrom:"]

[[rules]]
id = "terraform-variable-default-secret"
description = "Secret as the default of a Terraform variable named like a password, secret, token or key"
regex = '''(?s)\bvariable\s+"[\w-]*(?i:password|passwd|secret|token|api_?key|private_?key|access_?key)[\w-]*"\s*\{[^{}]*?\bdefault\s*=\s*"(?P<secret>[^"$\s{}]{8,256})"'''
keywords = ["variable"]
multiline = true
severity = "high"
confidence = "medium"
min_entropy = 3.0
[rules.examples]
positive = ['variable "api_key" {{\n  default = "{alnum:32}"\n}}']
negative = ['variable "api_key" {{\n  type = string\n}}']

[[rules]]
id = "pgpass-password"
description = "Password in a PostgreSQL password file (host:port:database:user:password)"
regex = '''(?m)^[^\s:#]+:(?:\d+|\*):[^\s:]+:[^\s:]+:(?P<secret>[^\s]{4,128})[ \t]*\r?$'''
# literals every entry of a usual .pgpass holds (the common ports or a wildcard port); not ":"
# alone: one-character keywords would call back on every colon of every file
keywords = [":5432:", ":5433:", ":6432:", ":*:"]
severity = "high"
confidence = "medium"
min_entropy = 2.3
paths_only = [".pgpass", "*.pgpass", "pgpass.conf"]
[rules.examples]
path = ".pgpass"
positive = ["db.internal:5432:app:app:{alnum:14}"]
negative = ["# hostname:port:database:username:password"]
""",
    disable=(),
)
PROPOSALS['filters'] = Proposal(
    "filters.is_non_secret: salted-hash formats are not secrets; 'obj.attr' is code only when every part is an identifier; a value with slashes is a path only when its parts are words",
    patch=r"""
import regex

from scanner.detect import filters

_IDENT = regex.compile(r"^(?:[a-z_][a-z0-9_]*|[A-Z_][A-Z0-9_]*|[a-z]+(?:[A-Z][a-z]+)*[0-9]*|(?:[A-Z][a-z]+)+[0-9]*)$")
_SEG = regex.compile(r"^(?:[a-z0-9_.-]+|[A-Z0-9_.-]+|[A-Za-z0-9_-]+\.[A-Za-z0-9]{1,6})$")
_SALTED_HASH = regex.compile(
    r'''(?x)^(?:
        \$(?:2[abxy]?|5|6|y|gy|7|argon2(?:id|i|d)|apr1|pbkdf2(?:-sha\d+)?|scrypt|sha1)\$   # modular crypt format
      | (?:pbkdf2_sha\d+|bcrypt(?:_sha256)?|argon2|scrypt|sha1|md5|crypt)\$                 # Django hashers
      | \{(?:SSHA\d*|SHA\d*|SMD5|MD5|CRYPT|PBKDF2(?:-SHA\d+)?|ARGON2)\}                      # LDAP
      | SCRAM-SHA-\d+\$ | md5[0-9a-f]{32}$ | \*[0-9A-F]{40}$                                  # PostgreSQL, MySQL
    )'''
)
_orig_non_secret = filters.is_non_secret


def is_non_secret(secret: str) -> str | None:
    if _SALTED_HASH.match(secret):
        return "salted hash"
    why = _orig_non_secret(secret)
    if why == "code reference" and "." in secret and "(" not in secret and "/" not in secret:
        parts = secret.rstrip("()").split(".")
        if not all(_IDENT.match(p) for p in parts):
            return None  # 'yoaVzw.eYd0qXdQ' is a password with a dot, not obj.attr
    if why == "path" and secret.startswith("/") and secret.count("/") == 1 and len(secret) >= 16 and filters.looks_random(secret):
        return None  # '/uEXe8cmpi9LNd1WWtzIXiCC' is base64, not a one-level absolute path
    if why == "path" and "/" in secret and not secret.startswith(("/", "./", "../", "~/")) and ":\\" not in secret:
        if not all(_SEG.match(p) for p in secret.strip("/").split("/")) and filters.looks_random(secret):
            return None  # base64 with slashes ('pyCr7Tzs/ftBvz/QX1T...') is not a path
    return why


filters.is_non_secret = is_non_secret

# '<token>' is a placeholder when the brackets hold a name, not any '<' ... '>' inside a random
# string (WordPress salts are full of them)
_ANGLE_OLD = r".*<[^>]{1,60}>.*"
_ANGLE_NEW = r".*<(?:[A-Za-z][\w .:/-]{0,58}|%[^<>]{0,56}%)>.*"
if _ANGLE_OLD in filters._PLACEHOLDER.pattern:
    filters._PLACEHOLDER = regex.compile(filters._PLACEHOLDER.pattern.replace(_ANGLE_OLD, _ANGLE_NEW), filters._PLACEHOLDER.flags)
""",
)
PROPOSALS['notebooks'] = Proposal(
    "notebooks: read each cell's outputs and source in file order (Jupyter writes outputs first) so lines map right",
    patch=r"""
from scanner.sources import notebooks

_orig = notebooks._texts


def _texts(cell):
    parts = {"source": [notebooks._as_lines(cell.get("source"))], "outputs": []}
    parts["outputs"] = [t for t in _orig({k: v for k, v in cell.items() if k != "source"})]
    order = [k for k in cell if k in ("source", "outputs")] or ["source"]
    for key in order:
        yield from parts[key]


notebooks._texts = _texts
""",
)
PROPOSALS["sentry-dsn"] = Proposal(
    "sentry-dsn (rules/sentry.toml): confidence low - a DSN's client key is documented as safe to publish",
    rules=r"""
provider = "Sentry"

[[rules]]
id = "sentry-dsn-low"
description = "Sentry DSN (client key; documented as safe to publish, listed for inventory)"
regex = '''(?i)\bhttps?://(?P<secret>[0-9a-f]{32})@(?:o\d+\.)?(?:ingest\.(?:[a-z]{2}\.)?)?sentry\.io/\d+\b'''
keywords = ["sentry.io"]
severity = "info"
confidence = "low"
min_entropy = 3.0
[rules.examples]
positive = ['SENTRY_DSN=https://{hex:32}@o{digit:5}.ingest.us.sentry.io/{digit:7}']
negative = ['https://{hex:32}@sentry.example.com/5']
""",
    disable=("sentry-dsn",),
)


if __name__ == "__main__":
    sys.exit(main())
