"""gitignore-style path patterns (config excludes, rule path lists, .gitignore files).

pathspec picks a Hyperscan backend when Hyperscan is installed; compiling one
database per small pattern list costs milliseconds each at start-up (the hook
pays it), while matching a few paths is as fast with the plain backend.
"""

from __future__ import annotations

from collections.abc import Iterable

import pathspec


def path_spec(patterns: Iterable[str]) -> pathspec.PathSpec:
    return pathspec.PathSpec.from_lines("gitignore", patterns, backend="simple")


def gitignore_spec(lines: Iterable[str]) -> pathspec.GitIgnoreSpec:
    """The exact semantics of a ``.gitignore`` file."""
    return pathspec.GitIgnoreSpec.from_lines(lines, backend="simple")
