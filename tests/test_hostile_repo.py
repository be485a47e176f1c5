"""A hostile repository: its git configuration tries to run code, leaktrap never lets it.

The repository below arms every hook git offers a repository to run a program:
``core.fsmonitor``, ``core.pager``, ``diff.external``, textconv and clean/smudge
filters (through ``.gitattributes`` and ``.git/info/attributes``), ``core.sshCommand``,
``core.askPass``, credential helpers, ``gpg.program`` with ``log.showSignature``
(on a signed commit), editors, merge drivers, hooks in ``.git/hooks`` and in a
``core.hooksPath`` folder, and an ``include.path`` / ``includeIf`` config that
sets more of them. Each trap is its own script that leaves a marker file named
after itself. Plain git proves the traps are armed; then every leaktrap command
runs and no marker may appear.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from conftest import NO_NETWORK, AUTHOR, Repo, Result, run_cli, token

GH = "ghp_{alnum:36}"


HOOKS = (
    "pre-commit", "prepare-commit-msg", "commit-msg", "post-commit", "post-checkout", "post-merge",
    "pre-push", "pre-rebase", "post-rewrite", "pre-auto-gc", "post-index-change", "reference-transaction",
    "fsmonitor-watchman", "push-to-checkout", "sendemail-validate",
)


class Trap:
    """Scripts that each write ``markers/<name>`` when run."""

    def __init__(self, base: Path) -> None:
        self.bin = base / "trap-bin"
        self.markers = base / "markers"
        self.bin.mkdir()
        self.markers.mkdir()

    def script(self, name: str) -> str:
        path = self.bin / name
        path.write_text(f'#!/bin/sh\necho "$@" >> "{self.markers / name}"\nexit 0\n')
        path.chmod(0o755)
        return str(path)

    def fired(self) -> list[str]:
        return sorted(p.name for p in self.markers.iterdir())

    def clear(self) -> None:
        for p in self.markers.iterdir():
            p.unlink()


def _signed_commit(repo: Repo) -> None:
    """A commit object with a gpgsig header: ``log.showSignature`` would run ``gpg.program`` on it."""
    tree = repo.git("write-tree").strip()
    parent = repo.git("rev-parse", "HEAD").strip()
    sig = "-----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----"
    body = (
        f"tree {tree}\nparent {parent}\n"
        f"author Ada Tester <ada@example.test> 1700000000 +0000\n"
        f"committer Ada Tester <ada@example.test> 1700000000 +0000\n"
        f"gpgsig {sig}\n\nsigned commit\n"
    )
    proc = subprocess.run(
        ["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=repo.path, input=body.encode(),
        capture_output=True, check=True,
    )
    repo.git("update-ref", "HEAD", proc.stdout.decode().strip())


def _arm(repo: Repo, trap: Trap) -> None:
    """Every place a repository can name a program, pointing at a trap."""
    git_dir = repo.path / ".git"
    included = repo.path.parent / "included.gitconfig"
    included.write_text(
        "[core]\n"
        f"\tfsmonitor = {trap.script('include-fsmonitor')}\n"
        f"\tpager = {trap.script('include-pager')}\n"
        "[diff]\n"
        f"\texternal = {trap.script('include-diff-external')}\n"
    )
    conditional = repo.path.parent / "conditional.gitconfig"
    conditional.write_text(f"[core]\n\tsshCommand = {trap.script('includeif-ssh')}\n")
    hooks_dir = repo.path.parent / "hooks-path"
    hooks_dir.mkdir()
    for hook in HOOKS:
        for where, prefix in ((hooks_dir, "hookspath-"), (git_dir / "hooks", "dothooks-")):
            target = where / hook
            target.write_text(f'#!/bin/sh\necho "$@" >> "{trap.markers / (prefix + hook)}"\nexit 0\n')
            target.chmod(0o755)
    settings = {
        "core.pager": trap.script("core-pager"),
        "pager.log": trap.script("pager-log"),
        "pager.diff": trap.script("pager-diff"),
        "core.sshCommand": trap.script("core-sshcommand"),
        "core.askPass": trap.script("core-askpass"),
        "core.editor": trap.script("core-editor"),
        "core.alternateRefsCommand": trap.script("alternate-refs"),
        "core.hooksPath": str(hooks_dir),
        "core.untrackedCache": "true",
        "sequence.editor": trap.script("sequence-editor"),
        "credential.helper": "!" + trap.script("credential-helper"),
        "gpg.program": trap.script("gpg-program"),
        "gpg.ssh.program": trap.script("gpg-ssh-program"),
        "log.showSignature": "true",
        "diff.evil.textconv": trap.script("textconv"),
        "diff.evil.command": trap.script("diff-driver-command"),
        "filter.evil.clean": trap.script("filter-clean"),
        "filter.evil.smudge": trap.script("filter-smudge"),
        "filter.evil.process": trap.script("filter-process"),
        "merge.evil.driver": trap.script("merge-driver"),
        "uploadpack.packObjectsHook": trap.script("pack-objects-hook"),
        "receive.procReceiveRefs": "refs",
        "color.ui": "always",
        "color.grep": "always",
        "color.diff": "always",
        "grep.lineNumber": "true",  # these change what git prints, not what it runs: parsers must not care
        "grep.column": "true",
        "grep.fullName": "true",
        "grep.patternType": "perl",
        "log.follow": "true",
        "log.showRoot": "false",
        "log.decorate": "full",
        "log.abbrevCommit": "true",
        "diff.renames": "copies",
        "diff.relative": "true",
        "diff.noprefix": "true",
        "core.abbrev": "7",
        "core.quotePath": "true",
        "i18n.logOutputEncoding": "ISO-8859-1",
        "status.showUntrackedFiles": "all",
    }
    for key, value in settings.items():
        repo.git("config", key, value)
    # include first: the repository's own settings after it are the ones plain git uses
    config = (git_dir / "config").read_text()
    (git_dir / "config").write_text(
        f"[include]\n\tpath = {included}\n"
        f'[includeIf "gitdir:{repo.path}/"]\n\tpath = {conditional}\n' + config
        + f"[core]\n\tfsmonitor = {trap.script('core-fsmonitor')}\n"
        + f"[diff]\n\texternal = {trap.script('diff-external')}\n"
    )
    attributes = "* filter=evil diff=evil merge=evil\n"
    (git_dir / "info").mkdir(exist_ok=True)
    (git_dir / "info" / "attributes").write_text(attributes)
    repo.write(".gitattributes", attributes)  # in the work tree, uncommitted: read from disk


@pytest.fixture
def hostile(repo: Repo, tmp_path: Path) -> tuple[Repo, Trap, dict[str, str]]:
    secrets = {"old": token(GH, "hostile-old"), "staged": token(GH, "hostile-staged"), "head": token(GH, "hostile-head"),
               "kept": token(GH, "hostile-kept")}
    repo.commit("add config", **{"config.py": f'OLD = "{secrets["old"]}"\n', "keep.py": f'K = "{secrets["kept"]}"\n'})
    repo.commit("rotate", **{"config.py": "OLD = os.environ['TOKEN']\n", "app.py": f'T = "{secrets["head"]}"\n',
                             "keep.py": f'K = "{secrets["kept"]}"\n# touched, the secret was already there\n'})
    _signed_commit(repo)
    repo.write("staged.py", f'S = "{secrets["staged"]}"\n')
    repo.git("add", "staged.py")
    repo.write("app.py", f'T = "{secrets["head"]}"\n# edited in the work tree\n')
    os.mkfifo(repo.path / "pipe")  # a FIFO in the work tree must not block anything either
    trap = Trap(tmp_path)
    _arm(repo, trap)
    return repo, trap, secrets


def _plain_git(repo: Repo, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(AUTHOR)
    env["HOME"] = str(repo.path.parent)
    subprocess.run(["git", *args], cwd=repo.path, env=env, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)


def test_the_traps_are_armed_for_plain_git(hostile: tuple[Repo, Trap, dict[str, str]]) -> None:
    """Without leaktrap's safeguards the same repository runs its programs (the test is real)."""
    repo, trap, _ = hostile
    no_process = ("-c", "filter.evil.process=")  # the process filter aborts git: unmask the others
    _plain_git(repo, "status")
    _plain_git(repo, *no_process, "log", "-p", "-1", "HEAD~1")
    _plain_git(repo, *no_process, "diff", "HEAD~2", "HEAD~1")
    _plain_git(repo, "log", "-1")
    _plain_git(repo, *no_process, "add", "app.py")
    _plain_git(repo, *no_process, "commit", "-q", "-m", "x")
    fired = set(trap.fired())
    expected = {"core-fsmonitor", "filter-process", "textconv", "diff-driver-command", "gpg-program"}
    expected |= {"hookspath-pre-commit", "hookspath-commit-msg", "hookspath-post-commit"}
    assert expected <= fired, expected - fired


def _leaktrap(home: Path, *args: str, cwd: Path) -> Result:
    env = dict(NO_NETWORK)
    env.update({"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "GIT_CONFIG_NOSYSTEM": "1"})
    return run_cli(*args, cwd=cwd, env=env)


def test_no_leaktrap_command_runs_anything_the_repository_configures(
    hostile: tuple[Repo, Trap, dict[str, str]], tmp_path: Path, srv: HTTPServer
) -> None:
    repo, trap, secrets = hostile
    home = tmp_path / "home"
    home.mkdir()
    base = srv.url_for("").rstrip("/")
    srv.expect_request("/user").respond_with_json({"message": "Bad credentials"}, status=401)
    srv.expect_request("/credentials/revoke", method="POST").respond_with_data("", status=202)
    audit = tmp_path / "audit.jsonl"
    runs: list[tuple[tuple[str, ...], Result]] = []

    def run(*args: str, codes: tuple[int, ...] = (0, 1), cwd: Path = repo.path) -> Result:
        res = _leaktrap(home, *args, cwd=cwd)
        runs.append((args, res))
        assert res.code in codes, (args, res.code, res.err)
        assert trap.fired() == [], (args, trap.fired())
        return res

    files = run("scan", "--no-baseline", "--format", "json", ".")
    found = {f["path"] for f in json.loads(files.out)["findings"]}
    assert {"app.py", "staged.py"} <= found
    # git lists no FIFO (it cannot hold one): the scan neither reads it nor blocks on it
    staged = run("scan", "--staged", "--no-baseline", "--format", "json")
    assert {f["path"] for f in json.loads(staged.out)["findings"]} == {"staged.py"}
    run("scan", "--staged", "--no-baseline", "staged.py", "app.py")
    history = run("scan", "--history", "--no-baseline", "--format", "json")
    at_head = {f["path"]: f["at_head"] for f in json.loads(history.out)["findings"]}
    assert at_head == {"config.py": False, "app.py": True, "keep.py": True}, at_head
    one_path = run("scan", "--history", "--no-baseline", "--format", "json", "app.py")
    assert [(f["path"], f["at_head"]) for f in json.loads(one_path.out)["findings"]] == [("app.py", True)]
    ranged = run("scan", "--range", "HEAD~2..HEAD", "--no-baseline", "--format", "json")
    assert [f["path"] for f in json.loads(ranged.out)["findings"]] == ["app.py"]  # keep.py's secret is older
    run("scan", "--history", "--stash", "--no-baseline", "-j", "2")
    run("baseline", "create", "--history")
    run("baseline", "update", "--history")
    run("baseline", "show", "--entries")
    fp = json.loads(history.out)["findings"][0]["fingerprint"]
    run("baseline", "audit", "--history", "--label", f"{fp}=true-positive")
    run("verify", "--history", "--audit-log", str(audit), "--base-url", f"github={base}")
    run("verify", "--staged", "--audit-log", str(audit), "--base-url", f"github={base}")
    run("revoke", "--history", "--audit-log", str(audit), "--base-url", f"github={base}")
    run("revoke", "--yes", "--history", "--confirmed", fp, "--audit-log", str(audit), "--base-url", f"github={base}")
    out = tmp_path / "reports"
    out.mkdir()
    run("audit", str(repo.path), "-o", str(out / "audit.html"), cwd=out)
    run("audit", str(repo.path), "--format", "json", "-o", str(out / "audit.json"), "--trust-repo-config", cwd=out)
    run("audit", str(repo.path), "--format", "sarif", "-o", "-", "--verify", "--audit-log", str(audit),
        "--base-url", f"github={base}", "-j", "2", cwd=out)
    assert json.loads((out / "audit.json").read_text())  # the audit really ran
    sent = [(entry[0].method, entry[0].path) for entry in srv.log]
    assert ("GET", "/user") in sent and ("POST", "/credentials/revoke") in sent  # the network paths really ran
    for args, res in runs:
        for secret in secrets.values():
            assert secret not in res.out + res.err, args
    assert trap.fired() == []


def test_hooks_of_a_hostile_repository_do_not_run_when_leaktrap_is_the_hook(
    hostile: tuple[Repo, Trap, dict[str, str]], tmp_path: Path
) -> None:
    """leaktrap inside a real ``git commit`` (GIT_INDEX_FILE and GIT_DIR set by git) runs no trap of its own."""
    repo, trap, secrets = hostile
    home = tmp_path / "home"
    home.mkdir()
    index = repo.path / ".git" / "index"
    res = _leaktrap(home, "scan", "--staged", "--no-baseline", cwd=repo.path)
    env_res = run_cli(
        "scan", "--staged", "--no-baseline", cwd=repo.path,
        env={"HOME": str(home), "GIT_INDEX_FILE": str(index), "GIT_DIR": str(repo.path / ".git"), **NO_NETWORK},
    )
    assert res.code == env_res.code == 1
    assert trap.fired() == []
    assert secrets["staged"] not in res.out + env_res.out


def test_core_worktree_pointing_elsewhere_is_not_read(repo: Repo, tmp_path: Path) -> None:
    """``core.worktree`` in a repository's config must not make a scan read files outside the folder named."""
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = token(GH, "outside-worktree")
    (outside / "private.py").write_text(f'T = "{secret}"\n')
    repo.commit("init", **{"a.txt": "hello\n"})
    repo.git("config", "core.worktree", str(outside))
    res = run_cli("scan", "--no-baseline", "--format", "json", ".", cwd=repo.path)
    assert res.code in (0, 1), res.err
    assert secret not in res.out
    assert all(not f["path"].endswith("private.py") for f in json.loads(res.out)["findings"])


def test_symlinked_git_dir_config_is_not_a_way_out(repo: Repo, tmp_path: Path) -> None:
    """A ``.git`` file (gitdir: ...) naming another repository is git's business; the scan still reads
    only the folder it was given."""
    other = tmp_path / "other"
    other.mkdir()
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    secret = token(GH, "other-repo")
    (other / "secret.py").write_text(f'T = "{secret}"\n')
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / ".git").write_text(f"gitdir: {other / '.git'}\n")
    (victim / "ok.txt").write_text("nothing here\n")
    res = run_cli("scan", "--no-baseline", "--format", "json", ".", cwd=victim)
    assert res.code in (0, 1), res.err
    assert secret not in res.out
    assert stat.S_ISREG(os.lstat(other / "secret.py").st_mode)


# ---------------------------------------------------------------- hostile names and content

C0 = {chr(c) for c in range(32) if chr(c) != "\n"} | {"\x7f", "\x9b", "\u202e"}


def _controls(text: str) -> set[str]:
    return {ch for ch in text if ch in C0}


def test_history_output_escapes_authors_messages_paths_and_shown_secrets(repo: Repo) -> None:
    name = "ev\x1b]0;pwned\x07il.py"
    repo.write(name, 'DB_PASSWORD = "Ab1\x1b[2Jxyz9Qk7Lm\u202e"\n')
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "fix\x1b[2J\x1b[31m\u202e\x9b",
             env={"GIT_AUTHOR_NAME": "Eve\x1b[5m\u202e", "GIT_AUTHOR_EMAIL": "e\x1b[1m@x.test"})
    for args in (("--history",), ("--history", "--show-secrets"), ("--show-secrets", "."), ("--staged", name)):
        res = run_cli("scan", "--no-baseline", *args, cwd=repo.path)
        assert res.code == 1, (args, res.err)
        assert _controls(res.out + res.err) == set(), (args, _controls(res.out + res.err))
        assert "ev\\x1b]0;pwned\\x07il.py" in res.out
    res = run_cli("scan", "--no-baseline", "--history", "--show-secrets", cwd=repo.path)
    assert "Ab1\\x1b[2Jxyz9Qk7Lm\\u202e" in res.out  # the secret, shown on request, escaped
    assert "fix\\x1b[2J\\x1b[31m\\u202e\\x9b" in res.out and "Eve\\x1b[5m\\u202e" in res.out


def test_warnings_and_descriptions_are_escaped_in_text_reports() -> None:
    from scanner.model import Finding, ScanResult, Skipped
    from scanner.report.text import render_text

    finding = Finding("r", "p", "desc\x1b[2J", "high", "high", "a\x1b.py", 1, 1, 2, "ab\x1b****", "f" * 32, 3.0, "s")
    result = ScanResult((finding,), 1, 10, (Skipped("b\x1b.bin", "binary"),), ("rule x timed out on c\x1b[2J.py",), 1,
                        0.1, baseline="base\x1bline.json")
    text = render_text(result, (), show_secrets=False)
    assert _controls(text) == set()
    assert "desc\\x1b[2J" in text and "c\\x1b[2J.py" in text and "base\\x1bline.json" in text


def test_verify_and_revoke_output_escape_hostile_names(repo: Repo, srv: HTTPServer) -> None:
    name = "x\x1b]0;pwned\x07.py"
    repo.write(name, f'T = "{token(GH, "hostile-verify")}"\n')
    base = srv.url_for("").rstrip("/")
    srv.expect_request("/user").respond_with_json({"message": "Bad credentials"}, status=401)
    for cmd in ("verify", "revoke"):
        res = run_cli(cmd, "--base-url", f"github={base}", "--audit-log", str(repo.path.parent / "a.jsonl"), ".",
                      cwd=repo.path, env=NO_NETWORK)
        assert _controls(res.out + res.err) == set(), (cmd, res.out)


def test_error_messages_escape_hostile_config(repo: Repo) -> None:
    repo.write(".leaktrap.toml", '"\\u001b]0;pwned\\u0007\\u001b[2J" = 1\n')
    res = run_cli("scan", ".", cwd=repo.path)
    assert res.code == 2
    assert _controls(res.err) == set(), res.err


def test_symlinks_out_of_the_repository_are_never_read_in_any_mode(repo: Repo, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = token(GH, "outside-link")
    (outside / "creds.py").write_text(f'T = "{secret}"\n')
    (repo.path / "link.py").symlink_to(outside / "creds.py")
    (repo.path / "linkdir").symlink_to(outside, target_is_directory=True)
    (repo.path / "relative.py").symlink_to(Path("..") / ".." / "outside" / "creds.py")
    repo.commit("links", **{"ok.txt": "fine\n", "sub/keep.txt": "\n"})
    results = {
        "files": run_cli("scan", "--no-baseline", "--format", "json", ".", cwd=repo.path),
        "named": run_cli("scan", "--no-baseline", "--format", "json", "link.py", "sub/../link.py", cwd=repo.path),
        "staged": run_cli("scan", "--staged", "--no-baseline", "--format", "json", "link.py", "relative.py", cwd=repo.path),
        "history": run_cli("scan", "--history", "--no-baseline", "--format", "json", cwd=repo.path),
    }
    for mode, res in results.items():
        assert res.code == 0, (mode, res.err)
        assert secret not in res.out and json.loads(res.out)["findings"] == [], mode
        reasons = {s["path"]: s["reason"] for s in json.loads(res.out)["skipped"]}
        assert any("symlink" in r for r in reasons.values()), (mode, reasons)
    outside_repo = run_cli("scan", "--staged", "--no-baseline", "ok.txt", "../outside/creds.py", cwd=repo.path)
    assert outside_repo.code == 2 and "outside the repository" in outside_repo.err


def test_a_history_symlink_blob_is_its_target_path_not_the_target(repo: Repo, tmp_path: Path) -> None:
    """In history a symlink is a blob holding the target path. Even when that path names a
    secret file on this machine, leaktrap neither follows it nor scans the path as text."""
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = token(GH, "history-link")
    (outside / "creds.py").write_text(f'T = "{secret}"\n')
    target = f"{outside}/creds.py"
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=repo.path, input=target.encode(),
                          capture_output=True, check=True).stdout.decode().strip()
    tree = subprocess.run(["git", "mktree"], cwd=repo.path, input=f"120000 blob {blob}\tcreds.py\n".encode(),
                          capture_output=True, check=True).stdout.decode().strip()
    commit = repo.git("commit-tree", tree, "-m", "link").strip()
    repo.git("update-ref", "refs/heads/main", commit)
    res = run_cli("scan", "--history", "--no-baseline", "--format", "json", cwd=repo.path)
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert doc["findings"] == [] and secret not in res.out
    assert {"path": "creds.py", "reason": "symlink (not followed)"} in doc["skipped"]


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a device node needs root")
def test_a_device_node_in_the_tree_is_skipped_not_read(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    os.mknod(root / "zero", 0o666 | stat.S_IFCHR, os.makedev(1, 5))  # reads as endless zeros
    os.mkfifo(root / "pipe")  # no writer: opening it for reading would block forever
    (root / "a.py").write_text(f'T = "{token(GH, "beside-device")}"\n')
    res = run_cli("scan", "--no-baseline", "--format", "json", str(root))
    assert res.code == 1, res.err
    reasons = {s["path"]: s["reason"] for s in json.loads(res.out)["skipped"]}
    assert reasons == {"zero": "not a regular file", "pipe": "not a regular file"}


@pytest.mark.parametrize("swap", ["fifo", "symlink", "grown", "vanished"])
def test_a_file_that_changes_between_listing_and_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, swap: str) -> None:
    """The file passes the lstat check, then is replaced before it is opened: never a hang,
    never a read through a link, never more than the size limit; a Skipped with the reason."""
    from scanner.model import Chunk, Skipped
    from scanner.sources import files

    root = tmp_path / "tree"
    root.mkdir()
    outside = tmp_path / "creds.py"
    secret = token(GH, "swapped")
    outside.write_text(f'T = "{secret}"\n')
    victim = root / "a.py"
    victim.write_text("x = 1\n")
    real_lstat = os.lstat

    def lstat_then_swap(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        result = real_lstat(path, *args, **kwargs)
        if Path(path) == victim:
            victim.unlink()
            if swap == "fifo":
                os.mkfifo(victim)
            elif swap == "symlink":
                victim.symlink_to(outside)
            elif swap == "grown":
                victim.write_text("y = 2\n" * 1000)
        return result

    monkeypatch.setattr(files.os, "lstat", lstat_then_swap)
    items = list(files.path_chunks(root, "a.py", max_file_size=100))
    assert len(items) == 1
    item = items[0]
    if swap == "fifo":  # opened non-blocking: nothing to read, nothing waited for
        assert isinstance(item, Chunk) and item.text == ""
    else:
        assert isinstance(item, Skipped), item
        assert {"symlink": "unreadable", "grown": "larger than the size limit", "vanished": "unreadable"}[swap] in item.reason
    assert secret not in repr(items)


@pytest.mark.parametrize("how", ["base_urls", "rule_file_spec"])
def test_a_repository_config_cannot_redirect_verification(repo: Repo, srv: HTTPServer, how: str) -> None:
    secret = token(GH, f"redirect-{how}")
    repo.write("app.py", f'T = "{secret}"\n')
    evil = srv.url_for("").rstrip("/")
    srv.expect_request("/user").respond_with_json({"login": "x"})
    if how == "base_urls":
        repo.write(".leaktrap.toml", f'[base_urls]\ngithub = "{evil}"\n')
    else:
        spec = (RULES_SPEC_TEMPLATE.replace("{evil}", evil))
        repo.write("ci/rules.toml", spec)
        repo.write(".leaktrap.toml", 'rules = ["ci/rules.toml"]\n')
    run_cli("verify", "--audit-log", str(repo.path.parent / "a.jsonl"), ".", cwd=repo.path, env=NO_NETWORK)
    assert srv.log == [], "the secret went to a server the repository chose"


RULES_SPEC_TEMPLATE = '''
[verify.github]
description = "looks like the built-in one"
base_url = "{evil}"
method = "GET"
url = "{base}/user"
headers = { Authorization = "token {secret}" }
[[verify.github.cases]]
status = 200
json_has = ["login"]
result = "valid"
reason = "live"
'''
