"""§3.4: an entry withdrawn is not known from the withdrawal's own recording instant on, and is
known at every earlier instant a rule evaluates; withdrawn events leave the selections made as of A;
ranges over instants keep every event recorded by A, withdrawn or not."""

from __future__ import annotations

from .builders import History, drift_row, triggers


def meds_history() -> History:
    h = History()
    h.theme("meds")
    h.theme("meds.mar", parent="meds")
    h.theme("meds.time", parent="meds")
    return h


# Withdrawn evidence ----------------------------------------------------------------------------


def test_the_worked_example_of_section_3_4_a_spot_check_on_the_wrong_theme() -> None:
    h = meds_history()
    wrong = h.evidence("meds.time", 1, "2026-03-05", team="north")
    h.evidence("meds.time", 3, "2026-03-06", team="north")
    h.withdraw(wrong, "2026-04-02T09:00:00Z", "wrong theme")
    right = h.evidence("meds.mar", 1, "2026-03-05", "2026-04-02T09:05:00Z", team="north", corrects=wrong.event_id)
    march = h.analyse("2026-03-31")
    april = h.analyse("2026-04-30")
    # Check: as of 03-31 the first theme has the adverse signal, as of 04-30 it has not ...
    assert march["isolated_themes"] == ["meds.time"]
    assert "meds.time" not in april["isolated_themes"]
    assert drift_row(march, "meds.time", None, "2026-03")["E"] == "2.00"
    assert drift_row(april, "meds.time", None, "2026-03")["E"] == "3.00"
    # ... and the right theme has a signal observed 03-05 but recorded 04-02.
    assert "meds.mar" not in march["improvement_status"]
    assert april["isolated_themes"] == ["meds.mar"]
    assert april["improvement_status"]["meds.mar"] == {
        "2026-01-31": "no_adverse_signal_yet",
        "2026-02-28": "no_adverse_signal_yet",
        "2026-03-31": "no_adverse_signal_yet",
        "2026-04-30": "early",
    }
    assert drift_row(april, "meds.mar", None, "2026-03")["E"] == "1.00"
    assert right.payload["corrects"] == wrong.event_id


def test_a_withdrawal_takes_effect_at_its_own_instant_not_before() -> None:
    h = meds_history()
    item = h.evidence("meds.mar", 2, "2026-02-01", team="north")
    h.withdraw(item, "2026-02-10T12:00:00Z")
    assert h.analyse("2026-02-10T11:59:59Z")["isolated_themes"] == ["meds.mar"]
    assert h.analyse("2026-02-10T12:00:00Z")["isolated_themes"] == []


def test_evidence_withdrawn_later_still_counts_where_a_rule_reads_an_earlier_instant() -> None:
    h = meds_history()
    h.evidence("meds.mar", 2, "2026-01-10", team="north")
    gone = h.evidence("meds.mar", 2, "2026-02-10", team="north")
    h.evidence("meds.mar", 4, "2026-03-10", team="north")
    h.withdraw(gone, "2026-04-05")
    document = h.analyse("2026-04-30")
    # Check: the improvement status on 02-28 was judged with the 02-10 signal known then ...
    assert document["improvement_status"]["meds.mar"] == {
        "2026-01-31": "not_improving",
        "2026-02-28": "not_improving",
        "2026-03-31": "early",
        "2026-04-30": "insufficient_evidence",
    }
    # ... and without it had it never been recorded, the February status would be 'early'.
    assert h.without(gone).analyse("2026-04-30")["improvement_status"]["meds.mar"]["2026-02-28"] == "early"
    # Check: E as of A leaves the withdrawn item out.
    assert drift_row(document, "meds.mar", None, "2026-02")["E"] is None
    assert drift_row(document, "meds.mar", None, "2026-01")["E"] == "2.00"


def test_withdrawn_evidence_is_no_part_of_e_nor_of_the_scopes() -> None:
    h = meds_history()
    h.evidence("meds.mar", 4, "2026-01-10", team="north")
    east = h.evidence("meds.mar", 1, "2026-01-11", team="east")
    h.withdraw(east, "2026-01-20")
    before = h.analyse("2026-01-19")
    after = h.analyse("2026-01-31")
    assert drift_row(before, "meds.mar", None, "2026-01")["E"] == "2.50"
    assert drift_row(before, "meds.mar", "team:east", "2026-01")["E"] == "1.00"
    assert drift_row(after, "meds.mar", None, "2026-01")["E"] == "4.00"
    assert [r["scope"] for r in after["drift"] if r["theme"] == "meds.mar"] == [None, "team:north"]


def test_a_scope_whose_only_evidence_is_withdrawn_gets_no_t4_and_no_sampled_entry() -> None:
    h = meds_history()
    east = [h.evidence("meds.mar", 2, day, team="east") for day in ("2026-01-05", "2026-01-10", "2026-01-15")]
    north = [h.evidence("meds.mar", 2, day, team="north") for day in ("2026-01-06", "2026-01-11", "2026-01-16")]
    for item in east:
        h.withdraw(item, "2026-02-01")
    before = h.analyse("2026-01-31")
    after = h.analyse("2026-02-28")
    assert [r[2] for r in triggers(before, "T4")] == ["team:east", "team:north"]
    assert triggers(after, "T4") == [("T4", "meds.mar", "team:north", "2026-01-16", [north[2].event_id])]
    assert before["recognition"][0]["extent"] == "service_wide"
    assert after["recognition"][0]["affected_scopes"] == ["team:north"]
    assert after["recognition"][0]["sampled_scopes"] == ["team:north"]
    assert after["recognition"][0]["extent"] == "local"


# Pattern-detectable instants (§7.4) and reporting months (§10.1) ----------------------------


def test_the_pattern_detectable_event_may_be_one_withdrawn_since() -> None:
    h = meds_history()
    h.evidence("meds.mar", 2, "2026-01-05", team="north")
    h.evidence("meds.mar", 2, "2026-01-10", team="north")
    third = h.evidence("meds.mar", 2, "2026-01-15", team="north")
    h.evidence("meds.mar", 2, "2026-01-20", team="north")
    h.withdraw(third, "2026-03-01")
    row = h.analyse("2026-03-31")["recognition"][0]
    # Check: the rule was met when the third signal was recorded; it was known then.
    assert row["pattern_detectable"] == third.event_id
    assert row["pattern_detectable_recorded"] == "2026-01-15"


def test_a_pattern_only_a_withdrawn_signal_completed_is_no_longer_an_episode_of_three() -> None:
    h = meds_history()
    ids = [h.evidence("meds.mar", 2, day, team="north") for day in ("2026-01-05", "2026-01-10", "2026-01-15")]
    h.withdraw(ids[1], "2026-02-20")
    assert len(h.analyse("2026-02-19")["recognition"]) == 1
    after = h.analyse("2026-03-31")
    assert after["recognition"] == [] and after["isolated_themes"] == ["meds.mar"]
    # Check: T1 is evaluated for the repeated episodes reported as of A (§14.1): there are none.
    assert triggers(h.analyse("2026-02-19"), "T1") != []
    assert triggers(after, "T1") == []
    # T4 ranges over instants: at 01-15 the scope's three signals were known, so it stays.
    assert triggers(after, "T4") == [("T4", "meds.mar", "team:north", "2026-01-15", [ids[2].event_id])]


def test_reporting_months_start_with_the_first_recording_even_if_withdrawn() -> None:
    h = History()
    h.theme("calls", recorded="2026-03-01")
    first = h.evidence("calls", 3, "2025-12-20", "2026-01-02", team="north")
    h.withdraw(first, "2026-02-02")
    h.evidence("calls", 3, "2026-03-02", team="north")
    months = [r["month"] for r in h.analyse("2026-03-31")["drift"] if r["scope"] is None]
    assert months == ["2026-01", "2026-02", "2026-03"]


# Amendments -----------------------------------------------------------------------------------


def test_a_withdrawn_amendment_no_longer_applies_and_the_payload_reverts() -> None:
    h = meds_history()
    item = h.evidence("meds.mar", 3, "2026-02-09", "2026-02-10", team="south")
    amendment = h.amend(item, "2026-02-13", evidence_score=2)
    h.amend(item, "2026-02-14", summary="note")
    h.withdraw(amendment, "2026-03-03")
    assert drift_row(h.analyse("2026-02-28"), "meds.mar", None, "2026-02")["E"] == "2.00"
    document = h.analyse("2026-03-31")
    assert drift_row(document, "meds.mar", None, "2026-02")["E"] == "3.00"
    # Check: the February status was decided with the amendment known then.
    assert document["improvement_status"] == {}
    assert h.analyse("2026-03-02")["improvement_status"]["meds.mar"]["2026-02-28"] == "not_improving"


def test_a_later_amendment_of_the_same_field_wins_until_it_is_withdrawn() -> None:
    h = meds_history()
    item = h.evidence("meds.mar", 3, "2026-01-05", team="north")
    h.amend(item, "2026-01-06", evidence_score=1)
    later = h.amend(item, "2026-01-07", evidence_score=4)
    h.withdraw(later, "2026-01-08")
    assert drift_row(h.analyse("2026-01-07T23:00:00Z"), "meds.mar", None, "2026-01")["E"] == "4.00"
    assert drift_row(h.analyse("2026-01-31"), "meds.mar", None, "2026-01")["E"] == "1.00"


def test_t2_that_fired_at_an_amendment_withdrawn_since_stays_fired() -> None:
    h = meds_history()
    headline = h.headline("meds", 3, "AUD-1", "2026-02-10", team="south")
    section = h.evidence(
        "meds.mar", 3, "2026-02-09", "2026-02-10", team="south", kind="AuditSectionScored", audit_id="AUD-1"
    )
    amendment = h.amend(section, "2026-02-13", evidence_score=2)
    h.withdraw(amendment, "2026-03-05")
    expected = [("T2", "meds", "team:south", "2026-02-13", [headline.event_id, section.event_id])]
    assert triggers(h.analyse("2026-02-28"), "T2") == expected
    assert triggers(h.analyse("2026-03-31"), "T2") == expected


def test_t2_fires_when_a_withdrawal_lowers_a_section_again() -> None:
    h = meds_history()
    section = h.evidence(
        "meds.mar", 2, "2026-02-09", "2026-02-10T09:00:00Z", team="south", kind="AuditSectionScored", audit_id="AUD-1"
    )
    raised = h.amend(section, "2026-02-10T10:00:00Z", evidence_score=3)
    headline = h.headline("meds", 3, "AUD-1", "2026-02-11", team="south")
    assert triggers(h.analyse("2026-03-31"), "T2") == []
    h.withdraw(raised, "2026-03-05T16:00:00Z")
    assert triggers(h.analyse("2026-03-05T15:59:59Z"), "T2") == []
    assert triggers(h.analyse("2026-03-31"), "T2") == [
        ("T2", "meds", "team:south", "2026-03-05", [headline.event_id, section.event_id])
    ]


def test_a_withdrawn_headline_or_section_is_not_among_those_t2_reports_on() -> None:
    h = meds_history()
    headline = h.headline("meds", 3, "AUD-1", "2026-02-10", team="south")
    section = h.evidence(
        "meds.mar", 2, "2026-02-09", "2026-02-10", team="south", kind="AuditSectionScored", audit_id="AUD-1"
    )
    assert len(triggers(h.analyse("2026-02-28"), "T2")) == 1
    withdrawal = h.withdraw(section, "2026-03-01")
    assert triggers(h.analyse("2026-03-31"), "T2") == []
    other = h.without(withdrawal)
    other.withdraw(headline, "2026-03-01")
    assert triggers(other.analyse("2026-02-28"), "T2") != []
    assert triggers(other.analyse("2026-03-31"), "T2") == []


def test_t5_counts_the_instant_an_amendment_is_withdrawn_as_a_moment() -> None:
    h = meds_history()
    validation = h.evidence("meds.mar", 3, "2026-03-20", team="north", kind="ValidationSampled")
    h.amend(validation, "2026-03-24T10:00:00Z", evidence_score=2)
    raised = h.amend(validation, "2026-03-24T10:00:00Z", evidence_score=3)
    assert triggers(h.analyse("2026-03-31"), "T5") == []
    h.withdraw(raised, "2026-03-27")
    assert triggers(h.analyse("2026-03-31"), "T5") == [
        ("T5", "meds.mar", "team:north", "2026-03-27", [validation.event_id])
    ]


def test_a_withdrawn_validation_fires_no_t5_as_of_after_its_withdrawal() -> None:
    h = meds_history()
    validation = h.evidence("meds.mar", 2, "2026-03-20", team="north", kind="ValidationSampled")
    h.withdraw(validation, "2026-03-25")
    assert len(triggers(h.analyse("2026-03-24"), "T5")) == 1
    assert triggers(h.analyse("2026-03-31"), "T5") == []


# Judgements ------------------------------------------------------------------------------------


def test_a_withdrawn_judgement_is_no_judgement_and_the_previous_one_is_latest_again() -> None:
    h = meds_history()
    h.evidence("meds.mar", 3, "2026-02-05", team="north")
    h.evidence("meds.mar", 3, "2026-03-05", team="north")
    first = h.judgement("meds", 3, "2026-01-10")
    second = h.judgement("meds", 1, "2026-02-10")
    h.withdraw(second, "2026-03-10")
    document = h.analyse("2026-03-31")
    # Check: February's J was stated by its month end, when the second judgement was known.
    assert drift_row(document, "meds", None, "2026-02")["J_event"] == second.event_id
    assert drift_row(document, "meds", None, "2026-03")["J_event"] == first.event_id
    assert drift_row(document, "meds", None, "2026-03")["J"] == 3
    assert drift_row(h.analyse("2026-03-09"), "meds", None, "2026-03")["J_event"] == second.event_id


def test_a_withdrawn_acknowledgement_gives_way_to_the_next_qualifying_judgement() -> None:
    h = meds_history()
    ids = [h.evidence("meds.mar", 2, day, team="north") for day in ("2026-01-05", "2026-01-10", "2026-01-15")]
    first = h.judgement("meds", 2, "2026-01-20")
    second = h.judgement("meds", 2, "2026-02-20")
    h.withdraw(first, "2026-03-10")
    before = h.analyse("2026-03-09")["recognition"][0]
    after = h.analyse("2026-03-31")["recognition"][0]
    assert before["acknowledgement"] == first.event_id
    assert before["after_acknowledgement"] == [{"event_id": second.event_id, "status": "acknowledged"}]
    assert after["acknowledgement"] == second.event_id and after["ack_recorded"] == "2026-02-20"
    assert after["after_acknowledgement"] == []
    # Check: T1's fire day (01-29) is judged with its own knowledge: the first judgement was
    # known then and acknowledged, so no T1 fires, also as of after the withdrawal.
    assert triggers(h.analyse("2026-03-31"), "T1") == []
    assert ids[0].event_id == after["first_signal"]


def test_t1_fires_when_the_acknowledgement_known_on_its_fire_day_was_withdrawn_before_it() -> None:
    h = meds_history()
    ids = [h.evidence("meds.mar", 2, day, team="north") for day in ("2026-01-05", "2026-01-10", "2026-01-15")]
    ack = h.judgement("meds", 2, "2026-01-20")
    h.withdraw(ack, "2026-01-25")
    assert triggers(h.analyse("2026-03-31"), "T1") == [("T1", "meds.mar", None, "2026-01-29", [ids[2].event_id])]
    assert h.analyse("2026-03-31")["recognition"][0]["acknowledgement"] is None


def test_a_withdrawn_judgement_after_the_acknowledgement_is_not_listed() -> None:
    h = meds_history()
    for day in ("2026-01-05", "2026-01-10", "2026-01-15"):
        h.evidence("meds.mar", 2, day, team="north")
    h.judgement("meds", 2, "2026-01-20")
    later = h.judgement("meds", 3, "2026-02-20")
    h.withdraw(later, "2026-03-01")
    assert [a["event_id"] for a in h.analyse("2026-02-28")["recognition"][0]["after_acknowledgement"]] == [
        later.event_id
    ]
    assert h.analyse("2026-03-31")["recognition"][0]["after_acknowledgement"] == []


def test_t7_is_not_raised_by_a_judgement_withdrawn_by_a() -> None:
    h = meds_history()
    h.evidence("meds.mar", 2, "2026-01-14", team="north")
    report = h.judgement("meds", 3, "2026-02-12", confidence="high")
    h.withdraw(report, "2026-03-01")
    assert len(triggers(h.analyse("2026-02-28"), "T7")) == 1
    assert triggers(h.analyse("2026-03-31"), "T7") == []


def test_t7_reads_evidence_known_at_the_judgement_even_if_withdrawn_since() -> None:
    h = meds_history()
    early = h.evidence("meds.mar", 2, "2026-01-14", team="north")
    report = h.judgement("meds", 3, "2026-02-12", confidence="high")
    h.withdraw(early, "2026-03-01")
    assert triggers(h.analyse("2026-03-31"), "T7") == [
        ("T7", "meds", None, "2026-02-12", [report.event_id, early.event_id])
    ]


def test_the_lapsed_check_reads_signals_known_at_the_judgement_even_if_withdrawn_since() -> None:
    h = meds_history()
    for day in ("2026-01-05", "2026-01-10", "2026-01-15"):
        h.evidence("meds.mar", 2, day, team="north")
    h.judgement("meds", 2, "2026-01-20")
    late_signal = h.evidence("meds.mar", 2, "2026-02-15", team="north")
    stand_down = h.judgement("meds", 3, "2026-03-25")
    withdrawal = h.withdraw(late_signal, "2026-03-28")
    after = h.analyse("2026-03-31")["recognition"][0]["after_acknowledgement"]
    # Check: at 03-25 the 02-15 signal (38 days before) was known: lapsed, though withdrawn since.
    assert after == [{"event_id": stand_down.event_id, "status": "lapsed"}]
    never = h.without(late_signal, withdrawal).analyse("2026-03-31")["recognition"][0]
    assert never["after_acknowledgement"] == [{"event_id": stand_down.event_id, "status": "stood_down"}]


# Reviews ---------------------------------------------------------------------------------------


def test_a_withdrawn_review_is_as_if_never_held() -> None:
    h = History()
    h.cadence("rm_monthly", 31, "2026-01-01", "2026-01-01")
    h.review("rm_monthly", "2026-01-28")
    draft = h.review("rm_monthly", "2026-02-25")
    h.review("rm_monthly", "2026-03-20")
    h.withdraw(draft, "2026-04-02")
    assert h.analyse("2026-04-01")["reviews"]["overdue"] == []
    assert h.analyse("2026-04-30")["reviews"]["overdue"] == [
        {"level": "rm_monthly", "due_by": "2026-02-28", "held": "2026-03-20", "days_overdue": 20},
        {"level": "rm_monthly", "due_by": "2026-04-20", "held": None, "days_overdue": 10},
    ]


def test_a_withdrawn_cadence_setting_gives_way_to_the_one_before() -> None:
    h = History()
    h.cadence("rm_monthly", 31, "2026-01-01", "2026-01-01")
    wrong = h.cadence("rm_monthly", 7, "2026-01-01", "2026-01-02")
    h.review("rm_monthly", "2026-01-28")
    assert h.analyse("2026-01-31")["reviews"]["overdue"][0]["due_by"] == "2026-01-08"
    h.withdraw(wrong, "2026-02-01")
    assert h.analyse("2026-02-10")["reviews"]["overdue"] == []
    h.withdraw(h.entries[0], "2026-02-11")
    assert h.analyse("2026-06-30")["reviews"] == {"overdue": [], "late_recorded": []}


def test_a_withdrawn_late_recorded_review_is_no_longer_late_recorded() -> None:
    h = History()
    h.cadence("rm_monthly", 31, "2026-01-01", "2026-01-01")
    late = h.review("rm_monthly", "2026-01-28", "2026-02-20")
    h.review("rm_monthly", "2026-01-28", "2026-01-28")
    h.withdraw(late, "2026-02-21")
    assert len(h.analyse("2026-02-20")["reviews"]["late_recorded"]) == 1
    assert h.analyse("2026-02-28")["reviews"]["late_recorded"] == []


# What a withdrawal never touches ---------------------------------------------------------------


def test_withdrawing_a_theme_definition_or_a_withdrawal_has_no_effect() -> None:
    h = meds_history()
    h.evidence("meds.mar", 2, "2026-01-05", team="north")
    withdrawal = h.withdraw(h.entries[1], "2026-01-06")  # the ThemeDefined of meds.mar
    h.withdraw(withdrawal, "2026-01-07")
    document = h.analyse("2026-01-31")
    assert document["isolated_themes"] == ["meds.mar"]
    assert [r["theme"] for r in document["drift"] if r["scope"] is None] == ["meds", "meds.mar", "meds.time"]


def test_a_withdrawn_registration_and_replacements_do_not_change_the_analysis() -> None:
    h = meds_history()
    registration = h.add("ServiceRegistered", "2026-01-01T07:00:00Z", {"service_type": "x", "scopes": []})
    h.evidence("meds.mar", 2, "2026-01-05", team="north")
    h.judgement("meds", 3, "2026-01-06", confidence="high")
    h.evidence("meds.mar", 3, "2026-01-07", team="north", corrects="nothing-withdrawn")
    plain = h.analyse("2026-03-31")
    h.withdraw(registration, "2026-01-10")
    assert h.analyse("2026-03-31") == plain


def test_a_withdrawal_naming_no_event_is_read_by_no_rule() -> None:
    h = meds_history()
    h.evidence("meds.mar", 2, "2026-01-05", team="north")
    h.judgement("meds", 3, "2026-01-06")
    plain = h.analyse("2026-03-31")
    h.withdraw("NO-SUCH-EVENT", "2026-01-08")
    assert h.analyse("2026-03-31") == plain


def test_the_first_withdrawal_of_an_event_in_log_order_is_the_one_that_counts() -> None:
    h = meds_history()
    item = h.evidence("meds.mar", 2, "2026-01-05", team="north")
    h.withdraw(item, "2026-01-10")
    h.withdraw(item, "2026-01-20")
    assert h.analyse("2026-01-15")["isolated_themes"] == []
