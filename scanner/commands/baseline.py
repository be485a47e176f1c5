"""``leaktrap baseline``: create, update, audit, show and merge the baseline file.

Thin click adapters over :mod:`scanner.baseline`; every write goes through
``baseline.save`` (atomic) and every existing file is validated before it is
replaced, so a malformed or newer-version baseline is never overwritten.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from .. import baseline as bl
from .. import gitio
from ..errors import EXIT_FINDINGS, BaselineError, GitError, UsageError
from ..model import Finding, redact
from ..report.safe import printable

_LABEL_ALIASES = {
    "true-positive": bl.TRUE_POSITIVE, "tp": bl.TRUE_POSITIVE, "true": bl.TRUE_POSITIVE,
    "false-positive": bl.FALSE_POSITIVE, "fp": bl.FALSE_POSITIVE, "false": bl.FALSE_POSITIVE,
    "unlabelled": bl.UNLABELLED, "unlabeled": bl.UNLABELLED, "none": bl.UNLABELLED,
}
_ANSWERS = {"t": bl.TRUE_POSITIVE, "f": bl.FALSE_POSITIVE}


class MergeConflict(BaselineError):
    """Both sides labelled one entry differently: git must mark the file conflicted (exit 1)."""

    exit_code = EXIT_FINDINGS
    label = "baseline merge conflict"


@click.group()
def baseline() -> None:
    """Accept known findings so that only new ones fail a scan.

    The baseline (default: baseline.json at the repository root) holds no raw
    secret: each entry is a rule id, a path and a keyed fingerprint.
    """


# --- shared scan flags ---------------------------------------------------------


@dataclass(frozen=True)
class ScanFlags:
    staged: bool
    history: bool
    commit_range: str | None
    since: str | None
    branch: str | None
    config_path: Path | None
    exclude: tuple[str, ...]
    max_file_size: int | None
    min_confidence: str | None


def scan_flags(func: Callable[..., Any]) -> Callable[..., Any]:
    """The scan options that decide which findings a baseline is made from."""
    options = [
        click.option("--staged", is_flag=True, help="Take the findings of the staged content."),
        click.option("--history", is_flag=True, help="Take the findings of the whole git history too."),
        click.option("--range", "commit_range", metavar="A..B", help="Findings of what the commits in A..B added."),
        click.option("--since", metavar="DATE", help="History: only commits after DATE."),
        click.option("--branch", metavar="REF", help="History: only commits reachable from REF."),
        click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file."),
        click.option("--exclude", multiple=True, metavar="PATTERN", help="gitignore-style pattern to skip (repeatable)."),
        click.option("--max-file-size", type=click.IntRange(min=1), help="Skip files larger than this many bytes."),
        click.option("--min-confidence", type=click.Choice(["high", "medium", "low"]), help="Only findings this confident."),
    ]

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        names = ScanFlags.__dataclass_fields__
        flags = ScanFlags(**{k: kwargs.pop(k) for k in list(kwargs) if k in names})
        return func(flags=flags, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def _target(path: Path | None) -> Path:
    """PATH, or the repository root (the folder when outside git): where the baseline belongs."""
    if path is not None:
        if not path.exists():
            raise UsageError(f"no such file or folder: {path}")
        return path
    return gitio.toplevel(Path(".")) or Path(".")


def _default_location(target: Path, config_path: Path | None) -> Path:
    """Where ``scan`` looks for the baseline of ``target`` (same order: config, then repo root)."""
    from ..config import find_config, load_config

    anchor = target if target.is_dir() else target.parent
    root = gitio.toplevel(anchor) or anchor
    found = config_path or find_config(anchor) or (find_config(root) if root != anchor else None)
    return load_config(found).baseline or root / "baseline.json"


def _scan(target: Path, flags: ScanFlags) -> list[Finding]:
    """Every finding of the scan (no baseline applied)."""
    from ..scan import ScanOptions, run_scan

    options = ScanOptions(
        paths=(target,),
        staged=flags.staged,
        history=flags.history,
        commit_range=flags.commit_range,
        since=flags.since,
        branch=flags.branch,
        config_path=flags.config_path,
        use_baseline=False,
        excludes=flags.exclude,
        max_file_size=flags.max_file_size,
        min_confidence=flags.min_confidence,
        progress=sys.stderr.isatty(),
    )
    result, _prepared = run_scan(options)
    return list(result.findings)


# --- create / update -----------------------------------------------------------


@baseline.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Baseline file to write (default: baseline.json at the repository root).")
@click.option("--force", is_flag=True, help="Replace an existing baseline (labels are lost; see `update`).")
@scan_flags
def create(path: Path | None, output: Path | None, force: bool, flags: ScanFlags) -> None:
    """Accept every current finding of PATH (default: the repository root)."""
    target = _target(path)
    out = output or _default_location(target, flags.config_path)
    if out.exists() or out.is_symlink():
        if not force:
            raise UsageError(f"{out} exists; use --force to replace it, or `leaktrap baseline update` to keep its labels")
        bl.load(out)  # a malformed or newer-version file is never overwritten
    result = bl.update_baseline(bl.new_baseline(), _scan(target, flags))
    bl.save(out, result.baseline)
    click.echo(f"{printable(str(out))}: {len(result.baseline.entries)} entries written")


@baseline.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--baseline", "baseline_path", type=click.Path(path_type=Path), help="Baseline file (default: baseline.json at the repository root).")
@scan_flags
def update(path: Path | None, baseline_path: Path | None, flags: ScanFlags) -> None:
    """Add new findings, drop entries whose secret is gone, keep labels and notes.

    Run it with the flags the baseline was made with (--history...): an entry
    that this scan does not find counts as gone.
    """
    target = _target(path)
    where = baseline_path or _default_location(target, flags.config_path)
    if not where.exists() and not where.is_symlink():
        raise UsageError(f"{where}: no baseline yet; make one with `leaktrap baseline create`")
    previous = bl.load(where)
    result = bl.update_baseline(previous, _scan(target, flags))
    changed = bl.save(where, result.baseline)
    click.echo(
        f"{printable(str(where))}: {result.added} added, {result.removed} removed, {result.kept} kept"
        + ("" if changed else " (unchanged)")
    )


# --- audit ---------------------------------------------------------------------


@baseline.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--baseline", "baseline_path", type=click.Path(path_type=Path), help="Baseline file (default: baseline.json at the repository root).")
@click.option("--label", "labels", multiple=True, metavar="FINGERPRINT=LABEL", help="Label without questions: LABEL is true-positive, false-positive or unlabelled (repeatable).")
@click.option("--note", help="With --label: the note to store (replaces the old one).")
@click.option("--all", "audit_all", is_flag=True, help="Ask about labelled entries too.")
@click.option("--context", type=click.IntRange(0, 20), default=3, show_default=True, help="Lines shown around a finding.")
@click.option("--show-secrets", is_flag=True, help="Show raw secrets in the context (masked by default).")
@click.option("--interactive", is_flag=True, help="Ask questions even when stdin is not a terminal.")
@scan_flags
def audit(
    path: Path | None,
    baseline_path: Path | None,
    labels: tuple[str, ...],
    note: str | None,
    audit_all: bool,
    context: int,
    show_secrets: bool,
    interactive: bool,
    flags: ScanFlags,
) -> None:
    """Label baseline entries as true or false positives.

    On a terminal, shows each unlabelled entry in context (re-scanning PATH to
    find it) and saves after each answer. FINGERPRINT is a baseline
    fingerprint (`leaktrap baseline show --entries`) or a scan report's, or a
    unique prefix of either.
    """
    target = _target(path)
    where = baseline_path or _default_location(target, flags.config_path)
    current = bl.load(where)
    if labels:
        updated = _label_all(current, labels, note, lambda: _scan(target, flags))
        bl.save(where, updated)
        click.echo(f"{printable(str(where))}: {len(labels)} label(s) saved")
        return
    if note is not None:
        raise UsageError("--note goes with --label")
    if not (interactive or sys.stdin.isatty()):
        raise UsageError("audit asks questions on a terminal; in scripts use --label FINGERPRINT=LABEL [--note TEXT]")
    session = _Session(where, current, target, context, show_secrets)
    session.run(_scan(target, flags), audit_all)


def _parse_label(spec: str) -> tuple[str, str]:
    fingerprint, sep, label = spec.partition("=")
    if not sep or label.strip().lower() not in _LABEL_ALIASES:
        raise UsageError(f"--label {spec!r}: expected FINGERPRINT=true-positive|false-positive|unlabelled")
    return fingerprint.strip(), _LABEL_ALIASES[label.strip().lower()]


def _label_all(current: bl.Baseline, specs: tuple[str, ...], note: str | None, scan: Callable[[], list[Finding]]) -> bl.Baseline:
    """Apply every --label, or none: each must name exactly one entry."""
    findings: list[Finding] | None = None
    for spec in specs:
        fingerprint, label = _parse_label(spec)
        keys = {e.key for e in bl.find_entries(current, fingerprint)}
        if not keys:
            findings = scan() if findings is None else findings
            matcher = bl.Matcher(current)
            keys = {e.key for f in findings if f.fingerprint.startswith(fingerprint.lower()) for e in matcher.entries_for(f)}
        if len(keys) != 1:
            problem = "matches no baseline entry" if not keys else f"matches {len(keys)} entries; give more digits"
            raise BaselineError(f"fingerprint {fingerprint}: {problem}")
        current = bl.set_label(current, keys.pop(), label, note)
    return current


class _Session:
    """One interactive audit: question, answer, save."""

    def __init__(self, where: Path, current: bl.Baseline, target: Path, context: int, show_secrets: bool) -> None:
        self.where = where
        self.current = current
        self.target = target
        self.context = context
        self.show_secrets = show_secrets

    def run(self, findings: list[Finding], audit_all: bool) -> None:
        located = _locate(self.current, findings)
        hidden: dict[tuple[str, str | None], set[str]] = {}
        for f in findings:  # every secret found in a source is masked in its context, not just the one asked about
            hidden.setdefault((f.path, f.origin.blob), set()).add(f.secret)
        todo = [e for e in self.current.entries if audit_all or e.label == bl.UNLABELLED]
        shown = sorted((e for e in todo if e.key in located), key=lambda e: (located[e.key].path, located[e.key].line))
        labelled = 0
        for n, entry in enumerate(shown, 1):
            click.echo(f"\n[{n}/{len(shown)}] {entry.rule_id}  fingerprint {entry.fingerprint}  ({entry.label})")
            f = located[entry.key]
            mask = set() if self.show_secrets else hidden.get((f.path, f.origin.blob), {f.secret})
            for line in _context_lines(f, self.target, self.context, mask):
                click.echo(line)
            answer = click.prompt(
                "[t]rue positive, [f]alse positive, [s]kip, [q]uit",
                type=click.Choice(["t", "f", "s", "q"]),
                show_choices=False,
            )
            if answer == "q":
                break
            if answer == "s":
                continue
            note = click.prompt("Note (optional)", default="", show_default=False)
            self.current = bl.set_label(self.current, entry.key, _ANSWERS[answer], note or None)
            bl.save(self.where, self.current)
            labelled += 1
            click.echo(f"saved {printable(str(self.where))}")
        missing = len(todo) - len(shown)
        click.echo(f"\n{labelled} labelled" + (f"; {missing} entries not found by this scan (made with --history?)" if missing else ""))


def _locate(current: bl.Baseline, findings: list[Finding]) -> dict[tuple[str, str], Finding]:
    matcher = bl.Matcher(current)
    located: dict[tuple[str, str], Finding] = {}
    for f in findings:
        for e in matcher.entries_for(f):
            located.setdefault(e.key, f)
    return located


def _context_lines(f: Finding, target: Path, around: int, mask: set[str]) -> list[str]:
    """The lines around ``f``, with every secret in ``mask`` redacted (line numbers kept)."""
    where = f"{f.path}:{f.line}" + (f" (commit {f.origin.commit.sha[:12]})" if f.origin.commit else "")
    out = [f"  {printable(where)}"]
    text = _source_text(f, target)
    if text is None:
        return out + ["  (source not readable)"]
    for raw in sorted(mask, key=len, reverse=True):
        if raw:
            text = text.replace(raw, redact(raw) + "\n" * raw.count("\n"))
    lines = text.splitlines()
    for i in range(max(1, f.line - around), min(len(lines), f.line + around) + 1):
        line = lines[i - 1]
        if f.decoded and i == f.line and mask:
            line = f"[line hidden: holds a {f.decoded}-encoded secret]"
        mark = ">" if i == f.line else " "
        out.append(f"  {mark}{i:6} | {printable(line[:200])}")
    return out


def _source_text(f: Finding, target: Path) -> str | None:
    try:
        if f.origin.blob:
            root = gitio.toplevel(target if target.is_dir() else target.parent) or target
            return gitio.run_git(root, ["cat-file", "blob", f.origin.blob]).decode("utf-8", "replace")
        source = target / f.path if target.is_dir() else target
        return source.read_text("utf-8", errors="replace")
    except (OSError, GitError):
        return None


# --- show / merge ----------------------------------------------------------------


@baseline.command()
@click.option("--baseline", "baseline_path", type=click.Path(path_type=Path), help="Baseline file (default: baseline.json at the repository root).")
@click.option("--entries", is_flag=True, help="List every entry too.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def show(baseline_path: Path | None, entries: bool, as_json: bool) -> None:
    """Count the entries by rule and label."""
    where = baseline_path or _default_location(_target(None), None)
    current = bl.load(where)
    table = bl.counts(current)
    if as_json:
        data: dict[str, Any] = {"baseline": str(where), "entries": len(current.entries), "salts": len(current.salts), "rules": table}
        if entries:
            data["list"] = [e.__dict__ for e in current.entries]
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"{printable(str(where))}: {len(current.entries)} entries, {len(current.salts)} salt(s)")
    for line in _table(table):
        click.echo(line)
    if entries:
        click.echo("")
        for e in current.entries:
            note = f"  # {printable(e.note)}" if e.note else ""
            click.echo(f"{e.fingerprint}  {e.label:14}  {e.rule_id}  {printable(e.path)}{note}")


def _table(table: dict[str, dict[str, int]]) -> list[str]:
    width = max([len(r) for r in table] + [5])
    head = f"{'RULE':{width}}  " + "  ".join(f"{label.upper():>14}" for label in bl.LABELS) + "  TOTAL"
    rows = [head]
    totals = dict.fromkeys(bl.LABELS, 0)
    for rule_id, row in table.items():
        rows.append(f"{rule_id:{width}}  " + "  ".join(f"{row[label]:14}" for label in bl.LABELS) + f"  {sum(row.values()):5}")
        for label in bl.LABELS:
            totals[label] += row[label]
    rows.append(f"{'total':{width}}  " + "  ".join(f"{totals[label]:14}" for label in bl.LABELS) + f"  {sum(totals.values()):5}")
    return rows


@baseline.command()
@click.argument("base", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("ours", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("theirs", type=click.Path(path_type=Path, dir_okay=False))
def merge(base: Path, ours: Path, theirs: Path) -> None:
    """Git merge driver: merge BASE, OURS and THEIRS into OURS (git's %O %A %B).

    \b
    Set it up once per clone (.gitattributes already names it):
      git config merge.leaktrap-baseline.name "leaktrap baseline"
      git config merge.leaktrap-baseline.driver "leaktrap baseline merge %O %A %B"
    """
    ancestor = _load_or_empty(base)
    result = bl.merge_baselines(ancestor, bl.load(ours), bl.load(theirs))
    bl.save(ours, result.baseline)
    if result.conflicts:
        raise MergeConflict(
            "; ".join(result.conflicts)
            + " (the file is valid; fix labels with `leaktrap baseline audit --label`, then `git add` it)"
        )


def _load_or_empty(path: Path) -> bl.Baseline:
    """The merge base: git passes an empty file when both sides added the baseline."""
    try:
        if not path.read_bytes().strip():
            return bl.Baseline(salts=(), entries=())
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return bl.load(path)
