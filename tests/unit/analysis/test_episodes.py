"""§7–§9: repeated rule, episodes, pattern-detectable instants, extent and recognition."""

from __future__ import annotations

from typing import Any

import pytest

from .builders import History


def leaf_history(scope_by: str | None = "team") -> History:
    h = History()
    h.theme("meds", scope_by=scope_by)
    h.theme("meds.mar", parent="meds", scope_by=scope_by)
    return h


def rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in document["recognition"] if r["theme"] == "meds.mar"]


@pytest.mark.parametrize(
    ("dates", "repeated"),
    [
        (["2026-01-01", "2026-02-01", "2026-03-31"], True),
        (["2026-01-01", "2026-02-01", "2026-04-01"], True),
        (["2026-01-01", "2026-02-01", "2026-04-02"], False),
        (["2026-01-01", "2026-01-01", "2026-02-01"], False),
        (["2026-01-01", "2026-02-01", "2026-04-15", "2026-04-20"], True),
    ],
)
def test_repeated_rule_needs_three_distinct_dates_within_ninety_days(dates: list[str], repeated: bool) -> None:
    h = leaf_history()
    for day in dates:
        h.evidence("meds.mar", 2, day, team="north")
    document = h.analyse("2026-06-30")
    assert bool(rows(document)) is repeated
    assert (document["isolated_themes"] == ["meds.mar"]) is (not repeated)


@pytest.mark.parametrize(("last", "split"), [("2026-04-20", False), ("2026-04-21", True)])
def test_episode_splits_only_on_a_gap_of_more_than_ninety_days(last: str, split: bool) -> None:
    h = leaf_history()
    for day in ("2026-01-01", "2026-01-10", "2026-01-20", last):
        h.evidence("meds.mar", 2, day, team="north")
    document = h.analyse("2026-06-30")
    assert len(rows(document)) == 1
    # Check: a split leaves the late signal as an isolated episode of the same theme.
    assert (document["isolated_themes"] == ["meds.mar"]) is split


def spec_example() -> tuple[History, dict[str, str]]:
    """§7.4 example: a late paper record, an amendment, then a second episode."""
    h = leaf_history()
    ids = {}
    ids["paper"] = h.evidence("meds.mar", 2, "2026-01-07", "2026-04-08", team="east").event_id
    h.evidence("meds.mar", 2, "2026-01-14", "2026-01-15", team="north")
    h.evidence("meds.mar", 2, "2026-01-26", team="north")
    audit = h.evidence("meds.mar", 3, "2026-02-09", "2026-02-10", team="south")
    ids["amendment"] = h.amend(audit, "2026-02-13T15:00:00Z", evidence_score=2).event_id
    h.evidence("meds.mar", 2, "2026-06-02", team="north")
    h.evidence("meds.mar", 2, "2026-06-20", team="north")
    ids["second"] = h.evidence("meds.mar", 2, "2026-07-08", team="north").event_id
    return h, ids


def test_each_episode_has_its_own_pattern_detectable_instant() -> None:
    h, ids = spec_example()
    first, second = rows(h.analyse("2026-07-31"))
    assert (first["first_signal"], first["first_signal_observed"]) == (ids["paper"], "2026-01-07")
    assert (first["pattern_detectable"], first["pattern_detectable_recorded"]) == (
        ids["amendment"],
        "2026-02-13",
    )
    assert (second["pattern_detectable"], second["pattern_detectable_recorded"]) == (
        ids["second"],
        "2026-07-08",
    )


def test_late_record_moves_the_first_signal_but_not_the_detectable_instant() -> None:
    h, ids = spec_example()
    before = rows(h.analyse("2026-03-31"))[0]
    assert (before["first_signal_observed"], before["pattern_detectable"]) == (
        "2026-01-14",
        ids["amendment"],
    )


def test_pattern_detectable_event_is_the_first_event_recorded_at_that_instant() -> None:
    h = leaf_history()
    h.evidence("meds.mar", 2, "2026-01-05", team="north")
    h.evidence("meds.mar", 2, "2026-01-10", team="north")
    note = h.add("VarianceIdentified", "2026-01-20T12:00:00Z", {"finding": "x"}, theme="meds.mar")
    h.evidence("meds.mar", 2, "2026-01-20", team="north")
    assert rows(h.analyse("2026-01-31"))[0]["pattern_detectable"] == note.event_id


@pytest.mark.parametrize(
    ("sampled_extra", "extent"),
    [(["east"], "service_wide"), (["east", "west"], "local"), ([], "service_wide")],
)
def test_extent_is_service_wide_when_most_sampled_scopes_are_affected(sampled_extra: list[str], extent: str) -> None:
    h = leaf_history()
    h.evidence("meds.mar", 2, "2026-01-05", team="north")
    h.evidence("meds.mar", 2, "2026-01-10", team="south")
    h.evidence("meds.mar", 2, "2026-01-15", team="north")
    for team in sampled_extra:
        h.evidence("meds.mar", 4, "2026-03-01", team=team)
    row = rows(h.analyse("2026-03-31"))[0]
    assert row["extent"] == extent
    assert row["affected_scopes"] == ["team:north", "team:south"]
    assert row["sampled_scopes"] == sorted(["team:north", "team:south"] + [f"team:{t}" for t in sampled_extra])


def test_one_affected_scope_is_always_local() -> None:
    h = leaf_history()
    for day in ("2026-01-05", "2026-01-10", "2026-01-15"):
        h.evidence("meds.mar", 2, day, team="east")
    assert rows(h.analyse("2026-01-31"))[0]["extent"] == "local"


def test_sampled_scopes_count_only_evidence_from_the_first_signal_date() -> None:
    h = leaf_history()
    h.evidence("meds.mar", 4, "2026-01-04", team="east")
    h.evidence("meds.mar", 4, "2026-01-05", team="west", kind="RotaMetricRecorded")
    h.evidence("meds.mar", 3, "2026-01-20")
    for day, team in (("2026-01-05", "north"), ("2026-01-10", "south"), ("2026-01-15", "north")):
        h.evidence("meds.mar", 2, day, team=team)
    h.evidence("meds.mar", 2, "2026-01-16")
    row = rows(h.analyse("2026-01-31"))[0]
    # Check: east was sampled the day before, unscoped items count in neither set.
    assert row["sampled_scopes"] == ["team:north", "team:south", "team:west"]
    assert row["affected_scopes"] == ["team:north", "team:south"]
    assert row["extent"] == "service_wide"


def test_recognition_lags_use_recording_dates_and_report_the_claimed_date() -> None:
    h = History()
    h.theme("safeguarding")
    h.theme("safeguarding.referrals", parent="safeguarding")
    for observed, recorded in (
        ("2026-01-21", "2026-01-21"),
        ("2026-02-05", "2026-02-05"),
        ("2026-02-17", "2026-02-18"),
    ):
        h.evidence("safeguarding.referrals", 2, observed, recorded, team="east")
    ack = h.judgement(
        "safeguarding",
        3,
        "2026-03-20",
        observed="2026-02-27",
        exceptions=[{"theme": None, "scope": "team:east", "score": 2}],
    )
    row = h.analyse("2026-03-31")["recognition"][0]
    assert row["acknowledgement"] == ack.event_id and row["ack_recorded"] == "2026-03-20"
    assert (row["recognition_lag_days"], row["detectable_lag_days"], row["claimed_lag_days"]) == (
        58,
        30,
        37,
    )
    assert row["open_lag_days"] is None


def test_unacknowledged_episode_reports_only_the_open_lag() -> None:
    h = leaf_history()
    for day in ("2026-01-05", "2026-01-10", "2026-01-15"):
        h.evidence("meds.mar", 2, day, team="north")
    row = rows(h.analyse("2026-02-04"))[0]
    assert row["acknowledgement"] is None and row["ack_recorded"] is None
    assert (row["recognition_lag_days"], row["detectable_lag_days"], row["claimed_lag_days"]) == (
        None,
        None,
        None,
    )
    assert row["open_lag_days"] == 30 and row["after_acknowledgement"] == []


def test_judgement_recorded_before_the_first_signal_date_never_acknowledges() -> None:
    h = leaf_history()
    h.judgement("meds", 2, "2026-01-04T23:00:00Z")
    for day in ("2026-01-05", "2026-01-10", "2026-01-15"):
        h.evidence("meds.mar", 2, day, team="north")
    assert rows(h.analyse("2026-01-31"))[0]["acknowledgement"] is None


def test_judgement_recorded_on_the_first_signal_date_acknowledges_even_before_detection() -> None:
    h = leaf_history()
    h.evidence("meds.mar", 2, "2026-01-05T09:00:00Z", team="north")
    ack = h.judgement("meds.mar", 2, "2026-01-05T10:00:00Z")
    h.evidence("meds.mar", 2, "2026-01-10", team="north")
    h.evidence("meds.mar", 2, "2026-01-15", team="north")
    row = rows(h.analyse("2026-01-31"))[0]
    assert row["acknowledgement"] == ack.event_id
    assert (row["recognition_lag_days"], row["detectable_lag_days"]) == (0, -10)


def test_second_episode_acknowledgement_is_not_carried_over() -> None:
    h = leaf_history()
    for day in ("2026-01-05", "2026-01-10", "2026-01-15"):
        h.evidence("meds.mar", 2, day, team="north")
    ack = h.judgement("meds", 2, "2026-01-20")
    for day in ("2026-06-01", "2026-06-05", "2026-06-10"):
        h.evidence("meds.mar", 2, day, team="north")
    first, second = rows(h.analyse("2026-06-30"))
    assert first["acknowledgement"] == ack.event_id
    # Check: the 01-20 judgement is still the latest and scores 2, yet it predates episode two.
    assert second["acknowledgement"] is None and second["open_lag_days"] == 29


def test_later_judgements_are_acknowledged_lapsed_or_stood_down() -> None:
    h = leaf_history()
    for day in ("2026-01-05", "2026-01-10", "2026-01-15"):
        h.evidence("meds.mar", 2, day, team="north")
    h.judgement("meds", 2, "2026-02-01")
    same = h.judgement("meds", 2, "2026-02-10")
    on_day_60 = h.judgement("meds", 3, "2026-03-16")
    on_day_61 = h.judgement("meds", 3, "2026-03-17")
    h.evidence("meds.mar", 2, "2026-04-20", team="south")
    other_scope = h.judgement("meds", 3, "2026-05-01")
    h.judgement("medicines.unrelated", 3, "2026-05-02")
    statuses = rows(h.analyse("2026-05-31"))[0]["after_acknowledgement"]
    assert statuses == [
        {"event_id": same.event_id, "status": "acknowledged"},
        {"event_id": on_day_60.event_id, "status": "lapsed"},
        {"event_id": on_day_61.event_id, "status": "stood_down"},
        {"event_id": other_scope.event_id, "status": "stood_down"},
    ]


def test_lapse_with_no_affected_scope_considers_unscoped_signals() -> None:
    h = leaf_history(scope_by=None)
    for day in ("2026-01-05", "2026-01-10", "2026-01-15"):
        h.evidence("meds.mar", 2, day, team="north")
    h.judgement("meds", 2, "2026-01-20")
    later = h.judgement("meds", 3, "2026-03-01")
    row = rows(h.analyse("2026-03-31"))[0]
    assert row["affected_scopes"] == [] and row["extent"] == "local"
    assert row["after_acknowledgement"] == [{"event_id": later.event_id, "status": "lapsed"}]


def test_judgement_recorded_at_the_same_instant_as_the_acknowledgement_is_not_after_it() -> None:
    h = leaf_history()
    for day in ("2026-01-05", "2026-01-10", "2026-01-15"):
        h.evidence("meds.mar", 2, day, team="north")
    h.judgement("meds", 2, "2026-01-20T10:00:00Z")
    h.judgement("meds", 3, "2026-01-20T10:00:00Z")
    assert rows(h.analyse("2026-01-31"))[0]["after_acknowledgement"] == []
