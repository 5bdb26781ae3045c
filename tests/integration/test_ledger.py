"""The ledger on SQLite and PostgreSQL: import, export round trips, live recording, history."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insightlog.application.ledger import read_file_lines, write_export
from insightlog.errors import LedgerError, ServiceNotFoundError
from insightlog.interchange.validation import LineError
from tests.helpers import HARBOUR, harbour_lines, invoke, write_jsonl


def export_bytes(ledger, **kwargs) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    write_export(ledger, buf, **kwargs)
    return buf.getvalue()


def test_export_of_an_imported_export_is_byte_identical(ledger_factory, tmp_path: Path) -> None:
    first = ledger_factory()
    first.import_lines(read_file_lines(HARBOUR), source_name=HARBOUR.name)
    exported = export_bytes(first)
    (tmp_path / "export.jsonl").write_bytes(exported)
    second = ledger_factory()
    result = second.import_lines(read_file_lines(tmp_path / "export.jsonl"), source_name="export.jsonl")
    assert len(result.receipts) == 70
    assert export_bytes(second) == exported
    # Check the export is the worked example, field for field, in log order.
    assert [json.loads(line) for line in exported.splitlines()] == harbour_lines()


def test_positions_are_dense_store_wide_and_in_append_order(ledger_factory, tmp_path: Path) -> None:
    ledger = ledger_factory()
    rows = harbour_lines()
    other = [dict(r, service="Second Home", event_id=r["event_id"].replace("HHC", "SH")) for r in rows[:9]]
    ledger.import_lines(read_file_lines(write_jsonl(tmp_path / "a.jsonl", rows[:20])), source_name="a.jsonl")
    ledger.import_lines(read_file_lines(write_jsonl(tmp_path / "b.jsonl", other)), source_name="b.jsonl")
    ledger.import_lines(read_file_lines(write_jsonl(tmp_path / "c.jsonl", rows[20:])), source_name="c.jsonl")
    positions = [e.position for e in ledger.all_entries()]
    assert positions == list(range(1, 80))
    assert ledger.services() == ["Harbour Home Care", "Second Home"]
    assert [e.event_id for e in ledger.service_entries("Second Home")] == [r["event_id"] for r in other]
    assert ledger.head_size() == 79


def test_export_of_one_service_holds_only_that_service(ledger_factory, tmp_path: Path) -> None:
    ledger = ledger_factory()
    rows = harbour_lines()
    other = [dict(r, service="Second Home", event_id=r["event_id"].replace("HHC", "SH")) for r in rows[:9]]
    ledger.import_lines(read_file_lines(write_jsonl(tmp_path / "a.jsonl", rows + other[:0])), source_name="a.jsonl")
    ledger.import_lines(read_file_lines(write_jsonl(tmp_path / "b.jsonl", other)), source_name="b.jsonl")
    lines = export_bytes(ledger, service="Second Home").splitlines()
    assert [json.loads(x)["service"] for x in lines] == ["Second Home"] * 9


def test_an_unknown_service_is_a_clear_error(ledger_factory) -> None:
    ledger = ledger_factory()
    with pytest.raises(ServiceNotFoundError, match="no events of service 'Nowhere'"):
        list(ledger.service_entries("Nowhere"))


def test_provenance_marks_imported_history_with_file_and_import_time(ledger_factory) -> None:
    clock = lambda: datetime(2026, 7, 1, 8, 30, 15, 999, tzinfo=UTC)  # noqa: E731
    ledger = ledger_factory(clock=clock)
    receipts = ledger.import_lines(read_file_lines(HARBOUR), source_name=HARBOUR.name).receipts
    lines = export_bytes(ledger, with_provenance=True).splitlines()
    first = json.loads(lines[0])
    leaf = first["ledger"].pop("leaf_hash")
    assert first["ledger"] == {
        "position": 1,
        "appended_at": "2026-07-01T08:30:15Z",
        "source": "import:harbour_home_care.jsonl",
    }
    # Check the leaf hash is the one the import's receipt committed.
    assert leaf == receipts[0].leaf_hash and len(leaf) == 64
    assert first["recorded_at"] == "2026-01-02T09:00:00Z"


# --- live recording -----------------------------------------------------------------------

SPOT = {
    "service": "Harbour Home Care",
    "theme": "medicines.mar_charts",
    "team": "north",
    "kind": "SpotCheckRecorded",
    "actor_role": "deputy_manager",
    "actor_id": "DM-1",
    "payload": {
        "evidence_score": 2,
        "evidence_category": "observation",
        "source_type": "spot_check",
        "summary": "2 of 5 unsigned",
    },
}


@freeze_time("2026-07-02 14:05:33.250")
def test_live_recording_stamps_recorded_at_with_the_frozen_clock(ledger_factory) -> None:
    ledger = ledger_factory()
    result = ledger.record(dict(SPOT, event_id="LIVE-1"))
    (receipt,) = result.receipts
    assert receipt.source == "live" and receipt.position == 1
    entry = ledger.find_entry("LIVE-1")
    assert entry is not None
    assert entry.recorded_at == datetime(2026, 7, 2, 14, 5, 33, tzinfo=UTC)
    assert entry.observed_at == entry.recorded_at  # observed_at defaults to now
    assert entry.appended_at == entry.recorded_at
    assert not entry.is_imported


@freeze_time("2026-07-02 14:05:33")
def test_live_recording_accepts_an_earlier_observed_time(ledger_factory) -> None:
    ledger = ledger_factory()
    ledger.record(dict(SPOT, event_id="LIVE-2", observed_at="2026-06-30T09:00:00Z"))
    entry = ledger.find_entry("LIVE-2")
    assert entry is not None and entry.observed_at == datetime(2026, 6, 30, 9, tzinfo=UTC)


@freeze_time("2026-07-02 14:05:33")
def test_live_recording_refuses_an_observed_time_in_the_future(ledger_factory) -> None:
    ledger = ledger_factory()
    with pytest.raises(LineError, match="field 'observed_at': is later than recorded_at"):
        ledger.record(dict(SPOT, event_id="LIVE-3", observed_at="2026-07-02T14:05:34Z"))
    assert ledger.head_size() == 0


def test_live_recording_refuses_a_caller_supplied_recorded_time(ledger_factory) -> None:
    ledger = ledger_factory()
    with pytest.raises(LineError, match="field 'recorded_at': is stamped by the ledger"):
        ledger.record(dict(SPOT, event_id="LIVE-4", recorded_at="2026-01-01T00:00:00Z"))


def test_live_recording_keeps_the_service_in_recorded_order(ledger_factory) -> None:
    times = iter([datetime(2026, 7, 2, 10, tzinfo=UTC), datetime(2026, 7, 2, 9, tzinfo=UTC)])
    ledger = ledger_factory(clock=lambda: next(times))
    ledger.record(dict(SPOT, event_id="LIVE-5"))
    with pytest.raises(LineError, match="earlier than the latest recorded_at"):
        ledger.record(dict(SPOT, event_id="LIVE-6"))


def register_s_with_theme_t(args: list[str], tmp_path: Path) -> None:
    """Service S registered and theme t defined: a live record may name only what is known."""
    setup = [
        {
            "event_id": "S-REG",
            "service": "S",
            "kind": "ServiceRegistered",
            "actor_role": "registered_manager",
            "actor_id": "RM-1",
            "observed_at": "2026-01-02T09:00:00Z",
            "recorded_at": "2026-01-02T09:00:00Z",
            "payload": {
                "framework": {"name": "CQC", "taxonomy_version": "SAF-2024"},
                "service_type": "care home",
                "scopes": [],
            },
        },
        {
            "event_id": "S-T",
            "service": "S",
            "theme": "t",
            "kind": "ThemeDefined",
            "actor_role": "registered_manager",
            "actor_id": "RM-1",
            "observed_at": "2026-01-02T09:01:00Z",
            "recorded_at": "2026-01-02T09:01:00Z",
            "payload": {"theme": "t", "parent": None, "scope_by": "team", "label": "T", "quality_statements": []},
        },
    ]
    assert invoke([*args, "import", str(write_jsonl(tmp_path / "setup.jsonl", setup))]).exit_code == 0


def test_cli_record_prints_the_new_id_and_json_shows_the_stored_event(stores, tmp_path: Path) -> None:
    args = stores.cli_args(stores.new())
    register_s_with_theme_t(args, tmp_path)
    plain = invoke(
        [
            *args,
            "record",
            "SpotCheckRecorded",
            "--service",
            "S",
            "--theme",
            "t",
            "--actor-role",
            "deputy_manager",
            "--actor-id",
            "DM-1",
            "--payload",
            json.dumps(SPOT["payload"]),
        ]
    )
    assert plain.exit_code == 0, plain.output
    assert plain.stdout.startswith("il-")
    as_json = invoke(
        [
            *args,
            "record",
            "SpotCheckRecorded",
            "--service",
            "S",
            "--theme",
            "t",
            "--actor-role",
            "deputy_manager",
            "--actor-id",
            "DM-1",
            "--event-id",
            "MINE-1",
            "--payload",
            "-",
            "--json",
        ],
        input=json.dumps(SPOT["payload"]),
    )
    assert as_json.exit_code == 0, as_json.output
    stored = json.loads(as_json.stdout)
    assert stored["event_id"] == "MINE-1" and stored["ledger"]["position"] == 4 and stored["ledger"]["source"] == "live"
    assert len(stored["ledger"]["leaf_hash"]) == 64  # the receipt: its leaf in the verifiable log


def test_cli_record_refuses_a_future_observed_time_with_a_one_line_error(stores, tmp_path: Path) -> None:
    args = stores.cli_args(stores.new())
    register_s_with_theme_t(args, tmp_path)
    before = invoke([*args, "export"]).stdout
    future = (datetime.now(tz=UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = invoke(
        [
            *args,
            "record",
            "SpotCheckRecorded",
            "--service",
            "S",
            "--theme",
            "t",
            "--actor-role",
            "deputy_manager",
            "--actor-id",
            "DM-1",
            "--observed-at",
            future,
            "--payload",
            json.dumps(SPOT["payload"]),
        ]
    )
    assert result.exit_code == 1
    assert "record SpotCheckRecorded: --observed-at: is later than recorded_at; nothing written" in result.output
    assert result.output.count("\n") == 1
    assert invoke([*args, "export"]).stdout == before


# --- history -----------------------------------------------------------------------------


def test_history_as_of_hides_what_was_recorded_later_and_shows_changes(stores) -> None:
    args = stores.cli_args(stores.new())
    invoke([*args, "import", str(HARBOUR)])
    rows = json.loads(
        invoke([*args, "history", "--service", "Harbour Home Care", "--as-of", "2026-02-13", "--json"]).stdout
    )
    ids = [r["event_id"] for r in rows]
    assert "HHC-030" in ids and "HHC-051" not in ids and "HHC-032" not in ids
    amendment = next(r for r in rows if r["event_id"] == "HHC-030")
    assert "amends HHC-026" in amendment["change"] and "evidence_score: 3 -> 2" in amendment["change"]
    full = json.loads(invoke([*args, "history", "--service", "Harbour Home Care", "--json"]).stdout)
    paper = next(r for r in full if r["event_id"] == "HHC-051")
    assert paper["observed_at"] == "2026-01-07T10:00:00Z" and paper["recorded_at"].startswith("2026-04-08")
    assert any("late entry" in f for f in paper["flags"])
    judgement = next(r for r in full if r["event_id"] == "HHC-029")
    assert "superseded by HHC-045" in judgement["flags"]


def test_history_of_a_theme_includes_sub_themes_and_their_amendments(stores) -> None:
    args = stores.cli_args(stores.new())
    invoke([*args, "import", str(HARBOUR)])
    rows = json.loads(
        invoke([*args, "history", "--service", "Harbour Home Care", "--theme", "medicines", "--json"]).stdout
    )
    themes = {r["theme"] for r in rows}
    assert themes <= {"medicines", "medicines.mar_charts", "medicines.time_critical", None}
    assert "HHC-030" in {r["event_id"] for r in rows}
    assert "HHC-017" not in {r["event_id"] for r in rows}


def test_history_of_an_unknown_service_fails_plainly(stores) -> None:
    args = stores.cli_args(stores.new())
    result = invoke([*args, "history", "--service", "Nowhere"])
    assert result.exit_code == 1 and "no events of service 'Nowhere'" in result.output


# --- round trip of random valid histories -------------------------------------------------

_kinds = st.sampled_from(["IncidentRecorded", "ComplaintReceived", "SpotCheckRecorded", "FeedbackReceived"])
# Free text: any character but the control characters other than tab, LF and CR (docs/spec-notes.md).
_CONTROLS = "".join(chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)])
_free_text = st.characters(codec="utf-8", exclude_characters=_CONTROLS)


@st.composite
def histories(draw: st.DrawFn) -> list[dict]:
    n = draw(st.integers(min_value=1, max_value=25))
    t = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(n):
        t += timedelta(seconds=draw(st.integers(min_value=0, max_value=5 * 86400)))
        observed = t - timedelta(seconds=draw(st.integers(min_value=0, max_value=40 * 86400)))
        service = draw(st.sampled_from(["Alpha", "Beta Care", "Ω home"]))
        extra = draw(
            st.dictionaries(
                st.text("abcxyz_", min_size=1, max_size=5),
                st.one_of(
                    st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1), st.text(_free_text, max_size=8), st.none()
                ),
                max_size=2,
            )
        )
        payload = {
            "evidence_score": draw(st.integers(min_value=1, max_value=4)),
            "evidence_category": draw(st.sampled_from(["observation", "outcomes", "people_experience"])),
            "source_type": "spot_check",
            "summary": draw(st.text(_free_text, max_size=20)),
        }
        payload.update({k: v for k, v in extra.items() if k not in payload})
        rows.append(
            {
                "event_id": f"E-{i}",
                "service": service,
                "theme": draw(st.sampled_from(["a", "a.b", "c"])),
                "location": None,
                "team": draw(st.sampled_from([None, "north", "south"])),
                "shift": None,
                "kind": draw(_kinds),
                "actor_role": "quality_lead",
                "actor_id": "Q-1",
                "record": draw(st.sampled_from([None, "log"])),
                "observed_at": observed.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "recorded_at": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "payload": payload,
            }
        )
    return rows


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=histories())
def test_random_valid_histories_round_trip_byte_for_byte(tmp_path_factory, rows: list[dict]) -> None:
    from insightlog.application.ledger import open_ledger
    from insightlog.storage.settings import StoreSettings

    d = tmp_path_factory.mktemp("rt")
    src = write_jsonl(d / "in.jsonl", rows)
    a = open_ledger(StoreSettings(sqlite_path=str(d / "a.sqlite")))
    b = open_ledger(StoreSettings(sqlite_path=str(d / "b.sqlite")))
    try:
        a.import_lines(read_file_lines(src), source_name="in.jsonl")
        first = export_bytes(a)
        (d / "out.jsonl").write_bytes(first)
        b.import_lines(read_file_lines(d / "out.jsonl"), source_name="out.jsonl")
        assert export_bytes(b) == first
        assert [json.loads(x) for x in first.splitlines()] == rows
    finally:
        a.close()
        b.close()


def test_round_trip_of_the_worked_example_through_the_cli(stores, tmp_path: Path) -> None:
    a = stores.cli_args(stores.new())
    b = stores.cli_args(stores.new())
    invoke([*a, "import", str(HARBOUR)])
    assert invoke([*a, "export", "-o", str(tmp_path / "one.jsonl")]).exit_code == 0
    invoke([*b, "import", str(tmp_path / "one.jsonl")])
    assert invoke([*b, "export", "-o", str(tmp_path / "two.jsonl")]).exit_code == 0
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()


def test_conflicting_writers_are_retried_then_reported(ledger_factory, monkeypatch) -> None:
    from eventsourcing.persistence import IntegrityError

    from insightlog.application.ledger import MAX_ATTEMPTS, Ledger
    from insightlog.errors import ConflictError

    ledger = ledger_factory()
    calls = {"n": 0}

    def always_conflict(self, drafts, *, source, backfill, appended_at, live=None):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        raise IntegrityError("simulated conflict")

    monkeypatch.setattr(Ledger, "_append_once", always_conflict)
    monkeypatch.setattr("insightlog.application.ledger.time.sleep", lambda _seconds: None)
    with pytest.raises(ConflictError, match=f"gave up after {MAX_ATTEMPTS} attempts"):
        ledger.record(dict(SPOT, event_id="C-1"))
    assert calls["n"] == MAX_ATTEMPTS
    assert isinstance(ConflictError("x"), LedgerError)
