"""The pure analysis engine: definitions ``insightlog-defs-0.2`` over a service's entries.

``analyse`` gives the document of ``analysis-output.md`` on a basis (``Basis``: recorded, ledger,
or proven from verified checkpoint times); ``explain`` the evidence behind its figures;
``theme_tree``, ``latest_judgement`` and ``evidence_score`` answer single questions with the same
rules; ``corrections`` says which entries are withdrawn, by whom, when and why, and which replace
them. Nothing here reads the clock, the store or the environment.
"""

from __future__ import annotations

from insightlog.analysis.basis import (
    BASES,
    LEDGER_BASIS,
    RECORDED_BASIS,
    Basis,
    CheckpointInstants,
    proven_basis,
)
from insightlog.analysis.corrections import Corrections, EntryStatus, Withdrawal, corrections
from insightlog.analysis.drift import format_decimal
from insightlog.analysis.engine import analyse, explain
from insightlog.analysis.errors import AnalysisInputError
from insightlog.analysis.policy import (
    DEFAULT_POLICY,
    DEFINITIONS_VERSION,
    Policy,
    PolicyError,
    load_policy,
    policy_from_document,
)
from insightlog.analysis.queries import (
    EvidenceScore,
    JudgementScore,
    evidence_score,
    latest_judgement,
    theme_tree,
)
from insightlog.analysis.themes import ThemeInfo, ThemeTree, ThemeTreeError

__all__ = [
    "BASES",
    "DEFAULT_POLICY",
    "DEFINITIONS_VERSION",
    "LEDGER_BASIS",
    "RECORDED_BASIS",
    "AnalysisInputError",
    "Basis",
    "CheckpointInstants",
    "Corrections",
    "EntryStatus",
    "EvidenceScore",
    "JudgementScore",
    "Policy",
    "PolicyError",
    "ThemeInfo",
    "ThemeTree",
    "ThemeTreeError",
    "Withdrawal",
    "analyse",
    "corrections",
    "evidence_score",
    "explain",
    "format_decimal",
    "latest_judgement",
    "load_policy",
    "policy_from_document",
    "proven_basis",
    "theme_tree",
]
