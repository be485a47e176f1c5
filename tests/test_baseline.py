"""The baseline: format, round trip, what counts as new, labels, safety of every write."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from conftest import Repo, run_cli, token

from scanner import baseline as bl
from scanner.errors import BaselineError
from scanner.model import Finding


def secret(seed: int) -> str:
    return token("ghp_{alnum:36}", seed=f"baseline:{seed}")


def finding(path: str, raw: str, rule_id: str = "github-pat-classic") -> Finding:
    return Finding(
        rule_id=rule_id, provider="GitHub", description="d", severity="high", confidence="high", path=path,
        line=1, column=1, end_column=1, redacted="ghp_****", fingerprint="0" * 32, entropy=4.0, secret=raw,
    )


def scan_json(repo: Repo, *args: str) -> tuple[int, dict]:
    res = run_cli("scan", "--format", "json", *args, cwd=repo.path)
    assert res.code in (0, 1), res.err
    return res.code, json.loads(res.out)


# --- format -------------------------------------------------------------------------


def test_round_trip_is_byte_stable_and_sorted() -> None:
    made = bl.update_baseline(bl.new_baseline(), [finding("b.py", secret(1)), finding("a.py", secret(2))]).baseline
    first = made.entries[0]
    labelled = bl.set_label(made, first.key, bl.FALSE_POSITIVE, "fixture, see tests/README\nsecond line")
    text = bl.dumps(labelled)
    again = bl.loads(text)
    assert again == labelled
    assert bl.dumps(again) == text
    assert [e.path for e in again.entries] == ["a.py", "b.py"]
    lines = text.splitlines()
    entry_lines = [line for line in lines if line.strip().startswith('{"path"')]
    assert len(entry_lines) == 2 and all(line.endswith(",") for line in entry_lines)
    assert lines[-3].strip() == '"end-of-entries"'
    assert list(json.loads(entry_lines[0].rstrip(","))) == ["path", "rule_id", "fingerprint", "salt", "label", "note"]


def test_entries_hold_no_secret_no_line_and_no_time() -> None:
    raw = secret(3)
    text = bl.dumps(bl.update_baseline(bl.new_baseline(), [finding("a.py", raw)]).baseline)
    assert raw not in text
    data = json.loads(text)
    assert set(data) == {"version", "hash", "salts", "entries"}
    assert set(data["entries"][0]) == {"path", "rule_id", "fingerprint", "salt", "label"}


def test_fingerprint_is_keyed_by_the_salt() -> None:
    raw = secret(4)
    one = bl.keyed_fingerprint("00" * 16, "r", "a.py", raw)
    two = bl.keyed_fingerprint("11" * 16, "r", "a.py", raw)
    assert one != two and len(one) == 32
    assert bl.keyed_fingerprint("00" * 16, "r", "b.py", raw) != one  # another file is another finding


def test_identity_ignores_line_but_not_path() -> None:
    raw = secret(5)
    made = bl.update_baseline(bl.new_baseline(), [finding("a.py", raw)]).baseline
    matcher = bl.Matcher(made)
    assert matcher.entries_for(finding("a.py", raw))
    assert not matcher.entries_for(finding("moved/a.py", raw))
    assert not matcher.entries_for(finding("a.py", secret(6)))


def test_version_0_is_upgraded(tmp_path: Path) -> None:
    salt = "ab" * 16
    raw_fp, raw_ok = secret(7), secret(8)
    legacy = {
        "version": 0,
        "generated_at": "2024-05-01T10:00:00Z",
        "salt": salt,
        "results": {
            "app.py": [
                {"type": "github-pat-classic", "hashed_secret": bl.keyed_fingerprint(salt, "github-pat-classic", "app.py", raw_fp, 64),
                 "line_number": 3, "is_secret": False, "note": "a fixture"},
                {"type": "github-pat-classic", "hashed_secret": bl.keyed_fingerprint(salt, "github-pat-classic", "app.py", raw_ok, 64),
                 "line_number": 9, "is_secret": True},
            ]
        },
    }
    upgraded = bl.upgrade(json.loads(json.dumps(legacy)), "old.json")
    assert upgraded["version"] == bl.FORMAT_VERSION
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(legacy))
    loaded = bl.load(path)
    labels = {e.label for e in loaded.entries}
    assert labels == {bl.FALSE_POSITIVE, bl.TRUE_POSITIVE}
    assert [e.note for e in loaded.entries if e.label == bl.FALSE_POSITIVE] == ["a fixture"]
    kept, suppressed = bl.apply_baseline(path, [finding("app.py", raw_fp), finding("app.py", raw_ok), finding("app.py", secret(9))])
    assert suppressed == 2 and [f.secret for f in kept] == [secret(9)]


def test_update_rekeys_to_one_salt_and_keeps_labels() -> None:
    raw_a, raw_b = secret(10), secret(11)
    one = bl.update_baseline(bl.new_baseline(), [finding("a.py", raw_a)]).baseline
    two = bl.update_baseline(bl.new_baseline(), [finding("b.py", raw_b)]).baseline
    two = bl.set_label(two, two.entries[0].key, bl.FALSE_POSITIVE, "docs")
    merged = bl.merge_baselines(bl.Baseline((), ()), one, two)
    assert merged.conflicts == () and len(merged.baseline.salts) == 2
    result = bl.update_baseline(merged.baseline, [finding("a.py", raw_a), finding("b.py", raw_b)])
    assert (result.added, result.removed, result.kept) == (0, 0, 2)
    assert len(result.baseline.salts) == 1
    assert {(e.path, e.label, e.note) for e in result.baseline.entries} == {
        ("a.py", bl.UNLABELLED, ""), ("b.py", bl.FALSE_POSITIVE, "docs")}


def test_three_way_merge_of_labels_and_deletions() -> None:
    raw = [secret(n) for n in range(20, 24)]
    base = bl.update_baseline(bl.new_baseline(), [finding(f"f{n}.py", r) for n, r in enumerate(raw[:3])]).baseline
    e0, e1, e2 = base.entries
    ours = bl.set_label(base, e0.key, bl.TRUE_POSITIVE, "rotated")  # ours labels e0
    ours = bl.make_baseline(ours.salt_map(), [e for e in ours.entries if e.key != e1.key])  # ours drops e1
    theirs = bl.update_baseline(base, [finding(f"f{n}.py", r) for n, r in enumerate(raw)]).baseline  # theirs adds f3
    theirs = bl.set_label(theirs, e2.key, bl.FALSE_POSITIVE, None)
    result = bl.merge_baselines(base, ours, theirs)
    assert result.conflicts == ()
    got = {e.path: e.label for e in result.baseline.entries}
    assert got == {"f0.py": bl.TRUE_POSITIVE, "f2.py": bl.FALSE_POSITIVE, "f3.py": bl.UNLABELLED}
    clash = bl.set_label(theirs, e0.key, bl.FALSE_POSITIVE, None)
    conflicted = bl.merge_baselines(base, ours, clash)
    assert len(conflicted.conflicts) == 1 and e0.fingerprint in conflicted.conflicts[0]
    assert {e.path: e.label for e in conflicted.baseline.entries}["f0.py"] == bl.TRUE_POSITIVE


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ('{\n  "version": 1,\n  "hash": "hmac-sha256",\n  "salts": {', "not valid JSON"),
        ("[1, 2]", "not a leaktrap baseline"),
        ('{"version": "1.4.0", "results": {}}', "no integer 'version'"),
        ('{"version": 2, "entries": []}', "newer leaktrap"),
        ("<<<<<<< HEAD\n{}\n=======\n{}\n>>>>>>> other\n", "conflict markers"),
    ],
)
def test_bad_files_are_clear_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(content)
    with pytest.raises(BaselineError, match=message):
        bl.load(path)


def test_tampered_entries_are_rejected() -> None:
    good = json.loads(bl.dumps(bl.update_baseline(bl.new_baseline(), [finding("a.py", secret(30))]).baseline))
    for mutate in (
        lambda d: d["entries"][0].update(label="maybe"),
        lambda d: d["entries"][0].update(salt="000000000000"),
        lambda d: d["entries"][0].update(fingerprint="xyz"),
        lambda d: d["entries"][0].update(line=3),
        lambda d: d.update(salts={"000000000000": "ab" * 16}),
    ):
        data = json.loads(json.dumps(good))
        mutate(data)
        with pytest.raises(BaselineError):
            bl.loads(json.dumps(data))


# --- through the command line -----------------------------------------------------


def write_secret(repo: Repo, rel: str, raw: str, name: str = "TOKEN", before: str = "") -> None:
    repo.write(rel, f'{before}{name} = "{raw}"\n')


def test_create_then_scan_is_clean_and_says_so(repo: Repo) -> None:
    write_secret(repo, "app.py", secret(40))
    res = run_cli("baseline", "create", cwd=repo.path)
    assert res.code == 0, res.err
    assert (repo.path / "baseline.json").is_file()
    scanned = run_cli("scan", cwd=repo.path)
    assert scanned.code == 0, scanned.out
    assert "1 suppressed by baseline" in scanned.out
    again = run_cli("baseline", "create", cwd=repo.path)
    assert again.code == 2 and "--force" in again.err


def test_moved_line_renamed_variable_and_reformatting_stay_suppressed(repo: Repo) -> None:
    raw = secret(41)
    write_secret(repo, "app.py", raw)
    assert run_cli("baseline", "create", cwd=repo.path).code == 0
    repo.write("app.py", f"import os\n\n\nclass Settings:\n    api_token: str = '{raw}'  # reformatted\n")
    code, doc = scan_json(repo)
    assert code == 0 and doc["findings"] == [] and doc["summary"]["suppressed_by_baseline"] == 1


def test_new_secret_fails_and_moving_to_another_file_is_new(repo: Repo) -> None:
    raw_old, raw_new = secret(42), secret(43)
    write_secret(repo, "app.py", raw_old)
    assert run_cli("baseline", "create", cwd=repo.path).code == 0
    write_secret(repo, "app.py", raw_new, before=f'TOKEN = "{raw_old}"\n')
    code, doc = scan_json(repo)
    assert code == 1 and len(doc["findings"]) == 1 and doc["summary"]["suppressed_by_baseline"] == 1
    (repo.path / "app.py").unlink()
    write_secret(repo, "settings.py", raw_old)
    code, doc = scan_json(repo)
    assert code == 1 and [f["path"] for f in doc["findings"]] == ["settings.py"]


def test_labels_survive_update(repo: Repo) -> None:
    raw_keep, raw_gone, raw_new = secret(44), secret(45), secret(46)
    write_secret(repo, "keep.py", raw_keep)
    write_secret(repo, "gone.py", raw_gone)
    assert run_cli("baseline", "create", cwd=repo.path).code == 0
    keep = next(e for e in bl.load(repo.path / "baseline.json").entries if e.path == "keep.py")
    res = run_cli("baseline", "audit", "--label", f"{keep.fingerprint[:10]}=false-positive", "--note", "test fixture", cwd=repo.path)
    assert res.code == 0, res.err
    (repo.path / "gone.py").unlink()
    write_secret(repo, "new.py", raw_new)
    res = run_cli("baseline", "update", cwd=repo.path)
    assert res.code == 0, res.err
    assert "1 added, 1 removed, 1 kept" in res.out
    entries = {e.path: e for e in bl.load(repo.path / "baseline.json").entries}
    assert set(entries) == {"keep.py", "new.py"}
    assert (entries["keep.py"].label, entries["keep.py"].note) == (bl.FALSE_POSITIVE, "test fixture")
    assert entries["new.py"].label == bl.UNLABELLED
    again = run_cli("baseline", "update", cwd=repo.path)
    assert "(unchanged)" in again.out


def test_label_by_the_scan_reports_fingerprint(repo: Repo) -> None:
    write_secret(repo, "app.py", secret(47))
    assert run_cli("baseline", "create", cwd=repo.path).code == 0
    _code, doc = scan_json(repo, "--no-baseline")
    report_fp = doc["findings"][0]["fingerprint"]
    res = run_cli("baseline", "audit", "--label", f"{report_fp}=tp", cwd=repo.path)
    assert res.code == 0, res.err
    assert bl.load(repo.path / "baseline.json").entries[0].label == bl.TRUE_POSITIVE
    bad = run_cli("baseline", "audit", "--label", "abcdef123456=fp", cwd=repo.path)
    assert bad.code == 2 and "matches no baseline entry" in bad.err
    assert run_cli("baseline", "audit", "--label", "nonsense", cwd=repo.path).code == 2


def test_show_counts_by_rule_and_label(repo: Repo) -> None:
    write_secret(repo, "a.py", secret(48))
    write_secret(repo, "b.py", secret(49))
    assert run_cli("baseline", "create", cwd=repo.path).code == 0
    fp = bl.load(repo.path / "baseline.json").entries[0].fingerprint
    assert run_cli("baseline", "audit", "--label", f"{fp}=false-positive", cwd=repo.path).code == 0
    res = run_cli("baseline", "show", "--json", cwd=repo.path)
    assert res.code == 0, res.err
    data = json.loads(res.out)
    assert data["rules"] == {"github-pat-classic": {"unlabelled": 1, "true-positive": 0, "false-positive": 1}}
    text = run_cli("baseline", "show", "--entries", cwd=repo.path)
    assert "github-pat-classic" in text.out and fp in text.out


def test_the_raw_secret_is_in_no_byte_we_write_or_print(repo: Repo) -> None:
    raws = [secret(50), secret(51)]
    write_secret(repo, "a.py", raws[0])
    write_secret(repo, "b.py", raws[1])
    outputs = [run_cli("baseline", "create", "-o", "bl.json", cwd=repo.path)]
    fp = bl.load(repo.path / "bl.json").entries[0].fingerprint
    outputs.append(run_cli("baseline", "audit", "--baseline", "bl.json", "--label", f"{fp}=fp", "--note", "n", cwd=repo.path))
    outputs.append(run_cli("baseline", "update", "--baseline", "bl.json", cwd=repo.path))
    outputs.append(run_cli("baseline", "show", "--entries", "--baseline", "bl.json", cwd=repo.path))
    data = (repo.path / "bl.json").read_bytes()
    for raw in raws:
        assert raw.encode() not in data
        assert raw[4:].encode() not in data and raw[-12:].encode() not in data
        for res in outputs:
            assert res.code == 0, res.err
            assert raw not in res.out and raw not in res.err


BAD_FILES = {
    "truncated": None,  # filled from a real file in the test
    "garbage": "not json at all\n",
    "future": '{"version": 7, "hash": "hmac-sha512", "salts": {}, "entries": []}\n',
    "empty": "",
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_baselines_exit_2_and_are_left_byte_identical(repo: Repo, kind: str) -> None:
    write_secret(repo, "a.py", secret(52))
    target = repo.path / "baseline.json"
    assert run_cli("baseline", "create", cwd=repo.path).code == 0
    content = BAD_FILES[kind]
    payload = target.read_bytes()[:70] if content is None else content.encode()
    target.write_bytes(payload)
    fp = "0123456789abcdef"
    commands = [
        ("scan",),
        ("baseline", "create", "--force"),
        ("baseline", "update"),
        ("baseline", "audit", "--label", f"{fp}=fp"),
        ("baseline", "show"),
    ]
    if importlib.util.find_spec("scanner.sources.staged") is not None:
        commands.append(("scan", "--staged"))
    for args in commands:
        res = run_cli(*args, cwd=repo.path)
        assert res.code == 2, (args, res.out, res.err)
        assert "baseline" in res.err
        assert target.read_bytes() == payload, args


def test_explicit_missing_baseline_is_an_error(repo: Repo) -> None:
    write_secret(repo, "a.py", secret(53))
    res = run_cli("scan", "--baseline", "nope.json", cwd=repo.path)
    assert res.code == 2 and "no such baseline file" in res.err


def test_scan_never_writes_the_baseline(repo: Repo) -> None:
    write_secret(repo, "a.py", secret(54))
    assert run_cli("baseline", "create", cwd=repo.path).code == 0
    target = repo.path / "baseline.json"
    before = (target.read_bytes(), target.stat().st_mtime_ns)
    write_secret(repo, "b.py", secret(55))
    assert run_cli("scan", cwd=repo.path).code == 1
    assert (target.read_bytes(), target.stat().st_mtime_ns) == before


def test_a_version_0_file_is_upgraded_by_update(repo: Repo) -> None:
    raw = secret(56)
    write_secret(repo, "app.py", raw)
    salt = "cd" * 16
    legacy = {"version": 0, "generated_at": "2024-01-01T00:00:00Z", "salt": salt, "results": {"app.py": [
        {"type": "github-pat-classic", "hashed_secret": bl.keyed_fingerprint(salt, "github-pat-classic", "app.py", raw, 64),
         "line_number": 1, "is_secret": False}]}}
    (repo.path / "baseline.json").write_text(json.dumps(legacy))
    # the legacy layout's "hashed_secret" keys look like assignments to the generic rules
    assert run_cli("scan", "--exclude", "baseline.json", cwd=repo.path).code == 0
    res = run_cli("baseline", "update", cwd=repo.path)
    assert res.code == 0, res.err
    data = json.loads((repo.path / "baseline.json").read_text())
    assert data["version"] == 1 and data["entries"][0]["label"] == "false-positive"


def test_history_findings_can_be_baselined(repo: Repo) -> None:
    pytest.importorskip("scanner.sources.history")
    raw = secret(57)
    repo.commit("add", **{"old.py": f'TOKEN = "{raw}"\n'})
    repo.commit("remove", **{"old.py": "TOKEN = None\n"})
    assert run_cli("scan", "--history", "--no-baseline", cwd=repo.path).code == 1
    res = run_cli("baseline", "create", "--history", cwd=repo.path)
    assert res.code == 0, res.err
    assert run_cli("scan", "--history", cwd=repo.path).code == 0


def test_staged_scan_uses_the_baseline_at_the_root(repo: Repo) -> None:
    raw_old, raw_new = secret(58), secret(59)
    write_secret(repo, "app.py", raw_old)
    assert run_cli("baseline", "create", cwd=repo.path).code == 0
    repo.git("add", "app.py", "baseline.json")
    res = run_cli("scan", "--staged", cwd=repo.path)
    assert res.code == 0, res.out + res.err
    assert "1 suppressed by baseline" in res.out
    write_secret(repo, "other.py", raw_new)
    repo.git("add", "other.py")
    assert run_cli("scan", "--staged", cwd=repo.path).code == 1
