"""False-positive filters: inline allow markers, placeholders, obvious non-secrets."""

from __future__ import annotations

import regex

ALLOW_MARKERS = ("leaktrap:allow", "gitleaks:allow", "pragma: allowlist secret")
NEXTLINE_MARKER = "pragma: allowlist nextline secret"


def line_allows(line: str, previous_line: str = "") -> bool:
    """True when the line (or, detect-secrets style, the line above) carries an allow marker."""
    lowered = line.lower()
    if any(marker in lowered for marker in ALLOW_MARKERS):
        return True
    return NEXTLINE_MARKER in previous_line.lower()


_PLACEHOLDER = regex.compile(
    r"""(?ix)
    ^(?:
        .*\$\{[^}]*\}.*            # ${VAR}
      | .*\{\{[^}]*\}\}.*          # {{ template }}
      | .*%\([a-z_]+\)s.*          # %(name)s
      | \$[A-Za-z_][A-Za-z0-9_]*   # $VAR
      | .*<[^>]{1,60}>.*           # <token>
      | .*\b(?:your|my|the)[_-]?(?:api[_-]?)?(?:key|token|secret|password|pass|pwd)\b.*
      | .*(?:your|insert|enter|replace|put|add)[_-]?(?:your|here|me|the)?[_-]?.*(?:here|key|token|secret|password).*
      | .*(?:x{4,}|\*{3,}|\.{3,}|\#{4,}|_{4,}).*
      | (?:change[_-]?me|changeit|placeholder|redacted|example|sample|dummy|fake|foobar|secret|password|passwd|token|
           null|none|nil|undefined|true|false|empty|default|test|testing|todo|tbd|fixme|n/?a|\*+|-+)
      | .*(?:os\.getenv|os\.environ|process\.env|getenv\(|environ\[|System\.getenv|ENV\[|secrets\.|vault:|ssm:|
           secretsmanager|keyvault|\bsecretKeyRef\b|valueFrom).*
    )$
    """
)
_UUID = regex.compile(r"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_HASH_HEX = regex.compile(r"(?i)^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128})$")
_PATHLIKE = regex.compile(r"^(?:[~.]?/|[A-Za-z]:\\|\.\.?[/\\])|^[\w.-]+(?:/[\w.-]+){2,}/?$")
_URL_NO_CREDS = regex.compile(r"(?i)^[a-z][a-z0-9+.-]*://[^@\s/]+(?:/\S*)?$")
_CODE_REF = regex.compile(
    r"""(?x)^(?:
        [A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+(?:\(\))?    # obj.attr, module.func()
      | [A-Za-z_]\w*\(.*\)                            # call(...)
      | [A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+                 # CONSTANT_NAME
      | [a-z]+(?:_[a-z]+)+                            # snake_case identifier
      | [a-z]+(?:[A-Z][a-z]+)+                        # camelCase identifier
      | [\w-]+\.(?:py|js|ts|json|ya?ml|toml|txt|pem|key|crt|cfg|conf|ini|env|html|md|sh)
    )$"""
)
_REPEATED = regex.compile(r"^(.)\1{5,}$|^(?:0123456789|123456789|abcdefghij|qwerty)", regex.IGNORECASE)
LOCK_FILES = (
    "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "Pipfile.lock", "Cargo.lock",
    "go.sum", "composer.lock", "Gemfile.lock", "uv.lock", "pdm.lock", "mix.lock", "pubspec.lock",
    "packages.lock.json", "flake.lock", "gradle.lockfile",
)


def is_placeholder(secret: str) -> bool:
    return _PLACEHOLDER.match(secret) is not None


def is_non_secret(secret: str) -> str | None:
    """Why a generic candidate is obviously not a secret, or None."""
    if _UUID.match(secret):
        return "uuid"
    if _URL_NO_CREDS.match(secret):
        return "url"
    if _PATHLIKE.match(secret):
        return "path"
    if _CODE_REF.match(secret):
        return "code reference"
    if _REPEATED.match(secret):
        return "repeated or sequential characters"
    return None


def is_lock_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name in LOCK_FILES


def is_hash(secret: str) -> bool:
    return _HASH_HEX.match(secret) is not None
