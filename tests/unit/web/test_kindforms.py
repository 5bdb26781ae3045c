"""The record forms are generated from the validating models: every field labelled in plain
English, every required field required, and a filled form gives an event the ledger accepts."""

from __future__ import annotations

from datetime import UTC, datetime

from insightlog.application.recording import ServiceVocabulary, ThemeChoice
from insightlog.interchange.validation import PAYLOAD_MODELS, validate_object
from insightlog.web import kindforms

VOCAB = ServiceVocabulary(
    "S",
    themes=[
        ThemeChoice("medicines", "Medicines", None, "team"),
        ThemeChoice("medicines.mar", "MAR", "medicines", "team"),
    ],
    scopes={"location": [], "team": ["north"], "shift": []},
    judgements={},
    open_actions=[{"action_id": "A-1", "event_id": "E-1", "theme": None, "owner_role": "team_leader"}],
)


def _model_names(model: type, prefix: str = "") -> set[str]:
    from pydantic import BaseModel

    out = set()
    for name, info in model.model_fields.items():  # type: ignore[attr-defined]
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out |= _model_names(annotation, prefix + name + ".")
        else:
            out.add(prefix + name)
    return out


def test_every_payload_field_of_every_kind_has_a_plain_english_label() -> None:
    for kind, model in PAYLOAD_MODELS.items():
        for name in _model_names(model):
            assert name in kindforms.LABELS or name.split(".")[-1] in kindforms.LABELS, (kind, name)
    assert set(kindforms.TITLES) == set(PAYLOAD_MODELS) == set(kindforms.MEANINGS)


def test_each_form_has_the_models_fields_and_requires_what_the_model_requires() -> None:
    for kind in kindforms.kinds_on_record_page():
        form = kindforms.form_for(kind)
        names = {f.name.removeprefix("payload.") for f in form.fields if f.source == "payload"}
        assert names == _model_names(PAYLOAD_MODELS[kind]) - {"corrects", "supersedes"}, kind
        for f in form.fields:
            if f.source != "payload":
                continue
            leaf = f.name.removeprefix("payload.")
            model = PAYLOAD_MODELS[kind]
            top = leaf.split(".")[0]
            info = model.model_fields[top]
            if "." not in leaf and info.is_required() and f.name != "payload.parent":
                assert f.required, (kind, f.name)


def test_a_filled_spot_check_form_gives_an_event_the_interchange_accepts() -> None:
    form = kindforms.form_for("SpotCheckRecorded")
    data = {
        "theme": "medicines.mar",
        "team": "north",
        "payload.evidence_score": "",
        "payload.evidence_category": "observation",
        "payload.source_type": "spot_check",
        "payload.summary": "3 of 4 signed",
        "payload.items_checked": "4",
        "payload.items_compliant": "3",
        "observed_at": "2026-07-01T09:30",
    }
    out = kindforms.to_event(form, data, VOCAB, service="S", event_id="E-9", actor_role="team_leader", actor_id="TL-1")
    assert out.errors == {}
    assert out.event["payload"]["compliance_pct"] == 75.0 and out.event["payload"]["evidence_score"] == 3
    assert out.event["observed_at"] == "2026-07-01T09:30:00Z"
    draft = validate_object({**out.event, "recorded_at": "2026-07-02T00:00:00Z"})
    assert draft.actor_id == "TL-1" and draft.team == "north"
    assert datetime(2026, 7, 1, 9, 30, tzinfo=UTC) == draft.observed_at


def test_unknown_names_and_a_malformed_new_scope_are_refused_under_their_fields() -> None:
    form = kindforms.form_for("SpotCheckRecorded")
    data = {"theme": "nope", "team": "west", "new_scope": "west", "payload.evidence_score": "9"}
    out = kindforms.to_event(form, data, VOCAB, service="S", event_id="E-9", actor_role="team_leader", actor_id="TL-1")
    assert {"theme", "team", "new_scope", "payload.evidence_score", "payload.summary"} <= set(out.errors)


def test_a_new_scope_names_a_place_the_service_has_not_used_yet() -> None:
    form = kindforms.form_for("IncidentRecorded")
    data = {
        "theme": "medicines",
        "new_scope": "team:west",
        "payload.evidence_score": "2",
        "payload.evidence_category": "outcomes",
        "payload.source_type": "incident",
        "payload.summary": "late call",
    }
    out = kindforms.to_event(form, data, VOCAB, service="S", event_id="E-9", actor_role="team_leader", actor_id="TL-1")
    assert out.errors == {} and out.event["team"] == "west"


def test_every_kind_with_a_form_gives_a_valid_event_from_filled_fields() -> None:
    # Fill every required field with a value of its widget's kind; the model must accept the result.
    samples = {"score": "3", "integer": "7", "number": "50", "date": "2026-07-01", "lines": "S8"}
    for kind in kindforms.kinds_on_record_page():
        form = kindforms.bind(kindforms.form_for(kind), VOCAB)
        data: dict[str, object] = {"theme": "medicines"}
        for f in form.fields:
            if f.source != "payload" or not f.required:
                continue
            if f.widget in ("select",):
                data[f.name] = next(c.value for c in f.choices if c.value)
            elif f.widget == "exceptions":
                continue
            else:
                data[f.name] = samples.get(f.widget, "medicines.new" if f.name == "payload.theme" else "words")
        if kind in ("AuditSectionScored", "IncidentRecorded", "SpotCheckRecorded"):
            data["payload.evidence_score"] = "3"
        out = kindforms.to_event(
            form,
            data,
            VOCAB,
            service="S",
            event_id="E-1",
            actor_role="registered_manager",
            actor_id="RM-1",
            supersedes="J-0" if kind == "JudgementRevised" else None,
        )
        assert out.errors == {}, (kind, out.errors)
        validate_object({**out.event, "recorded_at": "2026-07-02T00:00:00Z", "observed_at": "2026-07-01T00:00:00Z"})
