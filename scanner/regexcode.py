"""Compiled regular expressions without paying for their compilation on every run.

The ``regex`` module parses a pattern in Python (half a millisecond for a typical
rule, 0.14 s for all the built-in ones) and passes the result to its C part,
``_regex.compile(...)``; every compiled pattern keeps those arguments (its
``_pickled_data``, which is how pickle rebuilds it). The standard ``re`` module
likewise ends in ``_sre.compile(...)``. A *program store* keeps these final
arguments on disk, next to the parsed rules, so a later run calls the C
constructors directly (every rule pattern in a few milliseconds) and does not
even import the Python half of ``regex``.

The store is only an accelerator. A pattern it does not hold, a missing, corrupt
or foreign store (another Python, another ``regex`` or ``pathspec`` install), or
any change in these internals means compiling the ordinary way, with the same
result. Stores are written atomically, so concurrent runs are safe.
"""

# No ``from __future__ import annotations`` here: typing.NamedTuple compiles every string
# annotation into a ForwardRef (about 0.15 ms a field, milliseconds on each hook run).

import marshal
import os
import sys
from binascii import crc32
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

FORMAT = b"leaktrap-programs-v1"
_ENGINE_PACKAGES = ("regex", "pathspec")  # their code shapes what a store holds


class Wanted(NamedTuple):
    """What a store is built for: ``regex`` patterns, ``re`` patterns (both with their
    flags), and notes other modules keep beside them (pathmatch: pattern translations)."""

    regexes: list[tuple[str, int]]
    stdlib: list[tuple[str, int]]
    notes: dict[str, dict[str, Any]]


class _Store(NamedTuple):
    """Compile arguments by (pattern, flags), each marshalled on its own: a run unpacks only
    the few it uses (and the cyclic GC never walks the rest)."""

    identity: str  # engine_identity() of the run that built it
    regex: dict[tuple[str, int], bytes]
    stdlib: dict[tuple[str, int], bytes]
    notes: dict[str, dict[str, Any]]
    c_module: dict[str, int]  # MAGIC and code size of the _regex that made the programs


class _Source(NamedTuple):
    path: Path
    identity: str
    wanted: Callable[[], Wanted]


_EMPTY = _Store("", {}, {}, {}, {})
_registered: list[tuple[str, int]] = []  # patterns of lazy() objects: part of every store
_source: _Source | None = None
_store: _Store | None = None


def use_store(folder: Path, key: str, wanted: Callable[[], Wanted]) -> None:
    """Programs for the patterns ``wanted()`` lists live in ``folder``, under ``key`` (a hex
    digest of their sources); the store is read, or built, when a pattern is first needed."""
    global _source, _store
    identity = engine_identity()
    path = folder / f"programs-{key[:32]}-{crc32(identity.encode('utf-8', 'surrogateescape')):08x}.bin"
    if _source is None or _source.path != path:
        _source = _Source(path, identity, wanted)
        _store = None


def compile_regex(pattern: str, flags: int = 0) -> Any:
    """``regex.compile(pattern, flags)``, from a stored program when there is one."""
    program = _active().regex.get((pattern, flags))
    if program is not None:
        c_module = _regex_c()
        if c_module is not None:
            try:
                return c_module.compile(*marshal.loads(program))
            except Exception:  # noqa: BLE001 - a program this _regex does not take: compile it
                pass
    return _regex_package().compile(pattern, flags)


def compile_stdlib(pattern: str, flags: int = 0) -> Any:
    """``re.compile(pattern, flags)``, from a stored program when there is one."""
    import re

    program = _active().stdlib.get((pattern, flags))
    if program is not None:
        try:
            import _sre  # type: ignore[import-not-found]

            return _sre.compile(*marshal.loads(program))
        except Exception:  # noqa: BLE001 - see compile_regex
            pass
    return re.compile(pattern, flags)


def note(kind: str, key: str) -> Any:
    """What the store keeps for ``key`` among the notes of ``kind`` (None when nothing)."""
    return _active().notes.get(kind, {}).get(key)


class LazyPattern:
    """A ``regex`` pattern compiled on first use (from the store when it holds it)."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags
        self._compiled: Any = None
        _registered.append((pattern, flags))

    def get(self) -> Any:
        if self._compiled is None:
            self._compiled = compile_regex(self.pattern, self.flags)
        return self._compiled

    def match(self, text: str) -> Any:
        return self.get().match(text)

    def search(self, text: str) -> Any:
        return self.get().search(text)

    def finditer(self, text: str) -> Any:
        return self.get().finditer(text)


def lazy(pattern: str, flags: int = 0) -> LazyPattern:
    return LazyPattern(pattern, flags)


# ---------------------------------------------------------------- the store on disk


def _active() -> _Store:
    global _store
    if _store is None:
        if _source is None:
            return _EMPTY
        _store = _read(_source) or _build_and_write(_source)
    return _store


def _read(source: _Source) -> _Store | None:
    try:
        with open(source.path, "rb") as fh:
            if not _private(os.fstat(fh.fileno())):
                return None  # someone else could have written it: compile the ordinary way
            raw = fh.read()
        head, _, body = raw.partition(b"\n")
        magic, crc = head.split(b" ")
        if magic != FORMAT or int(crc) != crc32(body):
            return None
        store = _Store(*marshal.loads(body))
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if store.identity != source.identity:
        return None
    c_module = sys.modules.get("regex._regex")
    if c_module is not None and not _same_c_module(c_module, store.c_module):
        return None
    return store


def _private(st: os.stat_result) -> bool:
    """A store is unmarshalled only from a file this user owns and no one else may write."""
    owner = getattr(os, "getuid", None)
    return (owner is None or st.st_uid == owner()) and not st.st_mode & 0o022


def _build_and_write(source: _Source) -> _Store:
    """Compile every wanted pattern once and keep the programs, when the cache folder is
    writable (otherwise each pattern is compiled when needed, as without a store)."""
    folder = source.path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not os.access(folder, os.W_OK):
            return _EMPTY
    except OSError:
        return _EMPTY
    try:
        store = build(source.identity, source.wanted())
    except Exception:  # noqa: BLE001 - internals of regex or re changed: no store
        return _EMPTY
    write(source.path, store)
    return store


def build(identity: str, wanted: Wanted) -> _Store:
    regex = _regex_package()
    programs: dict[tuple[str, int], bytes] = {}
    for pattern, flags in [*wanted.regexes, *_registered]:
        try:
            data = regex.compile(pattern, flags)._pickled_data
        except regex.error:
            continue  # compiling it reports the error where it is used
        if data[0] == pattern:
            programs[(pattern, flags)] = marshal.dumps(data)
    stdlib: dict[tuple[str, int], bytes] = {}
    for pattern, flags in wanted.stdlib:
        data = _stdlib_program(pattern, flags)
        if data is not None:
            stdlib[(pattern, flags)] = marshal.dumps(data)
    c_module = sys.modules["regex._regex"]
    c_info = {"magic": c_module.MAGIC, "code_size": c_module.get_code_size()}
    return _Store(identity, programs, stdlib, wanted.notes, c_info)


def write(path: Path, store: _Store) -> None:
    from .atomic import write_atomic

    try:
        body = marshal.dumps(tuple(store))
        write_atomic(path, FORMAT + b" %d\n" % crc32(body) + body, mode=0o600)
    except (OSError, ValueError):
        pass  # unwritable, or a value marshal cannot hold: compile again next time


def _stdlib_program(pattern: str, flags: int) -> tuple[Any, ...] | None:
    """The arguments ``re`` passes to ``_sre.compile`` for ``pattern`` (None when they
    cannot be captured, or do not rebuild exactly the pattern ``re`` makes)."""
    import re
    from re import _compiler  # type: ignore[attr-defined]

    real = _compiler._sre
    seen: list[tuple[Any, ...]] = []

    class _Capture:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        @staticmethod
        def compile(*args: Any) -> Any:
            seen.append(args)
            return real.compile(*args)

    try:
        _compiler._sre = _Capture()
        try:
            expected = _compiler.compile(pattern, flags)
        finally:
            _compiler._sre = real
        args = next(a for a in reversed(seen) if a and a[0] is pattern)
        # the code holds named int constants: plain ints for the store
        args = (args[0], int(args[1]), [int(op) for op in args[2]], *args[3:])
        return args if real.compile(*args) == expected == re.compile(pattern, flags) else None
    except Exception:  # noqa: BLE001 - an invalid pattern or other internals: no program
        return None


# ---------------------------------------------------------------- identity of the engines


def engine_identity() -> str:
    """This Python build and the installed ``regex`` and ``pathspec`` (their metadata
    folders name the version; reinstalling rewrites them)."""
    parts = [sys.version, sys.implementation.cache_tag or ""]
    for name in _ENGINE_PACKAGES:
        parts.append(_package_stamp(name))
    return "|".join(parts)


def _package_folder(name: str) -> str | None:
    """Where the import system would find package ``name`` (without importing it)."""
    from importlib.machinery import PathFinder

    spec = PathFinder.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def _package_stamp(name: str) -> str:
    folder = _package_folder(name)
    if folder is None:
        return f"{name}:absent"
    stamps = [folder]
    parent = os.path.dirname(folder)
    try:
        with os.scandir(parent) as entries:
            for entry in entries:
                if entry.name.startswith(name + "-") and entry.name.endswith((".dist-info", ".egg-info")):
                    st = entry.stat()
                    stamps.append(f"{entry.name}:{st.st_mtime_ns}")
    except OSError:
        pass
    for file in ("__init__.py", _regex_file_name(folder) if name == "regex" else ""):
        if file:
            try:
                st = os.stat(os.path.join(folder, file))
                stamps.append(f"{file}:{st.st_size}:{st.st_mtime_ns}")
            except OSError:
                stamps.append(f"{file}:absent")
    return ",".join(stamps)


def _regex_file_name(folder: str) -> str:
    """The file of the ``regex._regex`` extension (the first suffix the import system tries)."""
    from importlib.machinery import EXTENSION_SUFFIXES

    for suffix in EXTENSION_SUFFIXES:
        if os.path.exists(os.path.join(folder, "_regex" + suffix)):
            return "_regex" + suffix
    return ""


def _regex_c() -> ModuleType | None:
    """``regex._regex``, the C half of regex: all it takes to rebuild stored programs.
    Loaded on its own when regex is not imported yet (its Python half takes ~9 ms)."""
    c_module = sys.modules.get("regex._regex")
    if c_module is None:
        c_module = _load_c_module()
        if c_module is None:
            return None
    store = _active()
    return c_module if _same_c_module(c_module, store.c_module) else None


def _regex_package() -> Any:
    """The whole ``regex`` package, whose C half may have been loaded on its own before
    (the import system then finds it but does not set it on the package)."""
    import regex

    if not hasattr(regex, "_regex"):
        regex._regex = sys.modules["regex._regex"]
    return regex


def _load_c_module() -> ModuleType | None:
    try:
        from importlib.machinery import ExtensionFileLoader
        from importlib.util import module_from_spec, spec_from_file_location

        folder = _package_folder("regex")
        file = _regex_file_name(folder) if folder is not None else ""
        if not folder or not file:
            return None
        path = os.path.join(folder, file)
        c_spec = spec_from_file_location("regex._regex", path, loader=ExtensionFileLoader("regex._regex", path))
        if c_spec is None or c_spec.loader is None:
            return None
        c_module = module_from_spec(c_spec)
        c_spec.loader.exec_module(c_module)
    except (ImportError, OSError):
        return None
    # ``import regex`` later finds it here, so there is only ever one
    return sys.modules.setdefault("regex._regex", c_module)


def _same_c_module(c_module: ModuleType, recorded: dict[str, int]) -> bool:
    try:
        return bool(recorded) and c_module.MAGIC == recorded["magic"] and c_module.get_code_size() == recorded["code_size"]
    except (AttributeError, KeyError):
        return False
