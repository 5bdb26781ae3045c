"""§6: which judgements count, applicability, theme and scope scores, acknowledgement."""

from __future__ import annotations

import pytest

from insightlog.analysis import latest_judgement
from insightlog.analysis.servicelog import ServiceLog

from .builders import History, as_of, drift_row, ts


def medicines_history() -> History:
    h = History()
    h.theme("medicines")
    h.theme("medicines.mar_charts", parent="medicines")
    h.theme("medicines.time_critical", parent="medicines")
    return h


def example_judgement() -> History:
    h = medicines_history()
    h.judgement(
        "medicines",
        3,
        "2026-02-01",
        exceptions=[
            {"theme": "medicines.mar_charts", "score": 2, "note": ""},
            {"scope": "team:east", "score": 2, "note": ""},
        ],
    )
    return h


@pytest.mark.parametrize(
    ("theme", "scope", "score"),
    [
        ("medicines", None, 3),
        ("medicines.mar_charts", None, 2),
        ("medicines.time_critical", None, 3),
        ("medicines.time_critical", "team:east", 2),
        ("medicines.mar_charts", "team:north", 2),
    ],
)
def test_theme_and_scope_scores_follow_the_worked_table(theme: str, scope: str | None, score: int) -> None:
    h = example_judgement()
    found = latest_judgement(h.entries, theme, as_of("2026-02-28"), scope=scope)
    assert found is not None and found.score == score


@pytest.mark.parametrize(("scopes", "acknowledges"), [({"team:east"}, True), ({"team:north"}, False)])
def test_a_scope_exception_acknowledges_only_its_scope(scopes: set[str], acknowledges: bool) -> None:
    h = example_judgement()
    log = ServiceLog(h.entries, h.service, None)
    judgement = log.judgements[0]
    assert judgement.acknowledges("medicines.time_critical", frozenset(scopes), log.theme_tree) is acknowledges


def test_most_specific_exception_wins_and_ties_go_to_the_first() -> None:
    h = History()
    h.theme("a")
    h.theme("a.b", parent="a")
    h.theme("a.b.c", parent="a.b")
    h.judgement(
        "a",
        3,
        "2026-01-05",
        exceptions=[
            {"theme": "a", "score": 4},
            {"theme": "a.b", "score": 1},
            {"theme": "a.b", "score": 2},
            {"theme": "a.b", "scope": "team:x", "score": 4},
            {"scope": "team:x", "score": 1},
        ],
    )
    at = as_of("2026-01-31")
    assert latest_judgement(h.entries, "a.b.c", at).score == 1
    assert latest_judgement(h.entries, "a", at).score == 4
    # Check: a themed scope exception outranks an unthemed one for the same scope.
    assert latest_judgement(h.entries, "a.b.c", at, scope="team:x").score == 4
    assert latest_judgement(h.entries, "a", at, scope="team:x").score == 1


def test_judgement_on_a_child_does_not_apply_to_its_parent() -> None:
    h = medicines_history()
    h.judgement("medicines.mar_charts", 2, "2026-01-05")
    document = h.analyse("2026-01-31")
    assert drift_row(document, "medicines", None, "2026-01")["J"] is None
    assert drift_row(document, "medicines.mar_charts", None, "2026-01")["J"] == 2
    assert drift_row(document, "medicines.time_critical", None, "2026-01")["J"] is None


def test_non_leadership_judgements_are_ignored() -> None:
    h = medicines_history()
    h.judgement("medicines", 3, "2026-01-05")
    h.judgement("medicines.mar_charts", 1, "2026-01-06", role="team_leader")
    row = drift_row(h.analyse("2026-01-31"), "medicines.mar_charts", None, "2026-01")
    assert (row["J"], row["J_event"]) == (3, "E004")


def test_a_judgement_with_no_theme_applies_to_nothing() -> None:
    h = medicines_history()
    h.judgement(None, 1, "2026-01-05", confidence="high")
    document = h.analyse("2026-01-31")
    assert all(row["J"] is None for row in document["drift"])
    assert document["triggers"] == []


def test_backdated_judgement_counts_only_from_its_recording() -> None:
    h = medicines_history()
    h.judgement("medicines", 3, "2026-01-05")
    late = h.judgement("medicines", 1, "2026-03-02", observed="2026-02-10")
    document = h.analyse("2026-03-31")
    assert drift_row(document, "medicines", None, "2026-02")["J"] == 3
    assert drift_row(document, "medicines", None, "2026-03")["J_event"] == late.event_id


def test_latest_judgement_is_decided_by_recording_not_supersedes() -> None:
    h = medicines_history()
    newer = h.judgement("medicines", 2, "2026-01-10")
    h.add(
        "JudgementRevised",
        "2026-01-12",
        {"score": 4, "confidence": "high", "exceptions": [], "supersedes": None, "narrative": ""},
        theme="medicines",
        role="registered_manager",
    )
    found = latest_judgement(h.entries, "medicines", ts("2026-01-11"))
    assert found is not None and found.entry.event_id == newer.event_id
    assert latest_judgement(h.entries, "medicines", as_of("2026-01-31")).score == 4
