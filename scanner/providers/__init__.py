"""Verify and revoke leaked credentials through each provider's own endpoints.

Specs are data, declared next to the rules (top-level tables of a rule file)
and referenced by name from a rule (``verify = "github"``)::

    [verify.github]
    base_url = "https://api.github.com"   # overridable: config [base_urls] github = ..., --base-url github=URL
    method = "GET"
    url = "{base}/user"
    headers = { Authorization = "token {secret}", Accept = "application/vnd.github+json" }
    [[verify.github.cases]]
    status = 200
    json_has = ["login"]                  # a 'valid' case must look at the body
    result = "valid"
    reason = "authenticated as {login}"   # {path} fills from the JSON answer
    [[verify.github.cases]]
    status = 401
    result = "invalid"
    reason = "bad credentials"

A body is ``json = {...}`` (a table or array) or ``form = {...}``. Two-step
calls list ``[[revoke.NAME.steps]]``; a step followed by another has a case
with ``result = "next"`` and a ``find`` that picks exactly one list item::

    find = { in = "objects", where = "key", equals = "{secret_sha512}", take = "key", as = "token_key" }

Zero or several matches stop the call: nothing is deleted on a guess.

When the answer is about the credential itself (an endpoint that describes the
very token it is called with, like Cloudflare's token verify), a step may
instead ``take`` one value out of it by an object path::

    take = { path = "result.id", as = "token_id" }

``path`` names fields of JSON objects only (no list index, not the whole
body); the value must be a non-empty string or a whole number that looks like
an identifier (letters, digits, ``-_.~:``, not starting with a dot). Anything
else - missing, null, empty, an object, a list, ``true`` - stops the call
(revoke: failed, verify: unknown) and nothing else is sent. A step has
``find`` or ``take``, not both, and only a step followed by another has one.
Use ``take`` only where the provider documents that the answer describes the
credential used to call it; to pick among several credentials, use ``find``.

Variables: ``{secret}``, ``{pair}`` (the partner secret of a ``pair`` spec),
``{base}``, ``{secret_sha256}``, ``{secret_sha512}`` and the ``as`` names of
earlier ``find`` or ``take`` steps. Values are percent-encoded in URLs.

Case keys: ``status`` (code or list), ``json`` (path = value; a list means
any of), ``json_has`` (paths that must be present and non-empty), ``contains``
(substrings of the body), ``body`` (json | empty | any), ``result``, ``reason``.
Results: verify - valid, invalid, unknown; revoke - revoked, submitted
(accepted, not confirmed: GitHub's 202), failed, unknown.

Fixed rules no spec can change: transport errors, timeouts, redirects (never
followed), 429, 5xx and HTML pages are ``unknown``; so is any answer no case
describes.

Spec keys besides the step: ``rate_limit = "60/hour"`` (counted from the audit
log, across runs), ``timeout``, ``note`` (shown in the dry run),
``unsupported = [{ regex, reason }]`` (secrets the endpoint cannot check: not
sent), ``pair = { rules = [...], max_lines = 10 }`` and
``sign = { type = "aws-sigv4", service, region }`` for AWS.
"""
