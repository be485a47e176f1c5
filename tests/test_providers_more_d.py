"""Verify specs for Notion, Pinecone, Postman, Pulumi, Replicate, Shippo, Snyk, Square, Supabase,
Tailscale, HCP Terraform, xAI, Cohere and Doppler against a server on 127.0.0.1 that answers in the
shapes each provider documents; the exact request (method, path, headers, body) is asserted."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from scanner.providers.spec import Specs
from test_providers_matrix import Shape, specs  # noqa: F401  (specs: fixture)
from test_providers_matrix import assert_rules_name_specs
from test_providers_matrix import test_provider_shape as _check_shape


@dataclass
class QShape(Shape):
    no_body: bool = True  # GET/POST without a body


B = "Bearer {secret}"
NOTION = ("notion", "notion-integration-token", "ntn_{digit:11}{alnum:35}")
NOTION_LEGACY = ("notion", "notion-integration-token-legacy", "secret_{alnum:43}")
PINECONE = ("pinecone", "pinecone-api-key", "pcsk_{alnum:6}_{alnum:63}")
POSTMAN = ("postman", "postman-api-key", "PMAK-{hex:24}-{hex:34}")
PULUMI = ("pulumi", "pulumi-access-token", "pul-{hex:40}")
REPLICATE = ("replicate", "replicate-api-token", "r8_{alnum:37}")
SHIPPO = ("shippo", "shippo-live-api-token", "shippo_live_{hex:40}")
SNYK = ("snyk", "snyk-api-token", "{hex:8}-{hex:4}-{hex:4}-{hex:4}-{hex:12}")
SQUARE = ("square", "square-access-token", "EAAA{b64url:60}")
SQUARE_LEGACY = ("square", "square-access-token-legacy", "sq0atp-{b64url:22}")
SUPABASE = ("supabase", "supabase-personal-access-token", "sbp_{hex:40}")
TAILSCALE = ("tailscale", "tailscale-api-access-token", "tskey-api-{alnum:7}CNTRL-{alnum:33}")
TFC = ("terraform-cloud", "terraform-cloud-api-token", "{alnum:14}.atlasv1.{b64url:67}")
XAI = ("xai", "xai-api-key", "xai-{alnum:80}")
COHERE = ("cohere", "cohere-api-key", "{alnum:40}")
DOPPLER = ("doppler", "doppler-personal-token", "dp.pt.{alnum:43}")
DOPPLER_ST = ("doppler", "doppler-service-token", "dp.st.prd.{alnum:43}")


def S(id: str, kind: tuple[str, str, str], method: str, path: str, headers: dict[str, str], status: int, expect: str, reply: Any, query: str | None = None) -> QShape:
    spec, rule_id, template = kind
    return QShape(id, "verify", spec, rule_id, template, method, path, headers, status, expect, reply, query=query)


NOTION_H = {"Authorization": B, "Notion-Version": "2022-06-28"}
PULUMI_H = {"Authorization": "token {secret}", "Accept": "application/vnd.pulumi+8", "Content-Type": "application/json"}
SQUARE_H = {"Authorization": B, "Square-Version": "2025-01-23"}
TFC_H = {"Authorization": B, "Content-Type": "application/vnd.api+json"}
SNYK_H = {"Authorization": "token {secret}", "Accept": "application/vnd.api+json"}
XAI_OK = {"redacted_api_key": "xai-...b14o", "api_key_id": "k1", "user_id": "u1", "team_id": "t1", "acls": ["api-key:model:*"], "api_key_blocked": False, "api_key_disabled": False, "team_blocked": False}

SHAPES = [
    # Notion: GET /v1/users/me
    S("notion-verify-valid", NOTION, "GET", "/v1/users/me", NOTION_H, 200, "valid", {"object": "user", "id": "16d84278", "name": "pied piper", "type": "bot", "bot": {}}),
    S("notion-legacy-verify-valid", NOTION_LEGACY, "GET", "/v1/users/me", NOTION_H, 200, "valid", {"object": "user", "id": "16d84278", "type": "bot"}),
    S("notion-verify-invalid", NOTION, "GET", "/v1/users/me", NOTION_H, 401, "invalid", {"object": "error", "status": 401, "code": "unauthorized", "message": "API token is invalid."}),
    S("notion-verify-restricted", NOTION, "GET", "/v1/users/me", NOTION_H, 403, "unknown", {"object": "error", "status": 403, "code": "restricted_resource"}),
    # Pinecone: GET /indexes with Api-Key
    S("pinecone-verify-valid", PINECONE, "GET", "/indexes", {"Api-Key": "{secret}", "X-Pinecone-Api-Version": "2025-04"}, 200, "valid", {"indexes": []}),
    S("pinecone-verify-invalid", PINECONE, "GET", "/indexes", {"Api-Key": "{secret}"}, 401, "invalid", {"error": {"code": "UNAUTHENTICATED", "message": "Invalid API Key"}, "status": 401}),
    S("pinecone-verify-quota", PINECONE, "GET", "/indexes", {"Api-Key": "{secret}"}, 403, "unknown", {"error": {"code": "FORBIDDEN"}}),
    # Postman: GET /me with X-API-Key; a 401 counts only with Postman's own error body
    S("postman-verify-valid", POSTMAN, "GET", "/me", {"X-API-Key": "{secret}"}, 200, "valid", {"user": {"id": 12345678, "username": "taylor", "email": "t@example.test"}}),
    S("postman-verify-invalid", POSTMAN, "GET", "/me", {"X-API-Key": "{secret}"}, 401, "invalid", {"error": {"name": "AuthenticationError", "message": "Invalid API Key. Every request requires a valid API Key to be sent."}}),
    S("postman-verify-foreign-401", POSTMAN, "GET", "/me", {"X-API-Key": "{secret}"}, 401, "unknown", {"message": "Unauthorized"}),
    # Pulumi: GET /api/user
    S("pulumi-verify-valid", PULUMI, "GET", "/api/user", PULUMI_H, 200, "valid", {"id": "u1", "githubLogin": "ada", "name": "Ada", "email": "a@example.test", "avatarUrl": "", "organizations": []}),
    S("pulumi-verify-invalid", PULUMI, "GET", "/api/user", PULUMI_H, 401, "invalid", {"code": 401, "message": "Unauthorized: No credentials provided or are invalid."}),
    # Replicate: GET /v1/account
    S("replicate-verify-valid", REPLICATE, "GET", "/v1/account", {"Authorization": B}, 200, "valid", {"type": "organization", "username": "acme", "name": "Acme Corp, Inc."}),
    S("replicate-verify-invalid", REPLICATE, "GET", "/v1/account", {"Authorization": B}, 401, "invalid", {"title": "Unauthenticated", "detail": "You did not pass a valid authentication token", "status": 401}),
    # Shippo: GET /addresses/ with ShippoToken
    S("shippo-verify-valid", SHIPPO, "GET", "/addresses/", {"Authorization": "ShippoToken {secret}"}, 200, "valid", {"next": None, "previous": None, "results": []}),
    S("shippo-verify-invalid", SHIPPO, "GET", "/addresses/", {"Authorization": "ShippoToken {secret}"}, 401, "invalid", {"detail": "Token does not exist"}),
    S("shippo-verify-other-401", SHIPPO, "GET", "/addresses/", {"Authorization": "ShippoToken {secret}"}, 401, "unknown", {"detail": "Authentication credentials were not provided."}),
    # Snyk: GET /rest/self?version=... with "token"
    S("snyk-verify-valid", SNYK, "GET", "/rest/self", SNYK_H, 200, "valid", {"jsonapi": {"version": "1.0"}, "data": {"type": "user", "id": "55a348e2-c3ad-4bbc-b40e-9b232d1f4121", "attributes": {"name": "Ada"}}}, query="version=2024-06-10"),
    S("snyk-verify-invalid", SNYK, "GET", "/rest/self", SNYK_H, 401, "invalid", {"status": "401", "code": "Unauthorized"}, query="version=2024-06-10"),
    # Square: GET /v2/locations
    S("square-verify-valid", SQUARE, "GET", "/v2/locations", SQUARE_H, 200, "valid", {"locations": [{"id": "L1", "name": "Main", "status": "ACTIVE"}]}),
    S("square-legacy-verify-valid", SQUARE_LEGACY, "GET", "/v2/locations", SQUARE_H, 200, "valid", {"locations": [{"id": "L1"}]}),
    S("square-verify-invalid", SQUARE, "GET", "/v2/locations", SQUARE_H, 401, "invalid", {"errors": [{"category": "AUTHENTICATION_ERROR", "code": "UNAUTHORIZED", "detail": "This request could not be authorized."}]}),
    S("square-verify-forbidden", SQUARE, "GET", "/v2/locations", SQUARE_H, 403, "unknown", {"errors": [{"category": "AUTHENTICATION_ERROR", "code": "INSUFFICIENT_SCOPES"}]}),
    # Supabase: GET /v1/projects (a JSON array)
    S("supabase-verify-valid", SUPABASE, "GET", "/v1/projects", {"Authorization": B}, 200, "valid", [{"id": "p1", "ref": "abcdefghijklmnop", "name": "app", "status": "ACTIVE_HEALTHY"}]),
    S("supabase-verify-valid-empty", SUPABASE, "GET", "/v1/projects", {"Authorization": B}, 200, "valid", []),
    S("supabase-verify-invalid", SUPABASE, "GET", "/v1/projects", {"Authorization": B}, 401, "invalid", {"message": "Unauthorized"}),
    # Tailscale: GET /api/v2/tailnet/-/devices
    S("tailscale-verify-valid", TAILSCALE, "GET", "/api/v2/tailnet/-/devices", {"Authorization": B}, 200, "valid", {"devices": [{"id": "1", "name": "host.tailnet.ts.net"}]}),
    S("tailscale-verify-invalid", TAILSCALE, "GET", "/api/v2/tailnet/-/devices", {"Authorization": B}, 401, "invalid", {"message": "API token invalid"}),
    # HCP Terraform: GET /api/v2/account/details
    S("terraform-cloud-verify-valid", TFC, "GET", "/api/v2/account/details", TFC_H, 200, "valid", {"data": {"id": "user-V3R563qtJNcExAkN", "type": "users", "attributes": {"username": "admin"}}}),
    S("terraform-cloud-verify-invalid", TFC, "GET", "/api/v2/account/details", TFC_H, 401, "invalid", {"errors": [{"status": "401", "title": "unauthorized"}]}),
    # xAI: GET /v1/api-key
    S("xai-verify-valid", XAI, "GET", "/v1/api-key", {"Authorization": B}, 200, "valid", XAI_OK),
    S("xai-verify-blocked", XAI, "GET", "/v1/api-key", {"Authorization": B}, 200, "unknown", {**XAI_OK, "api_key_blocked": True}),
    S("xai-verify-invalid", XAI, "GET", "/v1/api-key", {"Authorization": B}, 400, "invalid", {"code": "Client specified an invalid argument", "error": "Incorrect API key provided"}),
    # Cohere: POST /v1/check-api-key
    S("cohere-verify-valid", COHERE, "POST", "/v1/check-api-key", {"Authorization": B}, 200, "valid", {"valid": True, "organization_id": "o1", "owner_id": "u1"}),
    S("cohere-verify-invalid-body", COHERE, "POST", "/v1/check-api-key", {"Authorization": B}, 200, "invalid", {"valid": False}),
    S("cohere-verify-invalid", COHERE, "POST", "/v1/check-api-key", {"Authorization": B}, 401, "invalid", {"message": "invalid api token"}),
    # Doppler: GET /v3/me
    S("doppler-verify-valid", DOPPLER, "GET", "/v3/me", {"Authorization": B}, 200, "valid", {"slug": "s1", "name": "laptop", "type": "personal", "token_preview": "dp.pt.abc...", "workplace": {"slug": "w", "name": "Acme"}}),
    S("doppler-service-verify-valid", DOPPLER_ST, "GET", "/v3/me", {"Authorization": B}, 200, "valid", {"slug": "s2", "name": "ci", "type": "service_token", "workplace": {"slug": "w"}}),
    S("doppler-verify-invalid", DOPPLER, "GET", "/v3/me", {"Authorization": B}, 401, "invalid", {"messages": ["Invalid Auth token"], "success": False}),
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.id)
def test_provider_shape_more_d(shape: QShape, srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:  # noqa: F811
    _check_shape(shape, srv, specs, tmp_path)


def test_rules_point_at_the_new_specs(specs: Specs) -> None:  # noqa: F811
    # credential kinds the endpoints cannot judge carry no verify spec
    assert_rules_name_specs(
        specs,
        (NOTION, NOTION_LEGACY, PINECONE, POSTMAN, PULUMI, REPLICATE, SHIPPO, SNYK, SQUARE, SQUARE_LEGACY, SUPABASE, TAILSCALE, TFC, XAI, COHERE, DOPPLER, DOPPLER_ST),
        ("supabase-secret-key", "shippo-test-api-token", "tailscale-auth-key", "tailscale-oauth-client-secret", "square-oauth-secret"),
    )
