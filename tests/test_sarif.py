"""SARIF 2.1.0 output parsed with a SARIF model; the fields GitHub code scanning needs."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli, token
from sarif_pydantic import Sarif

GH = "ghp_{alnum:36}"


def _sarif(root: Path) -> tuple[Sarif, dict]:
    res = run_cli("scan", "--no-baseline", "--format", "sarif", str(root))
    assert res.code == 1, res.err
    return Sarif.model_validate_json(res.out), json.loads(res.out)


def test_sarif_validates_and_carries_code_scanning_fields(tmp_path: Path) -> None:
    secret = token(GH, 1)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(f'\n\nTOKEN = "{secret}"\n')
    model, raw = _sarif(tmp_path)
    assert model.version == "2.1.0"
    run = model.runs[0]
    assert run.tool.driver.name == "leaktrap"
    rule_ids = [r.id for r in run.tool.driver.rules]
    assert rule_ids == sorted(rule_ids) and "github-pat-classic" in rule_ids
    result = run.results[0]
    assert result.rule_id == "github-pat-classic"
    assert rule_ids[result.rule_index] == "github-pat-classic"
    loc = result.locations[0].physical_location
    assert loc.artifact_location.uri == "src/app.py"
    assert loc.region.start_line == 3
    assert loc.region.start_column == 10
    assert result.message.text and secret not in result.message.text
    props = raw["runs"][0]["tool"]["driver"]["rules"][rule_ids.index("github-pat-classic")]["properties"]
    assert float(props["security-severity"]) >= 9.0
    assert secret not in json.dumps(raw)


def test_partial_fingerprint_survives_line_moves(tmp_path: Path) -> None:
    secret = token(GH, 2)
    f = tmp_path / "app.py"
    f.write_text(f'TOKEN = "{secret}"\n')
    _m, first = _sarif(tmp_path)
    f.write_text("# a comment\n# another\n\n" + f'TOKEN =   "{secret}"\n')
    _m, second = _sarif(tmp_path)
    r1, r2 = first["runs"][0]["results"][0], second["runs"][0]["results"][0]
    assert r1["partialFingerprints"] == r2["partialFingerprints"]
    assert r1["locations"][0]["physicalLocation"]["region"]["startLine"] == 1
    assert r2["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
