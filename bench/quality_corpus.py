"""Labelled corpus for bench/quality.py: files in many formats with planted secrets and near misses.

Everything is generated from a seed. Secrets come from ``scanner.template.generate`` (or are
encodings of generated values), so no real-looking token is written in this repository.

A *context* is a template of one or more lines with value markers in guillemets:

* ``«P»`` a password, ``«PU»`` a URL-safe password, ``«W»`` a weak (dictionary-like) password,
  ``«S»`` a generic API key, ``«TOK»`` an opaque bearer token, ``«OTP»`` a TOTP seed, ``«SALT»``
  a salt, ``«AKID»``/``«ASID»`` AWS key ids, ``«NKEY»`` a NATS seed, ``«JWT»``, ``«PEM»`` ...
* ``«s:TEMPLATE»`` a fresh secret from a generate() template (``«s:{hex:64}»``),
  ``«n:TEMPLATE»`` the same for a value that is not a secret (a checksum, a public value);
* ``«b64:NAME»`` base64 of the value of NAME in the same context, ``«b64up»`` base64("U:P");
* ``«U»`` user, ``«H»`` host, ``«DB»`` database name, ``«UUID»``, ``«SHA»`` (git sha) ... not secrets.

The same marker within one context has the same value. In a *positive* context every line that
holds a secret marker is labelled with the context's category (a multi-line value labels its
first line: where a scanner reports it); in a *negative* context every non-blank line is
labelled with the negative class (for the false-positive breakdown). Unlabelled lines are
negatives too.
"""

from __future__ import annotations

import base64
import os
import json
import random
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import quote

import regex

from scanner.template import generate

# ---------------------------------------------------------------------------------------------
# values


WORDS = (
    "autumn", "river", "falcon", "copper", "garden", "silver", "harbor", "winter", "summer", "meadow",
    "rocket", "pepper", "marble", "thunder", "velvet", "orange", "dragon", "castle", "jungle", "planet",
    "banana", "violet", "sunset", "forest", "island", "monkey", "tiger", "ocean", "purple", "yellow",
)
WEAK = (
    "admin123", "root", "postgres", "mysql", "qwerty123", "letmein", "welcome1", "dragon99", "monkey12",
    "sunshine1", "master", "admin@123", "pass1234", "Welcome1", "guest", "oracle", "12345678",
)
USERS = ("app", "admin", "deploy", "svc_backend", "etl", "reporting", "jenkins", "ci_user", "webapp", "api", "sa", "root")
HOSTS = (
    "db.internal", "10.0.3.12", "mysql-prod.corp.local", "pg-main.cluster-c9x2.eu-west-1.rds.amazonaws.com",
    "redis.svc.cluster.local", "rabbitmq.prod.local", "smtp.mailhost.net", "ldap.corp.local", "172.16.4.20",
    "sql01.acme-corp.net", "mongo-0.mongo.prod.svc", "nexus.build.acme-corp.net",
)
DBS = ("appdb", "orders", "inventory", "analytics", "billing", "users", "crm", "warehouse")
SYMBOLS = "!%&*+-.=?^_~"
WP_CHARS = string.ascii_letters + string.digits + "!@#$%^&*()-_ []{}<>~`+=,.;:/?|"

# markers whose value is a secret (lines holding one are positives in a positive context)
SECRET_MARKERS = {
    "P", "PU", "W", "S", "TOK", "OTP", "OTP16", "SALT", "WPSALT", "PHXSALT", "AKID", "ASID", "AWSSECRET",
    "NKEY", "JWT", "PEM", "PEMKEY", "PKCS8", "b64up", "SIG", "HMAC", "PEPPER", "APPKEY", "XAMZCRED", "DBURL",
    "DOCKERCFG",
}

_MARK = regex.compile(r"«([^«»]+)»")


class Gen:
    """Seeded value factory."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(f"leaktrap-quality:{seed}")
        self.n = 0

    def t(self, template: str) -> str:
        self.n += 1
        return generate(template, seed=f"quality:{self.seed}:{self.n}")

    def pick(self, seq: tuple[str, ...] | list[str]) -> str:
        return self.rng.choice(list(seq))

    # -- secrets -------------------------------------------------------------------------
    def password(self, url_safe: bool = False) -> str:
        kind = self.rng.randrange(5)
        if kind == 0:
            return self.t(self.pick(("{alnum:12}", "{alnum:16}", "{alnum:20}", "{alnum:10}")))
        if kind == 1:
            sym = "-._~" if url_safe else SYMBOLS
            return self.t("{alnum:%d}" % self.rng.randint(4, 8)) + self.rng.choice(sym) + self.t(
                "{alnum:%d}" % self.rng.randint(3, 8)
            )
        if kind == 2:  # human: two words, digits, a symbol
            w1, w2 = self.pick(WORDS).capitalize(), self.pick(WORDS).capitalize()
            sym = "" if url_safe else self.rng.choice(SYMBOLS)
            return f"{w1}{w2}{self.rng.randint(1, 9999)}{sym}"
        if kind == 3:  # word + year + symbol
            sym = "" if url_safe else self.rng.choice("!#%*?")
            return f"{self.pick(WORDS).capitalize()}{self.rng.randint(1990, 2025)}{sym}"
        # leet-ish
        w = self.pick(WORDS)
        leet = w.translate(str.maketrans({"a": "4", "e": "3", "o": "0", "i": "1", "s": "5"}))
        return leet.capitalize() + ("" if url_safe else self.rng.choice("!&*?")) + str(self.rng.randint(10, 99))

    def weak(self) -> str:
        return self.pick(WEAK)

    def api_key(self) -> str:
        return self.t(self.pick(("{alnum:32}", "{alnum:40}", "{b64url:40}", "{hex:32}", "{alnum:24}", "{alnum_lower:32}")))

    def bearer(self) -> str:
        return self.t(self.pick(("{b64url:43}", "{alnum:40}", "{alnum:64}", "{b64url:86}")))

    def salt(self) -> str:
        return self.t(self.pick(("{alnum:32}", "{hex:32}", "{b64:24}", "{alnum:24}", "{alnum:16}", "{b64url:43}")))

    def wp_salt(self) -> str:
        base = list(self.t("{alnum:40}"))
        for _ in range(24):
            base.insert(self.rng.randrange(len(base) + 1), self.rng.choice(WP_CHARS[62:]))
        return "".join(base)

    def nkey(self, kind: str | None = None) -> str:
        kind = kind or self.pick(("U", "U", "A", "O"))
        return self.t("S%sA{base32:55}" % kind)

    def nkey_public(self) -> str:
        return self.t(self.pick(("U", "A", "O", "N")) + self.pick(("A", "B", "C", "D")) + "{base32:54}")

    def jwt(self) -> str:
        alg = self.pick(("HS256", "RS256", "ES256", "HS512"))
        header = _b64url(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
        claims = {
            "sub": self.t("{digit:7}"),
            "name": self.pick(USERS),
            "iat": self.rng.randint(1_600_000_000, 1_750_000_000),
            "scope": self.pick(("read", "read write", "admin")),
        }
        if self.rng.random() < 0.5:
            claims["iss"] = "https://" + self.pick(HOSTS)
        payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
        sig = self.t("{b64url:43}" if alg.startswith("HS2") else ("{b64url:86}" if alg.endswith("512") or alg == "ES256" else "{b64url:342}"))
        return f"{header}.{payload}.{sig}"

    def pem(self, kind: str = "RSA") -> str:
        label = {"RSA": "RSA PRIVATE KEY", "EC": "EC PRIVATE KEY", "PKCS8": "PRIVATE KEY", "OPENSSH": "OPENSSH PRIVATE KEY"}[kind]
        first = {"RSA": "MIIEow", "EC": "MHcCAQEEI", "PKCS8": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "OPENSSH": "b3BlbnNzaC1rZXktdjEAAAAA"}[kind]
        nlines = {"RSA": 24, "EC": 2, "PKCS8": 25, "OPENSSH": 6}[kind]
        body = [first + self.t("{b64:%d}" % (64 - len(first)))]
        body += [self.t("{b64:64}") for _ in range(nlines - 1)]
        body.append(self.t("{b64:40}") + "==")
        return "\n".join([f"-----BEGIN {label}-----", *body, f"-----END {label}-----"])

    def cert(self) -> str:
        body = ["MIID" + self.t("{b64:60}")] + [self.t("{b64:64}") for _ in range(15)] + [self.t("{b64:20}") + "="]
        return "\n".join(["-----BEGIN CERTIFICATE-----", *body, "-----END CERTIFICATE-----"])

    def public_pem(self) -> str:
        body = ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + self.t("{b64:20}")] + [self.t("{b64:64}") for _ in range(4)]
        body.append(self.t("{b64:6}") + "IDAQAB")
        return "\n".join(["-----BEGIN PUBLIC KEY-----", *body, "-----END PUBLIC KEY-----"])

    def ssh_public(self) -> str:
        if self.rng.random() < 0.5:
            return "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + self.t("{b64:43}") + f" {self.pick(USERS)}@{self.pick(('laptop', 'build01', 'bastion'))}"
        return "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ" + self.t("{b64:500}") + f" {self.pick(USERS)}@workstation"

    def png_b64(self, size: int = 600) -> str:
        raw = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(self.rng.randrange(256) for _ in range(size))
        return base64.b64encode(raw).decode()

    def bcrypt(self) -> str:
        return "$2b$12$" + self.t("{b64:53}").replace("+", ".")

    def uuid(self) -> str:
        return self.t("{hex:8}-{hex:4}-4{hex:3}-a{hex:3}-{hex:12}")

    def value(self, name: str, memo: dict[str, str]) -> str:
        if name.startswith(("s:", "n:")):  # a fresh value at every occurrence
            return self.t(name[2:])
        if name in memo:
            return memo[name]
        if name.startswith("b64:"):
            v = base64.b64encode(self.value(name[4:], memo).encode()).decode()
        elif name.startswith("b64url:"):
            v = _b64url(self.value(name[7:], memo).encode())
        elif name.startswith("pct:"):  # percent-encoded (RFC 3986 unreserved kept)
            v = quote(self.value(name[4:], memo), safe="")
        elif name.startswith("esc:"):  # newlines as the two characters \n (a key inside a string literal)
            v = self.value(name[4:], memo).replace("\n", "\\n")
        elif name.startswith("ind"):  # ind4:PEM -> continuation lines indented by 4
            width, inner = name[3:].split(":", 1)
            v = self.value(inner, memo).replace("\n", "\n" + " " * int(width))
        else:
            v = self._named(name, memo)
        memo[name] = v
        return v

    def _named(self, name: str, memo: dict[str, str]) -> str:
        simple: dict[str, Callable[[], str]] = {
            "P": self.password,
            "PU": lambda: self.password(url_safe=True),
            "W": self.weak,
            "S": self.api_key,
            "TOK": self.bearer,
            "OTP": lambda: self.t("{base32:32}"),
            "OTP16": lambda: self.t("{base32:16}"),
            "SALT": self.salt,
            "WPSALT": self.wp_salt,
            "PHXSALT": lambda: self.t("{alnum:8}"),
            "PEPPER": lambda: self.t("{hex:128}"),
            "HMAC": lambda: self.t(self.pick(("{hex:64}", "{b64:44}", "{alnum:48}"))),
            "APPKEY": lambda: "base64:" + self.t("{b64:43}") + "=",
            "AKID": lambda: self.t("AKIA{base32:16}"),
            "ASID": lambda: self.t("ASIA{base32:16}"),
            "AWSSECRET": lambda: self.t("{b64:40}"),
            "SIG": lambda: self.t("{hex:64}"),
            "NKEY": self.nkey,
            "NPUB": self.nkey_public,
            "JWT": self.jwt,
            "PEM": lambda: self.pem(self.pick(("RSA", "EC", "PKCS8", "OPENSSH"))),
            "PEMKEY": lambda: self.pem("RSA"),
            "PKCS8": lambda: self.pem("PKCS8"),
            "CERT": self.cert,
            "PUBPEM": self.public_pem,
            "SSHPUB": self.ssh_public,
            "PNG": self.png_b64,
            "BCRYPT": self.bcrypt,
            "UUID": self.uuid,
            "SHA": lambda: self.t("{hex:40}"),
            "SHA256": lambda: self.t("{hex:64}"),
            "MD5": lambda: self.t("{hex:32}"),
            "U": lambda: self.pick(USERS),
            "H": lambda: self.pick(HOSTS),
            "DB": lambda: self.pick(DBS),
            "N": lambda: str(self.rng.randint(2, 9999)),
            "DATE": lambda: f"2024{self.rng.randint(1, 12):02d}{self.rng.randint(1, 28):02d}",
            "WORD": lambda: self.pick(WORDS),
        }
        if name == "b64up":
            return base64.b64encode(f"{self.value('U', memo)}:{self.value('P', memo)}".encode()).decode()
        if name == "XAMZCRED":
            return self.value("AKID", memo)
        if name == "DBURL":
            return f"postgres://{self.value('U', memo)}:{self.value('PU', memo)}@{self.value('H', memo)}:5432/{self.value('DB', memo)}"
        if name == "DOCKERCFG":
            return json.dumps({"auths": {"registry.acme-corp.net": {"auth": self.value("b64up", memo)}}})
        if name == "NPUB2":
            return self.nkey_public()
        if name not in simple:
            raise KeyError(f"unknown marker «{name}»")
        return simple[name]()


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def is_secret_marker(name: str) -> bool:
    if name.startswith("s:"):
        return True
    if name.startswith(("n:",)):
        return False
    if name.startswith(("b64:", "b64url:", "pct:", "esc:", "ind")):
        return is_secret_marker(name.split(":", 1)[1])
    return name in SECRET_MARKERS


# ---------------------------------------------------------------------------------------------
# files and labels


@dataclass
class FileDoc:
    path: str
    lines: list[str] = field(default_factory=list)
    labels: dict[int, tuple[str, str]] = field(default_factory=dict)  # 1-based line -> (kind, class)

    def raw(self, text: str) -> None:
        self.lines.extend(text.split("\n"))

    def add(self, gen: Gen, template: str, kind: str, cls: str, transform: Callable[[str], str] | None = None) -> None:
        """Expand a context template; label its lines (kind "pos" or "neg")."""
        memo: dict[str, str] = {}
        for tline in template.split("\n"):
            names = _MARK.findall(tline)
            secret = any(is_secret_marker(n) for n in names)
            text = _MARK.sub(lambda m: gen.value(m.group(1), memo), tline)
            produced = text.split("\n")
            if transform is not None:
                produced = [transform(p) for p in produced]
            first = len(self.lines) + 1
            self.lines.extend(produced)
            if kind == "pos" and secret:
                self.labels[first] = ("pos", cls)
            elif kind == "neg":
                for i, p in enumerate(produced):
                    if p.strip():
                        self.labels.setdefault(first + i, ("neg", cls))

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


@dataclass(frozen=True)
class Context:
    cls: str  # category (positive) or negative class
    template: str
    pos: bool


def P(cls: str, *templates: str) -> list[Context]:
    return [Context(cls, t, True) for t in templates]


def N(cls: str, *templates: str) -> list[Context]:
    return [Context(cls, t, False) for t in templates]


@dataclass
class Format:
    name: str
    paths: tuple[str, ...]  # file names (a project folder is prepended)
    contexts: list[Context]
    header: str = ""
    footer: str = ""
    filler: tuple[str, ...] = ()
    per_file: int = 14  # contexts per file
    transform: Callable[[str], str] | None = None


def flat(*groups: Iterable[Context]) -> list[Context]:
    out: list[Context] = []
    for g in groups:
        out.extend(g)
    return out


# ---------------------------------------------------------------------------------------------
# contexts shared by several formats

PRESIGNED_V4 = (
    "https://«n:{lower:6}»-uploads.s3.amazonaws.com/reports/«n:{hex:8}».pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=«AKID»%2F«DATE»%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=«DATE»T101500Z"
    "&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=«SIG»"
)
PRESIGNED_V4_SLASH = (
    "https://s3.eu-west-1.amazonaws.com/«n:{lower:8}»/exports/data.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=«AKID»/«DATE»/eu-west-1/s3/aws4_request&X-Amz-Date=«DATE»T000000Z"
    "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=«SIG»"
)
PRESIGNED_V4_TEMP = (
    "https://«n:{lower:6}».s3.us-east-2.amazonaws.com/img/«n:{hex:12}».png?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=«ASID»%2F«DATE»%2Fus-east-2%2Fs3%2Faws4_request&X-Amz-Date=«DATE»T120000Z&X-Amz-Expires=900"
    "&X-Amz-Security-Token=IQoJb3JpZ2luX2VjE«s:{b64:380}»&X-Amz-SignedHeaders=host&X-Amz-Signature=«SIG»"
)
PRESIGNED_V2 = (
    "https://«n:{lower:7}».s3.amazonaws.com/backup.tar.gz?AWSAccessKeyId=«AKID»&Expires=17«n:{digit:8}»"
    "&Signature=«s:{alnum:20}»%2B«s:{alnum:5}»%3D"
)
# a presigned URL whose key id is the documentation example: not a secret
PRESIGNED_DOC = (
    "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
    "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=<signature>"
)

JWK_RSA = """{
  "kty": "RSA",
  "kid": "«n:{b64url:22}»",
  "use": "sig",
  "alg": "RS256",
  "n": "«n:{b64url:342}»",
  "e": "AQAB",
  "d": "«s:{b64url:342}»",
  "p": "«s:{b64url:171}»",
  "q": "«s:{b64url:171}»",
  "dp": "«s:{b64url:171}»",
  "dq": "«s:{b64url:171}»",
  "qi": "«s:{b64url:171}»"
}"""
JWK_RSA_SORTED = """{
    "d": "«s:{b64url:342}»",
    "dp": "«s:{b64url:171}»",
    "dq": "«s:{b64url:171}»",
    "e": "AQAB",
    "kty": "RSA",
    "n": "«n:{b64url:342}»",
    "p": "«s:{b64url:171}»",
    "q": "«s:{b64url:171}»",
    "qi": "«s:{b64url:171}»"
}"""
JWK_EC = """{
  "kty": "EC",
  "crv": "P-256",
  "x": "«n:{b64url:43}»",
  "y": "«n:{b64url:43}»",
  "d": "«s:{b64url:43}»",
  "use": "sig",
  "kid": "«n:{alnum:12}»"
}"""
JWK_OKP_SORTED = """{"crv": "Ed25519",
 "d": "«s:{b64url:43}»",
 "kty": "OKP",
 "x": "«n:{b64url:43}»"}"""
JWK_OCT = """{
  "kty": "oct",
  "kid": "hmac-«n:{digit:4}»",
  "k": "«s:{b64url:43}»",
  "alg": "HS256"
}"""
JWK_PUBLIC = """{
  "keys": [
    {
      "kty": "RSA",
      "kid": "«n:{b64url:22}»",
      "use": "sig",
      "alg": "RS256",
      "n": "«n:{b64url:342}»",
      "e": "AQAB"
    },
    {
      "kty": "EC",
      "crv": "P-256",
      "kid": "«n:{alnum:10}»",
      "x": "«n:{b64url:43}»",
      "y": "«n:{b64url:43}»"
    }
  ]
}"""

NATS_CREDS = """-----BEGIN NATS USER JWT-----
«JWT»
------END NATS USER JWT------

************************* IMPORTANT *************************
NKEY Seed printed below can be used to sign and prove identity.
NKEYs are sensitive and should be treated as secrets.

-----BEGIN USER NKEY SEED-----
«NKEY»
------END USER NKEY SEED------

*************************************************************"""

# ---------------------------------------------------------------------------------------------
# formats

PY = Format(
    name="python",
    paths=("app/settings.py", "app/db.py", "scripts/deploy.py", "app/config.py", "services/client.py",
           "tools/sync_users.py", "app/integrations.py", "jobs/export.py"),
    header='"""Service configuration and helpers."""\nimport os\nimport logging\n\nlog = logging.getLogger(__name__)\n',
    filler=(
        "", "def health():\n    return {\"status\": \"ok\"}", "TIMEOUT = 30", "RETRIES = 3",
        "cache_key = f\"user:{user_id}:profile\"", "token_type = \"Bearer\"", "log.info(\"starting sync\")",
        "KEY_PREFIX = \"svc\"", "for key, value in sorted(items.items()):\n    print(key, value)",
        "session_timeout = 1800", "def get_token(self):\n    return self._token",
    ),
    contexts=flat(
        P("password-code",
          'DB_PASSWORD = "«P»"',
          'conn = psycopg2.connect(host="«H»", user="«U»", password="«P»", dbname="«DB»")',
          'DATABASES = {\n    "default": {\n        "ENGINE": "django.db.backends.postgresql",\n        "NAME": "«DB»",\n        "USER": "«U»",\n        "PASSWORD": "«P»",\n        "HOST": "«H»",\n    }\n}',
          'server.login("«U»@mailhost.net", "«P»")',
          'client = MongoClient("«H»", username="«U»", password="«P»")',
          'resp = requests.get(url, auth=("«U»", "«P»"))',
          'ssh.connect("«H»", username="«U»", password=\'«P»\')',
          "EMAIL_HOST_PASSWORD = '«P»'",
          'def get_conn(user="«U»", pwd="«P»"):',
          'ADMIN_PASS = "«P»"',
          'r = redis.Redis(host="«H»", port=6379, password="«P»")',
          'ftp.login(user="«U»", passwd="«P»")',
          'auth = HTTPBasicAuth("«U»", "«P»")',
          'ldap_bind_pw = "«P»"',
          'self.keystore_password = "«P»"',
          'config["smtp_password"] = "«P»"',
          'os.environ.setdefault("DB_PASSWORD", "«P»")',
          'cnx = mysql.connector.connect(user="«U»", password="«P»", host="«H»", database="«DB»")',
          ),
        P("password-weak", 'DB_PASS = "«W»"', 'conn = pymysql.connect(host="«H»", user="root", password="«W»")'),
        P("generic-secret",
          'API_KEY = "«S»"',
          'client = Client(api_key="«S»")',
          'SECRET_KEY = "«S»"',
          'headers = {"X-Api-Key": "«S»"}',
          'ACCESS_TOKEN = "«S»"',
          'oauth = OAuth2Session(client_id="«UUID»", client_secret="«S»")',
          'app.config["JWT_SECRET_KEY"] = "«S»"',
          'WEBHOOK_SECRET = "«S»"',
          'sdk.init(token="«S»")',
          ),
        P("url-credentials",
          'DATABASE_URL = "postgresql://«U»:«PU»@«H»:5432/«DB»"',
          'engine = create_engine("mysql+pymysql://«U»:«PU»@«H»/«DB»")',
          'BROKER_URL = "amqp://«U»:«PU»@«H»:5672//"',
          'REDIS_URL = "redis://:«PU»@«H»:6379/0"',
          'proxies = {"https": "http://«U»:«PU»@proxy.corp.local:3128"}',
          ),
        P("connection-string",
          'conn_str = "Driver={ODBC Driver 18 for SQL Server};Server=«H»;Database=«DB»;Uid=«U»;Pwd=«P»;"',
          'dsn = "host=«H» port=5432 dbname=«DB» user=«U» password=«PU»"',
          ),
        P("auth-basic", 'headers = {"Authorization": "Basic «b64up»"}'),
        P("auth-bearer", 'headers = {"Authorization": "Bearer «TOK»"}', 'session.headers["Authorization"] = "Bearer «TOK»"',
          'HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer «TOK»"}'),
        P("otp-seed", 'totp = pyotp.TOTP("«OTP»")', 'TOTP_SECRET = "«OTP»"',
          'uri = "otpauth://totp/Acme:«U»?secret=«OTP»&issuer=Acme"', 'MFA_SEED = "«OTP16»"'),
        P("salt-nonce", 'SECURITY_PASSWORD_SALT = "«SALT»"', 'HASHIDS_SALT = "«SALT»"', 'PASSWORD_PEPPER = "«SALT»"',
          'hmac_key = b"«HMAC»"', 'signer = TimestampSigner(SECRET_KEY, salt="«SALT»")', 'COOKIE_SALT = "«SALT»"'),
        P("jwt", 'token = "«JWT»"', 'TEST_JWT = "«JWT»"'),
        P("private-key", 'PRIVATE_KEY = "«esc:PEM»"', 'SIGNING_KEY = """«PEMKEY»"""'),
        P("nats-seed", 'seed = b"«NKEY»"', 'nc = await nats.connect("nats://«H»:4222", nkeys_seed_str="«NKEY»")'),
        P("jwk-private", "JWK = " + JWK_EC, "key = jwk.JWK(**" + JWK_OKP_SORTED + ")"),
        P("aws-presigned", 'url = "' + PRESIGNED_V4 + '"', 'SAMPLE_URL = "' + PRESIGNED_V4_TEMP + '"',
          'params = {\n    "X-Amz-Algorithm": "AWS4-HMAC-SHA256",\n    "X-Amz-Credential": "«AKID»/«DATE»/us-east-1/s3/aws4_request",\n    "X-Amz-Date": "«DATE»T000000Z",\n    "X-Amz-Signature": "«SIG»",\n}'),
        P("cli-password", 'os.system("mysql -u root -p«P» «DB» < dump.sql")',
          'subprocess.run(["sshpass", "-p", "«P»", "ssh", "«U»@«H»"])'),
        P("aws-keys", 'boto3.client("s3", aws_access_key_id="«AKID»", aws_secret_access_key="«AWSSECRET»")'),
        N("env-ref",
          'DB_PASSWORD = os.environ["DB_PASSWORD"]', 'password = os.getenv("DB_PASSWORD", "")',
          'API_KEY = config("API_KEY")', 'SECRET_KEY = env.str("SECRET_KEY")', 'token = settings.GITHUB_TOKEN',
          'password = os.environ.get("PGPASSWORD")'),
        N("secret-manager",
          'password = client.get_secret_value(SecretId="prod/db/password")["SecretString"]',
          'secret = vault.secrets.kv.read_secret_version(path="app/db")["data"]["data"]["password"]',
          'api_key = keyring.get_password("billing", "api")'),
        N("var-no-value",
          "def login(username: str, password: str) -> bool:", 'password = getpass.getpass("Password: ")',
          "password = None", "if not password:\n    raise ValueError(\"password required\")", "user.password = password",
          "self.api_key = api_key", 'password = request.form["password"]',
          'token = request.headers.get("Authorization", "")', 'PASSWORD_FIELD = "password"', 'password = ""',
          "api_key: str | None = None", "conn = connect(user=user, password=password)",
          'parser.add_argument("--password", help="database password")', 'secret = self.get_secret("db")'),
        N("password-hash-code",
          "password_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt())",
          "hashed = generate_password_hash(password)", "digest = hashlib.sha256(token.encode()).hexdigest()",
          "salt = os.urandom(16)", "salt = bcrypt.gensalt(rounds=12)",
          'key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 600_000)'),
        N("hash", 'EXPECTED_SHA256 = "«SHA256»"', 'checksum = "«MD5»"', 'FILE_HASHES = {"model.bin": "«SHA256»"}'),
        N("password-policy",
          "PASSWORD_MIN_LENGTH = 12",
          'AUTH_PASSWORD_VALIDATORS = [\n    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},\n]',
          'password_regex = r"^(?=.*[A-Z])(?=.*\\d).{8,}$"', "MAX_PASSWORD_AGE_DAYS = 90", "password_history_size = 5"),
        N("placeholder",
          'API_KEY = "YOUR_API_KEY"', 'password = "<password>"', 'token = "xxxxxxxxxxxxxxxxxxxx"',
          'SECRET_KEY = "change-me-in-production"', 'password = "********"', 'API_TOKEN = "your-token-here"',
          'DB_PASSWORD = "REPLACE_ME"'),
        N("uuid", 'REQUEST_ID = "«UUID»"', 'client_id = "«UUID»"', 'TENANT_ID = "«UUID»"'),
        N("git-sha", 'COMMIT = "«SHA»"', '__revision__ = "«SHA»"'),
        N("i18n", 'label = _("Password")', 'error = "Invalid username or password"',
          'msg = "password must contain at least one digit"', 'help_text = _("Enter the same password as before.")'),
        N("misc-name", 'token_type = "Bearer"', 'TOKEN_URL = "https://oauth2.googleapis.com/token"', 'grant_type = "password"',
          'SECRET_NAME = "prod/app/db"', 'API_KEY_HEADER = "X-API-Key"', 'password_reset_url = "/accounts/reset/"',
          'AUTH_TYPE = "password"'),
        N("public-key", 'PUBLIC_KEY = """«PUBPEM»"""', 'AUTHORIZED_KEY = "«SSHPUB»"'),
        N("data-url", 'LOGO = "data:image/png;base64,«PNG»"'),
        N("doc-example", 'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"',
          'AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
          'TOTP_EXAMPLE = "JBSWY3DPEHPK3PXP"'),
        N("salted-hash", 'ADMIN_HASH = "«BCRYPT»"',
          'password = "pbkdf2_sha256$600000$«n:{alnum:22}»$«n:{b64:43}»="'),
        N("nats-public", 'NATS_USER_PUBLIC = "«NPUB»"'),
    ),
)

PYTEST = Format(
    name="python-tests",
    paths=("tests/test_auth.py", "tests/test_client.py", "tests/conftest.py", "tests/unit/test_login.py"),
    header="import pytest\n\nfrom app import auth\n",
    filler=("", "def test_health(client):\n    assert client.get(\"/health\").status_code == 200", "@pytest.fixture"),
    contexts=flat(
        N("test-fixture",
          'user = User(username="alice", password="test-password")', 'client.login(username="admin", password="admin")',
          'FAKE_TOKEN = "fake-token-for-tests"', 'mock_key = "test_api_key"', 'assert check_password("secret123", hashed)',
          'monkeypatch.setenv("API_KEY", "dummy")', 'resp = client.post("/login", data={"password": "wrong"})',
          'settings.SECRET_KEY = "test"', 'token = "not-a-real-token"', 'api = Api(key="testkey")',
          'headers = {"Authorization": "Bearer test-token"}', 'password="hunter2"',
          'DATABASE_URL = "postgresql://postgres:postgres@localhost:5432/test_db"',
          'make_user(password="Passw0rd!")'),
        N("placeholder", 'client = Client(api_key="<api-key>")'),
        P("jwt", 'EXPIRED_JWT = "«JWT»"'),
        P("provider", 'GH_TOKEN = "«s:ghp_{alnum:36}»"', 'stripe.api_key = "«s:sk_live_{alnum:24}»"'),
    ),
)

JS = Format(
    name="javascript",
    paths=("src/config.js", "server/index.js", "src/api/client.ts", "lib/db.js", "src/services/payments.ts",
           "config/default.js", "src/utils/auth.mjs"),
    header="'use strict';\n\nconst express = require('express');\n",
    filler=("", "const app = express();", "module.exports = config;", "export const TIMEOUT_MS = 5000;",
            "const tokenType = 'Bearer';", "function getKey(id) { return `user:${id}`; }",
            "app.listen(process.env.PORT || 3000);"),
    contexts=flat(
        P("password-code", 'const password = "«P»";', "  password: '«P»',", 'const dbPass = "«P»";',
          'axios.get(url, { auth: { username: "«U»", password: "«P»" } });',
          'const pool = new Pool({ host: "«H»", user: "«U»", password: "«P»", database: "«DB»" });',
          'const password = process.env.DB_PASSWORD || "«P»";',
          "const connection = mysql.createConnection({host: '«H»', user: '«U»', password: '«P»'});",
          'await client.auth("«P»");'),
        P("generic-secret", 'const API_KEY = "«S»";', '  apiKey: "«S»",', 'app.use(session({ secret: "«S»" }));',
          'const stripeSecret = "«S»";', "export const clientSecret = '«S»';", 'const token = jwt.sign(payload, "«S»");',
          'fetch(url, { headers: { "x-api-key": "«S»" } });'),
        P("url-credentials", 'mongoose.connect("mongodb+srv://«U»:«PU»@cluster0.«n:{lower:5}».mongodb.net/«DB»");',
          "const redisUrl = 'redis://default:«PU»@«H»:6379';"),
        P("auth-bearer", 'headers: { Authorization: "Bearer «TOK»" },',
          "xhr.setRequestHeader('Authorization', 'Bearer «TOK»');"),
        P("auth-basic", "headers: { 'Authorization': 'Basic «b64up»' },"),
        P("otp-seed", 'const code = speakeasy.totp({ secret: "«OTP»", encoding: "base32" });', "const otpSecret = '«OTP»';"),
        P("jwt", 'const token = "«JWT»";', "localStorage.setItem('token', '«JWT»');"),
        P("salt-nonce", "const SALT = '«SALT»';", 'const hashids = new Hashids("«SALT»", 8);'),
        P("jwk-private", "const jwk = " + JWK_RSA + ";"),
        P("private-key", "const privateKey = `«PEM»`;"),
        N("env-ref", "  password: process.env.DB_PASSWORD,", "  apiKey: import.meta.env.VITE_API_KEY,",
          "const token = process.env.GITHUB_TOKEN;", "const { API_KEY } = process.env;"),
        N("var-no-value", 'const token = localStorage.getItem("token");', "function login(username, password) {",
          "user.password = password;", "const { password, ...rest } = body;", "if (!apiKey) throw new Error('missing api key');",
          "headers: { Authorization: `Bearer ${token}` },"),
        N("html-form", '<input type="password" name="password" placeholder="Password" />',
          '<label htmlFor="password">Password</label>', "type: 'password',"),
        N("password-policy", "passwordMinLength: 8,", "export const PASSWORD_REGEX = /^(?=.*\\d)(?=.*[a-z]).{8,}$/;"),
        N("password-hash-code", "const hash = await bcrypt.hash(password, 10);",
          "const salt = crypto.randomBytes(16).toString('hex');"),
        N("hash", 'integrity="sha384-«n:{b64:64}»"', 'const sha = "«SHA»";', "const etag = '«MD5»';"),
        N("data-url", 'const ICON = "data:image/png;base64,«PNG»";'),
        N("placeholder", '  apiKey: "YOUR_API_KEY",', "const password = '<your-password>';", "const token = 'xxxxxxxxxxxxxxxx';"),
        N("uuid", 'id: "«UUID»",'),
        N("i18n", 'forgotPassword: "Forgot your password?",', "passwordLabel: 'Enter password',"),
        N("misc-name", "const TOKEN_ENDPOINT = 'https://login.microsoftonline.com/common/oauth2/v2.0/token';",
          "const secretName = 'prod/db';"),
    ),
)

GO = Format(
    name="go",
    paths=("internal/db/db.go", "cmd/server/main.go", "pkg/client/client.go", "internal/config/config.go"),
    header="package main\n\nimport (\n\t\"database/sql\"\n\t\"os\"\n)\n",
    filler=("", "func main() {\n\trun()\n}", "const defaultTimeout = 30", "var tokenType = \"Bearer\"",
            "\tif err != nil {\n\t\treturn err\n\t}"),
    contexts=flat(
        P("password-code", 'const dbPassword = "«P»"', '\tpassword := "«P»"',
          'rdb := redis.NewClient(&redis.Options{Addr: "«H»:6379", Password: "«P»"})',
          '\tcfg.Passwd = "«P»"'),
        P("connection-string", 'db, err := sql.Open("postgres", "host=«H» user=«U» password=«P» dbname=«DB» sslmode=disable")',
          'dsn := "«U»:«PU»@tcp(«H»:3306)/«DB»?parseTime=true"'),
        P("auth-bearer", 'req.Header.Set("Authorization", "Bearer «TOK»")'),
        P("auth-basic", 'req.Header.Add("Authorization", "Basic «b64up»")'),
        P("generic-secret", 'const apiKey = "«S»"', '\tclientSecret := "«S»"'),
        P("nats-seed", 'kp, _ := nkeys.FromSeed([]byte("«NKEY»"))', 'const operatorSeed = "«s:SOA{base32:55}»"'),
        P("url-credentials", 'amqpURL := "amqp://«U»:«PU»@«H»:5672/"'),
        P("private-key", "var signingKey = []byte(`«PEM»`)"),
        N("env-ref", 'password := os.Getenv("DB_PASSWORD")', '\tapiKey := viper.GetString("api_key")'),
        N("var-no-value", 'Password string `json:"password"`', 'flag.StringVar(&password, "password", "", "database password")',
          "func Connect(user, password string) (*sql.DB, error) {", '\tToken    string `yaml:"token"`'),
        N("nats-public", 'const accountPub = "«NPUB»"'),
        N("hash", '// sha256: «SHA256»', 'const buildSHA = "«SHA»"'),
        N("placeholder", 'const apiKey = "<API_KEY>"'),
    ),
)

JAVA = Format(
    name="java",
    paths=("src/main/java/com/acme/db/DataSourceConfig.java", "src/main/java/com/acme/api/Client.java",
           "src/main/java/com/acme/mail/Mailer.java", "src/main/java/com/acme/Constants.java"),
    header="package com.acme;\n\nimport java.sql.Connection;\n\npublic class Config {\n",
    footer="}",
    filler=("", "    private static final int TIMEOUT = 30;", "    private final Logger log = LoggerFactory.getLogger(Config.class);",
            "    public String getTokenType() { return \"Bearer\"; }"),
    contexts=flat(
        P("password-code", '    private static final String PASSWORD = "«P»";',
          '    Connection c = DriverManager.getConnection("jdbc:mysql://«H»:3306/«DB»", "«U»", "«P»");',
          '        ds.setPassword("«P»");', '    String dbPassword = "«P»";',
          '        props.put("mail.smtp.password", "«P»");',
          '        return new PasswordAuthentication("«U»", "«P»".toCharArray());'),
        P("connection-string", '    String url = "jdbc:postgresql://«H»/«DB»?user=«U»&password=«PU»&ssl=true";',
          '    String url = "jdbc:sqlserver://«H»:1433;databaseName=«DB»;user=«U»;password=«P»;";'),
        P("auth-basic", '        conn.setRequestProperty("Authorization", "Basic «b64up»");'),
        P("auth-bearer", '        .header("Authorization", "Bearer «TOK»")'),
        P("generic-secret", '    private String apiKey = "«S»";', '    public static final String CLIENT_SECRET = "«S»";'),
        P("aws-keys", '        new BasicAWSCredentials("«AKID»", "«AWSSECRET»")'),
        N("env-ref", '    @Value("${db.password}") private String password;', '    String password = System.getenv("DB_PASSWORD");'),
        N("var-no-value", "        if (password == null || password.isEmpty()) {", "    private char[] password;",
          "    public void setPassword(String password) { this.password = password; }"),
        N("password-policy", "    private static final int MIN_PASSWORD_LENGTH = 8;"),
        N("password-hash-code", "    PasswordEncoder encoder = new BCryptPasswordEncoder();",
          "        String hashed = encoder.encode(rawPassword);"),
        N("misc-name", '    public static final String PASSWORD_PARAM = "password";'),
    ),
)

YAML = Format(
    name="yaml",
    paths=("config/application.yml", "config/database.yml", "deploy/values.yaml", "ansible/group_vars/all.yml",
           "config/settings.yaml", "config/production.yml", "ansible/host_vars/db01.yml"),
    header="# application configuration\nserver:\n  port: 8080\n",
    filler=("", "logging:\n  level: INFO", "  timeout: 30s", "replicas: 3", "  token_type: bearer", "cache:\n  ttl: 600",
            "  key: app.kubernetes.io/name"),
    contexts=flat(
        P("password-config", "  password: «P»", '  password: "«P»"', "    bind_password: «P»", "  passwd: '«P»'",
          "datasource:\n  username: «U»\n  password: «P»", "ansible_become_pass: «P»", 'mysql_root_password: "«P»"',
          "smtp: {host: «H», user: «U», pass: «P»}", "  - name: «U»\n    pass: «P»", "redis_password: «P»",
          "spring:\n  mail:\n    password: «P»"),
        P("password-weak", "  password: «W»"),
        P("generic-secret", "  api_key: «S»", "  client_secret: «S»", '  token: "«TOK»"', "secret_key_base: «s:{hex:128}»",
          "  accessKey: «S»", "  signing_key: «S»"),
        P("connection-string", "  url: jdbc:mysql://«H»:3306/«DB»?user=«U»&password=«PU»&useSSL=false",
          '  connection_string: "Server=«H»;Database=«DB»;User Id=«U»;Password=«P»;"'),
        P("url-credentials", "  uri: mongodb://«U»:«PU»@«H»:27017/«DB»", "broker_url: amqp://«U»:«PU»@«H»:5672/vhost",
          "  url: postgres://«U»:«pct:P»@«H»:5432/«DB»"),
        P("otp-seed", "  otp_secret: «OTP»", "mfa:\n  totp_seed: «OTP16»"),
        P("salt-nonce", "hashids_salt: «SALT»", "  password_salt: «SALT»", "  pepper: «PEPPER»"),
        P("jwk-private", "jwk:\n  kty: EC\n  crv: P-256\n  x: «n:{b64url:43}»\n  y: «n:{b64url:43}»\n  d: «s:{b64url:43}»"),
        P("aws-presigned", "  download_url: " + PRESIGNED_V4_SLASH),
        P("private-key", "  tls_key: |\n    «ind4:PEM»"),
        N("env-ref", "  password: ${DB_PASSWORD}", '  password: "{{ vault_db_password }}"', "  api_key: ${API_KEY:-}",
          "  password: \"{{ lookup('env', 'DB_PASSWORD') }}\"", "  token: !ENV ${GITHUB_TOKEN}",
          "  password: ${{ secrets.DB_PASSWORD }}"),
        N("secret-manager", "  password: !vault |\n    $ANSIBLE_VAULT;1.1;AES256\n    «n:{hex:64}»\n    «n:{hex:64}»\n    «n:{hex:32}»",
          "  existingSecret: app-credentials", "  secretName: db-credentials",
          "  password: arn:aws:secretsmanager:eu-west-1:«n:{digit:12}»:secret:prod/db-«n:{alnum:6}»",
          "  password_secret_ref:\n    name: db\n    key: password"),
        N("encrypted-value", "  password: ENC[AES256_GCM,data:«n:{b64:16}»,iv:«n:{b64:43}»=,tag:«n:{b64:22}»==,type:str]",
          "  api_key: ENC[AES256_GCM,data:«n:{b64:40}»,iv:«n:{b64:43}»=,tag:«n:{b64:22}»==,type:str]"),
        N("var-no-value", '  password: ""', "  password: null", "  password_file: /run/secrets/db_password",
          "  api_key_header: X-API-Key", "  token_url: https://auth.acme-corp.net/oauth/token", "  password:"),
        N("password-policy", "  password_min_length: 12", "password_policy:\n  min_length: 8\n  require_uppercase: true",
          "  passwordPolicy: strict", "  password_expiry_days: 90"),
        N("uuid", "  client_id: «UUID»", "  tenant_id: «UUID»"),
        N("hash", "  sha256: «SHA256»", "  checksum: «MD5»"),
        N("git-sha", "  rev: «SHA»", "  commit: «SHA»"),
        N("placeholder", "  password: changeme", "  api_key: <your-api-key>", "  password: '********'",
          "  token: REPLACE_WITH_YOUR_TOKEN", "  password: your_password_here"),
    ),
)

JSONF = Format(
    name="json",
    paths=("config/appsettings.json", "config/production.json", "postman/collection.json", "config/secrets.json",
           ".vscode/settings.json", "data/integrations.json"),
    header="{",
    footer='  "version": 1\n}',
    filler=('  "name": "acme-service",', '  "port": 8080,', '  "tokenType": "Bearer",', '  "logLevel": "info",'),
    contexts=flat(
        P("password-config", '  "password": "«P»",', '  "dbPassword": "«P»",', '    "Password": "«P»",',
          '      {"key": "password", "value": "«P»", "type": "text"},', '  "smtp": {"user": "«U»", "pass": "«P»"},'),
        P("generic-secret", '  "apiKey": "«S»",', '  "client_secret": "«S»",', '  "access_token": "«S»",'),
        P("connection-string", '    "DefaultConnection": "Server=«H»;Database=«DB»;User Id=«U»;Password=«P»;TrustServerCertificate=True",',
          '    "Redis": "«H»:6379,password=«P»,ssl=True,abortConnect=False",'),
        P("auth-bearer", '  "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "«TOK»", "type": "string"}]},',
          '        {"key": "Authorization", "value": "Bearer «TOK»"},'),
        P("auth-basic", '  "headers": {"Authorization": "Basic «b64up»"},'),
        P("otp-seed", '  "otpSecret": "«OTP»",'),
        P("jwt", '  "id_token": "«JWT»",'),
        P("private-key", '  "type": "service_account",\n  "private_key_id": "«n:{hex:40}»",\n  "private_key": "«esc:PKCS8»\\n",\n  "client_email": "deployer@acme-prod.iam.gserviceaccount.com",'),
        P("jwk-private", '  "signingKey": ' + JWK_RSA_SORTED + ",", '  "jwk": ' + JWK_OCT + ","),
        P("nats-seed", '  "nkey_seed": "«NKEY»",'),
        P("salt-nonce", '  "passwordSalt": "«SALT»",'),
        N("var-no-value", '  "password": "",', '  "passwordRequired": true,', '  "apiKey": null,'),
        N("env-ref", '  "password": "{{password}}",', '  "apiKey": "${API_KEY}",', '  "token": "$(System.AccessToken)",'),
        N("hash", '  "sha": "«SHA»",', '  "checksum": "sha256:«SHA256»",', '  "etag": "\\"«MD5»\\"",'),
        N("uuid", '  "id": "«UUID»",', '  "subscriptionId": "«UUID»",'),
        N("base64-image", '  "image": "data:image/png;base64,«PNG»",'),
        N("i18n", '  "passwordLabel": "Password",', '  "password": "Mot de passe",', '  "forgotPassword": "Forgot your password?",',
          '  "password_too_short": "Password must be at least 8 characters",'),
        N("public-key", '  "jwks": ' + JWK_PUBLIC + ",", '  "kid": "«n:{b64url:43}»",'),
        N("placeholder", '  "apiKey": "YOUR_API_KEY_HERE",', '  "password": "<password>",'),
    ),
)

TOML = Format(
    name="toml",
    paths=("config.toml", "settings/prod.toml", "netlify.toml", "app.toml"),
    header='title = "service"\n\n[server]\nport = 8080\n',
    filler=("", "[logging]", 'level = "info"', "timeout = 30"),
    contexts=flat(
        P("password-config", '[database]\npassword = "«P»"', 'smtp_password = "«P»"', "db_pass = '«P»'"),
        P("generic-secret", 'api_key = "«S»"', 'secret_key = "«S»"'),
        P("url-credentials", 'url = "postgres://«U»:«PU»@«H»/«DB»"'),
        N("var-no-value", 'password = ""', 'token = "${PYPI_TOKEN}"'),
        N("git-sha", 'rev = "«SHA»"'),
        N("password-policy", "min_password_length = 10"),
    ),
)

INI = Format(
    name="ini",
    paths=("setup.cfg", "config/app.ini", ".my.cnf", "alembic.ini", "pip.conf", ".pypirc", "config/db.cfg", "php.ini"),
    header="[general]\nname = service\n",
    filler=("", "[logging]", "level = INFO", "handlers = console"),
    contexts=flat(
        P("password-config", "[database]\npassword = «P»", "pass=«P»", '[client]\nuser = «U»\npassword = "«P»"',
          "bind_pw = «P»", "db_password: «P»"),
        P("url-credentials", "index-url = https://«U»:«PU»@nexus.build.acme-corp.net/repository/pypi/simple",
          "sqlalchemy.url = postgresql://«U»:«PU»@«H»/«DB»"),
        P("generic-secret", "api_key = «S»", "secret = «S»"),
        N("var-no-value", "password =", "password = %(DB_PASSWORD)s", "auth_type = password"),
        N("password-policy", "min_password_length = 8"),
    ),
)

PROPERTIES = Format(
    name="properties",
    paths=("src/main/resources/application.properties", "src/main/resources/application-prod.properties",
           "config/jdbc.properties", "gradle.properties"),
    header="# application properties\nserver.port=8080\n",
    filler=("", "spring.jpa.hibernate.ddl-auto=update", "logging.level.root=INFO"),
    contexts=flat(
        P("password-config", "spring.datasource.password=«PU»", "db.password=«PU»", "mail.smtp.password = «P»",
          "keystore.password=«PU»", "spring.rabbitmq.password=«PU»", "ldap.password: «P»"),
        P("connection-string", "spring.datasource.url=jdbc:mysql://«H»:3306/«DB»?user=«U»&password=«PU»"),
        P("generic-secret", "jwt.secret=«S»", "app.api.key=«S»"),
        N("env-ref", "spring.datasource.password=${DB_PASSWORD}", "db.password=${env:DB_PASSWORD}"),
        N("encrypted-value", "spring.datasource.password=ENC(«n:{b64:44}»)"),
        N("password-policy", "password.min.length=8"),
        N("i18n", "login.password.label=Password", "error.password.mismatch=Passwords do not match"),
    ),
)

XML = Format(
    name="xml",
    paths=("web.config", "src/main/resources/applicationContext.xml", "settings.xml", "conf/tomcat-users.xml",
           "src/main/webapp/META-INF/context.xml", "app.config"),
    header='<?xml version="1.0" encoding="utf-8"?>\n<configuration>',
    footer="</configuration>",
    filler=("", "  <appSettings>", "  </appSettings>", '  <add key="Environment" value="Production" />'),
    contexts=flat(
        P("password-config", "    <password>«P»</password>", '  <add key="DbPassword" value="«P»" />',
          '    <property name="password" value="«P»"/>', '  <user username="«U»" password="«P»" roles="manager-gui"/>',
          '  <entry key="jdbc.password">«P»</entry>',
          '  <server>\n    <id>nexus</id>\n    <username>«U»</username>\n    <password>«P»</password>\n  </server>'),
        P("connection-string", '    <add name="Default" connectionString="Data Source=«H»;Initial Catalog=«DB»;User ID=«U»;Password=«P»" providerName="System.Data.SqlClient" />',
          '  <Resource name="jdbc/app" auth="Container" type="javax.sql.DataSource" username="«U»" password="«P»" url="jdbc:mysql://«H»:3306/«DB»"/>'),
        P("generic-secret", '  <add key="ApiKey" value="«S»" />', "    <apiToken>«S»</apiToken>"),
        N("env-ref", "    <password>${env.DB_PASSWORD}</password>", '    <property name="password" value="${jdbc.password}"/>'),
        N("html-form", '  <input type="password" id="pwd" name="pwd"/>'),
        N("password-policy", '  <password-policy min-length="8" require-digit="true"/>'),
        N("hash", "    <sha1>«SHA»</sha1>"),
    ),
)

ENV = Format(
    name="env",
    paths=(".env", ".env.production", "deploy/prod.env", "docker/.env", "config/.env.local"),
    header="APP_ENV=production\nLOG_LEVEL=info",
    filler=("", "PORT=8080", "# database", "DEBUG=false", "TOKEN_TTL=3600"),
    contexts=flat(
        P("password-config", "DB_PASSWORD=«P»", "REDIS_PASSWORD=«P»", "SMTP_PASS=«P»", "MAIL_PASSWORD=«P»",
          "export PGPASSWORD='«P»'", 'ADMIN_PASSWORD="«P»"', "RABBITMQ_DEFAULT_PASS=«P»"),
        P("password-weak", "POSTGRES_PASSWORD=«W»"),
        P("generic-secret", "API_KEY=«S»", "SECRET_KEY=«S»", "JWT_SECRET=«S»", "APP_KEY=«APPKEY»", "SESSION_SECRET=«S»",
          "ENCRYPTION_KEY=«S»"),
        P("url-credentials", "DATABASE_URL=postgres://«U»:«PU»@«H»:5432/«DB»", "REDIS_URL=redis://:«PU»@«H»:6379/0",
          "MONGO_URI=mongodb://«U»:«PU»@«H»:27017/«DB»?authSource=admin"),
        P("otp-seed", "TOTP_SECRET=«OTP»"),
        P("salt-nonce", "HASHIDS_SALT=«SALT»", "SECURITY_PASSWORD_SALT=«SALT»"),
        P("nats-seed", "NATS_NKEY_SEED=«NKEY»"),
        P("aws-keys", "AWS_ACCESS_KEY_ID=«AKID»\nAWS_SECRET_ACCESS_KEY=«AWSSECRET»"),
        P("jwt", "ACCESS_TOKEN=«JWT»"),
        P("private-key", 'JWT_PRIVATE_KEY="«esc:PEMKEY»"'),
        N("env-ref", "DB_PASSWORD=${DB_PASSWORD}", "API_KEY=$API_KEY", "SECRET_KEY=${SECRET_KEY:?missing}"),
        N("var-no-value", "DB_PASSWORD=", "API_KEY=", "PASSWORD_FILE=/run/secrets/db_password"),
        N("password-policy", "PASSWORD_MIN_LENGTH=12"),
        N("uuid", "CLIENT_ID=«UUID»"),
    ),
)

ENV_EXAMPLE = Format(
    name="env-example",
    paths=(".env.example", ".env.sample", "env.template"),
    header="# copy to .env and fill in",
    contexts=flat(
        N("placeholder", "DB_PASSWORD=changeme", "API_KEY=your-api-key", "SECRET_KEY=replace-me",
          "STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "DATABASE_URL=postgres://user:password@localhost:5432/app",
          "GITHUB_TOKEN=<your-token>", "JWT_SECRET=", "SMTP_PASSWORD=********", "OPENAI_API_KEY=sk-...",
          "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
          "MAIL_PASSWORD=null", "REDIS_PASSWORD=your_redis_password"),
    ),
    per_file=13,
)

DOCKERFILE = Format(
    name="dockerfile",
    paths=("Dockerfile", "docker/api.Dockerfile", "build/Dockerfile.prod"),
    header="FROM python:3.12-slim\nWORKDIR /app\nCOPY . .",
    filler=("", "RUN pip install --no-cache-dir -r requirements.txt", "EXPOSE 8080", 'CMD ["gunicorn", "app:app"]'),
    contexts=flat(
        P("password-config", "ENV DB_PASSWORD=«P»", "ENV MYSQL_ROOT_PASSWORD «P»", "ARG ADMIN_PASSWORD=«P»"),
        P("generic-secret", "ENV API_TOKEN=«S»", "ARG NPM_TOKEN=«S»"),
        P("cli-password", 'RUN echo "«U»:«P»" | chpasswd', "RUN useradd -m «U» && echo «U»:«P» | chpasswd"),
        P("url-credentials", "RUN pip install --index-url https://«U»:«PU»@nexus.build.acme-corp.net/simple internal-lib"),
        N("var-no-value", "ARG DB_PASSWORD", "ENV PASSWORD=$PASSWORD",
          "RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci"),
        N("hash", "FROM node:20-alpine@sha256:«SHA256»"),
    ),
)

SHELL = Format(
    name="shell",
    paths=("scripts/deploy.sh", "scripts/backup.sh", "bin/setup", "scripts/db-migrate.sh", "ops/rotate.sh"),
    header="#!/usr/bin/env bash\nset -euo pipefail\n",
    filler=("", 'echo "done"', 'cd "$(dirname "$0")"', 'log() { echo "[$(date)] $*"; }'),
    contexts=flat(
        P("password-config", 'export DB_PASSWORD="«P»"', "DB_PASS='«P»'"),
        P("generic-secret", "export API_TOKEN=«S»", 'curl -H "X-API-Key: «S»" https://api.acme-corp.net/v1/items'),
        P("cli-password", "mysql -h «H» -u «U» -p«P» «DB»", "mysqldump -u root --password=«P» «DB» > backup.sql",
          "PGPASSWORD=«P» psql -h «H» -U «U» «DB»", "sshpass -p '«P»' ssh «U»@«H»",
          "docker login -u «U» -p «P» registry.acme-corp.net", "redis-cli -h «H» -a «P» ping",
          "htpasswd -bc /etc/nginx/.htpasswd «U» «P»", "openssl pkcs12 -export -in cert.pem -inkey key.pem -out cert.p12 -passout pass:«P»",
          "keytool -importkeystore -srckeystore a.jks -srcstorepass «P» -destkeystore b.p12",
          'echo "«P»" | docker login --username «U» --password-stdin registry.acme-corp.net',
          "az login --service-principal -u «UUID» -p «S» --tenant «UUID»",
          "wget --user=«U» --password=«P» ftp://«H»/export.csv",
          "rabbitmqctl add_user «U» «P»", "mongo «DB» -u «U» -p «P» --authenticationDatabase admin",
          "sqlcmd -S «H» -U sa -P «P» -Q \"SELECT 1\""),
        P("auth-basic", "curl -u «U»:«P» https://ci.acme-corp.net/api/json", 'curl -H "Authorization: Basic «b64up»" https://«H»/api'),
        P("auth-bearer", 'curl -H "Authorization: Bearer «TOK»" https://api.acme-corp.net/v1/items'),
        P("url-credentials", 'psql "postgresql://«U»:«PU»@«H»/«DB»"', "git clone https://«U»:«PU»@github.com/acme/infra.git"),
        P("aws-presigned", 'curl -o report.pdf "' + PRESIGNED_V4 + '"', "wget '" + PRESIGNED_V2 + "'"),
        N("var-no-value", "mysql -u root -p «DB»", 'docker login -u "$REGISTRY_USER" --password-stdin',
          'export DB_PASSWORD="${DB_PASSWORD:?required}"', 'read -s -p "Password: " PASSWORD',
          'curl -H "Authorization: Bearer $TOKEN" https://api.acme-corp.net', 'mysql -u "$DB_USER" -p"$DB_PASS"',
          'PGPASSWORD="$(cat /run/secrets/pg)" psql -U app'),
        N("hash", 'echo "«SHA256»  terraform.zip" | sha256sum -c -'),
    ),
)

SQL = Format(
    name="sql",
    paths=("db/init.sql", "migrations/0001_users.sql", "scripts/grants.sql", "db/seed.sql"),
    header="-- schema setup\nCREATE DATABASE IF NOT EXISTS app;\n",
    filler=("", "CREATE TABLE users (id SERIAL PRIMARY KEY, email TEXT NOT NULL);", "GRANT SELECT ON ALL TABLES IN SCHEMA public TO reporting;"),
    contexts=flat(
        P("sql-password", "CREATE USER '«U»'@'%' IDENTIFIED BY '«P»';", "ALTER USER postgres WITH PASSWORD '«P»';",
          "CREATE LOGIN «U» WITH PASSWORD = '«P»';", "GRANT ALL ON «DB».* TO '«U»'@'%' IDENTIFIED BY '«P»';",
          "CREATE ROLE «U» LOGIN PASSWORD '«P»';", "SET PASSWORD FOR '«U»'@'localhost' = PASSWORD('«P»');",
          "CREATE USER «U» IDENTIFIED BY «s:{alnum:14}»;", "ALTER LOGIN sa WITH PASSWORD = '«P»';",
          "CREATE USER «U» WITH ENCRYPTED PASSWORD '«P»';",
          "CREATE DATABASE LINK remote CONNECT TO «U» IDENTIFIED BY «s:{alnum:12}» USING 'orcl';"),
        N("placeholder", "CREATE USER '«U»'@'%' IDENTIFIED BY '<password>';", "ALTER ROLE «U» WITH PASSWORD :'pw';"),
        N("var-no-value", "SELECT * FROM users WHERE username = $1 AND password = $2;", "  password_hash VARCHAR(255) NOT NULL,",
          "CREATE USER «U» IDENTIFIED WITH auth_socket;", "UPDATE users SET password = crypt($1, gen_salt('bf')) WHERE id = $2;"),
        N("salted-hash", "CREATE USER '«U»'@'%' IDENTIFIED BY PASSWORD '*«n:{HEX:40}»';",
          "ALTER USER «U» IDENTIFIED BY VALUES 'S:«n:{HEX:60}»';",
          "INSERT INTO users (email, password) VALUES ('admin@acme-corp.net', '«BCRYPT»');"),
    ),
)

MARKDOWN = Format(
    name="markdown",
    paths=("README.md", "SETUP.md", "ops/RUNBOOK.md", "CONTRIBUTING.md", "deploy/NOTES.md"),
    header="# Service\n\nInternal service. Setup notes below.\n",
    filler=("", "## Usage", "Run the tests with `pytest`.", "```bash", "```", "See the wiki for details."),
    contexts=flat(
        P("cli-password", "```bash\nmysql -u admin -p«P» -h «H» «DB»\n```", "```\ndocker login -u «U» -p «P» registry.acme-corp.net\n```"),
        P("password-config", "The staging admin login is `«U»` / `«P»`.", "```yaml\ndatabase:\n  password: «P»\n```",
          "- password: `«P»`"),
        P("url-credentials", "```\nDATABASE_URL=postgres://«U»:«PU»@«H»:5432/«DB»\n```"),
        P("auth-basic", "```\ncurl -u «U»:«P» https://ci.acme-corp.net/job/deploy/build\n```"),
        P("auth-bearer", "```http\nGET /v1/items HTTP/1.1\nHost: api.acme-corp.net\nAuthorization: Bearer «TOK»\n```"),
        P("generic-secret", "```bash\nexport API_KEY=«S»\n```"),
        P("jwt", "Example response: `{\"access_token\": \"«JWT»\"}`"),
        P("aws-presigned", "Download: [report.pdf](" + PRESIGNED_V4 + ")"),
        N("doc-example", "```bash\nexport API_KEY=<your-api-key>\n```", 'curl -H "Authorization: Bearer $TOKEN" https://api.acme-corp.net',
          "```yaml\npassword: your_password_here\n```", "```\nDATABASE_URL=postgres://user:password@localhost:5432/db\n```",
          "Set `AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE` in your shell.", "Open https://user:pass@example.com/ to test basic auth.",
          "Use `mysql -u root -p` and type the password when prompted.", "[presigned example](" + PRESIGNED_DOC + ")",
          "The TOTP secret looks like `JBSWY3DPEHPK3PXP`.", "`password` (string, required): the user's password."),
        N("base64-image", "![diagram](data:image/png;base64,«PNG»)"),
        N("git-sha", "Fixed in «SHA».", "* fix: handle empty tokens («n:{hex:7}»)"),
    ),
)

NOTEBOOK_CELLS = flat(
    P("password-code", 'password = "«P»"', 'conn = psycopg2.connect(host="«H»", user="«U»", password="«P»")',
      'engine = create_engine("postgresql://«U»:«PU»@«H»/«DB»")'),
    P("generic-secret", 'openai_api_key = "«S»"', 'API_KEY = "«S»"'),
    P("auth-bearer", 'headers = {"Authorization": "Bearer «TOK»"}'),
    N("var-no-value", 'password = getpass.getpass()', 'api_key = os.environ["API_KEY"]', "df.head()",
      'token = input("token: ")'),
)

K8S = Format(
    name="k8s",
    paths=("k8s/secret.yaml", "deploy/k8s/db-secret.yaml", "charts/app/templates/secret.yaml", "k8s/deployment.yaml",
           "manifests/registry-secret.yaml"),
    header="---",
    filler=("---",),
    per_file=4,
    contexts=flat(
        P("encoded",
          "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-credentials\ntype: Opaque\ndata:\n  username: «b64:U»\n  password: «b64:P»",
          "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\ndata:\n  API_KEY: «b64:S»\n  DATABASE_URL: «b64:DBURL»",
          "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\ntype: kubernetes.io/tls\ndata:\n  tls.crt: «b64:CERT»\n  tls.key: «b64:PEM»",
          'apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: «b64:DOCKERCFG»'),
        P("password-config",
          "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\nstringData:\n  DB_PASSWORD: «P»\n  REDIS_PASSWORD: «P»",
          "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          env:\n            - name: DB_PASSWORD\n              value: «P»\n            - name: LOG_LEVEL\n              value: info",
          "        env:\n          - name: SPRING_DATASOURCE_PASSWORD\n            value: \"«P»\""),
        N("secret-manager",
          "        env:\n          - name: DB_PASSWORD\n            valueFrom:\n              secretKeyRef:\n                name: db-credentials\n                key: password",
          "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\nspec:\n  encryptedData:\n    password: AgB«n:{b64:400}»==",
          "apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\nspec:\n  data:\n    - secretKey: password\n      remoteRef:\n        key: prod/db\n        property: password"),
        N("certificate", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ca\ndata:\n  ca.crt: |\n    «ind4:CERT»"),
    ),
)

KUBECONFIG = Format(
    name="kubeconfig",
    paths=("kubeconfig", ".kube/config", "deploy/kubeconfig.yaml"),
    header="apiVersion: v1\nkind: Config",
    per_file=3,
    contexts=flat(
        N("certificate", "clusters:\n- cluster:\n    certificate-authority-data: «b64:CERT»\n    server: https://10.0.0.1:6443\n  name: prod"),
        P("encoded", "users:\n- name: admin\n  user:\n    client-certificate-data: «n:{b64:200}»\n    client-key-data: «b64:PEM»"),
        P("generic-secret", "users:\n- name: ci\n  user:\n    token: «TOK»"),
        P("jwt", "- name: sa\n  user:\n    token: «JWT»"),
    ),
)

COMPOSE = Format(
    name="compose",
    paths=("docker-compose.yml", "docker-compose.prod.yml", "compose.yaml", "deploy/docker-compose.override.yml"),
    header="services:",
    filler=("    restart: unless-stopped", "    ports:\n      - \"8080:8080\""),
    per_file=8,
    contexts=flat(
        P("password-config", "  db:\n    image: postgres:16\n    environment:\n      POSTGRES_USER: «U»\n      POSTGRES_PASSWORD: «P»",
          "  mysql:\n    image: mysql:8\n    environment:\n      - MYSQL_ROOT_PASSWORD=«P»\n      - MYSQL_DATABASE=«DB»",
          "  rabbit:\n    image: rabbitmq:3\n    environment:\n      RABBITMQ_DEFAULT_PASS: \"«P»\"",
          "  redis:\n    image: redis:7\n    command: redis-server --requirepass «P»"),
        P("password-weak", "  db:\n    environment:\n      MYSQL_ROOT_PASSWORD: «W»"),
        P("url-credentials", "  worker:\n    environment:\n      - CELERY_BROKER_URL=amqp://«U»:«PU»@rabbit:5672//"),
        P("generic-secret", "  api:\n    environment:\n      SECRET_KEY: «S»\n      SENTRY_AUTH_TOKEN: «S»"),
        N("env-ref", "  db:\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-}", "      - DB_PASSWORD=${DB_PASSWORD}"),
        N("var-no-value", "      POSTGRES_PASSWORD_FILE: /run/secrets/pg_password", "    secrets:\n      - db_password",
          'secrets:\n  db_password:\n    file: ./secrets/db_password.txt'),
        N("hash", "    image: nginx@sha256:«SHA256»"),
    ),
)

TERRAFORM = Format(
    name="terraform",
    paths=("infra/main.tf", "infra/rds.tf", "modules/db/main.tf", "infra/providers.tf", "infra/variables.tf"),
    header='terraform {\n  required_version = ">= 1.5"\n}\n',
    filler=("", '  tags = { env = "prod" }', "}", '  instance_class = "db.t3.micro"'),
    contexts=flat(
        P("password-config", 'resource "aws_db_instance" "main" {\n  engine   = "postgres"\n  username = "«U»"\n  password = "«P»"\n}',
          '  master_password = "«P»"', '  administrator_login_password = "«P»"',
          'provider "postgresql" {\n  host     = "«H»"\n  password = "«P»"\n}'),
        P("aws-keys", 'provider "aws" {\n  region     = "eu-west-1"\n  access_key = "«AKID»"\n  secret_key = "«AWSSECRET»"\n}'),
        P("generic-secret", '  api_token = "«S»"', 'variable "api_key" {\n  default = "«S»"\n}'),
        P("private-key", '  private_key = <<EOF\n«PEM»\nEOF'),
        N("env-ref", "  password = var.db_password", "  password = random_password.db.result",
          "  password = data.aws_secretsmanager_secret_version.db.secret_string", '  password = "${var.password}"'),
        N("var-no-value", 'variable "db_password" {\n  type      = string\n  sensitive = true\n}'),
        N("password-policy", 'resource "aws_iam_account_password_policy" "strict" {\n  minimum_password_length = 14\n  require_symbols         = true\n  max_password_age        = 90\n}'),
        N("hash", '  source_code_hash = "«n:{b64:43}»="'),
    ),
)

NGINX = Format(
    name="nginx",
    paths=("nginx/nginx.conf", "nginx/conf.d/api.conf", "deploy/nginx/site.conf"),
    header="server {\n    listen 443 ssl;\n    server_name api.acme-corp.net;",
    footer="}",
    filler=("", "    location / {", "    }", "        proxy_pass http://upstream;", "    gzip on;"),
    contexts=flat(
        P("auth-basic", '        proxy_set_header Authorization "Basic «b64up»";'),
        P("generic-secret", "        proxy_set_header X-Api-Key «S»;"),
        P("auth-bearer", '        proxy_set_header Authorization "Bearer «TOK»";'),
        N("var-no-value", '    auth_basic "Restricted Area";', "    auth_basic_user_file /etc/nginx/.htpasswd;",
          "    ssl_certificate_key /etc/ssl/private/server.key;", "    ssl_password_file /etc/keys/global.pass;",
          "        proxy_set_header Authorization $http_authorization;"),
        N("hash", "    add_header Content-Security-Policy \"script-src 'self' 'nonce-«n:{b64:22}»=='\";"),
    ),
)

APACHE = Format(
    name="apache",
    paths=("apache/httpd.conf", "apache/sites-available/app.conf", ".htaccess"),
    header="<VirtualHost *:443>\n    ServerName app.acme-corp.net",
    footer="</VirtualHost>",
    filler=("", "    DocumentRoot /var/www/html", "    ErrorLog ${APACHE_LOG_DIR}/error.log"),
    contexts=flat(
        P("password-config", "    AuthLDAPBindPassword «P»", '    AuthLDAPBindPassword "«P»"', "    SetEnv DB_PASSWORD «P»"),
        P("auth-basic", '    RequestHeader set Authorization "Basic «b64up»"'),
        P("url-credentials", "    ProxyPass /legacy http://«U»:«PU»@legacy.corp.local/app"),
        N("var-no-value", "    AuthUserFile /etc/apache2/.htpasswd", "    SSLCertificateKeyFile /etc/ssl/private/app.key",
          "    AuthType Basic", "    AuthLDAPBindDN cn=svc,dc=corp,dc=local", "    SSLPassPhraseDialog exec:/usr/libexec/httpd-ssl-pass-dialog"),
    ),
)

CI = Format(
    name="ci",
    paths=(".github/workflows/ci.yml", ".github/workflows/deploy.yml", ".gitlab-ci.yml", "azure-pipelines.yml",
           ".circleci/config.yml", "bitbucket-pipelines.yml"),
    header="name: ci\non: [push]\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:",
    filler=("      - uses: actions/setup-python@v5", "      - run: pytest -q", "      - run: make build"),
    contexts=flat(
        P("password-config", "    env:\n      DOCKER_PASSWORD: «P»", "      MYSQL_PASSWORD: «P»"),
        P("cli-password", "      - run: docker login -u «U» -p «P» registry.acme-corp.net",
          '      - run: mysql -h 127.0.0.1 -u root -p«P» -e "CREATE DATABASE «DB»"',
          "    script:\n      - sshpass -p «P» scp dist.tar.gz «U»@«H»:/srv/app/"),
        P("generic-secret", "      SONAR_TOKEN: «S»", "        with:\n          api-key: «S»"),
        P("password-weak", "    services:\n      postgres:\n        env:\n          POSTGRES_PASSWORD: «W»"),
        N("env-ref", "          password: ${{ secrets.DOCKERHUB_TOKEN }}", "          token: ${{ github.token }}",
          "      NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}", "    variables:\n      DOCKER_AUTH_CONFIG: $DOCKER_AUTH_CONFIG",
          '      - run: echo "${{ secrets.REGISTRY_PASSWORD }}" | docker login -u ci --password-stdin registry.acme-corp.net'),
        N("git-sha", "      - uses: actions/checkout@«SHA» # v4", "      - uses: docker/login-action@«SHA»"),
    ),
)

PHP = Format(
    name="php",
    paths=("wp-config.php", "config/database.php", "public/wp-config.php", "app/config.php"),
    header="<?php",
    filler=("", "define('WP_DEBUG', false);", "$table_prefix = 'wp_';", "require_once ABSPATH . 'wp-settings.php';"),
    contexts=flat(
        P("password-code", "define('DB_PASSWORD', '«P»');", '$db_password = "«P»";', "        'password' => '«P»',",
          "$mysqli = new mysqli('«H»', '«U»', '«P»', '«DB»');"),
        P("salt-nonce", "define('AUTH_KEY',         '«WPSALT»');", "define('SECURE_AUTH_SALT', '«WPSALT»');",
          "define('NONCE_KEY',        '«WPSALT»');", "define('LOGGED_IN_SALT',   '«WPSALT»');"),
        P("generic-secret", "$apiKey = '«S»';"),
        N("placeholder", "define('AUTH_KEY',         'put your unique phrase here');",
          "define('DB_PASSWORD', 'password_here');"),
        N("env-ref", "define('DB_PASSWORD', getenv('DB_PASSWORD'));", "        'password' => env('DB_PASSWORD', ''),"),
        N("password-hash-code", "$hash = password_hash($password, PASSWORD_DEFAULT);"),
    ),
)

RUBY_ELIXIR = Format(
    name="ruby-elixir",
    paths=("config/initializers/devise.rb", "config/config.exs", "config/prod.exs", "config/initializers/secrets.rb"),
    header="# frozen_string_literal: true",
    filler=("", "end", "config :logger, level: :info"),
    contexts=flat(
        P("salt-nonce", '  config.pepper = "«PEPPER»"', '  signing_salt: "«PHXSALT»"', 'config :app, AppWeb.Endpoint, live_view: [signing_salt: "«PHXSALT»"]'),
        P("generic-secret", '  secret_key_base: "«s:{b64:64}»",', '  config.secret_key = "«s:{hex:128}»"'),
        P("password-code", '  password: "«P»",', 'ActionMailer::Base.smtp_settings = { user_name: "«U»", password: "«P»" }'),
        N("env-ref", '  password: System.get_env("DB_PASSWORD"),', "  config.secret_key = ENV['DEVISE_SECRET']"),
        N("password-policy", "  config.password_length = 8..128"),
    ),
)

def _small(name: str, paths: tuple[str, ...], *groups: Iterable[Context], header: str = "", per_file: int = 3) -> Format:
    return Format(name=name, paths=paths, contexts=flat(*groups), header=header, per_file=per_file, filler=("",))


CONF_MISC = (
    _small("netrc", (".netrc", "home/deploy/.netrc"),
           P("password-config", "machine «H» login «U» password «P»"),
           N("var-no-value", "default login anonymous password anonymous@")),
    _small("pgpass", (".pgpass", "home/postgres/.pgpass"),
           P("password-config", "«H»:5432:«DB»:«U»:«P»"),
           N("doc-example", "# hostname:port:database:username:password")),
    _small("redis-conf", ("redis/redis.conf", "conf/sentinel.conf"),
           P("password-config", "requirepass «P»", "masterauth «P»"),
           N("var-no-value", "# requirepass foobared", "protected-mode yes")),
    _small("npmrc", (".npmrc", "frontend/.npmrc"),
           P("provider", "//registry.npmjs.org/:_authToken=«s:npm_{alnum:36}»"),
           P("encoded", "_auth=«b64up»", "//nexus.build.acme-corp.net/repository/npm/:_password=«b64:P»"),
           N("env-ref", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}"),
           N("var-no-value", "always-auth=true", "registry=https://registry.npmjs.org/")),
    _small("git-credentials", (".git-credentials",), P("url-credentials", "https://«U»:«PU»@github.com")),
    _small("docker-config", ("docker/config.json", ".docker/config.json"),
           P("encoded", '{"auths": {"registry.acme-corp.net": {"auth": "«b64up»"}}}'),
           N("var-no-value", '{"credsStore": "desktop", "auths": {"https://index.docker.io/v1/": {}}}')),
    _small("pgbouncer", ("etc/pgbouncer/userlist.txt",),
           P("password-config", '"«U»" "«P»"'),
           N("salted-hash", '"«U»" "SCRAM-SHA-256$4096:«n:{b64:24}»$«n:{b64:43}»=:«n:{b64:43}»="',
             '"«U»" "md5«MD5»"')),
    _small("htpasswd", (".htpasswd", "nginx/.htpasswd"),
           N("salted-hash", "«U»:$apr1$«n:{alnum:8}»$«n:{alnum:22}»", "«U»:«BCRYPT»")),
)

NATS = Format(
    name="nats",
    paths=("nats/user.creds", "deploy/nats/ci.creds", "nats/nats-server.conf", "config/nats.conf"),
    header="# NATS",
    per_file=3,
    contexts=flat(
        P("nats-seed", NATS_CREDS, "authorization {\n  users = [\n    { nkey: «NPUB» }\n  ]\n}\n# seed for the ops user: «NKEY»"),
        N("nats-public", "accounts {\n  APP {\n    users: [ { nkey: «NPUB» }, { nkey: «NPUB2» } ]\n  }\n}", "operator: «n:{hex:8}»\nsystem_account: «NPUB»"),
    ),
)

PEMFILES = Format(
    name="pem",
    paths=("certs/server.key", "deploy/id_rsa", "keys/signing.pem", "certs/client.pem"),
    header="",
    per_file=1,
    contexts=flat(P("private-key", "«PEM»")),
)

PUBFILES = Format(
    name="public",
    paths=("certs/ca.crt", "certs/server.crt", "keys/signing.pub", ".ssh/authorized_keys", "keys/jwks.json",
           "certs/chain.pem"),
    header="",
    per_file=2,
    contexts=flat(N("certificate", "«CERT»"), N("public-key", "«PUBPEM»", "«SSHPUB»", JWK_PUBLIC)),
)

JWKFILES = Format(
    name="jwk",
    paths=("keys/jwk.json", "config/jwks-private.json", "secrets/signing-key.jwk", "config/oidc.json"),
    header="",
    per_file=1,
    contexts=flat(
        P("jwk-private", JWK_RSA, JWK_RSA_SORTED, JWK_EC, JWK_OKP_SORTED, JWK_OCT,
          '{"keys": [' + JWK_EC + "]}", 'private_jwk = {"kty":"EC","crv":"P-384","x":"«n:{b64url:64}»","y":"«n:{b64url:64}»","d":"«s:{b64url:64}»"}'),
    ),
)

LOCKFILES = Format(
    name="lock",
    paths=("package-lock.json", "yarn.lock", "poetry.lock", "go.sum", "Cargo.lock", "Gemfile.lock"),
    header="",
    per_file=12,
    contexts=flat(
        N("lock-file", '      "integrity": "sha512-«n:{b64:86}»==",', '  resolved "https://registry.yarnpkg.com/pkg/-/pkg-1.2.3.tgz#«SHA»"',
          '    {file = "pkg-1.0-py3-none-any.whl", hash = "sha256:«SHA256»"},',
          "github.com/acme/lib v1.2.3 h1:«n:{b64:43}»=", 'checksum = "«SHA256»"',
          '      "resolved": "https://registry.npmjs.org/token-utils/-/token-utils-2.0.1.tgz",',
          '  "password-validator": {\n      "version": "5.3.0",\n      "integrity": "sha512-«n:{b64:86}»=="\n    },'),
    ),
)

MINIFIED = Format(
    name="minified",
    paths=("static/js/app.min.js", "static/css/site.min.css", "public/vendor.bundle.js"),
    header="",
    per_file=1,
    contexts=flat(
        N("minified",
          '!function(e){var t={apiKey:void 0,token:null,password:"",passwordMinLength:8};e.Config=t}(window);'
          'var n="data:image/png;base64,«PNG»",r="data:font/woff2;base64,«n:{b64:900}»";'
          'function o(e,t){return e.password===t.password&&e.token===t.token}var i={secret:e.secret,apiKey:e.apiKey};',
          ".icon{background:url(data:image/svg+xml;base64,«n:{b64:600}»)}.logo{background-image:url(data:image/png;base64,«PNG»)}"
          ".password-field{border:1px solid #ccc}.token{color:#333}"),
    ),
)

HTML = Format(
    name="html",
    paths=("templates/login.html", "public/index.html", "templates/account/password_change.html"),
    header="<!doctype html>\n<html>\n<body>",
    footer="</body>\n</html>",
    filler=("", "  <div class=\"container\">", "  </div>"),
    contexts=flat(
        N("html-form", '    <input type="password" name="password" id="password" placeholder="Password" required>',
          '    <label for="password">Password</label>', '    <input type="password" name="new_password1" autocomplete="new-password">',
          '    <a href="/accounts/password/reset/">Forgot password?</a>', '    <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">',
          '    <meta name="csrf-token" content="{{ csrf_token }}">'),
        N("hash", '  <script src="/static/app.js" integrity="sha384-«n:{b64:64}»" crossorigin="anonymous"></script>',
          '  <script nonce="«n:{b64:22}»==">window.dataLayer = [];</script>'),
        N("base64-image", '  <img src="data:image/png;base64,«PNG»" alt="logo">'),
    ),
)

# Harder near misses: the same shapes as the positives above, with values that are not secrets.
_HARD: tuple[tuple[Format, list[Context]], ...] = (
    (PY, flat(
        N("var-no-value", 'resp = requests.get(url, auth=("«U»", password))', "auth = HTTPBasicAuth(user, token)",
          'server.login(EMAIL_USER, EMAIL_PASSWORD)', 'subprocess.run(["sshpass", "-p", os.environ["SSHPASS"], "ssh", host])',
          'dsn = f"host={host} user={user} password={password} dbname={db}"', 'os.environ.setdefault("DB_PASSWORD", "")',
          'conn_str = "Server=%s;Database=%s;Uid=%s;Pwd=%s;" % (host, db, user, pw)',
          'headers = {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}',
          'session.headers["Authorization"] = f"Bearer {token}"', 'url = f"redis://:{password}@{host}:6379/0"'),
        N("salted-hash", 'user = {"username": "alice", "salt": "«n:{b64:24}»", "hash": "«n:{b64:44}»"}'),
        N("hash", 'token_sha256 = "«SHA256»"', 'API_KEY_FINGERPRINT = "SHA256:«n:{b64:43}»"'),
        N("public-key", 'VAPID_PUBLIC_KEY = "B«n:{b64url:86}»"', 'public_key = "«n:{b64:44}»"',
          'SENTRY_DSN = "https://«MD5»@o«n:{digit:6}».ingest.sentry.io/«n:{digit:7}»"'),
        N("encrypted-value", 'encrypted_password = "«n:{b64:64}»"'),
        N("test-vector", 'nonce = bytes.fromhex("«n:{hex:24}»")  # RFC 8439 test vector'),
        N("uuid", 'NKEY_ACCOUNT = "«NPUB»"'),
    )),
    (SHELL, flat(
        N("var-no-value", 'docker login -u "$CI_REGISTRY_USER" -p "$CI_REGISTRY_PASSWORD" "$CI_REGISTRY"',
          "docker run -p 8080:80 -p 5432:5432 nginx", 'sshpass -p "$SSHPASS" ssh «U»@«H»', "redis-cli -a $REDIS_PASSWORD ping",
          "keytool -importkeystore -srcstorepass:env STOREPASS -destkeystore b.p12",
          "openssl pkcs12 -export -out c.p12 -passout pass:$P12_PASSWORD", "openssl rsa -in key.pem -passin env:KEY_PASS",
          "PGPASSWORD=$PGPASSWORD psql -h «H» -U «U»", 'htpasswd -b .htpasswd «U» "$ADMIN_PASSWORD"',
          "mongo «DB» -u «U» -p --authenticationDatabase admin", 'echo "$REGISTRY_TOKEN" | docker login ghcr.io -u «U» --password-stdin',
          "scp -P 2222 dist.tar.gz «U»@«H»:/srv/", "ssh -p 2222 «U»@«H»", "tar -xzf release.tar.gz -C /opt/app",
          'rabbitmqctl add_user «U» "$RABBIT_PASS"', 'curl -H "X-API-Key: ${API_KEY}" https://api.acme-corp.net'),
    )),
    (DOCKERFILE, flat(
        N("var-no-value", "ENV PASSWORD_FILE=/run/secrets/db_password", "ENV DB_PASSWORD=${DB_PASSWORD}",
          "ARG NPM_TOKEN", 'RUN echo "«U»:${USER_PASSWORD}" | chpasswd'),
        N("public-key", "ENV GPG_KEY «n:{HEX:40}»", "ENV PYTHON_SHA256 «SHA256»"),
    )),
    (XML, flat(
        N("var-no-value", "    <password></password>", '  <add key="Password" value="" />', "    <password>${db.password}</password>",
          '  <property name="passwordEncoder" ref="bcryptEncoder"/>', '  <entry key="jdbc.password">${JDBC_PASSWORD}</entry>',
          "    <passwordHash>«BCRYPT»</passwordHash>", '  <add key="ApiKeyHeader" value="X-Api-Key" />'),
    )),
    (NGINX, flat(
        N("var-no-value", "        proxy_set_header Authorization $http_authorization;",
          '        proxy_set_header Authorization "Basic $basic_credentials";', "        proxy_set_header X-Api-Key $api_key;"),
    )),
    (APACHE, flat(
        N("var-no-value", "    AuthLDAPBindPassword ${LDAP_BIND_PASSWORD}", '    AuthLDAPBindPassword "exec:/usr/local/bin/ldap-pw"',
          "    SetEnv DB_PASSWORD_FILE /etc/app/db.pass", '    RequestHeader set Authorization "Basic %{BASIC_AUTH}e"'),
    )),
    (K8S, flat(
        N("var-no-value", "        env:\n          - name: DB_PASSWORD_FILE\n            value: /run/secrets/db\n          - name: PASSWORD_MIN_LENGTH\n            value: \"12\"",
          "        env:\n          - name: API_TOKEN\n            value: \"$(API_TOKEN)\"",
          "apiVersion: v1\nkind: Secret\nmetadata:\n  name: empty\ndata:\n  password: \"\"\n  username: «b64:U»"),
    )),
    (JSONF, flat(
        N("var-no-value", '      {"key": "password", "value": "{{password}}", "type": "text"},', '      {"key": "password", "value": "", "type": "text"},',
          '        {"key": "Authorization", "value": "Bearer {{access_token}}"},',
          '  "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}", "type": "string"}]},'),
        N("salted-hash", '  "users": [{"name": "alice", "salt": "«n:{b64:24}»", "hash": "«n:{b64:44}»"}],'),
    )),
    (YAML, flat(
        N("var-no-value", "smtp: {host: «H», user: «U», pass: ${SMTP_PASS}}", "  password: \"\"", "  pass: null",
          "  url: jdbc:mysql://«H»:3306/«DB»?user=«U»&password=${DB_PASSWORD}"),
        N("public-key", "  gpg_key: «n:{HEX:40}»", "  public_key: «n:{b64:44}»", "  signing_key_id: «n:{HEX:16}»"),
    )),
    (ENV, flat(
        N("var-no-value", "SMTP_PASS=", "RABBITMQ_DEFAULT_PASS=${RABBITMQ_PASS}", "PASSWORD_RESET_TIMEOUT=3600",
          "DB_PASSWORD_FILE=/run/secrets/db"),
        N("public-key", "VAPID_PUBLIC_KEY=B«n:{b64url:86}»", "NEXT_PUBLIC_STRIPE_KEY=pk_live_«n:{alnum:24}»"),
    )),
    (SQL, flat(
        N("var-no-value", "CREATE USER «U» IDENTIFIED BY :password;", "ALTER LOGIN sa WITH PASSWORD = @new_password;",
          "CREATE ROLE «U» LOGIN PASSWORD NULL;", "SET PASSWORD FOR '«U»'@'localhost' = PASSWORD(@pw);",
          "  password VARCHAR(64) NOT NULL DEFAULT '',"),
    )),
    (PROPERTIES, flat(
        N("var-no-value", "spring.datasource.url=jdbc:mysql://«H»:3306/«DB»?user=«U»&password=${DB_PASSWORD}",
          "ldap.password.attribute: userPassword", "keystore.password.env=KEYSTORE_PASSWORD"),
    )),
    (JAVA, flat(
        N("var-no-value", '        ds.setPassword(System.getenv("DB_PASSWORD"));', '        ds.setPassword(config.getPassword());',
          '    Connection c = DriverManager.getConnection(url, user, password);',
          '        conn.setRequestProperty("Authorization", "Basic " + encoded);',
          '        return new PasswordAuthentication(user, password.toCharArray());'),
    )),
    (GO, flat(
        N("var-no-value", 'dsn := fmt.Sprintf("%s:%s@tcp(%s:3306)/%s", user, pass, host, db)',
          'req.Header.Set("Authorization", "Bearer "+token)', 'db, err := sql.Open("postgres", os.Getenv("DATABASE_DSN"))'),
    )),
    (CI, flat(
        N("var-no-value", "      - run: docker login -u $DOCKER_USER -p $DOCKER_PASS", "      - mysql -h 127.0.0.1 -u root -p\"$MYSQL_ROOT_PASSWORD\" -e \"SELECT 1\"",
          "      - sshpass -p \"$DEPLOY_PASSWORD\" scp dist.tar.gz «U»@«H»:/srv/app/"),
    )),
)
for _fmt, _ctx in _HARD:
    _fmt.contexts.extend(_ctx)

FORMATS: tuple[Format, ...] = (
    PY, PYTEST, JS, GO, JAVA, YAML, JSONF, TOML, INI, PROPERTIES, XML, ENV, ENV_EXAMPLE, DOCKERFILE, SHELL, SQL,
    MARKDOWN, K8S, KUBECONFIG, COMPOSE, TERRAFORM, NGINX, APACHE, CI, PHP, RUBY_ELIXIR, *CONF_MISC, NATS, PEMFILES,
    PUBFILES, JWKFILES, LOCKFILES, MINIFIED, HTML,
)


# ---------------------------------------------------------------------------------------------
# building

PROJECTS = ("billing-api", "web-portal", "etl-jobs", "ops-tools", "mobile-backend", "data-platform", "infra-live",
            "auth-service", "notifications", "search-indexer")
# rule files / ids added by the quality work: their own examples are not planted as "provider" positives
NEW_RULE_FILES = ("jwk.toml", "nats.toml", "salts.toml")
NEW_RULE_PREFIXES = ("aws-presigned", "registry-basic-auth", "k8s-env-secret-value", "terraform-variable-default-secret",
                     "pgpass-password")
STDLIB_PACKAGES = ("json", "email", "http", "logging", "urllib", "unittest", "asyncio")


@dataclass
class Corpus:
    seed: int
    files: dict[str, FileDoc] = field(default_factory=dict)
    extra_files: dict[str, bytes] = field(default_factory=dict)  # unlabelled copies (stdlib)

    def new_file(self, path: str) -> FileDoc:
        base, n = path, 1
        while path in self.files or path in self.extra_files:
            n += 1
            head, _, tail = base.rpartition("/")
            path = f"{head}/v{n}/{tail}" if head else f"v{n}/{tail}"
        doc = FileDoc(path)
        self.files[path] = doc
        return doc

    def labels(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for path in sorted(self.files):
            for line, (kind, cls) in sorted(self.files[path].labels.items()):
                out.append({"path": path, "line": line, "kind": kind, "class": cls})
        return out


def build(seed: int = 0, reps: int = 3, provider: bool = True, holdout: bool = False) -> Corpus:
    """The main corpus, or (``holdout``) only the holdout contexts."""
    gen = Gen(seed)
    corpus = Corpus(seed)
    for fmt_index, fmt in enumerate(HOLDOUT if holdout else FORMATS):
        _build_format(corpus, gen, fmt, fmt_index, reps)
    if holdout:
        return corpus
    _build_notebooks(corpus, gen, reps)
    if provider:
        _build_provider(corpus, gen)
    return corpus


def _build_format(corpus: Corpus, gen: Gen, fmt: Format, fmt_index: int, reps: int) -> None:
    items = [c for c in fmt.contexts for _ in range(reps)]
    gen.rng.shuffle(items)
    nfiles = max(1, -(-len(items) // fmt.per_file))
    for i in range(nfiles):
        project = PROJECTS[(i + fmt_index) % len(PROJECTS)]
        name = fmt.paths[i % len(fmt.paths)]
        doc = corpus.new_file(f"{project}/{name}")
        if fmt.header:
            doc.raw(fmt.header)
        for ctx in items[i * fmt.per_file : (i + 1) * fmt.per_file]:
            for _ in range(gen.rng.randint(0, 2) if fmt.filler else 0):
                doc.raw(gen.pick(fmt.filler))
            doc.add(gen, ctx.template, "pos" if ctx.pos else "neg", ctx.cls, fmt.transform)
        if fmt.footer:
            doc.raw(fmt.footer)


def _build_notebooks(corpus: Corpus, gen: Gen, reps: int) -> None:
    """Notebooks written line by line, so every cell source line is one line of the .ipynb."""
    items = [c for c in NOTEBOOK_CELLS for _ in range(reps)]
    gen.rng.shuffle(items)
    per_nb = 6
    for i in range(-(-len(items) // per_nb)):
        doc = corpus.new_file(f"{PROJECTS[i % len(PROJECTS)]}/notebooks/analysis_{i}.ipynb")
        doc.raw('{\n "cells": [')
        chunk = items[i * per_nb : (i + 1) * per_nb]
        for j, ctx in enumerate(chunk):
            doc.raw('  {\n   "cell_type": "code",\n   "execution_count": %d,\n   "metadata": {},' % (j + 1))
            if j % 3 == 2:  # an image output (skipped by the notebook reader)
                doc.raw('   "outputs": [\n    {\n     "data": {')
                doc.add(gen, '      "image/png": "«PNG»",', "neg", "base64-image")
                doc.raw('      "text/plain": [\n       "<Figure size 640x480 with 1 Axes>"\n      ]\n     },'
                        '\n     "metadata": {},\n     "output_type": "display_data"\n    }\n   ],')
            else:
                doc.raw('   "outputs": [],')
            doc.raw('   "source": [')
            doc.raw('    "import os\\n",')
            lines = ctx.template.split("\n")
            for k, tline in enumerate(lines):
                last = k == len(lines) - 1
                tmpl = tline + ("" if last else "\n")

                def enc(text: str, last: bool = last) -> str:
                    return "    " + json.dumps(text) + ("" if last else ",")

                doc.add(gen, tmpl.replace("\n", ""), "pos" if ctx.pos else "neg", ctx.cls,
                        transform=(lambda t, last=last: enc(t if last else t + "\n", last)))
            doc.raw("   ]\n  }" + ("," if j < len(chunk) - 1 else ""))
        doc.raw(' ],\n "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},\n'
                ' "nbformat": 4,\n "nbformat_minor": 5\n}')


# --- provider formats, from each rule's own positive example templates ------------------------

_EXT_HOSTS = {
    "py": ("app/providers.py", "scripts/integrations.py"),
    "env": (".env.production", "deploy/secrets.env"),
    "yaml": ("config/providers.yml", "deploy/values-prod.yaml"),
    "json": ("config/providers.json",),
    "sh": ("scripts/bootstrap.sh",),
    "txt": ("notes/credentials.txt", "docs-internal/handover.txt"),
}
BARE = (
    ("py", 'client = Client("{secret}")'),
    ("yaml", "  {slug}_credential: {secret}"),
    ("json", '  "{slug}": "{secret}",'),
    ("txt", "{provider} token for the shared account: {secret}"),
    ("sh", "curl -sS https://api.acme-corp.net/hook -d 'key={secret}'"),
)


def provider_rules() -> list:
    from scanner.rules import load_rules

    rules, _v, _r = load_rules()
    keep = []
    for rule in rules:
        src = rule.source.replace("\\", "/").rsplit("/", 1)[-1]
        if rule.generic or "hygiene" in rule.tags or src in NEW_RULE_FILES or rule.id.startswith(NEW_RULE_PREFIXES):
            continue
        if rule.severity == "info":  # listed for inventory, documented as not secret (e.g. a Sentry DSN)
            continue
        keep.append(rule)
    return keep


def _category(rule) -> str:  # noqa: ANN001
    src = rule.source.replace("\\", "/").rsplit("/", 1)[-1]
    return {"private-keys.toml": "private-key", "jwt.toml": "jwt"}.get(src, "provider")


def _guess_ext(text: str) -> str:
    s = text.strip()
    if regex.match(r"^(?:export\s+)?[A-Z][A-Z0-9_]*=\S", s):
        return "env"
    if regex.match(r"""^["'][\w.-]+["']\s*:""", s) or s.startswith("{"):
        return "json"
    if regex.match(r"^[\w.-]+:\s", s):
        return "yaml"
    if s.startswith(("curl ", "export ", "docker ", "git ")):
        return "sh"
    if regex.search(r"""\w\s*=\s*["'(]|\w\(""", s):
        return "py"
    return "txt"


def _build_provider(corpus: Corpus, gen: Gen) -> None:
    groups: dict[str, list[tuple[str, list[int], str]]] = {}
    for rule in provider_rules():
        pattern = regex.compile(rule.regex)
        cat = _category(rule)
        slug = regex.sub(r"[^a-z0-9]+", "_", rule.provider.lower()).strip("_")
        bare_done = False
        examples = list(enumerate(rule.examples.positive))
        if not examples:
            continue
        # one example per rule (which one rotates with the seed), so no provider outweighs the rest
        pick = int.from_bytes(rule.id.encode(), "big") + corpus.seed
        for i, tpl in [examples[pick % len(examples)]]:
            text = generate(tpl, seed=f"quality:{corpus.seed}:{rule.id}:{i}").strip("\n")
            found = [m for m in pattern.finditer(text)]
            if not found:
                continue
            lines = sorted({text.count("\n", 0, m.start("secret")) for m in found})
            if rule.examples.path != "example.txt":
                doc = corpus.new_file(f"{PROJECTS[i % len(PROJECTS)]}/{rule.examples.path}")
                _add_fixed(doc, text, lines, cat)
                continue
            ext = "txt" if "\n" in text else _guess_ext(text)
            groups.setdefault(ext, []).append((text, lines, cat))
            secret = found[0].group("secret")
            if not bare_done and "\n" not in secret and pattern.search(f'x = "{secret}"'):
                bare_done = True
                secret2 = generate(tpl, seed=f"quality:{corpus.seed}:{rule.id}:{i}:bare")
                m2 = pattern.search(secret2)
                if m2 is None or "\n" in m2.group("secret"):
                    continue
                ext2, host = BARE[gen.rng.randrange(len(BARE))]
                line = host.format(secret=m2.group("secret"), slug=slug, provider=rule.provider)
                groups.setdefault(ext2, []).append((line, [0], cat))
    for ext, entries in groups.items():
        gen.rng.shuffle(entries)
        hosts = _EXT_HOSTS[ext]
        for k in range(0, len(entries), 12):
            host = hosts[(k // 12) % len(hosts)]
            doc = corpus.new_file(f"{PROJECTS[(k // 12) % len(PROJECTS)]}/{host}")
            for text, lines, cat in entries[k : k + 12]:
                if gen.rng.random() < 0.5:
                    doc.raw("")
                _add_fixed(doc, text, lines, cat)


def _add_fixed(doc: FileDoc, text: str, lines: list[int], cat: str) -> None:
    first = len(doc.lines) + 1
    doc.raw(text)
    for off in lines:
        doc.labels[first + off] = ("pos", cat)


# --- writing ----------------------------------------------------------------------------------


def write(corpus: Corpus, root: "os.PathLike[str] | str", stdlib: bool = True) -> dict[str, int]:
    import shutil
    import sysconfig
    from pathlib import Path

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for path, doc in corpus.files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(doc.text(), encoding="utf-8")
    copied = 0
    if stdlib:
        lib = Path(sysconfig.get_paths()["stdlib"])
        for pkg in STDLIB_PACKAGES:
            src = lib / pkg
            if src.is_dir():
                shutil.copytree(src, root / "stdlib" / pkg, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        copied = sum(1 for p in (root / "stdlib").rglob("*") if p.is_file()) if (root / "stdlib").exists() else 0
    return {"files": len(corpus.files), "stdlib_files": copied}


# ---------------------------------------------------------------------------------------------
# A second, smaller set of contexts (`--holdout`): other syntaxes for the same categories,
# written after the proposals in bench/quality.py were drafted against the main set, to see
# how far those proposals generalise beyond the contexts they were written from.

HOLDOUT: tuple[Format, ...] = (
    Format("h-python", ("svc/settings_prod.py", "svc/clients.py", "svc/tasks.py"),
           header="from typing import Final\n", filler=("", "import json", "LOG_LEVEL = 'INFO'"),
           contexts=flat(
               P("password-code", 'DATABASES["default"]["PASSWORD"] = "«P»"', "MYSQL_PASSWD = '«P»'",
                 'params = dict(host="«H»", passwd="«P»", db="«DB»")', 'creds = pika.PlainCredentials("«U»", "«P»")',
                 'conn.simple_bind_s("cn=admin,dc=corp,dc=local", "«P»")', 'kwargs = {"user": "«U»", "password": "«P»"}',
                 'PASSWORD: Final = "«P»"', 'smtp_pass: str = "«P»"',
                 'client.connect(hostname="«H»", username="«U»", password="«P»", port=22)'),
               P("generic-secret", "secret_token = '«S»'", 'STRIPE_WEBHOOK_SECRET: Final[str] = "«S»"'),
               P("salt-nonce", 'SALT_KEY = "«SALT»"'),
               P("url-credentials", 'SMTP_URL = "smtp://«U»:«PU»@«H»:587"', 'proxy = "socks5://«U»:«PU»@«H»:1080"'),
               N("var-no-value", 'password = settings.get("db", "password")', "pwd = os.getcwd()",
                 'password_reset_token_ttl = 3600', 'if user.password_changed_at is None:', '"passwordless": True,'),
               N("hash", 'password_sha1 = "«n:{hex:40}»"', 'commit_sha = "«SHA»"'),
           )),
    Format("h-js", ("web/src/settings.ts", "web/server/mail.js"), header="import nodemailer from 'nodemailer';\n",
           filler=("", "export {};"),
           contexts=flat(
               P("password-code", "export default { db: { pass: '«P»' } };", 'const transport = nodemailer.createTransport({ auth: { user: "«U»", pass: "«P»" } });',
                 "const cfg = { passphrase: '«P»' };"),
               P("generic-secret", "  private readonly apiSecret = '«S»';"),
               P("auth-bearer", "headers.set('Authorization', `Bearer «TOK»`);", "  -H 'authorization: bearer «TOK»' \\"),
               N("var-no-value", "headers.set('Authorization', `Bearer ${token}`);", "const confirmPassword = '';",
                 "token_endpoint_auth_method: 'client_secret_basic',"),
           )),
    Format("h-csharp", ("src/Api/Startup.cs", "src/Api/Mailer.cs"), header="using System;\n", filler=("", "}"),
           contexts=flat(
               P("password-code", 'var credential = new NetworkCredential("«U»", "«P»");', '        options.Password = "«P»";'),
               P("connection-string", 'var cs = "Data Source=«H»;Initial Catalog=«DB»;Persist Security Info=True;User ID=«U»;Password=«P»";',
                 'const string Conn = "Provider=SQLOLEDB;Data Source=«H»;User Id=«U»;Password=«P»;";'),
               N("var-no-value", '        options.Password = Configuration["Smtp:Password"];'),
           )),
    Format("h-php", ("config/app.php", "config/services.php"), header="<?php\nreturn [", footer="];",
           contexts=flat(
               P("password-code", "    'DB_PASSWORD' => '«P»',", "$config['db']['password'] = '«P»';"),
               P("salt-nonce", "    'salt' => '«SALT»',"),
               N("env-ref", "    'password' => env('MAIL_PASSWORD'),"),
           )),
    Format("h-yaml", ("helm/values-prod.yaml", "config/app-settings.yml", "home-assistant/configuration.yaml"),
           header="# settings", filler=("", "replicaCount: 2"),
           contexts=flat(
               P("password-config", "  db_pass: «P»", "auth:\n  rootPassword: «P»", "  password: &pw «P»", "  password: '«P»' # prod",
                 "mqtt:\n  username: «U»\n  password: «P»", "        - name: REDIS_PASSWORD\n          value: '«P»'"),
               P("nats-seed", "  NKEY_SEED: «NKEY»"),
               P("otp-seed", "  totpSecret: «OTP»"),
               P("salt-nonce", "  encryption_salt: «SALT»"),
               N("var-no-value", "  password: !secret db_password", "  password: <%= ENV['DB_PASSWORD'] %>",
                 "  token: \"{{ .Values.token }}\"", "automountServiceAccountToken: false", "  grant_type: client_credentials",
                 "  tokenSecretRef:\n    name: cloudflare\n    key: api-token", "  passwordReset:\n    enabled: true"),
               N("hash", "  sha512: «n:{hex:128}»", "  md5_password: «MD5»"),
           )),
    Format("h-config", ("odbc.ini", "config/smtp.cfg", "conf/app.env"), header="", filler=("",),
           contexts=flat(
               P("password-config", "[smtp]\npassword: «P»", "[prod]\nDriver=PostgreSQL\nServer=«H»\nPassword=«P»", "export MYSQL_PWD=«P»",
                 "KEYCLOAK_ADMIN_PASSWORD=«P»"),
               P("generic-secret", "DJANGO_SECRET_KEY='«S»'"),
               P("otp-seed", "GOOGLE_AUTH_SECRET=«OTP»"),
               P("salt-nonce", "PASSWORD_HASH_SALT=«SALT»"),
               N("var-no-value", "PWD=/srv/app", "OLDPWD=/tmp", "PasswordAuthentication no", "ChallengeResponseAuthentication no",
                 "auth_token_expiry = 300", "passwd: files systemd"),
           )),
    Format("h-shell", ("ops/restore.sh", "ops/ldap.sh", "ops/transfer.sh"), header="#!/bin/sh\n", filler=("", "set -e"),
           contexts=flat(
               P("cli-password", "mysql --user=«U» --password=«P» «DB» < dump.sql", "ldapsearch -x -D \"cn=admin,dc=corp\" -w «P» -H ldap://«H»",
                 "sqlplus «U»/«P»@«H»:1521/ORCL @migrate.sql", "smbclient //«H»/share -U «U»%«P»", "lftp -u «U»,«P» sftp://«H»"),
               P("url-credentials", 'psql postgresql://«U»:«PU»@«H»/«DB» -c "select 1"', 'mongodump --uri "mongodb://«U»:«PU»@«H»:27017/«DB»"',
                 "git remote add deploy https://«U»:«PU»@gitlab.acme-corp.net/ops/site.git"),
               P("auth-basic", "curl --user «U»:«P» https://«H»/api/v1/export"),
               N("var-no-value", "ssh -p 22 «U»@«H»", "mysql -h «H» -P 3306 -u «U» -p", "sqlcmd -S «H» -d «DB» -E", "cd $PWD && ls",
                 "vault login -method=userpass username=«U»", "pg_dump --no-password «DB»", "docker run -d -p 5432:5432 postgres:16",
                 "tool --password-file /run/secrets/pw"),
           )),
    Format("h-sql", ("db/roles.sql",), header="BEGIN;", footer="COMMIT;", filler=("",),
           contexts=flat(
               P("sql-password", "CREATE USER «U» WITH PASSWORD '«P»' VALID UNTIL 'infinity';",
                 "ALTER USER '«U»'@'localhost' IDENTIFIED WITH mysql_native_password BY '«P»';", "EXEC sp_addlogin '«U»', '«P»';"),
               N("var-no-value", "REVOKE ALL ON DATABASE «DB» FROM PUBLIC;", "ALTER ROLE «U» PASSWORD NULL;"),
           )),
    Format("h-xml", ("App.config", "conf/server.xml"), header='<?xml version="1.0"?>\n<settings>', footer="</settings>",
           contexts=flat(
               P("password-config", "  <Password>«P»</Password>", "  <jdbc-password>«P»</jdbc-password>", '  <param name="password" value="«P»"/>'),
               P("connection-string", '    <add name="Db" connectionString="Server=«H»;User ID=«U»;Password=«P»;" />'),
               N("var-no-value", "  <Password />", "  <PasswordPolicy>Strong</PasswordPolicy>"),
           )),
    Format("h-http", ("api/requests.http", "docs-internal/api.http"), header="### requests", filler=("", "###"),
           contexts=flat(
               P("auth-basic", "GET https://«H»/api/items\nAuthorization: Basic «b64up»"),
               P("auth-bearer", "POST https://«H»/api/items\nAuthorization: Bearer «TOK»"),
               N("var-no-value", "GET https://«H»/api/items\nAuthorization: Bearer {{token}}"),
           )),
    Format("h-go", ("cmd/agent/main.go",), header="package main\n", filler=("",),
           contexts=flat(
               P("password-code", 'req.SetBasicAuth("«U»", "«P»")'),
               P("auth-bearer", '@Headers("Authorization: Bearer «TOK»")'),
               P("url-credentials", 'const broker = "amqps://«U»:«PU»@«H»/prod"', 'ftpURL := "ftp://«U»:«PU»@«H»/pub"'),
               N("var-no-value", 'req.SetBasicAuth(user, pass)'),
           )),
    Format("h-json", ("config/prod.settings.json", "deploy/params.json"), header="{", footer='  "v": 2\n}',
           contexts=flat(
               P("password-config", '  "db_password": "«P»",', '  "Password": "«P»",', '  "credentials": {"username": "«U»", "password": "«P»"},'),
               P("generic-secret", '  "apiSecret": "«S»",'),
               P("jwk-private", '  "jwk": "{\\"kty\\":\\"EC\\",\\"crv\\":\\"P-256\\",\\"x\\":\\"«n:{b64url:43}»\\",\\"y\\":\\"«n:{b64url:43}»\\",\\"d\\":\\"«s:{b64url:43}»\\"}",'),
               P("aws-presigned", '  "download": "' + PRESIGNED_V4_TEMP + '",'),
               P("nats-seed", '  "seed": "«s:SAA{base32:55}»",'),
               N("var-no-value", '  "confirmPassword": "",', '  "passwordless": true,'),
           )),
)
