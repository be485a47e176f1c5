"""A scan from start to end: configuration, rules, sources, engine, baseline.

The CLI builds :class:`ScanOptions` and calls :func:`run_scan`; everything it
returns is data (a ScanResult) for the reporters.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from . import gitio
from .config import Config, find_config, load_config
from .engine import EngineSettings, RuleSet, scan_chunk
from .errors import UsageError
from .model import Chunk, Finding, Origin, Rule, ScanResult, Skipped
from .record import record, replace
from .rules import cache_dir, load_rules
from .sources.decoding import DEFAULT_DEPTH, MARKERS, ContextLines, Decoder
from .sources.files import DEFAULT_MAX_FILE_SIZE, discover, path_chunks


@record
class ScanOptions:
    paths: tuple[Path, ...] = (Path("."),)
    staged: bool = False
    history: bool = False
    commit_range: str | None = None
    since: str | None = None
    branch: str | None = None
    stash: bool = False  # history: also the stash entries
    config_path: Path | None = None
    baseline_path: Path | None = None
    use_baseline: bool = True
    excludes: tuple[str, ...] = ()
    max_file_size: int | None = None
    min_confidence: str | None = None
    show_secrets: bool = False
    jobs: int = 0
    progress: bool = False
    trust_repo_config: bool = True


@record
class Prepared:
    """What every mode needs: the repo root, the config and the compiled rules."""

    root: Path
    config: Config
    rules: tuple[Rule, ...]
    verify_specs: dict
    revoke_specs: dict
    ruleset: RuleSet
    settings: EngineSettings
    max_file_size: int
    decode_depth: int = DEFAULT_DEPTH
    repo: gitio.RepoState | None = None  # git directory and HEAD, when locating the root told them


def prepare(options: ScanOptions) -> Prepared:
    first = options.paths[0] if options.paths else Path(".")
    if not first.exists() and not first.is_symlink():
        raise UsageError(f"no such file or folder: {first}")
    anchor = first if first.is_dir() else first.parent
    located = gitio.locate(anchor)
    root = located.root if located is not None else anchor
    config_path = options.config_path
    if config_path is None and options.trust_repo_config:
        config_path = find_config(anchor) or (find_config(root) if root != anchor else None)
    config = load_config(config_path)
    rules, verify, revoke = load_rules(config.rule_files, config.disable)
    settings = EngineSettings(
        regex_timeout=config.regex_timeout or 2.0,
        min_confidence=options.min_confidence or config.min_confidence or "medium",
        generic_min_entropy=config.min_entropy,
        show_secrets=options.show_secrets,
        # code we do not trust must not be able to hide its own secrets
        allow_markers=options.trust_repo_config,
    )
    return Prepared(
        root=root,
        config=config,
        rules=rules,
        verify_specs=verify,
        revoke_specs=revoke,
        ruleset=RuleSet(rules, cache_dir(), MARKERS),  # the decoder's context lines come from the same pass
        settings=settings,
        max_file_size=options.max_file_size or config.max_file_size or DEFAULT_MAX_FILE_SIZE,
        decode_depth=config.decode_depth if config.decode_depth is not None else DEFAULT_DEPTH,
        repo=located.state if located is not None else None,
    )


@record(frozen=False)
class Collected:
    findings: list[Finding]
    skipped: list[Skipped]
    warnings: list[str]
    files: int
    bytes: int


def collect(items: Iterable[Chunk | Skipped], prepared: Prepared) -> Collected:
    """Run the engine over a stream of chunks (Skipped entries pass through)."""
    out = Collected([], [], [], 0, 0)
    decoder = Decoder(prepared.decode_depth) if prepared.decode_depth > 0 else None
    seen_paths: set[str] = set()
    for item in items:
        if isinstance(item, Skipped):
            out.skipped.append(item)
            continue
        if item.path not in seen_paths:
            seen_paths.add(item.path)
            out.files += 1
        out.bytes += len(item.text)
        out.findings.extend(scan_item(item, prepared, decoder, out.warnings))
    out.findings = dedupe(out.findings)
    return out


def scan_item(chunk: Chunk, prepared: Prepared, decoder: Decoder | None, warnings: list[str]) -> list[Finding]:
    """One chunk through the engine, its decoded runs included (file scans and history alike).
    The engine's prefilter pass also finds the lines the decoder looks at."""
    context = ContextLines(chunk.text) if decoder is not None else None
    res = scan_chunk(chunk, prepared.ruleset, prepared.settings, context)
    warnings.extend(res.warnings)
    if decoder is None:
        return res.findings
    return _add_decoded(chunk, res.findings, decoder, context, prepared, warnings)


def _add_decoded(
    chunk: Chunk,
    findings: list[Finding],
    decoder: Decoder,
    context: ContextLines | None,
    prepared: Prepared,
    warnings: list[str],
) -> list[Finding]:
    """Findings in the chunk's decoded runs; a finding that was only the encoded form of
    a decoded secret (a generic match on the base64 itself) gives way to the decoded one."""
    for derived, run in decoder.chunks(chunk, context):
        res = scan_chunk(derived, prepared.ruleset, prepared.settings)
        warnings.extend(res.warnings)
        if res.findings:
            findings = [f for f in findings if f.secret not in run] + res.findings
    if decoder.truncated:
        warnings.append(f"{chunk.path}: too many encoded runs; decoding stopped at its limit (the raw text was scanned)")
    return findings


def dedupe(findings: list[Finding]) -> list[Finding]:
    """The same secret found twice on one line (raw and decoded) is one finding."""
    seen: set[tuple[str, int, str]] = set()
    out: list[Finding] = []
    for f in findings:
        key = (f.path, f.line, f.fingerprint)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


@record
class FileTask:
    root: Path
    rel: str
    shown: str  # the path as reported
    tracked: bool
    size: int


def file_tasks(options: ScanOptions, prepared: Prepared) -> tuple[list[FileTask], list[Skipped]]:
    """Every file a scan of ``options.paths`` reads, and what discovery already skipped."""
    excludes = tuple(prepared.config.exclude) + options.excludes
    many = len(options.paths) > 1
    tasks: list[FileTask] = []
    skipped: list[Skipped] = []
    for target in options.paths:
        if not target.exists() and not target.is_symlink():
            raise UsageError(f"no such file or folder: {target}")
        fileset = discover(target, excludes)
        prefix = "" if not many or not target.is_dir() else target.as_posix().rstrip("/") + "/"
        file_target = not target.is_dir()
        skipped.extend(Skipped(prefix + s.path, s.reason) for s in fileset.skipped)
        for rel in fileset.paths:
            shown = target.as_posix() if file_target else prefix + rel
            tasks.append(FileTask(fileset.root, rel, shown, rel in fileset.tracked, _size(fileset.root / rel)))
    return tasks, skipped


def _size(path: Path) -> int:
    try:
        return path.lstat().st_size
    except OSError:
        return 0


def task_items(tasks: Iterable[FileTask], max_file_size: int) -> Iterator[Chunk | Skipped]:
    tracked = Origin(tracked=True)
    for task in tasks:
        for item in path_chunks(task.root, task.rel, max_file_size, tracked if task.tracked else None):
            if isinstance(item, Skipped):
                yield Skipped(task.shown, item.reason)
            elif task.shown != item.path:
                yield replace(item, path=task.shown)
            else:
                yield item


OWN_DATA_DIR = ".leaktrap"  # the audit log and its key live here


def _scan_files(options: ScanOptions, prepared: Prepared, skip: Path | None = None) -> Collected:
    """The files of ``options.paths``, never leaktrap's own data: the baseline (salted
    hashes, whose salt looks like a secret) and the ``.leaktrap/`` folder (audit log).
    Unless the repository is not trusted: then they are the repository's files like any
    other (see ``_is_own_data``)."""
    tasks, skipped = file_tasks(options, prepared)
    own_dir = (prepared.root / OWN_DATA_DIR).resolve()
    skip_real = skip.resolve() if skip is not None and skip.exists() else None

    def ours(task: FileTask) -> bool:
        full = (task.root / task.rel).resolve()
        return full == skip_real or own_dir in full.parents

    if options.trust_repo_config:
        tasks = [t for t in tasks if not ours(t)]
    from .parallel import worker_count, scan_tasks_parallel

    jobs = worker_count(options.jobs, sum(t.size for t in tasks), len(tasks))
    if jobs > 1:
        collected = scan_tasks_parallel(tasks, prepared, jobs)
    else:
        collected = collect(task_items(tasks, prepared.max_file_size), prepared)
    collected.skipped.extend(skipped)
    return collected


def run_scan(options: ScanOptions) -> tuple[ScanResult, Prepared]:
    started = time.monotonic()
    prepared = prepare(options)
    baseline_file: Path | None = None
    if options.use_baseline:
        baseline_file = options.baseline_path or prepared.config.baseline or _default_baseline(prepared.root)
    if options.staged and options.history:
        raise UsageError("--staged and --history cannot be combined")
    if options.staged:
        from .sources.staged import staged_items

        excludes = tuple(prepared.config.exclude) + options.excludes
        items = staged_items(prepared.root, options.paths, prepared.max_file_size, excludes, prepared.repo)
        collected = collect(items, prepared)
        mode = "staged"
    elif options.history or options.commit_range or options.since or options.branch:
        from .sources.history import scan_history

        collected = scan_history(prepared, options)
        mode = "history"
    else:
        collected = _scan_files(options, prepared, skip=_own_baseline(options, prepared))
        mode = "files"
    to_root = _path_mapper(options, prepared, mode)
    own_rel = _own_baseline_rel(options, prepared)
    trusted = options.trust_repo_config
    findings = sorted((f for f in collected.findings if not _is_own_data(f, to_root(f.path), own_rel, trusted)), key=_order)
    baseline_label: str | None = None
    suppressed = 0
    if baseline_file is not None:
        findings, suppressed = _apply_baseline(baseline_file, findings, to_root)
        baseline_label = str(baseline_file)
    result = ScanResult(
        findings=tuple(findings),
        files_scanned=collected.files,
        bytes_scanned=collected.bytes,
        skipped=tuple(sorted(set(collected.skipped), key=lambda s: (s.path, s.reason))),
        warnings=tuple(collected.warnings),
        rules_run=len(prepared.rules),
        duration=time.monotonic() - started,
        suppressed=suppressed,
        baseline=baseline_label,
        target=" ".join(str(p) for p in options.paths),
        mode=mode,
    )
    return result, prepared


def _own_baseline(options: ScanOptions, prepared: Prepared) -> Path:
    """The baseline file this scan would use (configured or default), whether or not it exists."""
    return options.baseline_path or prepared.config.baseline or prepared.root / "baseline.json"


def _own_baseline_rel(options: ScanOptions, prepared: Prepared) -> str:
    try:
        return Path(os.path.relpath(_own_baseline(options, prepared).resolve(), prepared.root.resolve())).as_posix()
    except ValueError:
        return ""


SALT_ID = re.compile(r"[0-9a-f]{12}")  # how a baseline names its salts (baseline.salt_id)


def _is_own_data(finding: Finding, root_path: str, own_baseline: str, trusted: bool) -> bool:
    """leaktrap's own files (the baseline, the audit log folder), whose salts and keys look
    like secrets. In a repository that is not trusted (``audit`` without
    ``--trust-repo-config``) those paths are the repository's to fill, and could hide a
    secret: only what a real baseline holds there is dropped, the salt ids of its entries
    (12 hex digits under the key ``salt``, which the salt rule reports)."""
    if trusted:
        return root_path == own_baseline or root_path.startswith(OWN_DATA_DIR + "/")
    return root_path == own_baseline and finding.rule_id == "secret-salt" and SALT_ID.fullmatch(finding.secret) is not None


def _apply_baseline(baseline_file: Path, findings: list[Finding], to_root: Callable[[str], str]) -> tuple[list[Finding], int]:
    """Baseline entries name paths from the repository root; a scan of a subfolder
    reports paths from that folder, so they are mapped before matching."""
    from .baseline import apply_baseline

    mapped = [replace(f, path=to_root(f.path)) for f in findings]
    kept, suppressed = apply_baseline(baseline_file, mapped)
    kept_ids = {id(f) for f in kept}
    return [orig for orig, m in zip(findings, mapped) if id(m) in kept_ids], suppressed


def _path_mapper(options: ScanOptions, prepared: Prepared, mode: str) -> Callable[[str], str]:
    if mode != "files":
        return lambda path: path  # index and history paths are already root-relative
    single_dir = len(options.paths) == 1 and options.paths[0].is_dir()
    base = (options.paths[0] if single_dir else Path(".")).resolve()
    root = prepared.root.resolve()

    def to_root(path: str) -> str:
        full = os.path.normpath(base / path)
        rel = os.path.relpath(full, root)
        return path if rel.startswith("..") else Path(rel).as_posix()

    return to_root


def _default_baseline(root: Path) -> Path | None:
    candidate = root / "baseline.json"
    return candidate if candidate.is_file() else None


def _order(f: Finding) -> tuple:
    commit = f.origin.commit.date if f.origin.commit else ""
    return (f.path, f.line, f.column, f.rule_id, commit)
