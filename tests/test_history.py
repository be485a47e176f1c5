"""`leaktrap scan --history / --range / --since / --branch` on real repositories."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from conftest import AUTHOR, Repo, git, run_cli, token
from scanner.progress import Progress

GH = "ghp_{alnum:36}"
GL = "glpat-{alnum:20}"
D1 = "2021-03-04T05:06:07+00:00"
D2 = "2021-03-05T05:06:07+00:00"
D3 = "2021-03-06T05:06:07+00:00"
D4 = "2021-03-07T05:06:07+00:00"


@pytest.fixture(autouse=True, params=["memory", "disk"])
def walk_store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with the walk's tables in memory and on disk (SQLite): same results."""
    monkeypatch.setenv("LEAKTRAP_HISTORY_MEMORY_OBJECTS", "0" if request.param == "disk" else "1000000000")
    return str(request.param)


def history(where: Path, *args: str) -> tuple[int, dict, str]:
    res = run_cli("scan", "--history", "--format", "json", "--no-baseline", *args, cwd=where)
    assert res.code in (0, 1), res.err
    assert "Traceback" not in res.err
    return res.code, json.loads(res.out), res.out + res.err


def scan(where: Path, *args: str) -> tuple[int, dict, str]:
    res = run_cli("scan", "--format", "json", "--no-baseline", *args, cwd=where)
    assert res.code in (0, 1), res.err
    return res.code, json.loads(res.out), res.out + res.err


def summary(doc: dict) -> list[tuple[str, int, str, int, bool]]:
    """(path, line, commit summary, occurrences, at_head) per finding."""
    return [(f["path"], f["line"], f["commit"]["summary"], f["occurrences"], f["at_head"]) for f in doc["findings"]]


def never_printed(secrets: list[str], text: str) -> None:
    for secret in secrets:
        assert secret not in text


def test_added_then_deleted_is_reported_once_with_its_first_commit(repo: Repo) -> None:
    secret = token(GH, 1)
    repo.commit("base", D1, **{"app.py": "x = 1\n"})
    first = repo.commit("add token\n\nlonger body", D2, **{"app.py": f'x = 1\nTOKEN = "{secret}"\n'})
    repo.commit("remove token", D3, **{"app.py": "x = 1\n"})
    code, doc, text = history(repo.path)
    assert code == 1
    assert len(doc["findings"]) == 1
    f = doc["findings"][0]
    assert (f["path"], f["line"], f["column"], f["rule_id"]) == ("app.py", 2, 10, "github-pat-classic")
    assert f["commit"] == {
        "sha": first,
        "author_name": AUTHOR["GIT_AUTHOR_NAME"],
        "author_email": AUTHOR["GIT_AUTHOR_EMAIL"],
        "date": D2,
        "summary": "add token",
    }
    assert f["occurrences"] == 1
    assert f["at_head"] is False
    assert f["source"] == "history"
    assert doc["summary"]["mode"] == "history"
    never_printed([secret], text)


def test_same_secret_in_many_versions_of_a_file_is_one_finding(repo: Repo) -> None:
    secret = token(GH, 2)
    sha = repo.commit("add", D1, **{"cfg.py": f'T = "{secret}"\n'})
    for n in range(5):
        repo.commit(f"edit {n}", **{"cfg.py": f"# v{n}\n" + f'T = "{secret}"\n'})
    code, doc, _text = history(repo.path)
    assert code == 1
    assert summary(doc) == [("cfg.py", 1, "add", 6, True)]
    assert doc["findings"][0]["commit"]["sha"] == sha


def test_author_and_date_fields_are_exact(repo: Repo) -> None:
    env = {"GIT_AUTHOR_NAME": "Zoë Ünïcode", "GIT_AUTHOR_EMAIL": "zoe@example.test"}
    repo.write("k.txt", f"{token(GL, 3)}\n")
    repo.git("add", "k.txt")
    repo.git("commit", "-q", "-m", "Ajoute la clé", env={**env, "GIT_AUTHOR_DATE": "2020-02-29T23:59:58+05:30"})
    code, doc, _ = history(repo.path)
    commit = doc["findings"][0]["commit"]
    assert (commit["author_name"], commit["author_email"]) == ("Zoë Ünïcode", "zoe@example.test")
    assert commit["date"] == "2020-02-29T23:59:58+05:30"
    assert commit["summary"] == "Ajoute la clé"


def test_a_secret_on_a_side_branch_only(repo: Repo) -> None:
    secret = token(GH, 4)
    repo.commit("base", D1, **{"a.txt": "a\n"})
    repo.git("checkout", "-q", "-b", "feature")
    side = repo.commit("wip on feature", D2, **{"notes.md": f"use {secret}\n"})
    repo.git("checkout", "-q", "main")
    code, doc, _ = history(repo.path)
    assert code == 1
    assert summary(doc) == [("notes.md", 1, "wip on feature", 1, False)]
    assert doc["findings"][0]["commit"]["sha"] == side
    # --branch main does not see it; --branch feature does
    code, doc, _ = scan(repo.path, "--branch", "main")
    assert code == 0 and doc["findings"] == []
    code, doc, _ = scan(repo.path, "--branch", "feature")
    assert summary(doc) == [("notes.md", 1, "wip on feature", 1, False)]


def test_a_secret_added_by_a_merge_commit(repo: Repo) -> None:
    secret = token(GH, 5)
    repo.commit("base", D1, **{"f.txt": "one\n"})
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("side edit", D2, **{"f.txt": "side\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main edit", D3, **{"f.txt": "main\n"})
    repo.git("merge", "-q", "side", check=False)  # conflicts
    repo.write("f.txt", f"resolved\n{secret}\n")
    repo.git("add", "f.txt")
    repo.git("commit", "-q", "--no-edit", env={"GIT_AUTHOR_DATE": D4, "GIT_COMMITTER_DATE": D4})
    merge = repo.git("rev-parse", "HEAD").strip()
    code, doc, _ = history(repo.path)
    assert code == 1
    assert [f["commit"]["sha"] for f in doc["findings"]] == [merge]
    assert summary(doc) == [("f.txt", 2, "Merge branch 'side'", 1, True)]


def test_a_secret_merged_from_a_branch_is_blamed_on_the_branch_commit(repo: Repo) -> None:
    secret = token(GH, 6)
    repo.commit("base", D1, **{"a.txt": "a\n"})
    repo.git("checkout", "-q", "-b", "topic")
    topic = repo.commit("topic adds key", D2, **{"b.txt": f"{secret}\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main work", D3, **{"a.txt": "b\n"})
    repo.git("merge", "-q", "--no-edit", "topic", env={"GIT_AUTHOR_DATE": D4, "GIT_COMMITTER_DATE": D4})
    code, doc, _ = history(repo.path)
    assert [f["commit"]["sha"] for f in doc["findings"]] == [topic]


def test_rename_keeps_attribution(repo: Repo) -> None:
    secret = token(GH, 7)
    first = repo.commit("add", D1, **{"old/name.py": f'\nK = "{secret}"\n'})
    repo.git("mv", "old/name.py", "new.py")
    repo.commit("rename", D2)
    # renamed again with an edit in the same commit: still the same finding
    repo.git("mv", "new.py", "newer.py")
    repo.write("newer.py", f'# moved\n\nK = "{secret}"\n')
    repo.commit("rename and edit", D3)
    code, doc, _ = history(repo.path)
    assert code == 1
    assert summary(doc) == [("old/name.py", 2, "add", 2, True)]
    assert doc["findings"][0]["commit"]["sha"] == first


def test_range_reports_only_what_the_range_introduced(repo: Repo) -> None:
    old, new = token(GH, 8), token(GH, 9)
    repo.commit("base", D1, **{"settings.py": f'OLD = "{old}"\n', "other.py": "o = 1\n"})
    repo.git("checkout", "-q", "-b", "pr")
    # the PR edits the file that holds the old secret: a new blob, but not a new secret
    repo.commit("pr: edit settings", D2, **{"settings.py": f'# tweak\nOLD = "{old}"\nDEBUG = True\n'})
    code, doc, text = scan(repo.path, "--range", "main..pr")
    assert code == 0 and doc["findings"] == [], doc["findings"]
    # ... and moves it to another file: still not new
    repo.commit("pr: move", D3, **{"settings.py": "DEBUG = True\n", "conf/keys.py": f'OLD = "{old}"\n'})
    code, doc, _ = scan(repo.path, "--range", "main..pr")
    assert code == 0 and doc["findings"] == []
    pr = repo.commit("pr: add new secret", D4, **{"other.py": f'o = 1\nNEW = "{new}"\n'})
    code, doc, text = scan(repo.path, "--range", "main..pr")
    assert code == 1
    assert [(f["path"], f["line"], f["commit"]["sha"], f["at_head"]) for f in doc["findings"]] == [("other.py", 2, pr, True)]
    never_printed([old, new], text)
    # the whole history sees both, the old one at its first commit
    code, doc, _ = history(repo.path)
    assert sorted((f["path"], f["commit"]["summary"]) for f in doc["findings"]) == [
        ("other.py", "pr: add new secret"),
        ("settings.py", "base"),
    ]


def test_range_with_a_merge_of_the_base_branch(repo: Repo) -> None:
    """A PR that merges main back in is not blamed for main's secrets."""
    main_secret, pr_secret = token(GH, 10), token(GH, 11)
    repo.commit("base", D1, **{"a.txt": "a\n"})
    repo.git("checkout", "-q", "-b", "pr")
    repo.commit("pr work", D2, **{"b.txt": f"{pr_secret}\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main adds", D3, **{"c.txt": f"{main_secret}\n"})
    repo.git("checkout", "-q", "pr")
    repo.git("merge", "-q", "--no-edit", "main", env={"GIT_AUTHOR_DATE": D4, "GIT_COMMITTER_DATE": D4})
    code, doc, _ = scan(repo.path, "--range", "main..pr")
    assert [(f["path"], f["commit"]["summary"]) for f in doc["findings"]] == [("b.txt", "pr work")]


def test_since_limits_to_recent_commits_without_blaming_old_secrets(repo: Repo) -> None:
    old, new = token(GH, 12), token(GH, 13)
    repo.commit("old", "2019-01-01T00:00:00+00:00", **{"a.py": f'A = "{old}"\n'})
    repo.commit("touch old file", "2022-01-01T00:00:00+00:00", **{"a.py": f'A = "{old}"\nB = 2\n'})
    repo.commit("new", "2022-02-01T00:00:00+00:00", **{"b.py": f'B = "{new}"\n'})
    code, doc, _ = scan(repo.path, "--since", "2021-06-01")
    assert summary(doc) == [("b.py", 1, "new", 1, True)]


def test_output_is_identical_between_two_runs(repo: Repo) -> None:
    for n in range(4):
        repo.commit(f"c{n}", **{f"f{n}.txt": f"{token(GH, 20 + n)}\n", "shared.txt": f"{n}\n{token(GL, 30)}\n"})
    outputs = []
    for _ in range(2):
        res = run_cli("scan", "--history", "--format", "json", "--no-baseline", cwd=repo.path)
        doc = json.loads(res.out)
        doc["summary"].pop("duration_seconds")
        outputs.append(json.dumps(doc, sort_keys=True))
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["summary"]["findings"] == 5


def test_parallel_and_serial_scans_agree(repo: Repo) -> None:
    for n in range(6):
        repo.commit(f"c{n}", **{f"d{n}/f.txt": f"x\n{token(GH, 40 + n)}\n", "log.txt": "line\n" * (n + 1)})
    one = json.loads(run_cli("scan", "--history", "--format", "json", "--no-baseline", "-j", "1", cwd=repo.path).out)
    two = json.loads(run_cli("scan", "--history", "--format", "json", "--no-baseline", "-j", "3", cwd=repo.path).out)
    assert one["findings"] == two["findings"] and len(one["findings"]) == 6
    assert one["summary"]["files_scanned"] == two["summary"]["files_scanned"]


def test_bare_repository(repo: Repo, tmp_path: Path) -> None:
    secret = token(GH, 50)
    sha = repo.commit("add", D1, **{"k.txt": f"{secret}\n"})
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo.path), str(bare))
    code, doc, text = history(tmp_path, str(bare))
    assert code == 1
    assert [(f["path"], f["commit"]["sha"], f["at_head"]) for f in doc["findings"]] == [("k.txt", sha, True)]
    never_printed([secret], text)


def test_worktree_and_detached_head(repo: Repo, tmp_path: Path) -> None:
    secret = token(GH, 51)
    repo.commit("base", D1, **{"a.txt": "a\n"})
    sha = repo.commit("add", D2, **{"k.txt": f"{secret}\n"})
    repo.git("checkout", "-q", "--detach", "HEAD")
    repo.commit("detached only", D3, **{"d.txt": f"{token(GH, 52)}\n"})
    repo.git("worktree", "add", "-q", str(tmp_path / "wt"), "main")
    code, doc, _ = history(repo.path)
    assert {f["commit"]["summary"] for f in doc["findings"]} == {"add", "detached only"}
    code, doc, _ = history(tmp_path / "wt")
    assert sha in {f["commit"]["sha"] for f in doc["findings"]}


def test_empty_repository_is_clean_with_a_warning(repo: Repo) -> None:
    code, doc, _ = history(repo.path)
    assert code == 0
    assert doc["findings"] == []
    assert any("no commits" in w for w in doc["warnings"])


def test_shallow_clone_scans_what_is_there_and_warns(repo: Repo, tmp_path: Path) -> None:
    old, new = token(GH, 53), token(GH, 54)
    repo.commit("old", D1, **{"a.txt": f"{old}\n"})
    repo.commit("middle", D2, **{"b.txt": "b\n"})
    repo.commit("new", D3, **{"c.txt": f"{new}\n"})
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone))
    code, doc, _ = history(clone)
    assert code == 1
    assert any("shallow" in w for w in doc["warnings"])
    assert sorted((f["path"], f["commit"]["summary"]) for f in doc["findings"]) == [("a.txt", "new"), ("c.txt", "new")]


def test_binary_blobs_and_submodules_are_skipped(repo: Repo, tmp_path: Path) -> None:
    sub = Repo(tmp_path / "sub")
    sub.path.mkdir()
    sub.git("init", "-q")
    sub.commit("s", **{"f": "x\n"})
    repo.write("img.bin", b"\x89PNG\0\0" + token(GH, 55).encode())
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub.path), "vendor/sub")
    repo.commit("add binary and submodule", D1)
    code, doc, _ = history(repo.path)
    assert code == 0
    reasons = {(s["path"], s["reason"].split(" ")[0]) for s in doc["skipped"]}
    assert {("img.bin", "binary"), ("vendor/sub", "submodule")} <= reasons


def test_stash_is_scanned_only_on_request(repo: Repo) -> None:
    repo.commit("base", D1, **{"a.txt": "a\n"})
    repo.write("a.txt", f"{token(GH, 56)}\n")
    repo.git("stash", "-q")
    code, doc, _ = history(repo.path)
    assert code == 0
    code, doc, _ = history(repo.path, "--stash")
    assert code == 1
    assert [f["path"] for f in doc["findings"]] == ["a.txt"]


def test_path_argument_limits_the_history_walk(repo: Repo) -> None:
    secret = token(GH, 57)
    repo.commit("c", D1, **{"src/a.txt": f"{secret}\n", "docs/b.txt": f"{token(GH, 58)}\n"})
    repo.commit("docs only", D2, **{"docs/c.txt": "c\n"})
    repo.commit("edit src", D3, **{"src/a.txt": f"x\n{secret}\n"})
    code, doc, _ = scan(repo.path, "--history", "src")
    assert summary(doc) == [("src/a.txt", 1, "c", 2, True)]


@pytest.mark.parametrize(
    "args, message",
    [
        (("--branch", "no-such-branch"), "unknown revision"),
        (("--range", "main..nope"), "unknown revision"),
        (("--range", "--all"), "needs a revision"),
    ],
)
def test_missing_ref_is_exit_2_with_a_message(repo: Repo, args: tuple[str, ...], message: str) -> None:
    repo.commit("c", D1, **{"a.txt": "a\n"})
    res = run_cli("scan", *args, cwd=repo.path)
    assert res.code == 2
    assert message in res.err and "Traceback" not in res.err


def test_not_a_repository_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x\n")
    res = run_cli("scan", "--history", cwd=tmp_path)
    assert res.code == 2
    assert "not a git repository" in res.err and "Traceback" not in res.err


def test_corrupt_object_is_exit_2(repo: Repo) -> None:
    repo.commit("c", D1, **{"a.txt": f"{token(GH, 59)}\n"})
    blob = repo.git("rev-parse", "HEAD:a.txt").strip()
    obj = repo.path / ".git" / "objects" / blob[:2] / blob[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"not zlib data at all")
    res = run_cli("scan", "--history", cwd=repo.path)
    assert res.code == 2, res.err
    assert "git error" in res.err and "Traceback" not in res.err


def test_git_not_installed_is_exit_2(repo: Repo, tmp_path: Path) -> None:
    repo.commit("c", D1, **{"a.txt": "a\n"})
    empty = tmp_path / "nobin"
    empty.mkdir()
    res = run_cli("scan", "--history", str(repo.path), cwd=tmp_path, env={"PATH": str(empty)})
    assert res.code == 2, res.err
    assert "git is not installed" in res.err and "Traceback" not in res.err


def test_no_progress_when_stderr_is_not_a_terminal(repo: Repo) -> None:
    repo.commit("c", D1, **{"a.txt": "a\n"})
    res = run_cli("scan", "--history", "--no-baseline", cwd=repo.path)
    assert "\r" not in res.err and "blobs" not in res.err


def test_progress_line_counts_blobs_bytes_rate_and_eta() -> None:
    now = [100.0]
    stream = io.StringIO()
    bar = Progress("history", total_items=4, total_bytes=4096, enabled=True, stream=stream, clock=lambda: now[0])
    now[0] = 101.0
    bar.advance(1024)
    assert bar.line() == "history: 1/4 blobs, 1.0 KB/4.0 KB, 1.0 KB/s, ETA 0:03"
    assert stream.getvalue().startswith("\rhistory: 1/4 blobs")
    bar.close()
    assert stream.getvalue().endswith("\r")
    quiet = io.StringIO()
    with Progress("history", enabled=False, stream=quiet) as off:
        off.advance(10)
    assert quiet.getvalue() == ""


def test_the_scratch_folder_is_private_and_removed_after_a_scan(repo: Repo, tmp_path: Path, walk_store: str) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    seen: list[int] = []
    repo.commit("c", D1, **{"a.txt": f"{token(GH, 60)}\n"})
    # watch the folder while the scan runs: a history scan of this size is quick, so poll hard
    import threading

    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for entry in scratch.glob("leaktrap-history-*"):  # other tools' temporary files may pass by
                try:
                    seen.append(entry.stat().st_mode & 0o777)
                except FileNotFoundError:
                    pass

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        res = run_cli("scan", "--history", "--no-baseline", cwd=repo.path, env={"TMPDIR": str(scratch)})
    finally:
        stop.set()
        watcher.join()
    assert res.code == 1, res.err
    assert list(scratch.iterdir()) == []
    if walk_store == "disk":
        assert seen and set(seen) == {0o700}
    else:
        assert seen == []


def test_the_scratch_folder_is_removed_when_the_scan_fails(repo: Repo, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    repo.commit("c", D1, **{"a.txt": f"{token(GH, 61)}\n"})
    blob = repo.git("rev-parse", "HEAD:a.txt").strip()
    obj = repo.path / ".git" / "objects" / blob[:2] / blob[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"not zlib data at all")
    res = run_cli("scan", "--history", cwd=repo.path, env={"TMPDIR": str(scratch)})
    assert res.code == 2 and "Traceback" not in res.err, res.err
    assert list(scratch.iterdir()) == []
