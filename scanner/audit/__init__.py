"""``leaktrap audit``: the working tree and full history of one or many repositories,
baseline applied, optionally verified, as one report (HTML, JSON or SARIF).

Pipeline: :func:`discover` (which repositories) -> :func:`run_audit` (each one in
a worker: :mod:`.repo`) -> :class:`AuditResult` (secret-free records) ->
reporters (:mod:`scanner.report.html`, :mod:`.formats`) and :mod:`.summary`.
"""

from __future__ import annotations

from .discover import Discovery, discover
from .model import AuditFinding, AuditResult, AuditSettings, RepoAudit, Target
from .run import run_audit

__all__ = [
    "AuditFinding",
    "AuditResult",
    "AuditSettings",
    "Discovery",
    "RepoAudit",
    "Target",
    "discover",
    "run_audit",
]
