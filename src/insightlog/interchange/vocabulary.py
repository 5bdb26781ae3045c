"""The interchange vocabulary, described from the pydantic models that validate it.

Every kind's payload fields (names, types, bounds, allowed values, required or optional) are read
from ``validation.PAYLOAD_MODELS`` itself, so the description cannot drift from what is accepted;
what the annotations cannot say (a scope's form, the band rule, what a reference must name) is in
``FIELD_NOTES``, which a test keeps in step with the models. Each kind has one line of meaning and
an example ``record`` command that a test validates (and records).

``live_problems`` collects every problem of a live event at once, by the same validator the ledger
uses: each envelope field the user gave is tried on its own inside the kind's (valid) example, and
the payload is checked by its model, which reports all its errors together.

Pure: nothing here prints or touches a store.
"""

from __future__ import annotations

import types
from datetime import datetime
from typing import Any, Literal, NamedTuple, Union, get_args, get_origin

from insightlog.interchange.kinds import ACTOR_ROLES
from insightlog.interchange.textrules import NAME_FIELDS
from insightlog.interchange.timeutil import format_utc
from insightlog.interchange.validation import NEEDS_THEME, PAYLOAD_MODELS, LineError, validate_object

FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Configuration", ("ServiceRegistered", "ThemeDefined", "ReviewCadenceSet")),
    (
        "Evidence",
        (
            "AuditSectionScored",
            "IncidentRecorded",
            "ComplaintReceived",
            "FeedbackReceived",
            "SpotCheckRecorded",
            "ValidationSampled",
            "RotaMetricRecorded",
        ),
    ),
    ("Audit headline (not evidence)", ("AuditCompleted",)),
    ("Corrections", ("EvidenceAmended", "EntryWithdrawn")),
    ("Leadership judgements", ("JudgementRecorded", "JudgementRevised")),
    (
        "Governance and follow-up",
        ("VarianceIdentified", "ActionAssigned", "ActionUpdated", "ActionClosed", "ReviewHeld", "EscalationRaised"),
    ),
)

MEANINGS: dict[str, str] = {
    "ServiceRegistered": "registers a regulated service: its framework, type and scopes (its first event)",
    "ThemeDefined": "defines a theme of the service's governance, its parent, label and quality statements",
    "ReviewCadenceSet": "sets how often a level of review (monthly manager, quarterly senior) is due",
    "AuditSectionScored": "evidence: one scored section of an audit",
    "IncidentRecorded": "evidence: an incident or near miss",
    "ComplaintReceived": "evidence: a complaint from a person supported or their family",
    "FeedbackReceived": "evidence: feedback from staff, leaders or partners",
    "SpotCheckRecorded": "evidence: a spot check of practice",
    "ValidationSampled": "evidence: a sample taken to validate what records or audits say",
    "RotaMetricRecorded": "evidence: a rota or call-monitoring metric",
    "AuditCompleted": "an audit's dashboard headline figure (not evidence; used by trigger T2)",
    "EvidenceAmended": "corrects payload fields of an earlier evidence or AuditCompleted event, from now on",
    "EntryWithdrawn": "withdraws an earlier event of the service entered in error, from now on",
    "JudgementRecorded": "a leader's judgement of a theme: score, confidence and exceptions",
    "JudgementRevised": "a leader's revised judgement of a theme, replacing an earlier one",
    "VarianceIdentified": "a finding that evidence and a stated position differ (analysis, not a judgement)",
    "ActionAssigned": "assigns an improvement action to a role",
    "ActionUpdated": "records progress on an action",
    "ActionClosed": "closes an action with its outcome",
    "ReviewHeld": "a governance review was held: its level, themes and summary",
    "EscalationRaised": "escalates a concern to another role",
}

# What the annotations cannot say, by model class name and field. A test checks that every key
# names a field of that model.
FIELD_NOTES: dict[tuple[str, str], str] = {
    ("ServiceRegisteredPayload", "framework"): "the assessment framework",
    ("Framework", "name"): "e.g. CQC single assessment framework",
    ("Framework", "taxonomy_version"): "the taxonomy of quality statements, e.g. SAF-2024",
    ("ServiceRegisteredPayload", "service_type"): "what the service is, in words",
    ("ServiceRegisteredPayload", "scopes"): "each 'location:NAME', 'team:NAME' or 'shift:NAME'",
    ("ThemeDefinedPayload", "theme"): "a dotted theme name, e.g. medicines.mar_charts",
    ("ThemeDefinedPayload", "parent"): "the parent theme, or null for a top-level theme (no cycles)",
    ("ThemeDefinedPayload", "scope_by"): "which envelope field scopes the theme's evidence",
    ("ThemeDefinedPayload", "label"): "the theme as shown to readers",
    ("ThemeDefinedPayload", "quality_statements"): "quality statement ids of the taxonomy, e.g. S8, W5",
    ("ReviewCadenceSetPayload", "interval_days"): "days between reviews",
    ("ReviewCadenceSetPayload", "anchor_date"): "a date YYYY-MM-DD the cadence counts from",
    ("ReviewCadenceSetPayload", "owner_role"): "the role that holds the review",
    ("EvidencePayload", "evidence_score"): "CQC: 1 significant shortfalls, 2 some shortfalls, 3 good, 4 exceptional",
    ("EvidencePayload", "source_type"): "e.g. audit, spot_check, metric, complaint, staff_feedback",
    ("EvidencePayload", "summary"): "what was found, in words",
    ("EvidencePayload", "items_checked"): "how many items were checked",
    ("EvidencePayload", "items_compliant"): "how many of them were compliant",
    (
        "EvidencePayload",
        "compliance_pct",
    ): "when given, evidence_score must be its CQC band: >= 88 -> 4, >= 63 -> 3, >= 39 -> 2, else 1",
    ("AuditSectionScoredPayload", "audit_id"): "the audit this is a section of",
    ("AuditCompletedPayload", "audit_id"): "the audit's own id",
    ("AuditCompletedPayload", "headline_pct"): "the dashboard figure",
    ("AuditCompletedPayload", "headline_score"): "the dashboard score",
    ("EvidenceAmendedPayload", "amends"): "the event id of an earlier evidence or AuditCompleted event of the service",
    ("EvidenceAmendedPayload", "changes"): (
        "payload fields of that event and their new values (never envelope fields); "
        "the result is validated like an original"
    ),
    ("EvidenceAmendedPayload", "reason"): "why, in words",
    ("JudgementException", "theme"): "the sub-theme excepted, or null",
    ("JudgementException", "scope"): "'location:NAME', 'team:NAME' or 'shift:NAME', or null",
    ("JudgementException", "score"): "the score where the exception applies",
    ("JudgementException", "note"): "why, in words",
    ("JudgementPayload", "score"): "the leaders' judgement of the theme",
    ("JudgementPayload", "exceptions"): "where the score does not hold; [] for none",
    ("JudgementPayload", "supersedes"): "the event id of the judgement this one replaces, or null",
    ("JudgementPayload", "narrative"): "the judgement in words",
    ("VarianceIdentifiedPayload", "finding"): "what differs, in words",
    ("VarianceIdentifiedPayload", "evidence_refs"): "event ids of the evidence behind the finding",
    ("ActionAssignedPayload", "action_id"): "the action's own id",
    ("ActionAssignedPayload", "owner_role"): "the role that owns the action",
    ("ActionAssignedPayload", "due"): "a date YYYY-MM-DD",
    ("ActionUpdatedPayload", "action_id"): "the id of an assigned action",
    ("ActionUpdatedPayload", "status"): "e.g. in_progress",
    ("ActionClosedPayload", "action_id"): "the id of an assigned action",
    ("ReviewHeldPayload", "level"): "rm_monthly or senior_quarterly",
    ("ReviewHeldPayload", "themes_reviewed"): "the themes the review covered",
    ("EscalationRaisedPayload", "to"): "the role escalated to",
    ("EscalationRaisedPayload", "refs"): "event ids the escalation refers to",
}

# Example commands: envelope options (in order) and the payload. A test validates each one and
# records them all, in order, into a store holding the worked example (examples/).
_HHC = ("--service", "Harbour Home Care")
EXAMPLES: dict[str, tuple[tuple[tuple[str, str], ...], dict[str, Any]]] = {
    "ServiceRegistered": (
        (("--service", "Oak House"), ("--actor-role", "registered_manager"), ("--actor-id", "RM-7")),
        {
            "framework": {"name": "CQC single assessment framework", "taxonomy_version": "SAF-2024"},
            "service_type": "care home, 40 beds",
            "scopes": ["location:Maple", "location:Rowan", "shift:night"],
        },
    ),
    "ThemeDefined": (
        (_HHC, ("--theme", "medicines.covert"), ("--actor-role", "registered_manager"), ("--actor-id", "RM-1")),
        {
            "theme": "medicines.covert",
            "parent": "medicines",
            "scope_by": "team",
            "label": "Covert medicines given only with a best-interests decision",
            "quality_statements": ["S8"],
        },
    ),
    "ReviewCadenceSet": (
        (_HHC, ("--actor-role", "registered_manager"), ("--actor-id", "RM-1")),
        {"level": "rm_monthly", "interval_days": 31, "anchor_date": "2026-07-01", "owner_role": "registered_manager"},
    ),
    "AuditSectionScored": (
        (
            _HHC,
            ("--theme", "medicines.mar_charts"),
            ("--team", "north"),
            ("--actor-role", "quality_lead"),
            ("--actor-id", "QL-1"),
        ),
        {
            "evidence_score": 3,
            "evidence_category": "processes",
            "source_type": "audit",
            "summary": "MAR-AUDIT-2026-07 section mar_charts: 15/20",
            "audit_id": "MAR-AUDIT-2026-07",
            "items_checked": 20,
            "items_compliant": 15,
            "compliance_pct": 75.0,
        },
    ),
    "IncidentRecorded": (
        (
            _HHC,
            ("--theme", "medicines.time_critical"),
            ("--team", "east"),
            ("--actor-role", "team_leader"),
            ("--actor-id", "TL-E"),
        ),
        {
            "evidence_score": 2,
            "evidence_category": "outcomes",
            "source_type": "incident",
            "summary": "Insulin call 50 minutes late",
        },
    ),
    "ComplaintReceived": (
        (
            _HHC,
            ("--theme", "call_punctuality"),
            ("--team", "south"),
            ("--actor-role", "registered_manager"),
            ("--actor-id", "RM-1"),
        ),
        {
            "evidence_score": 2,
            "evidence_category": "people_experience",
            "source_type": "complaint",
            "summary": "Tea call late three days running",
        },
    ),
    "FeedbackReceived": (
        (
            _HHC,
            ("--theme", "call_punctuality"),
            ("--team", "north"),
            ("--actor-role", "team_leader"),
            ("--actor-id", "TL-N"),
        ),
        {
            "evidence_score": 3,
            "evidence_category": "staff_leader_feedback",
            "source_type": "staff_feedback",
            "summary": "Carers: travel time now realistic",
        },
    ),
    "SpotCheckRecorded": (
        (
            _HHC,
            ("--theme", "medicines.mar_charts"),
            ("--team", "north"),
            ("--actor-role", "deputy_manager"),
            ("--actor-id", "DM-1"),
        ),
        {
            "evidence_score": 2,
            "evidence_category": "observation",
            "source_type": "spot_check",
            "summary": "2 of 5 charts unsigned",
        },
    ),
    "ValidationSampled": (
        (
            _HHC,
            ("--theme", "safeguarding.referrals"),
            ("--team", "east"),
            ("--actor-role", "deputy_manager"),
            ("--actor-id", "DM-1"),
        ),
        {
            "evidence_score": 4,
            "evidence_category": "processes",
            "source_type": "validation",
            "summary": "Safeguarding log sampled: 5 of 5 referred within 24h",
            "items_checked": 5,
            "items_compliant": 5,
            "compliance_pct": 100.0,
        },
    ),
    "RotaMetricRecorded": (
        (_HHC, ("--theme", "call_punctuality"), ("--actor-role", "operations_manager"), ("--actor-id", "OM-1")),
        {
            "evidence_score": 3,
            "evidence_category": "processes",
            "source_type": "metric",
            "summary": "Call monitoring: 90% of calls on time",
        },
    ),
    "AuditCompleted": (
        (_HHC, ("--theme", "medicines"), ("--team", "north"), ("--actor-role", "quality_lead"), ("--actor-id", "QL-1")),
        {"audit_id": "MAR-AUDIT-2026-07", "headline_pct": 80.0, "headline_score": 3},
    ),
    "EvidenceAmended": (
        (
            _HHC,
            ("--theme", "medicines.mar_charts"),
            ("--team", "south"),
            ("--actor-role", "quality_lead"),
            ("--actor-id", "QL-1"),
        ),
        {
            "amends": "HHC-026",
            "changes": {"items_compliant": 9, "compliance_pct": 45.0, "evidence_score": 2},
            "reason": "one more chart found unsigned on re-check",
        },
    ),
    "EntryWithdrawn": (
        (_HHC, ("--actor-role", "quality_lead"), ("--actor-id", "QL-1")),
        {"withdraws": "HHC-051", "reason": "entered against the wrong round"},
    ),
    "JudgementRecorded": (
        (_HHC, ("--theme", "call_punctuality"), ("--actor-role", "registered_manager"), ("--actor-id", "RM-1")),
        {
            "score": 3,
            "confidence": "high",
            "exceptions": [],
            "supersedes": None,
            "narrative": "Calls on time on every round",
        },
    ),
    "JudgementRevised": (
        (_HHC, ("--theme", "safeguarding"), ("--actor-role", "registered_manager"), ("--actor-id", "RM-1")),
        {
            "score": 3,
            "confidence": "qualified",
            "exceptions": [{"theme": None, "scope": "team:east", "score": 2, "note": "referrals still late"}],
            "supersedes": "HHC-068",
            "narrative": "Safe overall; east round referrals still late",
        },
    ),
    "VarianceIdentified": (
        (_HHC, ("--theme", "medicines.mar_charts"), ("--actor-role", "quality_lead"), ("--actor-id", "QL-1")),
        {"finding": "Audit headline 80% while spot checks show half the charts unsigned", "evidence_refs": ["HHC-032"]},
    ),
    "ActionAssigned": (
        (_HHC, ("--theme", "medicines.mar_charts"), ("--actor-role", "registered_manager"), ("--actor-id", "RM-1")),
        {
            "action_id": "ACT-2026-07",
            "owner_role": "team_leader",
            "description": "Weekly MAR checks on every round",
            "due": "2026-08-31",
        },
    ),
    "ActionUpdated": (
        (_HHC, ("--actor-role", "team_leader"), ("--actor-id", "TL-N")),
        {"action_id": "ACT-2026-07", "status": "in_progress", "note": "First two weekly checks done"},
    ),
    "ActionClosed": (
        (_HHC, ("--actor-role", "registered_manager"), ("--actor-id", "RM-1")),
        {"action_id": "ACT-2026-07", "outcome": "MAR signing above 90% for six weeks"},
    ),
    "ReviewHeld": (
        (_HHC, ("--actor-role", "registered_manager"), ("--actor-id", "RM-1")),
        {"level": "rm_monthly", "themes_reviewed": ["medicines", "safeguarding"], "summary": "No themes escalated"},
    ),
    "EscalationRaised": (
        (_HHC, ("--theme", "safeguarding"), ("--actor-role", "senior_leader"), ("--actor-id", "SL-1")),
        {"to": "registered_manager", "reason": "Referral delays on the east round repeat", "refs": ["HHC-053"]},
    ),
}

OPTION_FIELDS: dict[str, str] = {
    "--service": "service",
    "--theme": "theme",
    "--location": "location",
    "--team": "team",
    "--shift": "shift",
    "--actor-role": "actor_role",
    "--actor-id": "actor_id",
    "--record": "record",
    "--observed-at": "observed_at",
    "--event-id": "event_id",
}
FIELD_OPTIONS = {v: k for k, v in OPTION_FIELDS.items()}
ENVELOPE_REQUIRED = ("service", "actor_role", "actor_id")


# --- descriptions -----------------------------------------------------------------------------


class FieldDoc(NamedTuple):
    """One payload field as its model validates it."""

    name: str
    base: str  # integer, number, text, name, choice, list, object, any
    required: bool
    nullable: bool = False
    allowed: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    item: FieldDoc | None = None  # of a list
    fields: tuple[FieldDoc, ...] = ()  # of an object described by a model
    note: str = ""

    @property
    def type_text(self) -> str:
        """The type in a few words: ``integer 1-4``, ``one of: a, b``, ``list of names``."""
        text = self._bare()
        return f"{text} or null" if self.nullable else text

    def _bare(self) -> str:
        if self.base in ("integer", "number"):
            return self.base + _bounds(self.minimum, self.maximum)
        if self.base == "choice":
            return "one of: " + ", ".join(self.allowed)
        if self.base == "list":
            return "list of " + (_plural(self.item) if self.item else "values")
        if self.base == "object" and self.fields:
            inner = ", ".join(f.name + ("" if f.required else "?") for f in self.fields)
            return f"object {{{inner}}}"
        return self.base

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type_text,
            "required": self.required,
            "nullable": self.nullable,
        }
        if self.allowed:
            out["allowed"] = list(self.allowed)
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.fields:
            out["fields"] = [f.as_dict() for f in self.fields]
        elif self.item is not None and self.item.fields:
            out["item_fields"] = [f.as_dict() for f in self.item.fields]
        if self.note:
            out["note"] = self.note
        return out


def _bounds(low: float | None, high: float | None) -> str:
    def num(x: float) -> str:
        return str(int(x)) if float(x).is_integer() else str(x)

    if low is not None and high is not None:
        return f" {num(low)}-{num(high)}"
    if low is not None:
        return f" >= {num(low)}"
    if high is not None:
        return f" <= {num(high)}"
    return ""


def _plural(item: FieldDoc) -> str:
    if item.base == "object" and item.fields:
        return "objects " + item._bare()[len("object ") :]
    return {"integer": "integers", "number": "numbers", "text": "texts", "name": "names", "choice": "values"}.get(
        item.base, "values"
    )


class Example(NamedTuple):
    """An example ``record`` command of a kind."""

    kind: str
    options: tuple[tuple[str, str], ...]
    payload: dict[str, Any]

    def args(self) -> list[str]:
        """The command's arguments after ``insightlog``."""
        import json

        out = ["record", self.kind]
        for option, value in self.options:
            out += [option, value]
        return [*out, "--payload", json.dumps(self.payload, ensure_ascii=False)]

    def command(self) -> str:
        import shlex

        return "insightlog " + " ".join(shlex.quote(a) for a in self.args())

    def interchange(self, now: datetime, event_id: str = "EXAMPLE-1") -> dict[str, Any]:
        """The live event this command records at ``now`` (recorded_at stamped as the ledger does)."""
        obj: dict[str, Any] = {"event_id": event_id, "kind": self.kind, "payload": self.payload}
        for option, value in self.options:
            obj[OPTION_FIELDS[option]] = value
        obj.setdefault("observed_at", format_utc(now))
        obj["recorded_at"] = format_utc(now)
        return obj


class KindDoc(NamedTuple):
    """Everything a user needs to record one kind."""

    kind: str
    family: str
    meaning: str
    theme_required: bool
    fields: tuple[FieldDoc, ...]
    example: Example
    extra_fields_kept: bool = True

    @property
    def required(self) -> tuple[FieldDoc, ...]:
        return tuple(f for f in self.fields if f.required)

    @property
    def optional(self) -> tuple[FieldDoc, ...]:
        return tuple(f for f in self.fields if not f.required)

    def field(self, name: str) -> FieldDoc | None:
        return next((f for f in self.fields if f.name == name), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "family": self.family,
            "meaning": self.meaning,
            "theme": "required" if self.theme_required else "optional",
            "required": [f.as_dict() for f in self.required],
            "optional": [f.as_dict() for f in self.optional],
            "extra_fields_kept": self.extra_fields_kept,
            "example": self.example.command(),
        }


def kind_names() -> tuple[str, ...]:
    """Every kind the validator accepts, in the families' order."""
    ordered = [k for _, kinds in FAMILIES for k in kinds if k in PAYLOAD_MODELS]
    return (*ordered, *sorted(k for k in PAYLOAD_MODELS if k not in ordered))


def describe(kind: str) -> KindDoc:
    """The description of one kind (KeyError if the validator does not know it)."""
    model = PAYLOAD_MODELS[kind]
    family = next((name for name, kinds in FAMILIES if kind in kinds), "Other")
    options, payload = EXAMPLES[kind]
    return KindDoc(
        kind=kind,
        family=family,
        meaning=MEANINGS[kind],
        theme_required=kind in NEEDS_THEME,
        fields=model_fields(model),
        example=Example(kind, options, payload),
        extra_fields_kept=model.model_config.get("extra") == "allow",
    )


def describe_all() -> list[KindDoc]:
    return [describe(k) for k in kind_names()]


def model_fields(model: Any) -> tuple[FieldDoc, ...]:
    """The fields of a pydantic model, as it validates them."""
    out = []
    for name, info in model.model_fields.items():
        doc = _type_doc(name, info.annotation, list(info.metadata), info.is_required(), in_model=model.__name__)
        out.append(doc)
    return tuple(out)


def _type_doc(name: str, annotation: Any, metadata: list[Any], required: bool, *, in_model: str) -> FieldDoc:
    nullable = False
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(get_args(annotation))
        annotation = args[0] if len(args) == 1 else Any
        origin = get_origin(annotation)
    if hasattr(annotation, "__metadata__"):  # Annotated[X, ...]
        metadata = [*metadata, *annotation.__metadata__]
        annotation = annotation.__origin__
        origin = get_origin(annotation)
    low = next((float(m.ge) for m in metadata if hasattr(m, "ge")), None)
    high = next((float(m.le) for m in metadata if hasattr(m, "le")), None)
    note = FIELD_NOTES.get((in_model, name), "")
    if note == "":
        note = _inherited_note(in_model, name)
    common: dict[str, Any] = {"name": name, "required": required, "nullable": nullable, "note": note}
    if origin is Literal:
        return FieldDoc(base="choice", allowed=tuple(str(a) for a in get_args(annotation)), **common)
    if annotation is int:
        return FieldDoc(base="integer", minimum=low, maximum=high, **common)
    if annotation is float:
        return FieldDoc(base="number", minimum=low, maximum=high, **common)
    if annotation is str:
        return FieldDoc(base="name" if name in NAME_FIELDS else "text", **common)
    if origin is list:
        (item_type,) = get_args(annotation) or (Any,)
        return FieldDoc(base="list", item=_type_doc(name, item_type, [], True, in_model=in_model), **common)
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return FieldDoc(base="object", fields=model_fields(annotation), **common)
    if annotation is dict or origin is dict:
        return FieldDoc(base="object", **common)
    return FieldDoc(base="any", **common)


def _inherited_note(model_name: str, field_name: str) -> str:
    """A note given on a base model (AuditSectionScoredPayload inherits EvidencePayload's)."""
    for model in PAYLOAD_MODELS.values():
        if model.__name__ == model_name:
            for base in model.__mro__[1:]:
                note = FIELD_NOTES.get((base.__name__, field_name))
                if note:
                    return note
    return ""


# --- suggestions and live problems ------------------------------------------------------------


def suggest(word: str, choices: tuple[str, ...] | list[str]) -> list[str]:
    """Names the user may have meant: the same ignoring case, then close by edit distance."""
    import difflib

    exact = [c for c in choices if c.lower() == word.lower()]
    if exact:
        return exact
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=3, cutoff=0.6)
    prefixed = [c for c in choices if word and c.lower().startswith(word.lower())]
    out: list[str] = []
    for name in [*(lowered[c] for c in close), *prefixed]:
        if name not in out:
            out.append(name)
    return out[:3]


def unknown_kind_message(kind: Any) -> str:
    names = kind_names()
    hint = suggest(kind, names) if isinstance(kind, str) else []
    mean = f" (did you mean {' or '.join(hint)}?)" if hint else ""
    return f"unknown kind {kind!r}{mean}; the kinds are {', '.join(names)}"  # repr escapes what does not print


class Problem(NamedTuple):
    """One thing wrong with a live event: the interchange field and why."""

    field: str
    message: str
    missing: bool = False


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, problem: Problem) -> None:
        if not any(p.field == problem.field for p in self.problems):
            self.problems.append(problem)


def live_problems(event: dict[str, Any], now: datetime, *, payload_problem: Problem | None = None) -> list[Problem]:
    """Every problem of a live event (as ``Ledger.record`` takes it) that the line validator
    finds, all at once: envelope fields one by one, the payload by its model (every error).

    ``payload_problem`` is a problem met before (the payload text did not decode). Checks that need
    the store (references, duplicate ids, recorded order) are the ledger's and come later."""
    found = _Collector()
    kind = event.get("kind")
    known = isinstance(kind, str) and kind in PAYLOAD_MODELS
    if not known:
        found.add(Problem("kind", unknown_kind_message(kind)))
    base_kind = str(kind) if known else "VarianceIdentified"
    base = describe(base_kind).example.interchange(now)
    for name in (
        "service",
        "theme",
        "location",
        "team",
        "shift",
        "actor_role",
        "actor_id",
        "record",
        "observed_at",
        "event_id",
    ):
        value = event.get(name)
        if name in ("observed_at", "event_id") and value is None:
            continue  # defaulted: observed now, an id generated
        if name == "theme" and not known:
            continue  # whether a theme is required depends on the kind
        candidate = dict(base)
        candidate[name] = value
        _try(found, candidate)
    if payload_problem is not None:
        found.add(payload_problem)
    elif known:
        payload = event.get("payload")
        if not isinstance(payload, dict):
            found.add(Problem("payload", "must be a JSON object"))
        else:
            for problem in _model_problems(str(kind), payload):
                found.add(problem)
            _try(found, dict(base, payload=payload))
    return found.problems


def _try(found: _Collector, candidate: dict[str, Any]) -> None:
    try:
        validate_object(candidate)
    except LineError as exc:
        found.add(Problem(exc.field, exc.message, missing=exc.message.startswith("is required")))


def _model_problems(kind: str, payload: dict[str, Any]) -> list[Problem]:
    from pydantic import ValidationError

    doc = describe(kind)
    try:
        PAYLOAD_MODELS[kind].model_validate(payload)
    except ValidationError as exc:
        out = []
        for err in exc.errors():
            path = ".".join(str(p) for p in err["loc"])
            top = doc.field(str(err["loc"][0])) if err["loc"] else None
            expected = f" ({top.type_text})" if top is not None and len(err["loc"]) == 1 else ""
            if err["type"] == "missing":
                out.append(Problem(f"payload.{path}", f"is required{expected}", missing=len(err["loc"]) == 1))
            else:
                out.append(Problem(f"payload.{path}", f"{err['msg']}{expected}"))
        return out
    return []


def role_names() -> tuple[str, ...]:
    return ACTOR_ROLES
