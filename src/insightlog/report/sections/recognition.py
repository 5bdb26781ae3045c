"""Section 3: recognition timelines of repeated issues (signal, detectable, acknowledged)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from insightlog.report.charts import STATUS_SHAPE, Milestone, timeline_chart
from insightlog.report.html import Markup, breakable, data_value, h, table
from insightlog.report.model import ServiceReport
from insightlog.report.sections.common import EventLinks, or_dash, plural_days, section

AFTER_WORDS = {"acknowledged": "acknowledged again", "lapsed": "lapsed", "stood_down": "stood down"}


def recognition_section(report: ServiceReport, events: EventLinks, total: int) -> Markup:
    doc = report.document
    signals = {(r["theme"], r["first_signal_observed"]): r["signals"] for r in report.detail["recognition"]}
    a_date = report.as_of.instant.date()
    figures = []
    for i, r in enumerate(doc["recognition"]):
        sig_ids = signals.get((r["theme"], r["first_signal_observed"]), [])
        first_rec = events.recorded(r["first_signal"])
        claimed = events.observed(r["acknowledgement"])
        milestones = [
            Milestone(
                "Adverse signals",
                date.fromisoformat(events.observed(s) or r["first_signal_observed"]),
                "dot",
                f"{s} observed {events.observed(s)}",
            )
            for s in sig_ids
        ]
        first_obs = date.fromisoformat(r["first_signal_observed"])
        milestones.append(
            Milestone("First signal observed", first_obs, "circle", f"{r['first_signal']} {r['first_signal_observed']}")
        )
        if first_rec:
            milestones.append(
                Milestone(
                    "First signal recorded",
                    date.fromisoformat(first_rec),
                    "ring",
                    first_rec
                    + (
                        " (same day)"
                        if first_rec == r["first_signal_observed"]
                        else f" ({plural_days((date.fromisoformat(first_rec) - first_obs).days)} later)"
                    ),
                )
            )
        milestones.append(
            Milestone(
                "Pattern detectable",
                date.fromisoformat(r["pattern_detectable_recorded"]),
                "square",
                f"{r['pattern_detectable']} {r['pattern_detectable_recorded']}",
            )
        )
        bars: list[tuple[str, date, date, str]] = []
        if r["acknowledgement"] is not None:
            ack = date.fromisoformat(r["ack_recorded"])
            milestones.append(
                Milestone("Acknowledged (recorded)", ack, "diamond", f"{r['acknowledgement']} {r['ack_recorded']}")
            )
            if claimed and claimed != r["ack_recorded"]:
                milestones.append(
                    Milestone(
                        "Acknowledgement claimed", date.fromisoformat(claimed), "open-diamond", f"claims {claimed}"
                    )
                )
            for after in r["after_acknowledgement"]:
                when = events.recorded(after["event_id"])
                if when:
                    milestones.append(
                        Milestone(
                            f"Then {after['event_id']}",
                            date.fromisoformat(when),
                            STATUS_SHAPE.get(after["status"], "dot"),
                            f"{when} {AFTER_WORDS.get(after['status'], after['status'])}",
                        )
                    )
            bars.append(("Recognition lag", first_obs, ack, plural_days(r["recognition_lag_days"])))
            bars.append(
                (
                    "Detectable lag",
                    date.fromisoformat(r["pattern_detectable_recorded"]),
                    ack,
                    plural_days(r["detectable_lag_days"]),
                )
            )
        else:
            bars.append(("Open, unacknowledged", first_obs, a_date, f"{plural_days(r['open_lag_days'])} so far"))
        lanes = [
            "Adverse signals",
            "First signal observed",
            "First signal recorded",
            "Pattern detectable",
            "Acknowledged (recorded)",
        ]
        if any(m.lane == "Acknowledgement claimed" for m in milestones):
            lanes.append("Acknowledgement claimed")
        lanes += [m.lane for m in milestones if m.lane.startswith("Then ")]
        desc = _recognition_description(r, first_rec, claimed, events, sig_ids)
        figures.append(
            h(
                "figure",
                h(
                    "figcaption",
                    f"{r['theme']}: issue first observed {r['first_signal_observed']} ({r['extent'].replace('_', '-')})",
                ),
                timeline_chart(f"{i}", r["theme"], lanes, milestones, bars, desc),
                h("p", desc, class_="legend"),
                class_="recognition",
                data_theme=r["theme"],
                data_first_signal=r["first_signal"],
                data_first_observed=r["first_signal_observed"],
                data_first_recorded=data_value(first_rec),
                data_detectable=r["pattern_detectable"],
                data_detectable_recorded=r["pattern_detectable_recorded"],
                data_ack=data_value(r["acknowledgement"]),
                data_ack_recorded=data_value(r["ack_recorded"]),
                data_claimed=data_value(claimed if r["acknowledgement"] else None),
                data_lag=data_value(r["recognition_lag_days"]),
                data_detectable_lag=data_value(r["detectable_lag_days"]),
                data_claimed_lag=data_value(r["claimed_lag_days"]),
                data_open_lag=data_value(r["open_lag_days"]),
                data_after=" ".join(f"{a['event_id']}:{a['status']}" for a in r["after_acknowledgement"]),
            )
        )
    summary = table(
        "Repeated issue episodes as known at the as-of instant",
        [
            "Theme",
            "Extent and scopes",
            "First signal (observed; recorded)",
            "Pattern detectable (recorded)",
            "Acknowledgement (recorded; claimed)",
            "Recognition lag",
            "Detectable lag",
            "Claimed lag",
            "Open lag",
            "After acknowledgement",
        ],
        [
            h(
                "tr",
                h("th", breakable(r["theme"]), scope="row", class_="mono theme-col"),
                h(
                    "td",
                    h("strong", r["extent"].replace("_", "-")),
                    h("br"),
                    "affected: ",
                    breakable(", ".join(r["affected_scopes"]) or "\u2013"),
                    h("br"),
                    "sampled: ",
                    breakable(", ".join(r["sampled_scopes"]) or "\u2013"),
                ),
                h(
                    "td",
                    events.link(r["first_signal"]),
                    f" {r['first_signal_observed']}; {or_dash(events.recorded(r['first_signal']))}",
                ),
                h("td", events.link(r["pattern_detectable"]), f" {r['pattern_detectable_recorded']}"),
                h(
                    "td",
                    events.link(r["acknowledgement"]),
                    f" {or_dash(r['ack_recorded'], 'not acknowledged')}"
                    + (
                        f"; claims {events.observed(r['acknowledgement'])}"
                        if r["acknowledgement"] and events.observed(r["acknowledgement"]) != r["ack_recorded"]
                        else ""
                    ),
                ),
                h("td", _days(r["recognition_lag_days"]), class_="num"),
                h("td", _days(r["detectable_lag_days"]), class_="num"),
                h("td", _days(r["claimed_lag_days"]), class_="num"),
                h("td", _days(r["open_lag_days"]), class_="num"),
                h(
                    "td",
                    [
                        h("div", events.link(a["event_id"]), f" {AFTER_WORDS.get(a['status'], a['status'])}")
                        for a in r["after_acknowledgement"]
                    ]
                    or "\u2013",
                ),
                class_="recognition-row",
                data_theme=r["theme"],
                data_lag=data_value(r["recognition_lag_days"]),
                data_detectable_lag=data_value(r["detectable_lag_days"]),
                data_claimed_lag=data_value(r["claimed_lag_days"]),
                data_open_lag=data_value(r["open_lag_days"]),
            )
            for r in doc["recognition"]
        ],
        empty="No repeated issue as of this instant.",
    )
    isolated = doc["isolated_themes"]
    return section(
        3,
        "recognition",
        "Recognition timelines",
        h(
            "p",
            "For each repeated issue: when the first adverse signal happened (observed) and when it was recorded, when the pattern became detectable, when leaders acknowledged it (recorded, and the date the acknowledgement claims where that differs), and later lapses or stand-downs. The recognition lag counts from the first signal's observed date to the acknowledgement's recorded date.",
            class_="lead",
        ),
        summary,
        figures,
        h(
            "p",
            "Themes with an isolated adverse signal only: ",
            h("span", ", ".join(isolated) or "none", class_="mono", data_isolated=" ".join(isolated)),
        ),
        total=total,
    )


def _days(value: int | None) -> str:
    return "\u2013" if value is None else plural_days(value)


def _recognition_description(
    r: Mapping[str, Any], first_rec: str | None, claimed: str | None, events: EventLinks, sig_ids: Sequence[str]
) -> str:
    text = (
        f"{r['theme']}, {r['extent'].replace('_', '-')} issue (affected {', '.join(r['affected_scopes']) or 'none'} of sampled {', '.join(r['sampled_scopes']) or 'none'}). "
        f"First signal {r['first_signal']} observed {r['first_signal_observed']}, recorded {first_rec or 'unknown'}. "
        f"{len(sig_ids)} adverse signal(s) in the episode. "
        f"Pattern detectable on {r['pattern_detectable_recorded']} ({r['pattern_detectable']}). "
    )
    if r["acknowledgement"] is None:
        return text + f"Not acknowledged: open for {r['open_lag_days']} days."
    text += f"Acknowledged by {r['acknowledgement']} recorded {r['ack_recorded']}"
    if claimed and claimed != r["ack_recorded"]:
        text += f", which claims {claimed}"
    text += (
        f". Recognition lag {r['recognition_lag_days']} days, detectable lag {r['detectable_lag_days']} days, "
        f"claimed lag {r['claimed_lag_days']} days."
    )
    for a in r["after_acknowledgement"]:
        text += f" Then {a['event_id']} recorded {events.recorded(a['event_id'])}: {AFTER_WORDS.get(a['status'], a['status'])}."
    return text
