"""Section 6: evidence and history (every event known at the as-of instant, both times, flags)."""

from __future__ import annotations

from datetime import date
from typing import Any

from insightlog.report.html import Markup, breakable, h, table
from insightlog.report.model import ServiceReport
from insightlog.report.sections.common import EventLinks, plural_days, section


def evidence_section(report: ServiceReport, events: EventLinks, total: int) -> Markup:
    amends_of = {e.event_id: e.payload.get("amends") for e in report.entries if e.kind == "EvidenceAmended"}
    amended_by: dict[str, list[dict[str, Any]]] = {}
    for r in report.history:
        target = amends_of.get(r["event_id"])
        if isinstance(target, str):
            amended_by.setdefault(target, []).append(r)
    backfilled = {e.event_id for e in report.entries if e.is_backfill}
    rows = []
    for r in report.history:
        flags: list[str] = []
        chips: list[Any] = []
        for f in r["flags"]:
            if f.startswith("late entry"):
                flags.append("late")
                days = (date.fromisoformat(r["recorded_at"][:10]) - date.fromisoformat(r["observed_at"][:10])).days
                chips.append(h("span", f"late entry: recorded {plural_days(days)} after observed", class_="flag flag-late"))
            elif f.startswith("imported"):
                flags.append("imported")
                chips.append(h("span", f, class_="flag flag-imported"))
            elif f.startswith("back-filled"):
                flags.append("backfilled")
                chips.append(h("span", f, class_="flag flag-imported"))
            elif f.startswith("superseded"):
                flags.append("superseded")
                chips.append(h("span", f, class_="flag"))
            else:
                chips.append(h("span", f, class_="flag"))
        what: list[Any] = [r["change"]]
        corrections = amended_by.get(r["event_id"], [])
        if corrections:
            flags.append("amended")
            chips.append(h("span", "amended", class_="flag flag-amended"))
            for c in corrections:
                change = c["change"].removeprefix(f"amends {r['event_id']}: ").replace(" -> ", " \u2192 ")
                what.append(h("div", "Corrected by ", events.link(c["event_id"]), f" (recorded {c['recorded_at'][:10]}): {change}", class_="amendment", data_amended_by=c["event_id"]))
        amends = amends_of.get(r["event_id"])
        if isinstance(amends, str):
            what = [h("div", "Corrects ", events.link(amends), ": ", r["change"].removeprefix(f"amends {amends}: ").replace(" -> ", " \u2192 "), class_="amendment")]
        else:
            amends = None
        rows.append(
            h(
                "tr",
                h("th", r["event_id"], scope="row", class_="mono nowrap"),
                h("td", h("span", r["observed_at"][:10], class_="nowrap"), h("br"), r["observed_at"][11:]),
                h("td", h("span", r["recorded_at"][:10], class_="nowrap"), h("br"), r["recorded_at"][11:]),
                h("td", breakable(r["kind"])),
                h("td", breakable(r["theme"]) if r["theme"] else "\u2013", h("br") if r["scope"] else None, breakable(r["scope"]) if r["scope"] else None, class_="mono theme-col"),
                h("td", f"{r['actor_role']} {r['actor_id']}", h("br") if r["record"] else None, r["record"] or None),
                h("td", what, class_="what"),
                h("td", chips or "\u2013", h("br"), h("span", breakable(r["source"]), class_="meta")),
                id=f"ev-{r['position']}",
                class_="evidence-row is-amendment" if amends else "evidence-row",
                data_event=r["event_id"],
                data_observed=r["observed_at"],
                data_recorded=r["recorded_at"],
                data_flags=" ".join(flags),
                data_amends=amends,
                data_backfilled="true" if r["event_id"] in backfilled else None,
            )
        )
    return section(
        6,
        "evidence",
        "Evidence and history",
        h("p", f"Every event recorded by {report.as_of.text}, in log order (by recorded time), with both times: observed (when it happened) and recorded (when it entered the record). Late entries (recorded on a later day than observed), imported and back-filled history are flagged; an amendment is shown beside the entry it corrected. Nothing here is edited: a correction is a new event.", class_="lead"),
        table(
            f"{len(report.history)} events known at {report.as_of.text}",
            ["Event", "Observed (UTC)", "Recorded (UTC)", "Kind", "Theme and scope", "Who and record", "What", "Flags and source"],
            rows,
            class_="evidence",
        ),
        total=total,
    )
