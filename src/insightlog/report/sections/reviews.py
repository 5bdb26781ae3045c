"""Section 4: reviews (overdue, recorded late, and each level's due and held dates)."""

from __future__ import annotations

from typing import Any

from insightlog.report.html import Markup, data_value, h, table
from insightlog.report.model import ServiceReport
from insightlog.report.sections.common import EventLinks, or_dash, section


def reviews_section(report: ServiceReport, events: EventLinks, total: int) -> Markup:
    doc = report.document
    parts: list[Any] = [
        h(
            "p",
            "Each review level is due a fixed number of days after its anchor date, then after each review held. A review is overdue when held after its due date (or not held by the as-of date), and late-recorded when recorded more than 7 days after it was held.",
            class_="lead",
        )
    ]
    parts.append(
        table(
            "Overdue reviews (from the analysis)",
            ["Level", "Due by", "Held", "Days overdue"],
            [
                h(
                    "tr",
                    h("th", r["level"], scope="row"),
                    h("td", r["due_by"]),
                    h("td", r["held"] or "not held yet (still open)"),
                    h("td", str(r["days_overdue"]), class_="num"),
                    class_="overdue-row",
                    data_level=r["level"],
                    data_due=r["due_by"],
                    data_held=data_value(r["held"]),
                    data_days=str(r["days_overdue"]),
                )
                for r in doc["reviews"]["overdue"]
            ],
            empty="No review was overdue.",
        )
    )
    parts.append(
        table(
            "Reviews recorded late",
            ["Review", "Level", "Held", "Recorded", "Days late"],
            [
                h(
                    "tr",
                    h("th", events.link(r["event_id"]), scope="row"),
                    h("td", r["level"]),
                    h("td", r["held"]),
                    h("td", r["recorded"]),
                    h("td", str(r["days_late"]), class_="num"),
                    class_="late-row",
                    data_event=r["event_id"],
                    data_level=r["level"],
                    data_held=r["held"],
                    data_recorded=r["recorded"],
                    data_days=str(r["days_late"]),
                )
                for r in doc["reviews"]["late_recorded"]
            ],
            empty="No review was recorded late.",
        )
    )
    for s in report.schedules:
        rows = []
        for r in s.rows:
            if r["held"] is None:
                state = (
                    f"not held by the as-of date: overdue {r['days_overdue']} days"
                    if r["days_overdue"] is not None
                    else "next due"
                )
            else:
                bits = [
                    f"held {r['days_overdue']} days late (overdue)" if r["days_overdue"] is not None else "held on time"
                ]
                if r["days_late"] is not None:
                    bits.append(f"recorded {r['days_late']} days after it was held (late-recorded)")
                state = "; ".join(bits)
            rows.append(
                h(
                    "tr",
                    h("th", r["due_by"], scope="row"),
                    h("td", or_dash(r["held"])),
                    h("td", or_dash(r["recorded"])),
                    h("td", events.link(r["event_id"]) if r["event_id"] else "\u2013"),
                    h("td", state),
                    class_="schedule-row",
                    data_level=s.level,
                    data_due=r["due_by"],
                    data_held=data_value(r["held"]),
                )
            )
        parts.append(h("h3", f"{s.level}: every {s.interval_days} days from {s.anchor_date}"))
        parts.append(
            h("p", "Cadence set by ", events.link(s.cadence_event), f"; owner {or_dash(s.owner_role)}.", class_="meta")
        )
        parts.append(table(f"{s.level}: due and held dates", ["Due by", "Held", "Recorded", "Review", "Status"], rows))
    if not report.schedules:
        parts.append(h("p", "No review cadence has been set.", class_="empty"))
    return section(4, "reviews", "Reviews", parts, total=total)
