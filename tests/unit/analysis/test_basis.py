"""§3.5: the basis supplies every recording instant (knowledge, log order, pattern-detectable
instants, acknowledgement dates, reporting months, late-recorded reviews, trigger days); the theme
tree stays the whole log's; output on another basis names it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from insightlog.analysis import (
    LEDGER_BASIS,
    RECORDED_BASIS,
    AnalysisInputError,
    Basis,
    CheckpointInstants,
    proven_basis,
)
from insightlog.analysis.instants import instant_us

from .builders import EXAMPLES, History, as_of, drift_row, load_jsonl, triggers, ts

IMPORTED = "2026-01-12T10:00:00Z"


def typed_in_later() -> History:
    """A history of late 2025 kept on paper and imported on 2026-01-12 (appended then)."""
    h = History()
    h.theme("meds", recorded="2025-10-01")
    h.theme("meds.mar", parent="meds", recorded="2025-10-01")
    for day in ("2025-11-03", "2025-11-10", "2025-11-17"):
        h.evidence("meds.mar", 2, day, team="north")
    h.set_appended(IMPORTED)
    return h


def test_the_ledger_basis_counts_history_from_the_day_this_store_received_it() -> None:
    h = typed_in_later()
    recorded = h.analyse("2025-12-31")
    ledger_then = h.analyse("2025-12-31", basis=LEDGER_BASIS)
    ledger = h.analyse("2026-01-31", basis=LEDGER_BASIS)
    # Check: on the provider's word the pattern was detectable on 11-17 and T1 fired on 12-01 ...
    assert recorded["recognition"][0]["pattern_detectable_recorded"] == "2025-11-17"
    assert triggers(recorded, "T1")[0][3] == "2025-12-01"
    # ... while the store itself knew nothing until 2026-01-12.
    assert ledger_then["recognition"] == [] and ledger_then["drift"] == []
    row = ledger["recognition"][0]
    assert row["pattern_detectable_recorded"] == "2026-01-12"
    assert row["first_signal_observed"] == "2025-11-03"  # observed_at never changes
    # Check: the pattern-detectable event is the first event appended at P: the import's first line.
    assert row["pattern_detectable"] == h.entries[0].event_id
    assert triggers(ledger, "T1") == [("T1", "meds.mar", None, "2026-01-26", [h.entries[0].event_id])]
    assert [r["month"] for r in ledger["drift"] if r["theme"] == "meds"] == ["2026-01"]


def test_the_basis_is_named_after_the_policy_and_before_the_service() -> None:
    h = typed_in_later()
    ledger = h.analyse("2026-01-31", basis=LEDGER_BASIS)
    assert list(ledger)[:4] == ["definitions_version", "basis", "service", "as_of"]
    assert ledger["basis"] == "ledger"
    assert "basis" not in h.analyse("2026-01-31")
    assert "basis" not in h.analyse("2026-01-31", basis=Basis("recorded"))


def test_acknowledgement_dates_and_lags_are_measured_on_the_basis() -> None:
    h = typed_in_later()
    ack = h.judgement("meds", 2, "2025-12-01")
    h.set_appended("2026-01-20T09:00:00Z", ack)
    recorded = h.analyse("2026-01-31")["recognition"][0]
    ledger = h.analyse("2026-01-31", basis=LEDGER_BASIS)["recognition"][0]
    assert (recorded["ack_recorded"], recorded["detectable_lag_days"]) == ("2025-12-01", 14)
    assert (ledger["ack_recorded"], ledger["detectable_lag_days"]) == ("2026-01-20", 8)
    assert ledger["recognition_lag_days"] == 78


def test_late_recorded_reviews_are_measured_on_the_basis() -> None:
    h = History()
    h.cadence("rm_monthly", 31, "2026-01-01", "2026-01-01")
    review = h.review("rm_monthly", "2026-01-28", "2026-01-28")
    h.set_appended(None)
    h.set_appended("2026-02-20", review)
    assert h.analyse("2026-02-28")["reviews"]["late_recorded"] == []
    late = h.analyse("2026-02-28", basis=LEDGER_BASIS)["reviews"]["late_recorded"]
    assert late == [
        {
            "event_id": review.event_id,
            "level": "rm_monthly",
            "held": "2026-01-28",
            "recorded": "2026-02-20",
            "days_late": 23,
        }
    ]


def test_log_order_on_the_ledger_basis_is_append_order() -> None:
    h = History()
    h.theme("meds", recorded="2026-01-01")
    h.theme("meds.mar", parent="meds", recorded="2026-01-01")
    # A back-fill appended after the live events but recorded (on paper) before them.
    live = [h.evidence("meds.mar", 2, day, team="north") for day in ("2026-02-01", "2026-02-02")]
    paper = h.evidence("meds.mar", 2, "2026-01-20", "2026-01-21", team="north")
    h.set_appended("2026-02-05")
    recorded = h.analyse("2026-02-28")["recognition"][0]
    ledger = h.analyse("2026-02-28", basis=LEDGER_BASIS)["recognition"][0]
    # Check: on the recorded basis the third date arrives with the 02-02 record; on the ledger
    # basis all arrive at once and the pattern-detectable event is the first in append order.
    assert recorded["pattern_detectable"] == live[1].event_id
    assert ledger["pattern_detectable"] == h.entries[0].event_id
    assert ledger["pattern_detectable_recorded"] == "2026-02-05"
    assert paper.event_id == recorded["first_signal"] == ledger["first_signal"]


def test_the_theme_tree_is_the_whole_logs_on_every_basis_with_the_last_definition_by_its_order() -> None:
    h = History()
    # Defined twice: recorded order and append order disagree about which is last.
    h.theme("meds", scope_by="team", recorded="2026-01-05")
    h.theme("meds", scope_by="location", recorded="2026-01-01")
    h.evidence("meds", 2, "2026-01-10", team="north", location="Maple")
    h.set_appended("2026-01-11")
    recorded = h.analyse("2026-01-31")
    ledger = h.analyse("2026-01-31", basis=LEDGER_BASIS)
    assert [r["scope"] for r in recorded["drift"]] == [None, "team:north"]
    assert [r["scope"] for r in ledger["drift"]] == [None, "location:Maple"]
    # Check: the proven basis knows no event here, yet the theme tree is still there.
    proven = h.analyse("2026-01-31", basis=proven_basis({}))
    assert proven["drift"] == [] and proven["basis"] == "proven"
    assert h.analyse("2026-12-31", basis=proven_basis({3: ts("2026-02-01")}))["drift"][0]["theme"] == "meds"


def test_on_the_proven_basis_an_event_no_checkpoint_covers_is_not_known() -> None:
    h = History()
    h.theme("meds.mar", recorded="2026-01-01")
    first = [h.evidence("meds.mar", 2, day, team="north") for day in ("2026-01-05", "2026-01-10")]
    late = h.evidence("meds.mar", 2, "2026-01-15", team="north")
    proven = CheckpointInstants([(3, ts("2026-01-12T00:00:00Z"))])
    document = h.analyse("2026-03-31", basis=proven_basis(proven))
    assert document["recognition"] == []
    assert drift_row(document, "meds.mar", None, "2026-01")["E"] == "2.00"
    assert first[0].position == 2 and late.position == 4 and 4 not in proven
    covered = CheckpointInstants([(3, ts("2026-01-12T00:00:00Z")), (4, ts("2026-01-20T00:00:00Z"))])
    row = h.analyse("2026-03-31", basis=proven_basis(covered))["recognition"][0]
    assert row["pattern_detectable_recorded"] == "2026-01-20"


def test_checkpoint_instants_give_each_position_the_earliest_covering_checkpoint() -> None:
    t1, t2, t3 = ts("2026-01-10"), ts("2026-01-20"), ts("2026-01-05")
    instants = CheckpointInstants([(5, t1), (9, t2), (12, t3), (0, t1)])
    assert [instants.get(p) for p in (1, 5, 6, 9, 10, 12, 13)] == [t3, t3, t3, t3, t3, t3, None]
    instants = CheckpointInstants([(5, t1), (9, t2)])
    assert [instants.get(p) for p in (0, 1, 5, 6, 9, 10)] == [None, t1, t1, t2, t2, None]
    assert len(instants) == 9 and list(instants)[:2] == [1, 2]
    assert len(CheckpointInstants([])) == 0


def test_a_basis_needs_what_it_reads() -> None:
    h = History()
    h.theme("meds")
    with pytest.raises(AnalysisInputError, match="append time"):
        h.analyse("2026-01-31", basis=LEDGER_BASIS)
    with pytest.raises(AnalysisInputError, match="unknown basis"):
        Basis("witnessed")
    with pytest.raises(AnalysisInputError, match="verified checkpoint times"):
        Basis("proven")


def test_a_log_appended_as_it_was_recorded_gives_the_same_answer_on_every_basis() -> None:
    entries = [
        replace(e, appended_at=e.recorded_at) for e in load_jsonl(EXAMPLES / "harbour_home_care_corrections.jsonl")
    ]
    proven = proven_basis({e.position: e.recorded_at for e in entries})
    when = as_of("2026-07-31")
    from insightlog.analysis import analyse

    recorded = analyse(entries, "Harbour Home Care", when, basis=RECORDED_BASIS)
    for basis in (LEDGER_BASIS, proven):
        other = analyse(entries, "Harbour Home Care", when, basis=basis)
        assert other.pop("basis") == basis.name
        assert other == recorded


def test_the_basis_instant_of_an_entry() -> None:
    h = History()
    h.evidence("meds", 2, "2026-01-05", team="north")
    h.set_appended("2026-01-07")
    entry = h.entries[0]
    assert RECORDED_BASIS.instant(entry) == instant_us(ts("2026-01-05"))
    assert LEDGER_BASIS.instant(entry) == instant_us(ts("2026-01-07"))
    assert proven_basis({1: ts("2026-01-09")}).instant(entry) == instant_us(ts("2026-01-09"))
    assert proven_basis({2: ts("2026-01-09")}).instant(entry) is None
