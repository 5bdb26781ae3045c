"""Read models are evidence too (issue 12, item 3): `projections verify` recomputes them from the
events and names every row that differs; readers check the rows' digests before showing them; a
clean store verifies whatever its history (no false alarm)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from insightlog.projections.readmodels import ReadModelMismatchError
from insightlog.projections.verify import verify_read_models
from tests.helpers import ROOT, invoke
from tests.integration.readmodels.conftest import END_OF_JUNE, SERVICE, Clock, harbour_text
from tests.integration.readmodels.test_read_models import Crash

TAXONOMY_CSV = ROOT / "src" / "insightlog" / "taxonomies" / "SAF-2024.csv"


def execute(store: Any, sql: str, **params: Any) -> None:
    """Raw SQL on the store's database, as its owner (who may drop any guard) would run it."""
    with store.models.view.engine.begin() as conn:
        conn.execute(text(sql), params)


def cli(store: Any, *args: str) -> Any:
    where = (
        ["--database-url", store.settings.database_url]
        if store.settings.database_url
        else ["--db", str(store.settings.sqlite_path)]
    )
    return invoke([*where, *args])


@pytest.fixture
def harbour(make_store) -> Any:  # type: ignore[no-untyped-def]
    store = make_store()
    store.ledger.import_lines(harbour_text(), source_name="harbour_home_care.jsonl")
    store.models.catch_up()
    return store


def live(event_id: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "service": SERVICE,
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


# ------------------------------------------------------------------ a clean store verifies


def test_projections_verify_is_clean_after_import_record_and_catch_up(harbour) -> None:  # type: ignore[no-untyped-def]
    harbour.clock.now = END_OF_JUNE + timedelta(hours=2)
    harbour.ledger.record(live("LIVE-1"))
    # Check a store behind the log (one event not yet indexed) verifies: it claims nothing of it.
    behind = verify_read_models(harbour.ledger, harbour.models.view)
    assert behind.ok, [d.text() for d in behind.differences]
    harbour.models.catch_up()
    check = verify_read_models(harbour.ledger, harbour.models.view)
    assert check.ok, [d.text() for d in check.differences]
    assert (check.services, check.events) == (1, 71) and check.rows > 100
    # Check the commands: projections verify, view --verify, verify --all, each exit 0.
    result = cli(harbour, "projections", "verify")
    assert result.exit_code == 0 and result.stdout.startswith("OK: read models verified: 1 service(s)"), result.output
    assert cli(harbour, "view", "--verify", "--json").exit_code == 0
    everything = cli(harbour, "verify", "--all", "--json")
    assert everything.exit_code == 0, everything.output
    doc = json.loads(everything.stdout)
    assert doc["ok"] and doc["read_models"]["ok"] and doc["read_models"]["events"] == 71


def test_a_store_without_read_models_has_nothing_to_verify(stores) -> None:  # type: ignore[no-untyped-def]
    settings = stores.new()
    where = ["--database-url", settings.database_url] if settings.database_url else ["--db", str(settings.sqlite_path)]
    result = invoke([*where, "--read-only", "projections", "verify"])
    assert result.exit_code == 0 and "no read models" in result.stdout


@pytest.mark.parametrize("chunk_size", [7, 20_000])
def test_services_left_dirty_by_a_crash_verify_against_the_entries_they_reflect(
    make_store, monkeypatch, chunk_size: int
) -> None:  # type: ignore[no-untyped-def]
    from insightlog.projections import projection
    from tests.integration.readmodels.test_recompute_once import interleaved

    store = make_store(END_OF_JUNE, chunk_size=chunk_size)
    store.ledger.import_lines(interleaved()[:150], source_name="first.jsonl")
    store.models.catch_up()
    store.ledger.import_lines(interleaved()[150:], source_name="rest.jsonl")
    monkeypatch.setattr(projection, "REFRESH_BATCH", 1)
    seen: list[int] = []

    def crash_on_second_recompute(batch: Any) -> None:
        if batch.services:
            seen.append(1)
            if len(seen) == 2:
                raise Crash

    store.models.view.before_commit = crash_on_second_recompute
    with pytest.raises(Crash):
        store.models.catch_up()
    assert store.models.status().dirty
    check = verify_read_models(store.ledger, store.models.view)
    assert check.ok, [d.text() for d in check.differences]
    assert any("flagged for recompute" in note for note in check.notes)


def test_a_taxonomy_added_after_a_catch_up_does_not_make_a_false_alarm(harbour, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from insightlog.application.taxonomy import add_taxonomy

    csv = TAXONOMY_CSV.read_text(encoding="utf-8")
    add_taxonomy(harbour.ledger, "SAF-2099", csv, origin="saf-2099.csv")
    assert verify_read_models(harbour.ledger, harbour.models.view).ok
    harbour.models.catch_up()
    assert verify_read_models(harbour.ledger, harbour.models.view).ok


def test_a_service_flagged_by_a_new_taxonomy_verifies_against_the_versions_it_was_computed_with(
    make_store, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from insightlog.application.taxonomy import add_taxonomy
    from tests.helpers import write_jsonl
    from tests.integration.readmodels.conftest import harbour_objects
    from tests.integration.readmodels.test_taxonomy_versions import NEW_CSV

    store = make_store()
    objects = harbour_objects()
    objects[0]["payload"]["framework"]["taxonomy_version"] = "SAF-2026 (2 statements)"
    for o in objects:
        if o["kind"] == "ThemeDefined":
            o["payload"]["quality_statements"] = ["N2"]
    store.ledger.import_lines(
        write_jsonl(tmp_path / "h.jsonl", objects).read_text().splitlines(), source_name="h.jsonl"
    )
    store.models.catch_up()
    add_taxonomy(store.ledger, "SAF-2026", NEW_CSV)

    def crash(batch: Any) -> None:
        if batch.services:
            raise Crash

    # Check phase 1 flags the service, and its rows (computed without SAF-2026) verify as such.
    store.models.view.before_commit = crash
    with pytest.raises(Crash):
        store.models.catch_up()
    assert store.models.status().dirty == [SERVICE]
    check = verify_read_models(store.ledger, store.models.view)
    assert check.ok, [d.text() for d in check.differences]
    # Check that claiming it is not dirty is found: the events and SAF-2026 give other rows.
    execute(store, "UPDATE rm_service_status SET dirty = 0")
    texts = [d.text() for d in verify_read_models(store.ledger, store.models.view).differences]
    assert any("key_question: stored None, recomputed 'Well-led'" in t for t in texts), texts
    store.models.view.before_commit = None


OPERATIONS = st.lists(st.sampled_from(["rest", "catch_up", "record", "later", "taxonomy", "crash"]), max_size=7)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    seed=st.integers(0, 10**6),
    services=st.integers(1, 3),
    events=st.integers(12, 90),
    split=st.floats(0.1, 1.0),
    chunk=st.sampled_from([5, 37, 20_000]),
    operations=OPERATIONS,
)
def test_a_clean_store_verifies_whatever_its_history(stores, seed, services, events, split, chunk, operations) -> None:  # type: ignore[no-untyped-def]
    if stores.backend == "postgres" and stores.count >= 6:
        return  # a fresh PostgreSQL database per example: a few suffice next to SQLite's many
    from bench.generate import generate
    from insightlog.application.ledger import open_ledger
    from insightlog.application.taxonomy import add_taxonomy
    from insightlog.projections.readmodels import ReadModels

    lines = list(generate(services, events, seed))
    cut = max(1, int(len(lines) * split))
    settings = stores.new()
    clock = Clock(END_OF_JUNE + timedelta(days=1))
    ledger = open_ledger(settings, clock=clock)
    models = ReadModels(ledger, settings, chunk_size=chunk)
    models.projection.workers = 0
    try:
        ledger.import_lines(lines[:cut], source_name="first.jsonl")
        models.catch_up()
        rest, live_count = lines[cut:], 0
        for op in operations:
            if op == "rest" and rest:
                ledger.import_lines(rest, source_name="rest.jsonl", backfill=True)
                rest = []
            elif op == "catch_up":
                models.catch_up()
            elif op == "record":
                # A live copy of a stored spot check (or of any evidence), an hour later.
                stored = [orjson.loads(line) for line in lines[:cut]]
                sample = next((o for o in stored if o["kind"] == "SpotCheckRecorded"), None)
                if sample is not None:
                    clock.now += timedelta(hours=1)
                    live_count += 1
                    obj = {k: v for k, v in sample.items() if k not in ("recorded_at", "observed_at")}
                    ledger.record({**obj, "event_id": f"LIVE-{seed}-{live_count}"})
            elif op == "later":
                clock.now += timedelta(days=40)
            elif op == "taxonomy":
                add_taxonomy(ledger, "SAF-2099", TAXONOMY_CSV.read_text(encoding="utf-8"), origin="saf-2099.csv")
            elif op == "crash":
                calls: list[int] = []

                def crash(batch: Any, calls: list[int] = calls) -> None:
                    calls.append(1)
                    if len(calls) == 2:
                        raise Crash

                models.view.before_commit = crash
                try:
                    models.catch_up()
                except Crash:
                    pass
                finally:
                    models.view.before_commit = None
        check = verify_read_models(ledger, models.view)
        assert check.ok, [d.text() for d in check.differences]
    finally:
        models.close()
        ledger.close()


# ------------------------------------------------------------------ forged read models are named


def test_a_forged_judgement_score_is_named_and_never_shown(harbour) -> None:  # type: ignore[no-untyped-def]
    row = {r["theme"]: r for r in harbour.models.view.governance_rows(SERVICE)}["safeguarding.referrals"]
    real = row["judgement"]["score"]
    execute(
        harbour,
        "UPDATE rm_governance SET judgement_score = 4 WHERE service = :s AND theme = 'safeguarding.referrals'",
        s=SERVICE,
    )
    ordinal = next(
        i for i, r in enumerate(harbour.models.view.governance_rows(SERVICE)) if r["theme"] == "safeguarding.referrals"
    )
    check = verify_read_models(harbour.ledger, harbour.models.view)
    assert not check.ok and check.total == 1
    difference = check.differences[0]
    assert (difference.table, dict(difference.key), difference.column) == (
        "rm_governance",
        {"service": SERVICE, "ordinal": ordinal},
        "judgement_score",
    )
    assert (difference.stored, difference.recomputed) == (4, real)
    expected = f"rm_governance (service '{SERVICE}', ordinal {ordinal}) judgement_score: stored 4, recomputed {real}"
    # Check every command: projections verify and verify --all name it; view refuses to show it.
    result = cli(harbour, "projections", "verify")
    assert result.exit_code == 1 and expected in result.stdout
    everything = cli(harbour, "verify", "--all")
    assert everything.exit_code == 1 and expected in everything.stdout and "OK: 70 events verified" in everything.stdout
    # (The CLI's clock is today's: a writable store would first refresh the service, computed on
    # another day, from the events; auditors read as the rows stand.)
    for args in (["view"], ["view", "--service", SERVICE, "--json"], ["view", "--verify"]):
        shown = cli(harbour, "--read-only", *args)
        assert shown.exit_code == 1, (args, shown.output)
        assert shown.stdout == "" and expected in shown.stderr and "Traceback" not in shown.output
    with pytest.raises(ReadModelMismatchError, match="judgement_score: stored 4"):
        harbour.models.governance(SERVICE)  # a writer's view on the store's own clock: nothing to refresh
    # Check computing from the events is still possible, and a rebuild mends the read models.
    assert cli(harbour, "view", "--as-of", "2026-06-30T23:59:59Z").exit_code == 0
    assert cli(harbour, "projections", "rebuild").exit_code == 0
    assert cli(harbour, "projections", "verify").exit_code == 0


def test_a_forgery_that_rewrites_the_digests_too_passes_the_cheap_check_but_not_the_recomputation(harbour) -> None:  # type: ignore[no-untyped-def]
    from insightlog.projections import tables
    from insightlog.projections.rows import service_digests, status_values

    execute(
        harbour,
        "UPDATE rm_governance SET judgement_score = 4 WHERE service = :s AND theme = 'safeguarding.referrals'",
        s=SERVICE,
    )
    # The forger recomputes the digests (the algorithm is public) and stores them.
    with harbour.models.view.snapshot() as snap:
        status = snap.statuses([SERVICE])[SERVICE]
        rows = {str(t.name): snap.rows(t, SERVICE) for t in tables.PER_SERVICE}
    execute(
        harbour,
        "UPDATE rm_service_status SET digests = :d WHERE service = :s",
        d=service_digests(rows, status_values(status)),
        s=SERVICE,
    )
    # Check the digest check passes (the documented limit) while the note says it did not recompute.
    cheap = cli(harbour, "--read-only", "view", "--json")
    assert cheap.exit_code == 0 and "not recomputed from the events" in cheap.stderr
    # Check the recomputation names the forged row, in every command that recomputes.
    for args in (
        ["--read-only", "view", "--verify"],
        ["--read-only", "projections", "verify"],
        ["--read-only", "verify", "--all"],
    ):
        result = cli(harbour, *args)
        assert result.exit_code == 1 and "judgement_score: stored 4" in result.output, (args, result.output)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "DELETE FROM rm_recognition WHERE service = :s AND ordinal = 0",
            "rm_recognition row (service '{s}', ordinal 0) is missing",
        ),
        (
            "UPDATE rm_drift SET e = '0.99' WHERE service = :s AND ordinal = 3",
            "rm_drift (service '{s}', ordinal 3) e: stored '0.99'",
        ),
        (
            "INSERT INTO rm_triggers (service, ordinal, trigger, theme, scope, fired_on, events) "
            "VALUES (:s, 999, 'T1', NULL, NULL, '2026-06-01', '[]')",
            "rm_triggers row (service '{s}', ordinal 999) is not given by the events",
        ),
        ("UPDATE rm_events SET kind = 'Forged' WHERE position = 46", "rm_events (position 46) kind: stored 'Forged'"),
        ("DELETE FROM rm_events WHERE position = 46", "rm_events row (position 46) is missing"),
        (
            "UPDATE rm_tracking SET entry_position = 60",
            "rm_tracking (projection 'governance') entry_position: stored 60, recomputed 70",
        ),
        (
            "UPDATE rm_service_status SET as_of = '2016-01-01T00:00:00Z'",
            "rm_service_status (service '{s}') as_of: stored '2016-01-01T00:00:00Z'",
        ),
        (
            "UPDATE rm_service_status SET as_of = '2099-01-01T00:00:00Z'",
            "as_of: stored '2099-01-01T00:00:00Z', recomputed 'at most",
        ),
        ("UPDATE rm_service_status SET as_of = 'yesterday'", "as_of: stored 'yesterday', recomputed 'an instant"),
        (
            "UPDATE rm_service_status SET events = 3",
            "rm_service_status (service '{s}') events: stored 3, recomputed 70",
        ),
        # Claiming the rows reflect only the first 40 entries: they are not what those give.
        (
            "UPDATE rm_service_status SET dirty = 1, last_entry_position = 40",
            "rm_governance (service '{s}', ordinal 0) judgement_event_id: stored",
        ),
        ("DELETE FROM rm_service_status", "rm_service_status row (service '{s}') is missing"),
        ("UPDATE rm_service_status SET digests = NULL", "rm_service_status (service '{s}') digests: stored None"),
        (
            "INSERT INTO rm_overdue_reviews (service, ordinal, level, due_by, held, days_overdue) "
            "VALUES ('Ghost', 0, 'monthly', '2026-01-01', NULL, 3)",
            "rm_overdue_reviews row (service 'Ghost', ordinal 0) is not given by the events",
        ),
    ],
)
def test_each_kind_of_edit_of_the_read_models_is_named(harbour, sql: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    execute(harbour, sql, s=SERVICE)
    check = verify_read_models(harbour.ledger, harbour.models.view)
    assert not check.ok
    texts = [d.text() for d in check.differences]
    assert any(expected.format(s=SERVICE) in t for t in texts), texts


def test_a_forged_status_row_stops_projections_status(harbour) -> None:  # type: ignore[no-untyped-def]
    execute(harbour, "UPDATE rm_service_status SET events = 3 WHERE service = :s", s=SERVICE)
    result = cli(harbour, "--read-only", "projections", "status")
    assert result.exit_code == 1 and "events: stored 3, recomputed 70" in result.output
    clean = cli(harbour, "projections", "rebuild")
    assert clean.exit_code == 0
    status = cli(harbour, "--read-only", "projections", "status", "--json")
    assert status.exit_code == 0 and json.loads(status.stdout)["checked"] == "digests"
