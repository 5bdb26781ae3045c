"""Interchange 1.1 on import, record and back-fill: EntryWithdrawn, ``corrects``, the full rules for
an amendment's ``changes``, empty names, and references that must name an event earlier in the
service's log order. Every refusal is one line naming the line, the event id and the field, and
nothing is written (SQLite and PostgreSQL)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, harbour_lines, invoke, write_jsonl

Rows = list[dict[str, Any]]
SERVICE = "Harbour Home Care"
CORRECTIONS = ROOT / "examples" / "harbour_home_care_corrections.jsonl"


def corrections_lines() -> Rows:
    return [json.loads(line) for line in CORRECTIONS.read_text().splitlines() if line.strip()]


def _export(args: list[str]) -> bytes:
    result = invoke([*args, "export"])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def _row(rows: Rows, event_id: str) -> dict[str, Any]:
    return next(r for r in rows if r["event_id"] == event_id)


def _withdrawal(
    event_id: str, withdraws: Any, recorded: str = "2026-07-10T09:00:00Z", **payload: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"withdraws": withdraws, "reason": "entered in error"}
    body.update(payload)
    return {
        "event_id": event_id,
        "service": SERVICE,
        "kind": "EntryWithdrawn",
        "actor_role": "registered_manager",
        "actor_id": "RM-1",
        "observed_at": recorded,
        "recorded_at": recorded,
        "payload": {k: v for k, v in body.items() if v is not _ABSENT},
    }


def _amendment(
    event_id: str, amends: str, changes: dict[str, Any], recorded: str = "2026-07-10T09:00:00Z"
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "service": SERVICE,
        "theme": "medicines.mar_charts",
        "kind": "EvidenceAmended",
        "actor_role": "quality_lead",
        "actor_id": "QL-1",
        "observed_at": recorded,
        "recorded_at": recorded,
        "payload": {"amends": amends, "changes": changes, "reason": "test"},
    }


def _spot_check(event_id: str, recorded: str = "2026-07-10T09:30:00Z", **payload: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "evidence_category": "processes",
        "source_type": "spot_check",
        "evidence_score": 2,
        "summary": "re-recorded",
    }
    body.update(payload)
    return {
        "event_id": event_id,
        "service": SERVICE,
        "theme": "medicines.mar_charts",
        "team": "south",
        "kind": "SpotCheckRecorded",
        "actor_role": "deputy_manager",
        "actor_id": "DM-1",
        "observed_at": "2026-01-07T10:00:00Z",
        "recorded_at": recorded,
        "payload": body,
    }


_ABSENT = object()


def _add(*rows: dict[str, Any]) -> Callable[[Rows], None]:
    def mutate(lines: Rows) -> None:
        lines.extend(copy.deepcopy(rows))

    return mutate


def _insert(index: int, row: dict[str, Any]) -> Callable[[Rows], None]:
    def mutate(lines: Rows) -> None:
        lines.insert(index, copy.deepcopy(row))

    return mutate


def _edit(event_id: str, path: str, value: Any) -> Callable[[Rows], None]:
    def mutate(lines: Rows) -> None:
        target: Any = _row(lines, event_id)
        *parents, last = path.split(".")
        for p in parents:
            target = target[int(p)] if p.isdigit() else target[p]
        target[last] = value

    return mutate


# (name, mutation of the corrections file, bad line, bad event id, field, message)
# The corrections file: lines 1-70 as the worked example, 71 HHC-W01 (withdraws HHC-046),
# 72 HHC-W02 (HHC-051), 73 HHC-051R (corrects HHC-051), 74 HHC-W03 (HHC-030), 75 HHC-W04 (HHC-063).
CASES = [
    (
        "withdrawal without a reason",
        _edit("HHC-W01", "payload.reason", ""),
        71,
        "HHC-W01",
        "payload.reason",
        "must say why",
    ),
    ("withdrawal missing its target", _add(_withdrawal("X-W", _ABSENT)), 76, "X-W", "payload.withdraws", "is required"),
    ("withdrawal of an empty name", _add(_withdrawal("X-W", "")), 76, "X-W", "payload.withdraws", "non-empty"),
    (
        "withdrawal naming no event",
        _add(_withdrawal("X-W", "HHC-999")),
        76,
        "X-W",
        "payload.withdraws",
        "names no earlier event",
    ),
    (
        "withdrawal naming a later event",
        _edit("HHC-W02", "payload.withdraws", "HHC-051R"),
        72,
        "HHC-W02",
        "payload.withdraws",
        "names no earlier event",
    ),
    (
        "withdrawal of a theme definition",
        _add(_withdrawal("X-W", "HHC-003")),
        76,
        "X-W",
        "payload.withdraws",
        "ThemeDefined, which cannot be withdrawn",
    ),
    (
        "withdrawal of a withdrawal",
        _add(_withdrawal("X-W", "HHC-W01")),
        76,
        "X-W",
        "payload.withdraws",
        "EntryWithdrawn, which cannot be withdrawn",
    ),
    (
        "withdrawing twice",
        _add(_withdrawal("X-W", "HHC-046")),
        76,
        "X-W",
        "payload.withdraws",
        "already withdrawn by HHC-W01",
    ),
    (
        "withdrawal replacing something",
        _edit("HHC-W01", "payload.corrects", "HHC-046"),
        71,
        "HHC-W01",
        "payload.corrects",
        "not allowed on EntryWithdrawn",
    ),
    (
        "withdrawal of another service's event",
        _add({**_withdrawal("X-W", "HHC-016"), "service": "Other Service"}),
        76,
        "X-W",
        "payload.withdraws",
        "service 'Other Service'",
    ),
    (
        "replacement of an event never withdrawn",
        _edit("HHC-051R", "payload.corrects", "HHC-050"),
        73,
        "HHC-051R",
        "payload.corrects",
        "withdrawn earlier in the log",
    ),
    (
        "replacement before the withdrawal",
        _add(
            _spot_check("X-R", recorded="2026-07-06T17:00:00Z", corrects="HHC-016"),
            _withdrawal("X-W", "HHC-016", "2026-07-06T17:00:00Z"),
        ),
        76,
        "X-R",
        "payload.corrects",
        "withdrawn earlier in the log",
    ),
    (
        "replacement of an empty name",
        _edit("HHC-051R", "payload.corrects", ""),
        73,
        "HHC-051R",
        "payload.corrects",
        "non-empty",
    ),
    (
        "amendment of the envelope",
        _add(_amendment("X-A", "HHC-026", {"location": "Maple"})),
        76,
        "X-A",
        "payload.changes.location",
        "envelope field",
    ),
    (
        "amendment of the theme",
        _add(_amendment("X-A", "HHC-026", {"theme": "medicines"})),
        76,
        "X-A",
        "payload.changes.theme",
        "envelope field",
    ),
    (
        "amendment by a made-up field",
        _add(_amendment("X-A", "HHC-026", {"withdrawn": True})),
        76,
        "X-A",
        "payload.changes.withdrawn",
        "is not a payload field of AuditSectionScored, and HHC-026 does not carry it",
    ),
    (
        "amendment of compliance_pct alone, off its band",
        _add(_amendment("X-A", "HHC-014", {"compliance_pct": 70.0})),
        76,
        "X-A",
        "payload.changes.compliance_pct",
        "CQC band 3, but the effective evidence_score of HHC-014 is 2",
    ),
    (
        "amendment of the score alone, off its band",
        _add(_amendment("X-A", "HHC-014", {"evidence_score": 4})),
        76,
        "X-A",
        "payload.changes.evidence_score",
        "disagrees with the CQC band 2",
    ),
    # Before HHC-W03 withdraws it, HHC-030 has made HHC-026 10/20 = 50% (score 2).
    (
        "amendment off the band of an earlier amendment",
        _insert(73, _amendment("X-A", "HHC-026", {"compliance_pct": 65.0}, "2026-07-02T12:00:00Z")),
        74,
        "X-A",
        "payload.changes.compliance_pct",
        "effective evidence_score of HHC-026 is 2",
    ),
    (
        "amendment to an unknown category",
        _add(_amendment("X-A", "HHC-026", {"evidence_category": "gossip"})),
        76,
        "X-A",
        "payload.changes.evidence_category",
        "Input should be",
    ),
    (
        "amendment with an empty target",
        _edit("HHC-030", "payload.amends", ""),
        30,
        "HHC-030",
        "payload.amends",
        "non-empty",
    ),
    (
        "exception on an empty theme",
        _edit("HHC-045", "payload.exceptions.0.theme", ""),
        45,
        "HHC-045",
        "payload.exceptions.0.theme",
        "non-empty",
    ),
    (
        "exception on an empty scope",
        _edit("HHC-038", "payload.exceptions.0.scope", ""),
        38,
        "HHC-038",
        "payload.exceptions.0.scope",
        "non-empty",
    ),
    (
        "supersedes an empty name",
        _edit("HHC-038", "payload.supersedes", ""),
        38,
        "HHC-038",
        "payload.supersedes",
        "non-empty",
    ),
    ("an empty action id", _edit("HHC-050", "payload.action_id", ""), 50, "HHC-050", "payload.action_id", "non-empty"),
    ("an empty audit id", _edit("HHC-014", "payload.audit_id", ""), 14, "HHC-014", "payload.audit_id", "non-empty"),
    (
        "an event of a service registered in error",
        _add(_withdrawal("X-W", "HHC-001"), _spot_check("X-S")),
        77,
        "X-S",
        "service",
        "registered in error (its ServiceRegistered HHC-001 is withdrawn by X-W)",
    ),
]


@pytest.mark.parametrize(("name", "mutate", "line", "event_id", "field", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_correction_is_refused_naming_line_event_and_field_and_nothing_is_written(
    stores,
    tmp_path: Path,
    name: str,
    mutate: Callable[[Rows], None],
    line: int,
    event_id: str,
    field: str,
    message: str,
) -> None:
    args = stores.cli_args(stores.new())
    rows = corrections_lines()
    mutate(rows)
    result = invoke([*args, "import", str(write_jsonl(tmp_path / "bad.jsonl", rows))])
    # Check the one-line message, the exit status, and that nothing of the file was written.
    assert result.exit_code != 0
    err = result.output.strip()
    assert err.count("\n") == 0, err
    assert f"line {line} (event {event_id}): field '{field}'" in err
    assert message in err, err
    assert "Traceback" not in err
    assert _export(args) == b""


def test_the_corrections_example_imports_and_exports_byte_for_byte(stores, tmp_path: Path) -> None:
    args = stores.cli_args(stores.new())
    result = invoke([*args, "import", str(CORRECTIONS)])
    assert result.exit_code == 0, result.output
    assert "imported 75 events" in result.output
    exported = _export(args)
    (tmp_path / "e.jsonl").write_bytes(exported)
    again = stores.cli_args(stores.new())
    assert invoke([*again, "import", str(tmp_path / "e.jsonl")]).exit_code == 0
    assert _export(again) == exported


def _import(args: list[str], path: Path, *, backfill: bool = False) -> Any:
    return invoke([*args, "import", *(["--backfill"] if backfill else []), str(path)])


def _refused(result: Any, where: str, message: str) -> None:
    assert result.exit_code != 0
    err = result.output.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    assert where in err and message in err, err


def test_references_across_imports_must_name_an_event_earlier_in_the_log(stores, tmp_path: Path) -> None:
    args = stores.cli_args(stores.new())
    assert _import(args, write_jsonl(tmp_path / "h.jsonl", harbour_lines())).exit_code == 0
    before = _export(args)
    # A back-filled amendment recorded before the event it amends (HHC-067, recorded 2026-06-10).
    early_amendment = _amendment("B-A", "HHC-067", {"summary": "corrected"}, recorded="2026-06-01T09:00:00Z")
    _refused(
        _import(args, write_jsonl(tmp_path / "a.jsonl", [early_amendment]), backfill=True),
        "line 1 (event B-A): field 'payload.amends'",
        "'HHC-067' was recorded at 2026-06-10T13:00:00Z, after this event",
    )
    early_withdrawal = _withdrawal("B-W", "HHC-067", "2026-06-01T09:00:00Z")
    _refused(
        _import(args, write_jsonl(tmp_path / "w.jsonl", [early_withdrawal]), backfill=True),
        "line 1 (event B-W): field 'payload.withdraws'",
        "a reference names an event earlier in the service's log order",
    )
    early_revision = copy.deepcopy(_row(harbour_lines(), "HHC-069"))
    early_revision.update(event_id="B-J", observed_at="2026-06-01T09:00:00Z", recorded_at="2026-06-01T09:00:00Z")
    early_revision["payload"]["supersedes"] = "HHC-069"
    _refused(
        _import(args, write_jsonl(tmp_path / "j.jsonl", [early_revision]), backfill=True),
        "line 1 (event B-J): field 'payload.supersedes'",
        "'HHC-069' was recorded at",
    )
    assert _export(args) == before
    # The same references recorded after their targets are accepted, also as a back-fill.
    fine = _amendment("B-A2", "HHC-067", {"summary": "corrected"}, recorded="2026-06-20T09:00:00Z")
    accepted = _import(args, write_jsonl(tmp_path / "ok.jsonl", [fine]), backfill=True)
    assert accepted.exit_code == 0, accepted.output


def test_a_withdrawal_and_its_replacement_across_imports_and_back_fills(stores, tmp_path: Path) -> None:
    args = stores.cli_args(stores.new())
    rows = corrections_lines()
    assert _import(args, write_jsonl(tmp_path / "first.jsonl", rows[:72])).exit_code == 0  # through HHC-W02
    before = _export(args)
    # Withdrawn again in a later file: refused, naming the first withdrawal.
    _refused(
        _import(args, write_jsonl(tmp_path / "twice.jsonl", [_withdrawal("X-W", "HHC-051", "2026-07-02T10:00:00Z")])),
        "line 1 (event X-W): field 'payload.withdraws'",
        "already withdrawn by HHC-W02",
    )
    # A back-filled replacement recorded before the withdrawal it relies on.
    early = _spot_check("X-R", recorded="2026-07-02T09:05:00Z", corrects="HHC-051")
    _refused(
        _import(args, write_jsonl(tmp_path / "early.jsonl", [early]), backfill=True),
        "line 1 (event X-R): field 'payload.corrects'",
        "withdrawn by HHC-W02 at 2026-07-02T09:10:00Z, after this event",
    )
    assert _export(args) == before
    # The replacement in a later file, after the withdrawal: accepted.
    assert _import(args, write_jsonl(tmp_path / "rest.jsonl", rows[72:])).exit_code == 0
    assert len(_export(args).splitlines()) == 75


def test_an_amendment_is_checked_against_the_stored_effective_payload(stores, tmp_path: Path) -> None:
    args = stores.cli_args(stores.new())
    rows = corrections_lines()
    assert _import(args, write_jsonl(tmp_path / "h.jsonl", rows[:70])).exit_code == 0
    before = _export(args)
    # HHC-026 is amended by the stored HHC-030 to 10/20 = 50% (score 2): 65% alone is off band 2.
    _refused(
        _import(args, write_jsonl(tmp_path / "pct.jsonl", [_amendment("X-A", "HHC-026", {"compliance_pct": 65.0})])),
        "line 1 (event X-A): field 'payload.changes.compliance_pct'",
        "effective evidence_score of HHC-026 is 2",
    )
    assert _export(args) == before
    # Once HHC-030 is withdrawn the payload reverts to 13/20 = 65% (score 3): the same change is fine.
    assert (
        _import(
            args, write_jsonl(tmp_path / "w.jsonl", [_withdrawal("X-W", "HHC-030", "2026-07-03T10:00:00Z")])
        ).exit_code
        == 0
    )
    accepted = _import(
        args, write_jsonl(tmp_path / "pct2.jsonl", [_amendment("X-A", "HHC-026", {"compliance_pct": 65.0})])
    )
    assert accepted.exit_code == 0, accepted.output


def test_a_back_filled_amendment_may_not_break_a_later_stored_one(stores, tmp_path: Path) -> None:
    args = stores.cli_args(stores.new())
    rows = harbour_lines()
    later = _amendment("L-A", "HHC-014", {"compliance_pct": 45.0}, recorded="2026-07-01T09:00:00Z")
    assert _import(args, write_jsonl(tmp_path / "h.jsonl", [*rows, later])).exit_code == 0
    before = _export(args)
    # Raising HHC-014 to 90% / 4 in March makes the July 45% amendment disagree with score 4.
    backfilled = _amendment(
        "B-A", "HHC-014", {"compliance_pct": 90.0, "evidence_score": 4}, recorded="2026-03-01T09:00:00Z"
    )
    _refused(
        _import(args, write_jsonl(tmp_path / "b.jsonl", [backfilled]), backfill=True),
        "line 1 (event B-A): field 'payload.changes'",
        "the later amendment L-A of HHC-014 would be invalid",
    )
    assert _export(args) == before


def test_record_withdraws_live_and_a_service_registered_in_error_takes_nothing_more(ledger_factory) -> None:
    from insightlog.interchange.validation import LineError

    ledger = ledger_factory()
    ledger.import_lines([json.dumps(r) for r in harbour_lines()], source_name="h.jsonl")
    receipt = ledger.record(
        {
            "event_id": "L-W1",
            "service": SERVICE,
            "kind": "EntryWithdrawn",
            "actor_role": "registered_manager",
            "actor_id": "RM-1",
            "payload": {"withdraws": "HHC-016", "reason": "duplicate"},
        }
    )
    assert [r.event_id for r in receipt.receipts] == ["L-W1"]
    with pytest.raises(LineError, match=r"field 'payload.withdraws': 'HHC-016' is already withdrawn by L-W1"):
        ledger.record(
            {
                "event_id": "L-W2",
                "service": SERVICE,
                "kind": "EntryWithdrawn",
                "actor_role": "registered_manager",
                "actor_id": "RM-1",
                "payload": {"withdraws": "HHC-016", "reason": "again"},
            }
        )
    ledger.record(
        {
            "event_id": "L-W3",
            "service": SERVICE,
            "kind": "EntryWithdrawn",
            "actor_role": "registered_manager",
            "actor_id": "RM-1",
            "payload": {"withdraws": "HHC-001", "reason": "registered in error"},
        }
    )
    size = ledger.head_size()
    with pytest.raises(
        LineError, match=r"\(event L-X\): field 'service': service 'Harbour Home Care' was registered in error"
    ):
        ledger.record({**_spot_check("L-X"), "recorded_at": None})
    # Check nothing was written, and that the refusal survives reopening the service's state.
    assert ledger.head_size() == size
    assert [e.event_id for e in ledger.read_service(SERVICE)][-2:] == ["L-W1", "L-W3"]


def test_a_store_holding_an_old_style_amendment_still_opens_analyses_and_verifies(stores, tmp_path: Path) -> None:
    """Amendments 1.0 accepted (an envelope name in changes, a compliance_pct off its band) are
    history: a store holding them opens, exports, analyses and verifies; importing that export
    into a new store is refused with the 1.1 rule."""
    from datetime import datetime

    from insightlog.application.ledger import open_ledger
    from insightlog.interchange.entry import Entry
    from insightlog.interchange.timeutil import parse_strict_utc

    settings = stores.new()
    args = stores.cli_args(settings)
    assert invoke([*args, "keys", "init"]).exit_code == 0
    assert _import(args, write_jsonl(tmp_path / "h.jsonl", harbour_lines())).exit_code == 0
    ledger = open_ledger(settings)
    try:
        head = ledger.head()
        old = []
        for number, changes in enumerate([{"location": "Maple"}, {"compliance_pct": 70.0}], start=1):
            raw = _amendment(f"OLD-{number}", "HHC-014", changes, recorded=f"2026-07-0{number}T09:00:00Z")
            old.append(
                Entry(
                    event_id=raw["event_id"],
                    service=SERVICE,
                    theme=raw["theme"],
                    location=None,
                    team=None,
                    shift=None,
                    kind=raw["kind"],
                    actor_role=raw["actor_role"],
                    actor_id=raw["actor_id"],
                    record=None,
                    observed_at=parse_strict_utc(raw["observed_at"]),
                    recorded_at=parse_strict_utc(raw["recorded_at"]),
                    payload=raw["payload"],
                    position=head.size + number,
                    appended_at=datetime(2026, 7, 3, tzinfo=UTC),
                    source="live",
                )
            )
        ledger.append_preserved(old, head.origin)  # as 0.1.0 would have stored them
    finally:
        ledger.close()
    assert invoke([*args, "checkpoint"]).exit_code == 0
    verified = invoke([*args, "verify"])
    assert verified.exit_code == 0, verified.output
    analysed = invoke([*args, "analyse", "--service", SERVICE, "--as-of", "2026-07-31", "--json"])
    assert analysed.exit_code == 0, analysed.output
    exported = _export(args)
    assert b'"OLD-1"' in exported and b'"OLD-2"' in exported
    fresh = stores.cli_args(stores.new())
    refused = _import(fresh, write_jsonl(tmp_path / "old.jsonl", [json.loads(x) for x in exported.splitlines()]))
    _refused(refused, "line 71 (event OLD-1): field 'payload.changes.location'", "envelope field")
    assert _export(fresh) == b""


def test_withdrawals_survive_the_service_snapshot_and_a_reopened_store(stores, tmp_path: Path) -> None:
    from insightlog.aggregates.service import ServiceLedger
    from insightlog.application.ledger import open_ledger

    settings = stores.new()
    args = stores.cli_args(settings)
    rows = harbour_lines()
    extra = [
        _spot_check(f"S-{n:03d}", recorded=f"2026-07-{1 + n // 10:02d}T{10 + n % 10:02d}:00:00Z") for n in range(40)
    ]
    withdrawal = _withdrawal("X-W", "HHC-016", "2026-06-30T09:00:00Z")
    assert _import(args, write_jsonl(tmp_path / "h.jsonl", [*rows, withdrawal, *extra])).exit_code == 0
    ledger = open_ledger(settings)
    try:
        snapshots = ledger.snapshots.get(ServiceLedger.create_id(SERVICE)) if ledger.snapshots else []
        assert list(snapshots), "the service crossed its snapshot interval"
        assert ledger.repository.get(ServiceLedger.create_id(SERVICE)).withdrawn["HHC-016"][0] == "X-W"
    finally:
        ledger.close()
    again = _withdrawal("X-W2", "HHC-016", "2026-07-20T09:00:00Z")
    _refused(
        _import(args, write_jsonl(tmp_path / "again.jsonl", [again])),
        "line 1 (event X-W2): field 'payload.withdraws'",
        "already withdrawn by X-W",
    )


def test_a_service_snapshot_taken_before_interchange_1_1_loads_with_no_withdrawals() -> None:
    from datetime import datetime

    from eventsourcing.utils import get_topic

    from insightlog.aggregates.service import ServiceLedger

    old_state = {"name": SERVICE, "latest_recorded_at": "2026-06-18T16:00:00Z", "entry_count": 70, "themes": {}}
    snapshot = ServiceLedger.Snapshot(
        originator_id=ServiceLedger.create_id(SERVICE),
        originator_version=71,
        timestamp=datetime(2026, 7, 1, tzinfo=UTC),
        topic=get_topic(ServiceLedger),
        state=old_state,
    )
    aggregate = snapshot.mutate(None)
    assert isinstance(aggregate, ServiceLedger)
    assert aggregate.withdrawn == {} and aggregate.entry_count == 70


def test_a_service_restored_from_an_old_snapshot_still_knows_its_registration_was_withdrawn(ledger_factory) -> None:
    from insightlog.aggregates.service import ServiceLedger
    from insightlog.application.references import KeyInfo, ReferenceCheck
    from insightlog.interchange.validation import LineError, validate_object

    ledger = ledger_factory()
    ledger.import_lines([json.dumps(r) for r in harbour_lines()], source_name="h.jsonl")
    ledger.record({**_withdrawal("X-W", "HHC-001", None), "recorded_at": None, "observed_at": None})
    service: ServiceLedger = ledger.repository.get(ServiceLedger.create_id(SERVICE))
    assert service.registrations == ["HHC-001"]
    service.registrations = None  # as restored from a snapshot taken before interchange 1.1
    batch: dict[str, KeyInfo] = {}
    check = ReferenceCheck(ledger._find_key, ledger.entries_newest_first, batch, False, False)
    draft = validate_object({**_spot_check("X-S", recorded="2026-07-20T09:00:00Z")}, 1)
    with pytest.raises(LineError, match="registered in error"):
        check.check(1, draft, service)
