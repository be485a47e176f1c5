"""A small HTTP client for provider calls (standard library only).

Safety rules live here, in one place:

* secrets go only over HTTPS; plain http only to loopback (127.0.0.0/8, ::1,
  localhost), for tests and local mocks;
* redirects are never followed (a 3xx is reported, its target gets nothing);
* every call has a timeout; bodies are read up to a cap;
* 429 and 5xx are retried a bounded number of times with exponential backoff,
  honouring ``Retry-After`` up to a cap (beyond it the call gives up at once).
"""

from __future__ import annotations

import email.utils
import http.client
import ipaddress
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .. import __version__

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class UnsafeDestination(ValueError):
    """A URL a secret must not be sent to."""


@dataclass(frozen=True)
class ClientSettings:
    timeout: float = 10.0
    retries: int = 2
    backoff: float = 0.5
    max_wait: float = 30.0  # longest Retry-After (or backoff) we are willing to sleep
    max_body: int = 1 << 20
    user_agent: str = f"leaktrap/{__version__} (+secret verification)"
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str = field(repr=False)
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    body: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes = field(repr=False)
    attempts: int = 1
    retry_after: float | None = None  # when we gave up because the wait was too long

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass(frozen=True)
class TransportFailure:
    reason: str
    attempts: int = 1
    timed_out: bool = False


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_destination(url: str) -> None:
    """Raise :class:`UnsafeDestination` unless ``url`` may carry a secret."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise UnsafeDestination(f"not a valid URL ({exc})") from None
    if not host:
        raise UnsafeDestination("URL has no host")
    if parts.username or parts.password:
        raise UnsafeDestination("URL must not embed credentials")
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and is_loopback(host):
        return
    if parts.scheme == "http":
        raise UnsafeDestination(f"plain http is allowed only to loopback, not to {host}")
    raise UnsafeDestination(f"scheme {parts.scheme or '(none)'!r} is not https")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None  # urllib then raises HTTPError with the 3xx status: we report it, never follow


def _opener(url: str) -> urllib.request.OpenerDirector:
    handlers: list[urllib.request.BaseHandler] = [
        _NoRedirect(),
        urllib.request.HTTPSHandler(context=ssl.create_default_context()),
    ]
    if is_loopback(urlsplit(url).hostname or ""):
        handlers.append(urllib.request.ProxyHandler({}))  # never hand a loopback call to a proxy
    return urllib.request.build_opener(*handlers)


def send_once(request: HttpRequest, settings: ClientSettings) -> HttpResponse | TransportFailure:
    check_destination(request.url)
    headers = {"User-Agent": settings.user_agent, "Accept-Encoding": "identity"}
    headers.update(dict(request.headers))
    req = urllib.request.Request(request.url, data=request.body, headers=headers, method=request.method)
    try:
        with _opener(request.url).open(req, timeout=settings.timeout) as resp:
            return HttpResponse(resp.status, _lower(resp.headers.items()), resp.read(settings.max_body))
    except urllib.error.HTTPError as exc:
        try:
            body = exc.read(settings.max_body) if exc.fp is not None else b""
        except (OSError, http.client.HTTPException):
            body = b""
        return HttpResponse(exc.code, _lower(exc.headers.items() if exc.headers else ()), body)
    except urllib.error.URLError as exc:
        timed_out = isinstance(exc.reason, (TimeoutError, socket.timeout))
        reason = f"timed out after {settings.timeout:g} s" if timed_out else f"connection failed ({_plain(exc.reason)})"
        return TransportFailure(reason, timed_out=timed_out)
    except (TimeoutError, socket.timeout):
        return TransportFailure(f"timed out after {settings.timeout:g} s", timed_out=True)
    except (http.client.HTTPException, OSError) as exc:
        return TransportFailure(f"connection failed ({type(exc).__name__})")


def send(request: HttpRequest, settings: ClientSettings) -> HttpResponse | TransportFailure:
    """Send with bounded retries on 429 and 5xx (never on timeouts: they already cost a timeout)."""
    attempt = 0
    while True:
        attempt += 1
        outcome = send_once(request, settings)
        if isinstance(outcome, TransportFailure):
            return TransportFailure(outcome.reason, attempt, outcome.timed_out)
        if outcome.status not in RETRY_STATUSES:
            return _with_attempts(outcome, attempt, None)
        wait = retry_after(outcome.headers.get("retry-after"))
        if wait is None:
            wait = settings.backoff * (2 ** (attempt - 1))
        if attempt > settings.retries or wait > settings.max_wait:
            gave_up = wait if wait > settings.max_wait else None
            return _with_attempts(outcome, attempt, gave_up)
        settings.sleep(wait)


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _with_attempts(resp: HttpResponse, attempts: int, gave_up: float | None) -> HttpResponse:
    return HttpResponse(resp.status, resp.headers, resp.body, attempts, gave_up)


def _lower(items: object) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in items}  # type: ignore[attr-defined]


def _plain(reason: object) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return type(reason).__name__ if not isinstance(reason, str) else reason
