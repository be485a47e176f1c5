"""Verify specs for Groq, HubSpot, Intercom, Linear, Mistral AI, Netlify and New Relic.

Each spec against a server on 127.0.0.1 speaking the provider's documented shapes: a live
answer, a rejection, and answers that must stay unknown, with the exact request asserted.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from scanner.providers.spec import Specs
from test_providers_matrix import Shape, specs  # noqa: F401  (specs: fixture)
from test_providers_matrix import assert_rules_name_specs
from test_providers_matrix import test_provider_shape as _check_shape

B = "Bearer {secret}"
GROQ = ("groq", "groq-api-key", "gsk_{alnum:52}")
HUBSPOT = ("hubspot", "hubspot-private-app-token", "pat-na1-{hex:8}-{hex:4}-{hex:4}-{hex:4}-{hex:12}")
INTERCOM = ("intercom", "intercom-access-token", "dG9rOj{b64:52}=")
LINEAR = ("linear", "linear-api-key", "lin_api_{alnum:40}")
LINEAR_OAUTH = ("linear-oauth", "linear-oauth-token", "lin_oauth_{hex:64}")
MISTRAL = ("mistral", "mistral-api-key", "{alnum:32}")
NETLIFY = ("netlify", "netlify-personal-access-token", "nfp_{alnum:36}")
NETLIFY_LEGACY = ("netlify", "netlify-access-token-legacy", "{b64url:43}")
NEWRELIC = ("newrelic", "newrelic-user-api-key", "NRAK-{alnum_upper:27}")

JSON = {"Content-Type": "application/json"}
VIEWER = {"query": "{ viewer { id } }"}
ACTOR = {"query": "{ actor { user { id } } }"}
LINEAR_AUTH_ERROR = {
    "errors": [{"message": "Authentication required, not authenticated", "extensions": {"type": "authentication error", "userError": True}}],
}


def shape(sid: str, who: tuple[str, str, str], method: str, path: str, headers: dict[str, str], status: int, expect: str, reply, **kw) -> Shape:
    spec, rule_id, template = who
    return Shape(sid, "verify", spec, rule_id, template, method, path, headers, status, expect, reply, **kw)


SHAPES = [
    # Groq: OpenAI-compatible model list
    shape("groq-verify-valid", GROQ, "GET", "/openai/v1/models", {"Authorization": B}, 200, "valid", {"object": "list", "data": [{"id": "llama-3.1-8b-instant", "object": "model"}]}),
    shape("groq-verify-invalid", GROQ, "GET", "/openai/v1/models", {"Authorization": B}, 401, "invalid", {"error": {"message": "Invalid API Key", "type": "invalid_request_error", "code": "invalid_api_key"}}),
    shape("groq-verify-forbidden-unknown", GROQ, "GET", "/openai/v1/models", {"Authorization": B}, 403, "unknown", {"error": {"message": "Forbidden"}}),
    shape("groq-verify-200-not-a-list", GROQ, "GET", "/openai/v1/models", {"Authorization": B}, 200, "unknown", {"status": "ok"}),
    # HubSpot private app token
    shape("hubspot-verify-valid", HUBSPOT, "GET", "/integrations/v1/me", {"Authorization": B}, 200, "valid", {"portalId": 2519445, "timeZone": "America/New_York", "currency": "USD"}),
    shape("hubspot-verify-invalid", HUBSPOT, "GET", "/integrations/v1/me", {"Authorization": B}, 401, "invalid", {"status": "error", "message": "Authentication credentials not found.", "category": "INVALID_AUTHENTICATION"}),
    shape("hubspot-verify-missing-scope", HUBSPOT, "GET", "/integrations/v1/me", {"Authorization": B}, 403, "unknown", {"status": "error", "category": "MISSING_SCOPES"}),
    # Intercom access token
    shape("intercom-verify-valid", INTERCOM, "GET", "/admins", {"Authorization": B, "Accept": "application/json"}, 200, "valid", {"type": "admin.list", "admins": [{"type": "admin", "id": "493881"}]}),
    shape("intercom-verify-invalid", INTERCOM, "GET", "/admins", {"Authorization": B}, 401, "invalid", {"type": "error.list", "request_id": "r1", "errors": [{"code": "unauthorized", "message": "Access Token Invalid"}]}),
    shape("intercom-verify-forbidden", INTERCOM, "GET", "/admins", {"Authorization": B}, 403, "unknown", {"type": "error.list", "errors": [{"code": "action_forbidden"}]}),
    # Linear: the personal API key is the whole Authorization value; OAuth tokens are Bearer
    shape("linear-verify-valid", LINEAR, "POST", "/graphql", {"Authorization": "{secret}", **JSON}, 200, "valid", {"data": {"viewer": {"id": "u-1"}}}, json=VIEWER),
    shape("linear-verify-invalid-400", LINEAR, "POST", "/graphql", {"Authorization": "{secret}"}, 400, "invalid", LINEAR_AUTH_ERROR, json=VIEWER),
    shape("linear-verify-invalid-200", LINEAR, "POST", "/graphql", {"Authorization": "{secret}"}, 200, "invalid", {"data": None, **LINEAR_AUTH_ERROR}, json=VIEWER),
    shape("linear-verify-forbidden-unknown", LINEAR, "POST", "/graphql", {"Authorization": "{secret}"}, 400, "unknown", {"errors": [{"message": "Forbidden", "extensions": {"type": "forbidden"}}]}, json=VIEWER),
    shape("linear-verify-null-viewer", LINEAR, "POST", "/graphql", {"Authorization": "{secret}"}, 200, "unknown", {"data": {"viewer": None}}, json=VIEWER),
    shape("linear-oauth-verify-valid", LINEAR_OAUTH, "POST", "/graphql", {"Authorization": B, **JSON}, 200, "valid", {"data": {"viewer": {"id": "u-2"}}}, json=VIEWER),
    shape("linear-oauth-verify-invalid", LINEAR_OAUTH, "POST", "/graphql", {"Authorization": B}, 401, "invalid", LINEAR_AUTH_ERROR, json=VIEWER),
    # Mistral AI
    shape("mistral-verify-valid", MISTRAL, "GET", "/v1/models", {"Authorization": B}, 200, "valid", {"object": "list", "data": [{"id": "mistral-small-latest", "object": "model"}]}),
    shape("mistral-verify-invalid", MISTRAL, "GET", "/v1/models", {"Authorization": B}, 401, "invalid", {"message": "Unauthorized", "request_id": "r1"}),
    # Netlify: both token formats; the user object (or a one-user list, as the OpenAPI schema says)
    shape("netlify-verify-valid", NETLIFY, "GET", "/api/v1/user", {"Authorization": B}, 200, "valid", {"id": "5b0f", "email": "a@example.test"}),
    shape("netlify-verify-valid-list", NETLIFY, "GET", "/api/v1/user", {"Authorization": B}, 200, "valid", [{"id": "5b0f", "email": "a@example.test"}]),
    shape("netlify-verify-invalid", NETLIFY, "GET", "/api/v1/user", {"Authorization": B}, 401, "invalid", {"code": 401, "message": "Access Denied: Invalid token"}),
    shape("netlify-legacy-verify-valid", NETLIFY_LEGACY, "GET", "/api/v1/user", {"Authorization": B}, 200, "valid", {"id": "5b0f"}),
    shape("netlify-verify-empty-list", NETLIFY, "GET", "/api/v1/user", {"Authorization": B}, 200, "unknown", []),
    # New Relic NerdGraph with a user key
    shape("newrelic-verify-valid", NEWRELIC, "POST", "/graphql", {"API-Key": "{secret}", **JSON}, 200, "valid", {"data": {"actor": {"user": {"id": 1001}}}}, json=ACTOR, absent=("Authorization",)),
    shape("newrelic-verify-invalid", NEWRELIC, "POST", "/graphql", {"API-Key": "{secret}"}, 401, "invalid", {"errors": [{"message": "Invalid API key"}]}, json=ACTOR),
    shape("newrelic-verify-graphql-error", NEWRELIC, "POST", "/graphql", {"API-Key": "{secret}"}, 200, "unknown", {"data": {"actor": {"user": None}}, "errors": [{"message": "Something"}]}, json=ACTOR),
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.id)
def test_more_c_provider_shape(shape: Shape, srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:  # noqa: F811
    _check_shape(shape, srv, specs, tmp_path)


def test_more_c_specs_exist_and_rules_point_at_them(specs: Specs) -> None:  # noqa: F811
    # credentials the endpoints cannot judge are not attached to a spec
    assert_rules_name_specs(
        specs,
        (GROQ, HUBSPOT, INTERCOM, LINEAR, LINEAR_OAUTH, MISTRAL, NETLIFY, NETLIFY_LEGACY, NEWRELIC),
        ("hubspot-api-key-legacy", "newrelic-license-key", "newrelic-browser-key", "newrelic-insights-insert-key", "newrelic-insights-query-key"),
    )
