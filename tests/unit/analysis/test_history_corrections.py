"""The history rows and the governance view show corrections (definitions §3.4) on a basis (§3.5)."""

from __future__ import annotations

from typing import Any

from insightlog.analysis import LEDGER_BASIS
from insightlog.analysis.governance import service_governance
from insightlog.analysis.history import history_rows

from .builders import SERVICE, History, as_of, ts


def by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["event_id"]: r for r in rows}


def spot_check_history() -> tuple[History, Any, Any, Any]:
    h = History()
    h.theme("meds")
    item = h.evidence("meds", 1, "2026-01-05", team="north")
    withdrawal = h.withdraw(item, "2026-01-10T09:00:00Z", "wrong care round")
    replacement = h.evidence("meds", 1, "2026-01-05", "2026-01-10T09:30:00Z", team="south", corrects=item.event_id)
    return h, item, withdrawal, replacement


def test_a_withdrawn_entry_is_marked_with_when_who_and_why_once_the_withdrawal_is_known() -> None:
    h, item, withdrawal, _ = spot_check_history()
    rows = by_id(history_rows(h.entries))
    marked = rows[item.event_id]
    assert marked["withdrawn"] == {
        "by": withdrawal.event_id,
        "recorded_at": "2026-01-10T09:00:00Z",
        "actor_role": "registered_manager",
        "actor_id": "REGISTERED_MANAGER",
        "reason": "wrong care round",
    }
    assert marked["flags"][0] == "withdrawn on 2026-01-10 by registered_manager: wrong care round"
    assert rows[withdrawal.event_id]["withdraws"] == item.event_id
    assert rows[withdrawal.event_id]["change"] == f"withdraws {item.event_id}: wrong care round"
    # Check: as of a moment before the withdrawal was recorded, the entry is not withdrawn.
    before = by_id(history_rows(h.entries, as_of=ts("2026-01-10T08:59:59Z")))
    assert before[item.event_id]["withdrawn"] is None
    assert not any(f.startswith("withdrawn") for f in before[item.event_id]["flags"])
    assert withdrawal.event_id not in before


def test_a_replacement_and_the_entry_it_replaces_link_to_each_other() -> None:
    h, item, _, replacement = spot_check_history()
    rows = by_id(history_rows(h.entries))
    assert rows[item.event_id]["replaced_by"] == [replacement.event_id]
    assert f"replaced by {replacement.event_id}" in rows[item.event_id]["flags"]
    assert rows[replacement.event_id]["corrects"] == item.event_id
    assert f"corrects {item.event_id}" in rows[replacement.event_id]["flags"]
    assert rows[replacement.event_id]["withdrawn"] is None and rows[replacement.event_id]["replaced_by"] == []
    # Between the withdrawal and the replacement: withdrawn, not yet replaced.
    between = by_id(history_rows(h.entries, as_of=ts("2026-01-10T09:10:00Z")))
    assert between[item.event_id]["withdrawn"] is not None and between[item.event_id]["replaced_by"] == []
    assert replacement.event_id not in between


def test_hide_withdrawn_leaves_out_what_was_withdrawn_by_the_as_of_moment_only() -> None:
    h, item, withdrawal, replacement = spot_check_history()
    shown = [r["event_id"] for r in history_rows(h.entries, hide_withdrawn=True)]
    assert item.event_id not in shown and {withdrawal.event_id, replacement.event_id} <= set(shown)
    earlier = [r["event_id"] for r in history_rows(h.entries, as_of=ts("2026-01-09"), hide_withdrawn=True)]
    assert item.event_id in earlier
    assert [r["event_id"] for r in history_rows(h.entries)] == [e.event_id for e in h.entries]


def test_a_theme_filter_keeps_the_withdrawals_of_its_events_and_of_their_amendments() -> None:
    h = History()
    h.theme("meds")
    h.theme("falls")
    item = h.evidence("meds", 2, "2026-01-05", team="north")
    amendment = h.amend(item, "2026-01-06", evidence_score=1)
    off_amendment = h.withdraw(amendment, "2026-01-07")
    other = h.evidence("falls", 2, "2026-01-05", "2026-01-08", team="north")
    off_other = h.withdraw(other, "2026-01-09")
    meds = [r["event_id"] for r in history_rows(h.entries, theme="meds")]
    assert off_amendment.event_id in meds and amendment.event_id in meds
    assert off_other.event_id not in meds and other.event_id not in meds
    falls = [r["event_id"] for r in history_rows(h.entries, theme="falls")]
    assert off_other.event_id in falls and off_amendment.event_id not in falls


def test_a_withdrawn_amendment_no_longer_gives_the_value_a_later_amendment_changes() -> None:
    h = History()
    h.theme("meds")
    item = h.evidence("meds", 2, "2026-01-05", team="north")
    first = h.amend(item, "2026-01-06", evidence_score=1)
    h.withdraw(first, "2026-01-07")
    second = h.amend(item, "2026-01-08", evidence_score=3)
    rows = by_id(history_rows(h.entries))
    assert rows[first.event_id]["change"].startswith(f"amends {item.event_id}: evidence_score: 2 -> 1")
    assert rows[second.event_id]["change"].startswith(f"amends {item.event_id}: evidence_score: 2 -> 3")


def ledger_history() -> tuple[History, Any, Any, Any]:
    """A live entry, a back-fill of an earlier observation, then a withdrawal appended late."""
    h = History()
    h.add(
        "ThemeDefined",
        "2026-01-01",
        {"theme": "meds", "parent": None, "scope_by": "team"},
        theme="meds",
        appended="2026-01-01",
    )
    live = h.add(
        "SpotCheckRecorded", "2026-01-10", {"evidence_score": 2}, theme="meds", team="north", appended="2026-01-12"
    )
    backfill = h.add(
        "SpotCheckRecorded", "2026-01-05", {"evidence_score": 1}, theme="meds", team="south", appended="2026-01-20"
    )
    withdrawal = h.add(
        "EntryWithdrawn",
        "2026-01-16",
        {"withdraws": live.event_id, "reason": "duplicate"},
        role="registered_manager",
        appended="2026-01-25",
    )
    return h, live, backfill, withdrawal


def test_on_the_ledger_basis_recorded_by_t_means_appended_by_t_and_rows_say_so() -> None:
    h, live, backfill, withdrawal = ledger_history()
    recorded = history_rows(h.entries, as_of=ts("2026-01-22"))
    ledger = history_rows(h.entries, as_of=ts("2026-01-22"), basis=LEDGER_BASIS)
    # recorded basis: recorded_at order, the withdrawal (recorded 01-16) is known by 01-22.
    assert [r["event_id"] for r in recorded] == ["E001", backfill.event_id, live.event_id, withdrawal.event_id]
    assert by_id(recorded)[live.event_id]["withdrawn"] is not None
    assert "basis" not in recorded[0] and "known_at" not in recorded[0]
    # ledger basis: append order, the withdrawal (appended 01-25) is not known by 01-22.
    assert [r["event_id"] for r in ledger] == ["E001", live.event_id, backfill.event_id]
    assert by_id(ledger)[live.event_id]["withdrawn"] is None
    assert {r["basis"] for r in ledger} == {"ledger"}
    assert by_id(ledger)[backfill.event_id]["known_at"] == "2026-01-20T12:00:00Z"
    assert [r["event_id"] for r in history_rows(h.entries, as_of=ts("2026-01-15"), basis=LEDGER_BASIS)] == [
        "E001",
        live.event_id,
    ]


def action(h: History, kind: str, recorded: str, action_id: str = "A1") -> Any:
    payload = {"action_id": action_id, "owner_role": "registered_manager", "due": "2026-03-01", "description": "x"}
    return h.add(kind, recorded, payload, theme="meds")


def test_the_governance_view_does_not_count_withdrawn_actions_as_open_or_closed() -> None:
    h = History()
    h.theme("meds")
    wrong = action(h, "ActionAssigned", "2026-01-05", "A1")
    action(h, "ActionAssigned", "2026-01-06", "A2")
    closure = action(h, "ActionClosed", "2026-01-07", "A2")
    h.withdraw(wrong, "2026-01-08")
    h.withdraw(closure, "2026-01-09")

    def open_ids(when: str) -> list[str]:
        rows = service_governance(h.entries, SERVICE, as_of(when), {}).rows
        return [a["action_id"] for a in rows[0]["open_actions"]]

    assert open_ids("2026-01-07") == ["A1"]
    assert open_ids("2026-01-08") == []
    assert open_ids("2026-01-09") == ["A2"]


def test_the_governance_view_on_the_ledger_basis_shows_only_themes_appended_by_then_and_names_the_basis() -> None:
    h = History()
    h.add(
        "ThemeDefined",
        "2026-01-01",
        {"theme": "meds", "parent": None, "scope_by": "team"},
        theme="meds",
        appended="2026-02-01",
    )
    h.add("SpotCheckRecorded", "2026-01-03", {"evidence_score": 2}, theme="meds", team="north", appended="2026-02-01")
    recorded = service_governance(h.entries, SERVICE, as_of("2026-01-15"), {})
    assert [r["theme"] for r in recorded.rows] == ["meds"] and "basis" not in recorded.rows[0]
    assert "basis" not in recorded.document
    ledger = service_governance(h.entries, SERVICE, as_of("2026-01-15"), {}, basis=LEDGER_BASIS)
    assert ledger.rows == [] and ledger.document["basis"] == "ledger"
    later = service_governance(h.entries, SERVICE, as_of("2026-02-15"), {}, basis=LEDGER_BASIS)
    assert [r["theme"] for r in later.rows] == ["meds"] and later.rows[0]["basis"] == "ledger"
