"""The HTML of one service's governance report (seven sections, each a page in print).

Every figure is also in a ``data-`` attribute so tests can read the page back and compare it with
the analysis document: ``data-theme``, ``data-scope`` ("" at theme level), ``data-month``,
``data-j``, ``data-e``, ``data-d``, ``data-sign``, ``data-lag``... A null value is ``""``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from insightlog.report.charts import STATUS_SHAPE, Milestone, drift_chart, sign_text, timeline_chart
from insightlog.report.html import Markup, breakable, data_value, h, join, page, row, table
from insightlog.report.model import Integrity, ServiceReport, theme_anchor

SECTIONS = [
    ("governance", "Governance view"),
    ("drift", "Optimism drift by theme"),
    ("recognition", "Recognition timelines"),
    ("reviews", "Reviews"),
    ("triggers", "Triggers fired"),
    ("evidence", "Evidence and history"),
    ("integrity", "Ledger integrity"),
]

TRIGGER_NAMES = {
    "T1_REPEATED_THEME_UNACKNOWLEDGED": ("T1", "Repeated theme unacknowledged", "a repeated pattern with no leadership acknowledgement 14 days after it became detectable; cites the pattern-detectable event"),
    "T2_HEADLINE_MASKS_DETAIL": ("T2", "Headline masks detail", "an audit headline scored well while a section scored badly; cites the headline and the weak sections"),
    "T3_SUSTAINED_OPTIMISM": ("T3", "Sustained optimism", "leaders' score above the evidence (sign +1) in consecutive months; cites no event"),
    "T4_REPEATED_LOCAL_PRESSURE": ("T4", "Repeated local pressure", "a repeated pattern in one scope; cites the scope's pattern-detectable event"),
    "T5_VALIDATION_CONFIRMS_GAP": ("T5", "Validation confirms gap", "an independent validation scored badly; cites the validation"),
    "T6_METRIC_EXPERIENCE_MISMATCH": ("T6", "Metric and experience disagree", "a good metric while people's experience is poor; cites no event"),
    "T7_UNQUALIFIED_POSITIVE_REPORT": ("T7", "Unqualified positive report", "a confident, unqualified judgement despite recent adverse evidence; cites the judgement and that evidence"),
}

STATUS_WORDS = {
    "no_adverse_signal_yet": "no adverse signal yet",
    "not_improving": "not improving",
    "early": "early improvement",
    "embedded": "improvement embedded",
    "insufficient_evidence": "insufficient evidence",
    None: "\u2013",
}

AFTER_WORDS = {"acknowledged": "acknowledged again", "lapsed": "lapsed", "stood_down": "stood down"}


def _none(value: Any, dash: str = "\u2013") -> Any:
    return dash if value is None else value


def sign_cell(sign: int | None) -> Markup:
    cls = {1: "sign-opt", 0: "sign-zero", -1: "sign-cau"}.get(sign, "sign-none")  # type: ignore[arg-type]
    symbol = {1: "\u25b2 ", 0: "\u25cf ", -1: "\u25bc "}.get(sign, "")  # type: ignore[arg-type]
    return h("span", symbol + sign_text(sign), class_=f"sign {cls}")


def section(number: int, key: str, title: str, *content: Any, total: int) -> Markup:
    return h(
        "section",
        h("h2", h("span", f"Section {number} of {total}", class_="secno"), title, id=f"{key}-heading"),
        content,
        id=key,
        class_="report-section",
        aria_labelledby=f"{key}-heading",
        data_section=key,
    )


class _Events:
    """Links to the evidence table for event ids known at A."""

    def __init__(self, report: ServiceReport) -> None:
        self.rows = {r["event_id"]: r for r in report.history}

    def link(self, event_id: str | None) -> Any:
        if event_id is None:
            return "\u2013"
        found = self.rows.get(event_id)
        if found is None:
            return h("span", event_id, class_="mono")
        return h("a", event_id, href=f"#ev-{found['position']}", class_="mono")

    def links(self, ids: Sequence[str]) -> Any:
        if not ids:
            return "\u2013"
        out: list[Any] = []
        for i, event_id in enumerate(ids):
            if i:
                out.append(", ")
            out.append(self.link(event_id))
        return out

    def recorded(self, event_id: str | None) -> str | None:
        found = self.rows.get(event_id) if event_id else None
        return found["recorded_at"][:10] if found else None

    def observed(self, event_id: str | None) -> str | None:
        found = self.rows.get(event_id) if event_id else None
        return found["observed_at"][:10] if found else None

    def kind(self, event_id: str) -> str | None:
        found = self.rows.get(event_id)
        return found["kind"] if found else None


# --- 1. governance view -----------------------------------------------------------------------


def _judgement_cell(j: Mapping[str, Any] | None, events: _Events) -> Any:
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


def governance_section(report: ServiceReport, events: _Events, total: int) -> Markup:
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
                h("th", f"Key question: {key_question}" if key_question else "Key question not known", colspan=len(headers), scope="colgroup", class_="group"),
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
                        h("span", f"quality statement {r['quality_statement']}", class_="label meta") if r["quality_statement"] else None,
                        scope="row",
                    ),
                    h("td", _judgement_cell(j, events)),
                    h("td", _none(this["E"]), h("br"), h("span", this["month"], class_="meta"), class_="num"),
                    h("td", sign_cell(this["sign"]), h("br"), h("span", f"J {_none(this['J'])}, D {_none(this['D'])}", class_="meta")),
                    h("td", _none(prev["E"]), h("br"), h("span", prev["month"], class_="meta"), class_="num"),
                    h("td", sign_cell(prev["sign"]), h("br"), h("span", f"J {_none(prev['J'])}, D {_none(prev['D'])}", class_="meta")),
                    h("td", STATUS_WORDS.get(r["improvement_status"], r["improvement_status"]), class_="status"),
                    h(
                        "td",
                        [
                            h("div", h("span", a["action_id"], class_="mono"), f" (owner {a['owner_role']}, due {_none(a['due'])}) ", events.link(a["event_id"]))
                            for a in actions
                        ]
                        or "none",
                    ),
                    h("td", [h("div", f"{t['fired_on']} {TRIGGER_NAMES.get(t['trigger'], (t['trigger'],))[0]}" + (f" @ {t['scope']}" if t["scope"] else "")) for t in trig] or "none"),
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
                [h("td", STATUS_WORDS.get(per.get(d), per.get(d)) if d in per else "\u2013", data_date=d, data_status=data_value(per.get(d)), class_="status") for d in dates],
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
        h("li", f"{len(doc['reviews']['overdue'])} overdue review episode(s) ({len(open_overdue)} still open); {len(doc['reviews']['late_recorded'])} review(s) recorded late."),
        h("li", "Ledger: ", verified_phrase(integrity), f" (checked {integrity.checked_at})."),
        class_="glance",
    )
    return section(
        1,
        "governance",
        "Governance view",
        h("p", "Leaders' current judgement (J, the latest applicable leadership judgement) beside the evidence score E and the drift sign of the calendar month of the as-of date and the month before. Sign +1 (\u25b2) means leaders score the theme more than half a grade above the evidence; \u22121 (\u25bc) more than half a grade below.", class_="lead"),
        glance,
        gov_table,
        status_table,
        total=total,
    )


def verified_phrase(integrity: Integrity) -> Markup:
    if integrity.ok is None:
        return h("span", "verification could not run", class_="bad")
    if integrity.ok:
        return h("span", f"\u2714 verified ({integrity.events} events)", class_="ok")
    return h("span", f"\u2718 verification FAILED from position {integrity.first_bad_position}", class_="bad")


# --- 2. drift ---------------------------------------------------------------------------------


def drift_section(report: ServiceReport, events: _Events, total: int) -> Markup:
    doc = report.document
    detail_by_key = {(d["theme"], d["scope"], d["month"]): d for d in report.detail["drift"]}
    t3: dict[str, dict[str, list[str | None]]] = {}
    for t in doc["triggers"]:
        if t["trigger"] == "T3_SUSTAINED_OPTIMISM":
            t3.setdefault(t["theme"], {}).setdefault(t["fired_on"][:7], []).append(t["scope"])
    by_theme: dict[str, list[dict[str, Any]]] = {}
    for r in doc["drift"]:
        by_theme.setdefault(r["theme"], []).append(r)
    figures = []
    for i, (theme, rows) in enumerate(by_theme.items()):
        theme_rows = [r for r in rows if r["scope"] is None]
        scope_rows = [r for r in rows if r["scope"] is not None]
        marks = t3.get(theme, {})
        uid = f"{i}"
        fig_table = table(
            f"Figures for {theme} (theme level)",
            ["Month", "J", "J from", "E", "Evidence behind E", "D", "Sign", "T3"],
            [
                _drift_tr(r, events, detail_by_key.get((theme, None, r["month"])), marks.get(r["month"]))
                for r in theme_rows
            ],
            class_="drift-table",
        )
        scope_table = (
            table(
                f"{theme} by scope",
                ["Scope and month", "J", "J from", "E", "Evidence behind E", "D", "Sign"],
                [_drift_tr(r, events, detail_by_key.get((theme, r["scope"], r["month"])), None, scoped=True) for r in scope_rows],
                class_="drift-table scoped",
            )
            if scope_rows
            else None
        )
        figures.append(
            h(
                "div",
                h("h3", theme),
                h(
                    "figure",
                    h("figcaption", f"{theme}: leaders' score J (solid line, squares) and evidence score E (dashed line, circles) by month; gap D = J \u2212 E shaded and labelled under each month; \u25b2 T3 marks months where sustained optimism fired."),
                    drift_chart(uid, theme, theme_rows, marks),
                    class_="drift",
                    data_theme=theme,
                ),
                fig_table,
                scope_table,
                id=theme_anchor(theme),
                class_="theme-drift",
            )
        )
    return section(
        2,
        "drift",
        "Optimism drift by theme",
        h("p", "J is the leaders' score of the theme in force at each month end (or the as-of instant); E the evidence score of the month (two decimals); D = J \u2212 E. Months with no evidence have no E and no gap.", class_="lead"),
        figures,
        total=total,
    )


def _drift_tr(r: Mapping[str, Any], events: _Events, detail: Mapping[str, Any] | None, t3_scopes: list[str | None] | None, scoped: bool = False) -> Markup:
    evidence = detail["evidence"] if detail else []
    back = set(detail["backfilled"]) if detail else set()
    ev_cell: list[Any] = []
    for k, event_id in enumerate(evidence):
        if k:
            ev_cell.append(", ")
        ev_cell.append(events.link(event_id))
        if event_id in back:
            ev_cell.append(h("span", " (back-filled)", class_="flag"))
    cells: list[Any] = [
        h("td", _none(r["J"]), class_="num"),
        h("td", events.link(r["J_event"])),
        h("td", _none(r["E"]), class_="num"),
        h("td", ev_cell or "none"),
        h("td", _none(r["D"]), class_="num"),
        h("td", sign_cell(r["sign"])),
    ]
    if not scoped:
        cells.append(h("td", ("\u25b2 T3 " + ", ".join("theme level" if s is None else s for s in t3_scopes)) if t3_scopes else "\u2013"))
    header = f"{r['scope']}, {r['month']}" if scoped else r["month"]
    return h(
        "tr",
        h("th", header, scope="row"),
        cells,
        class_="drift-row",
        data_theme=r["theme"],
        data_scope=data_value(r["scope"]),
        data_month=r["month"],
        data_j=data_value(r["J"]),
        data_j_event=data_value(r["J_event"]),
        data_e=data_value(r["E"]),
        data_d=data_value(r["D"]),
        data_sign=data_value(r["sign"]),
    )


# --- 3. recognition ---------------------------------------------------------------------------


def recognition_section(report: ServiceReport, events: _Events, total: int) -> Markup:
    doc = report.document
    signals = {(r["theme"], r["first_signal_observed"]): r["signals"] for r in report.detail["recognition"]}
    a_date = report.as_of.instant.date()
    figures = []
    for i, r in enumerate(doc["recognition"]):
        sig_ids = signals.get((r["theme"], r["first_signal_observed"]), [])
        first_rec = events.recorded(r["first_signal"])
        claimed = events.observed(r["acknowledgement"])
        milestones = [
            Milestone("Adverse signals", date.fromisoformat(events.observed(s) or r["first_signal_observed"]), "dot", f"{s} observed {events.observed(s)}")
            for s in sig_ids
        ]
        first_obs = date.fromisoformat(r["first_signal_observed"])
        milestones.append(Milestone("First signal observed", first_obs, "circle", f"{r['first_signal']} {r['first_signal_observed']}"))
        if first_rec:
            milestones.append(Milestone("First signal recorded", date.fromisoformat(first_rec), "ring", first_rec + (" (same day)" if first_rec == r["first_signal_observed"] else f" ({_plural_days((date.fromisoformat(first_rec) - first_obs).days)} later)")))
        milestones.append(Milestone("Pattern detectable", date.fromisoformat(r["pattern_detectable_recorded"]), "square", f"{r['pattern_detectable']} {r['pattern_detectable_recorded']}"))
        bars: list[tuple[str, date, date, str]] = []
        if r["acknowledgement"] is not None:
            ack = date.fromisoformat(r["ack_recorded"])
            milestones.append(Milestone("Acknowledged (recorded)", ack, "diamond", f"{r['acknowledgement']} {r['ack_recorded']}"))
            if claimed and claimed != r["ack_recorded"]:
                milestones.append(Milestone("Acknowledgement claimed", date.fromisoformat(claimed), "open-diamond", f"claims {claimed}"))
            for after in r["after_acknowledgement"]:
                when = events.recorded(after["event_id"])
                if when:
                    milestones.append(Milestone(f"Then {after['event_id']}", date.fromisoformat(when), STATUS_SHAPE.get(after["status"], "dot"), f"{when} {AFTER_WORDS.get(after['status'], after['status'])}"))
            bars.append(("Recognition lag", first_obs, ack, _plural_days(r["recognition_lag_days"])))
            bars.append(("Detectable lag", date.fromisoformat(r["pattern_detectable_recorded"]), ack, _plural_days(r["detectable_lag_days"])))
        else:
            bars.append(("Open, unacknowledged", first_obs, a_date, f"{_plural_days(r['open_lag_days'])} so far"))
        lanes = ["Adverse signals", "First signal observed", "First signal recorded", "Pattern detectable", "Acknowledged (recorded)"]
        if any(m.lane == "Acknowledgement claimed" for m in milestones):
            lanes.append("Acknowledgement claimed")
        lanes += [m.lane for m in milestones if m.lane.startswith("Then ")]
        desc = _recognition_description(r, first_rec, claimed, events, sig_ids)
        figures.append(
            h(
                "figure",
                h("figcaption", f"{r['theme']}: issue first observed {r['first_signal_observed']} ({r['extent'].replace('_', '-')})"),
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
        ["Theme", "Extent and scopes", "First signal (observed; recorded)", "Pattern detectable (recorded)", "Acknowledgement (recorded; claimed)", "Recognition lag", "Detectable lag", "Claimed lag", "Open lag", "After acknowledgement"],
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
                h("td", events.link(r["first_signal"]), f" {r['first_signal_observed']}; {_none(events.recorded(r['first_signal']))}"),
                h("td", events.link(r["pattern_detectable"]), f" {r['pattern_detectable_recorded']}"),
                h("td", events.link(r["acknowledgement"]), f" {_none(r['ack_recorded'], 'not acknowledged')}" + (f"; claims {events.observed(r['acknowledgement'])}" if r["acknowledgement"] and events.observed(r["acknowledgement"]) != r["ack_recorded"] else "")),
                h("td", _days(r["recognition_lag_days"]), class_="num"),
                h("td", _days(r["detectable_lag_days"]), class_="num"),
                h("td", _days(r["claimed_lag_days"]), class_="num"),
                h("td", _days(r["open_lag_days"]), class_="num"),
                h("td", [h("div", events.link(a["event_id"]), f" {AFTER_WORDS.get(a['status'], a['status'])}") for a in r["after_acknowledgement"]] or "\u2013"),
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
        h("p", "For each repeated issue: when the first adverse signal happened (observed) and when it was recorded, when the pattern became detectable, when leaders acknowledged it (recorded, and the date the acknowledgement claims where that differs), and later lapses or stand-downs. The recognition lag counts from the first signal's observed date to the acknowledgement's recorded date.", class_="lead"),
        summary,
        figures,
        h("p", "Themes with an isolated adverse signal only: ", h("span", ", ".join(isolated) or "none", class_="mono", data_isolated=" ".join(isolated))),
        total=total,
    )


def _days(value: int | None) -> str:
    return "\u2013" if value is None else _plural_days(value)


def _plural_days(n: int) -> str:
    return f"{n} day" if n in (1, -1) else f"{n} days"


def _recognition_description(r: Mapping[str, Any], first_rec: str | None, claimed: str | None, events: _Events, sig_ids: Sequence[str]) -> str:
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


# --- 4. reviews -------------------------------------------------------------------------------


def reviews_section(report: ServiceReport, events: _Events, total: int) -> Markup:
    doc = report.document
    parts: list[Any] = [h("p", "Each review level is due a fixed number of days after its anchor date, then after each review held. A review is overdue when held after its due date (or not held by the as-of date), and late-recorded when recorded more than 7 days after it was held.", class_="lead")]
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
                state = f"not held by the as-of date: overdue {r['days_overdue']} days" if r["days_overdue"] is not None else "next due"
            else:
                bits = [f"held {r['days_overdue']} days late (overdue)" if r["days_overdue"] is not None else "held on time"]
                if r["days_late"] is not None:
                    bits.append(f"recorded {r['days_late']} days after it was held (late-recorded)")
                state = "; ".join(bits)
            rows.append(
                h(
                    "tr",
                    h("th", r["due_by"], scope="row"),
                    h("td", _none(r["held"])),
                    h("td", _none(r["recorded"])),
                    h("td", events.link(r["event_id"]) if r["event_id"] else "\u2013"),
                    h("td", state),
                    class_="schedule-row",
                    data_level=s.level,
                    data_due=r["due_by"],
                    data_held=data_value(r["held"]),
                )
            )
        parts.append(h("h3", f"{s.level}: every {s.interval_days} days from {s.anchor_date}"))
        parts.append(h("p", "Cadence set by ", events.link(s.cadence_event), f"; owner {_none(s.owner_role)}.", class_="meta"))
        parts.append(table(f"{s.level}: due and held dates", ["Due by", "Held", "Recorded", "Review", "Status"], rows))
    if not report.schedules:
        parts.append(h("p", "No review cadence has been set.", class_="empty"))
    return section(4, "reviews", "Reviews", parts, total=total)


# --- 5. triggers ------------------------------------------------------------------------------


def triggers_section(report: ServiceReport, events: _Events, total: int) -> Markup:
    doc = report.document
    rows = []
    for t in doc["triggers"]:
        short, name, why = TRIGGER_NAMES.get(t["trigger"], (t["trigger"], t["trigger"], ""))
        cited = []
        for event_id in t["events"]:
            cited.append(h("div", events.link(event_id), f" {events.kind(event_id) or ''}, recorded {_none(events.recorded(event_id))}"))
        rows.append(
            h(
                "tr",
                h("th", t["fired_on"], scope="row"),
                h("td", h("strong", f"{short} {name}"), h("br"), h("span", t["trigger"], class_="mono")),
                h("td", _none(t["theme"]), class_="mono"),
                h("td", _none(t["scope"]), class_="mono"),
                h("td", cited or "none (this trigger cites no event)"),
                class_="trigger-row",
                data_trigger=t["trigger"],
                data_theme=data_value(t["theme"]),
                data_scope=data_value(t["scope"]),
                data_fired_on=t["fired_on"],
                data_events=" ".join(t["events"]),
            )
        )
    legend = h("dl", [join([h("dt", f"{v[0]} {v[1]}"), h("dd", v[2])]) for v in TRIGGER_NAMES.values()], class_="legend")
    return section(
        5,
        "triggers",
        "Triggers fired",
        table(f"Trigger occurrences fired up to {doc['as_of'][:10]}, with the events each cites", ["Fired on", "Trigger", "Theme", "Scope", "Cited events"], rows, empty="No trigger fired."),
        legend,
        total=total,
    )


# --- 6. evidence ------------------------------------------------------------------------------


def evidence_section(report: ServiceReport, events: _Events, total: int) -> Markup:
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
                chips.append(h("span", f"late entry: recorded {_plural_days(days)} after observed", class_="flag flag-late"))
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


# --- 7. integrity -----------------------------------------------------------------------------


def integrity_section(report: ServiceReport, total: int) -> Markup:
    return section(7, "integrity", "Ledger integrity", integrity_block(report.integrity), total=total)


def integrity_block(i: Integrity) -> Markup:
    if i.ok is None:
        status: Any = h("p", h("span", "Verification could not run: ", class_="bad"), i.error or "", data_verified="error")
    elif i.ok:
        what = "each event's leaf hash committed when it was appended and the ledger head"
        if i.checkpoints or i.outside_checkpoints:
            what += f", and {i.checkpoints + i.outside_checkpoints} checkpoint(s): roots, {i.signatures_checked} signature(s), {i.tokens_checked} timestamp token(s) and their consistency"
        status = h("p", h("span", "\u2714 Verified.", class_="ok"), f" When this report was made ({i.checked_at}) the {i.events} stored events matched every commitment: {what}.", data_verified="true")
    else:
        status = h("p", h("span", "\u2718 Verification FAILED.", class_="bad"), f" When this report was made ({i.checked_at}) the stored history no longer matched what was committed, from position {i.first_bad_position}.", data_verified="false")
    facts = [
        ("Checked at", i.checked_at),
        ("Events verified", str(i.events)),
        ("Ledger head size", str(i.head_size)),
        ("Checkpoints stored / from outside", f"{i.checkpoints} / {i.outside_checkpoints}"),
        ("Signatures checked", str(i.signatures_checked)),
        ("Timestamp tokens checked", str(i.tokens_checked)),
        ("Events after the latest checkpoint", _none(i.after_latest_checkpoint, "no checkpoint yet")),
        ("First bad position", _none(i.first_bad_position, "none")),
    ]
    facts_table = table("Verification", ["Check", "Result"], [row(k, [v]) for k, v in facts], class_="integrity")
    if i.latest:
        cp = i.latest
        cp_rows = [
            row("Origin", [h("span", cp["origin"], class_="mono")]),
            row("Size (events covered)", [str(cp["size"])]),
            row("Root hash (SHA-256)", [h("span", cp["root_hash"], class_="mono")]),
            row("Signed at", [cp["timestamp"]]),
            row("Signatures", [[h("div", f"{s['role']}: key ", h("span", s["key_id"], class_="mono")) for s in cp["signatures"]] or "none"]),
            row("RFC 3161 timestamp", [f"token generated {cp['tsa_time']}" + (f" by {cp['tsa_url']}" if cp["tsa_url"] else "") if cp["tsa_time"] else "no timestamp token"]),
        ]
        cp_block: Any = table("Latest checkpoint", ["Field", "Value"], cp_rows, class_="checkpoint", data_size=str(cp["size"]), data_signatures=str(len(cp["signatures"])))
    else:
        cp_block = h("p", "No checkpoint has been taken: nothing is signed yet ('insightlog keys init', then 'insightlog checkpoint').", class_="empty", data_size="")
    findings = (
        table("Findings", ["Position", "Finding"], [row(_none(p, "\u2013"), [m]) for p, m in i.findings])
        if i.findings
        else None
    )
    notes = h("ul", [h("li", n) for n in i.notes]) if i.notes else None
    return join([status, facts_table, cp_block, findings, notes])


# --- the page ---------------------------------------------------------------------------------


def render_service(report: ServiceReport) -> str:
    doc = report.document
    events = _Events(report)
    total = len(SECTIONS)
    known = len(report.history)
    header = h(
        "header",
        h("h1", f"Governance report: {report.service}"),
        h(
            "p",
            f"As of {doc['as_of']}: the record as it stood then; events recorded later are not shown. ",
            f"{known} of the service's {len(report.entries)} events were recorded by then. ",
            f"Definitions {doc['definitions_version']}",
            f", policy {doc['policy']['name']} (overrides {doc['policy']['overrides']})" if "policy" in doc else ", default thresholds",
            f"; taxonomy {report.governance.taxonomy_version or 'not stated'}.",
            class_="meta",
        ),
        h("p", f"Report made {report.generated_at} by insightlog from the ledger ({report.store_events} events in the store). Ledger integrity at that time: ", verified_phrase(report.integrity), ".", class_="meta"),
        class_="report-header",
        data_service=report.service,
        data_as_of=doc["as_of"],
    )
    nav = h("nav", h("h2", "Contents", class_="visually-hidden"), h("ol", [h("li", h("a", title, href=f"#{key}")) for key, title in SECTIONS]), aria_label="Contents")
    main = h(
        "main",
        governance_section(report, events, total),
        drift_section(report, events, total),
        recognition_section(report, events, total),
        reviews_section(report, events, total),
        triggers_section(report, events, total),
        evidence_section(report, events, total),
        integrity_section(report, total),
    )
    footer = h("footer", h("p", f"insightlog governance report \u00b7 {report.service} \u00b7 as of {doc['as_of']} \u00b7 made {report.generated_at}", class_="meta"))
    return page(
        f"Governance report: {report.service} as of {doc['as_of']}",
        join([header, nav, main, footer]),
        description=f"insightlog governance report for {report.service} as of {doc['as_of']}",
    )
