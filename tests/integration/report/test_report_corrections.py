"""The governance report strikes withdrawn entries through, in words as well as in style, and links
replacements both ways (definitions §3.4), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, invoke
from tests.integration.report.htmlparse import Node, parse

SERVICE = "Harbour Home Care"
CORRECTIONS = ROOT / "examples" / "harbour_home_care_corrections.jsonl"
WITHDRAWN = {
    "HHC-046": ("HHC-W01", "withdrawn on 2026-07-02 by registered_manager: note belongs to another service"),
    "HHC-051": ("HHC-W02", "withdrawn on 2026-07-02 by registered_manager: wrong care round"),
    "HHC-030": ("HHC-W03", "withdrawn on 2026-07-03 by quality_lead: amended the wrong audit section"),
    "HHC-063": ("HHC-W04", "withdrawn on 2026-07-06 by registered_manager: draft minutes, never approved"),
}


@pytest.fixture
def report_of(stores: Any, tmp_path: Path) -> Any:
    args = stores.cli_args(stores.new())
    assert invoke([*args, "import", str(CORRECTIONS)]).exit_code == 0

    def render(as_of: str) -> Node:
        out = tmp_path / f"report-{as_of}.html"
        result = invoke([*args, "report", "--service", SERVICE, "--as-of", as_of, "-o", str(out)])
        assert result.exit_code == 0, result.output
        return parse(out.read_text(encoding="utf-8"))

    return render


def evidence_rows(page: Node) -> dict[str, Node]:
    return {tr.get("data-event") or "": tr for tr in page.find_all("tr", cls="evidence-row")}


def test_each_withdrawn_entry_is_struck_through_and_says_when_by_whom_and_why(report_of: Any) -> None:
    page = report_of("2026-07-31")
    rows = evidence_rows(page)
    struck = {event_id for event_id, tr in rows.items() if "is-withdrawn" in tr.classes}
    assert struck == set(WITHDRAWN)
    for event_id, (by, words) in WITHDRAWN.items():
        tr = rows[event_id]
        header = tr.find("th")
        assert header is not None and [d.text for d in header.find_all("del")] == [event_id]
        what = tr.find("td", cls="what")
        assert what is not None and what.elements[0].tag == "del" and what.elements[0].text.strip()
        # The mark is in words, not only a line style: the flag says who withdrew it, when and why.
        flag = tr.find("span", cls="flag-withdrawn")
        assert flag is not None and flag.text == f"{words} ({by})"
        link = flag.find("a")
        assert link is not None and link.get("href") == f"#{rows[by].get('id')}"
        assert tr.get("data-withdrawn-by") == by and "withdrawn" in (tr.get("data-flags") or "").split()
        assert rows[by].get("data-withdraws") == event_id
    for event_id, tr in rows.items():
        if event_id not in WITHDRAWN:
            assert tr.find_all("del") == [] and tr.find("span", cls="flag-withdrawn") is None
    caption = page.find("table", cls="evidence")
    assert caption is not None and "4 of them withdrawn by then (struck through)" in caption.text
    header = page.find("p", cls="basis")
    assert header is not None and header.get("data-basis") == "recorded"
    assert "4 entries were withdrawn by then (HHC-030, HHC-046, HHC-051, HHC-063)" in header.text


def test_a_replacement_and_the_entry_it_replaces_link_to_each_other_in_the_report(report_of: Any) -> None:
    rows = evidence_rows(report_of("2026-07-31"))
    withdrawn, replacement = rows["HHC-051"], rows["HHC-051R"]
    assert withdrawn.get("data-replaced-by") == "HHC-051R" and replacement.get("data-corrects") == "HHC-051"
    forward = withdrawn.find("span", cls="flag-replaced")
    back = replacement.find("span", cls="flag-corrects")
    assert forward is not None and forward.find("a") is not None
    assert back is not None and back.find("a") is not None
    assert forward.find("a").get("href") == f"#{replacement.get('id')}"  # type: ignore[union-attr]
    assert back.find("a").get("href") == f"#{withdrawn.get('id')}"  # type: ignore[union-attr]
    assert "is-withdrawn" not in replacement.classes


def test_before_a_withdrawal_was_recorded_the_report_strikes_nothing_through(report_of: Any) -> None:
    june = evidence_rows(report_of("2026-06-30"))
    assert not any("is-withdrawn" in tr.classes for tr in june.values()) and "HHC-W01" not in june
    july_2 = evidence_rows(report_of("2026-07-02"))
    assert {e for e, tr in july_2.items() if "is-withdrawn" in tr.classes} == {"HHC-046", "HHC-051"}
