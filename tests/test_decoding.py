"""Encoded secrets (base64, hex, percent) are decoded and reported at the encoded run's line."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from conftest import run_cli, token

GH = "ghp_{alnum:36}"


def _scan(root: Path, *extra: str) -> dict:
    res = run_cli("scan", "--no-baseline", "--format", "json", *extra, str(root))
    assert res.code in (0, 1), res.err
    return json.loads(res.out)


def test_kubernetes_secret_base64_and_basic_auth(tmp_path: Path) -> None:
    gh = token(GH, 1)
    pw = token("{alnum:14}", 2)
    manifest = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\ndata:\n"
        f"  github-token: {base64.b64encode(gh.encode()).decode()}\n"
    )
    (tmp_path / "secret.yaml").write_text(manifest)
    basic = base64.b64encode(f"deploy:{pw}".encode()).decode()
    (tmp_path / "client.py").write_text(f'HEADERS = {{"Authorization": "Basic {basic}"}}\n')
    doc = _scan(tmp_path)
    by_path = {f["path"]: f for f in doc["findings"]}
    k8s = by_path["secret.yaml"]
    assert (k8s["rule_id"], k8s["line"], k8s["decoded"]) == ("github-pat-classic", 7, "base64")
    assert by_path["client.py"]["rule_id"] == "authorization-basic"
    assert gh not in json.dumps(doc) and pw not in json.dumps(doc)


def test_hex_and_percent_encoded_and_nested(tmp_path: Path) -> None:
    gh1, gh2, gh3 = token(GH, 3), token(GH, 4), token(GH, 5)
    nested = base64.b64encode(base64.b64encode(f"token={gh3}".encode())).decode()
    (tmp_path / "a.env").write_text(
        f"API_KEY_HEX={gh1.encode().hex()}\n"
        f"CALLBACK=https://hooks.example.test/cb?auth_token={''.join('%%%02X' % b for b in gh2.encode())}\n"
        f"SECRET_B64={nested}\n"
    )
    doc = _scan(tmp_path)
    got = sorted((f["line"], f["rule_id"], f.get("decoded")) for f in doc["findings"])
    assert got == [
        (1, "github-pat-classic", "hex"),
        (2, "github-pat-classic", "percent"),
        (3, "github-pat-classic", "base64+base64"),
    ]


def test_decoding_can_be_switched_off(tmp_path: Path) -> None:
    gh = token(GH, 6)
    (tmp_path / "s.yaml").write_text(f"# auth\nblob: {base64.b64encode(gh.encode()).decode()}\n")
    assert [f["decoded"] for f in _scan(tmp_path)["findings"]] == ["base64"]
    (tmp_path / ".leaktrap.toml").write_text("decode_depth = 0\n")
    assert _scan(tmp_path)["findings"] == []


def test_decoding_depth_is_bounded(tmp_path: Path) -> None:
    value = f"token={token(GH, 7)}".encode()
    for _ in range(4):
        value = base64.b64encode(value)
    (tmp_path / "s.yaml").write_text(f"# auth\nblob: {value.decode()}\n")
    assert _scan(tmp_path)["findings"] == []
