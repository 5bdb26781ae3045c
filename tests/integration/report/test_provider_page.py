"""The provider page across services: nearest-rank lag percentiles, the drift heat map, overdue
reviews and open triggers, each linking to the service's own report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import HARBOUR, harbour_lines, invoke, write_jsonl
from tests.integration.report.htmlparse import Node, int_or_none, nullable, parse


def test_nearest_rank_percentiles_of_a_hand_made_set() -> None:
    from insightlog.report import nearest_rank

    assert nearest_rank([5, 1, 9, 3, 7], 50) == 5  # rank ceil(2.5) = 3 of 1 3 5 7 9
    assert nearest_rank([5, 1, 9, 3, 7], 90) == 9  # rank ceil(4.5) = 5
    assert nearest_rank([10, 20, 30, 40], 50) == 20  # rank ceil(2.0) = 2: no averaging
    assert nearest_rank([10, 20, 30, 40], 90) == 40  # rank ceil(3.6) = 4
    assert nearest_rank([40, 10, 30, 20, 50, 60, 70, 80, 90, 100], 90) == 90  # rank exactly 9
    assert nearest_rank([40, 10, 30, 20, 50, 60, 70, 80, 90, 100, 110], 90) == 100  # rank ceil(9.9) = 10
    assert nearest_rank([7], 50) == nearest_rank([7], 90) == 7
    assert nearest_rank([3, 3, 8], 50) == 3
    assert nearest_rank([2, 9], 1) == 2 and nearest_rank([2, 9], 100) == 9
    assert nearest_rank([], 50) is None
    with pytest.raises(ValueError):
        nearest_rank([1], 0)


def _episode(theme: str, lag: int | None, open_lag: int | None = None) -> dict[str, Any]:
    return {"theme": theme, "recognition_lag_days": lag, "open_lag_days": open_lag}


def _doc(
    recognition: list[dict[str, Any]],
    drift: list[dict[str, Any]] | None = None,
    triggers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {"recognition": recognition, "drift": drift or [], "triggers": triggers or []}


def _drift(theme: str, month: str, sign: int | None, d: str | None) -> dict[str, Any]:
    return {"theme": theme, "scope": None, "month": month, "J": 3, "J_event": "X", "E": None, "D": d, "sign": sign}


@pytest.fixture
def hand_made() -> Node:
    from insightlog.report.provider import ServiceSummary, render_provider

    north = ServiceSummary(
        "North Care",
        "report-north-care.html",
        _doc(
            [
                _episode("falls", 10),
                _episode("falls", 30),
                _episode("falls", 20),
                _episode("falls", 90),
                _episode("meds", 5),
                _episode("meds", None, 12),
            ],
            drift=[
                _drift("falls", "2026-01", 1, "1.00"),
                _drift("falls", "2026-02", 0, "0.50"),
                _drift("meds", "2026-02", -1, "-1.00"),
            ],
            triggers=[],
        ),
        overdue_reviews=[{"level": "rm_monthly", "due_by": "2026-05-01", "held": None, "days_overdue": 60}],
        open_triggers=[
            {
                "trigger": "T1_REPEATED_THEME_UNACKNOWLEDGED",
                "theme": "falls",
                "scope": None,
                "fired_on": "2026-06-01",
                "events": ["N-9"],
            }
        ],
    )
    south = ServiceSummary(
        "South & Sons <Care>",
        "report-south-sons-care.html",
        _doc([_episode("falls", 7)], drift=[_drift("falls", "2026-03", None, None)]),
    )
    return parse(
        render_provider([north, south], as_of_text="2026-06-30T23:59:59Z", generated_at="2026-07-01T08:00:00Z")
    )


def _lag_rows(page: Node) -> dict[tuple[str | None, str | None], dict[str, Any]]:
    return {
        (r.get("data-service"), nullable(r.get("data-theme"))): {
            "n": int(r.get("data-n") or "0"),
            "median": int_or_none(r.get("data-median")),
            "p90": int_or_none(r.get("data-p90")),
            "lags": r.get("data-lags"),
            "open": int(r.get("data-open") or "0"),
        }
        for r in page.find_all("tr", cls="lag-row")
    }


def test_lags_are_summarised_per_service_and_theme_with_nearest_rank_median_and_90th_percentile(
    hand_made: Node,
) -> None:
    rows = _lag_rows(hand_made)
    assert rows[("North Care", "falls")] == {"n": 4, "median": 20, "p90": 90, "lags": "10 20 30 90", "open": 0}
    assert rows[("North Care", "meds")] == {"n": 1, "median": 5, "p90": 5, "lags": "5", "open": 1}
    assert rows[("North Care", None)] == {"n": 5, "median": 20, "p90": 90, "lags": "5 10 20 30 90", "open": 1}
    assert rows[("South & Sons <Care>", "falls")] == {"n": 1, "median": 7, "p90": 7, "lags": "7", "open": 0}
    assert rows[("", None)] == {"n": 6, "median": 10, "p90": 90, "lags": "5 7 10 20 30 90", "open": 1}
    assert list(rows) == [
        ("North Care", "falls"),
        ("North Care", "meds"),
        ("North Care", None),
        ("South & Sons <Care>", "falls"),
        ("South & Sons <Care>", None),
        ("", None),
    ]


def test_the_heat_map_has_a_cell_per_service_theme_and_month(hand_made: Node) -> None:
    cells = {
        (c.get("data-service"), c.get("data-theme"), c.get("data-month")): (c.get("data-sign"), c.get("data-d"))
        for c in hand_made.find_all("td", cls="cell")
    }
    months = ["2026-01", "2026-02", "2026-03"]
    assert set(cells) == {
        (s, t, m)
        for s, t in (("North Care", "falls"), ("North Care", "meds"), ("South & Sons <Care>", "falls"))
        for m in months
    }
    assert cells[("North Care", "falls", "2026-01")] == ("1", "1.00")
    assert cells[("North Care", "meds", "2026-02")] == ("-1", "-1.00")
    assert cells[("North Care", "meds", "2026-01")] == ("", "")
    assert (
        "not a reporting month"
        in hand_made.find("td", where=lambda n: n.get("data-theme") == "meds" and n.get("data-month") == "2026-01").text
    )  # type: ignore[union-attr]


def test_overdue_reviews_and_open_triggers_link_to_the_service_report(hand_made: Node) -> None:
    overdue = hand_made.find_all("tr", cls="overdue-row")
    assert [
        (
            r.get("data-service"),
            r.get("data-level"),
            r.get("data-due"),
            nullable(r.get("data-held")),
            r.get("data-days"),
        )
        for r in overdue
    ] == [("North Care", "rm_monthly", "2026-05-01", None, "60")]
    assert overdue[0].find("a").get("href") == "report-north-care.html#reviews"  # type: ignore[union-attr]
    triggers = hand_made.find_all("tr", cls="trigger-row")
    assert [(r.get("data-service"), r.get("data-trigger"), r.get("data-events")) for r in triggers] == [
        ("North Care", "T1_REPEATED_THEME_UNACKNOWLEDGED", "N-9")
    ]
    assert triggers[0].find("a").get("href") == "report-north-care.html#triggers"  # type: ignore[union-attr]
    hrefs = {a.get("href") for a in hand_made.find_all("a", cls="service-link")}
    assert {"report-north-care.html", "report-south-sons-care.html", "report-north-care.html#recognition"} <= hrefs  # type: ignore[operator]
    assert "South & Sons <Care>" in hand_made.text  # escaped in the source, shown as written


def test_service_file_names_are_slugs_and_never_clash() -> None:
    from insightlog.report import service_file_names

    assert service_file_names(["Harbour Home Care", "harbour home-care", "Ünïcode Care"]) == {
        "Harbour Home Care": "report-harbour-home-care.html",
        "harbour home-care": "report-harbour-home-care-2.html",
        "Ünïcode Care": "report-n-code-care.html",
    }


def _second_service(tmp_path: Path) -> Path:
    """The worked example again under another service name and event ids."""
    rows = []
    for e in harbour_lines():
        text = json.dumps(e).replace("Harbour Home Care", "Quayside Care").replace('"HHC-', '"QSC-')
        rows.append(json.loads(text))
    return write_jsonl(tmp_path / "quayside.jsonl", rows)


def test_report_all_writes_the_provider_page_and_a_linked_report_per_service(
    tmp_path: Path, expected: dict[str, Any]
) -> None:
    db = ["--db", str(tmp_path / "two.sqlite")]
    assert invoke([*db, "import", str(HARBOUR)]).exit_code == 0
    assert invoke([*db, "import", str(_second_service(tmp_path))]).exit_code == 0
    out = tmp_path / "site" / "provider.html"
    result = invoke([*db, "report", "--all", "--as-of", "2026-06-30", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "provider.html",
        "report-harbour-home-care.html",
        "report-quayside-care.html",
    ]
    page = parse(out.read_text())
    targets: dict[str, Node] = {}
    for a in page.find_all("a"):
        href = a.get("href") or ""
        if href.startswith("#"):
            assert page.by_id(href[1:]) is not None, href
            continue
        name, _, anchor = href.partition("#")
        if name not in targets:
            targets[name] = parse((out.parent / name).read_text())
        if anchor:
            assert targets[name].by_id(anchor) is not None, href
    assert set(targets) == {"report-harbour-home-care.html", "report-quayside-care.html"}
    doc = expected["2026-06-30"]
    rows = _lag_rows(page)
    lags = sorted(r["recognition_lag_days"] for r in doc["recognition"])  # [38, 58, 68]
    assert rows[("Harbour Home Care", None)] == {
        "n": 3,
        "median": 58,
        "p90": 68,
        "lags": " ".join(map(str, lags)),
        "open": 0,
    }
    assert (
        rows[("", None)]["lags"] == "38 38 58 58 68 68"
        and rows[("", None)]["median"] == 58
        and rows[("", None)]["p90"] == 68
    )
    heat = {
        (c.get("data-service"), c.get("data-theme"), c.get("data-month")): int_or_none(c.get("data-sign"))
        for c in page.find_all("td", cls="cell")
    }
    for r in doc["drift"]:
        if r["scope"] is None:
            assert heat[("Harbour Home Care", r["theme"], r["month"])] == r["sign"]
            assert heat[("Quayside Care", r["theme"], r["month"])] == r["sign"]
    overdue = [
        (r.get("data-service"), r.get("data-due"), r.get("data-held")) for r in page.find_all("tr", cls="overdue-row")
    ]
    assert overdue == [("Harbour Home Care", "2026-04-03", "2026-04-17"), ("Quayside Care", "2026-04-03", "2026-04-17")]
    open_triggers = [
        (r.get("data-service"), r.get("data-fired-on"), r.get("data-trigger"))
        for r in page.find_all("tr", cls="trigger-row")
    ]
    assert open_triggers == [  # fired in [2026-04-02, 2026-06-30]
        ("Harbour Home Care", "2026-04-14", "T5_VALIDATION_CONFIRMS_GAP"),
        ("Harbour Home Care", "2026-05-21", "T7_UNQUALIFIED_POSITIVE_REPORT"),
        ("Quayside Care", "2026-04-14", "T5_VALIDATION_CONFIRMS_GAP"),
        ("Quayside Care", "2026-05-21", "T7_UNQUALIFIED_POSITIVE_REPORT"),
    ]
