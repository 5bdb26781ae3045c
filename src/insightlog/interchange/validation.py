"""The interchange format (JSON Lines, version 1.1): validation at the edge.

Every line is checked on its own here (envelope, per-kind payload, the names an amendment may
change); the rules that span lines or need the store (recorded order, references, the effective
payload of an amended event, theme cycles, duplicates) are checked by the ledger, with
``amended_payload_error`` from here for the last. The payload is validated but stored exactly as
given, so providers' extra fields survive.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

from insightlog.errors import InsightlogError
from insightlog.interchange.entry import ENVELOPE_FIELDS, interchange_dict
from insightlog.interchange.jsonparse import MAX_INT, JSONInputError, check_value, loads_line
from insightlog.interchange.kinds import (
    ACTOR_ROLES,
    EVIDENCE_KINDS,
    WITHDRAWAL_KIND,
    ActorRole,
    Confidence,
    EvidenceCategory,
)
from insightlog.interchange.textrules import model_name_problem, name_problem
from insightlog.interchange.timeutil import TimeFormatError, parse_strict_utc

# Patterns are matched whole (fullmatch, and \A...\Z besides): ``$`` would accept a trailing "\n".
_EVENT_ID = re.compile(r"\A[A-Za-z0-9._:-]{1,64}\Z")
_THEME = re.compile(r"\A[^\s.]+(\.[^\s.]+)*\Z")
_SCOPE = re.compile(r"\A(location|team|shift):.+\Z", re.DOTALL)
_DATE = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")

ENVELOPE_KEYS = ENVELOPE_FIELDS
OPTIONAL_ENVELOPE_KEYS = ("theme", "location", "team", "shift", "record")


class LineError(InsightlogError, ValueError):
    """Raised when an interchange line is invalid; names the line, the event id and the field."""

    def __init__(self, line: int | None, event_id: str | None, field: str, message: str) -> None:
        self.line = line
        self.event_id = event_id
        self.field = field
        self.message = message
        where = f"line {line}" if line is not None else "input"
        ident = f" (event {event_id})" if event_id else ""
        super().__init__(f"{where}{ident}: field '{field}': {message}")


def compliance_band(pct: float) -> int:
    """CQC band of a percentage: >= 88 -> 4, >= 63 -> 3, >= 39 -> 2, else 1."""
    if pct >= 88:
        return 4
    if pct >= 63:
        return 3
    if pct >= 39:
        return 2
    return 1


# --- payload models (required fields validated; extra fields allowed and kept verbatim) -------

Score = Field(ge=1, le=4)
EMPTY_NAME = "must be a non-empty string (an empty string names nothing)"


def _named(value: str) -> str:
    if not value:
        raise ValueError(EMPTY_NAME)
    return value


def _said(value: str) -> str:
    if not value:
        raise ValueError("must say why (a non-empty string)")
    return value


# A string that names something (an event, a theme, a scope, an action, an audit): never "".
Name = Annotated[StrictStr, AfterValidator(_named)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class _KindPayload(_Payload):
    """The payload of a kind that may replace a withdrawn event (every kind but EntryWithdrawn)."""

    corrects: Name | None = None


class Framework(_Payload):
    name: StrictStr
    taxonomy_version: StrictStr


class ServiceRegisteredPayload(_KindPayload):
    framework: Framework
    service_type: StrictStr
    scopes: list[StrictStr]

    @field_validator("scopes")
    @classmethod
    def _scopes_are_field_value(cls, v: list[str]) -> list[str]:
        for s in v:
            if not _SCOPE.fullmatch(s):
                raise ValueError(f"scope {s!r} is not 'location:…', 'team:…' or 'shift:…'")
        return v


class ThemeDefinedPayload(_KindPayload):
    theme: StrictStr
    parent: StrictStr | None
    scope_by: Literal["location", "shift", "team"]
    label: StrictStr
    quality_statements: list[StrictStr]

    @field_validator("theme")
    @classmethod
    def _theme_is_dotted(cls, v: str) -> str:
        if not _THEME.fullmatch(v):
            raise ValueError(f"{v!r} is not a dotted theme name")
        return v


class ReviewCadenceSetPayload(_KindPayload):
    level: Literal["rm_monthly", "senior_quarterly"]
    interval_days: StrictInt = Field(ge=1)
    anchor_date: StrictStr
    owner_role: ActorRole

    @field_validator("anchor_date")
    @classmethod
    def _is_date(cls, v: str) -> str:
        if not _DATE.fullmatch(v):
            raise ValueError("must be a date YYYY-MM-DD")
        date.fromisoformat(v)
        return v


class EvidencePayload(_KindPayload):
    evidence_score: StrictInt = Score
    evidence_category: EvidenceCategory
    source_type: StrictStr
    summary: StrictStr
    items_checked: StrictInt | None = Field(default=None, ge=0)
    items_compliant: StrictInt | None = Field(default=None, ge=0)
    compliance_pct: float | None = Field(default=None, ge=0, le=100)


class AuditSectionScoredPayload(EvidencePayload):
    audit_id: Name


class AuditCompletedPayload(_KindPayload):
    audit_id: Name
    headline_pct: float = Field(ge=0, le=100)
    headline_score: StrictInt = Score


class EvidenceAmendedPayload(_KindPayload):
    amends: Name
    changes: dict[str, Any]
    reason: StrictStr

    @field_validator("changes")
    @classmethod
    def _non_empty(cls, v: dict[str, Any]) -> dict[str, Any]:
        if not v:
            raise ValueError("must name at least one payload field to change")
        return v


class JudgementException(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    theme: Name | None = None
    scope: Name | None = None
    score: StrictInt = Score
    note: StrictStr

    @field_validator("scope")
    @classmethod
    def _scope_format(cls, v: str | None) -> str | None:
        if v is not None and not _SCOPE.fullmatch(v):
            raise ValueError(f"scope {v!r} is not 'location:…', 'team:…' or 'shift:…'")
        return v


class EntryWithdrawnPayload(_Payload):
    """interchange.md 1.1: withdraws an earlier event of the same service entered in error."""

    withdraws: Name
    reason: Annotated[StrictStr, AfterValidator(_said)]


class JudgementPayload(_KindPayload):
    score: StrictInt = Score
    confidence: Confidence
    exceptions: list[JudgementException]
    supersedes: Name | None
    narrative: StrictStr


class VarianceIdentifiedPayload(_KindPayload):
    finding: StrictStr
    evidence_refs: list[StrictStr] | None = None


class ActionAssignedPayload(_KindPayload):
    action_id: Name
    owner_role: StrictStr
    description: StrictStr
    due: StrictStr | None = None


class ActionUpdatedPayload(_KindPayload):
    action_id: Name
    status: StrictStr | None = None
    note: StrictStr


class ActionClosedPayload(_KindPayload):
    action_id: Name
    outcome: StrictStr


class ReviewHeldPayload(_KindPayload):
    level: StrictStr
    summary: StrictStr
    themes_reviewed: list[StrictStr] | None = None


class EscalationRaisedPayload(_KindPayload):
    to: StrictStr
    reason: StrictStr
    refs: list[StrictStr] | None = None


PAYLOAD_MODELS: dict[str, type[_Payload]] = {
    "ServiceRegistered": ServiceRegisteredPayload,
    "ThemeDefined": ThemeDefinedPayload,
    "ReviewCadenceSet": ReviewCadenceSetPayload,
    "AuditSectionScored": AuditSectionScoredPayload,
    "IncidentRecorded": EvidencePayload,
    "ComplaintReceived": EvidencePayload,
    "FeedbackReceived": EvidencePayload,
    "SpotCheckRecorded": EvidencePayload,
    "ValidationSampled": EvidencePayload,
    "RotaMetricRecorded": EvidencePayload,
    "AuditCompleted": AuditCompletedPayload,
    "EvidenceAmended": EvidenceAmendedPayload,
    "EntryWithdrawn": EntryWithdrawnPayload,
    "JudgementRecorded": JudgementPayload,
    "JudgementRevised": JudgementPayload,
    "VarianceIdentified": VarianceIdentifiedPayload,
    "ActionAssigned": ActionAssignedPayload,
    "ActionUpdated": ActionUpdatedPayload,
    "ActionClosed": ActionClosedPayload,
    "ReviewHeld": ReviewHeldPayload,
    "EscalationRaised": EscalationRaisedPayload,
}
KINDS = tuple(PAYLOAD_MODELS)
NEEDS_THEME = (*EVIDENCE_KINDS, "AuditCompleted")


class Draft(BaseModel):
    """One validated interchange event, before the ledger has stored it."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    service: str
    theme: str | None
    location: str | None
    team: str | None
    shift: str | None
    kind: str
    actor_role: str
    actor_id: str
    record: str | None
    observed_at: datetime
    recorded_at: datetime
    payload: dict[str, Any]

    def interchange(self) -> dict[str, Any]:
        """The 13 interchange fields in their canonical order (timestamps as text)."""
        return interchange_dict(self)


def _first_error(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] == "missing":
        msg = "is required"
    elif err["type"] == "extra_forbidden":
        msg = "is not allowed"
    return loc, msg


def _check_str(
    obj: dict[str, Any], key: str, *, optional: bool, line: int | None, eid: str | None, printable: bool = False
) -> None:
    value = obj.get(key)
    if value is None:
        if optional:
            return
        raise LineError(line, eid, key, "is required")
    if not isinstance(value, str) or not value:
        raise LineError(line, eid, key, "must be a non-empty string")
    if not printable and not value.isprintable():
        raise LineError(line, eid, key, name_problem(value) or "is not printable")


_ALLOWED_KEYS = frozenset(ENVELOPE_KEYS) | {"ledger"}


def validate_object(obj: Any, line: int | None = None, *, json_checked: bool = False, printable: bool = False) -> Draft:
    """Validate one decoded interchange object; raise LineError naming line, event and field.

    ``json_checked`` says the object came from ``jsonparse`` (which has applied the JSON rules to
    all of it; otherwise the payload and the ledger object are checked here); ``printable`` that
    jsonparse found every string printable, so the name rule holds without checking each name."""
    if not isinstance(obj, dict):
        raise LineError(line, None, "(line)", "must be a JSON object")
    raw_id = obj.get("event_id")
    if raw_id is None:
        raise LineError(line, None, "event_id", "is required")
    if not isinstance(raw_id, str) or not _EVENT_ID.fullmatch(raw_id):
        raise LineError(line, None, "event_id", "must be 1-64 characters of [A-Za-z0-9._:-]")
    eid = raw_id
    for key in obj:
        if key not in _ALLOWED_KEYS:
            shown = key if isinstance(key, str) and key.isprintable() else repr(key)
            raise LineError(line, eid, shown, "is not an interchange field")
    _check_str(obj, "service", optional=False, line=line, eid=eid, printable=printable)
    kind = obj.get("kind")
    if kind is None:
        raise LineError(line, eid, "kind", "is required")
    if not isinstance(kind, str):
        raise LineError(line, eid, "kind", f"must be a string naming a kind, not {_json_type(kind)}")
    if kind not in PAYLOAD_MODELS:
        raise LineError(line, eid, "kind", f"unknown kind {kind!r}")
    role = obj.get("actor_role")
    if role is None:
        raise LineError(line, eid, "actor_role", "is required")
    if not isinstance(role, str):
        raise LineError(line, eid, "actor_role", f"must be a string naming a role, not {_json_type(role)}")
    if role not in ACTOR_ROLES:
        raise LineError(line, eid, "actor_role", f"unknown role {role!r} (one of {', '.join(ACTOR_ROLES)})")
    _check_str(obj, "actor_id", optional=False, line=line, eid=eid, printable=printable)
    for key in OPTIONAL_ENVELOPE_KEYS:
        _check_str(obj, key, optional=True, line=line, eid=eid, printable=printable)
    theme = obj.get("theme")
    if theme is not None and not _THEME.fullmatch(theme):
        raise LineError(line, eid, "theme", f"{theme!r} is not a dotted theme name")
    if kind in NEEDS_THEME and theme is None:
        raise LineError(line, eid, "theme", f"is required for {kind}")
    times: dict[str, datetime] = {}
    for key in ("observed_at", "recorded_at"):
        value = obj.get(key)
        if value is None:
            raise LineError(line, eid, key, "is required")
        try:
            times[key] = parse_strict_utc(value)
        except TimeFormatError as exc:
            raise LineError(line, eid, key, str(exc)) from None
    if times["observed_at"] > times["recorded_at"]:
        raise LineError(line, eid, "observed_at", "is later than recorded_at")
    payload = obj.get("payload")
    if payload is None:
        raise LineError(line, eid, "payload", "is required")
    if not isinstance(payload, dict):
        raise LineError(line, eid, "payload", "must be a JSON object")
    ledger_object = obj.get("ledger")
    if ledger_object is not None and not isinstance(ledger_object, dict):
        raise LineError(line, eid, "ledger", "must be a JSON object (it is ignored on import)")
    if not json_checked:
        _check_json_value(payload, "payload", line, eid)
        if ledger_object is not None:
            _check_json_value(ledger_object, "ledger", line, eid)
    try:
        model = PAYLOAD_MODELS[kind].model_validate(payload)
    except ValidationError as exc:
        loc, msg = _first_error(exc)
        raise LineError(line, eid, f"payload.{loc}", msg) from None
    named = None if printable else model_name_problem(model)
    if named is not None:
        raise LineError(line, eid, f"payload.{named[0]}", named[1])
    _check_payload_rules(kind, model, payload, line, eid)
    return Draft(
        event_id=raw_id,
        service=obj["service"],
        theme=theme,
        location=obj.get("location"),
        team=obj.get("team"),
        shift=obj.get("shift"),
        kind=kind,
        actor_role=role,
        actor_id=obj["actor_id"],
        record=obj.get("record"),
        observed_at=times["observed_at"],
        recorded_at=times["recorded_at"],
        payload=payload,
    )


I_JSON_MAX = MAX_INT  # ±(2**53-1), RFC 7493 §2.2


_JSON_TYPES = {dict: "an object", list: "an array", bool: "a boolean", int: "a number", float: "a number"}


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _check_json_value(value: Any, path: str, line: int | None, eid: str | None) -> None:
    """The JSON rules (jsonparse) on a value that did not come through ``jsonparse.loads``."""
    try:
        check_value(value, path, depth=2)
    except JSONInputError as exc:
        raise LineError(line, eid, exc.path, exc.message) from None


def _check_payload_rules(
    kind: str, model: _Payload, payload: dict[str, Any], line: int | None, eid: str | None
) -> None:
    if isinstance(model, EvidencePayload) and model.compliance_pct is not None:
        band = compliance_band(model.compliance_pct)
        if band != model.evidence_score:
            raise LineError(
                line,
                eid,
                "payload.evidence_score",
                f"{model.evidence_score} disagrees with the CQC band {band} of compliance_pct {model.compliance_pct}",
            )
    if kind == WITHDRAWAL_KIND and "corrects" in payload:
        raise LineError(
            line, eid, "payload.corrects", "is not allowed on EntryWithdrawn (a withdrawal replaces nothing)"
        )
    if isinstance(model, EvidenceAmendedPayload):
        changes = model.changes
        for key in changes:
            if key in ENVELOPE_FIELDS:
                raise LineError(
                    line,
                    eid,
                    f"payload.changes.{key}",
                    "is an envelope field, and an amendment changes payload fields only; to correct the "
                    "envelope, withdraw the entry (EntryWithdrawn) and record it again with corrects",
                )
        for key in ("evidence_score", "headline_score"):
            if key in changes:
                value = changes[key]
                if type(value) is not int or not 1 <= value <= 4:
                    raise LineError(line, eid, f"payload.changes.{key}", "must be an integer from 1 to 4")
        if "compliance_pct" in changes and "evidence_score" in changes:
            pct = changes["compliance_pct"]
            if not isinstance(pct, (int, float)) or isinstance(pct, bool):
                raise LineError(line, eid, "payload.changes.compliance_pct", "must be a number")
            band = compliance_band(pct)
            if band != changes["evidence_score"]:
                raise LineError(
                    line,
                    eid,
                    "payload.changes.evidence_score",
                    f"{changes['evidence_score']} disagrees with the CQC band {band} of compliance_pct {pct}",
                )
        corrects = changes.get("corrects")
        if "corrects" in changes and corrects is not None and (not isinstance(corrects, str) or not corrects):
            raise LineError(line, eid, "payload.changes.corrects", EMPTY_NAME)


def payload_fields(kind: str) -> frozenset[str]:
    """The payload fields a kind defines (required and optional), as its model names them."""
    return frozenset(PAYLOAD_MODELS[kind].model_fields)


def amended_payload_error(
    kind: str, target: str, before: dict[str, Any], changes: dict[str, Any]
) -> tuple[str, str] | None:
    """What is wrong with amending ``target`` (of ``kind``, effective payload ``before``) by
    ``changes``, as (field, message), or None (interchange.md 1.1, ``EvidenceAmended``).

    A name the kind does not define and the event does not carry is refused; the payload with the
    changes applied must satisfy the rules of an original of its kind, the CQC band included.
    """
    defined = payload_fields(kind)
    for key in changes:
        if key not in defined and key not in before:
            return (
                f"payload.changes.{key}",
                f"is not a payload field of {kind}, and {target} does not carry it "
                f"(fields: {', '.join(sorted(defined))})",
            )
    after = {**before, **changes}
    try:
        model = PAYLOAD_MODELS[kind].model_validate(after)
    except ValidationError as exc:
        loc, msg = _first_error(exc)
        head = loc.split(".", 1)[0]
        if head in changes:
            return f"payload.changes.{loc}", msg
        return "payload.changes", f"leaves the payload of {target} invalid: field '{loc}' {msg}"
    if isinstance(model, EvidencePayload) and model.compliance_pct is not None:
        band = compliance_band(model.compliance_pct)
        score = model.evidence_score
        if band != score:
            pct = model.compliance_pct
            if "compliance_pct" in changes:
                return (
                    "payload.changes.compliance_pct",
                    f"{pct} is in CQC band {band}, but the effective evidence_score of {target} is {score}; "
                    "change evidence_score with it",
                )
            field = "payload.changes.evidence_score" if "evidence_score" in changes else "payload.changes"
            return field, f"{score} disagrees with the CQC band {band} of {target}'s effective compliance_pct {pct}"
    return None


def parse_line(text: str | bytes, line: int | None = None) -> Draft:
    """Decode (strictly: ``jsonparse``) and validate one JSON line."""
    try:
        obj, printable = loads_line(text)
    except JSONInputError as exc:
        root = exc.root
        raw_id = root.get("event_id") if isinstance(root, dict) else None
        eid = raw_id if isinstance(raw_id, str) and _EVENT_ID.fullmatch(raw_id) and exc.path != "event_id" else None
        raise LineError(line, eid, exc.path or "(line)", exc.message) from None
    return validate_object(obj, line, json_checked=True, printable=printable)


def dumps_interchange(fields: dict[str, Any]) -> bytes:
    """One export line (no newline), keys in the given (canonical) order."""
    return orjson.dumps(fields)
