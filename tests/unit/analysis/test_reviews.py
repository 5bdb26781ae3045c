"""§13: review cadence, overdue episodes and late-recorded reviews."""

from __future__ import annotations

from .builders import History


def rm_history() -> History:
    h = History()
    h.cadence("rm_monthly", 31, "2026-01-01", "2026-01-01")
    h.review("rm_monthly", "2026-01-28")
    h.review("rm_monthly", "2026-02-25")
    h.review("rm_monthly", "2026-03-26", "2026-04-09")
    return h


def test_late_recorded_review_is_open_overdue_until_it_is_recorded() -> None:
    h = rm_history()
    assert h.analyse("2026-03-31")["reviews"] == {
        "overdue": [{"level": "rm_monthly", "due_by": "2026-03-28", "held": None, "days_overdue": 3}],
        "late_recorded": [],
    }
    later = h.analyse("2026-04-26")["reviews"]
    assert later["overdue"] == []
    assert later["late_recorded"] == [
        {
            "event_id": "E004",
            "level": "rm_monthly",
            "held": "2026-03-26",
            "recorded": "2026-04-09",
            "days_late": 14,
        }
    ]


def test_review_recorded_seven_days_after_it_was_held_is_not_late() -> None:
    h = History()
    h.cadence("rm_monthly", 31, "2026-01-01", "2026-01-01")
    h.review("rm_monthly", "2026-01-20", "2026-01-27")
    h.review("rm_monthly", "2026-01-21", "2026-01-29")
    late = h.analyse("2026-01-31")["reviews"]["late_recorded"]
    assert [(row["event_id"], row["days_late"]) for row in late] == [("E003", 8)]


def test_a_review_held_after_its_due_date_closes_an_overdue_episode() -> None:
    h = History()
    h.cadence("senior_quarterly", 92, "2026-01-01", "2026-01-01")
    h.cadence("rm_monthly", 31, "2026-01-01", "2026-01-01")
    h.review("senior_quarterly", "2026-04-17")
    h.review("rm_monthly", "2026-01-30")
    reviews = h.analyse("2026-04-30")["reviews"]
    assert reviews["overdue"] == [
        {"level": "rm_monthly", "due_by": "2026-03-02", "held": None, "days_overdue": 59},
        {
            "level": "senior_quarterly",
            "due_by": "2026-04-03",
            "held": "2026-04-17",
            "days_overdue": 14,
        },
    ]


def test_reviews_are_walked_in_held_order_and_early_reviews_reset_the_clock() -> None:
    h = History()
    h.cadence("rm_monthly", 31, "2026-01-01", "2026-01-01")
    h.review("rm_monthly", "2026-02-20")
    h.review("rm_monthly", "2026-01-05", "2026-02-21")
    reviews = h.analyse("2026-03-20")["reviews"]
    # Check: 01-05 resets due to 02-05, so 02-20 is 15 days overdue.
    assert reviews["overdue"] == [
        {"level": "rm_monthly", "due_by": "2026-02-05", "held": "2026-02-20", "days_overdue": 15}
    ]


def test_the_latest_cadence_setting_replaces_the_earlier_for_the_whole_walk() -> None:
    h = History()
    h.cadence("rm_monthly", 31, "2026-01-01", "2026-01-01")
    h.cadence("rm_monthly", 10, "2026-01-01", "2026-03-01")
    h.review("rm_monthly", "2026-01-20")
    assert h.analyse("2026-02-28")["reviews"]["overdue"][0]["due_by"] == "2026-02-20"
    assert h.analyse("2026-03-01")["reviews"]["overdue"] == [
        {"level": "rm_monthly", "due_by": "2026-01-11", "held": "2026-01-20", "days_overdue": 9},
        {"level": "rm_monthly", "due_by": "2026-01-30", "held": None, "days_overdue": 30},
    ]


def test_reviews_of_a_level_without_a_schedule_are_ignored() -> None:
    h = History()
    h.review("board", "2026-01-20", "2026-03-01")
    assert h.analyse("2026-03-31")["reviews"] == {"overdue": [], "late_recorded": []}
