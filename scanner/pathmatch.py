"""gitignore-style path patterns (config excludes, rule path lists, .gitignore files).

pathspec translates each pattern to a regular expression and says whether it
includes or excludes (``!pattern``); a path matches when the last pattern that
matches it includes. :class:`PathMatcher` does that matching with pathspec's
own translations, which the program store (:mod:`scanner.regexcode`) keeps
with the compiled expressions for the rules' path lists, so a hook run needs
neither pathspec (about 10 ms to import) nor ``re``'s compiler.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from . import regexcode

if TYPE_CHECKING:
    import pathspec

GLOB_NOTES = "gitignore"  # the program store's notes: pattern line -> translation

Translation = tuple[str | None, int, bool | None]  # (regex, its flags, include) of one pattern line
_SEPARATORS = [sep for sep in (os.sep, os.altsep) if sep and sep != "/"]


class PathMatcher:
    """``pathspec.PathSpec.from_lines("gitignore", lines).match_file`` (its simple backend)."""

    def __init__(self, lines: Iterable[str]) -> None:
        compiled: list[tuple[Any, bool]] = []
        for line in lines:
            if not line:
                continue
            regex, flags, include = translate(line)
            if include is not None and regex is not None:
                compiled.append((regexcode.compile_stdlib(regex, flags), include))
        self._last_first = compiled[::-1]

    def match_file(self, path: str) -> bool:
        for sep in _SEPARATORS:
            path = path.replace(sep, "/")
        if path.startswith("/"):
            path = path[1:]
        elif path.startswith("./"):
            path = path[2:]
        for regex, include in self._last_first:
            if regex.search(path) is not None:
                return include
        return False


def translate(line: str) -> Translation:
    """pathspec's reading of one gitignore pattern (kept in the program store; raises
    what pathspec raises for an invalid pattern)."""
    kept = regexcode.note(GLOB_NOTES, line)
    if kept is not None:
        return kept  # type: ignore[no-any-return]
    return _translate(line)


def _translate(line: str) -> Translation:
    import pathspec

    pattern = pathspec.util.lookup_pattern("gitignore")(line)
    regex = getattr(pattern, "regex", None)  # a RegexPattern: re.Pattern, or None for a no-op line
    return (None, 0, None) if regex is None else (regex.pattern, regex.flags, pattern.include)


def store_notes(lines: Sequence[str]) -> dict[str, Translation]:
    """Translations of ``lines`` for the program store (the invalid ones left out)."""
    notes: dict[str, Translation] = {}
    for line in dict.fromkeys(lines):
        if line:
            try:
                notes[line] = _translate(line)
            except Exception:  # noqa: BLE001 - pathspec raises several types; reported where used
                continue
    return notes


def gitignore_spec(lines: Iterable[str]) -> pathspec.GitIgnoreSpec:
    """The exact semantics of a ``.gitignore`` file."""
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines, backend="simple")
