"""Load and validate rule files (the built-in ``rules/`` and the user's own).

A rule file is TOML::

    provider = "GitHub"            # default provider of the rules below

    [[rules]]
    id = "github-pat-classic"      # kebab-case, unique across all files
    description = "GitHub personal access token (classic)"
    regex = '''\\b(?P<secret>ghp_[A-Za-z0-9]{36})\\b'''
    keywords = ["ghp_"]            # literal, case-insensitive; one must occur in any match
    severity = "high"              # critical | high | medium | low | info
    confidence = "high"            # high | medium | low (default high)
    min_entropy = 3.0              # optional Shannon entropy floor of the secret
    generic = false                # true: placeholder / non-secret filters apply
    tags = ["hygiene"]             # free labels; "random" (value must mix character classes),
                                   # "password" (word-like values are low confidence),
                                   # "hygiene" (reported beside other findings on the same text)
    paths_only = [".env", "*.env"] # the rule runs only on these paths (gitignore-style)
    once_per_file = false          # stop after the first finding in a file
    tracked_only = false           # only content that is in git (tracked, staged, history)
    prefilter = '''ghp_[A-Za-z0-9]{8}'''  # optional Hyperscan regex that every match contains; used
                                   # instead of the keywords when they are too common to be
                                   # selective ("pat", "ac", "key")
    multiline = false              # true if a match may span lines (PEM blocks...): the regex
                                   # then runs over whole files; otherwise only on the lines
                                   # where a keyword occurs (much faster)
    verify = "github"              # optional name of a verify spec
    revoke = "github"              # optional name of a revoke spec
    [rules.allowlist]
    stopwords = ["example"]        # secret containing one of these is ignored
    regexes = ['''^ghp_0+$''']       # secret matching one of these is ignored
    paths = ["**/fixtures/**"]     # gitignore-style paths where the rule is off
    [rules.examples]
    positive = ['token = "ghp_{alnum:36}"']   # templates, see scanner.template
    negative = ['ghp_tooshort']

Top-level ``verify`` and ``revoke`` tables hold provider HTTP specs (see
``scanner.providers``); they are passed through unvalidated here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from . import regexcode
from .digest import blake2b
from .errors import RuleError
from .model import CONFIDENCES, SEVERITIES, Allowlist, Example, Rule
from .record import field, record

# Parsing a rule file (TOML, regex checks, example templates) happens only when the
# parsed-rules cache misses: tomllib, regex and scanner.template are imported there.
_ID = regexcode.lazy(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_RULE_KEYS = {
    "id", "provider", "description", "regex", "keywords", "severity", "confidence",
    "min_entropy", "generic", "allowlist", "examples", "verify", "revoke", "tags",
    "paths_only", "once_per_file", "tracked_only", "multiline", "prefilter",
}
_FILE_KEYS = {"provider", "rules", "verify", "revoke", "description"}
_ALLOW_KEYS = {"stopwords", "regexes", "paths"}
_EXAMPLE_KEYS = {"positive", "negative", "path"}


@record
class RuleFile:
    """The rules and provider specs of one rule file."""

    source: str
    rules: tuple[Rule, ...]
    verify: dict[str, Any] = field(default_factory=dict)
    revoke: dict[str, Any] = field(default_factory=dict)


def builtin_rule_paths() -> list[Path]:
    """The TOML files shipped with the package (or beside it, in a checkout): those of the
    ``scanner.builtin_rules`` package, by name from the first of its folders that has it,
    as ``importlib.resources.files`` lists them (without its import cost)."""
    found: dict[str, Path] = {}  # file name -> its folder
    for folder in _builtin_rule_folders():
        base = Path(folder)
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.endswith(".toml"):
                        found.setdefault(entry.name, base)
        except OSError:
            continue
    if found:
        return [found[name] / name for name in sorted(found)]
    here = Path(__file__).resolve().parent.parent / "rules"
    return sorted(here.glob("*.toml"))


def _builtin_rule_folders() -> list[str]:
    # in a wheel the package is a folder inside scanner/ (the only place a sub-package of
    # a regular package is looked for); an editable install maps it through its finder
    inside = os.path.join(os.path.dirname(__file__), "builtin_rules")
    if os.path.isdir(inside):
        return [inside]
    from importlib.util import find_spec

    try:
        spec = find_spec("scanner.builtin_rules")
    except (ImportError, ValueError):
        return []
    return list(spec.submodule_search_locations or []) if spec is not None else []


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RuleError(str(path), None, f"cannot read rule file: {exc.strerror or exc}") from None


def load_rule_file(path: Path, raw: bytes | None = None, check_regexes: bool = True) -> RuleFile:
    import tomllib

    source = str(path)
    if raw is None:
        raw = _read(path)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise RuleError(source, None, "rule file is not UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(source, None, f"invalid TOML: {exc}") from None
    return parse_rule_data(data, source, check_regexes)


def parse_rule_data(data: dict[str, Any], source: str, check_regexes: bool = True) -> RuleFile:
    unknown = set(data) - _FILE_KEYS
    if unknown:
        raise RuleError(source, None, f"unknown top-level key(s): {', '.join(sorted(unknown))}")
    default_provider = data.get("provider")
    if default_provider is not None and not isinstance(default_provider, str):
        raise RuleError(source, None, "'provider' must be a string")
    entries = data.get("rules", [])
    if not isinstance(entries, list):
        raise RuleError(source, None, "'rules' must be an array of tables ([[rules]])")
    rules = tuple(_parse_rule(entry, source, default_provider, check_regexes) for entry in entries)
    verify = data.get("verify", {})
    revoke = data.get("revoke", {})
    if not isinstance(verify, dict) or not isinstance(revoke, dict):
        raise RuleError(source, None, "'verify' and 'revoke' must be tables")
    return RuleFile(source=source, rules=rules, verify=verify, revoke=revoke)


def _str_list(value: Any, source: str, rule_id: str, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleError(source, rule_id, f"'{name}' must be a list of strings")
    return tuple(value)


def _parse_rule(entry: Any, source: str, default_provider: str | None, check_regexes: bool = True) -> Rule:
    if not isinstance(entry, dict):
        raise RuleError(source, None, "each [[rules]] entry must be a table")
    rule_id = entry.get("id")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        raise RuleError(source, str(rule_id) if rule_id else None, "'id' must be kebab-case (a-z, 0-9, '-')")
    unknown = set(entry) - _RULE_KEYS
    if unknown:
        raise RuleError(source, rule_id, f"unknown key(s): {', '.join(sorted(unknown))}")
    provider = entry.get("provider", default_provider)
    if not isinstance(provider, str) or not provider:
        raise RuleError(source, rule_id, "'provider' is required (in the rule or at the top of the file)")
    description = entry.get("description")
    if not isinstance(description, str) or not description:
        raise RuleError(source, rule_id, "'description' is required")
    pattern = entry.get("regex")
    if not isinstance(pattern, str) or not pattern:
        raise RuleError(source, rule_id, "'regex' is required")
    if check_regexes:
        import regex

        try:
            compiled = regex.compile(pattern)
        except regex.error as exc:
            raise RuleError(source, rule_id, f"invalid regex: {exc}") from None
        if "secret" not in compiled.groupindex:
            raise RuleError(source, rule_id, "regex needs a named group (?P<secret>...)")
    keywords = tuple(k.lower() for k in _str_list(entry.get("keywords"), source, rule_id, "keywords"))
    if not keywords or any(not k for k in keywords):
        raise RuleError(source, rule_id, "'keywords' must list at least one non-empty literal")
    severity = entry.get("severity", "high")
    if severity not in SEVERITIES:
        raise RuleError(source, rule_id, f"'severity' must be one of {', '.join(SEVERITIES)}")
    confidence = entry.get("confidence", "high")
    if confidence not in CONFIDENCES:
        raise RuleError(source, rule_id, f"'confidence' must be one of {', '.join(CONFIDENCES)}")
    min_entropy = entry.get("min_entropy")
    if min_entropy is not None:
        if isinstance(min_entropy, bool) or not isinstance(min_entropy, (int, float)) or not 0 <= min_entropy <= 8:
            raise RuleError(source, rule_id, "'min_entropy' must be a number from 0 to 8")
        min_entropy = float(min_entropy)
    generic = entry.get("generic", False)
    if not isinstance(generic, bool):
        raise RuleError(source, rule_id, "'generic' must be true or false")
    allow = _parse_allowlist(entry.get("allowlist", {}), source, rule_id, check_regexes)
    examples = _parse_examples(entry.get("examples", {}), source, rule_id)
    for name in ("verify", "revoke"):
        if entry.get(name) is not None and not isinstance(entry.get(name), str):
            raise RuleError(source, rule_id, f"'{name}' must name a spec (a string)")
    for name in ("once_per_file", "tracked_only", "multiline"):
        if not isinstance(entry.get(name, False), bool):
            raise RuleError(source, rule_id, f"'{name}' must be true or false")
    return Rule(
        id=rule_id,
        provider=provider,
        description=description,
        regex=pattern,
        keywords=keywords,
        severity=severity,
        confidence=confidence,
        min_entropy=min_entropy,
        generic=generic,
        allowlist=allow,
        examples=examples,
        verify=entry.get("verify"),
        revoke=entry.get("revoke"),
        source=source,
        tags=_str_list(entry.get("tags"), source, rule_id, "tags"),
        paths_only=_paths_only(entry.get("paths_only"), source, rule_id),
        once_per_file=entry.get("once_per_file", False),
        tracked_only=entry.get("tracked_only", False),
        multiline=entry.get("multiline", False),
        prefilter=_parse_prefilter(entry.get("prefilter"), source, rule_id, check_regexes),
    )


def _parse_prefilter(value: Any, source: str, rule_id: str, check: bool) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise RuleError(source, rule_id, "'prefilter' must be a regex string")
    if check:
        from .detect.prefilter import check_pattern

        problem = check_pattern(value)
        if problem is not None:
            raise RuleError(source, rule_id, f"invalid prefilter (Hyperscan syntax): {problem}")
    return value


def _parse_allowlist(value: Any, source: str, rule_id: str, check_regexes: bool = True) -> Allowlist:
    if not isinstance(value, dict):
        raise RuleError(source, rule_id, "'allowlist' must be a table")
    unknown = set(value) - _ALLOW_KEYS
    if unknown:
        raise RuleError(source, rule_id, f"unknown allowlist key(s): {', '.join(sorted(unknown))}")
    regexes = _str_list(value.get("regexes"), source, rule_id, "allowlist.regexes")
    _check_paths(value.get("paths"), source, rule_id, "allowlist.paths")
    if check_regexes:
        import regex

        for r in regexes:
            try:
                regex.compile(r)
            except regex.error as exc:
                raise RuleError(source, rule_id, f"invalid allowlist regex {r!r}: {exc}") from None
    return Allowlist(
        stopwords=tuple(s.lower() for s in _str_list(value.get("stopwords"), source, rule_id, "allowlist.stopwords")),
        regexes=regexes,
        paths=_str_list(value.get("paths"), source, rule_id, "allowlist.paths"),
    )


def _paths_only(value: Any, source: str, rule_id: str) -> tuple[str, ...]:
    _check_paths(value, source, rule_id, "paths_only")
    return _str_list(value, source, rule_id, "paths_only")


def _check_paths(value: Any, source: str, rule_id: str, name: str) -> None:
    from .config import check_patterns
    from .errors import ConfigError

    patterns = _str_list(value, source, rule_id, name)
    try:
        check_patterns(patterns, name)
    except ConfigError as exc:
        raise RuleError(source, rule_id, str(exc)) from None


MAX_EXAMPLE_LENGTH = 65536
_TEMPLATE_FIELD = regexcode.lazy(r"\{[a-zA-Z_0-9]+:(\d+)\}")


def _template_length(template: str) -> int:
    """The length an example expands to, without expanding it (``{alnum:99999999999}`` is a bomb)."""
    counts = (m.group(1) for m in _TEMPLATE_FIELD.finditer(template))
    return len(template) + sum(int(c) if len(c) <= 9 else MAX_EXAMPLE_LENGTH + 1 for c in counts)


def _parse_examples(value: Any, source: str, rule_id: str) -> Example:
    from .template import TemplateError, generate

    if not isinstance(value, dict):
        raise RuleError(source, rule_id, "'examples' must be a table")
    unknown = set(value) - _EXAMPLE_KEYS
    if unknown:
        raise RuleError(source, rule_id, f"unknown examples key(s): {', '.join(sorted(unknown))}")
    positive = _str_list(value.get("positive"), source, rule_id, "examples.positive")
    negative = _str_list(value.get("negative"), source, rule_id, "examples.negative")
    for tpl in positive + negative:
        if _template_length(tpl) > MAX_EXAMPLE_LENGTH:
            raise RuleError(source, rule_id, f"example template longer than {MAX_EXAMPLE_LENGTH} characters")
        try:
            generate(tpl)
        except TemplateError as exc:
            raise RuleError(source, rule_id, f"bad example template: {exc}") from None
    path = value.get("path", "example.txt")
    if not isinstance(path, str) or not path:
        raise RuleError(source, rule_id, "'examples.path' must be a file name")
    return Example(positive=positive, negative=negative, path=path)


def load_rules(
    extra_files: Iterable[Path] = (),
    disabled: Iterable[str] = (),
    include_builtin: bool = True,
) -> tuple[tuple[Rule, ...], dict[str, Any], dict[str, Any]]:
    """All rules (built-in first, then user files), with the merged verify/revoke specs.

    Parsing the TOML and compiling every regex to validate it is most of the cost of
    loading. Once a set of rule files (by path and content hash) has passed, its
    parsed form is cached as JSON, so later runs (the hook) skip both. A missing,
    unwritable, corrupt or stale cache only means parsing and validating again.
    """
    paths = list(builtin_rule_paths()) if include_builtin else []
    paths.extend(extra_files)
    contents = [_read(p) for p in paths]
    key = blake2b(b"leaktrap-rules-v3", digest_size=20)
    for p, c in zip(paths, contents):
        key.update(str(p).encode() + b"\0" + blake2b(c).digest())
    digest = key.hexdigest()
    cache_file = cache_dir() / f"rules-{digest[:40]}.json"
    cached = _read_cache(cache_file)
    if cached is not None:
        rules, verify, revoke = cached
    else:
        rules, verify, revoke = _parse_all(paths, contents)
        _write_cache(cache_file, rules, verify, revoke)
    regexcode.use_store(cache_file.parent, digest, lambda: _programs_wanted(rules))
    disabled_set = set(disabled)
    unknown = disabled_set - {r.id for r in rules}
    if unknown:
        raise RuleError("config", None, f"cannot disable unknown rule id(s): {', '.join(sorted(unknown))}")
    return tuple(r for r in rules if r.id not in disabled_set), verify, revoke


def _parse_all(paths: list[Path], contents: list[bytes]) -> tuple[list[Rule], dict[str, Any], dict[str, Any]]:
    rules: list[Rule] = []
    verify: dict[str, Any] = {}
    revoke: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for rf in (load_rule_file(p, raw) for p, raw in zip(paths, contents)):
        for rule in rf.rules:
            if rule.id in seen:
                raise RuleError(rf.source, rule.id, f"duplicate rule id (first defined in {seen[rule.id]})")
            seen[rule.id] = rf.source
            rules.append(rule)
        for table, specs in ((verify, rf.verify), (revoke, rf.revoke)):
            for name in specs:
                if name in table:
                    raise RuleError(rf.source, None, f"spec '{name}' is already defined by another rule file")
            table.update(specs)
    return rules, verify, revoke


def _read_cache(path: Path) -> tuple[list[Rule], dict[str, Any], dict[str, Any]] | None:
    try:
        data = json.loads(path.read_bytes())
        rules = [_rule_from_json(d) for d in data["rules"]]
        return rules, data["verify"], data["revoke"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_cache(path: Path, rules: list[Rule], verify: dict[str, Any], revoke: dict[str, Any]) -> None:
    from .atomic import write_atomic

    from .record import asdict

    payload = json.dumps({"rules": [asdict(r) for r in rules], "verify": verify, "revoke": revoke})
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(path, payload, mode=0o600)
        _prune(path.parent, keep=8)
    except (OSError, TypeError, ValueError):
        pass  # no cache: the next run parses again


def _programs_wanted(rules: list[Rule]) -> regexcode.Wanted:
    """Every pattern a scan with ``rules`` may compile: the program store's contents."""
    from .pathmatch import GLOB_NOTES, store_notes

    regexes = [(p, 0) for r in rules for p in (r.regex, *r.allowlist.regexes)]
    notes = store_notes([line for r in rules for line in (*r.allowlist.paths, *r.paths_only)])
    stdlib = [(regex, flags) for regex, flags, _include in notes.values() if regex is not None]
    return regexcode.Wanted(regexes, stdlib, {GLOB_NOTES: notes})


def _prune(folder: Path, keep: int) -> None:
    """Keep the newest few parsed rule sets, prefilter databases and program stores (each
    edit of a rule file makes new ones)."""
    for pattern in ("rules-*.json", "prefilter-*.hsdb", "programs-*.bin"):
        entries = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[keep:]:
            old.unlink(missing_ok=True)


def _rule_from_json(d: dict[str, Any]) -> Rule:
    fields = dict(d)
    fields["allowlist"] = Allowlist(**{k: tuple(v) for k, v in d["allowlist"].items()})
    ex = d["examples"]
    fields["examples"] = Example(positive=tuple(ex["positive"]), negative=tuple(ex["negative"]), path=ex["path"])
    for key in ("keywords", "tags", "paths_only"):
        fields[key] = tuple(d[key])
    return Rule(**fields)


def cache_dir() -> Path:
    """Where parsed rules and compiled prefilters are cached ($LEAKTRAP_CACHE_DIR, XDG cache)."""
    override = os.environ.get("LEAKTRAP_CACHE_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "leaktrap"


def iter_examples(rules: Iterable[Rule]) -> Iterator[tuple[Rule, str, bool]]:
    """(rule, generated text, should_match) for every example of every rule."""
    from .template import generate

    for rule in rules:
        for i, tpl in enumerate(rule.examples.positive):
            yield rule, generate(tpl, seed=f"{rule.id}:{i}"), True
        for i, tpl in enumerate(rule.examples.negative):
            yield rule, generate(tpl, seed=f"{rule.id}:n{i}"), False
