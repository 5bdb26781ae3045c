"""Property: the analysis as of T depends only on what was recorded by T (§3.1)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from insightlog.analysis import analyse
from insightlog.interchange.entry import Entry
from insightlog.interchange.timeutil import AsOf, format_utc

BASE = datetime(2026, 1, 1, 8, 0, tzinfo=timezone.utc)
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
def histories(draw: st.DrawFn) -> list[Entry]:
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    count = draw(st.integers(0, 50))
    entries: list[Entry] = []
    for name, parent, scope_by in THEMES:
        payload = {"theme": name, "parent": parent, "scope_by": scope_by, "label": name}
        entries.append(_entry(len(entries) + 1, "ThemeDefined", BASE, BASE, payload, theme=name))
    recorded = BASE
    targets: list[Entry] = []
    for _ in range(count):
        recorded += timedelta(
            seconds=rnd.choice([0, 60, 3600 * 5, 86400, 86400 * 2, 86400 * 6, 86400 * 30])
        )
        observed = recorded - timedelta(
            days=rnd.choice([0, 0, 0, 1, 3, 10, 95]), seconds=rnd.choice([0, 30])
        )
        position = len(entries) + 1
        roll = rnd.random()
        if roll < 0.6:
            theme = rnd.choice(EVIDENCE_THEMES)
            payload = {
                "evidence_score": rnd.choice([1, 2, 2, 2, 3, 4]),
                "evidence_category": rnd.choice(
                    ["people_experience", "processes", "staff_leader_feedback"]
                ),
                "source_type": rnd.choice(["metric", "audit", "complaint"]),
                "audit_id": rnd.choice(["A1", "A2"]),
                "summary": "",
            }
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
            entry = _entry(
                position, "EvidenceAmended", recorded, recorded, payload, theme=target.theme
            )
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
