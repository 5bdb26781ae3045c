"""Review cadence: overdue episodes and late-recorded reviews (§13)."""

from __future__ import annotations

from datetime import date
from typing import Any

from insightlog.analysis.errors import AnalysisInputError
from insightlog.analysis.instants import date_ordinal, instant_date, instant_us, ordinal_text
from insightlog.analysis.policy import Policy
from insightlog.analysis.servicelog import ServiceLog


def review_report(log: ServiceLog, a_date: int, policy: Policy) -> dict[str, list[dict[str, Any]]]:
    """The ``reviews`` object (analysis-output.md §8) as known at A: schedules and reviews
    withdrawn by A are as if never recorded (§3.4); a review's recording date is on the basis."""
    schedules: dict[str, tuple[int, int]] = {}
    for entry in log.cadences:
        level = entry.payload.get("level")
        if not isinstance(level, str):
            continue
        schedules[level] = (_interval(entry), _anchor(entry))
    held: dict[str, list[tuple[int, int, Any]]] = {level: [] for level in schedules}
    recs = log.rec
    for idx, entry in log.reviews:
        bucket = held.get(entry.payload.get("level", ""))
        if bucket is not None:
            bucket.append((date_ordinal(entry.observed_at), idx, entry))
    overdue: list[dict[str, Any]] = []
    late: list[dict[str, Any]] = []
    for level, (interval, anchor) in schedules.items():
        due = anchor + interval
        reviews = held[level]
        reviews.sort(key=lambda r: (instant_us(r[2].observed_at), r[1]))
        for h, idx, entry in reviews:
            if h > due:
                overdue.append({"level": level, "due_by": due, "held": h, "days_overdue": h - due})
            recorded = instant_date(recs[idx])
            if recorded - h > policy.late_recorded_days:
                late.append(
                    {
                        "event_id": entry.event_id,
                        "level": level,
                        "held": h,
                        "recorded": recorded,
                        "days_late": recorded - h,
                    }
                )
            due = h + interval
        if a_date > due:
            overdue.append({"level": level, "due_by": due, "held": None, "days_overdue": a_date - due})
    overdue.sort(key=lambda row: (row["due_by"], row["level"]))
    late.sort(key=lambda row: (row["held"], row["level"], row["event_id"]))
    for row in overdue:
        row["due_by"] = ordinal_text(row["due_by"])
        if row["held"] is not None:
            row["held"] = ordinal_text(row["held"])
    for row in late:
        row["held"] = ordinal_text(row["held"])
        row["recorded"] = ordinal_text(row["recorded"])
    return {"overdue": overdue, "late_recorded": late}


def _interval(entry: Any) -> int:
    value = entry.payload.get("interval_days")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise AnalysisInputError(f"event {entry.event_id}: interval_days must be a positive integer, not {value!r}")
    return value


def _anchor(entry: Any) -> int:
    value = entry.payload.get("anchor_date")
    try:
        return date.fromisoformat(value).toordinal()
    except (TypeError, ValueError):
        raise AnalysisInputError(
            f"event {entry.event_id}: anchor_date must be a date (YYYY-MM-DD), not {value!r}"
        ) from None
