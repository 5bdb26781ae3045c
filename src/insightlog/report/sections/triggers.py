"""Section 5: the triggers fired, with the events each cites, and their legend."""

from __future__ import annotations

from insightlog.report.html import Markup, data_value, h, join, table
from insightlog.report.model import ServiceReport
from insightlog.report.sections.common import EventLinks, or_dash, section

TRIGGER_NAMES = {
    "T1_REPEATED_THEME_UNACKNOWLEDGED": (
        "T1",
        "Repeated theme unacknowledged",
        "a repeated pattern with no leadership acknowledgement 14 days after it became detectable; cites the pattern-detectable event",
    ),
    "T2_HEADLINE_MASKS_DETAIL": (
        "T2",
        "Headline masks detail",
        "an audit headline scored well while a section scored badly; cites the headline and the weak sections",
    ),
    "T3_SUSTAINED_OPTIMISM": (
        "T3",
        "Sustained optimism",
        "leaders' score above the evidence (sign +1) in consecutive months; cites no event",
    ),
    "T4_REPEATED_LOCAL_PRESSURE": (
        "T4",
        "Repeated local pressure",
        "a repeated pattern in one scope; cites the scope's pattern-detectable event",
    ),
    "T5_VALIDATION_CONFIRMS_GAP": (
        "T5",
        "Validation confirms gap",
        "an independent validation scored badly; cites the validation",
    ),
    "T6_METRIC_EXPERIENCE_MISMATCH": (
        "T6",
        "Metric and experience disagree",
        "a good metric while people's experience is poor; cites no event",
    ),
    "T7_UNQUALIFIED_POSITIVE_REPORT": (
        "T7",
        "Unqualified positive report",
        "a confident, unqualified judgement despite recent adverse evidence; cites the judgement and that evidence",
    ),
}


def triggers_section(report: ServiceReport, events: EventLinks, total: int) -> Markup:
    doc = report.document
    rows = []
    for t in doc["triggers"]:
        short, name, _why = TRIGGER_NAMES.get(t["trigger"], (t["trigger"], t["trigger"], ""))
        cited = []
        for event_id in t["events"]:
            cited.append(
                h(
                    "div",
                    events.link(event_id),
                    f" {events.kind(event_id) or ''}, recorded {or_dash(events.recorded(event_id))}",
                )
            )
        rows.append(
            h(
                "tr",
                h("th", t["fired_on"], scope="row"),
                h("td", h("strong", f"{short} {name}"), h("br"), h("span", t["trigger"], class_="mono")),
                h("td", or_dash(t["theme"]), class_="mono"),
                h("td", or_dash(t["scope"]), class_="mono"),
                h("td", cited or "none (this trigger cites no event)"),
                class_="trigger-row",
                data_trigger=t["trigger"],
                data_theme=data_value(t["theme"]),
                data_scope=data_value(t["scope"]),
                data_fired_on=t["fired_on"],
                data_events=" ".join(t["events"]),
            )
        )
    legend = h(
        "dl", [join([h("dt", f"{v[0]} {v[1]}"), h("dd", v[2])]) for v in TRIGGER_NAMES.values()], class_="legend"
    )
    return section(
        5,
        "triggers",
        "Triggers fired",
        table(
            f"Trigger occurrences fired up to {doc['as_of'][:10]}, with the events each cites",
            ["Fired on", "Trigger", "Theme", "Scope", "Cited events"],
            rows,
            empty="No trigger fired.",
        ),
        legend,
        total=total,
    )
