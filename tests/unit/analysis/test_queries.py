"""The helper queries for the governance view answer with the engine's own rules."""

from __future__ import annotations

from fractions import Fraction

import pytest

from insightlog.analysis import AnalysisInputError, evidence_score, latest_judgement, theme_tree
from insightlog.analysis.themes import ThemeTreeError

from .builders import EXAMPLES, History, as_of, load_jsonl, ts


@pytest.fixture(scope="module")
def entries() -> list:
    return load_jsonl(EXAMPLES / "harbour_home_care.jsonl")


def test_theme_tree_gives_parents_children_depths_and_leaves(entries: list) -> None:
    tree = theme_tree(entries)
    assert tree.leaves == (
        "call_punctuality",
        "medicines.mar_charts",
        "medicines.time_critical",
        "safeguarding.referrals",
    )
    medicines = tree.themes["medicines"]
    assert (medicines.parent, medicines.depth, medicines.is_leaf) == (None, 1, False)
    assert medicines.children == ("medicines.mar_charts", "medicines.time_critical")
    assert tree.themes["medicines.mar_charts"].depth == 2


def test_evidence_score_returns_e_and_the_evidence_behind_it(entries: list) -> None:
    score = evidence_score(entries, "medicines", "2026-03", as_of("2026-06-30"))
    assert score.value == Fraction(23, 9)
    assert score.event_ids == ("HHC-042", "HHC-043", "HHC-047", "HHC-048", "HHC-049")
    assert score.groups["team:east"] == ("HHC-042", "HHC-043", "HHC-049")
    scoped = evidence_score(entries, "medicines.mar_charts", "2026-01", as_of("2026-03-31"), scope="team:east")
    assert (scoped.value, scoped.event_ids) == (None, ())


def test_evidence_score_applies_amendments_known_at_the_instant(entries: list) -> None:
    before = evidence_score(entries, "medicines.mar_charts", "2026-02", ts("2026-02-12"), scope="team:south")
    after = evidence_score(entries, "medicines.mar_charts", "2026-02", ts("2026-02-14"), scope="team:south")
    assert (before.value, after.value) == (Fraction(3), Fraction(2))


def test_latest_judgement_returns_the_entry_and_its_score(entries: list) -> None:
    found = latest_judgement(entries, "safeguarding.referrals", as_of("2026-03-31"), scope="team:east")
    assert found is not None and (found.entry.event_id, found.score) == ("HHC-046", 2)
    assert latest_judgement(entries, "safeguarding.referrals", as_of("2026-03-31")).score == 3
    assert latest_judgement(entries, "medicines", ts("2026-01-08T00:00:00Z")) is None


def test_queries_refuse_entries_of_several_services_without_a_service(entries: list) -> None:
    h = History(service="Other")
    h.theme("x")
    mixed = entries + h.entries
    with pytest.raises(AnalysisInputError, match="service="):
        theme_tree(mixed)
    assert theme_tree(mixed, service="Other").leaves == ("x",)


def test_a_parent_cycle_is_a_taxonomy_error() -> None:
    h = History()
    h.theme("a", parent="b")
    h.theme("b", parent="a")
    with pytest.raises(ThemeTreeError, match="cycle"):
        theme_tree(h.entries)
    with pytest.raises(ValueError):
        h.analyse("2026-01-31")


def test_the_single_queries_apply_withdrawals_and_the_basis() -> None:
    h = History()
    h.theme("meds")
    first = h.judgement("meds", 3, "2026-01-10")
    second = h.judgement("meds", 1, "2026-02-10")
    item = h.evidence("meds", 2, "2026-01-12", team="north")
    h.withdraw(second, "2026-03-01")
    h.withdraw(item, "2026-03-01")
    h.set_appended("2026-02-20")
    from insightlog.analysis import LEDGER_BASIS

    before = latest_judgement(h.entries, "meds", ts("2026-02-28"))
    after = latest_judgement(h.entries, "meds", ts("2026-03-02"))
    assert before is not None and before.entry.event_id == second.event_id
    assert after is not None and after.entry.event_id == first.event_id
    assert latest_judgement(h.entries, "meds", ts("2026-02-15"), basis=LEDGER_BASIS) is None
    assert evidence_score(h.entries, "meds", "2026-01", ts("2026-02-28")).event_ids == (item.event_id,)
    assert evidence_score(h.entries, "meds", "2026-01", ts("2026-03-02")).value is None
