"""§12: improvement status per leaf and evaluation date."""

from __future__ import annotations

from .builders import History


def calls_history() -> History:
    h = History()
    h.theme("calls")
    return h


def test_statuses_follow_the_windows_up_to_each_evaluation_date() -> None:
    h = calls_history()
    h.evidence("calls", 3, "2026-01-10", team="north")
    h.evidence("calls", 2, "2026-02-10", team="north")
    for day in ("2026-03-10", "2026-04-10", "2026-05-10"):
        h.evidence("calls", 3, day, team="north")
    status = h.analyse("2026-06-15")["improvement_status"]
    assert status == {
        "calls": {
            "2026-01-31": "no_adverse_signal_yet",
            "2026-02-28": "not_improving",
            "2026-03-31": "early",
            "2026-04-30": "early",
            "2026-05-31": "embedded",
            "2026-06-15": "insufficient_evidence",
        }
    }


def test_window_boundaries_are_thirty_and_ninety_days_inclusive() -> None:
    h = calls_history()
    h.evidence("calls", 2, "2026-01-01", team="north")
    # Check: 01-30 is day 30 up to 01-30; 03-31 is day 90 up to 03-31 (2026-01-01 + 89).
    status = h.analyse("2026-04-30")["improvement_status"]["calls"]
    assert status["2026-01-31"] == "early"
    assert status["2026-03-31"] == "early"
    assert status["2026-04-30"] == "insufficient_evidence"
    assert h.analyse("2026-01-30")["improvement_status"]["calls"] == {"2026-01-30": "not_improving"}


def test_items_are_counted_not_dates_for_embedded() -> None:
    h = calls_history()
    h.evidence("calls", 1, "2026-01-02", team="north")
    for _ in range(3):
        h.evidence("calls", 4, "2026-05-01", team="north")
    assert h.analyse("2026-05-31")["improvement_status"]["calls"]["2026-05-31"] == "embedded"


def test_each_evaluation_date_uses_what_was_known_then() -> None:
    h = calls_history()
    h.evidence("calls", 2, "2026-01-02", team="north")
    for day in ("2026-04-10", "2026-04-20", "2026-05-05"):
        h.evidence("calls", 3, day, team="north")
    h.evidence("calls", 2, "2026-05-20", "2026-06-10", team="north")
    status = h.analyse("2026-06-15")["improvement_status"]["calls"]
    assert status["2026-05-31"] == "embedded"
    assert status["2026-06-15"] == "not_improving"


def test_only_leaves_with_an_adverse_signal_known_at_as_of_are_listed() -> None:
    h = History()
    h.theme("root")
    h.theme("root.a", parent="root")
    h.theme("root.b", parent="root")
    h.evidence("root.a", 3, "2026-01-10", team="north")
    h.evidence("root", 1, "2026-01-10", team="north")
    h.evidence("root.b", 2, "2026-01-10", "2026-02-02", team="north")
    assert h.analyse("2026-01-31")["improvement_status"] == {}
    assert list(h.analyse("2026-02-02")["improvement_status"]) == ["root.b"]
