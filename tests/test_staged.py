"""`leaktrap scan --staged [FILES]` on real repositories: the index, not the work tree."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import Repo, run_cli, token

GH = "ghp_{alnum:36}"


def staged(repo: Repo, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict, str, str]:
    res = run_cli("scan", "--staged", "--format", "json", "--no-baseline", *args, cwd=repo.path, env=env)
    assert res.code in (0, 1), res.err
    assert "Traceback" not in res.err
    return res.code, json.loads(res.out), res.out, res.err


def found(doc: dict) -> set[tuple[str, int, str]]:
    return {(f["path"], f["line"], f["rule_id"]) for f in doc["findings"]}


def assert_never_printed(secrets: list[str], *texts: str) -> None:
    for secret in secrets:
        for text in texts:
            assert secret not in text


def test_scans_the_index_not_the_work_tree(repo: Repo) -> None:
    repo.commit("init", **{"app.py": "x = 1\n"})
    staged_secret, worktree_secret = token(GH, 1), token(GH, 2)
    # staged, then removed from the working file: still what the commit holds
    repo.write("app.py", f'x = 1\n\n\nTOKEN = "{staged_secret}"\n')
    repo.git("add", "app.py")
    repo.write("app.py", "x = 1\n")
    # only in the work tree (modified after staging): not part of the commit
    repo.write("other.py", "y = 2\n")
    repo.git("add", "other.py")
    repo.write("other.py", f'y = 2\nT = "{worktree_secret}"\n')
    code, doc, out, err = staged(repo)
    assert code == 1
    assert found(doc) == {("app.py", 4, "github-pat-classic")}
    assert doc["summary"]["mode"] == "staged"
    assert doc["findings"][0]["source"] == "index"
    assert_never_printed([staged_secret, worktree_secret], out, err)


def test_clean_index_exits_zero_even_with_a_dirty_work_tree(repo: Repo) -> None:
    repo.commit("init", **{"a.py": "a = 1\n"})
    repo.write("a.py", f'a = "{token(GH, 3)}"\n')
    code, doc, _out, _err = staged(repo)
    assert code == 0 and doc["findings"] == []


def test_initial_commit_of_a_new_repository(repo: Repo) -> None:
    secret = token(GH, 4)
    repo.write("first.txt", f"hello\n{secret}\n")
    repo.git("add", "first.txt")
    code, doc, out, err = staged(repo)
    assert code == 1
    assert found(doc) == {("first.txt", 2, "github-pat-classic")}
    assert_never_printed([secret], out, err)


def test_renamed_copied_deleted_and_intent_to_add(repo: Repo) -> None:
    moved, copied, removed, ita = (token(GH, n) for n in (5, 6, 7, 8))
    repo.commit("init", **{"old.txt": f"k = {moved}\n", "gone.txt": f"k = {removed}\n", "src.txt": f"\nk = {copied}\n"})
    repo.git("mv", "old.txt", "new.txt")
    repo.git("rm", "-q", "gone.txt")
    (repo.path / "copy.txt").write_text((repo.path / "src.txt").read_text())
    repo.git("add", "copy.txt")
    repo.write("later.txt", f"k = {ita}\n")
    repo.git("add", "-N", "later.txt")
    code, doc, out, err = staged(repo)
    assert code == 1
    assert found(doc) == {("new.txt", 1, "github-pat-classic"), ("copy.txt", 2, "github-pat-classic")}
    assert_never_printed([moved, copied, removed, ita], out, err)


def test_paths_with_spaces_unicode_and_newlines(repo: Repo) -> None:
    a, b, c = token(GH, 9), token(GH, 10), token(GH, 11)
    names = {"dir with space/a file.txt": a, "données/clé.txt": b, "odd\nname.txt": c}
    for name, secret in names.items():
        repo.write(name, f"s = {secret}\n")
    repo.git("add", "-A")
    code, doc, out, err = staged(repo)
    assert code == 1
    assert found(doc) == {(name, 1, "github-pat-classic") for name in names}
    assert_never_printed(list(names.values()), out, err)


def test_file_arguments_scan_exactly_those_index_blobs(repo: Repo) -> None:
    """What pre-commit passes, including `run --all-files` (unchanged files are scanned too)."""
    old, new, other = token(GH, 12), token(GH, 13), token(GH, 14)
    repo.commit("init", **{"committed.py": f'A = "{old}"\n', "skip.py": f'B = "{other}"\n'})
    repo.write("fresh.py", f'\nC = "{new}"\n')
    repo.git("add", "fresh.py")
    repo.write("untracked.py", f'D = "{token(GH, 15)}"\n')
    code, doc, _out, _err = staged(repo, "committed.py", "fresh.py", "untracked.py")
    assert code == 1
    assert found(doc) == {("committed.py", 1, "github-pat-classic"), ("fresh.py", 2, "github-pat-classic")}
    assert {(s["path"], s["reason"]) for s in doc["skipped"]} == {("untracked.py", "not in the index (not staged)")}


def test_file_arguments_from_a_subdirectory(repo: Repo) -> None:
    secret = token(GH, 16)
    repo.write("pkg/mod.py", f'S = "{secret}"\n')
    repo.git("add", "pkg/mod.py")
    repo.write("pkg/mod.py", "S = None\n")
    res = run_cli("scan", "--staged", "--format", "json", "--no-baseline", "mod.py", cwd=repo.path / "pkg")
    assert res.code == 1, res.err
    assert found(json.loads(res.out)) == {("pkg/mod.py", 1, "github-pat-classic")}


def test_no_argument_from_a_subdirectory_scans_all_staged_changes(repo: Repo) -> None:
    repo.commit("init", **{"sub/keep.txt": "x\n"})
    repo.write("top.py", f'S = "{token(GH, 17)}"\n')
    repo.git("add", "top.py")
    res = run_cli("scan", "--staged", "--format", "json", "--no-baseline", cwd=repo.path / "sub")
    assert res.code == 1, res.err
    assert found(json.loads(res.out)) == {("top.py", 1, "github-pat-classic")}


def test_the_temporary_index_of_git_commit_a_is_used(repo: Repo) -> None:
    """`git commit -a` / `git commit PATH` hand hooks a temporary index in GIT_INDEX_FILE."""
    repo.commit("init", **{"a.py": "a = 1\n"})
    secret = token(GH, 18)
    repo.write("a.py", f'a = "{secret}"\n')
    alt = repo.path / ".git" / "next-index.lock"
    repo.git("add", "a.py", env={"GIT_INDEX_FILE": str(alt)})
    code, doc, _out, _err = staged(repo, env={"GIT_INDEX_FILE": str(alt)})
    assert code == 1 and found(doc) == {("a.py", 1, "github-pat-classic")}
    # the real index does not hold it, and an index from elsewhere is ignored
    code, doc, _out, _err = staged(repo)
    assert code == 0
    stranger = repo.path.parent / "elsewhere-index"
    stranger.write_bytes(alt.read_bytes())
    code, doc, _out, _err = staged(repo, env={"GIT_INDEX_FILE": str(stranger)})
    assert code == 0


def test_binary_symlink_and_submodule_are_skipped_with_a_reason(repo: Repo, tmp_path: Path) -> None:
    repo.write("blob.bin", b"\0\1\2" + token(GH, 19).encode())
    os.symlink("blob.bin", repo.path / "link")
    repo.git("add", "blob.bin", "link")
    sub = tmp_path / "sub"
    sub.mkdir()
    Repo(sub).git("init", "-q")
    Repo(sub).commit("s", **{"f": "x\n"})
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "vendored")
    code, doc, _out, _err = staged(repo)
    assert code == 0
    reasons = {(s["path"], s["reason"].split(" ")[0]) for s in doc["skipped"]}
    assert {("blob.bin", "binary"), ("link", "symlink"), ("vendored", "submodule")} <= reasons


def test_text_report_does_not_show_the_secret(repo: Repo) -> None:
    secret = token(GH, 20)
    repo.write("x.env", f"TOKEN={secret}\n")
    repo.git("add", "x.env")
    res = run_cli("scan", "--staged", "--no-baseline", cwd=repo.path)
    assert res.code == 1
    assert "x.env" in res.out
    assert_never_printed([secret], res.out, res.err)


def test_not_a_repository_is_exit_2_with_a_message(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x\n")
    res = run_cli("scan", "--staged", cwd=tmp_path)
    assert res.code == 2
    assert "not a git repository" in res.err
    assert "Traceback" not in res.err


def test_a_file_outside_the_repository_is_a_usage_error(repo: Repo, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("x\n")
    repo.write("inside.txt", "y\n")
    res = run_cli("scan", "--staged", "inside.txt", str(outside), cwd=repo.path)
    assert res.code == 2
    assert "outside the repository" in res.err and "Traceback" not in res.err
    res = run_cli("scan", "--staged", str(outside), cwd=repo.path)  # the repository is found from the file
    assert res.code == 2
    assert "not a git repository" in res.err and "Traceback" not in res.err


def test_hostile_repository_configuration_is_not_run(repo: Repo, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    repo.write(".gitattributes", "* filter=x diff=x\n")
    repo.write("a.txt", f"k = {token(GH, 21)}\n")
    repo.git("add", "a.txt", ".gitattributes")
    evil = f"sh -c 'touch {marker}'"
    for key in ("core.fsmonitor", "diff.external", "core.pager", "filter.x.clean", "filter.x.smudge",
                "filter.x.process", "diff.x.textconv", "diff.x.command", "gpg.program"):
        repo.git("config", key, evil)
    repo.git("config", "log.showSignature", "true")
    repo.git("config", "core.hooksPath", str(tmp_path / "hooks"))
    res = run_cli("scan", "--staged", "--format", "json", "--no-baseline", cwd=repo.path)
    assert res.code == 1, res.err
    assert not marker.exists()


def test_excluded_paths_are_not_scanned(repo: Repo) -> None:
    repo.write("fixtures/fake.txt", f"k = {token(GH, 22)}\n")
    repo.write("real.txt", f"k = {token(GH, 23)}\n")
    repo.git("add", "-A")
    code, doc, _out, _err = staged(repo, "--exclude", "fixtures/**")
    assert code == 1 and found(doc) == {("real.txt", 1, "github-pat-classic")}
