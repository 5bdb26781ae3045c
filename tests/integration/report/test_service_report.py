"""The service report of the worked example, read back from its HTML: every figure shown equals
the analysis document (examples/*.expected.json), as of 2026-06-30 and as of 2026-03-31."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import harbour_lines
from tests.integration.report.fixtures import EXPECTED, MADE_AT, SERVICE
from tests.integration.report.htmlparse import Node, int_or_none, nullable, parse

DAYS = list(EXPECTED)
AS_OF = {"2026-06-30": "2026-06-30T23:59:59Z", "2026-03-31": "2026-03-31T23:59:59Z"}


def _events_by_id() -> dict[str, dict[str, Any]]:
    return {e["event_id"]: e for e in harbour_lines()}


def _after(text: str | None) -> list[dict[str, str]]:
    return [{"event_id": p.split(":")[0], "status": p.split(":")[1]} for p in (text or "").split()]


@pytest.mark.parametrize("day", DAYS)
def test_the_report_is_of_the_service_as_of_the_instant_asked(
    pages: dict[str, Node], expected: dict[str, Any], day: str
) -> None:
    header = pages[day].find("header", cls="report-header")
    assert header is not None
    assert header.get("data-service") == SERVICE
    assert header.get("data-as-of") == expected[day]["as_of"] == AS_OF[day]


@pytest.mark.parametrize("day", DAYS)
def test_the_recognition_timelines_show_the_analysis_lags_and_milestones(
    pages: dict[str, Node], expected: dict[str, Any], day: str
) -> None:
    keys = [
        "theme",
        "first_signal",
        "first_signal_observed",
        "pattern_detectable",
        "pattern_detectable_recorded",
        "acknowledgement",
        "ack_recorded",
        "recognition_lag_days",
        "detectable_lag_days",
        "claimed_lag_days",
        "open_lag_days",
        "after_acknowledgement",
    ]
    want = [{k: r[k] for k in keys} for r in expected[day]["recognition"]]
    got = [
        {
            "theme": f.get("data-theme"),
            "first_signal": f.get("data-first-signal"),
            "first_signal_observed": f.get("data-first-observed"),
            "pattern_detectable": f.get("data-detectable"),
            "pattern_detectable_recorded": f.get("data-detectable-recorded"),
            "acknowledgement": nullable(f.get("data-ack")),
            "ack_recorded": nullable(f.get("data-ack-recorded")),
            "recognition_lag_days": int_or_none(f.get("data-lag")),
            "detectable_lag_days": int_or_none(f.get("data-detectable-lag")),
            "claimed_lag_days": int_or_none(f.get("data-claimed-lag")),
            "open_lag_days": int_or_none(f.get("data-open-lag")),
            "after_acknowledgement": _after(f.get("data-after")),
        }
        for f in pages[day].find_all("figure", cls="recognition")
    ]
    assert got == want
    table_rows = [
        (
            r.get("data-theme"),
            int_or_none(r.get("data-lag")),
            int_or_none(r.get("data-detectable-lag")),
            int_or_none(r.get("data-claimed-lag")),
            int_or_none(r.get("data-open-lag")),
        )
        for r in pages[day].find_all("tr", cls="recognition-row")
    ]
    assert table_rows == [
        (r["theme"], r["recognition_lag_days"], r["detectable_lag_days"], r["claimed_lag_days"], r["open_lag_days"])
        for r in want
    ]


@pytest.mark.parametrize("day", DAYS)
def test_the_first_signal_is_shown_observed_and_recorded_and_a_claimed_date_where_it_differs(
    pages: dict[str, Node], expected: dict[str, Any], day: str
) -> None:
    events = _events_by_id()
    for f in pages[day].find_all("figure", cls="recognition"):
        first = events[f.get("data-first-signal")]  # type: ignore[index]
        assert f.get("data-first-recorded") == first["recorded_at"][:10]
        ack = events[f.get("data-ack")]  # type: ignore[index]
        assert f.get("data-claimed") == ack["observed_at"][:10]
        lanes = {g.get("data-lane") for g in f.find_all("g", cls="milestone")}
        claimed_differs = ack["observed_at"][:10] != ack["recorded_at"][:10]
        assert ("Acknowledgement claimed" in lanes) == claimed_differs
    by_theme = {f.get("data-theme"): f for f in pages[day].find_all("figure", cls="recognition")}
    referrals = by_theme["safeguarding.referrals"]
    assert (
        referrals.get("data-claimed"),
        referrals.get("data-ack-recorded"),
        referrals.get("data-claimed-lag"),
        referrals.get("data-lag"),
    ) == ("2026-02-27", "2026-03-20", "37", "58")
    mar = by_theme["medicines.mar_charts"]
    if day == "2026-06-30":  # the paper check typed in on 8 April moved the first signal
        assert (
            mar.get("data-first-signal"),
            mar.get("data-first-observed"),
            mar.get("data-first-recorded"),
            mar.get("data-lag"),
        ) == ("HHC-051", "2026-01-07", "2026-04-08", "68")
    else:
        assert (mar.get("data-first-signal"), mar.get("data-lag")) == ("HHC-014", "61")


@pytest.mark.parametrize("day", DAYS)
def test_later_lapses_and_stand_downs_are_on_the_timeline(
    pages: dict[str, Node], expected: dict[str, Any], day: str
) -> None:
    for f, r in zip(pages[day].find_all("figure", cls="recognition"), expected[day]["recognition"], strict=True):
        lanes = [g.get("data-lane") for g in f.find_all("g", cls="milestone")]
        assert [lane for lane in lanes if lane and lane.startswith("Then ")] == [
            f"Then {a['event_id']}" for a in r["after_acknowledgement"]
        ]
        desc = f.find("desc")
        assert desc is not None
        for a in r["after_acknowledgement"]:
            assert a["event_id"] in desc.text


@pytest.mark.parametrize("day", DAYS)
def test_every_drift_row_is_shown_with_the_analysis_figures(
    pages: dict[str, Node], expected: dict[str, Any], day: str
) -> None:
    got = [
        {
            "theme": r.get("data-theme"),
            "scope": nullable(r.get("data-scope")),
            "month": r.get("data-month"),
            "J": int_or_none(r.get("data-j")),
            "J_event": nullable(r.get("data-j-event")),
            "E": nullable(r.get("data-e")),
            "D": nullable(r.get("data-d")),
            "sign": int_or_none(r.get("data-sign")),
        }
        for r in pages[day].find_all("tr", cls="drift-row")
    ]
    assert got == expected[day]["drift"]


@pytest.mark.parametrize("day", DAYS)
def test_each_theme_has_a_drift_chart_plotting_j_and_e_month_by_month(
    pages: dict[str, Node], expected: dict[str, Any], day: str
) -> None:
    theme_rows: dict[str, list[dict[str, Any]]] = {}
    for r in expected[day]["drift"]:
        if r["scope"] is None:
            theme_rows.setdefault(r["theme"], []).append(r)
    charts = pages[day].find_all("svg", cls="drift-chart")
    assert [c.get("data-theme") for c in charts] == list(theme_rows)
    for chart in charts:
        rows = theme_rows[chart.get("data-theme")]  # type: ignore[index]
        months = chart.find_all("g", cls="month")
        assert [
            (
                g.get("data-month"),
                int_or_none(g.get("data-j")),
                nullable(g.get("data-e")),
                nullable(g.get("data-d")),
                int_or_none(g.get("data-sign")),
            )
            for g in months
        ] == [(r["month"], r["J"], r["E"], r["D"], r["sign"]) for r in rows]
        for g, r in zip(months, rows, strict=True):
            gap = g.find("rect", cls="gap-rect")
            has_gap = r["J"] is not None and r["E"] is not None and float(r["E"]) != r["J"]
            assert (gap is not None) == has_gap, r
            if gap is not None:
                assert gap.get("data-d") == r["D"]
                # hatched, one way or the other, as well as coloured
                assert gap.get("data-pattern") == ("diagonal" if r["J"] > float(r["E"]) else "horizontal")
                hatch = gap.parent.find("path", cls="gap-hatch")  # type: ignore[union-attr]
                assert hatch is not None and (hatch.get("d") or "").count("M") >= 1
            assert (g.find("rect", cls="j-point") is not None) == (r["J"] is not None)
            assert (g.find("circle", cls="e-point") is not None) == (r["E"] is not None)
            label = g.find("text", cls="d-label")
            assert label is not None and label.text == "D " + (
                "\u2013" if r["D"] is None else (r["D"] if r["D"].startswith("-") else "+" + r["D"])
            )


@pytest.mark.parametrize("day", DAYS)
def test_the_months_where_t3_fired_are_marked_on_the_drift_charts(
    pages: dict[str, Node], expected: dict[str, Any], day: str
) -> None:
    want = sorted(
        (t["theme"], t["fired_on"][:7], t["scope"] or "")
        for t in expected[day]["triggers"]
        if t["trigger"] == "T3_SUSTAINED_OPTIMISM"
    )
    got = []
    for chart in pages[day].find_all("svg", cls="drift-chart"):
        for mark in chart.find_all("g", cls="t3"):
            if mark.get("data-month"):
                got += [
                    (chart.get("data-theme"), mark.get("data-month"), scope)
                    for scope in (mark.get("data-scopes") or "").split("|")
                ]
                assert "T3" in mark.text
    assert sorted(got) == want
    assert len(want) == 3


@pytest.mark.parametrize("day", DAYS)
def test_the_triggers_and_the_events_they_cite_equal_the_analysis(
    pages: dict[str, Node], expected: dict[str, Any], day: str
) -> None:
    page = pages[day]
    rows = page.find_all("tr", cls="trigger-row")
    got = [
        {
            "trigger": r.get("data-trigger"),
            "theme": nullable(r.get("data-theme")),
            "scope": nullable(r.get("data-scope")),
            "fired_on": r.get("data-fired-on"),
            "events": (r.get("data-events") or "").split(),
        }
        for r in rows
    ]
    assert got == expected[day]["triggers"]
    assert len(got) == {"2026-06-30": 16, "2026-03-31": 14}[day]
    for row, trigger in zip(rows, expected[day]["triggers"], strict=True):
        links = [a for a in row.find_all("a") if (a.get("href") or "").startswith("#ev-")]
        assert [a.text for a in links] == trigger["events"]
        for a in links:
            target = page.by_id(a.get("href")[1:])  # type: ignore[index]
            assert target is not None and target.get("data-event") == a.text


@pytest.mark.parametrize("day", DAYS)
def test_overdue_and_late_recorded_reviews_equal_the_analysis(
    pages: dict[str, Node], expected: dict[str, Any], day: str
) -> None:
    section = pages[day].by_id("reviews")
    assert section is not None
    overdue = [
        {
            "level": r.get("data-level"),
            "due_by": r.get("data-due"),
            "held": nullable(r.get("data-held")),
            "days_overdue": int(r.get("data-days") or "x"),
        }
        for r in section.find_all("tr", cls="overdue-row")
    ]
    late = [
        {
            "event_id": r.get("data-event"),
            "level": r.get("data-level"),
            "held": r.get("data-held"),
            "recorded": r.get("data-recorded"),
            "days_late": int(r.get("data-days") or "x"),
        }
        for r in section.find_all("tr", cls="late-row")
    ]
    assert {"overdue": overdue, "late_recorded": late} == expected[day]["reviews"]
    if day == "2026-03-31":
        assert overdue == [{"level": "rm_monthly", "due_by": "2026-03-28", "held": None, "days_overdue": 3}]
        assert "not held yet" in section.text


@pytest.mark.parametrize("day", DAYS)
def test_the_review_schedules_show_cadence_due_and_held_dates_consistent_with_the_analysis(
    pages: dict[str, Node], expected: dict[str, Any], day: str
) -> None:
    section = pages[day].by_id("reviews")
    assert section is not None
    assert "rm_monthly: every 31 days from 2026-01-01" in section.text
    assert "senior_quarterly: every 92 days from 2026-01-01" in section.text
    rows = section.find_all("tr", cls="schedule-row")
    rm = [(r.get("data-due"), nullable(r.get("data-held"))) for r in rows if r.get("data-level") == "rm_monthly"]
    if day == "2026-06-30":
        assert rm == [
            ("2026-02-01", "2026-01-28"),
            ("2026-02-28", "2026-02-25"),
            ("2026-03-28", "2026-03-26"),
            ("2026-04-26", "2026-04-23"),
            ("2026-05-24", "2026-05-21"),
            ("2026-06-21", "2026-06-18"),
            ("2026-07-19", None),
        ]
    else:
        assert rm == [("2026-02-01", "2026-01-28"), ("2026-02-28", "2026-02-25"), ("2026-03-28", None)]
    overdue_in_schedule = {(r.get("data-level"), r.get("data-due")) for r in rows if "overdue" in r.text}
    assert overdue_in_schedule == {(o["level"], o["due_by"]) for o in expected[day]["reviews"]["overdue"]}


@pytest.mark.parametrize("day", DAYS)
def test_the_improvement_status_table_equals_the_analysis(
    pages: dict[str, Node], expected: dict[str, Any], day: str
) -> None:
    got: dict[str, dict[str, str]] = {}
    for r in pages[day].find_all("tr", cls="status-row"):
        got[r.get("data-theme")] = {
            td.get("data-date"): td.get("data-status") for td in r.find_all("td") if td.get("data-status")
        }  # type: ignore[index]
    assert got == expected[day]["improvement_status"]


@pytest.mark.parametrize("day", DAYS)
def test_the_governance_view_shows_judgement_and_confidence_beside_evidence_sign_status_and_actions(
    harbour_ledger: Any, pages: dict[str, Node], day: str
) -> None:
    from insightlog.analysis.governance import service_governance
    from insightlog.application.taxonomy import load_taxonomies
    from insightlog.interchange.timeutil import parse_as_of

    gov = service_governance(
        list(harbour_ledger.service_entries(SERVICE)), SERVICE, parse_as_of(day), load_taxonomies(harbour_ledger)
    )
    want = [
        (
            r["theme"],
            r["judgement"]["score"] if r["judgement"] else None,
            r["judgement"]["confidence"] if r["judgement"] else None,
            r["judgement"]["event_id"] if r["judgement"] else None,
            r["this_month"]["E"],
            r["this_month"]["sign"],
            r["previous_month"]["E"],
            r["previous_month"]["sign"],
            r["improvement_status"],
            [a["action_id"] for a in r["open_actions"]],
        )
        for r in gov.rows
    ]
    got = [
        (
            r.get("data-theme"),
            int_or_none(r.get("data-j")),
            nullable(r.get("data-confidence")),
            nullable(r.get("data-j-event")),
            nullable(r.get("data-e")),
            int_or_none(r.get("data-sign")),
            nullable(r.get("data-prev-e")),
            int_or_none(r.get("data-prev-sign")),
            nullable(r.get("data-status")),
            (r.get("data-actions") or "").split(),
        )
        for r in pages[day].find_all("tr", cls="governance-row")
    ]
    assert got == want
    mar = next(g for g in got if g[0] == "medicines.mar_charts")
    if day == "2026-03-31":  # the RM's 16 March exception scores MAR 2; the north action is open
        assert mar[1:4] == (2, "qualified", "HHC-045") and mar[9] == ["LIL-MAR-01"]
        assert (mar[4], mar[5]) == ("2.50", 0)


@pytest.mark.parametrize("day", DAYS)
def test_the_evidence_table_shows_both_times_and_flags_late_imported_and_amended_entries(
    pages: dict[str, Node], day: str
) -> None:
    events = _events_by_id()
    cut = AS_OF[day]
    known = [e for e in harbour_lines() if e["recorded_at"] <= cut]
    rows = pages[day].find_all("tr", cls="evidence-row")
    assert sorted(r.get("data-event") for r in rows) == sorted(e["event_id"] for e in known)  # type: ignore[type-var]
    for r in rows:
        e = events[r.get("data-event")]  # type: ignore[index]
        assert (r.get("data-observed"), r.get("data-recorded")) == (e["observed_at"], e["recorded_at"])
        flags = (r.get("data-flags") or "").split()
        assert "imported" in flags  # the worked example came in by import
        assert ("late" in flags) == (e["observed_at"][:10] != e["recorded_at"][:10])
    by_id = {r.get("data-event"): r for r in rows}
    assert "HHC-046" in by_id and "late" in by_id["HHC-046"].get("data-flags", "")  # type: ignore[operator]
    # amendments beside what they corrected
    for amended, amendment in (("HHC-026", "HHC-030"), ("HHC-025", "HHC-031")):
        row = by_id[amended]
        assert "amended" in (row.get("data-flags") or "").split()
        note = row.find(cls="amendment")
        assert note is not None and note.get("data-amended-by") == amendment
        assert by_id[amendment].get("data-amends") == amended
    assert "13 \u2192 10" in by_id["HHC-026"].text
    assert ("HHC-051" in by_id) == (day == "2026-06-30")


def test_the_march_replay_shows_nothing_recorded_later(pages: dict[str, Node]) -> None:
    page = pages["2026-03-31"]
    shown = {r.get("data-event") for r in page.find_all("tr", cls="evidence-row")}
    later = {e["event_id"] for e in harbour_lines() if e["recorded_at"] > "2026-03-31T23:59:59Z"}
    assert later and not (shown & later)
    body = page.find("main")
    assert body is not None
    for event_id in later:
        assert event_id not in body.text
    assert [
        r.get("data-month")
        for r in page.find_all("tr", cls="drift-row")
        if r.get("data-theme") == "medicines" and not r.get("data-scope")
    ] == ["2026-01", "2026-02", "2026-03"]


def test_the_integrity_section_says_the_store_verified_and_that_nothing_is_signed_yet(pages: dict[str, Node]) -> None:
    section = pages["2026-06-30"].by_id("integrity")
    assert section is not None
    status = section.find(where=lambda n: n.get("data-verified") is not None)
    assert status is not None and status.get("data-verified") == "true"
    assert "70 stored events" in status.text
    assert "2026-07-01T08:00:00Z" in status.text
    assert "No checkpoint has been taken" in section.text


def test_the_integrity_section_shows_the_latest_checkpoint_its_signatures_and_timestamp(tmp_path: Path) -> None:
    from insightlog.application.ledger import open_ledger, read_file_lines
    from insightlog.application.proofs import cosign_checkpoint, latest_checkpoint, take_checkpoint
    from insightlog.application.reports import service_report_html
    from insightlog.interchange.timeutil import parse_as_of
    from insightlog.proof.keys import create_key_files
    from insightlog.storage.settings import StoreSettings
    from tests.helpers import HARBOUR

    settings = StoreSettings(sqlite_path=str(tmp_path / "signed.sqlite"))
    ledger = open_ledger(settings)
    try:
        ledger.import_lines(read_file_lines(HARBOUR), source_name=HARBOUR.name)
        create_key_files(tmp_path / "provider.key", tmp_path / "provider.key.pub")
        create_key_files(tmp_path / "chair.key", tmp_path / "chair.key.pub")
        take_checkpoint(ledger, tmp_path / "provider.key")
        cosign_checkpoint(ledger, tmp_path / "chair.key", role="witness")
        stored = latest_checkpoint(ledger)
        assert stored is not None
        page = parse(service_report_html(ledger, SERVICE, parse_as_of("2026-06-30"), now=MADE_AT))
        section = page.by_id("integrity")
        assert section is not None
        table = section.find("table", cls="checkpoint")
        assert table is not None
        assert (table.get("data-size"), table.get("data-signatures")) == ("70", "2")
        assert stored.signed.checkpoint.root_hash.hex() in table.text
        for sig in stored.signed.signatures:
            assert sig.key_id in table.text
        assert "provider" in table.text and "witness" in table.text
        assert stored.signed.checkpoint.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ") in table.text
        assert "no timestamp token" in table.text
        status = section.find(where=lambda n: n.get("data-verified") is not None)
        assert status is not None and status.get("data-verified") == "true"

        # tamper with one stored event behind the ledger's back: the next report says so
        conn = sqlite3.connect(settings.sqlite_path, isolation_level=None)
        conn.execute("DROP TRIGGER IF EXISTS insightlog_refuse_update_stored_events")
        rowid, state = next(
            (rowid, bytes(state))
            for rowid, state in conn.execute("SELECT rowid, state FROM stored_events")
            if b'"event_id":"HHC-046"' in bytes(state) and b'"narrative":"' in bytes(state)
        )
        i = state.index(b'"narrative":"') + len(b'"narrative":"')
        conn.execute(
            "UPDATE stored_events SET state = ? WHERE rowid = ?",
            (state[:i] + bytes([state[i] ^ 1]) + state[i + 1 :], rowid),
        )
        conn.close()
        position = json.loads(state)["position"]
        tampered = parse(service_report_html(ledger, SERVICE, parse_as_of("2026-06-30"), now=MADE_AT))
        section = tampered.by_id("integrity")
        assert section is not None
        status = section.find(where=lambda n: n.get("data-verified") is not None)
        assert status is not None and status.get("data-verified") == "false"
        assert f"from position {position}" in status.text
    finally:
        ledger.close()


def test_the_report_is_the_same_for_the_same_store_instant_and_clock(
    harbour_ledger: Any, rendered: dict[str, str]
) -> None:
    from insightlog.application.reports import service_report_html
    from insightlog.interchange.timeutil import parse_as_of

    assert (
        service_report_html(harbour_ledger, SERVICE, parse_as_of("2026-06-30"), now=MADE_AT) == rendered["2026-06-30"]
    )


@pytest.mark.parametrize("day", DAYS)
def test_the_report_has_seven_sections_in_order(pages: dict[str, Node], day: str) -> None:
    from insightlog.report import SECTIONS

    sections = pages[day].find_all("section", cls="report-section")
    assert (
        [s.get("id") for s in sections]
        == [key for key, _ in SECTIONS]
        == ["governance", "drift", "recognition", "reviews", "triggers", "evidence", "integrity"]
    )
    for n, s in enumerate(sections, 1):
        assert f"Section {n} of 7" in s.find("h2").text  # type: ignore[union-attr]


def test_back_filled_history_is_flagged_in_the_evidence_table_and_behind_e(tmp_path: Path) -> None:
    from tests.helpers import HARBOUR, invoke, write_jsonl

    db = ["--db", str(tmp_path / "b.sqlite")]
    assert invoke([*db, "import", str(HARBOUR)]).exit_code == 0
    earlier = next(e for e in harbour_lines() if e["event_id"] == "HHC-021")
    earlier = {
        **earlier,
        "event_id": "HHC-B01",
        "observed_at": "2026-01-12T11:00:00Z",
        "recorded_at": "2026-01-12T13:00:00Z",
    }
    result = invoke([*db, "import", "--backfill", str(write_jsonl(tmp_path / "paper.jsonl", [earlier]))])
    assert result.exit_code == 0, result.output
    out = tmp_path / "r.html"
    assert invoke([*db, "report", "--service", SERVICE, "--as-of", "2026-06-30", "-o", str(out)]).exit_code == 0
    page = parse(out.read_text())
    row = next(r for r in page.find_all("tr", cls="evidence-row") if r.get("data-event") == "HHC-B01")
    assert "backfilled" in (row.get("data-flags") or "").split() and row.get("data-backfilled") == "true"
    assert "back-filled" in row.text
    drift = next(
        r
        for r in page.find_all("tr", cls="drift-row")
        if (r.get("data-theme"), r.get("data-scope"), r.get("data-month"))
        == ("call_punctuality", "team:north", "2026-01")
    )
    assert "HHC-B01" in drift.text and "(back-filled)" in drift.text
