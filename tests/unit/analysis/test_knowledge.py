"""§1–§5: log order, knowledge at an instant, effective payloads, taxonomy and scopes."""

from __future__ import annotations

from .builders import History, drift_row


def mar_history() -> History:
    h = History()
    h.theme("meds")
    h.theme("meds.mar", parent="meds")
    return h


def test_amendment_takes_effect_from_its_own_recording() -> None:
    h = mar_history()
    section = h.evidence("meds.mar", 3, "2026-02-09", "2026-02-10", team="south")
    h.amend(section, "2026-02-13T15:00:00Z", evidence_score=2)
    # Check: not adverse the day before the amendment, adverse from its recording on.
    assert h.analyse("2026-02-12")["isolated_themes"] == []
    assert h.analyse("2026-02-13T14:59:59Z")["isolated_themes"] == []
    assert h.analyse("2026-02-13T15:00:00Z")["isolated_themes"] == ["meds.mar"]
    assert h.analyse("2026-02-13")["improvement_status"] == {
        "meds.mar": {"2026-01-31": "no_adverse_signal_yet", "2026-02-13": "not_improving"}
    }


def test_later_amendments_win_for_the_same_field() -> None:
    h = mar_history()
    item = h.evidence("meds.mar", 3, "2026-01-05", team="north")
    h.amend(item, "2026-01-06", evidence_score=1)
    h.amend(item, "2026-01-07", evidence_score=4, summary="rechecked")
    assert drift_row(h.analyse("2026-01-06"), "meds.mar", None, "2026-01")["E"] == "1.00"
    assert drift_row(h.analyse("2026-01-31"), "meds.mar", None, "2026-01")["E"] == "4.00"


def test_amendment_naming_a_judgement_has_no_effect() -> None:
    h = mar_history()
    judgement = h.judgement("meds", 3, "2026-01-05")
    h.add("EvidenceAmended", "2026-01-06", {"amends": judgement.event_id, "changes": {"score": 1}})
    assert drift_row(h.analyse("2026-01-31"), "meds", None, "2026-01")["J"] == 3


def test_late_paper_record_is_invisible_until_recorded() -> None:
    h = mar_history()
    h.evidence("meds.mar", 4, "2026-01-10", team="north")
    h.evidence("meds.mar", 2, "2026-01-07", "2026-04-08", team="east")
    assert drift_row(h.analyse("2026-03-31"), "meds.mar", None, "2026-01")["E"] == "4.00"
    assert drift_row(h.analyse("2026-04-30"), "meds.mar", None, "2026-01")["E"] == "3.00"


def test_reporting_months_start_at_the_first_recording_not_the_first_observation() -> None:
    h = History()
    h.theme("calls", recorded="2026-01-05")
    h.evidence("calls", 2, "2025-11-20", "2026-01-05", team="north")
    document = h.analyse("2026-02-10")
    assert [r["month"] for r in document["drift"] if r["scope"] is None] == ["2026-01", "2026-02"]
    # Check: evidence observed before the first month still counts where rules reach back.
    assert document["isolated_themes"] == ["calls"]


def test_no_event_known_at_as_of_gives_no_months() -> None:
    h = mar_history()
    h.evidence("meds.mar", 2, "2026-02-01", team="north")
    document = h.analyse("2025-12-31")
    assert document["drift"] == [] and document["improvement_status"] == {}


def test_headline_audit_figures_are_not_evidence() -> None:
    h = mar_history()
    h.headline("meds", 1, "AUD-1", "2026-01-10", team="north")
    h.headline("meds.mar", 1, "AUD-2", "2026-01-11", team="north")
    document = h.analyse("2026-01-31")
    assert drift_row(document, "meds", None, "2026-01")["E"] is None
    assert drift_row(document, "meds.mar", None, "2026-01")["E"] is None
    assert document["isolated_themes"] == [] and document["improvement_status"] == {}


def test_taxonomy_comes_from_the_whole_log_regardless_of_as_of() -> None:
    h = History()
    h.theme("calls", scope_by="team", recorded="2026-01-01")
    h.evidence("calls", 2, "2026-01-10", team="north", location="Maple")
    h.theme("calls", scope_by="location", recorded="2026-05-01")
    h.theme("late", recorded="2026-05-02")
    document = h.analyse("2026-01-31")
    keys = [(r["theme"], r["scope"]) for r in document["drift"]]
    # Check: the last definition (scope_by location) applies even before it was recorded.
    assert keys == [("calls", None), ("calls", "location:Maple"), ("late", None)]


def test_equal_recording_instants_are_ordered_by_store_position() -> None:
    h = mar_history()
    first = h.judgement("meds", 2, "2026-01-05T10:00:00Z")
    second = h.judgement("meds", 4, "2026-01-05T10:00:00Z")
    for entries in (h.entries, list(reversed(h.entries))):
        h.entries = entries
        row = drift_row(h.analyse("2026-01-31"), "meds", None, "2026-01")
        assert (row["J"], row["J_event"]) == (4, second.event_id) != (2, first.event_id)


def test_events_of_other_services_are_ignored() -> None:
    h = mar_history()
    h.evidence("meds.mar", 4, "2026-01-10", team="north")
    h.add(
        "SpotCheckRecorded",
        "2026-01-11",
        {"evidence_score": 1, "evidence_category": "processes", "source_type": "x"},
        theme="meds.mar",
        team="north",
        service="Elsewhere",
    )
    assert drift_row(h.analyse("2026-01-31"), "meds.mar", None, "2026-01")["E"] == "4.00"


def test_scope_comes_from_the_events_own_theme() -> None:
    h = History()
    h.theme("root", scope_by="location")
    h.theme("root.leaf", parent="root", scope_by="shift")
    h.evidence("root.leaf", 3, "2026-01-10", team="north", location="Maple", shift="night")
    h.evidence("root.leaf", 2, "2026-01-11", shift="")
    document = h.analyse("2026-01-31")
    keys = [(r["theme"], r["scope"]) for r in document["drift"]]
    assert keys == [("root", None), ("root.leaf", None), ("root.leaf", "shift:night")]
    # Check: the empty shift is unscoped, so the parent's E balances shift:night and _service.
    assert drift_row(document, "root", None, "2026-01")["E"] == "2.50"


def test_evidence_on_an_undefined_theme_takes_part_in_no_drift() -> None:
    h = mar_history()
    h.evidence("meds.unknown", 1, "2026-01-10", team="north")
    document = h.analyse("2026-01-31")
    assert drift_row(document, "meds", None, "2026-01")["E"] is None
    assert {r["theme"] for r in document["drift"]} == {"meds", "meds.mar"}
