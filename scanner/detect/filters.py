"""False-positive filters: inline allow markers, placeholders, obvious non-secrets.

The patterns are compiled on first use (most runs need few of them, or none),
from the program store when it holds them (see scanner.regexcode).
"""

from __future__ import annotations

from ..regexcode import lazy

ALLOW_MARKERS = ("leaktrap:allow", "gitleaks:allow", "pragma: allowlist secret")
NEXTLINE_MARKER = "pragma: allowlist nextline secret"


def line_allows(line: str, previous_line: str = "") -> bool:
    """True when the line (or, detect-secrets style, the line above) carries an allow marker."""
    lowered = line.lower()
    if any(marker in lowered for marker in ALLOW_MARKERS):
        return True
    return NEXTLINE_MARKER in previous_line.lower()


_PLACEHOLDER = lazy(
    r"""(?ix)
    ^(?:
        .*\$\{[^}]*\}.*            # ${VAR}
      | .*\{[A-Za-z_][\w:.\[\]-]*\}.*   # {name}, {name:spec} (format strings, templates)
      | .*\{\{[^}]*\}\}.*          # {{ template }}
      | .*%\([a-z_]+\)s.*          # %(name)s
      | \$[A-Za-z_][A-Za-z0-9_]*   # $VAR
      | .*<(?:[A-Za-z][\w .:/-]{0,58}|%[^<>]{0,56}%)>.*   # <token>, <your key>, <%= var %>: a name in
                                                          # brackets, not any '<' ... '>' of a random value
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
_UUID = lazy(r"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_PATHLIKE = lazy(r"^(?:[~.]?/|[A-Za-z]:\\|\.\.?[/\\])|^[\w.-]+(?:/[\w.-]+){2,}/?$")
_URL_NO_CREDS = lazy(r"(?i)^[a-z][a-z0-9+.-]*://[^@\s/]+(?:/\S*)?$")
_CODE_REF = lazy(
    r"""(?x)^(?:
        [A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+(?:\(\))?    # obj.attr, module.func()
      | [A-Za-z_]\w*\(.*\)                            # call(...)
      | [A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+                 # CONSTANT_NAME
      | [a-z]+(?:_[a-z]+)+                            # snake_case identifier
      | [a-z]+(?:[A-Z][a-z]+)+                        # camelCase identifier
      | [\w-]+\.(?:py|js|ts|json|ya?ml|toml|txt|pem|key|crt|cfg|conf|ini|env|html|md|sh)
    )$"""
)
# Salted password hashes are stored verifiers, not secrets: modular crypt ($2b$, $6$, $argon2id$...),
# Django hashers, LDAP {SSHA}, PostgreSQL SCRAM / md5 and MySQL native hashes.
_SALTED_HASH = lazy(
    r"""(?x)^(?:
        \$(?:2[abxy]?|5|6|y|gy|7|argon2(?:id|i|d)|apr1|pbkdf2(?:-sha\d+)?|scrypt|sha1)\$   # modular crypt format
      | (?:pbkdf2_sha\d+|bcrypt(?:_sha256)?|argon2|scrypt|sha1|md5|crypt)\$                 # Django hashers
      | \{(?:SSHA\d*|SHA\d*|SMD5|MD5|CRYPT|PBKDF2(?:-SHA\d+)?|ARGON2)\}                      # LDAP
      | SCRAM-SHA-\d+\$ | md5[0-9a-f]{32}$ | \*[0-9A-F]{40}$                                  # PostgreSQL, MySQL
    )"""
)
# one part of a dotted name that is code: snake_case, CONSTANT, camelCase or PascalCase
_IDENT = lazy(r"^(?:[a-z_][a-z0-9_]*|[A-Z_][A-Z0-9_]*|[a-z]+(?:[A-Z][a-z]+)*[0-9]*|(?:[A-Z][a-z]+)+[0-9]*)$")
# one segment of a relative path: a word in one case, or a file name
_PATH_SEGMENT = lazy(r"^(?:[a-z0-9_.-]+|[A-Z0-9_.-]+|[A-Za-z0-9_-]+\.[A-Za-z0-9]{1,6})$")
_REPEATED = lazy(r"(?i)^(.)\1{5,}$|^(?:0123456789|123456789|abcdefghij|qwerty)")
LOCK_FILES = (
    "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "Pipfile.lock", "Cargo.lock",
    "go.sum", "composer.lock", "Gemfile.lock", "uv.lock", "pdm.lock", "mix.lock", "pubspec.lock",
    "packages.lock.json", "flake.lock", "gradle.lockfile",
)


GENERIC_STOPWORDS = (
    "changeme", "change_me", "change-me", "example", "placeholder", "dummy", "insecure", "notsecret",
    "not-a-secret", "not_a_secret", "sample", "fake", "redacted", "xxxxx", "your_", "your-", "yourkey",
    "123456789", "abcdefgh", "lorem", "foobar", "replace_me", "replaceme",
)


def is_placeholder(secret: str) -> bool:
    if _PLACEHOLDER.match(secret) is not None:
        return True
    lowered = secret.lower()
    return any(word in lowered for word in GENERIC_STOPWORDS)


def looks_random(secret: str) -> bool:
    """Machine-made tokens mix character classes; words and identifiers rarely do."""
    classes = sum(
        (
            any(c.islower() for c in secret),
            any(c.isupper() for c in secret),
            any(c.isdigit() for c in secret),
        )
    )
    return classes >= 2 or (len(secret) >= 32 and classes >= 1 and not secret.isalpha())


def is_non_secret(secret: str) -> str | None:
    """Why a generic candidate is obviously not a secret, or None."""
    if _SALTED_HASH.match(secret):
        return "salted hash"
    if _UUID.match(secret):
        return "uuid"
    if _URL_NO_CREDS.match(secret):
        return "url"
    if _PATHLIKE.match(secret) and not _random_with_slashes(secret):
        return "path"
    if _CODE_REF.match(secret) and not _dotted_non_code(secret):
        return "code reference"
    if _REPEATED.match(secret):
        return "repeated or sequential characters"
    return None


def _random_with_slashes(secret: str) -> bool:
    """Base64 that holds slashes ('/uEXe8cmpi9LNd1WWtzIXiCC', 'pyCr7Tzs/ftBvz/QX1T...'), not a path:
    one level under the root and long and random, or relative with segments that are not words."""
    if secret.startswith("/"):
        return secret.count("/") == 1 and len(secret) >= 16 and looks_random(secret)
    if secret.startswith(("./", "../", "~/")) or ":\\" in secret or "/" not in secret:
        return False
    return not all(_PATH_SEGMENT.match(p) for p in secret.strip("/").split("/")) and looks_random(secret)


def _dotted_non_code(secret: str) -> bool:
    """'yoaVzw.eYd0qXdQ' is a password with a dot, not obj.attr: code only when every part is an identifier."""
    if "." not in secret or "(" in secret or "/" in secret:
        return False
    return not all(_IDENT.match(p) for p in secret.rstrip("()").split("."))


def is_lock_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name in LOCK_FILES


_TEST_PATH = lazy(
    r"(?i)(?:^|/)(?:tests?|spec|specs|__tests__|__mocks__|fixtures?|testdata|test[_-]data|mocks?|examples?|samples?"
    r"|docs?|demo)/|(?:^|/)(?:test_[^/]*|[^/]*_tests?\.[a-z]+|[^/]*\.(?:test|spec)\.[a-z]+|conftest\.py)$"
)
_WORDLIKE = lazy(r"^[A-Za-z]{1,12}$|^[a-z]+[._-]?[a-z]+$")


def is_test_path(path: str) -> bool:
    """Tests, fixtures, examples and docs: generic findings there are less likely real."""
    return _TEST_PATH.search(path) is not None


def is_wordlike(secret: str) -> bool:
    """A dictionary-looking value (``python``, ``badpass``): a weak or made-up password."""
    return _WORDLIKE.match(secret) is not None
