"""The program store: patterns rebuilt from stored programs behave exactly like freshly
compiled ones, and a bad, foreign or missing store only means compiling again."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pathspec
import pytest
import regex

from scanner import regexcode
from scanner.detect import filters
from scanner.pathmatch import PathMatcher
from scanner.rules import iter_examples, load_rules


@pytest.fixture
def store_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh cache folder, and the module's store state restored afterwards."""
    monkeypatch.setenv("LEAKTRAP_CACHE_DIR", str(tmp_path / "cache"))
    saved = (regexcode._source, regexcode._store)
    regexcode._source, regexcode._store = None, None
    yield tmp_path / "cache"
    regexcode._source, regexcode._store = saved


def programs(folder: Path) -> list[Path]:
    return sorted(folder.glob("programs-*.bin"))


def spans(pattern: object, text: str) -> list[tuple[tuple[int, int], dict[str, str | None]]]:
    return [(m.span(), m.groupdict()) for m in pattern.finditer(text)]  # type: ignore[attr-defined]


def test_every_rule_pattern_from_the_store_matches_like_regex_compile_on_the_examples(store_dir: Path) -> None:
    rules, _v, _r = load_rules()
    texts = [text for _rule, text, _pos in iter_examples(rules)]
    assert programs(store_dir) == []
    first = regexcode.compile_regex(rules[0].regex)
    assert len(programs(store_dir)) == 1, "the store is built on first use"
    store = regexcode._active()
    assert store.regex and first._pickled_data == regex.compile(rules[0].regex)._pickled_data
    for rule in rules:
        for source in (rule.regex, *rule.allowlist.regexes):
            assert (source, 0) in store.regex, rule.id
            stored = regexcode.compile_regex(source)
            fresh = regex.compile(source)
            assert stored._pickled_data == fresh._pickled_data, rule.id
        stored, fresh = regexcode.compile_regex(rule.regex), regex.compile(rule.regex)
        own = [text for r, text, _pos in iter_examples([rule])]
        for text in own + texts[:: max(1, len(texts) // 40)]:
            assert spans(stored, text) == spans(fresh, text), rule.id


def test_a_new_run_reads_the_store_without_importing_the_regex_compiler(store_dir: Path, tmp_path: Path) -> None:
    load_rules()
    regexcode.compile_regex("x")  # builds the store
    code = (
        "import sys\n"
        "from scanner import regexcode\n"
        "from scanner.rules import load_rules\n"
        "rules = load_rules()[0]\n"
        "pattern = regexcode.compile_regex(rules[0].regex)\n"
        "from scanner.detect import filters\n"
        "assert filters.is_placeholder('${TOKEN}') and not filters.is_placeholder('q8Xv2Lr9Tz')\n"
        "print(type(pattern).__name__, 'regex._regex_core' in sys.modules, 'pathspec' in sys.modules)\n"
        # a pattern the store lacks: the whole regex package now, with the same C half
        "fresh = regexcode.compile_regex('(?P<secret>zz[0-9]{3})')\n"
        "import regex\n"
        "print(regex._regex is sys.modules['regex._regex'], type(fresh) is type(pattern), fresh.search('zz123')[0])\n"
    )
    env = dict(os.environ, LEAKTRAP_CACHE_DIR=str(store_dir))
    proc = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.stdout.split() == ["Pattern", "False", "False", "True", "True", "zz123"], proc.stderr


SAMPLES = [
    "${TOKEN}", "{name}", "{{ token }}", "%(name)s", "$VAR", "<token>", "<your key>", "your_api_key",
    "xxxxxxxx", "changeme", "os.getenv('X')", "q8Xv2Lr9Tz", "0123456789abcdef0123456789abcdef",
    "123e4567-e89b-12d3-a456-426614174000", "/usr/local/bin", "./a/b", "C:\\x", "https://example.com/a",
    "obj.attr", "call(x)", "CONSTANT_NAME", "snake_case", "camelCase", "file.py", "$2b$10$abcdefghijk",
    "{SSHA}abc", "md5" + "a" * 32, "AAAAAA", "AAAAA", "QWERTYuiop", "tests/test_x.py", "src/app.py",
    "docs/a.md", "password", "hunter2", "yoaVzw.eYd0qXdQ", "pyCr7Tzs/ftBvz/QX1T", "", "\n", "ÄÖü",
]


def test_filter_patterns_behave_as_before(store_dir: Path) -> None:
    load_rules()
    lazies = [getattr(filters, n) for n in dir(filters) if isinstance(getattr(filters, n), regexcode.LazyPattern)]
    assert len(lazies) >= 10
    for lazy in lazies:
        fresh = regex.compile(lazy.pattern, lazy.flags)
        # built in this process: the very same program
        assert regexcode.compile_regex(lazy.pattern, lazy.flags)._pickled_data == fresh._pickled_data
        # the module's own (maybe from a store another process built): the same matches
        for text in SAMPLES:
            for method in ("match", "search"):
                got, want = getattr(lazy, method)(text), getattr(fresh, method)(text)
                assert (got and got.span()) == (want and want.span()), (lazy.pattern, text)
    assert filters._REPEATED.match("AAAAAA") and filters._REPEATED.match("QWERTYuiop")
    assert not filters._REPEATED.match("AAAAA")


PATHS = [
    "a.py", "src/a.py", "./src/a.py", "/abs/a.py", "x.pyc", "docs/a.py/b", ".env", "app/.env", ".env.example",
    "app/.env.sample", "prod.env", "x.env.example", "id_rsa", "keys/id_rsa", "id_rsa.pub", "k.pem", "a/b/c.key",
    "fixtures/x", "a/fixtures/y.txt", "pgpass.conf", "dir/", "README.md", "a.PY", "tests/test_x.py", "",
]


def test_rule_path_patterns_match_as_pathspec_does(store_dir: Path) -> None:
    rules, _v, _r = load_rules()
    lists = [r.allowlist.paths for r in rules if r.allowlist.paths] + [r.paths_only for r in rules if r.paths_only]
    assert lists
    extra = [["*.py", "!a.py", "src/"], ["/abs", "**/fixtures/**", "#comment", "", "\\#x", "[ab].txt", "a/**/b"]]
    for patterns in lists + extra:
        mine = PathMatcher(patterns)
        theirs = pathspec.PathSpec.from_lines("gitignore", patterns)
        for path in PATHS:
            assert mine.match_file(path) == theirs.match_file(path), (patterns, path)
    store = regexcode._active()
    assert store.stdlib, "the rules' path patterns are in the store"
    for (source, flags) in store.stdlib:
        assert regexcode.compile_stdlib(source, flags) == re.compile(source, flags)


def test_invalid_path_patterns_fail_as_with_pathspec() -> None:
    for bad in ("a/***/b", "[z-a]"):
        try:
            pathspec.PathSpec.from_lines("gitignore", [bad])
        except Exception as exc:  # noqa: BLE001
            with pytest.raises(type(exc)):
                PathMatcher([bad])
        else:
            PathMatcher([bad])


@pytest.mark.parametrize("damage", ["garbage", "truncate", "flip", "identity", "empty"])
def test_a_damaged_or_foreign_store_is_ignored_and_rebuilt(store_dir: Path, damage: str) -> None:
    rules, _v, _r = load_rules()
    regexcode.compile_regex(rules[0].regex)
    (path,) = programs(store_dir)
    good = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"\x00\xff" * 500)
    elif damage == "truncate":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "flip":
        path.write_bytes(good[:-10] + bytes([good[-10] ^ 0xFF]) + good[-9:])
    elif damage == "identity":
        data = regexcode._active()._replace(identity="another python")
        regexcode.write(path, data)
    else:
        path.write_bytes(b"")
    regexcode._store = None  # as in a new run
    for rule in rules[:20]:
        assert regexcode.compile_regex(rule.regex)._pickled_data == regex.compile(rule.regex)._pickled_data
    assert regexcode._active().identity == regexcode._source.identity  # type: ignore[union-attr]
    assert path.read_bytes() != b"" and regexcode._read(regexcode._source) is not None  # type: ignore[arg-type]


def test_without_a_writable_cache_patterns_are_compiled_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("LEAKTRAP_CACHE_DIR", str(blocked / "cache"))
    saved = (regexcode._source, regexcode._store)
    try:
        regexcode._source, regexcode._store = None, None
        rules, _v, _r = load_rules()
        assert regexcode.compile_regex(rules[0].regex).pattern == rules[0].regex
        assert regexcode._active() is regexcode._EMPTY
    finally:
        regexcode._source, regexcode._store = saved


def test_concurrent_first_runs_share_one_valid_store(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    # programs made in another process may list a set's characters in another order (the
    # regex compiler iterates Python sets): compare what they match, not their bytes
    code = (
        "from scanner import regexcode\n"
        "from scanner.rules import iter_examples, load_rules\n"
        "import regex\n"
        "rules = load_rules()[0]\n"
        "def spans(p, t): return [(m.span(), m.groupdict()) for m in p.finditer(t)]\n"
        "bad = [r.id for r, t, _pos in iter_examples(rules)\n"
        "       if spans(regexcode.compile_regex(r.regex), t) != spans(regex.compile(r.regex), t)]\n"
        "print('ok' if not bad else bad)\n"
    )
    env = dict(os.environ, LEAKTRAP_CACHE_DIR=str(cache))
    procs = [
        subprocess.Popen([sys.executable, "-P", "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [out.strip() for out, _err in outputs] == ["ok"] * 4, [err for _out, err in outputs]
    stores = sorted(cache.glob("programs-*.bin"))
    assert len(stores) == 1 and not list(cache.glob(".programs-*"))
    again = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert again.stdout.strip() == "ok" and stores[0].read_bytes() == sorted(cache.glob("programs-*.bin"))[0].read_bytes()


def test_a_pattern_the_store_does_not_hold_is_compiled_normally(store_dir: Path) -> None:
    load_rules()
    compiled = regexcode.compile_regex(r"(?P<secret>zz[0-9]{3})")
    assert compiled.search("a zz123 b").group("secret") == "zz123"
    with pytest.raises(regex.error):
        regexcode.compile_regex("(unbalanced")


def test_a_store_others_can_write_is_never_unmarshalled(store_dir: Path) -> None:
    """A program store is loaded like __pycache__: only from a file no one else can have written."""
    rules, _v, _r = load_rules()
    regexcode.compile_regex(rules[0].regex)
    (path,) = programs(store_dir)
    source = regexcode._source
    assert source is not None and regexcode._read(source) is not None
    path.chmod(0o666)  # group and world writable: someone else may have planted it
    assert regexcode._read(source) is None
    regexcode._store = None  # a new run: compiles the ordinary way, and rewrites the store privately
    assert regexcode.compile_regex(rules[0].regex)._pickled_data == regex.compile(rules[0].regex)._pickled_data
    assert path.stat().st_mode & 0o022 == 0 and regexcode._read(source) is not None
