"""`leaktrap scan PATH` on real folders and work trees: findings, exit codes, bad input."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from conftest import Repo, run_cli, token

GH = "ghp_{alnum:36}"
SLACK = "xoxb-{digit:11}-{digit:12}-{alnum:24}"
AWS_ID = "AKIA{alnum_upper:16}"


def scan_json(*args: str, cwd: Path | None = None) -> tuple[int, dict, str]:
    res = run_cli("scan", "--format", "json", "--no-baseline", *args, cwd=cwd)
    assert res.code in (0, 1), res.err
    return res.code, json.loads(res.out), res.err


def planted_tree(root: Path) -> dict[str, tuple[str, int, str]]:
    """Write files with generated secrets; return {secret: (path, line, rule_id)}."""
    gh, slack, pw = token(GH, 1), token(SLACK, 2), token("{alnum:10}{digit:4}", 3)
    url_pw = token("{alnum:18}", 4)
    files = {
        "app/settings.py": f'DEBUG = False\n\nGITHUB_TOKEN = "{gh}"\n',
        "deploy/.env": f"# deploy settings\nSLACK_BOT_TOKEN={slack}\nDB_PASSWORD={pw}\n",
        "docs/readme.md": "Nothing to see here.\n",
        "svc/config.yaml": f"database:\n  url: postgres://svc:{url_pw}@db.prod.internal:5432/app\n",
    }
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
    return {
        gh: ("app/settings.py", 3, "github-pat-classic"),
        slack: ("deploy/.env", 2, "slack-bot-token"),
        pw: ("deploy/.env", 3, "generic-password-unquoted"),
        url_pw: ("svc/config.yaml", 2, "url-credentials"),
    }


def test_folder_scan_reports_every_planted_secret_with_file_and_line(tmp_path: Path) -> None:
    planted = planted_tree(tmp_path)
    code, doc, err = scan_json(str(tmp_path))
    assert code == 1
    got = {(f["path"], f["line"], f["rule_id"]) for f in doc["findings"]}
    assert got == set(planted.values())
    assert doc["summary"]["findings"] == 4
    assert doc["summary"]["files_scanned"] == 4
    assert doc["schema"] == "leaktrap-report" and doc["version"] == 1
    for f in doc["findings"]:
        assert f["secret"].endswith("****")
        assert len(f["fingerprint"]) == 32
        assert f["column"] >= 1 and f["entropy"] > 0
    text = json.dumps(doc) + err
    for secret in planted:
        assert secret not in text


def test_text_report_is_grouped_by_file_and_redacted(tmp_path: Path) -> None:
    planted = planted_tree(tmp_path)
    res = run_cli("scan", "--no-baseline", str(tmp_path))
    assert res.code == 1
    assert "app/settings.py\n  3:" in res.out
    assert "ghp_****" in res.out
    assert "4 findings" in res.out
    assert "\033[" not in res.out  # no colour when not on a terminal
    for secret in planted:
        assert secret not in res.out + res.err


def test_git_work_tree_scans_tracked_and_untracked_but_not_ignored(repo: Repo) -> None:
    tracked, untracked, ignored = token(GH, 10), token(GH, 11), token(GH, 12)
    repo.write(".gitignore", "secret-ignored.txt\n")
    repo.commit("init", **{"tracked.py": f'T = "{tracked}"\n'})
    repo.write("untracked.py", f'U = "{untracked}"\n')
    repo.write("secret-ignored.txt", f"{ignored}\n")
    code, doc, _ = scan_json(str(repo.path))
    assert code == 1
    assert sorted(f["path"] for f in doc["findings"]) == ["tracked.py", "untracked.py"]


def test_plain_folder_honours_nested_gitignore(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".gitignore").write_text("*.log\n")
    (tmp_path / "sub" / ".gitignore").write_text("local.cfg\n")
    (tmp_path / "a.log").write_text(token(GH, 20))
    (tmp_path / "sub" / "local.cfg").write_text(token(GH, 21))
    (tmp_path / "sub" / "kept.cfg").write_text(token(GH, 22))
    code, doc, _ = scan_json(str(tmp_path))
    assert [f["path"] for f in doc["findings"]] == ["sub/kept.cfg"]


def test_clean_folder_exits_zero(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("import os\nTOKEN = os.getenv('TOKEN')\npassword = input()\n")
    res = run_cli("scan", str(tmp_path))
    assert res.code == 0
    assert "0 findings" in res.out


def test_exit_zero_reports_but_succeeds(tmp_path: Path) -> None:
    planted_tree(tmp_path)
    res = run_cli("scan", "--exit-zero", str(tmp_path))
    assert res.code == 0
    assert "4 findings" in res.out


def test_inline_allow_markers(tmp_path: Path) -> None:
    lines = [
        f'a = "{token(GH, 30)}"  # leaktrap:allow',
        f'b = "{token(GH, 31)}"  # gitleaks:allow',
        f'c = "{token(GH, 32)}"  # pragma: allowlist secret',
        "# pragma: allowlist nextline secret",
        f'd = "{token(GH, 33)}"',
        f'e = "{token(GH, 34)}"',
    ]
    (tmp_path / "x.py").write_text("\n".join(lines) + "\n")
    code, doc, _ = scan_json(str(tmp_path))
    assert [f["line"] for f in doc["findings"]] == [6]


def test_output_file_written_and_summary_on_stderr(tmp_path: Path) -> None:
    planted = planted_tree(tmp_path / "src")
    out = tmp_path / "report.json"
    res = run_cli("scan", "--no-baseline", "--format", "json", "--output", str(out), str(tmp_path / "src"))
    assert res.code == 1
    assert res.out == ""
    assert "4 findings" in res.err
    doc = json.loads(out.read_text())
    assert len(doc["findings"]) == 4
    raw = out.read_bytes()
    for secret in planted:
        assert secret.encode() not in raw


def test_show_secrets_is_explicit(tmp_path: Path) -> None:
    secret = token(GH, 40)
    (tmp_path / "a.txt").write_text(secret + "\n")
    _code, doc, _ = scan_json("--show-secrets", str(tmp_path))
    assert doc["findings"][0]["raw_secret"] == secret


# --- bad and unusual input -------------------------------------------------


def test_binary_oversized_and_special_files_are_skipped_and_reported(tmp_path: Path) -> None:
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01" + token(GH, 50).encode())
    (tmp_path / "big.txt").write_text("x" * 2000 + token(GH, 51))
    os.mkfifo(tmp_path / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    sock_path = tmp_path / "s.sock"
    try:
        sock.bind(str(sock_path))
    except OSError:
        pass
    (tmp_path / "ok.txt").write_text(token(GH, 52))
    code, doc, _ = scan_json("--max-file-size", "1000", str(tmp_path))
    reasons = {s["path"]: s["reason"] for s in doc["skipped"]}
    assert reasons["blob.bin"] == "binary"
    assert reasons["big.txt"].startswith("larger than the size limit")
    assert reasons["pipe"] == "not a regular file"
    assert [f["path"] for f in doc["findings"]] == ["ok.txt"]
    res = run_cli("scan", "--no-baseline", "--max-file-size", "1000", str(tmp_path))
    assert "skipped" in res.out and "binary" in res.out
    sock.close()


def test_encodings_bom_crlf_and_bad_bytes(tmp_path: Path) -> None:
    s16, s8, scr, sbad = (token(GH, i) for i in (60, 61, 62, 63))
    (tmp_path / "utf16.txt").write_bytes(("line one\nkey = " + s16 + "\n").encode("utf-16"))
    (tmp_path / "bom8.txt").write_bytes(b"\xef\xbb\xbf" + f"x\ny\n{s8}\n".encode())
    (tmp_path / "crlf.txt").write_bytes(f"a\r\nb\r\nT={scr}\r\n".encode())
    (tmp_path / "latin.txt").write_bytes(b"caf\xe9 \xff\xfe\n" + sbad.encode() + b"\n")
    code, doc, _ = scan_json(str(tmp_path))
    got = {(f["path"], f["line"]) for f in doc["findings"]}
    assert got == {("utf16.txt", 2), ("bom8.txt", 3), ("crlf.txt", 3), ("latin.txt", 2)}
    crlf = next(f for f in doc["findings"] if f["path"] == "crlf.txt")
    assert crlf["column"] == 3


def test_very_long_minified_line(tmp_path: Path) -> None:
    secret = token(GH, 70)
    body = "var a=1;" * 200_000 + f'var t="{secret}";' + "b();" * 1000
    (tmp_path / "app.min.js").write_text(body)
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 1
    assert doc["findings"][0]["line"] == 1
    assert doc["findings"][0]["column"] == 8 * 200_000 + 8


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(token(GH, 80))
    root = tmp_path / "root"
    root.mkdir()
    (root / "to-outside.txt").symlink_to(outside / "secret.txt")
    (root / "dir-link").symlink_to(outside, target_is_directory=True)
    (root / "broken").symlink_to(root / "missing")
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "real.txt").write_text("nothing\n")
    code, doc, _ = scan_json(str(root))
    assert code == 0
    reasons = {s["path"]: s["reason"] for s in doc["skipped"]}
    assert "outside" in reasons["to-outside.txt"]
    assert reasons["broken"].startswith("broken symlink")
    assert doc["summary"]["files_scanned"] == 1


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    res = run_cli("scan", str(tmp_path / "nope"))
    assert res.code == 2
    assert "no such file or folder" in res.err
    assert "Traceback" not in res.err


def test_single_file_target(tmp_path: Path) -> None:
    (tmp_path / "one.env").write_text(f"T={token(GH, 90)}\n")
    code, doc, _ = scan_json(str(tmp_path / "one.env"))
    assert code == 1
    assert doc["findings"][0]["path"].endswith("one.env")


def test_python_m_scanner_works(tmp_path: Path) -> None:
    res = run_cli("--version")
    assert res.code == 0 and "leaktrap" in res.out


@pytest.mark.parametrize("name", ["notebook.ipynb"])
def test_notebook_cells_are_mapped_to_real_lines(tmp_path: Path, name: str) -> None:
    secret = token(GH, 95)
    allowed = token(GH, 96)
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "text\n"]},
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": 1,
                "source": ["import os\n", f'token = "{secret}"\n', f'other = "{allowed}"  # leaktrap:allow\n'],
                "outputs": [
                    {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo" + "A" * 200}, "metadata": {}}
                ],
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    text = json.dumps(nb, indent=1)
    (tmp_path / name).write_text(text)
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 1
    assert len(doc["findings"]) == 1
    expected_line = next(i for i, line in enumerate(text.splitlines(), 1) if secret in line)
    assert doc["findings"][0]["line"] == expected_line


def test_notebook_outputs_written_before_source_are_mapped_to_real_lines(tmp_path: Path) -> None:
    """Jupyter writes a cell's keys sorted ("outputs" before "source"): each part is located
    in the order the file holds it, so both the output's and the source's lines are right."""
    in_source = token(GH, 97)
    in_output = token(GH, 98)
    cell = {
        "cell_type": "code",
        "execution_count": 1,
        "metadata": {},
        "outputs": [
            {"name": "stdout", "output_type": "stream", "text": ["connecting\n", f"token={in_output}\n"]},
            {"data": {"text/plain": ["'ok'"]}, "execution_count": 1, "metadata": {}, "output_type": "execute_result"},
        ],
        "source": ["import os\n", f'token = "{in_source}"\n', "print(token)"],
    }
    nb = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(nb, indent=1, sort_keys=True)  # as Jupyter writes it
    assert text.index('"outputs"') < text.index('"source"')
    (tmp_path / "analysis.ipynb").write_text(text)
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 1
    lines = text.splitlines()
    expected = {next(i for i, line in enumerate(lines, 1) if s in line) for s in (in_source, in_output)}
    assert {f["line"] for f in doc["findings"]} == expected
    assert len(doc["findings"]) == 2


def test_parallel_scan_gives_the_same_report_as_one_process(tmp_path: Path) -> None:
    planted = planted_tree(tmp_path / "a")
    for i in range(30):
        (tmp_path / "a" / f"filler{i}.py").write_text("x = 1\n" * 50 + f'K{i} = "{token(GH, 100 + i)}"\n')
    one = run_cli("scan", "--no-baseline", "--format", "json", "-j", "1", str(tmp_path / "a"))
    two = run_cli("scan", "--no-baseline", "--format", "json", "-j", "2", str(tmp_path / "a"))
    assert one.code == two.code == 1
    f1, f2 = json.loads(one.out), json.loads(two.out)
    assert f1["findings"] == f2["findings"]
    assert len(f1["findings"]) == len(planted) + 30
    assert f1["summary"]["files_scanned"] == f2["summary"]["files_scanned"] == 34


def test_scanning_a_subfolder_uses_the_root_baseline(repo: Repo) -> None:
    secret = token(GH, 120)
    repo.commit("init", **{"svc/app.py": f'T = "{secret}"\n'})
    created = run_cli("baseline", "create", cwd=repo.path)
    assert created.code == 0, created.err
    res = run_cli("scan", "--format", "json", "svc", cwd=repo.path)
    assert res.code == 0, res.out
    doc = json.loads(res.out)
    assert doc["summary"]["suppressed_by_baseline"] == 1
    # the baseline file itself is never scanned as input
    assert all(f["path"] != "baseline.json" for f in doc["findings"])


def test_a_folder_git_ignores_is_scanned_when_named(repo: Repo) -> None:
    repo.commit("ignore", **{".gitignore": "build/\n"})
    repo.write("build/out/config.env", f"T={token(GH, 130)}\n")
    code, doc, _ = scan_json(str(repo.path / "build"))
    assert code == 1
    assert [f["path"] for f in doc["findings"]] == ["out/config.env"]
    code, doc, _ = scan_json(str(repo.path))  # from the root, the ignored folder stays out
    assert code == 0


def test_non_ascii_text_around_pattern_prefilter_hits(tmp_path: Path) -> None:
    secret = token("{alnum:20}", 140)
    (tmp_path / "i18n.env").write_text(f"# café ü€ 日本\nDB_PASSWORD=é{secret}\nAPI_KEY=日本{token('{alnum:24}', 141)}\n")
    code, doc, err = scan_json(str(tmp_path))
    assert "Traceback" not in err
    assert code == 1
    assert sorted(f["line"] for f in doc["findings"]) == [2, 3]
