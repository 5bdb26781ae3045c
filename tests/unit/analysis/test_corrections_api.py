"""``corrections``: what a display needs to show withdrawals and replacements, as of an instant."""

from __future__ import annotations

from insightlog.analysis import LEDGER_BASIS, corrections

from .builders import EXAMPLES, History, load_jsonl, ts


def test_the_corrections_example_names_each_withdrawal_its_author_time_and_reason() -> None:
    entries = load_jsonl(EXAMPLES / "harbour_home_care_corrections.jsonl")
    found = corrections(entries)
    assert sorted(found.withdrawals) == ["HHC-030", "HHC-046", "HHC-051", "HHC-063"]
    w = found.withdrawal_of("HHC-051")
    assert w is not None
    assert (w.event_id, w.actor_role, w.actor_id, w.reason) == (
        "HHC-W02",
        "registered_manager",
        "RM-1",
        "wrong care round",
    )
    assert w.recorded_at == ts("2026-07-02T09:10:00Z") and w.service == "Harbour Home Care"
    assert w.position == 72 and w.source == "import:harbour_home_care_corrections.jsonl"
    # Check: the replacement is linked both ways.
    assert found.corrects == {"HHC-051R": "HHC-051"}
    assert found.replaced_by == {"HHC-051": ("HHC-051R",)}
    status = found.status("HHC-051")
    assert status.withdrawn and status.replaced_by == ("HHC-051R",) and status.corrects is None
    replacement = found.status("HHC-051R")
    assert not replacement.withdrawn and replacement.corrects == "HHC-051"
    assert not found.is_withdrawn("HHC-052") and found.status("HHC-052").withdrawal is None
    assert found.registered_in_error == frozenset()


def test_corrections_as_of_an_instant_know_only_what_was_recorded_by_then() -> None:
    entries = load_jsonl(EXAMPLES / "harbour_home_care_corrections.jsonl")
    assert corrections(entries, as_of=ts("2026-06-30T23:59:59Z")).withdrawals == {}
    between = corrections(entries, as_of=ts("2026-07-02T09:12:00Z"))
    assert sorted(between.withdrawals) == ["HHC-046", "HHC-051"]
    assert between.replaced_by == {}  # HHC-051R is recorded at 09:15


def test_a_withdrawn_registration_marks_the_service_registered_in_error() -> None:
    h = History("Oak Hous")
    registration = h.add("ServiceRegistered", "2026-01-01", {"service_type": "x", "scopes": []})
    h.withdraw(registration, "2026-01-02", "typo in the service name")
    assert corrections(h.entries).registered_in_error == frozenset({"Oak Hous"})
    assert corrections(h.entries, as_of=ts("2026-01-01T23:00:00Z")).registered_in_error == frozenset()


def test_corrections_follow_the_analysis_rules_for_what_cannot_be_withdrawn() -> None:
    h = History()
    theme = h.theme("meds")
    item = h.evidence("meds", 2, "2026-01-05", team="north")
    first = h.withdraw(item, "2026-01-06", "first")
    h.withdraw(item, "2026-01-07", "again")
    h.withdraw(theme, "2026-01-08")
    h.withdraw(first, "2026-01-09")
    found = corrections(h.entries)
    assert list(found.withdrawals) == [item.event_id]
    assert found.withdrawals[item.event_id].reason == "first"


def test_corrections_on_the_ledger_basis_count_from_the_append_time() -> None:
    h = History()
    item = h.evidence("meds", 2, "2026-01-05", team="north")
    h.withdraw(item, "2026-01-06")
    h.set_appended("2026-02-01")
    assert corrections(h.entries, as_of=ts("2026-01-31")).withdrawals != {}
    assert corrections(h.entries, as_of=ts("2026-01-31"), basis=LEDGER_BASIS).withdrawals == {}
