"""The rows of the read-model tables: built from a service's analysis and governance rows (and
from a stored ``EntryAppended`` state for ``rm_events``), and turned back into the documents the
queries return. Pure: no database."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import orjson

from insightlog.projections.records import PreparedService

if TYPE_CHECKING:
    from sqlalchemy import Table

    from insightlog.analysis.governance import ServiceGovernance


def to_json(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


def from_json(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def event_row(notification_id: int, state: dict[str, Any]) -> dict[str, Any]:
    """The ``rm_events`` record of a stored ``EntryAppended`` state: the stored entry's envelope
    fields (timestamps stay ISO text, the payload as JSON text) and its ledger provenance."""
    e = state["entry"]
    row = dict(e)
    row["payload"] = orjson.dumps(e["payload"]).decode("utf-8")
    row["position"] = state["position"]
    row["notification_id"] = notification_id
    row["appended_at"] = state["appended_at"]
    row["source"] = state["source"]
    return row


def prepare_service(s: ServiceGovernance) -> PreparedService:
    """``s`` as table rows (see ``PreparedService``)."""
    from insightlog.projections import tables

    records = service_records(s)
    prepared = PreparedService(
        service=s.service,
        as_of=s.as_of,
        taxonomy_version=s.taxonomy_version,
        definitions_version=s.document["definitions_version"],
        isolated_themes=to_json(s.document["isolated_themes"]),
        overdue_reviews=to_json(s.overdue_reviews),
        entry_count=s.entry_count,
        last_position=s.last_position,
        tables={t.name: tuples(t, records[t.name]) for t in tables.PER_SERVICE},
    )
    prepared.digests = service_digests(prepared.tables, status_values(prepared_status(prepared)))
    return prepared


def prepared_status(s: PreparedService) -> dict[str, Any]:
    """The digested status fields of a computed service, as its status row holds them."""
    return {
        "as_of": s.as_of,
        "events": s.entry_count,
        "last_entry_position": s.last_position,
        "taxonomy_version": s.taxonomy_version,
        "definitions_version": s.definitions_version,
        "isolated_themes": s.isolated_themes,
        "overdue_reviews": s.overdue_reviews,
        "error": None,
    }


# The status fields a service's digests cover: what its computation gives (not ``dirty`` or
# ``updated_position``, which phase 1 changes without recomputing it).
STATUS_DIGEST_COLUMNS = (
    "as_of",
    "events",
    "last_entry_position",
    "taxonomy_version",
    "definitions_version",
    "isolated_themes",
    "overdue_reviews",
    "error",
)
STATUS_DIGEST = "rm_service_status"


def status_values(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """The digested status fields of a status row."""
    return tuple(row[c] for c in STATUS_DIGEST_COLUMNS)


def table_digest(table: Table, rows: Sequence[Sequence[Any]]) -> str:
    """SHA-256 of a service's rows of ``table`` (tuples in column order), in primary-key order."""
    key = [i for i, c in enumerate(table.columns) if c.primary_key]
    ordered = sorted((tuple(r) for r in rows), key=lambda r: tuple(r[i] for i in key))
    return hashlib.sha256(orjson.dumps(ordered)).hexdigest()


def status_digest(values: Sequence[Any]) -> str:
    return hashlib.sha256(orjson.dumps(list(values))).hexdigest()


def service_digests(rows_by_table: Mapping[str, Sequence[Sequence[Any]]], status: Sequence[Any]) -> str:
    """The ``rm_service_status.digests`` of a service: a JSON object of one SHA-256 per table of
    its rows (every per-service table, empty ones too) and one of its status fields."""
    from insightlog.projections import tables

    found = {str(t.name): table_digest(t, rows_by_table.get(t.name, ())) for t in tables.PER_SERVICE}
    found[STATUS_DIGEST] = status_digest(status)
    return orjson.dumps(found, option=orjson.OPT_SORT_KEYS).decode("utf-8")


def tuples(table: Table, records: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Records as tuples in the table's column order (one C-level call per record)."""
    if not records:
        return []
    values = itemgetter(*[c.name for c in table.columns])
    return [values(r) for r in records]


def governance_record(row: dict[str, Any], ordinal: int) -> dict[str, Any]:
    """A governance view row as an ``rm_governance`` record."""
    j = row["judgement"] or {}
    this, prev = row["this_month"], row["previous_month"]
    return {
        "service": row["service"],
        "ordinal": ordinal,
        "as_of": row["as_of"],
        "taxonomy_version": row["taxonomy_version"],
        "key_question": row["key_question"],
        "quality_statement": row["quality_statement"],
        "theme": row["theme"],
        "label": row["label"],
        "parent": row["parent"],
        "leaf": 1 if row["leaf"] else 0,
        "judgement_event_id": j.get("event_id"),
        "judgement_theme": j.get("theme"),
        "judgement_score": j.get("score"),
        "judgement_confidence": j.get("confidence"),
        "judgement_exceptions": to_json(j["exceptions"]) if j else None,
        "judgement_actor_role": j.get("actor_role"),
        "judgement_actor_id": j.get("actor_id"),
        "judgement_recorded_at": j.get("recorded_at"),
        "month": this["month"],
        "j_month": this["J"],
        "j_event_month": this["J_event"],
        "e_month": this["E"],
        "d_month": this["D"],
        "sign_month": this["sign"],
        "previous_month": prev["month"],
        "j_previous": prev["J"],
        "j_event_previous": prev["J_event"],
        "e_previous": prev["E"],
        "d_previous": prev["D"],
        "sign_previous": prev["sign"],
        "improvement_status": row["improvement_status"],
        "open_actions_count": len(row["open_actions"]),
        "open_actions": to_json(row["open_actions"]),
        "triggers_last_90_days": to_json(row["triggers_last_90_days"]),
    }


def governance_row(rec: Any, overdue: list[dict[str, Any]]) -> dict[str, Any]:
    """An ``rm_governance`` record back as a governance view row."""
    judgement = None
    if rec.judgement_event_id is not None:
        judgement = {
            "event_id": rec.judgement_event_id,
            "theme": rec.judgement_theme,
            "score": rec.judgement_score,
            "confidence": rec.judgement_confidence,
            "exceptions": from_json(rec.judgement_exceptions),
            "actor_role": rec.judgement_actor_role,
            "actor_id": rec.judgement_actor_id,
            "recorded_at": rec.judgement_recorded_at,
        }
    return {
        "service": rec.service,
        "as_of": rec.as_of,
        "taxonomy_version": rec.taxonomy_version,
        "key_question": rec.key_question,
        "quality_statement": rec.quality_statement,
        "theme": rec.theme,
        "label": rec.label,
        "parent": rec.parent,
        "leaf": bool(rec.leaf),
        "judgement": judgement,
        "this_month": {
            "month": rec.month,
            "J": rec.j_month,
            "J_event": rec.j_event_month,
            "E": rec.e_month,
            "D": rec.d_month,
            "sign": rec.sign_month,
        },
        "previous_month": {
            "month": rec.previous_month,
            "J": rec.j_previous,
            "J_event": rec.j_event_previous,
            "E": rec.e_previous,
            "D": rec.d_previous,
            "sign": rec.sign_previous,
        },
        "improvement_status": rec.improvement_status,
        "open_actions": from_json(rec.open_actions),
        "overdue_reviews": overdue,
        "triggers_last_90_days": from_json(rec.triggers_last_90_days),
    }


def service_records(sg: ServiceGovernance) -> dict[str, list[dict[str, Any]]]:
    """The per-service table records of one service's analysis and governance rows."""
    service = sg.service
    doc = sg.document
    recognition = [
        {
            "service": service,
            "ordinal": i,
            **{k: r[k] for k in RECOGNITION_SCALARS},
            "affected_scopes": to_json(r["affected_scopes"]),
            "sampled_scopes": to_json(r["sampled_scopes"]),
            "after_acknowledgement": to_json(r["after_acknowledgement"]),
        }
        for i, r in enumerate(doc["recognition"])
    ]
    drift = [
        {
            "service": service,
            "ordinal": i,
            "theme": r["theme"],
            "scope": r["scope"],
            "month": r["month"],
            "j": r["J"],
            "j_event": r["J_event"],
            "e": r["E"],
            "d": r["D"],
            "sign": r["sign"],
        }
        for i, r in enumerate(doc["drift"])
    ]
    improvement = [
        {"service": service, "theme": theme, "evaluation_date": day, "status": status}
        for theme, days in doc["improvement_status"].items()
        for day, status in days.items()
    ]
    triggers = [
        {
            "service": service,
            "ordinal": i,
            "trigger": t["trigger"],
            "theme": t["theme"],
            "scope": t["scope"],
            "fired_on": t["fired_on"],
            "events": to_json(t["events"]),
        }
        for i, t in enumerate(doc["triggers"])
    ]
    overdue = [{"service": service, "ordinal": i, **r} for i, r in enumerate(doc["reviews"]["overdue"])]
    late = [{"service": service, "ordinal": i, **r} for i, r in enumerate(doc["reviews"]["late_recorded"])]
    governance = [governance_record(r, i) for i, r in enumerate(sg.rows)]
    return {
        "rm_recognition": recognition,
        "rm_drift": drift,
        "rm_improvement": improvement,
        "rm_triggers": triggers,
        "rm_overdue_reviews": overdue,
        "rm_late_reviews": late,
        "rm_governance": governance,
    }


RECOGNITION_KEYS = (
    "theme",
    "extent",
    "affected_scopes",
    "sampled_scopes",
    "first_signal",
    "first_signal_observed",
    "pattern_detectable",
    "pattern_detectable_recorded",
    "acknowledgement",
    "ack_recorded",
    "recognition_lag_days",
    "detectable_lag_days",
    "claimed_lag_days",
    "open_lag_days",
    "after_acknowledgement",
)
JSON_RECOGNITION = frozenset({"affected_scopes", "sampled_scopes", "after_acknowledgement"})
RECOGNITION_SCALARS = tuple(k for k in RECOGNITION_KEYS if k not in JSON_RECOGNITION)
