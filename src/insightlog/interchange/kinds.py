"""The interchange vocabulary (interchange.md), in one light module every layer can import."""

from __future__ import annotations

from typing import Literal, get_args

LEADERSHIP_ROLES = ("registered_manager", "operations_manager", "senior_leader")
# A closed set that a payload field is checked against is a Literal type (for pydantic and mypy)
# and the tuple of its values (for messages and membership tests).
ActorRole = Literal[
    "quality_lead",
    "registered_manager",
    "deputy_manager",
    "team_leader",
    "operations_manager",
    "senior_leader",
]
ACTOR_ROLES: tuple[str, ...] = get_args(ActorRole)
EVIDENCE_KINDS = (
    "AuditSectionScored",
    "IncidentRecorded",
    "ComplaintReceived",
    "FeedbackReceived",
    "SpotCheckRecorded",
    "ValidationSampled",
    "RotaMetricRecorded",
)
HEADLINE_KIND = "AuditCompleted"
AMENDMENT_KIND = "EvidenceAmended"
WITHDRAWAL_KIND = "EntryWithdrawn"
REGISTRATION_KIND = "ServiceRegistered"
THEME_KIND = "ThemeDefined"
JUDGEMENT_KINDS = ("JudgementRecorded", "JudgementRevised")
AMENDABLE_KINDS = (*EVIDENCE_KINDS, HEADLINE_KIND)
# interchange.md 1.1: a withdrawal may name any earlier event of its service except these.
UNWITHDRAWABLE_KINDS = (THEME_KIND, WITHDRAWAL_KIND)
# Payload fields that name another event of the same service (checked against the store).
REFERENCE_FIELDS = ("amends", "supersedes", "withdraws", "corrects")
EvidenceCategory = Literal[
    "people_experience",
    "staff_leader_feedback",
    "partner_feedback",
    "observation",
    "processes",
    "outcomes",
]
EVIDENCE_CATEGORIES: tuple[str, ...] = get_args(EvidenceCategory)
SCOPE_FIELDS = ("location", "team", "shift")
REVIEW_LEVELS = ("rm_monthly", "senior_quarterly")
Confidence = Literal["high", "qualified", "further_evidence_needed"]
CONFIDENCE: tuple[str, ...] = get_args(Confidence)
