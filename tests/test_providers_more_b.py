"""Airtable, Asana, Contentful, Dropbox, Fastly, Figma and Flutterwave specs against a server on 127.0.0.1.

Each spec: verify valid and invalid (and the answers that must stay unknown), with the exact
request asserted (method, path, headers). Dropbox and Fastly document a self-revoke with the
token itself: revoke success and rejection too. EasyPost (HTTP Basic only) and Fly.io (no
documented who-am-I endpoint) have no spec: their rules must stay unknown without a request.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from conftest import token
from scanner.providers.runner import execute
from scanner.providers.spec import Specs
from test_providers_matrix import Shape, credential, ctx, specs  # noqa: F401  (specs: the fixture)
from test_providers_matrix import test_provider_shape as _check_shape

B = "Bearer {secret}"
AIRTABLE = ("airtable-personal-access-token", "pat{alnum:14}.{hex:64}")
ASANA = ("asana-personal-access-token", "2/{digit:16}/{digit:16}:{hex:32}")
ASANA_LEGACY = ("asana-personal-access-token", "1/{digit:16}:{hex:32}")
CONTENTFUL = ("contentful-personal-access-token", "CFPAT-{b64url:43}")
DROPBOX = ("dropbox-short-lived-token", "sl.B{b64url:137}")
DROPBOX_LEGACY = ("dropbox-long-lived-token", "{alnum:11}AAAAAAAAAA{b64url:43}")
FASTLY = ("fastly-api-token", "{b64url:32}")
FIGMA = ("figma-personal-access-token", "figd_{b64url:40}")
FLUTTERWAVE = ("flutterwave-secret-key", "FLWSECK-{hex:32}-X")


def _shape(sid: str, action: str, spec: str, rule: tuple[str, str], method: str, path: str,
           headers: dict[str, str], status: int, expect: str, reply: object) -> Shape:
    return Shape(sid, action, spec, rule[0], rule[1], method, path, headers, status, expect, reply)


_DROPBOX_ERR = lambda tag: {"error_summary": f"{tag}/..", "error": {".tag": tag}}  # noqa: E731
_CF_ERR = lambda code, msg: {"sys": {"type": "Error", "id": code}, "message": msg, "requestId": "r1"}  # noqa: E731

SHAPES = [
    # Airtable: GET /v0/meta/whoami
    _shape("airtable-verify-valid", "verify", "airtable", AIRTABLE, "GET", "/v0/meta/whoami", {"Authorization": B}, 200, "valid", {"id": "usrL2PNC5o3H4lBEi"}),
    _shape("airtable-verify-invalid", "verify", "airtable", AIRTABLE, "GET", "/v0/meta/whoami", {"Authorization": B}, 401, "invalid", {"error": {"type": "AUTHENTICATION_REQUIRED", "message": "Authentication required"}}),
    _shape("airtable-verify-no-id", "verify", "airtable", AIRTABLE, "GET", "/v0/meta/whoami", {"Authorization": B}, 200, "unknown", {}),
    _shape("airtable-verify-forbidden", "verify", "airtable", AIRTABLE, "GET", "/v0/meta/whoami", {"Authorization": B}, 403, "unknown", {"error": {"type": "INVALID_PERMISSIONS"}}),
    # Asana: GET /api/1.0/users/me
    _shape("asana-verify-valid", "verify", "asana", ASANA, "GET", "/api/1.0/users/me", {"Authorization": B}, 200, "valid", {"data": {"gid": "12345", "resource_type": "user", "name": "Greg Sanchez"}}),
    _shape("asana-verify-valid-legacy-format", "verify", "asana", ASANA_LEGACY, "GET", "/api/1.0/users/me", {"Authorization": B}, 200, "valid", {"data": {"gid": "12345", "name": "Greg"}}),
    _shape("asana-verify-invalid", "verify", "asana", ASANA, "GET", "/api/1.0/users/me", {"Authorization": B}, 401, "invalid", {"errors": [{"message": "Not Authorized"}]}),
    _shape("asana-verify-payment-required", "verify", "asana", ASANA, "GET", "/api/1.0/users/me", {"Authorization": B}, 402, "unknown", {"errors": [{"message": "Payment Required"}]}),
    # Contentful: GET /users/me on the CMA
    _shape("contentful-verify-valid", "verify", "contentful", CONTENTFUL, "GET", "/users/me", {"Authorization": B}, 200, "valid", {"firstName": "Dwight", "sys": {"id": "exampleuserid", "type": "User"}}),
    _shape("contentful-verify-invalid", "verify", "contentful", CONTENTFUL, "GET", "/users/me", {"Authorization": B}, 401, "invalid", _CF_ERR("AccessTokenInvalid", "The access token you sent could not be found or is invalid.")),
    _shape("contentful-verify-other-401", "verify", "contentful", CONTENTFUL, "GET", "/users/me", {"Authorization": B}, 401, "unknown", _CF_ERR("OrganizationAccessGrantRequired", "grant required")),
    # Dropbox: POST /2/users/get_current_account, no body
    _shape("dropbox-verify-valid", "verify", "dropbox", DROPBOX, "POST", "/2/users/get_current_account", {"Authorization": B}, 200, "valid", {"account_id": "dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc", "name": {"display_name": "Franz Ferdinand"}}),
    _shape("dropbox-verify-valid-legacy", "verify", "dropbox", DROPBOX_LEGACY, "POST", "/2/users/get_current_account", {"Authorization": B}, 200, "valid", {"account_id": "dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc"}),
    _shape("dropbox-verify-missing-scope", "verify", "dropbox", DROPBOX, "POST", "/2/users/get_current_account", {"Authorization": B}, 401, "valid", {"error_summary": "missing_scope/..", "error": {".tag": "missing_scope", "required_scope": "account_info.read"}}),
    _shape("dropbox-verify-invalid", "verify", "dropbox", DROPBOX, "POST", "/2/users/get_current_account", {"Authorization": B}, 401, "invalid", _DROPBOX_ERR("invalid_access_token")),
    _shape("dropbox-verify-expired", "verify", "dropbox", DROPBOX, "POST", "/2/users/get_current_account", {"Authorization": B}, 401, "invalid", _DROPBOX_ERR("expired_access_token")),
    _shape("dropbox-verify-suspended", "verify", "dropbox", DROPBOX, "POST", "/2/users/get_current_account", {"Authorization": B}, 401, "unknown", _DROPBOX_ERR("user_suspended")),
    _shape("dropbox-verify-plain-401", "verify", "dropbox", DROPBOX, "POST", "/2/users/get_current_account", {"Authorization": B}, 401, "unknown", "invalid_access_token"),
    _shape("dropbox-revoke", "revoke", "dropbox", DROPBOX, "POST", "/2/auth/token/revoke", {"Authorization": B}, 200, "revoked", None),
    _shape("dropbox-revoke-rejected", "revoke", "dropbox", DROPBOX_LEGACY, "POST", "/2/auth/token/revoke", {"Authorization": B}, 401, "failed", _DROPBOX_ERR("invalid_access_token")),
    # Fastly: the Fastly-Key header, tokens/self
    _shape("fastly-verify-valid", "verify", "fastly", FASTLY, "GET", "/tokens/self", {"Fastly-Key": "{secret}"}, 200, "valid", {"id": "5Yo3XXnrQpjc20u0ybrf2g", "user_id": "x9KzsrACXZv8tPwlEDsKb6", "scope": "global"}),
    _shape("fastly-verify-invalid", "verify", "fastly", FASTLY, "GET", "/tokens/self", {"Fastly-Key": "{secret}"}, 401, "invalid", {"msg": "Provided credentials are missing or invalid"}),
    _shape("fastly-verify-forbidden", "verify", "fastly", FASTLY, "GET", "/tokens/self", {"Fastly-Key": "{secret}"}, 403, "unknown", {"msg": "forbidden"}),
    _shape("fastly-revoke", "revoke", "fastly", FASTLY, "DELETE", "/tokens/self", {"Fastly-Key": "{secret}"}, 204, "revoked", ""),
    _shape("fastly-revoke-rejected", "revoke", "fastly", FASTLY, "DELETE", "/tokens/self", {"Fastly-Key": "{secret}"}, 401, "failed", {"msg": "Provided credentials are missing or invalid"}),
    # Figma: X-Figma-Token, /v1/me
    _shape("figma-verify-valid", "verify", "figma", FIGMA, "GET", "/v1/me", {"X-Figma-Token": "{secret}"}, 200, "valid", {"id": "1234", "handle": "ada", "img_url": "https://example.test/a.png", "email": "a@example.test"}),
    _shape("figma-verify-invalid", "verify", "figma", FIGMA, "GET", "/v1/me", {"X-Figma-Token": "{secret}"}, 403, "invalid", {"status": 403, "err": "Invalid token"}),
    _shape("figma-verify-scope", "verify", "figma", FIGMA, "GET", "/v1/me", {"X-Figma-Token": "{secret}"}, 403, "unknown", {"status": 403, "err": "Invalid scope(s): current_user:read"}),
    # Flutterwave: GET /v3/balances
    _shape("flutterwave-verify-valid", "verify", "flutterwave", FLUTTERWAVE, "GET", "/v3/balances", {"Authorization": B}, 200, "valid", {"status": "success", "message": "Wallet balances fetched", "data": [{"currency": "NGN", "available_balance": 10}]}),
    _shape("flutterwave-verify-invalid", "verify", "flutterwave", FLUTTERWAVE, "GET", "/v3/balances", {"Authorization": B}, 401, "invalid", {"status": "error", "message": "Invalid authorization key", "data": None}),
    _shape("flutterwave-verify-error-200", "verify", "flutterwave", FLUTTERWAVE, "GET", "/v3/balances", {"Authorization": B}, 200, "unknown", {"status": "error", "message": "something else"}),
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.id)
def test_provider_shape(shape: Shape, srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:  # noqa: F811
    _check_shape(shape, srv, specs, tmp_path)


@pytest.mark.parametrize("shape", [s for s in SHAPES if s.id in ("dropbox-verify-valid", "dropbox-revoke")], ids=lambda s: s.id)
def test_dropbox_rpc_calls_send_no_body(shape: Shape, srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    """users/get_current_account and auth/token/revoke take no arguments: nothing is sent."""
    secret = token(shape.template, shape.id + "-body")
    srv.expect_oneshot_request(shape.path, method="POST").respond_with_json({"account_id": "dbid:x"}, status=200)
    spec = (specs.verify if shape.action == "verify" else specs.revoke)["dropbox"]
    execute(spec, credential("dropbox", shape.rule_id, secret), ctx(tmp_path, srv, "dropbox"))
    request = srv.log[0][0]
    assert request.get_data() == b""
    assert "Content-Type" not in request.headers
    assert secret not in request.url


def test_new_specs_exist_and_never_put_the_secret_in_the_url(specs: Specs) -> None:
    for name in ("airtable", "asana", "contentful", "dropbox", "fastly", "figma", "flutterwave"):
        assert name in specs.verify, name
    for name in ("dropbox", "fastly"):
        assert name in specs.revoke, name
    for name in ("airtable", "asana", "contentful", "figma", "flutterwave", "easypost", "flyio"):
        assert name not in specs.revoke, name
    for table in (specs.verify, specs.revoke):
        for name in ("airtable", "asana", "contentful", "dropbox", "fastly", "figma", "flutterwave"):
            if name in table:
                for step in table[name].steps:
                    assert "{secret}" not in step.url, name


@pytest.mark.parametrize(("spec", "rule"), [
    ("easypost", ("easypost-production-api-key", "EZAK{hex:54}")),
    ("flyio", ("flyio-personal-access-token", "fo1_{b64url:43}")),
])
def test_providers_without_a_documented_endpoint_have_no_spec(spec: str, rule: tuple[str, str], specs: Specs) -> None:
    assert spec not in specs.verify and spec not in specs.revoke
    assert token(rule[1], spec)  # the rule's format still generates (no request is ever built)
