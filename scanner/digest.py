"""Hash functions without importing hashlib.

``import hashlib`` loads its OpenSSL binding, about 3 ms: a tenth of a hook run
that then hashes a few short strings. CPython's own implementations (those
hashlib itself falls back to) give the same digests; hashlib is imported only
where they are missing.
"""

from __future__ import annotations

try:
    from _sha2 import sha256  # Python 3.12+
except ImportError:
    try:
        from _sha256 import sha256  # Python 3.11
    except ImportError:  # pragma: no cover - a build without them
        from hashlib import sha256

try:
    from _blake2 import blake2b  # fast on large inputs (rule files), also built in
except ImportError:  # pragma: no cover
    from hashlib import blake2b

__all__ = ["blake2b", "sha256"]
