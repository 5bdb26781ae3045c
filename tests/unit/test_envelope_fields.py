"""The 13 envelope fields are listed once, ``ENVELOPE_FIELDS``; every other place that names them
(declarations, and the hot paths that spell them out for speed) is checked against that list."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

from insightlog.interchange.entry import ENVELOPE_FIELDS, Entry, interchange_dict

AT = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def an_entry() -> Entry:
    values = {name: f"<{name}>" for name in ENVELOPE_FIELDS}
    values.update(observed_at=AT, recorded_at=AT, payload={"summary": "s"})
    return Entry(**values, position=7, appended_at=AT, source="live")  # type: ignore[arg-type]


def a_stored_state() -> dict[str, object]:
    entry = an_entry()
    return {
        "entry": entry.interchange(),
        "position": entry.position,
        "appended_at": "2026-01-05T10:00:00Z",
        "source": "live",
    }


def test_the_entry_and_the_draft_declare_the_envelope_fields_in_their_order() -> None:
    from insightlog.interchange.validation import Draft

    # entry_from_state builds an Entry positionally in this order.
    assert tuple(f.name for f in fields(Entry))[: len(ENVELOPE_FIELDS)] == ENVELOPE_FIELDS
    assert tuple(Draft.model_fields) == ENVELOPE_FIELDS


def test_the_interchange_object_and_the_leaf_object_have_the_envelope_fields_in_order() -> None:
    from insightlog.proof.canonical import entry_leaf_object

    entry = an_entry()
    assert tuple(interchange_dict(entry)) == ENVELOPE_FIELDS
    assert tuple(entry_leaf_object(entry)) == ("v", *ENVELOPE_FIELDS, "ledger")
    assert {k: v for k, v in entry_leaf_object(entry).items() if k in ENVELOPE_FIELDS} == entry.interchange()


def test_a_stored_state_reads_back_as_the_entry_it_was_made_from() -> None:
    from insightlog.application.ledger import entry_from_state

    assert entry_from_state(a_stored_state()) == an_entry()


def test_the_events_index_row_has_a_column_for_every_envelope_field() -> None:
    from insightlog.projections import tables
    from insightlog.projections.rows import event_row

    row = event_row(3, a_stored_state())
    assert set(row) == {c.name for c in tables.events.columns}
    assert set(ENVELOPE_FIELDS) <= set(row)
    assert {name: row[name] for name in ENVELOPE_FIELDS if name != "payload"} == {
        name: value
        for name, value in a_stored_state()["entry"].items()
        if name != "payload"  # type: ignore[attr-defined]
    }
