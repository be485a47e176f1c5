"""Chunks x Rules -> Findings. No I/O of its own.

Per chunk: the keyword prefilter picks the candidate rules in one C pass; the
``regex`` module confirms each candidate with a timeout (a pathological line
becomes a warning, not a hang); filters drop allow-listed lines, placeholders
and low-entropy values; overlapping generic matches yield to specific rules.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .detect import filters
from .detect.entropy import shannon
from .detect.prefilter import Prefilter
from .model import CONFIDENCES, Chunk, Finding, Rule, fingerprint, redact
from .pathmatch import PathMatcher
from .record import field, record
from .regexcode import compile_regex

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .detect.prefilter import Batch, MarkSink

DEFAULT_REGEX_TIMEOUT = 2.0


@record
class EngineSettings:
    regex_timeout: float = DEFAULT_REGEX_TIMEOUT
    min_confidence: str = "medium"
    generic_min_entropy: float | None = None  # overrides the generic rules' own floors
    show_secrets: bool = False
    allow_markers: bool = True  # honour inline leaktrap:allow (off when auditing untrusted code)


MAX_CACHED_LINE = 4096
CHUNK_BUDGET_FACTOR = 5  # a chunk may take this many regex timeouts in all


class Budget:
    """Wall-clock budget of one chunk: a pathological file cannot take every rule's timeout.
    The first check that finds it spent warns (once per chunk)."""

    def __init__(self, seconds: float, chunk: Chunk, warnings: list[str]) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.chunk = chunk
        self.warnings = warnings
        self.stopped = False

    def stop(self) -> bool:
        """Whether the budget is spent (warning the first time it is)."""
        if not self.stopped and time.monotonic() > self.deadline:
            self.stopped = True
            self.warnings.append(
                f"{self.chunk.path}: scanning stopped after {self.seconds:g}s (time budget per file); the rest was not checked"
            )
        return self.stopped


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


@record(frozen=False)
class _Compiled:
    rule: Rule
    pattern: Any = None
    allow: tuple[Any, ...] = ()
    paths: PathMatcher | None = None
    only: PathMatcher | None = None


class RuleSet:
    """Rules compiled for scanning: the prefilter eagerly, each regex on first use."""

    def __init__(self, rules: Iterable[Rule], cache_dir: Path | None = None, markers: Sequence[str] = ()) -> None:
        """``markers``: patterns of lines other stages want, found in the same prefilter pass
        (see :class:`Prefilter`); ``scan_chunk`` hands their lines to its ``marks`` sink."""
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.prefilter = Prefilter([r.keywords for r in self.rules], [r.prefilter for r in self.rules], cache_dir, markers)
        self._compiled: list[_Compiled | None] = [None] * len(self.rules)
        self.line_cache = LineCache()
        # per prefilter entry: the rules to run on whole texts, and those to run on its lines
        entries = range(self.prefilter.rule_entries)
        self.text_rules_of: list[tuple[int, ...]] = [
            tuple(i for i in self.prefilter.rules_of(k) if self.rules[i].multiline) for k in entries
        ]
        self.line_rules_of: list[tuple[int, ...]] = [
            tuple(sorted({i for i in self.prefilter.rules_of(k) if not self.rules[i].multiline})) for k in entries
        ]
        self.text_entries = frozenset(k for k in entries if self.text_rules_of[k])

    def __len__(self) -> int:
        return len(self.rules)

    def compiled(self, idx: int) -> _Compiled:
        c = self._compiled[idx]
        if c is None:
            rule = self.rules[idx]
            c = _Compiled(
                rule=rule,
                pattern=compile_regex(rule.regex),
                allow=tuple(compile_regex(r) for r in rule.allowlist.regexes),
                paths=PathMatcher(rule.allowlist.paths) if rule.allowlist.paths else None,
                only=PathMatcher(rule.paths_only) if rule.paths_only else None,
            )
            self._compiled[idx] = c
        return c


@record(frozen=False)
class ChunkResult:
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _Lines:
    """Where a chunk's match offsets are: their line numbers counted in one pass over the text
    (no table of every line start, no Python loop over the lines of a big file)."""

    def __init__(self, text: str, offsets: Iterable[int]) -> None:
        self.text = text
        self._numbers: dict[int, int] = {}
        line, prev = 1, 0
        for offset in sorted(set(offsets)):
            line += text.count("\n", prev, offset)
            self._numbers[offset] = line
            prev = offset

    def locate(self, offset: int) -> tuple[int, int]:
        """(1-based line, 1-based column) of ``offset``, one of those given."""
        return self._numbers[offset], offset - self.text.rfind("\n", 0, offset)

    def line_text(self, offset: int) -> str:
        """The line holding ``offset``, without its newline."""
        begin = self.text.rfind("\n", 0, offset) + 1
        end = self.text.find("\n", offset)
        return self.text[begin : end if end != -1 else len(self.text)]

    def previous_line_text(self, offset: int) -> str:
        begin = self.text.rfind("\n", 0, offset) + 1
        return self.line_text(begin - 1) if begin else ""


def scan_chunk(chunk: Chunk, ruleset: RuleSet, settings: EngineSettings, marks: MarkSink | None = None) -> ChunkResult:
    """The findings of one chunk. ``marks`` receives the marker lines of each prefilter batch
    (the decoder's context lines come from this same pass over the text)."""
    result = ChunkResult()
    text = chunk.text
    if not text:
        return result
    budget = Budget(settings.regex_timeout * CHUNK_BUDGET_FACTOR, chunk, result.warnings)
    matches: dict[int, set[tuple[int, int]]] = {}
    text_rules_done: set[int] = set()
    for batch in ruleset.prefilter.scan(text):
        if marks is not None:
            marks.add(batch.marks, batch.upto)
        # multi-line rules first (private keys, over the whole text), then the lines
        found = {i for entry in ruleset.text_entries.intersection(batch.ids) for i in ruleset.text_rules_of[entry]}
        for idx in sorted(found - text_rules_done):
            text_rules_done.add(idx)
            if budget.stop():
                break
            compiled = ruleset.compiled(idx)
            if _eligible(compiled, chunk, settings):
                try:
                    spans = matches.setdefault(idx, set())
                    spans.update(m.span("secret") for m in compiled.pattern.finditer(text, timeout=settings.regex_timeout))
                except TimeoutError:
                    result.warnings.append(_timeout_warning(compiled.rule, chunk, settings))
        for idx, s, e in _line_matches(text, batch, ruleset, settings, chunk, result.warnings, budget):
            matches.setdefault(idx, set()).add((s, e))
    budget.stop()  # a last check: whatever ran past the budget says so
    if matches:
        result.findings = _findings(chunk, ruleset, settings, matches)
    return result


def _timeout_warning(rule: Rule, chunk: Chunk, settings: EngineSettings) -> str:
    return (
        f"rule {rule.id} timed out after {settings.regex_timeout:g}s on {chunk.path}; "
        "the rest of that file was not checked by this rule"
    )


def _line_matches(
    text: str,
    batch: Batch,
    ruleset: RuleSet,
    settings: EngineSettings,
    chunk: Chunk,
    warnings: list[str],
    budget: Budget,
) -> Iterator[tuple[int, int, int]]:
    """(rule index, secret start, secret end) of single-line rules, run only on the lines
    where one of their prefilter entries occurs. A line's result depends on its text alone
    (the candidate rules are those whose entries it holds), so it is cached by text: history
    repeats the same lines in blob after blob. Reports come sorted by line end, one per entry
    and line."""
    ids, ends = batch.ids, batch.ends
    line_rules_of = ruleset.line_rules_of
    cache = ruleset.line_cache
    i, n = 0, len(ends)
    while i < n:
        end = ends[i]
        rules = line_rules_of[ids[i]]
        i += 1
        if i < n and ends[i] == end:  # more entries on the same line
            union = set(rules)
            while i < n and ends[i] == end:
                union.update(line_rules_of[ids[i]])
                i += 1
            rules = tuple(sorted(union))
        if not rules or budget.stop():
            continue
        start = text.rfind("\n", 0, end) + 1
        if end - start > MAX_CACHED_LINE:  # not cached; the first line is searched in place, cut by
            # endpos exactly as by slicing, so a one-line 50 MB file is not copied
            line, stop = (text, end) if start == 0 else (text[start:end], end - start)
            found = _run_line(line, stop, rules, ruleset, settings, chunk, warnings)
        else:
            line = text[start:end]
            cached = cache.get(line)
            if cached is None:
                cached = _run_line(line, len(line), rules, ruleset, settings, chunk, warnings)
                cache.put(line, cached)
            found = cached
        for idx, s, e in found:
            yield idx, s + start, e + start


def _run_line(
    line: str, stop: int, rules: tuple[int, ...], ruleset: RuleSet, settings: EngineSettings, chunk: Chunk, warnings: list[str]
) -> tuple[tuple[int, int, int], ...]:
    """Matches of ``rules`` in ``line[:stop]``."""
    found: list[tuple[int, int, int]] = []
    for idx in rules:
        pattern = ruleset.compiled(idx).pattern
        try:
            found.extend(
                (idx, *m.span("secret")) for m in pattern.finditer(line, 0, stop, timeout=settings.regex_timeout)
            )
        except TimeoutError:
            warnings.append(_timeout_warning(ruleset.rules[idx], chunk, settings))
    return tuple(found)


def _eligible(compiled: _Compiled, chunk: Chunk, settings: EngineSettings) -> bool:
    if CONFIDENCES.index(compiled.rule.confidence) > CONFIDENCES.index(settings.min_confidence):
        return False  # a finding can only lose confidence, never gain it
    return _applies(compiled, chunk)


def _findings(
    chunk: Chunk, ruleset: RuleSet, settings: EngineSettings, matches: dict[int, set[tuple[int, int]]]
) -> list[Finding]:
    lines = _Lines(chunk.text, (offset for spans in matches.values() for span in spans for offset in span))
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
    line_text = lines.line_text(start)
    if settings.allow_markers and filters.line_allows(line_text, lines.previous_line_text(start)):
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
