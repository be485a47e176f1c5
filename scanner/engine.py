"""Chunks x Rules -> Findings. No I/O of its own.

Per chunk: the keyword prefilter picks the candidate rules in one C pass; the
``regex`` module confirms each candidate with a timeout (a pathological line
becomes a warning, not a hang); filters drop allow-listed lines, placeholders
and low-entropy values; overlapping generic matches yield to specific rules.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pathspec
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


@dataclass
class _Compiled:
    rule: Rule
    pattern: Any = None
    allow: tuple[Any, ...] = ()
    paths: pathspec.PathSpec | None = None
    only: pathspec.PathSpec | None = None


class RuleSet:
    """Rules compiled for scanning: the prefilter eagerly, each regex on first use."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.prefilter = Prefilter([r.keywords for r in self.rules])
        self._compiled: list[_Compiled | None] = [None] * len(self.rules)

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
                paths=pathspec.PathSpec.from_lines("gitignore", rule.allowlist.paths) if rule.allowlist.paths else None,
                only=pathspec.PathSpec.from_lines("gitignore", rule.paths_only) if rule.paths_only else None,
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
    candidates = ruleset.prefilter.candidates(text)
    if not candidates:
        return result
    lines = _Lines(text)
    min_conf = CONFIDENCES.index(settings.min_confidence)
    raw: list[tuple[int, int, Finding, bool]] = []
    hygiene: list[Finding] = []  # file-level advice, kept beside the findings on the same text
    for idx in sorted(candidates):
        compiled = ruleset.compiled(idx)
        rule = compiled.rule
        if CONFIDENCES.index(rule.confidence) > min_conf:
            continue  # a generic finding can only lose confidence, never gain it
        if not _applies(compiled, chunk):
            continue
        try:
            for m in _matches(compiled, text, candidates[idx], settings.regex_timeout):
                finding = _confirm(m, compiled, chunk, lines, settings)
                if finding is not None and CONFIDENCES.index(finding.confidence) <= min_conf:
                    if "hygiene" in rule.tags:
                        hygiene.append(finding)
                    else:
                        raw.append((m.start("secret"), m.end("secret"), finding, rule.generic))
                    if rule.once_per_file:
                        break
        except TimeoutError:
            result.warnings.append(
                f"rule {rule.id} timed out after {settings.regex_timeout:g}s on {chunk.path}; "
                "the rest of that file was not checked by this rule"
            )
    result.findings = _resolve_overlaps(raw) + hygiene
    return result


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


def _matches(compiled: _Compiled, text: str, hits: list[int], timeout: float) -> Iterator[Any]:
    """Regex matches of one rule: over the whole text, or (generic rules, which never
    span lines) only over the lines where the prefilter saw a keyword."""
    if not compiled.rule.generic:
        yield from compiled.pattern.finditer(text, timeout=timeout)
        return
    done_until = -1
    for hit in sorted(hits):
        if hit <= done_until:
            continue
        start = text.rfind("\n", 0, hit) + 1
        end = text.find("\n", hit)
        if end == -1:
            end = len(text)
        done_until = end
        yield from compiled.pattern.finditer(text, start, end, timeout=timeout)


def _confirm(m: Any, compiled: _Compiled, chunk: Chunk, lines: _Lines, settings: EngineSettings) -> Finding | None:
    rule = compiled.rule
    secret = m.group("secret")
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
    start = m.start("secret")
    line, column = lines.locate(start)
    line_text = lines.line_text(line)
    if filters.line_allows(line_text, lines.line_text(line - 1)):
        return None
    end_line, end_col = lines.locate(m.end("secret"))
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


def scan_chunks(chunks: Iterable[Chunk], ruleset: RuleSet, settings: EngineSettings) -> Iterator[ChunkResult]:
    for chunk in chunks:
        yield scan_chunk(chunk, ruleset, settings)
