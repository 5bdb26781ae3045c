"""The interchange vocabulary (interchange.md), in one light module every layer can import."""

from __future__ import annotations

LEADERSHIP_ROLES = ("registered_manager", "operations_manager", "senior_leader")
ACTOR_ROLES = (
    "quality_lead",
    "registered_manager",
    "deputy_manager",
    "team_leader",
    "operations_manager",
    "senior_leader",
)
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
JUDGEMENT_KINDS = ("JudgementRecorded", "JudgementRevised")
AMENDABLE_KINDS = (*EVIDENCE_KINDS, HEADLINE_KIND)
EVIDENCE_CATEGORIES = (
    "people_experience",
    "staff_leader_feedback",
    "partner_feedback",
    "observation",
    "processes",
    "outcomes",
)
SCOPE_FIELDS = ("location", "team", "shift")
REVIEW_LEVELS = ("rm_monthly", "senior_quarterly")
CONFIDENCE = ("high", "qualified", "further_evidence_needed")
