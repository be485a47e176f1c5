"""Chunks x Rules -> Findings. No I/O of its own.

Per chunk: the keyword prefilter picks the candidate rules in one C pass; the
``regex`` module confirms each candidate with a timeout (a pathological line
becomes a warning, not a hang); filters drop allow-listed lines, placeholders
and low-entropy values; overlapping generic matches yield to specific rules.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pathspec

from .pathmatch import path_spec
import regex

from .detect import filters
from .detect.entropy import shannon
from .detect.prefilter import Prefilter
from .model import CONFIDENCES, Chunk, Finding, Rule, fingerprint, redact

DEFAULT_REGEX_TIMEOUT = 2.0


@dataclass(frozen=True)
class EngineSettings:
    regex_timeout: float = DEFAULT_REGEX_TIMEOUT
    min_confidence: str = "medium"
    generic_min_entropy: float | None = None  # overrides the generic rules' own floors
    show_secrets: bool = False
    allow_markers: bool = True  # honour inline leaktrap:allow (off when auditing untrusted code)


MAX_CACHED_LINE = 4096
CHUNK_BUDGET_FACTOR = 5  # a chunk may take this many regex timeouts in all


class Budget:
    """Wall-clock budget of one chunk: a pathological file cannot take every rule's timeout."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds

    def spent(self) -> bool:
        return time.monotonic() > self.deadline

    def warning(self, chunk: Chunk) -> str:
        return f"{chunk.path}: scanning stopped after {self.seconds:g}s (time budget per file); the rest was not checked"


class LineCache:
    """Line text -> (rule index, secret start, secret end) of every single-line rule match.

    Bounded: cleared when full. It holds secrets in memory only, never on disk.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self._data: dict[str, tuple[tuple[int, int, int], ...]] = {}

    def get(self, key: str) -> tuple[tuple[int, int, int], ...] | None:
        return self._data.get(key)

    def put(self, key: str, spans: tuple[tuple[int, int, int], ...]) -> None:
        if len(self._data) >= self.limit:
            self._data.clear()
        self._data[key] = spans


@dataclass
class _Compiled:
    rule: Rule
    pattern: Any = None
    allow: tuple[Any, ...] = ()
    paths: pathspec.PathSpec | None = None
    only: pathspec.PathSpec | None = None


class RuleSet:
    """Rules compiled for scanning: the prefilter eagerly, each regex on first use."""

    def __init__(self, rules: Iterable[Rule], cache_dir: Path | None = None) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.prefilter = Prefilter([r.keywords for r in self.rules], [r.prefilter for r in self.rules], cache_dir)
        self._compiled: list[_Compiled | None] = [None] * len(self.rules)
        self.line_cache = LineCache()
        # per keyword id: the rules to run on whole texts, and those to run on its lines
        kw_count = self.prefilter.keyword_count
        self.text_rules_of: list[tuple[int, ...]] = [
            tuple(i for i in self.prefilter.rules_of(k) if self.rules[i].multiline) for k in range(kw_count)
        ]
        self.line_rules_of: list[tuple[int, ...]] = [
            tuple(i for i in self.prefilter.rules_of(k) if not self.rules[i].multiline) for k in range(kw_count)
        ]

    def __len__(self) -> int:
        return len(self.rules)

    def compiled(self, idx: int) -> _Compiled:
        c = self._compiled[idx]
        if c is None:
            rule = self.rules[idx]
            c = _Compiled(
                rule=rule,
                pattern=regex.compile(rule.regex),
                allow=tuple(regex.compile(r) for r in rule.allowlist.regexes),
                paths=path_spec(rule.allowlist.paths) if rule.allowlist.paths else None,
                only=path_spec(rule.paths_only) if rule.paths_only else None,
            )
            self._compiled[idx] = c
        return c


@dataclass
class ChunkResult:
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _Lines:
    """Line lookups on a chunk's text, computed only when a match needs them."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts: list[int] | None = None

    def starts(self) -> list[int]:
        if self._starts is None:
            starts = [0]
            find = self.text.find
            pos = find("\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._starts = starts
        return self._starts

    def locate(self, offset: int) -> tuple[int, int]:
        """(1-based line, 1-based column) of ``offset``."""
        starts = self.starts()
        idx = bisect.bisect_right(starts, offset) - 1
        return idx + 1, offset - starts[idx] + 1

    def line_text(self, line: int) -> str:
        starts = self.starts()
        if line < 1 or line > len(starts):
            return ""
        begin = starts[line - 1]
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[begin:end]


def scan_chunk(chunk: Chunk, ruleset: RuleSet, settings: EngineSettings) -> ChunkResult:
    result = ChunkResult()
    text = chunk.text
    if not text:
        return result
    hits = ruleset.prefilter.hits(text)
    if not hits:
        return result
    matches: dict[int, list[tuple[int, int]]] = {}
    whole_text_rules: set[int] = set()
    line_hits: list[tuple[int, int]] = []
    for kid, offset in hits:
        if ruleset.text_rules_of[kid]:
            whole_text_rules.update(ruleset.text_rules_of[kid])
        if ruleset.line_rules_of[kid]:
            line_hits.append((offset, kid))
    budget = Budget(settings.regex_timeout * CHUNK_BUDGET_FACTOR)
    for idx in sorted(whole_text_rules):
        compiled = ruleset.compiled(idx)
        if budget.spent():
            break
        if _eligible(compiled, chunk, settings):
            try:
                matches[idx] = [m.span("secret") for m in compiled.pattern.finditer(text, timeout=settings.regex_timeout)]
            except TimeoutError:
                result.warnings.append(_timeout_warning(compiled.rule, chunk, settings))
    if budget.spent():
        result.warnings.append(budget.warning(chunk))
    else:  # it warns itself if the budget runs out on the way
        for idx, s, e in _line_matches(text, line_hits, ruleset, settings, chunk, result.warnings, budget):
            matches.setdefault(idx, []).append((s, e))
    result.findings = _findings(chunk, ruleset, settings, matches)
    return result


def _timeout_warning(rule: Rule, chunk: Chunk, settings: EngineSettings) -> str:
    return (
        f"rule {rule.id} timed out after {settings.regex_timeout:g}s on {chunk.path}; "
        "the rest of that file was not checked by this rule"
    )


def _line_matches(
    text: str,
    line_hits: list[tuple[int, int]],
    ruleset: RuleSet,
    settings: EngineSettings,
    chunk: Chunk,
    warnings: list[str],
    budget: Budget,
) -> Iterator[tuple[int, int, int]]:
    """(rule index, secret start, secret end) of single-line rules, run only on the lines
    where one of their keywords occurs. A line's result depends on its text alone (the
    candidate rules are those whose keywords it holds), so it is cached by text: history
    repeats the same lines in blob after blob."""
    line_hits.sort()
    i, n = 0, len(line_hits)
    cache = ruleset.line_cache
    while i < n:
        offset = line_hits[i][0]
        start = text.rfind("\n", 0, offset) + 1
        end = text.find("\n", offset)
        if end == -1:
            end = len(text)
        if budget.spent():
            warnings.append(budget.warning(chunk))
            return
        kids = set()
        while i < n and line_hits[i][0] <= end:
            kids.add(line_hits[i][1])
            i += 1
        line = text[start:end]
        cached = cache.get(line) if len(line) <= MAX_CACHED_LINE else None
        if cached is None:
            cached = _run_line(line, kids, ruleset, settings, chunk, warnings)
            if len(line) <= MAX_CACHED_LINE:
                cache.put(line, cached)
        for idx, s, e in cached:
            yield idx, s + start, e + start


def _run_line(
    line: str, kids: set[int], ruleset: RuleSet, settings: EngineSettings, chunk: Chunk, warnings: list[str]
) -> tuple[tuple[int, int, int], ...]:
    found: list[tuple[int, int, int]] = []
    rules_here = sorted({idx for kid in kids for idx in ruleset.line_rules_of[kid]})
    for idx in rules_here:
        pattern = ruleset.compiled(idx).pattern
        try:
            found.extend((idx, *m.span("secret")) for m in pattern.finditer(line, timeout=settings.regex_timeout))
        except TimeoutError:
            warnings.append(_timeout_warning(ruleset.rules[idx], chunk, settings))
    return tuple(found)


def _eligible(compiled: _Compiled, chunk: Chunk, settings: EngineSettings) -> bool:
    if CONFIDENCES.index(compiled.rule.confidence) > CONFIDENCES.index(settings.min_confidence):
        return False  # a finding can only lose confidence, never gain it
    return _applies(compiled, chunk)


def _findings(
    chunk: Chunk, ruleset: RuleSet, settings: EngineSettings, matches: dict[int, list[tuple[int, int]]]
) -> list[Finding]:
    lines = _Lines(chunk.text)
    min_conf = CONFIDENCES.index(settings.min_confidence)
    raw: list[tuple[int, int, Finding, bool]] = []
    hygiene: list[Finding] = []  # file-level advice, kept beside the findings on the same text
    for idx in sorted(matches):
        compiled = ruleset.compiled(idx)
        rule = compiled.rule
        if not _eligible(compiled, chunk, settings):
            continue
        for s, e in sorted(matches[idx]):
            finding = _confirm(s, e, compiled, chunk, lines, settings)
            if finding is None or CONFIDENCES.index(finding.confidence) > min_conf:
                continue
            if "hygiene" in rule.tags:
                hygiene.append(finding)
            else:
                raw.append((s, e, finding, rule.generic))
            if rule.once_per_file:
                break
    return _resolve_overlaps(raw) + hygiene


def _applies(compiled: _Compiled, chunk: Chunk) -> bool:
    """Path and origin conditions of a rule (allowlisted paths, paths_only, tracked_only, lock files)."""
    rule = compiled.rule
    if compiled.paths is not None and compiled.paths.match_file(chunk.path):
        return False
    if compiled.only is not None and not compiled.only.match_file(chunk.path):
        return False
    if rule.tracked_only and not chunk.origin.in_git:
        return False
    return not (rule.generic and filters.is_lock_file(chunk.path))


def _confirm(
    start: int, end: int, compiled: _Compiled, chunk: Chunk, lines: _Lines, settings: EngineSettings
) -> Finding | None:
    rule = compiled.rule
    secret = chunk.text[start:end]
    if not secret:
        return None
    lowered = secret.lower()
    if any(word in lowered for word in rule.allowlist.stopwords):
        return None
    if any(a.search(secret) for a in compiled.allow):
        return None
    entropy = shannon(secret)
    floor = rule.min_entropy
    if rule.generic and settings.generic_min_entropy is not None:
        floor = settings.generic_min_entropy
    if floor is not None and entropy < floor:
        return None
    if rule.generic and (filters.is_placeholder(secret) or filters.is_non_secret(secret)):
        return None
    if "random" in rule.tags and not filters.looks_random(secret):
        return None
    if not rule.generic and filters.is_placeholder(secret) and len(set(secret)) < 6:
        return None
    confidence = rule.confidence
    if rule.generic and (filters.is_test_path(chunk.path) or ("password" in rule.tags and filters.is_wordlike(secret))):
        confidence = "low"
    line, column = lines.locate(start)
    line_text = lines.line_text(line)
    if settings.allow_markers and filters.line_allows(line_text, lines.line_text(line - 1)):
        return None
    end_line, end_col = lines.locate(end)
    end_column = end_col if end_line == line else len(line_text) + 1
    real_line = chunk.real_line(line)
    if chunk.decoded is not None:
        column = 1  # a decoded fragment's columns are not those of the file
        end_column = 1
        confidence = "medium" if confidence == "high" else confidence
    return Finding(
        rule_id=rule.id,
        provider=rule.provider,
        description=rule.description,
        severity=rule.severity,
        confidence=confidence,
        path=chunk.path,
        line=real_line,
        column=column,
        end_column=end_column,
        redacted=redact(secret),
        fingerprint=fingerprint(rule.id, chunk.path, secret),
        entropy=entropy,
        secret=secret,
        origin=chunk.origin,
        decoded=chunk.decoded,
    )


def _resolve_overlaps(raw: list[tuple[int, int, Finding, bool]]) -> list[Finding]:
    """One finding per secret: where matches overlap, a specific rule beats a generic one,
    then the longer match wins, then the rule listed first."""
    kept: list[tuple[int, int, Finding]] = []
    for s, e, f, _generic in sorted(raw, key=lambda t: (t[3], t[0] - t[1])):
        if not any(s < ke and ks < e for ks, ke, _f in kept):
            kept.append((s, e, f))
    return [f for _s, _e, f in sorted(kept, key=lambda t: (t[0], t[2].rule_id))]
