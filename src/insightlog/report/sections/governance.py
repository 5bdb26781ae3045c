"""Section 1: the governance view (leaders' judgement beside the evidence, per theme)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from insightlog.report.html import Markup, breakable, data_value, h, table
from insightlog.report.model import ServiceReport, theme_anchor
from insightlog.report.sections.common import EventLinks, or_dash, section, sign_cell
from insightlog.report.sections.integrity import verified_phrase
from insightlog.report.sections.triggers import TRIGGER_NAMES

STATUS_WORDS = {
    "no_adverse_signal_yet": "no adverse signal yet",
    "not_improving": "not improving",
    "early": "early improvement",
    "embedded": "improvement embedded",
    "insufficient_evidence": "insufficient evidence",
    None: "\u2013",
}


def _judgement_cell(j: Mapping[str, Any] | None, events: EventLinks) -> Any:
    if j is None:
        return h("span", "no leadership judgement yet", class_="empty")
    parts: list[Any] = [
        h("strong", f"J {j['score']}"),
        f", {j['confidence']} confidence",
        h("br"),
        events.link(j["event_id"]),
        f" by {j['actor_role']} {j['actor_id']}, recorded {j['recorded_at'][:10]}",
    ]
    for ex in j["exceptions"]:
        where = " ".join(x for x in (ex.get("theme"), ex.get("scope")) if x) or "(all)"
        parts += [h("br"), f"exception {where}: {ex.get('score')}"]
    return parts


def governance_section(report: ServiceReport, events: EventLinks, total: int) -> Markup:
    doc = report.document
    gov = report.governance
    headers = [
        "Theme",
        "Leaders' current judgement",
        "E this month",
        "Drift sign this month",
        "E previous month",
        "Drift sign previous month",
        "Improvement status",
        "Open actions",
        "Triggers, last 90 days",
    ]
    bodies = []
    groups: dict[Any, list[dict[str, Any]]] = {}
    for r in gov.rows:
        groups.setdefault(r["key_question"], []).append(r)
    for key_question, rows in groups.items():
        trs = [
            h(
                "tr",
                h(
                    "th",
                    f"Key question: {key_question}" if key_question else "Key question not known",
                    colspan=len(headers),
                    scope="colgroup",
                    class_="group",
                ),
            )
        ]
        for r in rows:
            j = r["judgement"]
            this, prev = r["this_month"], r["previous_month"]
            actions = r["open_actions"]
            trig = r["triggers_last_90_days"]
            trs.append(
                h(
                    "tr",
                    h(
                        "th",
                        h("a", breakable(r["theme"]), href=f"#{theme_anchor(r['theme'])}", class_="mono"),
                        h("br"),
                        h("span", r["label"] or "", class_="label"),
                        h("br") if r["quality_statement"] else None,
                        h("span", f"quality statement {r['quality_statement']}", class_="label meta")
                        if r["quality_statement"]
                        else None,
                        scope="row",
                    ),
                    h("td", _judgement_cell(j, events)),
                    h("td", or_dash(this["E"]), h("br"), h("span", this["month"], class_="meta"), class_="num"),
                    h(
                        "td",
                        sign_cell(this["sign"]),
                        h("br"),
                        h("span", f"J {or_dash(this['J'])}, D {or_dash(this['D'])}", class_="meta"),
                    ),
                    h("td", or_dash(prev["E"]), h("br"), h("span", prev["month"], class_="meta"), class_="num"),
                    h(
                        "td",
                        sign_cell(prev["sign"]),
                        h("br"),
                        h("span", f"J {or_dash(prev['J'])}, D {or_dash(prev['D'])}", class_="meta"),
                    ),
                    h("td", STATUS_WORDS.get(r["improvement_status"], r["improvement_status"]), class_="status"),
                    h(
                        "td",
                        [
                            h(
                                "div",
                                h("span", a["action_id"], class_="mono"),
                                f" (owner {a['owner_role']}, due {or_dash(a['due'])}) ",
                                events.link(a["event_id"]),
                            )
                            for a in actions
                        ]
                        or "none",
                    ),
                    h(
                        "td",
                        [
                            h(
                                "div",
                                f"{t['fired_on']} {TRIGGER_NAMES.get(t['trigger'], (t['trigger'],))[0]}"
                                + (f" @ {t['scope']}" if t["scope"] else ""),
                            )
                            for t in trig
                        ]
                        or "none",
                    ),
                    class_="governance-row",
                    data_theme=r["theme"],
                    data_j=data_value(j["score"] if j else None),
                    data_confidence=data_value(j["confidence"] if j else None),
                    data_j_event=data_value(j["event_id"] if j else None),
                    data_month=this["month"],
                    data_e=data_value(this["E"]),
                    data_sign=data_value(this["sign"]),
                    data_prev_month=prev["month"],
                    data_prev_e=data_value(prev["E"]),
                    data_prev_sign=data_value(prev["sign"]),
                    data_status=data_value(r["improvement_status"]),
                    data_actions=" ".join(a["action_id"] for a in actions),
                    data_triggers=str(len(trig)),
                )
            )
        bodies.append(h("tbody", trs))
    gov_table = h(
        "table",
        h("caption", f"Per theme as of {doc['as_of']}: what leaders judge beside what the evidence says"),
        h("thead", h("tr", [h("th", x, scope="col") for x in headers])),
        bodies,
        class_="governance",
    )

    status = doc["improvement_status"]
    dates = sorted({d for per in status.values() for d in per})
    status_table = table(
        "Improvement status at each evaluation date (themes with an adverse signal)",
        ["Theme", *dates],
        [
            h(
                "tr",
                h("th", breakable(theme), scope="row", class_="mono theme-col"),
                [
                    h(
                        "td",
                        STATUS_WORDS.get(per.get(d), per.get(d)) if d in per else "\u2013",
                        data_date=d,
                        data_status=data_value(per.get(d)),
                        class_="status",
                    )
                    for d in dates
                ],
                class_="status-row",
                data_theme=theme,
            )
            for theme, per in status.items()
        ],
        empty="No theme has an adverse signal.",
    )
    rec = doc["recognition"]
    open_eps = [r for r in rec if r["acknowledgement"] is None]
    open_overdue = [r for r in doc["reviews"]["overdue"] if r["held"] is None]
    integrity = report.integrity
    glance = h(
        "ul",
        h("li", f"{len(gov.rows)} themes; {len(rec)} repeated issue episode(s), {len(open_eps)} not yet acknowledged."),
        h("li", f"{len(doc['triggers'])} trigger occurrence(s) up to {doc['as_of'][:10]}."),
        h(
            "li",
            f"{len(doc['reviews']['overdue'])} overdue review episode(s) ({len(open_overdue)} still open); {len(doc['reviews']['late_recorded'])} review(s) recorded late.",
        ),
        h("li", "Ledger: ", verified_phrase(integrity), f" (checked {integrity.checked_at})."),
        class_="glance",
    )
    return section(
        1,
        "governance",
        "Governance view",
        h(
            "p",
            "Leaders' current judgement (J, the latest applicable leadership judgement) beside the evidence score E and the drift sign of the calendar month of the as-of date and the month before. Sign +1 (\u25b2) means leaders score the theme more than half a grade above the evidence; \u22121 (\u25bc) more than half a grade below.",
            class_="lead",
        ),
        glance,
        gov_table,
        status_table,
        total=total,
    )
