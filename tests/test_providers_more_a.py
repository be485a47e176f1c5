"""Cloudflare, Datadog and Sentry specs against a server on 127.0.0.1, and the ``take`` step.

Each spec: verify valid and invalid (and the answers that must stay unknown), with the exact
request asserted. Cloudflare's revocation is two steps: the verify answer (about the Bearer token
itself) gives ``result.id``, then ``DELETE /client/v4/user/tokens/{id}``; an answer without a
usable id deletes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from conftest import token
from scanner.errors import ConfigError
from scanner.providers.runner import execute, plan
from scanner.providers.spec import Specs, parse_spec
from scanner.rules import load_rules
from test_providers_matrix import Shape, credential, ctx, specs  # noqa: F401  (specs: the fixture)
from test_providers_matrix import test_provider_shape as _check_shape

B = "Bearer {secret}"
CF_USER = ("cloudflare-user-api-token", "cfut_{alnum:46}")
CF_LEGACY = ("cloudflare-api-token", "{alnum:40}")
DD = ("datadog-api-key", "{hex:32}")
SENTRY_USER = ("sentry-user-auth-token", "sntryu_{hex:64}")
SENTRY_ORG = ("sentry-org-auth-token", "sntrys_eyJpYXQiOjE3{b64:150}_{b64:43}")
CF_VERIFY = "/client/v4/user/tokens/verify"
CF_ID = "ed17574386854bf78a67040be0a770b0"


def _cf(status: str, token_id: str = CF_ID, success: bool = True) -> dict[str, Any]:
    return {"success": success, "errors": [], "messages": [], "result": {"id": token_id, "status": status}}


_CF_BAD = {"success": False, "errors": [{"code": 1000, "message": "Invalid API Token"}], "messages": [], "result": None}
_ORGS = [{"id": "2", "slug": "the-interstellar-jurisdiction", "name": "The Interstellar Jurisdiction", "status": {"id": "active", "name": "active"}}]

SHAPES = [
    # Cloudflare: the envelope's success and result.status decide
    Shape("cloudflare-verify-valid", "verify", "cloudflare", *CF_USER, "GET", CF_VERIFY, {"Authorization": B}, 200, "valid", _cf("active")),
    Shape("cloudflare-verify-valid-legacy", "verify", "cloudflare", *CF_LEGACY, "GET", CF_VERIFY, {"Authorization": B}, 200, "valid", _cf("active")),
    Shape("cloudflare-verify-disabled", "verify", "cloudflare", *CF_USER, "GET", CF_VERIFY, {"Authorization": B}, 200, "invalid", _cf("disabled")),
    Shape("cloudflare-verify-expired", "verify", "cloudflare", *CF_USER, "GET", CF_VERIFY, {"Authorization": B}, 200, "invalid", _cf("expired")),
    Shape("cloudflare-verify-invalid", "verify", "cloudflare", *CF_USER, "GET", CF_VERIFY, {"Authorization": B}, 401, "invalid", _CF_BAD),
    Shape("cloudflare-verify-200-not-success", "verify", "cloudflare", *CF_USER, "GET", CF_VERIFY, {"Authorization": B}, 200, "unknown", _cf("active", success=False)),
    Shape("cloudflare-verify-200-no-status", "verify", "cloudflare", *CF_USER, "GET", CF_VERIFY, {"Authorization": B}, 200, "unknown", {"success": True, "result": {"id": CF_ID}}),
    Shape("cloudflare-verify-403", "verify", "cloudflare", *CF_USER, "GET", CF_VERIFY, {"Authorization": B}, 403, "unknown", _CF_BAD),
    Shape("cloudflare-verify-401-not-json", "verify", "cloudflare", *CF_USER, "GET", CF_VERIFY, {"Authorization": B}, 401, "unknown", "Unauthorized"),
    # Datadog: DD-API-KEY header, {"valid": true}; 403 with errors when invalid
    Shape("datadog-verify-valid", "verify", "datadog", *DD, "GET", "/api/v1/validate", {"DD-API-KEY": "{secret}", "Accept": "application/json"}, 200, "valid", {"valid": True}, absent=("Authorization",)),
    Shape("datadog-verify-invalid", "verify", "datadog", *DD, "GET", "/api/v1/validate", {"DD-API-KEY": "{secret}"}, 403, "invalid", {"errors": ["Forbidden"]}),
    Shape("datadog-verify-valid-false", "verify", "datadog", *DD, "GET", "/api/v1/validate", {"DD-API-KEY": "{secret}"}, 200, "unknown", {"valid": False}),
    Shape("datadog-verify-403-no-errors", "verify", "datadog", *DD, "GET", "/api/v1/validate", {"DD-API-KEY": "{secret}"}, 403, "unknown", {"message": "blocked"}),
    Shape("datadog-verify-401", "verify", "datadog", *DD, "GET", "/api/v1/validate", {"DD-API-KEY": "{secret}"}, 401, "unknown", {"errors": ["Unauthorized"]}),
    # Sentry: List Your Organizations, Bearer
    Shape("sentry-verify-valid-user", "verify", "sentry", *SENTRY_USER, "GET", "/api/0/organizations/", {"Authorization": B}, 200, "valid", _ORGS),
    Shape("sentry-verify-valid-org", "verify", "sentry", *SENTRY_ORG, "GET", "/api/0/organizations/", {"Authorization": B}, 200, "valid", _ORGS),
    Shape("sentry-verify-invalid", "verify", "sentry", *SENTRY_USER, "GET", "/api/0/organizations/", {"Authorization": B}, 401, "invalid", {"detail": "Invalid token"}),
    Shape("sentry-verify-forbidden", "verify", "sentry", *SENTRY_ORG, "GET", "/api/0/organizations/", {"Authorization": B}, 403, "unknown", {"detail": "You do not have permission to perform this action."}),
    Shape("sentry-verify-empty-list", "verify", "sentry", *SENTRY_USER, "GET", "/api/0/organizations/", {"Authorization": B}, 200, "unknown", []),
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.id)
def test_more_provider_shapes(shape: Shape, srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:  # noqa: F811
    _check_shape(shape, srv, specs, tmp_path)


def test_the_rules_point_at_the_new_specs(specs: Specs) -> None:  # noqa: F811
    rules = {r.id: r for r in load_rules([])[0]}
    for rule_id in ("cloudflare-user-api-token", "cloudflare-api-token"):
        assert rules[rule_id].verify == "cloudflare" and rules[rule_id].revoke == "cloudflare", rule_id
    assert rules["datadog-api-key"].verify == "datadog"
    assert rules["sentry-user-auth-token"].verify == "sentry" and rules["sentry-org-auth-token"].verify == "sentry"
    # account-owned tokens verify at another endpoint; application keys cannot be checked alone
    assert rules["cloudflare-account-api-token"].verify is None and rules["cloudflare-account-api-token"].revoke is None
    assert rules["datadog-application-key"].verify is None
    for name in ("cloudflare", "datadog", "sentry"):
        results = {c.result for step in specs.verify[name].steps for c in step.cases}
        assert {"valid", "invalid"} <= results, name
    assert set(specs.revoke) >= {"cloudflare"} and "datadog" not in specs.revoke and "sentry" not in specs.revoke


# --- Cloudflare: the verify answer gives the id, the token deletes itself ----------------------


def _cf_secret(seed: str) -> tuple[str, dict[str, str]]:
    secret = token(CF_USER[1], seed)
    return secret, {"Authorization": f"Bearer {secret}"}


def _revoke(specs: Specs, srv: HTTPServer, tmp_path: Path, secret: str, rule_id: str = CF_USER[0]):  # noqa: F811
    return execute(specs.revoke["cloudflare"], credential("cloudflare", rule_id, secret), ctx(tmp_path, srv, "cloudflare"))


def test_cloudflare_revoke_deletes_the_id_from_the_verify_answer(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:  # noqa: F811
    secret, auth = _cf_secret("cf-revoke")
    srv.expect_ordered_request(CF_VERIFY, method="GET", headers=auth).respond_with_json(_cf("active"))
    srv.expect_ordered_request(f"/client/v4/user/tokens/{CF_ID}", method="DELETE", headers=auth).respond_with_json(
        {"success": True, "errors": [], "messages": [], "result": {"id": CF_ID}}
    )
    out = _revoke(specs, srv, tmp_path, secret)
    assert out.result == "revoked", out.reason
    assert [(r.method, r.path) for r, _ in srv.log] == [("GET", CF_VERIFY), ("DELETE", f"/client/v4/user/tokens/{CF_ID}")]
    assert all(r.headers["Authorization"] == f"Bearer {secret}" for r, _ in srv.log)
    assert srv.log[1][0].get_data() == b""
    assert secret not in out.reason and secret not in out.endpoint


def test_cloudflare_revoke_works_for_a_legacy_token_and_a_disabled_one(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:  # noqa: F811
    secret = token(CF_LEGACY[1], "cf-legacy-revoke")
    other_id = "0123456789abcdef0123456789abcdef"
    srv.expect_ordered_request(CF_VERIFY, method="GET").respond_with_json(_cf("disabled", other_id))
    srv.expect_ordered_request(f"/client/v4/user/tokens/{other_id}", method="DELETE").respond_with_json({"success": True, "result": {"id": other_id}})
    out = _revoke(specs, srv, tmp_path, secret, CF_LEGACY[0])
    assert out.result == "revoked", out.reason
    assert [r.path for r, _ in srv.log] == [CF_VERIFY, f"/client/v4/user/tokens/{other_id}"]


@pytest.mark.parametrize(
    ("reply", "expect", "why"),
    [
        ({"success": True, "errors": [], "messages": [], "result": {"status": "active"}}, "unknown", "no result.id: not a 'next' answer"),
        ({"success": True, "result": None}, "unknown", "result null"),
        ({"success": True, "result": {"id": "", "status": "active"}}, "unknown", "empty id"),
        ({"success": False, "errors": [{"code": 1000}], "result": {"id": CF_ID, "status": "active"}}, "unknown", "success false"),
        ({"success": True, "result": {"id": {"nested": CF_ID}, "status": "active"}}, "failed", "id is an object"),
        ({"success": True, "result": {"id": [CF_ID], "status": "active"}}, "failed", "id is a list"),
        ({"success": True, "result": {"id": True, "status": "active"}}, "failed", "id is a boolean"),
        ({"success": True, "result": {"id": "..", "status": "active"}}, "failed", "a dot segment"),
        ({"success": True, "result": {"id": "../../zones", "status": "active"}}, "failed", "a path"),
        ({"success": True, "result": {"id": f"{CF_ID}?x=1", "status": "active"}}, "failed", "a query"),
        ({"success": True, "result": [{"id": CF_ID}]}, "unknown", "result is a list, not the object"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_cloudflare_revoke_deletes_nothing_without_a_plain_id(reply: Any, expect: str, why: str, srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:  # noqa: F811
    secret, auth = _cf_secret(f"cf-noid-{why}")
    srv.expect_request(CF_VERIFY, method="GET", headers=auth).respond_with_json(reply)
    out = _revoke(specs, srv, tmp_path, secret)
    assert out.result == expect, (why, out.reason)
    assert [r.method for r, _ in srv.log] == ["GET"], why  # nothing was deleted
    if expect == "failed":
        assert "nothing else was sent" in out.reason


def test_cloudflare_revoke_rejected_token_stops_at_verify(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:  # noqa: F811
    secret, auth = _cf_secret("cf-rejected")
    srv.expect_request(CF_VERIFY, method="GET", headers=auth).respond_with_json(_CF_BAD, status=401)
    out = _revoke(specs, srv, tmp_path, secret)
    assert out.result == "failed" and "rejected" in out.reason
    assert [r.method for r, _ in srv.log] == ["GET"]


@pytest.mark.parametrize("status", [403, 404])
def test_cloudflare_revoke_refused_delete_is_failed(status: int, srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:  # noqa: F811
    secret, auth = _cf_secret(f"cf-refused-{status}")
    srv.expect_ordered_request(CF_VERIFY, method="GET", headers=auth).respond_with_json(_cf("active"))
    srv.expect_ordered_request(f"/client/v4/user/tokens/{CF_ID}", method="DELETE", headers=auth).respond_with_json(
        {"success": False, "errors": [{"code": 9109, "message": "Unauthorized to access requested resource"}], "result": None}, status=status
    )
    out = _revoke(specs, srv, tmp_path, secret)
    assert out.result == "failed", out.reason
    assert [r.method for r, _ in srv.log] == ["GET", "DELETE"]


def test_cloudflare_revoke_delete_answer_without_success_is_not_revoked(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:  # noqa: F811
    secret, _ = _cf_secret("cf-delete-odd")
    srv.expect_ordered_request(CF_VERIFY, method="GET").respond_with_json(_cf("active"))
    srv.expect_ordered_request(f"/client/v4/user/tokens/{CF_ID}", method="DELETE").respond_with_json({"success": False, "result": None})
    out = _revoke(specs, srv, tmp_path, secret)
    assert out.result == "unknown", out.reason


def test_cloudflare_revoke_dry_run_shows_the_take(specs: Specs) -> None:  # noqa: F811
    secret = token(CF_USER[1], "cf-plan")
    steps = plan(specs.revoke["cloudflare"], credential("cloudflare", CF_USER[0], secret), {})
    assert [s.method for s in steps] == ["GET", "DELETE"]
    assert steps[0].url == "https://api.cloudflare.com/client/v4/user/tokens/verify"
    assert steps[0].finds is not None and "'result.id'" in steps[0].finds and "{token_id}" in steps[0].finds
    assert steps[1].url == "https://api.cloudflare.com/client/v4/user/tokens/<token_id looked up in step 1>"
    assert steps[1].finds is None
    assert all(secret not in v for s in steps for _, v in s.headers)


# --- the take form itself ----------------------------------------------------------------------


def _two_steps(take: Any, action: str = "revoke", **first: Any) -> dict[str, Any]:
    done = "revoked" if action == "revoke" else "valid"
    last_case: dict[str, Any] = {"status": 200, "result": done}
    if action == "verify":
        last_case["body"] = "json"
    step1: dict[str, Any] = {"method": "GET", "url": "{base}/me", "cases": [{"status": 200, "body": "json", "result": "next"}], "take": take, **first}
    step2 = {"method": "DELETE", "url": "{base}/keys/{key_id}", "cases": [last_case, {"status": 401, "result": "invalid" if action == "verify" else "failed"}]}
    return {"base_url": "https://api.example.com", "steps": [step1, step2]}


def test_take_parses_and_binds_a_variable() -> None:
    spec = parse_spec("acme", "revoke", _two_steps({"path": "result.id", "as": "key_id"}))
    assert spec.steps[0].take is not None and spec.steps[0].take.path == "result.id"
    assert spec.steps[0].binds == "key_id" and spec.steps[1].binds is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (_two_steps({"path": "result.id"}), "needs 'path' and 'as'"),
        (_two_steps({"path": "result.id", "as": "key_id", "where": "x"}), "unknown take key"),
        (_two_steps("result.id"), "must be a table"),
        (_two_steps({"path": "", "as": "key_id"}), "must name a field"),
        (_two_steps({"path": "result.0.id", "as": "key_id"}), "no list index"),
        (_two_steps({"path": "result..id", "as": "key_id"}), "must name a field"),
        (_two_steps({"path": "result.id", "as": "secret"}), "new variable name"),
        (_two_steps({"path": "result.id", "as": "Key"}), "new variable name"),
        (
            _two_steps({"path": "result.id", "as": "key_id"}, find={"where": "token", "equals": "{secret}", "take": "id", "as": "other"}),
            "'find' or 'take', not both",
        ),
        (
            {"base_url": "https://api.example.com", "method": "DELETE", "url": "{base}/keys/x", "take": {"path": "id", "as": "key_id"},
             "cases": [{"status": 204, "result": "revoked"}]},
            "belongs to a step followed by another",
        ),
        (
            {"base_url": "https://api.example.com", "steps": [
                {"method": "GET", "url": "{base}/me/{key_id}", "take": {"path": "id", "as": "key_id"}, "cases": [{"status": 200, "body": "json", "result": "next"}]},
                {"method": "DELETE", "url": "{base}/keys/{key_id}", "cases": [{"status": 204, "result": "revoked"}]},
            ]},
            "unknown variable",
        ),
    ],
)
def test_take_is_strict(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_spec("acme", "revoke", spec)
    assert message in str(err.value)
    assert "[revoke.acme]" in str(err.value)


@pytest.mark.parametrize(
    ("reply", "expect", "second"),
    [
        ({"result": {"id": 42}}, "valid", "/keys/42"),
        ({"result": {"id": "k_1-a.b~c:d"}}, "valid", "/keys/k_1-a.b~c:d"),
        ({"result": {"id": None}}, "unknown", None),
        ({"result": {}}, "unknown", None),
        ({"id": "k1"}, "unknown", None),
        (["k1"], "unknown", None),
        ({"result": {"id": ".hidden"}}, "unknown", None),
        ({"result": {"id": "x" * 201}}, "unknown", None),
    ],
)
def test_take_in_a_verify_spec(reply: Any, expect: str, second: str | None, srv: HTTPServer, tmp_path: Path) -> None:
    spec = parse_spec("acme", "verify", _two_steps({"path": "result.id", "as": "key_id"}, action="verify"))
    secret = token("acme_{alnum:32}", f"take-{expect}-{second}-{len(str(reply))}")
    srv.expect_ordered_request("/me", method="GET").respond_with_json(reply)
    if second is not None:
        srv.expect_ordered_request(second, method="DELETE").respond_with_json({"ok": True})
    out = execute(spec, credential("acme", "acme-key", secret), ctx(tmp_path, srv, "acme"))
    assert out.result == expect, out.reason
    assert [r.path for r, _ in srv.log] == ["/me"] + ([second] if second else [])
