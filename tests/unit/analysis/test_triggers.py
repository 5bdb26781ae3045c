"""§14: triggers T1–T7, each evaluated with what had been recorded when it would fire."""

from __future__ import annotations

from .builders import History, triggers


def meds_history() -> History:
    h = History()
    h.theme("meds")
    h.theme("meds.mar", parent="meds")
    return h


def three_north_signals(h: History, days: tuple[str, ...] = ("2026-01-05", "2026-01-10", "2026-01-15")) -> list[str]:
    return [h.evidence("meds.mar", 2, day, team="north").event_id for day in days]


# T1 ------------------------------------------------------------------------------------------


def test_t1_fires_fourteen_days_after_the_pattern_became_detectable() -> None:
    h = meds_history()
    ids = three_north_signals(h)
    assert triggers(h.analyse("2026-01-28"), "T1") == []
    assert triggers(h.analyse("2026-01-29"), "T1") == [("T1", "meds.mar", None, "2026-01-29", [ids[2]])]


def test_t1_does_not_fire_when_acknowledged_by_the_end_of_the_fire_day() -> None:
    h = meds_history()
    three_north_signals(h)
    h.judgement("meds", 2, "2026-01-29T23:59:59Z")
    assert triggers(h.analyse("2026-03-31"), "T1") == []


def test_t1_fires_when_the_acknowledgement_comes_after_the_fire_day() -> None:
    h = meds_history()
    ids = three_north_signals(h)
    ack = h.judgement("meds", 2, "2026-01-30")
    document = h.analyse("2026-03-31")
    assert document["recognition"][0]["acknowledgement"] == ack.event_id
    assert triggers(document, "T1") == [("T1", "meds.mar", None, "2026-01-29", [ids[2]])]


def test_t1_ignores_a_judgement_recorded_before_the_first_signal_date() -> None:
    h = meds_history()
    h.judgement("meds", 2, "2026-01-04")
    ids = three_north_signals(h)
    assert triggers(h.analyse("2026-03-31"), "T1") == [("T1", "meds.mar", None, "2026-01-29", [ids[2]])]


def test_t1_ignores_backdated_and_non_leadership_acknowledgements() -> None:
    h = meds_history()
    ids = three_north_signals(h)
    h.judgement("meds.mar", 2, "2026-01-20", role="team_leader")
    h.judgement("meds", 2, "2026-02-10", observed="2026-01-20")
    assert triggers(h.analyse("2026-03-31"), "T1") == [("T1", "meds.mar", None, "2026-01-29", [ids[2]])]


def test_t1_fires_again_for_an_unacknowledged_second_episode() -> None:
    h = meds_history()
    three_north_signals(h)
    h.judgement("meds", 2, "2026-01-20")
    second = three_north_signals(h, ("2026-06-01", "2026-06-05", "2026-06-10"))
    # Check: the first episode was acknowledged in time; the second gets its own T1.
    assert triggers(h.analyse("2026-06-30"), "T1") == [("T1", "meds.mar", None, "2026-06-24", [second[2]])]


def test_t1_is_not_raised_when_an_amendment_had_undone_the_pattern_on_the_fire_day() -> None:
    h = meds_history()
    ids = three_north_signals(h)
    third = h.entries[-1]
    h.amend(third, "2026-01-20", evidence_score=3)
    h.amend(third, "2026-02-10", evidence_score=2)
    document = h.analyse("2026-02-28")
    # Check: as of A the episode is repeated, detectable at 01-15, but on 01-29 it was not.
    assert document["recognition"][0]["pattern_detectable"] == ids[2]
    assert triggers(document, "T1") == []


def test_t1_gives_one_occurrence_for_episodes_completed_by_one_recording() -> None:
    h = meds_history()
    h.evidence("meds.mar", 2, "2026-01-05", team="north")
    h.evidence("meds.mar", 2, "2026-01-10", team="north")
    h.evidence("meds.mar", 2, "2026-06-01", team="north")
    h.evidence("meds.mar", 2, "2026-06-05", team="north")
    bulk = h.evidence("meds.mar", 2, "2026-06-10", "2026-06-20T12:00:00Z", team="north")
    h.evidence("meds.mar", 2, "2026-01-15", "2026-06-20T12:00:00Z", team="north")
    document = h.analyse("2026-07-31")
    assert [r["pattern_detectable"] for r in document["recognition"]] == [bulk.event_id] * 2
    assert triggers(document, "T1") == [("T1", "meds.mar", None, "2026-07-04", [bulk.event_id])]


# T2 ------------------------------------------------------------------------------------------


def test_t2_fires_when_an_amendment_first_shows_a_weak_section_under_a_good_headline() -> None:
    h = meds_history()
    headline = h.headline("meds", 3, "AUD-2", "2026-02-10", team="south")
    weak = h.evidence(
        "meds.mar",
        3,
        "2026-02-09",
        "2026-02-10",
        team="south",
        kind="AuditSectionScored",
        audit_id="AUD-2",
    )
    h.evidence(
        "meds.mar",
        4,
        "2026-02-09",
        "2026-02-10",
        team="south",
        kind="AuditSectionScored",
        audit_id="AUD-2",
    )
    h.amend(weak, "2026-02-13T15:00:00Z", evidence_score=2)
    h.amend(headline, "2026-02-13T15:05:00Z", headline_score=3, headline_pct=63.3)
    expected = [("T2", "meds", "team:south", "2026-02-13", [headline.event_id, weak.event_id])]
    assert triggers(h.analyse("2026-02-12"), "T2") == []
    assert triggers(h.analyse("2026-03-31"), "T2") == expected


def test_t2_fires_at_most_once_per_headline() -> None:
    h = meds_history()
    headline = h.headline("meds", 4, "AUD-1", "2026-01-15", team="north")
    first = h.evidence(
        "meds.mar",
        2,
        "2026-01-14",
        "2026-01-15",
        team="north",
        kind="AuditSectionScored",
        audit_id="AUD-1",
    )
    h.evidence(
        "meds.mar",
        1,
        "2026-01-14",
        "2026-01-20",
        team="north",
        kind="AuditSectionScored",
        audit_id="AUD-1",
    )
    assert triggers(h.analyse("2026-03-31"), "T2") == [
        ("T2", "meds", "team:north", "2026-01-15", [headline.event_id, first.event_id])
    ]


def test_t2_waits_for_the_headline_to_reach_the_threshold() -> None:
    h = meds_history()
    headline = h.headline("meds", 2, "AUD-1", "2026-01-15", team="north")
    section = h.evidence(
        "meds.mar",
        2,
        "2026-01-14",
        "2026-01-15",
        team="north",
        kind="AuditSectionScored",
        audit_id="AUD-1",
    )
    h.amend(headline, "2026-01-22", headline_score=3)
    assert triggers(h.analyse("2026-01-31"), "T2") == [
        ("T2", "meds", "team:north", "2026-01-22", [headline.event_id, section.event_id])
    ]


def test_t2_matches_sections_by_the_audit_id_as_recorded_and_falls_back_to_location() -> None:
    h = History()
    h.theme("audit", scope_by=None)
    headline = h.headline("audit", 3, "AUD-1", "2026-01-15", location="Maple")
    stays = h.evidence("audit", 2, "2026-01-14", "2026-01-15", kind="AuditSectionScored", audit_id="AUD-1")
    h.amend(stays, "2026-01-16", audit_id="AUD-9")
    joins = h.evidence("audit", 1, "2026-01-14", "2026-01-15", kind="AuditSectionScored", audit_id="AUD-9")
    h.amend(joins, "2026-01-16", audit_id="AUD-1")
    assert triggers(h.analyse("2026-01-31"), "T2") == [
        ("T2", "audit", "location:Maple", "2026-01-15", [headline.event_id, stays.event_id])
    ]


# T3 ------------------------------------------------------------------------------------------


def calls_history(scores_by_month: dict[str, int], recorded: dict[str, str] | None = None) -> History:
    h = History()
    h.theme("calls")
    h.judgement("calls", 3, "2026-01-02")
    for month, score in scores_by_month.items():
        observed = f"{month}-10"
        h.evidence("calls", score, observed, (recorded or {}).get(month, observed), team="north")
    return h


def test_t3_fires_once_at_the_start_of_each_run_of_optimistic_months() -> None:
    h = calls_history({"2026-01": 2, "2026-02": 2, "2026-03": 2, "2026-04": 3, "2026-05": 2, "2026-06": 2})
    assert triggers(h.analyse("2026-06-30"), "T3") == [
        ("T3", "calls", None, "2026-02-28", []),
        ("T3", "calls", "team:north", "2026-02-28", []),
        ("T3", "calls", None, "2026-06-30", []),
        ("T3", "calls", "team:north", "2026-06-30", []),
    ]


def test_t3_uses_what_was_known_at_each_month_end() -> None:
    h = calls_history({"2026-01": 2, "2026-02": 2, "2026-03": 2}, recorded={"2026-02": "2026-03-05"})
    # Check: at 02-28 February had no evidence yet, so the run starts at 03-31, never earlier.
    assert [row[3] for row in triggers(h.analyse("2026-03-31"), "T3")] == [
        "2026-03-31",
        "2026-03-31",
    ]


def test_t3_is_not_evaluated_for_an_incomplete_month() -> None:
    h = calls_history({"2026-01": 2, "2026-02": 2})
    assert triggers(h.analyse("2026-02-27"), "T3") == []
    assert len(triggers(h.analyse("2026-02-28"), "T3")) == 2


# T4 ------------------------------------------------------------------------------------------


def test_t4_fires_once_per_scope_when_its_own_pattern_is_detectable() -> None:
    h = meds_history()
    north = three_north_signals(h)
    h.evidence("meds.mar", 2, "2026-01-06", team="south")
    h.evidence("meds.mar", 2, "2026-01-11", team="south")
    three_north_signals(h, ("2026-06-01", "2026-06-05", "2026-06-10"))
    assert triggers(h.analyse("2026-06-30"), "T4") == [("T4", "meds.mar", "team:north", "2026-01-15", [north[2]])]


def test_t4_fires_for_each_scope_of_a_service_wide_episode() -> None:
    h = meds_history()
    north = three_north_signals(h)
    south = [h.evidence("meds.mar", 2, d, team="south").event_id for d in ("2026-01-06", "2026-01-11", "2026-01-16")]
    document = h.analyse("2026-01-31")
    assert document["recognition"][0]["extent"] == "service_wide"
    assert triggers(document, "T4") == [
        ("T4", "meds.mar", "team:north", "2026-01-15", [north[2]]),
        ("T4", "meds.mar", "team:south", "2026-01-16", [south[2]]),
    ]


# T5 ------------------------------------------------------------------------------------------


def test_t5_fires_on_the_first_moment_a_validation_is_adverse() -> None:
    h = meds_history()
    at_recording = h.evidence("meds.mar", 2, "2026-03-23", team="north", kind="ValidationSampled")
    by_amendment = h.evidence("meds.mar", 3, "2026-03-24", team="south", kind="ValidationSampled")
    h.amend(by_amendment, "2026-03-27", evidence_score=2)
    h.amend(at_recording, "2026-03-28", evidence_score=3)
    h.evidence("meds.mar", 1, "2026-03-25", team="east")
    assert triggers(h.analyse("2026-04-30"), "T5") == [
        ("T5", "meds.mar", "team:north", "2026-03-23", [at_recording.event_id]),
        ("T5", "meds.mar", "team:south", "2026-03-27", [by_amendment.event_id]),
    ]
    assert triggers(h.analyse("2026-03-26"), "T5") == [
        ("T5", "meds.mar", "team:north", "2026-03-23", [at_recording.event_id])
    ]


def test_t5_applies_to_validations_on_undefined_themes() -> None:
    h = meds_history()
    v = h.evidence("kitchen", 1, "2026-01-10", team="north", kind="ValidationSampled")
    assert triggers(h.analyse("2026-01-31"), "T5") == [("T5", "kitchen", None, "2026-01-10", [v.event_id])]


# T6 ------------------------------------------------------------------------------------------


def mismatch_month(h: History, month: str, recorded: str | None = None) -> None:
    h.evidence("calls", 3, f"{month}-05", kind="RotaMetricRecorded", source_type="metric")
    h.evidence(
        "calls",
        2,
        f"{month}-10",
        recorded,
        team="south",
        kind="ComplaintReceived",
        category="people_experience",
        source_type="complaint",
    )


def test_t6_needs_two_consecutive_months_of_mismatch() -> None:
    h = History()
    h.theme("calls")
    for month in ("2026-01", "2026-02", "2026-03", "2026-05", "2026-06"):
        mismatch_month(h, month)
    assert triggers(h.analyse("2026-06-30"), "T6") == [
        ("T6", "calls", None, "2026-02-28", []),
        ("T6", "calls", None, "2026-06-30", []),
    ]
    assert triggers(h.analyse("2026-02-27"), "T6") == []


def test_t6_decides_each_month_with_its_own_month_end_knowledge() -> None:
    h = History()
    h.theme("calls")
    mismatch_month(h, "2026-01")
    mismatch_month(h, "2026-02", recorded="2026-03-02")
    mismatch_month(h, "2026-03")
    assert triggers(h.analyse("2026-03-31"), "T6") == []


def test_t6_needs_metric_mean_at_least_three_and_experience_mean_at_most_two() -> None:
    h = History()
    h.theme("calls")
    for month in ("2026-01", "2026-02"):
        mismatch_month(h, month)
    h.evidence("calls", 4, "2026-02-11", team="north", category="staff_leader_feedback")
    assert triggers(h.analyse("2026-02-28"), "T6") == []


# T7 ------------------------------------------------------------------------------------------


def test_t7_cites_only_adverse_evidence_known_when_the_judgement_was_recorded() -> None:
    h = meds_history()
    h.evidence("meds.mar", 2, "2026-01-07", "2026-04-08", team="east")
    a = h.evidence("meds.mar", 2, "2026-01-14", "2026-01-15", team="north")
    b = h.evidence("meds.mar", 2, "2026-01-26", team="north")
    h.evidence("meds.mar", 3, "2026-01-27", team="north")
    h.judgement("meds", 3, "2026-01-09", confidence="high")
    report = h.judgement("meds", 3, "2026-02-12", confidence="high", role="operations_manager")
    # Check: the 01-09 report knew of no adverse item (the 01-07 paper check came in April).
    assert triggers(h.analyse("2026-06-30"), "T7") == [
        ("T7", "meds", None, "2026-02-12", [report.event_id, a.event_id, b.event_id])
    ]


def test_t7_look_back_is_sixty_days_inclusive() -> None:
    h = meds_history()
    h.evidence("meds.mar", 2, "2026-01-01", team="north")
    on_day_60 = h.evidence("meds.mar", 2, "2026-01-02", team="north")
    report = h.judgement("meds", 4, "2026-03-03", confidence="high")
    assert triggers(h.analyse("2026-03-31"), "T7") == [
        ("T7", "meds", None, "2026-03-03", [report.event_id, on_day_60.event_id])
    ]


def test_t7_needs_a_confident_positive_leadership_judgement_without_exceptions() -> None:
    h = meds_history()
    h.evidence("meds.mar", 2, "2026-01-10", team="north")
    h.judgement("meds", 3, "2026-01-20", confidence="qualified")
    h.judgement("meds", 2, "2026-01-21", confidence="high")
    h.judgement("meds", 3, "2026-01-22", confidence="high", exceptions=[{"scope": "team:north", "score": 2}])
    h.judgement("meds", 3, "2026-01-23", confidence="high", role="team_leader")
    assert triggers(h.analyse("2026-01-31"), "T7") == []


def test_t7_reads_only_the_judgements_theme_and_its_descendants() -> None:
    h = meds_history()
    h.evidence("meds", 2, "2026-01-10", team="north")
    h.judgement("meds.mar", 3, "2026-01-20", confidence="high")
    assert triggers(h.analyse("2026-01-31"), "T7") == []


def test_t7_applies_to_a_judgement_on_an_undefined_theme_with_evidence_on_that_name() -> None:
    h = meds_history()
    item = h.evidence("kitchen", 2, "2026-01-10", team="north")
    report = h.judgement("kitchen", 3, "2026-01-20", confidence="high")
    assert triggers(h.analyse("2026-01-31"), "T7") == [
        ("T7", "kitchen", None, "2026-01-20", [report.event_id, item.event_id])
    ]


# Ordering ------------------------------------------------------------------------------------


def test_triggers_are_sorted_by_date_trigger_theme_scope_and_events() -> None:
    h = meds_history()
    three_north_signals(h)
    v = h.evidence("meds.mar", 1, "2026-01-15", team="east", kind="ValidationSampled")
    document = h.analyse("2026-01-31")
    keys = [
        (r["fired_on"], r["trigger"], r["theme"] or "", r["scope"] or "", r["events"]) for r in document["triggers"]
    ]
    assert keys == sorted(keys)
    assert ("T5", "meds.mar", "team:east", "2026-01-15", [v.event_id]) in triggers(document)
