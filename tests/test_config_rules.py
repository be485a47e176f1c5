"""Configuration, user rules, rule errors, `rules list`, regex timeouts."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli, token

from scanner.rules import load_rules

GH = "ghp_{alnum:36}"

USER_RULE = """
provider = "Acme"

[[rules]]
id = "acme-api-key"
description = "Acme internal API key"
regex = '''\\b(?P<secret>acme_[a-z0-9]{24})\\b'''
keywords = ["acme_"]
severity = "high"
[rules.examples]
positive = ['ACME = "acme_{alnum_lower:24}"']
negative = ['acme_short']
"""


def test_builtin_rule_set_is_broad() -> None:
    rules, _v, _r = load_rules()
    assert len(rules) >= 60
    assert len({r.provider for r in rules}) >= 40
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids))


def test_rules_list_table_and_json() -> None:
    res = run_cli("rules", "list")
    assert res.code == 0
    assert "github-pat-classic" in res.out
    assert res.out.strip().splitlines()[-1].endswith("providers")
    res = run_cli("rules", "list", "--json")
    rows = json.loads(res.out)
    assert {"id", "provider", "severity", "keywords"} <= set(rows[0])


def test_user_rules_and_disabled_rules_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "acme.toml").write_text(USER_RULE)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.leaktrap]\nrules = ["acme.toml"]\ndisable = ["github-pat-classic"]\n'
        'exclude = ["vendor/**"]\n'
    )
    (tmp_path / "a.py").write_text(f'K = "{token("acme_{alnum_lower:24}", 1)}"\nG = "{token(GH, 2)}"\n')
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "b.py").write_text(f'K = "{token("acme_{alnum_lower:24}", 3)}"\n')
    res = run_cli("scan", "--format", "json", str(tmp_path))
    assert res.code == 1, res.err
    doc = json.loads(res.out)
    assert [(f["rule_id"], f["path"]) for f in doc["findings"]] == [("acme-api-key", "a.py")]


def test_leaktrap_toml_is_used_and_unknown_keys_are_errors(tmp_path: Path) -> None:
    (tmp_path / ".leaktrap.toml").write_text('exclude = ["*.txt"]\nmax_file_sise = 10\n')
    res = run_cli("scan", str(tmp_path))
    assert res.code == 2
    assert "unknown key(s): max_file_sise" in res.err
    assert "Traceback" not in res.err


def test_size_limit_from_config(tmp_path: Path) -> None:
    (tmp_path / ".leaktrap.toml").write_text("max_file_size = 100\n")
    (tmp_path / "big.txt").write_text("x" * 200 + token(GH, 5))
    res = run_cli("scan", "--format", "json", str(tmp_path))
    doc = json.loads(res.out)
    assert res.code == 0
    assert doc["skipped"][0]["path"] == "big.txt"


def test_bad_rule_file_names_file_and_rule(tmp_path: Path) -> None:
    bad = USER_RULE.replace("(?P<secret>acme_[a-z0-9]{24})", "(?P<secret>acme_[a-z0-9{24})")
    (tmp_path / "acme.toml").write_text(bad)
    (tmp_path / ".leaktrap.toml").write_text('rules = ["acme.toml"]\n')
    res = run_cli("scan", str(tmp_path))
    assert res.code == 2
    assert "acme.toml" in res.err and "acme-api-key" in res.err and "invalid regex" in res.err


def test_rule_without_secret_group_or_keywords_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "r.toml").write_text(USER_RULE.replace("(?P<secret>", "(").replace('keywords = ["acme_"]', ""))
    (tmp_path / ".leaktrap.toml").write_text('rules = ["r.toml"]\n')
    res = run_cli("scan", str(tmp_path))
    assert res.code == 2
    assert "acme-api-key" in res.err and "secret" in res.err


def test_malformed_toml_rule_file(tmp_path: Path) -> None:
    (tmp_path / "r.toml").write_text("[[rules]\nid = 'x'\n")
    (tmp_path / ".leaktrap.toml").write_text('rules = ["r.toml"]\n')
    res = run_cli("scan", str(tmp_path))
    assert res.code == 2
    assert "r.toml" in res.err and "invalid TOML" in res.err


def test_catastrophic_regex_times_out_with_a_warning_and_the_scan_goes_on(tmp_path: Path) -> None:
    (tmp_path / "slow.toml").write_text(
        """
provider = "Slow"
[[rules]]
id = "slow-rule"
description = "catastrophic backtracking"
regex = '''(?P<secret>(a|aa)+)$'''
keywords = ["aaaa"]
[rules.examples]
positive = ['aaaa']
negative = ['b']
"""
    )
    (tmp_path / ".leaktrap.toml").write_text('rules = ["slow.toml"]\nregex_timeout = 0.5\n')
    (tmp_path / "evil.txt").write_text("a" * 5000 + "b\n")
    (tmp_path / "real.txt").write_text(token(GH, 7) + "\n")
    res = run_cli("scan", "--format", "json", str(tmp_path))
    doc = json.loads(res.out)
    assert res.code == 1
    assert any("slow-rule" in w and "evil.txt" in w for w in doc["warnings"])
    assert [f["path"] for f in doc["findings"]] == ["real.txt"]


def test_min_confidence_filters(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_login.py").write_text(f'password = "{token("{alnum:12}", 9)}"\n')
    res = run_cli("scan", "--format", "json", str(tmp_path))
    assert json.loads(res.out)["findings"] == []
    res = run_cli("scan", "--format", "json", "--min-confidence", "low", str(tmp_path))
    findings = json.loads(res.out)["findings"]
    assert [(f["rule_id"], f["confidence"]) for f in findings] == [("generic-password", "low")]


def test_rule_cache_is_used_and_a_corrupt_cache_is_rebuilt(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {"LEAKTRAP_CACHE_DIR": str(cache)}
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text(f'T = "{token(GH, 11)}"\n')
    first = run_cli("scan", "--no-baseline", str(tmp_path / "src"), env=env)
    assert first.code == 1
    files = list(cache.glob("rules-*.json"))
    assert len(files) == 1
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"
    files[0].write_text("{ not json")
    for db in cache.glob("prefilter-*.hsdb"):
        db.write_bytes(b"garbage")
    second = run_cli("scan", "--no-baseline", str(tmp_path / "src"), env=env)
    assert second.code == 1
    findings = [line for line in first.out.splitlines() if line.startswith("  ")]
    assert findings and findings == [line for line in second.out.splitlines() if line.startswith("  ")]
    assert json.loads(files[0].read_text())["rules"]  # rebuilt


def test_changed_rule_file_is_revalidated_despite_the_cache(tmp_path: Path) -> None:
    env = {"LEAKTRAP_CACHE_DIR": str(tmp_path / "cache")}
    (tmp_path / "acme.toml").write_text(USER_RULE)
    (tmp_path / ".leaktrap.toml").write_text('rules = ["acme.toml"]\n')
    assert run_cli("scan", str(tmp_path), env=env).code == 0
    (tmp_path / "acme.toml").write_text(USER_RULE.replace("[a-z0-9]{24})", "[a-z0-9{24})"))
    res = run_cli("scan", str(tmp_path), env=env)
    assert res.code == 2 and "invalid regex" in res.err
