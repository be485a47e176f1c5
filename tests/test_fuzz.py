"""Property tests: random and mutated input to every parser leaktrap owns, and to the engine.

The only acceptable outcomes are a result or one of leaktrap's own errors (a
``LeaktrapError``, which the CLI turns into exit code 2 and one line); any other
exception would be an internal error (exit 3) on a hostile file.
"""

from __future__ import annotations

import base64
import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from scanner import baseline, config, gitio, rules
from scanner.engine import EngineSettings, RuleSet, scan_chunk
from scanner.errors import LeaktrapError
from scanner.model import CONFIDENCES, Chunk, Origin, OriginKind
from scanner.sources import decoding, notebooks, text

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"

json_scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=25,
)
any_text = st.text(alphabet=st.characters(blacklist_categories=()), max_size=400)  # surrogates too


def outcome(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``func``; a LeaktrapError is a defined outcome (returned, not raised)."""
    try:
        return func(*args, **kwargs)
    except LeaktrapError as exc:
        assert str(exc)  # a message the user can read
        return exc


def mutate(data: bytes, rnd: random.Random, edits: int) -> bytes:
    """Flip, insert, delete and duplicate bytes of ``data``."""
    buf = bytearray(data)
    for _ in range(edits):
        if not buf:
            buf.extend(rnd.randbytes(4))
        pos = rnd.randrange(len(buf))
        op = rnd.randrange(5)
        if op == 0:
            buf[pos] = rnd.randrange(256)
        elif op == 1:
            buf[pos:pos] = rnd.choice([b'"', b"'", b"[", b"]", b"{", b"}", b"=", b"\n", b"\\", b"\0", b"\xff", b",", b"'''"])
        elif op == 2:
            del buf[pos : pos + rnd.randrange(1, 20)]
        elif op == 3:
            end = min(len(buf), pos + rnd.randrange(1, 60))
            buf[pos:pos] = buf[pos:end]
        else:
            buf[pos:pos] = str(rnd.choice([0, -1, 10**30, 1e308, "nan", "inf", 2**63])).encode()
    return bytes(buf)


# ---------------------------------------------------------------- rule files


def _sample_rule_file() -> bytes:
    return (RULES_DIR / "github.toml").read_bytes()


@FUZZ
@given(st.binary(max_size=600))
def test_rule_loader_random_bytes(raw: bytes) -> None:
    outcome(rules.load_rule_file, Path("fuzz.toml"), raw)


@FUZZ
@given(st.randoms(use_true_random=False), st.integers(1, 12))
def test_rule_loader_mutated_rule_file(rnd: random.Random, edits: int) -> None:
    result = outcome(rules.load_rule_file, Path("fuzz.toml"), mutate(_sample_rule_file(), rnd, edits))
    if isinstance(result, rules.RuleFile) and result.rules:
        _use_rules(result.rules)


rule_values = st.fixed_dictionaries(
    {"id": st.sampled_from(["fuzz-rule", "Bad Id", "a", ""]) | st.text(max_size=8)},
    optional={
        "provider": st.text(max_size=10) | json_values,
        "description": st.text(max_size=20) | json_values,
        "regex": st.sampled_from(["(?P<secret>[a-z]{4,})", "(?P<secret>x)+", "(", "(?P<secret>a{99999999999})", "a"])
        | st.text(max_size=20),
        "keywords": st.lists(st.text(min_size=0, max_size=6), max_size=3) | json_values,
        "severity": st.sampled_from(["high", "low", "nope"]) | json_values,
        "confidence": st.sampled_from(list(CONFIDENCES)) | json_values,
        "min_entropy": st.floats(allow_nan=True) | json_values,
        "generic": json_values,
        "tags": st.lists(st.sampled_from(["random", "password", "hygiene", "x"]), max_size=3) | json_values,
        "paths_only": st.lists(st.sampled_from(["*.env", "[", "\\", "!", "**/[z-a]", "a/**"]), max_size=3) | json_values,
        "allowlist": st.fixed_dictionaries(
            {},
            optional={
                "stopwords": st.lists(st.text(max_size=5), max_size=3),
                "regexes": st.lists(st.sampled_from(["^x", "(", "a{2,1}"]), max_size=2),
                "paths": st.lists(st.sampled_from(["tests/**", "[z-a]", "\\", "!"]), max_size=2),
            },
        )
        | json_values,
        "examples": st.fixed_dictionaries(
            {},
            optional={
                "positive": st.lists(
                    st.sampled_from(["x {alnum:8}", "{nope:3}", "{alnum:99999999999}", "{alnum:" + "9" * 5000 + "}", "{{"]),
                    max_size=2,
                ),
                "negative": st.lists(st.text(max_size=10), max_size=2),
                "path": json_values,
            },
        )
        | json_values,
        "prefilter": st.sampled_from(["ab[cd]", "(?P<x", "a{9999999}"]) | json_values,
        "multiline": json_values,
        "once_per_file": json_values,
        "tracked_only": json_values,
        "verify": json_values,
    },
)


def _use_rules(parsed: tuple[Any, ...]) -> None:
    """A rule the loader accepts must also compile and scan without crashing."""
    ruleset = RuleSet(parsed)
    for sample in ("abcd xyzw token=abcdefgh", "x" * 50, ""):
        for path in ("a.env", "tests/x.py"):
            scan_chunk(Chunk(path=path, text=sample), ruleset, EngineSettings(regex_timeout=0.2, min_confidence="low"))


@FUZZ
@given(st.fixed_dictionaries({"provider": st.text(max_size=5)}, optional={"rules": st.lists(rule_values, max_size=2)}))
def test_rule_loader_random_structures(data: dict[str, Any]) -> None:
    result = outcome(rules.parse_rule_data, data, "fuzz.toml")
    if isinstance(result, rules.RuleFile) and result.rules:
        _use_rules(result.rules)


@FEW
@given(json_values)
def test_rule_loader_any_value(data: Any) -> None:
    if isinstance(data, dict):
        outcome(rules.parse_rule_data, data, "fuzz.toml")


# ---------------------------------------------------------------- config


config_values = st.dictionaries(
    st.sampled_from(sorted(config.KNOWN_KEYS) + ["unknown"]),
    json_values | st.lists(st.sampled_from(["*.log", "[z-a]", "\\", "!", "x/**"]), max_size=3),
    max_size=6,
)


@FUZZ
@given(config_values)
def test_config_random_structures(section: dict[str, Any]) -> None:
    outcome(config.parse_config, section, Path("."), "fuzz")


@FUZZ
@given(st.binary(max_size=400), st.sampled_from([".leaktrap.toml", "pyproject.toml"]))
def test_config_random_files(tmp_path_factory: pytest.TempPathFactory, raw: bytes, name: str) -> None:
    path = tmp_path_factory.mktemp("cfg") / name
    path.write_bytes(raw)
    outcome(config.load_config, path)


@FUZZ
@given(st.randoms(use_true_random=False), st.integers(1, 8))
def test_config_mutated_files(tmp_path_factory: pytest.TempPathFactory, rnd: random.Random, edits: int) -> None:
    valid = (
        b'[tool.leaktrap]\nrules = ["x.toml"]\ndisable = ["generic-password"]\nexclude = ["tests/**"]\n'
        b'max_file_size = 1000\nmin_entropy = 3.5\nmin_confidence = "low"\nregex_timeout = 2.0\n'
        b'baseline = "b.json"\ndecode_depth = 2\n[tool.leaktrap.base_urls]\ngithub = "https://x"\n'
    )
    path = tmp_path_factory.mktemp("cfg") / "pyproject.toml"
    path.write_bytes(mutate(valid, rnd, edits))
    outcome(config.load_config, path)


# ---------------------------------------------------------------- baseline


def _valid_baseline() -> str:
    salt = "00112233445566778899aabbccddeeff"
    sid = baseline.salt_id(salt)
    entries = [baseline.Entry(f"p{i}.py", "github-pat-classic", f"{i:032x}", sid, "unlabelled", "n") for i in range(3)]
    return baseline.dumps(baseline.make_baseline({sid: salt}, entries))


@FUZZ
@given(st.text(max_size=300))
def test_baseline_random_text(raw: str) -> None:
    outcome(baseline.loads, raw, "fuzz")


@FUZZ
@given(st.randoms(use_true_random=False), st.integers(1, 10))
@example(random.Random(0), 0)
def test_baseline_mutated(rnd: random.Random, edits: int) -> None:
    raw = mutate(_valid_baseline().encode(), rnd, edits).decode("utf-8", "replace")
    result = outcome(baseline.loads, raw, "fuzz")
    if isinstance(result, baseline.Baseline):  # what loads also writes back and reads again
        assert baseline.loads(baseline.dumps(result)) == result


@FUZZ
@given(json_values, st.sampled_from([0, 1, -1, 2, True, "1", None]))
@example({"salt": "0011223344556677", "results": {"a": [{"type": "x", "hashed_secret": "0011223344556677", "is_secret": []}]}}, 0)
@example({"hash": "hmac-sha256", "salts": {"x": "0011223344556677"}, "entries": [{}, 3, "end-of-entries"]}, 1)
def test_baseline_random_documents(data: Any, version: Any) -> None:
    if isinstance(data, dict):
        data = {**data, "version": version}
    outcome(baseline.from_data, data, "fuzz")


def test_baseline_deeply_nested_json() -> None:
    outcome(baseline.loads, "[" * 200_000, "fuzz")
    outcome(baseline.loads, '{"version": 1, "entries": ' + "[" * 200_000, "fuzz")


# ---------------------------------------------------------------- notebooks, text, decoding


def _valid_notebook() -> str:
    return json.dumps(
        {
            "cells": [
                {"cell_type": "code", "source": ["import os\n", 'token = "abc"\n'], "outputs": [
                    {"output_type": "stream", "text": ["out\n"]},
                    {"output_type": "display_data", "data": {"text/plain": ["x"], "image/png": "iVBOR"}},
                ]},
                {"cell_type": "markdown", "source": "# title\nline"},
            ],
            "metadata": {},
            "nbformat": 4,
        },
        indent=1,
    )


def _check_notebook(raw: str) -> None:
    chunks = notebooks.notebook_chunks("fuzz.ipynb", raw)
    if chunks is None:
        return
    lines = raw.count("\n") + 1
    for chunk in chunks:
        assert isinstance(chunk.text, str)
        assert chunk.line_map is not None and all(1 <= n <= lines for n in chunk.line_map)


@FUZZ
@given(any_text)
def test_notebook_random_text(raw: str) -> None:
    _check_notebook(raw)


@FUZZ
@given(json_values)
@example({"cells": [{"source": ["a\n", 3]}, {"outputs": [{"data": {"text/plain": 5}}, 7, {"text": {}}]}]})
@example({"cells": [{"source": "\ud800"}, None, {"outputs": None}]})
def test_notebook_random_documents(data: Any) -> None:
    doc = {"cells": data} if not isinstance(data, dict) else data
    _check_notebook(json.dumps(doc))
    _check_notebook(json.dumps({"cells": [data, {"source": data, "outputs": data}]}))


@FUZZ
@given(st.randoms(use_true_random=False), st.integers(1, 10))
def test_notebook_mutated(rnd: random.Random, edits: int) -> None:
    _check_notebook(mutate(_valid_notebook().encode(), rnd, edits).decode("utf-8", "replace"))


def test_notebook_deeply_nested() -> None:
    _check_notebook('{"cells": ' + "[" * 200_000)


@FUZZ
@given(st.binary(max_size=2000))
@example(b"\xff\xfe\x00")
@example(b"\x00\x00\xfe\xff\x00\x00\x00")
@example(b"\xef\xbb\xbf\xff")
def test_text_decode_random_bytes(raw: bytes) -> None:
    result = text.decode(raw)
    assert result is None or isinstance(result, str)


encoded_like = st.text(alphabet="ABCDEFabcdef0123456789+/=_-% :\n", max_size=600)


@FUZZ
@given(st.one_of(encoded_like, any_text), st.integers(0, 5))
def test_decoder_random_text(raw: str, depth: int) -> None:
    decoder = decoding.Decoder(depth)
    derived = list(decoder.chunks(Chunk(path="f.txt", text="secret: " + raw)))
    assert len(derived) <= decoding.MAX_DERIVED
    for chunk, run in derived:
        assert chunk.decoded and run
        assert (chunk.decoded.count("+") + 1) <= depth


@FEW
@given(st.randoms(use_true_random=False), st.integers(1, 6))
def test_decoder_nested_encodings(rnd: random.Random, layers: int) -> None:
    value = b"token=" + bytes(rnd.choice(b"abcdefghijklmnopqrstuvwxyzABCDEF0123456789") for _ in range(30))
    for _ in range(layers):
        kind = rnd.randrange(3)
        if kind == 0:
            value = base64.b64encode(value)
        elif kind == 1:
            value = value.hex().encode()
        else:
            value = "".join("%%%02X" % b for b in value).encode()
    derived = list(decoding.Decoder(5).chunks(Chunk(path="f", text="password: " + value.decode())))
    assert len(derived) <= decoding.MAX_DERIVED


# ---------------------------------------------------------------- git output parsers


@FUZZ
@given(st.binary(max_size=200), st.text(max_size=20))
@example(b":", "p")
@example(b"::", "p")
@example(b":\xff", "p")
@example(b":100644 100644 abc def M", "p")
def test_git_raw_diff_records(meta: bytes, path: str) -> None:
    result = outcome(gitio._parse_raw, b":" + meta, path)
    if isinstance(result, gitio.Change):
        assert result.path == path


@FUZZ
@given(st.binary(max_size=80), st.binary(max_size=300), st.one_of(st.none(), st.integers(0, 100)))
@example(b"abc blob xyz\n", b"", None)
@example(b"", b"", None)
@example(b"abc blob 5\n", b"12", 3)
def test_git_cat_file_headers(header: bytes, body: bytes, limit: int | None) -> None:
    result = outcome(gitio._read_one, io.BytesIO(body), header, limit)
    if isinstance(result, gitio.Blob):
        assert result.data is None or len(result.data) == result.size


_GIT_READERS = {
    "index_entries": lambda: gitio.index_entries(Path(".")),
    "staged_changes": lambda: gitio.staged_changes(Path("."), "0" * 40),
    "tree_blobs": lambda: gitio.tree_blobs(Path("."), "0" * 40),
    "commit_metadata": lambda: gitio.commit_metadata(Path("."), ["0" * 40]),
    "submodule_paths": lambda: gitio.submodule_paths(Path(".")),
    "ls_files": lambda: gitio.ls_files(Path(".")),
    "tracked_files": lambda: gitio.tracked_files(Path(".")),
    "blobs_in_pack_order": lambda: list(gitio.blobs_in_pack_order(Path("."))),
    "walk_changes": lambda: list(gitio.walk_changes(Path("."), ["--all"])),
}

git_output = st.one_of(
    st.binary(max_size=300),
    st.lists(
        st.sampled_from([
            b"\x01" + b"a" * 40, b"\x01", b"\x01\xff", b":100644 100644 " + b"a" * 40 + b" " + b"b" * 40 + b" M",
            b"::100644 100644 100644", b"path\xffname", b"160000 " + b"c" * 40 + b" 0\tsub", b"100644 blob " + b"d" * 40 + b"\tf",
            b"100644 " + b"e" * 40 + b" x\tf", b"blob " + b"f" * 40 + b" 12", b"blob x y", b"blob", b"", b"\n", b"\t",
        ]),
        max_size=12,
    ).map(lambda parts: b"\0".join(parts)),
)


@FUZZ
@given(st.sampled_from(sorted(_GIT_READERS)), git_output)
def test_git_output_parsers(monkeypatch: pytest.MonkeyPatch, reader: str, output: bytes) -> None:
    """Whatever git prints, each reader returns a result or a GitError."""
    def fake_run(*_args: Any, **_kwargs: Any) -> bytes:
        return output

    def fake_stream(_cwd: Any, _args: Any, *, sep: bytes = b"\0", ok: Any = (0,)) -> Any:
        parts = output.split(sep)
        yield from (parts[:-1] + [parts[-1]] if parts[-1] else parts[:-1])

    with monkeypatch.context() as m:
        m.setattr(gitio, "run_git", fake_run)
        m.setattr(gitio, "_run_ok", fake_run)
        m.setattr(gitio, "stream_records", fake_stream)
        outcome(_GIT_READERS[reader])


# ---------------------------------------------------------------- the JSON report read by verify --report

def _report_entry() -> dict[str, Any]:
    return {
        "rule_id": "github-pat-classic", "provider": "GitHub", "description": "d", "severity": "critical",
        "confidence": "high", "path": "a.py", "line": 1, "column": 5, "end_column": 45, "secret": "ghp_****",
        "fingerprint": "x", "entropy": 4.2, "source": "worktree", "raw_secret": "ghp_" + "a1" * 18,
    }


def _from_report(monkeypatch: pytest.MonkeyPatch, path: Path) -> Any:
    """``verify --report``'s reader, with the scans it may start replaced by empty results."""
    from scanner.providers import sources

    with monkeypatch.context() as m:
        m.setattr(sources, "prepare", lambda _options: None)
        m.setattr(sources, "from_scan", lambda _selection: sources.Loaded((), None))  # type: ignore[arg-type]
        m.chdir(path.parent)
        return outcome(sources.from_report, path, None)


@FUZZ
@given(st.dictionaries(st.sampled_from(sorted(_report_entry())), json_values, max_size=6))
@example({"line": "x"})
@example({"entropy": "high"})
@example({"column": 1e400})
@example({"blob": 5, "source": "nope"})
def test_report_entries(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, changes: dict[str, Any]) -> None:
    from scanner.model import fingerprint

    entry = {**_report_entry(), **changes}
    if isinstance(entry.get("rule_id"), str) and isinstance(entry.get("path"), str) and isinstance(entry.get("raw_secret"), str):
        entry["fingerprint"] = fingerprint(entry["rule_id"], entry["path"], entry["raw_secret"])  # get past the check
    path = tmp_path_factory.mktemp("report") / "report.json"
    path.write_text(json.dumps({"schema": "leaktrap-report", "version": 1, "findings": [entry]}))
    result = _from_report(monkeypatch, path)
    if not isinstance(result, LeaktrapError):
        for finding in result.findings:
            assert finding.secret not in repr(finding)


def _report_documents() -> Any:
    entry = st.one_of(json_values, st.just(_report_entry()))
    return st.fixed_dictionaries(
        {"schema": st.just("leaktrap-report"), "version": st.sampled_from([1, 1, 2, "1", None])},
        optional={
            "findings": st.one_of(json_values, st.lists(entry, max_size=3)),
            "summary": st.one_of(json_values, st.fixed_dictionaries({}, optional={"target": json_values, "mode": json_values})),
        },
    ).map(lambda d: json.dumps(d).encode())


@FUZZ
@given(st.one_of(st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode()), _report_documents()))
@example(b'{"schema": "leaktrap-report", "version": 1, "findings": 5}')
@example(b'{"schema": "leaktrap-report", "version": 1, "findings": [5, {"raw_secret": 3}], "summary": {"target": 7}}')
def test_report_reader(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("report") / "report.json"
    path.write_bytes(raw)
    _from_report(monkeypatch, path)


@FUZZ
@given(st.one_of(st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode())))
def test_report_reader_header(tmp_path_factory: pytest.TempPathFactory, raw: bytes) -> None:
    """The first check (is it a leaktrap report at all) already holds."""
    from scanner.providers import sources

    path = tmp_path_factory.mktemp("report") / "report.json"
    path.write_bytes(raw)
    outcome(sources._read_report, path)


# ---------------------------------------------------------------- the engine


@pytest.fixture(scope="module")
def builtin_ruleset() -> RuleSet:
    loaded, _verify, _revoke = rules.load_rules()
    return RuleSet(loaded, rules.cache_dir())


@pytest.fixture(scope="module")
def keywords() -> list[str]:
    loaded, _verify, _revoke = rules.load_rules()
    return sorted({k for r in loaded for k in r.keywords})


def _engine_text(draw: Any, keywords: list[str]) -> str:
    parts = draw(
        st.lists(
            st.one_of(
                st.sampled_from(keywords),
                st.sampled_from(['="', "=", ": ", "\n", "\r\n", " ", "'", "\t", "://", "@", "\x00", "\x1b[2J", "\u202e"]),
                st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),
                st.text(alphabet="abcdefABCDEF0123456789+/_-", min_size=8, max_size=60),
            ),
            max_size=40,
        )
    )
    text = "".join(parts)
    if draw(st.booleans()):  # a long line: repeat the sample on one line
        text = text.replace("\n", " ") * draw(st.integers(1, 3000))
    return text


@FUZZ
@given(st.data())
def test_engine_random_text(builtin_ruleset: RuleSet, keywords: list[str], data: st.DataObject) -> None:
    text = _engine_text(data.draw, keywords)
    path = data.draw(st.sampled_from(["a.py", ".env", "tests/fixtures/x.json", "package-lock.json", "caf\udce9.txt", "x.ipynb"]))
    kind = data.draw(st.sampled_from(list(OriginKind)))
    settings_ = EngineSettings(regex_timeout=1.0, min_confidence=data.draw(st.sampled_from(list(CONFIDENCES))))
    result = scan_chunk(Chunk(path=path, text=text, origin=Origin(kind)), builtin_ruleset, settings_)
    for finding in result.findings:
        assert finding.secret and finding.secret in text
        assert finding.secret not in repr(finding) or finding.secret in finding.redacted + finding.path
        assert 1 <= finding.line <= text.count("\n") + 1


@FEW
@given(st.text(max_size=200))
def test_engine_unicode_lines(builtin_ruleset: RuleSet, raw: str) -> None:
    token = "ghp_" + "Ab1" * 12
    for body in (raw + token, token + raw, raw.replace("\n", "") + " " + token + "\n" + raw):
        result = scan_chunk(Chunk(path="u.txt", text=body), builtin_ruleset, EngineSettings(regex_timeout=1.0))
        found = [f for f in result.findings if f.rule_id == "github-pat-classic"]
        assert all(body[sum(len(l) + 1 for l in body.split("\n")[: f.line - 1]) + f.column - 1:].startswith(f.secret)
                   for f in found)
