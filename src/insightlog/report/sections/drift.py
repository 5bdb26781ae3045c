"""Section 2: optimism drift by theme (J and E by month, the gap D, T3 marks)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from insightlog.report.charts import drift_chart
from insightlog.report.html import Markup, data_value, h, table
from insightlog.report.model import ServiceReport, theme_anchor
from insightlog.report.sections.common import EventLinks, or_dash, section, sign_cell


def drift_section(report: ServiceReport, events: EventLinks, total: int) -> Markup:
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
                [
                    _drift_tr(r, events, detail_by_key.get((theme, r["scope"], r["month"])), None, scoped=True)
                    for r in scope_rows
                ],
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
                    h(
                        "figcaption",
                        f"{theme}: leaders' score J (solid line, squares) and evidence score E (dashed line, circles) by month; gap D = J \u2212 E shaded and labelled under each month; \u25b2 T3 marks months where sustained optimism fired.",
                    ),
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
        h(
            "p",
            "J is the leaders' score of the theme in force at each month end (or the as-of instant); E the evidence score of the month (two decimals); D = J \u2212 E. Months with no evidence have no E and no gap.",
            class_="lead",
        ),
        figures,
        total=total,
    )


def _drift_tr(
    r: Mapping[str, Any],
    events: EventLinks,
    detail: Mapping[str, Any] | None,
    t3_scopes: list[str | None] | None,
    scoped: bool = False,
) -> Markup:
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
        h("td", or_dash(r["J"]), class_="num"),
        h("td", events.link(r["J_event"])),
        h("td", or_dash(r["E"]), class_="num"),
        h("td", ev_cell or "none"),
        h("td", or_dash(r["D"]), class_="num"),
        h("td", sign_cell(r["sign"])),
    ]
    if not scoped:
        cells.append(
            h(
                "td",
                ("\u25b2 T3 " + ", ".join("theme level" if s is None else s for s in t3_scopes))
                if t3_scopes
                else "\u2013",
            )
        )
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
