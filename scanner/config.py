"""User configuration: ``.leaktrap.toml`` or ``[tool.leaktrap]`` in ``pyproject.toml``.

Keys (all optional)::

    rules = ["ci/our-rules.toml"]   # extra rule files, same schema as rules/*.toml
    disable = ["generic-password"]  # rule ids switched off
    exclude = ["tests/fixtures/**"] # gitignore-style patterns never scanned
    max_file_size = 10485760        # bytes; larger files are skipped (and reported)
    min_entropy = 3.5               # entropy floor of the generic detectors
    min_confidence = "medium"       # high | medium | low
    regex_timeout = 2.0             # seconds per rule and file
    baseline = "baseline.json"      # default baseline path (relative to the config file)
    audit_log = ".leaktrap/audit.jsonl"  # verify/revoke audit log (relative to the config file)
    http_timeout = 10.0             # seconds per provider call (verify / revoke)
    decode_depth = 2                # levels of base64/hex/percent decoding (0: off)
    [base_urls]                     # provider endpoint overrides, by spec name
    github = "https://ghe.example.com/api/v3"
    gitlab = "https://gitlab.example.com"
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .model import CONFIDENCES
from .record import field, record

if TYPE_CHECKING:
    from .pathmatch import PathMatcher

KNOWN_KEYS = {
    "rules", "disable", "exclude", "max_file_size", "min_entropy", "min_confidence",
    "regex_timeout", "baseline", "audit_log", "http_timeout", "base_urls",
    "decode_depth",
}


@record
class Config:
    """The user's configuration (see the module docstring for the keys)."""

    source: str | None = None
    rule_files: tuple[Path, ...] = ()
    disable: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_file_size: int | None = None
    min_entropy: float | None = None
    min_confidence: str | None = None
    regex_timeout: float | None = None
    baseline: Path | None = None
    audit_log: Path | None = None
    http_timeout: float | None = None
    base_urls: dict[str, str] = field(default_factory=dict)
    decode_depth: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def check_patterns(patterns: Iterable[str], where: str) -> None:
    """Every gitignore-style pattern must compile: a bad one is the user's error, not a crash mid-scan."""
    from .pathmatch import PathMatcher

    for pattern in patterns:
        try:
            PathMatcher([pattern])
        except Exception as exc:  # noqa: BLE001 - pathspec raises its own types, re.error, ValueError
            raise ConfigError(f"{where}: invalid path pattern {pattern!r} ({type(exc).__name__})") from None


def exclude_spec(patterns: Sequence[str]) -> PathMatcher:
    """The compiled exclude patterns (config ``exclude`` and ``--exclude``)."""
    from .pathmatch import PathMatcher

    check_patterns(patterns, "exclude")
    return PathMatcher(patterns)


def find_config(start: Path) -> Path | None:
    folder = start if start.is_dir() else start.parent
    for name in (".leaktrap.toml", "pyproject.toml"):
        candidate = folder / name
        if candidate.is_file():
            if name == "pyproject.toml" and not _has_tool_section(candidate):
                continue
            return candidate
    return None


def _has_tool_section(path: Path) -> bool:
    import tomllib

    try:
        return "leaktrap" in tomllib.loads(path.read_text("utf-8")).get("tool", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True  # let load_config report the problem


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    import tomllib  # only when there is a config file

    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        section = data.get("tool", {}).get("leaktrap", {})
        where = f"{path} [tool.leaktrap]"
    else:
        section = data.get("tool", {}).get("leaktrap", data) if "tool" in data else data
        where = str(path)
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: must be a table")
    return parse_config(section, path.parent, where)


def parse_config(section: dict[str, Any], base: Path, where: str) -> Config:
    unknown = set(section) - KNOWN_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s): {', '.join(sorted(unknown))} (known: {', '.join(sorted(KNOWN_KEYS))})")

    def str_list(name: str) -> tuple[str, ...]:
        value = section.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: '{name}' must be a list of strings")
        return tuple(value)

    def number(name: str, kind: type, low: float, high: float) -> Any:
        value = section.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
            raise ConfigError(f"{where}: '{name}' must be a {'whole ' if kind is int else ''}number")
        if not low <= value <= high:
            raise ConfigError(f"{where}: '{name}' must be between {low:g} and {high:g}")
        return kind(value)

    min_conf = section.get("min_confidence")
    if min_conf is not None and min_conf not in CONFIDENCES:
        raise ConfigError(f"{where}: 'min_confidence' must be one of {', '.join(CONFIDENCES)}")
    baseline = section.get("baseline")
    if baseline is not None and not isinstance(baseline, str):
        raise ConfigError(f"{where}: 'baseline' must be a path")
    audit_log = section.get("audit_log")
    if audit_log is not None and not isinstance(audit_log, str):
        raise ConfigError(f"{where}: 'audit_log' must be a path")
    base_urls = section.get("base_urls", {})
    if not isinstance(base_urls, dict) or not all(isinstance(v, str) for v in base_urls.values()):
        raise ConfigError(f"{where}: 'base_urls' must be a table of spec name = URL")
    check_patterns(str_list("exclude"), f"{where}: 'exclude'")
    return Config(
        source=where,
        rule_files=tuple(base / p for p in str_list("rules")),
        disable=str_list("disable"),
        exclude=str_list("exclude"),
        max_file_size=number("max_file_size", int, 1, 2**40),
        min_entropy=number("min_entropy", float, 0, 8),
        min_confidence=min_conf,
        regex_timeout=number("regex_timeout", float, 0.01, 600),
        baseline=base / baseline if baseline else None,
        audit_log=base / audit_log if audit_log else None,
        http_timeout=number("http_timeout", float, 0.05, 600),
        base_urls=dict(base_urls),
        decode_depth=number("decode_depth", int, 0, 5),
    )
