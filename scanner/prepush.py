"""What a push adds: the commits the pre-push hook scans.

pre-commit runs pre-push hooks once per pushed ref. For an update it sets
``PRE_COMMIT_FROM_REF`` (what the remote has) and ``PRE_COMMIT_TO_REF`` (what
is pushed); for a new branch it computes the first commit the remote lacks and
passes its parent as the from-ref. When the push includes a root commit it sets
neither (``all_files``): then the whole pushed branch is scanned.
"""

from __future__ import annotations

from collections.abc import Mapping

from .record import record

ZERO = "0" * 40


@record
class PushScan:
    commit_range: str | None = None  # FROM..TO
    branch: str | None = None  # the whole pushed branch
    nothing: bool = False  # a deleted branch: nothing is pushed


def push_scan(env: Mapping[str, str]) -> PushScan:
    from_ref = env.get("PRE_COMMIT_FROM_REF") or env.get("PRE_COMMIT_ORIGIN") or ""
    to_ref = env.get("PRE_COMMIT_TO_REF") or env.get("PRE_COMMIT_SOURCE") or ""
    if to_ref == ZERO:
        return PushScan(nothing=True)
    if from_ref and to_ref and from_ref != ZERO:
        return PushScan(commit_range=f"{from_ref}..{to_ref}")
    return PushScan(branch=to_ref or env.get("PRE_COMMIT_LOCAL_BRANCH") or "HEAD")
