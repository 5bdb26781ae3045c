"""Properties: the analysis as of T depends only on what was recorded by T (§3.1), also with
withdrawals (§3.4) and on the ledger basis (§3.5); a withdrawal changes nothing before its instant."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from insightlog.analysis import LEDGER_BASIS, analyse
from insightlog.interchange.entry import Entry
from insightlog.interchange.timeutil import AsOf, format_utc

BASE = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
SERVICE = "Prop"
EVIDENCE = [
    "AuditSectionScored",
    "IncidentRecorded",
    "ComplaintReceived",
    "FeedbackReceived",
    "SpotCheckRecorded",
    "ValidationSampled",
    "RotaMetricRecorded",
]
THEMES = [("a", None, "team"), ("a.x", "a", "team"), ("a.y", "a", "team"), ("b", None, "location")]
EVIDENCE_THEMES = ["a.x", "a.x", "a.x", "a.y", "a.y", "a", "b", "z"]
ROLES = ["registered_manager", "operations_manager", "senior_leader", "team_leader"]


def _entry(
    position: int,
    kind: str,
    recorded: datetime,
    observed: datetime,
    payload: dict[str, Any],
    **envelope: Any,
) -> Entry:
    return Entry(
        event_id=f"P{position:03d}",
        service=SERVICE,
        theme=envelope.get("theme"),
        location=envelope.get("location"),
        team=envelope.get("team"),
        shift=None,
        kind=kind,
        actor_role=envelope.get("role", "quality_lead"),
        actor_id="x",
        record=None,
        observed_at=observed,
        recorded_at=recorded,
        payload=payload,
        position=position,
    )


@st.composite
def histories(draw: st.DrawFn, withdrawals: bool = False) -> list[Entry]:
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    count = draw(st.integers(0, 50))
    entries: list[Entry] = []
    for name, parent, scope_by in THEMES:
        payload = {"theme": name, "parent": parent, "scope_by": scope_by, "label": name}
        entries.append(_entry(len(entries) + 1, "ThemeDefined", BASE, BASE, payload, theme=name))
    recorded = BASE
    targets: list[Entry] = []
    withdrawable: list[Entry] = []
    withdrawn: list[str] = []
    for _ in range(count):
        recorded += timedelta(seconds=rnd.choice([0, 60, 3600 * 5, 86400, 86400 * 2, 86400 * 6, 86400 * 30]))
        observed = recorded - timedelta(days=rnd.choice([0, 0, 0, 1, 3, 10, 95]), seconds=rnd.choice([0, 30]))
        position = len(entries) + 1
        roll = rnd.random()
        if withdrawals and withdrawable and rnd.random() < 0.15:
            # A valid withdrawal: an earlier event, neither a theme nor a withdrawal, once.
            target = withdrawable.pop(rnd.randrange(len(withdrawable)))
            withdrawn.append(target.event_id)
            payload = {"withdraws": target.event_id, "reason": "entered in error"}
            entries.append(_entry(position, "EntryWithdrawn", recorded, recorded, payload, role="registered_manager"))
            continue
        if roll < 0.6:
            theme = rnd.choice(EVIDENCE_THEMES)
            payload = {
                "evidence_score": rnd.choice([1, 2, 2, 2, 3, 4]),
                "evidence_category": rnd.choice(["people_experience", "processes", "staff_leader_feedback"]),
                "source_type": rnd.choice(["metric", "audit", "complaint"]),
                "audit_id": rnd.choice(["A1", "A2"]),
                "summary": "",
            }
            if withdrawn and rnd.random() < 0.2:
                payload["corrects"] = rnd.choice(withdrawn)
            entry = _entry(
                position,
                rnd.choice(EVIDENCE),
                recorded,
                observed,
                payload,
                theme=theme,
                team=rnd.choice(["north", "north", "south", "east", None]),
                location=rnd.choice(["Maple", None]),
            )
            targets.append(entry)
        elif roll < 0.58:
            payload = {
                "audit_id": rnd.choice(["A1", "A2"]),
                "headline_pct": 70.0,
                "headline_score": rnd.choice([2, 3, 4]),
            }
            entry = _entry(
                position,
                "AuditCompleted",
                recorded,
                observed,
                payload,
                theme="a",
                team=rnd.choice(["north", None]),
            )
            targets.append(entry)
        elif roll < 0.7 and targets:
            target = rnd.choice(targets)
            field = "headline_score" if target.kind == "AuditCompleted" else "evidence_score"
            changes: dict[str, Any] = {field: rnd.choice([1, 2, 3, 4])}
            if rnd.random() < 0.3:
                changes["evidence_category"] = "people_experience"
            payload = {"amends": target.event_id, "changes": changes, "reason": ""}
            entry = _entry(position, "EvidenceAmended", recorded, recorded, payload, theme=target.theme)
        elif roll < 0.88:
            exceptions = [
                {
                    k: v
                    for k, v in (
                        ("theme", rnd.choice([None, "a", "a.x", "a.y"])),
                        ("scope", rnd.choice([None, None, "team:north", "team:east"])),
                        ("score", rnd.choice([1, 2, 3, 4])),
                    )
                    if v is not None or rnd.random() < 0.5
                }
                for _ in range(rnd.choice([0, 0, 1, 2]))
            ]
            for ex in exceptions:
                ex.setdefault("score", 2)
            payload = {
                "score": rnd.choice([1, 2, 3, 3, 4]),
                "confidence": rnd.choice(["high", "qualified"]),
                "exceptions": exceptions,
                "supersedes": None,
                "narrative": "",
            }
            entry = _entry(
                position,
                rnd.choice(["JudgementRecorded", "JudgementRevised"]),
                recorded,
                observed,
                payload,
                theme=rnd.choice(["a", "a.x", "a.y", "b", None]),
                role=rnd.choice(ROLES),
            )
        elif roll < 0.92:
            payload = {
                "level": "rm_monthly",
                "interval_days": rnd.choice([20, 31]),
                "anchor_date": "2026-01-01",
            }
            entry = _entry(position, "ReviewCadenceSet", recorded, recorded, payload)
        else:
            entry = _entry(
                position,
                "ReviewHeld",
                recorded,
                observed,
                {"level": rnd.choice(["rm_monthly", "board"])},
            )
        entries.append(entry)
        withdrawable.append(entry)
    return entries


@settings(max_examples=60, deadline=None)
@given(histories(), st.integers(0, 400 * 86400), st.randoms(use_true_random=False))
def test_analysis_as_of_t_ignores_everything_recorded_after_t(
    entries: list[Entry], offset: int, rnd: random.Random
) -> None:
    instant = BASE + timedelta(seconds=offset)
    as_of = AsOf(instant, format_utc(instant))
    known = [e for e in entries if e.recorded_at <= instant or e.kind == "ThemeDefined"]
    full = analyse(entries, SERVICE, as_of)
    assert analyse(known, SERVICE, as_of) == full
    # Check: the order in which entries are handed over never matters.
    shuffled = list(entries)
    rnd.shuffle(shuffled)
    assert analyse(shuffled, SERVICE, as_of) == full
    assert all(row["fired_on"] <= instant.date().isoformat() for row in full["triggers"])


def _known(entries: list[Entry], instant: datetime) -> list[Entry]:
    return [e for e in entries if e.recorded_at <= instant or e.kind == "ThemeDefined"]


def _as_of(instant: datetime) -> AsOf:
    return AsOf(instant, format_utc(instant))


@settings(max_examples=60, deadline=None)
@given(histories(withdrawals=True), st.integers(0, 400 * 86400), st.randoms(use_true_random=False))
def test_with_withdrawals_the_analysis_as_of_t_equals_the_analysis_of_the_log_cut_at_t(
    entries: list[Entry], offset: int, rnd: random.Random
) -> None:
    instant = BASE + timedelta(seconds=offset)
    full = analyse(entries, SERVICE, _as_of(instant))
    assert analyse(_known(entries, instant), SERVICE, _as_of(instant)) == full
    shuffled = list(entries)
    rnd.shuffle(shuffled)
    assert analyse(shuffled, SERVICE, _as_of(instant)) == full


@settings(max_examples=60, deadline=None)
@given(histories(withdrawals=True), st.randoms(use_true_random=False), st.integers(0, 40 * 86400))
def test_withdrawing_then_analysing_before_the_withdrawal_equals_the_analysis_without_it(
    entries: list[Entry], rnd: random.Random, delay: int
) -> None:
    already = {e.payload["withdraws"] for e in entries if e.kind == "EntryWithdrawn"}
    candidates = [e for e in entries if e.kind not in ("ThemeDefined", "EntryWithdrawn") and e.event_id not in already]
    if not candidates:
        return
    target = rnd.choice(candidates)
    at = target.recorded_at + timedelta(seconds=delay)
    withdrawal = _entry(
        max(e.position for e in entries) + 1, "EntryWithdrawn", at, at, {"withdraws": target.event_id, "reason": "x"}
    )
    withdrawn = [*entries, withdrawal]
    # Check: every instant before the withdrawal (the one just before it, and a random one).
    earlier = BASE + timedelta(seconds=int((at - BASE).total_seconds() * rnd.random()))
    for instant in (at - timedelta(seconds=1), earlier if earlier < at else BASE - timedelta(days=1)):
        assert analyse(withdrawn, SERVICE, _as_of(instant)) == analyse(entries, SERVICE, _as_of(instant))
    # Check: from its instant on, the withdrawn event counts for nothing at A (§3.4): it is as if
    # it had never been recorded wherever a rule picks the events it reports on as of A.
    after = analyse(withdrawn, SERVICE, _as_of(at))
    cited = {i for row in after["recognition"] for i in (row["first_signal"], row["acknowledgement"])}
    last_month = at.strftime("%Y-%m")
    cited |= {row["J_event"] for row in after["drift"] if row["month"] == last_month}
    assert target.event_id not in cited


@settings(max_examples=40, deadline=None)
@given(histories(withdrawals=True), st.integers(0, 400 * 86400), st.randoms(use_true_random=False))
def test_on_the_ledger_basis_the_analysis_as_of_t_equals_the_analysis_of_what_was_appended_by_t(
    entries: list[Entry], offset: int, rnd: random.Random
) -> None:
    # Append times: never before recorded_at, never going back in position order.
    stamped: list[Entry] = []
    latest = BASE
    for entry in sorted(entries, key=lambda e: (e.recorded_at, e.position)):
        latest = max(latest, entry.recorded_at) + timedelta(seconds=rnd.choice([0, 0, 60, 86400 * 3]))
        stamped.append(replace(entry, appended_at=latest, position=len(stamped) + 1))
    instant = BASE + timedelta(seconds=offset)
    full = analyse(stamped, SERVICE, _as_of(instant), basis=LEDGER_BASIS)
    cut = [e for e in stamped if e.appended_at <= instant or e.kind == "ThemeDefined"]  # type: ignore[operator]
    assert analyse(cut, SERVICE, _as_of(instant), basis=LEDGER_BASIS) == full
    assert full.get("basis") == "ledger"
