"""One record form per kind, generated from the pydantic models that validate the kind.

The fields, their types, bounds, allowed values and whether they are required are read from
``insightlog.interchange.validation.PAYLOAD_MODELS`` (so a form cannot offer what the ledger
refuses, nor miss a field it requires); what the models cannot say (a label in plain English,
the help under it) is in ``LABELS`` and ``HINTS``, which a test keeps in step with the models.
This module is the one place the web reads the kinds' shape from: when the interchange gains a
vocabulary module, only ``_model_fields`` here changes.

``form_for(kind)`` gives the static form; ``bind`` fills it with one service's choices (themes,
scopes) and the user's values; ``to_event`` turns a submitted form into the interchange object
``UseCases.record`` takes (never ``actor_id``, ``actor_role`` or ``recorded_at``: those come from
the account and the ledger), collecting every problem, each under its field's name.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin

import orjson
from pydantic import BaseModel, ValidationError

from insightlog.interchange.kinds import (
    AMENDMENT_KIND,
    EVIDENCE_KINDS,
    HEADLINE_KIND,
    JUDGEMENT_KINDS,
    REGISTRATION_KIND,
    SCOPE_FIELDS,
    THEME_KIND,
    WITHDRAWAL_KIND,
)
from insightlog.interchange.validation import NEEDS_THEME, PAYLOAD_MODELS, compliance_band

if TYPE_CHECKING:
    from insightlog.application.recording import ServiceVocabulary

# Kinds with a form of their own on a service's record page. A registration starts a service
# (the CLI or an import does that); an amendment and a withdrawal are made from the entry's page.
NOT_ON_RECORD_PAGE = (REGISTRATION_KIND, AMENDMENT_KIND, WITHDRAWAL_KIND)
# Kinds about the service's set-up, not one place in it: no location, team or shift to choose.
UNSCOPED_KINDS = (REGISTRATION_KIND, THEME_KIND, "ReviewCadenceSet")

TITLES: dict[str, str] = {
    "ServiceRegistered": "Register a service",
    "ThemeDefined": "Define a theme",
    "ReviewCadenceSet": "Set a review cadence",
    "AuditSectionScored": "An audit section's score",
    "IncidentRecorded": "An incident or near miss",
    "ComplaintReceived": "A complaint",
    "FeedbackReceived": "Feedback from staff, leaders or partners",
    "SpotCheckRecorded": "A spot check",
    "ValidationSampled": "A validation sample",
    "RotaMetricRecorded": "A rota or call-monitoring figure",
    "AuditCompleted": "An audit's headline figure",
    "EvidenceAmended": "Amend evidence",
    "EntryWithdrawn": "Withdraw an entry",
    "JudgementRecorded": "A leadership judgement",
    "JudgementRevised": "A revised leadership judgement",
    "VarianceIdentified": "A variance between evidence and a stated position",
    "ActionAssigned": "Assign an improvement action",
    "ActionUpdated": "Progress on an action",
    "ActionClosed": "Close an action",
    "ReviewHeld": "A governance review held",
    "EscalationRaised": "An escalation",
}

MEANINGS: dict[str, str] = {
    "ServiceRegistered": "Registers a regulated service: its framework, type and scopes.",
    "ThemeDefined": "Adds a theme to the service's governance, under a parent theme or at the top.",
    "ReviewCadenceSet": "Says how often a level of review is due and who holds it.",
    "AuditSectionScored": "Evidence: one scored section of an audit.",
    "IncidentRecorded": "Evidence: an incident or a near miss.",
    "ComplaintReceived": "Evidence: a complaint from a person supported or their family.",
    "FeedbackReceived": "Evidence: what staff, leaders or partners said.",
    "SpotCheckRecorded": "Evidence: what a spot check of practice found.",
    "ValidationSampled": "Evidence: a sample taken to test what records or audits say.",
    "RotaMetricRecorded": "Evidence: a figure from the rota or call monitoring.",
    "AuditCompleted": "An audit's dashboard figure. It is not evidence; it is compared with the evidence.",
    "EvidenceAmended": "Corrects figures or words of earlier evidence from now on; the original stays.",
    "EntryWithdrawn": "Withdraws an entry made in error from now on; it stays in the log, marked withdrawn.",
    "JudgementRecorded": "What the service's leaders judge a theme to be, with any exceptions.",
    "JudgementRevised": "A new judgement of a theme that replaces the one before.",
    "VarianceIdentified": "A finding that the evidence and a stated position differ.",
    "ActionAssigned": "An improvement action, owned by a role, with a due date.",
    "ActionUpdated": "Progress on an open action.",
    "ActionClosed": "Closes an open action with its outcome.",
    "ReviewHeld": "A monthly or quarterly governance review that took place.",
    "EscalationRaised": "A concern passed up to another role.",
}

# Plain-English labels of the payload fields (by name; a name means the same in every kind).
LABELS: dict[str, str] = {
    "framework": "Framework",
    "framework.name": "Framework",
    "framework.taxonomy_version": "Taxonomy of quality statements",
    "service_type": "What the service is",
    "scopes": "Locations, teams and shifts",
    "theme": "Theme name",
    "parent": "Parent theme",
    "scope_by": "Evidence is told apart by",
    "label": "Theme as readers see it",
    "quality_statements": "Quality statements",
    "level": "Level of review",
    "interval_days": "Days between reviews",
    "anchor_date": "Counting from",
    "owner_role": "Owned by",
    "evidence_score": "Score",
    "evidence_category": "Kind of evidence",
    "source_type": "Where it comes from",
    "summary": "What was found",
    "items_checked": "Items checked",
    "items_compliant": "Items that met the standard",
    "compliance_pct": "Percentage that met the standard",
    "audit_id": "Audit reference",
    "headline_pct": "Headline percentage",
    "headline_score": "Headline score",
    "amends": "Entry amended",
    "changes": "Changes",
    "reason": "Reason",
    "withdraws": "Entry withdrawn",
    "score": "Score",
    "confidence": "Confidence",
    "exceptions": "Exceptions: where the score does not hold",
    "supersedes": "Replaces the judgement",
    "narrative": "The judgement in words",
    "finding": "What differs",
    "evidence_refs": "Evidence behind it (entry ids)",
    "action_id": "Action reference",
    "description": "What is to be done",
    "due": "Due by",
    "status": "Status",
    "note": "Progress",
    "outcome": "Outcome",
    "themes_reviewed": "Themes reviewed",
    "to": "Escalated to",
    "refs": "Entries it refers to (ids)",
    "corrects": "Corrects the withdrawn entry",
}

HINTS: dict[str, str] = {
    "framework.name": "For example: CQC single assessment framework.",
    "framework.taxonomy_version": "For example: SAF-2024.",
    "scopes": "One a line, each as location:NAME, team:NAME or shift:NAME.",
    "theme": "Lower case, dots between levels, for example medicines.covert.",
    "parent": "Leave at the top level for a theme of its own.",
    "quality_statements": "One statement id a line, for example S8.",
    "anchor_date": "The date the first review is counted from.",
    "evidence_score": "The CQC score: 1 significant shortfalls, 2 some shortfalls, 3 good, 4 exceptional.",
    "source_type": "A word or two, for example spot_check, audit, metric.",
    "summary": "In plain words; it is shown to the committee and to inspectors.",
    "items_checked": "Give both counts and the percentage and score are worked out for you.",
    "compliance_pct": "When given, the score must be its CQC band: 88 or more is 4, 63 or more 3, 39 or more 2.",
    "audit_id": "The audit's own reference, for example MAR-AUDIT-2026-07.",
    "headline_score": "The score the audit's dashboard shows.",
    "reason": "Why; it is kept with the entry for good.",
    "score": "1 significant shortfalls, 2 some shortfalls, 3 good, 4 exceptional.",
    "confidence": "How sure the leaders are of the score.",
    "narrative": "What the leaders believe and why.",
    "evidence_refs": "One entry id a line (optional).",
    "refs": "One entry id a line (optional).",
    "due": "A date (optional).",
    "status": "For example in_progress (optional).",
    "themes_reviewed": "Tick each theme the review covered.",
}

ENVELOPE_LABELS: dict[str, str] = {
    "theme": "Theme",
    "location": "Location",
    "team": "Team",
    "shift": "Shift",
    "new_scope": "Or a new location, team or shift",
    "observed_at": "When it happened (UTC)",
    "record": "Your reference for the record",
}
ENVELOPE_HINTS: dict[str, str] = {
    "new_scope": "Only if it is not in the lists: location:NAME, team:NAME or shift:NAME, for example team:west.",
    "observed_at": "Leave empty for now. Date and time in UTC (in summer, an hour behind UK clocks).",
    "record": "Optional: the form, log or case number this comes from.",
}

LONG_TEXT = frozenset({"summary", "narrative", "finding", "description", "note", "outcome", "reason"})
SCORE_LABELS = {1: "1: significant shortfalls", 2: "2: some shortfalls", 3: "3: good", 4: "4: exceptional"}
DATE_FIELDS = frozenset({"anchor_date", "due"})
EXCEPTION_ROWS = 2  # blank exception rows offered beyond those already given
_SCOPE_TEXT = re.compile(r"^(location|team|shift):(.+)$")
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(:\d{2})?)?$")
_JSON_NUMBER = re.compile(r"^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$")
_NO_THEME = ""


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FormField:
    """One input of a form: ``name`` is also its id and the key of its error."""

    name: str
    label: str
    widget: str  # text, textarea, integer, number, score, select, date, lines, checkboxes, exceptions
    required: bool = False
    hint: str | None = None
    choices: tuple[Choice, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    value: Any = ""
    source: str = "payload"  # payload or envelope
    rows: tuple[dict[str, str], ...] = ()  # exceptions: the rows to show


@dataclass(frozen=True)
class KindForm:
    kind: str
    title: str
    meaning: str
    fields: tuple[FormField, ...]
    judge: bool  # needs the judge right
    theme_required: bool
    notes: tuple[str, ...] = ()
    hidden: tuple[tuple[str, str], ...] = ()

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass
class Submission:
    """A submitted form turned into an interchange object, or the problems, field by field."""

    event: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ reading the models


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``| None`` and ``Annotated``, and whether None is allowed."""
    nullable = False
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(get_args(annotation))
        annotation = args[0] if len(args) == 1 else annotation
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation, nullable


def _bounds(info: Any) -> tuple[float | None, float | None]:
    low = high = None
    for meta in getattr(info, "metadata", ()):
        low = getattr(meta, "ge", low) if getattr(meta, "ge", None) is not None else low
        high = getattr(meta, "le", high) if getattr(meta, "le", None) is not None else high
    return low, high


def _plain(value: str) -> str:
    return value.replace("_", " ")


def _model_fields(model: type[BaseModel], prefix: str = "") -> list[FormField]:
    """The form fields of a payload model, in the model's order (nested models flattened)."""
    out: list[FormField] = []
    for name, info in model.model_fields.items():
        if name in ("corrects", "supersedes"):
            continue  # set by the server: the correction link of a withdrawn entry, the theme's latest judgement
        key = prefix + name
        annotation, nullable = _unwrap(info.annotation)
        required = info.is_required() and not nullable
        label = LABELS.get(key, LABELS.get(name, _plain(name).capitalize()))
        hint = HINTS.get(key, HINTS.get(name))
        common: dict[str, Any] = {"name": "payload." + key, "label": label, "required": required, "hint": hint}
        origin = get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out += _model_fields(annotation, prefix=key + ".")
        elif origin is Literal:
            choices = tuple(Choice(str(v), _plain(str(v))) for v in get_args(annotation))
            out.append(FormField(widget="select", choices=choices, **common))
        elif origin is list:
            (item,) = get_args(annotation)
            item, _ = _unwrap(item)
            if isinstance(item, type) and issubclass(item, BaseModel):
                out.append(FormField(widget="exceptions", **common))
            else:
                widget = "checkboxes" if name == "themes_reviewed" else "lines"
                out.append(FormField(widget=widget, **common))
        elif origin is dict or annotation is dict:
            out.append(FormField(widget="json", **common))
        elif annotation is int:
            low, high = _bounds(info)
            if (low, high) == (1, 4):
                choices = tuple(Choice(str(s), text) for s, text in SCORE_LABELS.items())
                out.append(FormField(widget="score", choices=choices, minimum=low, maximum=high, **common))
            else:
                out.append(FormField(widget="integer", minimum=low, maximum=high, **common))
        elif annotation is float:
            low, high = _bounds(info)
            out.append(FormField(widget="number", minimum=low, maximum=high, **common))
        elif name in DATE_FIELDS:
            out.append(FormField(widget="date", **common))
        else:
            out.append(FormField(widget="textarea" if name in LONG_TEXT else "text", **common))
    return out


def kinds_on_record_page() -> list[str]:
    return [k for k in PAYLOAD_MODELS if k not in NOT_ON_RECORD_PAGE]


def form_for(kind: str) -> KindForm:
    """The form of ``kind`` before any service's choices are known (raises KeyError if unknown)."""
    model = PAYLOAD_MODELS[kind]
    fields: list[FormField] = []
    theme_required = kind in NEEDS_THEME
    if kind != THEME_KIND:
        fields.append(FormField("theme", ENVELOPE_LABELS["theme"], "select", theme_required, source="envelope"))
    if kind not in UNSCOPED_KINDS:
        for name in SCOPE_FIELDS:
            fields.append(FormField(name, ENVELOPE_LABELS[name], "select", source="envelope"))
        fields.append(
            FormField(
                "new_scope", ENVELOPE_LABELS["new_scope"], "text", hint=ENVELOPE_HINTS["new_scope"], source="envelope"
            )
        )
    fields += _model_fields(model)
    fields.append(
        FormField(
            "observed_at",
            ENVELOPE_LABELS["observed_at"],
            "datetime",
            hint=ENVELOPE_HINTS["observed_at"],
            source="envelope",
        )
    )
    fields.append(
        FormField("record", ENVELOPE_LABELS["record"], "text", hint=ENVELOPE_HINTS["record"], source="envelope")
    )
    return KindForm(
        kind, TITLES.get(kind, kind), MEANINGS.get(kind, ""), tuple(fields), kind in JUDGEMENT_KINDS, theme_required
    )


# ------------------------------------------------------------------ one service's choices


def _theme_choices(vocab: ServiceVocabulary, *, blank: str | None) -> tuple[Choice, ...]:
    out = [Choice(_NO_THEME, blank)] if blank is not None else []
    return (*out, *(Choice(t.theme, f"{t.label} ({t.theme})") for t in vocab.themes))


def bind(
    form: KindForm,
    vocab: ServiceVocabulary,
    values: Mapping[str, Any] | None = None,
    *,
    judgement_theme: str | None = None,
) -> KindForm:
    """The form with ``vocab``'s choices and ``values`` (a submitted form, or a prefill)."""
    values = values or {}
    bound: list[FormField] = []
    for f in form.fields:
        value = values.get(f.name, f.value)
        if f.name == "theme":
            blank = None if form.theme_required else "Not about one theme"
            if judgement_theme is not None:
                f = replace(f, choices=_theme_choices(vocab, blank=None), value=judgement_theme, widget="fixed")
            else:
                f = replace(
                    f, choices=_theme_choices(vocab, blank=blank if not form.theme_required else "Choose a theme")
                )
        elif f.name in SCOPE_FIELDS:
            known = vocab.scopes.get(f.name, [])
            if not known:
                continue  # none registered or used: the "new scope" field names one
            f = replace(f, choices=(Choice("", f"Any {f.name}"), *(Choice(v, v) for v in known)))
        elif f.name == "payload.parent":
            f = replace(f, widget="select", choices=(Choice("", "Top level"), *_theme_choices(vocab, blank=None)))
        elif f.name == "payload.themes_reviewed":
            f = replace(f, choices=_theme_choices(vocab, blank=None))
        elif f.name == "payload.action_id" and form.kind in ("ActionUpdated", "ActionClosed"):
            f = replace(
                f,
                widget="select",
                choices=(
                    Choice("", "Choose an open action"),
                    *(
                        Choice(a["action_id"], f"{a['action_id']}: {a.get('description') or ''}".strip(": "))
                        for a in vocab.open_actions
                    ),
                ),
            )
        elif f.name in ("payload.owner_role", "payload.to"):
            from insightlog.interchange.kinds import ACTOR_ROLES

            if f.widget == "text":
                f = replace(
                    f,
                    widget="select",
                    choices=(Choice("", "Choose a role"), *(Choice(r, _plain(r)) for r in ACTOR_ROLES)),
                )
        elif f.name == "payload.level" and f.widget == "text":
            from insightlog.interchange.kinds import REVIEW_LEVELS

            f = replace(f, widget="select", choices=tuple(Choice(r, _plain(r)) for r in REVIEW_LEVELS))
        elif f.widget == "exceptions":
            scopes = [f"{name}:{v}" for name in SCOPE_FIELDS for v in vocab.scopes.get(name, [])]
            f = replace(
                f,
                choices=tuple(Choice(s, s) for s in scopes),
                rows=tuple(_exception_rows(values)),
            )
        if f.widget != "exceptions":
            f = replace(f, value=value)
        elif f.widget == "exceptions":
            f = replace(f, value="")
        bound.append(f)
    return replace(form, fields=tuple(bound))


def _exception_rows(values: Mapping[str, Any]) -> list[dict[str, str]]:
    rows = []
    i = 0
    while f"payload.exceptions.{i}.score" in values:
        rows.append(
            {k: str(values.get(f"payload.exceptions.{i}.{k}") or "") for k in ("theme", "scope", "score", "note")}
        )
        i += 1
    rows = [r for r in rows if any(r.values())]
    return rows + [{"theme": "", "scope": "", "score": "", "note": ""} for _ in range(EXCEPTION_ROWS)]


def prefill_from_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """Form values from an interchange object (a correction starts from the withdrawn entry)."""
    values: dict[str, Any] = {}
    for name in ("theme", "location", "team", "shift", "record"):
        if event.get(name):
            values[name] = event[name]

    def walk(prefix: str, obj: Mapping[str, Any]) -> None:
        for key, value in obj.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                walk(name + ".", value)
            elif key == "exceptions" and isinstance(value, list):
                for i, ex in enumerate(value):
                    if isinstance(ex, dict):
                        for part in ("theme", "scope", "score", "note"):
                            values[f"{name}.{i}.{part}"] = "" if ex.get(part) is None else str(ex.get(part))
            elif isinstance(value, list):
                values[name] = [str(v) for v in value] if key == "themes_reviewed" else "\n".join(str(v) for v in value)
            elif value is None:
                values[name] = ""
            else:
                values[name] = str(value)

    walk("payload.", event.get("payload") or {})
    return values


# ------------------------------------------------------------------ reading a submitted form


def _number(text: str) -> int | float | None:
    """A JSON number as JSON reads it (``75`` an integer, ``75.0`` a float); None if not one."""
    if not _JSON_NUMBER.match(text):
        return None
    value = orjson.loads(text)
    return value if isinstance(value, (int, float)) else None


def _utc_text(text: str) -> str | None:
    """``YYYY-MM-DD[THH:MM[:SS]]`` (a browser's date-time input) as RFC 3339 UTC text, or None."""
    found = _DATETIME.match(text)
    if not found:
        return None
    day, hm, sec = found.groups()
    return f"{day}T{hm or '00:00'}{sec or ':00'}Z"


def to_event(
    form: KindForm,
    data: Mapping[str, Any],
    vocab: ServiceVocabulary,
    *,
    service: str,
    event_id: str,
    actor_role: str,
    actor_id: str,
    corrects: str | None = None,
    supersedes: str | None = None,
) -> Submission:
    """The interchange object of a submitted form, every problem under its field's name.

    ``data`` maps field names to text (or lists of text for check boxes). The payload is checked
    by the kind's model (all its errors at once); the rules that need the store are left to the
    ledger, whose one error the caller shows under the field it names.
    """
    out = Submission()
    errors = out.errors

    def text(name: str) -> str:
        value = data.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    event: dict[str, Any] = {"event_id": event_id, "service": service}
    theme = text("theme") or None
    if form.kind == THEME_KIND:
        theme = text("payload.theme") or None
    elif theme is not None and theme not in vocab.theme_names:
        errors["theme"] = "Choose one of the service's themes."
    elif theme is None and form.theme_required:
        errors["theme"] = "Choose the theme this is about."
    event["theme"] = theme
    for name in SCOPE_FIELDS:
        value = text(name) or None
        if value is not None and value not in vocab.scopes.get(name, []):
            errors[name] = f"Choose one of the service's {name}s, or name a new one below."
        event[name] = value
    new_scope = text("new_scope")
    if new_scope:
        found = _SCOPE_TEXT.match(new_scope)
        if not found or not found.group(2).strip():
            errors["new_scope"] = "Write it as location:NAME, team:NAME or shift:NAME, for example team:west."
        else:
            name, value = found.group(1), found.group(2).strip()
            if event.get(name) and event[name] != value:
                errors["new_scope"] = f"A {name} is chosen above already; leave one of the two empty."
            event[name] = value
    event["kind"] = form.kind
    event["actor_role"] = actor_role
    event["actor_id"] = actor_id
    event["record"] = text("record") or None
    observed = text("observed_at")
    if observed:
        stamp = _utc_text(observed)
        if stamp is None:
            errors["observed_at"] = "Give a date and time like 2026-07-01 14:30, or leave it empty for now."
        event["observed_at"] = stamp
    else:
        event["observed_at"] = None
    payload = _payload(form, data, errors, out.notes)
    if corrects:
        payload["corrects"] = corrects
    if form.kind in JUDGEMENT_KINDS:
        payload["supersedes"] = supersedes
        if form.kind == "JudgementRevised" and supersedes is None and "theme" not in errors:
            errors["theme"] = "This theme has no judgement to revise yet: record a judgement instead."
    _check_model(form.kind, payload, errors)
    event["payload"] = payload
    out.event = event
    return out


def _payload(form: KindForm, data: Mapping[str, Any], errors: dict[str, str], notes: list[str]) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for f in form.fields:
        if f.source != "payload":
            continue
        path = f.name.split(".")[1:]
        raw = data.get(f.name, "")
        value: Any
        if f.widget == "checkboxes":
            items = raw if isinstance(raw, list) else ([raw] if isinstance(raw, str) and raw else [])
            value = [str(v) for v in items if str(v).strip()]
            if not value and not f.required:
                continue
        elif f.widget == "exceptions":
            value = _exceptions(data, f.name, errors)
        else:
            s = raw.strip() if isinstance(raw, str) else ""
            if s == "":
                if f.required:
                    errors[f.name] = (
                        f"Enter {f.label.lower()}."
                        if f.widget not in ("select", "score")
                        else f"Choose {f.label.lower()}."
                    )
                    continue
                if f.name == "payload.parent":
                    value = None  # the model requires the key; null means a top-level theme
                else:
                    continue
            elif f.widget in ("integer", "score"):
                number = _number(s)
                if not isinstance(number, int):
                    errors[f.name] = "Enter a whole number."
                    continue
                value = number
            elif f.widget == "number":
                number = _number(s)
                if number is None:
                    errors[f.name] = "Enter a number, like 75 or 82.5."
                    continue
                value = number
            elif f.widget == "lines":
                value = [line.strip() for line in s.splitlines() if line.strip()]
            elif f.widget == "json":
                try:
                    value = orjson.loads(s)
                except orjson.JSONDecodeError:
                    errors[f.name] = "Enter the changes as a JSON object."
                    continue
            else:
                value = s
        target = payload
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = value
    if form.kind in EVIDENCE_KINDS:
        _counted_items(payload, errors, notes)
    return payload


def _exceptions(data: Mapping[str, Any], name: str, errors: dict[str, str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    i = 0
    while f"{name}.{i}.score" in data or f"{name}.{i}.note" in data:
        parts = {k: str(data.get(f"{name}.{i}.{k}") or "").strip() for k in ("theme", "scope", "score", "note")}
        i += 1
        if not any(parts.values()):
            continue
        key = f"{name}.{i - 1}"
        if not parts["theme"] and not parts["scope"]:
            errors[f"{key}.theme"] = "Choose the theme or the scope where the score differs."
        score = _number(parts["score"])
        if not isinstance(score, int):
            errors[f"{key}.score"] = "Choose the score that holds there."
        if not parts["note"]:
            errors[f"{key}.note"] = "Say why it differs there."
        rows.append(
            {"theme": parts["theme"] or None, "scope": parts["scope"] or None, "score": score, "note": parts["note"]}
        )
    return rows


def _counted_items(payload: dict[str, Any], errors: dict[str, str], notes: list[str]) -> None:
    """Work out the percentage and band of counted items; explain a score that disagrees."""
    checked, compliant = payload.get("items_checked"), payload.get("items_compliant")
    if "payload.items_checked" in errors or "payload.items_compliant" in errors:
        return
    if isinstance(checked, int) and isinstance(compliant, int):
        if compliant > checked:
            errors["payload.items_compliant"] = f"Cannot be more than the {checked} items checked."
            return
        if checked == 0:
            return
        if "compliance_pct" not in payload:
            payload["compliance_pct"] = round(100 * compliant / checked, 1)
            notes.append(f"{compliant} of {checked} is {payload['compliance_pct']}%.")
    pct = payload.get("compliance_pct")
    if isinstance(pct, (int, float)) and "payload.compliance_pct" not in errors and 0 <= pct <= 100:
        band = compliance_band(pct)
        score = payload.get("evidence_score")
        if score is None and "payload.evidence_score" in errors:
            errors.pop("payload.evidence_score")
            payload["evidence_score"] = band
            notes.append(f"The score is the CQC band of {pct}%: {band}.")
        elif isinstance(score, int) and score != band:
            errors["payload.evidence_score"] = (
                f"{pct}% is in CQC band {band} (88% or more is 4, 63% or more 3, 39% or more 2, below that 1), "
                f"so the score must be {band}, not {score}; or leave the counts and percentage empty."
            )


def _check_model(kind: str, payload: dict[str, Any], errors: dict[str, str]) -> None:
    """Every error the kind's model finds, under the form field it belongs to."""
    try:
        PAYLOAD_MODELS[kind].model_validate(payload)
    except ValidationError as exc:
        for err in exc.errors():
            loc = "payload." + ".".join(str(p) for p in err["loc"])
            if any(k == loc or k.startswith(loc + ".") or loc.startswith(k + ".") for k in errors):
                continue  # already said in the form's own words
            msg = err["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            if err["type"] == "missing":
                msg = "This is required."
            errors[_form_key(loc)] = msg[:1].upper() + msg[1:] + ("" if msg.endswith(".") else ".")


def amendment_changes(
    fields: list[FormField], data: Mapping[str, Any], effective: Mapping[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    """The payload fields an amendment form changes: each whose submitted value differs from the
    entry's effective payload (a cleared field cannot remove a value: withdraw and correct instead)."""
    kind_fields = tuple(replace(f, required=False) for f in fields)
    probe = KindForm("", "", "", kind_fields, judge=False, theme_required=False)
    notes: list[str] = []
    given = _payload(probe, data, errors, notes)
    if any(k in effective for k in ("evidence_score", "items_checked", "compliance_pct")):
        _counted_items(given, errors, notes)
    changes: dict[str, Any] = {}
    for f in fields:
        key = f.name.split(".", 1)[1]
        if key in given:
            if effective.get(key) != given[key] or type(effective.get(key)) is not type(given[key]):
                changes[key] = given[key]
        elif key in effective and f.name not in errors:
            errors[f.name] = "An amendment cannot remove a value; withdraw the entry and record it again instead."
    return changes


def _form_key(loc: str) -> str:
    """The form field a model or ledger location belongs to (``payload.exceptions.0.score`` stays)."""
    return loc


def field_of_ledger_error(field_name: str, form: KindForm) -> str:
    """The form field that a ledger error's field (``payload.supersedes``, ``theme``) is shown under."""
    names = {f.name for f in form.fields}
    if field_name in names:
        return field_name
    if field_name in ("recorded_at", "event_id", "payload.supersedes", "payload.corrects"):
        return "theme" if "theme" in names else next(iter(names), "")
    head = ".".join(field_name.split(".")[:2])
    return head if head in names else ("theme" if "theme" in names else "")


__all__ = [
    "AMENDMENT_KIND",
    "HEADLINE_KIND",
    "JUDGEMENT_KINDS",
    "WITHDRAWAL_KIND",
    "Choice",
    "FormField",
    "KindForm",
    "Submission",
    "amendment_changes",
    "bind",
    "field_of_ledger_error",
    "form_for",
    "kinds_on_record_page",
    "prefill_from_event",
    "to_event",
]
