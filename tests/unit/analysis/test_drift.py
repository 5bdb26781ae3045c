"""§10–§11: reporting months, J, scope-balanced E, D and its sign; §16 printing."""

from __future__ import annotations

from fractions import Fraction

import pytest

from insightlog.analysis import format_decimal

from .builders import History, drift_row


def meds_history() -> History:
    h = History()
    h.theme("meds")
    h.theme("meds.mar", parent="meds")
    h.theme("meds.tc", parent="meds")
    return h


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (Fraction(7, 3), "2.33"),
        (Fraction(5, 2), "2.50"),
        (Fraction(1, 8), "0.12"),
        (Fraction(3, 8), "0.38"),
        (Fraction(-1, 8), "-0.12"),
        (Fraction(107, 40), "2.67"),
        (Fraction(3, 200), "0.01"),
        (Fraction(1, 200), "0.01"),
        (Fraction(-1, 300), "-0.00"),
        (Fraction(0), "0.00"),
        (Fraction(4), "4.00"),
    ],
)
def test_numbers_print_like_percent_two_f_of_the_nearest_double(value: Fraction, printed: str) -> None:
    assert format_decimal(value) == printed


def test_theme_level_evidence_is_the_mean_of_scope_means() -> None:
    h = meds_history()
    h.judgement("meds", 3, "2026-03-16", exceptions=[{"theme": "meds.mar", "score": 2}])
    for team, score in (("east", 3), ("east", 4), ("north", 2), ("south", 2)):
        h.evidence("meds.mar", score, "2026-03-20", team=team)
    row = drift_row(h.analyse("2026-03-31"), "meds.mar", None, "2026-03")
    # Check: (3.5 + 2 + 2) / 3 = 2.5, not the plain mean 2.75; D is exactly -1/2 so sign 0.
    assert (row["J"], row["E"], row["D"], row["sign"]) == (2, "2.50", "-0.50", 0)


def test_unscoped_items_form_their_own_service_group() -> None:
    h = meds_history()
    h.judgement("meds", 3, "2026-01-05")
    h.evidence("meds.mar", 3, "2026-01-10", kind="RotaMetricRecorded")
    h.evidence("meds.mar", 2, "2026-01-11", team="south")
    h.evidence("meds.mar", 2, "2026-01-12", team="south")
    document = h.analyse("2026-01-31")
    assert drift_row(document, "meds.mar", None, "2026-01")["E"] == "2.50"
    assert drift_row(document, "meds.mar", "team:south", "2026-01")["E"] == "2.00"


def test_parent_theme_balances_the_scopes_of_all_its_descendants() -> None:
    h = meds_history()
    h.evidence("meds.mar", 2, "2026-01-10", team="north")
    h.evidence("meds.tc", 4, "2026-01-11", team="north")
    h.evidence("meds.mar", 2, "2026-01-12", team="north")
    h.evidence("meds.mar", 2, "2026-01-13", team="east")
    h.evidence("meds", 3, "2026-01-14", team="east")
    document = h.analyse("2026-01-31")
    # Check: east [2, 3] = 2.5, north [2, 4, 2] = 8/3; (2.5 + 8/3) / 2 = 31/12.
    assert drift_row(document, "meds", None, "2026-01")["E"] == "2.58"
    assert drift_row(document, "meds.tc", None, "2026-01")["E"] == "4.00"
    assert [r["scope"] for r in document["drift"] if r["theme"] == "meds"] == [None]


@pytest.mark.parametrize(
    ("j", "scores", "e", "d", "sign"),
    [
        (3, [2, 3], "2.50", "0.50", 0),
        (3, [2, 2, 3], "2.33", "0.67", 1),
        (2, [2, 3], "2.50", "-0.50", 0),
        (2, [3, 3, 2], "2.67", "-0.67", -1),
        (3, [3], "3.00", "0.00", 0),
        (1, [2], "2.00", "-1.00", -1),
    ],
)
def test_sign_needs_more_than_half_a_grade(j: int, scores: list[int], e: str, d: str, sign: int) -> None:
    h = meds_history()
    h.judgement("meds.mar", j, "2026-01-02")
    for day, score in enumerate(scores, start=10):
        h.evidence("meds.mar", score, f"2026-01-{day}", team="north")
    row = drift_row(h.analyse("2026-01-31"), "meds.mar", "team:north", "2026-01")
    assert (row["J"], row["E"], row["D"], row["sign"]) == (j, e, d, sign)
    assert type(row["J"]) is int and type(row["sign"]) is int


def test_a_judgement_recorded_after_the_month_ends_never_changes_that_month() -> None:
    h = meds_history()
    h.evidence("meds.mar", 2, "2026-01-10", team="north")
    late = h.judgement("meds", 3, "2026-02-01T00:00:00Z", observed="2026-01-15")
    document = h.analyse("2026-02-28")
    january = drift_row(document, "meds.mar", None, "2026-01")
    assert (january["J"], january["J_event"], january["E"], january["D"], january["sign"]) == (
        None,
        None,
        "2.00",
        None,
        None,
    )
    assert drift_row(document, "meds.mar", None, "2026-02")["J_event"] == late.event_id


def test_current_month_uses_the_as_of_instant_for_j() -> None:
    h = meds_history()
    h.judgement("meds", 3, "2026-01-05")
    h.judgement("meds", 1, "2026-01-20T12:00:00Z")
    assert drift_row(h.analyse("2026-01-20T11:59:59Z"), "meds", None, "2026-01")["J"] == 3
    assert drift_row(h.analyse("2026-01-20T12:00:00Z"), "meds", None, "2026-01")["J"] == 1


def test_rows_cover_every_theme_scope_and_month_including_null_rows() -> None:
    h = meds_history()
    h.evidence("meds.tc", 3, "2026-02-10", team="south")
    h.evidence("meds.tc", 3, "2026-01-10", team="east")
    document = h.analyse("2026-03-15")
    keys = [(r["theme"], r["scope"], r["month"]) for r in document["drift"]]
    months = ["2026-01", "2026-02", "2026-03"]
    expected = [("meds", None, m) for m in months] + [("meds.mar", None, m) for m in months]
    expected += [("meds.tc", s, m) for s in (None, "team:east", "team:south") for m in months]
    assert keys == expected
    assert all(list(r) == ["theme", "scope", "month", "J", "J_event", "E", "D", "sign"] for r in document["drift"])
    assert drift_row(document, "meds.tc", "team:east", "2026-02") == {
        "theme": "meds.tc",
        "scope": "team:east",
        "month": "2026-02",
        "J": None,
        "J_event": None,
        "E": None,
        "D": None,
        "sign": None,
    }


def test_scope_rows_use_the_scope_score_of_the_judgement() -> None:
    h = meds_history()
    h.judgement("meds", 3, "2026-01-05", exceptions=[{"scope": "team:south", "score": 1}])
    h.evidence("meds.mar", 2, "2026-01-10", team="south")
    h.evidence("meds.mar", 3, "2026-01-10", team="north")
    document = h.analyse("2026-01-31")
    assert drift_row(document, "meds.mar", "team:south", "2026-01")["J"] == 1
    assert drift_row(document, "meds.mar", "team:north", "2026-01")["J"] == 3
    # Check: scoped exceptions never change the theme-level J.
    assert drift_row(document, "meds.mar", None, "2026-01")["J"] == 3
