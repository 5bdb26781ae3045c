"""Section 6: evidence and history (every event known at the as-of instant, both times, flags).

A withdrawn entry (definitions §3.4) keeps its row, struck through: its event id and what it said
are in ``<del>``, and a flag says in words ``withdrawn on D by ROLE: reason`` with a link to the
``EntryWithdrawn``, so the mark never rests on colour or line style alone. A replacement and the
entry it replaces link to each other.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from insightlog.report.html import Markup, breakable, h, table
from insightlog.report.model import ServiceReport
from insightlog.report.sections.common import EventLinks, plural_days, section

_CORRECTION_FLAGS = ("withdrawn on ", "corrects ", "replaced by ")


def _correction_chips(r: dict[str, Any], events: EventLinks) -> list[Any]:
    chips: list[Any] = []
    w = r["withdrawn"]
    if w is not None:
        chips.append(
            h(
                "span",
                f"withdrawn on {w['recorded_at'][:10]} by {w['actor_role']}: {w['reason']} (",
                events.link(w["by"]),
                ")",
                class_="flag flag-withdrawn",
            )
        )
    if r["corrects"] is not None:
        chips.append(h("span", "corrects ", events.link(r["corrects"]), class_="flag flag-corrects"))
    if r["replaced_by"]:
        chips.append(h("span", "replaced by ", events.links(r["replaced_by"]), class_="flag flag-replaced"))
    return chips


def _order_words(basis: str) -> str:
    if basis == "recorded":
        return ", in log order (by recorded time)"
    if basis == "ledger":
        return " on the ledger basis (appended to this store by then), in append order"
    return f" on the {basis} basis (covered by a timestamped checkpoint by then), in append order"


def evidence_section(report: ServiceReport, events: EventLinks, total: int) -> Markup:
    amends_of = {e.event_id: e.payload.get("amends") for e in report.entries if e.kind == "EvidenceAmended"}
    amended_by: dict[str, list[dict[str, Any]]] = {}
    for r in report.history:
        target = amends_of.get(r["event_id"])
        if isinstance(target, str):
            amended_by.setdefault(target, []).append(r)
    backfilled = {e.event_id for e in report.entries if e.is_backfill}
    rows = []
    withdrawn_count = 0
    for r in report.history:
        withdrawn = r["withdrawn"] is not None
        withdrawn_count += withdrawn
        flags: list[str] = []
        chips: list[Any] = _correction_chips(r, events)
        if withdrawn:
            flags.append("withdrawn")
        if r["corrects"] is not None:
            flags.append("corrects")
        if r["replaced_by"]:
            flags.append("replaced")
        for f in r["flags"]:
            if f.startswith(_CORRECTION_FLAGS):
                continue
            if f.startswith("late entry"):
                flags.append("late")
                days = (date.fromisoformat(r["recorded_at"][:10]) - date.fromisoformat(r["observed_at"][:10])).days
                chips.append(
                    h("span", f"late entry: recorded {plural_days(days)} after observed", class_="flag flag-late")
                )
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
                note = " (itself withdrawn)" if c["withdrawn"] is not None else ""
                what.append(
                    h(
                        "div",
                        "Corrected by ",
                        events.link(c["event_id"]),
                        f" (recorded {c['recorded_at'][:10]}){note}: {change}",
                        class_="amendment",
                        data_amended_by=c["event_id"],
                    )
                )
        amends = amends_of.get(r["event_id"])
        if isinstance(amends, str):
            what = [
                h(
                    "div",
                    "Corrects ",
                    events.link(amends),
                    ": ",
                    r["change"].removeprefix(f"amends {amends}: ").replace(" -> ", " \u2192 "),
                    class_="amendment",
                )
            ]
        else:
            amends = None
        withdraws = r["withdraws"]
        if withdraws is not None:
            reason = r["change"].removeprefix(f"withdraws {withdraws}: ")
            what = [h("div", "Withdraws ", events.link(withdraws), f": {reason}", class_="correction")]
        if r["corrects"] is not None:
            what.append(
                h("div", "Replaces ", events.link(r["corrects"]), ", withdrawn as made in error", class_="correction")
            )
        if r["replaced_by"]:
            what.append(h("div", "Replaced by ", events.links(r["replaced_by"]), class_="correction"))
        classes = ["evidence-row"]
        if amends:
            classes.append("is-amendment")
        if withdrawn:
            classes.append("is-withdrawn")
        event_cell: Any = h("del", r["event_id"]) if withdrawn else r["event_id"]
        what_cell: Any = [h("del", what[0]), *what[1:]] if withdrawn else what
        rows.append(
            h(
                "tr",
                h("th", event_cell, scope="row", class_="mono nowrap"),
                h("td", h("span", r["observed_at"][:10], class_="nowrap"), h("br"), r["observed_at"][11:]),
                h("td", h("span", r["recorded_at"][:10], class_="nowrap"), h("br"), r["recorded_at"][11:]),
                h("td", breakable(r["kind"])),
                h(
                    "td",
                    breakable(r["theme"]) if r["theme"] else "\u2013",
                    h("br") if r["scope"] else None,
                    breakable(r["scope"]) if r["scope"] else None,
                    class_="mono theme-col",
                ),
                h("td", f"{r['actor_role']} {r['actor_id']}", h("br") if r["record"] else None, r["record"] or None),
                h("td", what_cell, class_="what"),
                h("td", chips or "\u2013", h("br"), h("span", breakable(r["source"]), class_="meta")),
                id=f"ev-{r['position']}",
                class_=" ".join(classes),
                data_event=r["event_id"],
                data_observed=r["observed_at"],
                data_recorded=r["recorded_at"],
                data_flags=" ".join(flags),
                data_amends=amends,
                data_backfilled="true" if r["event_id"] in backfilled else None,
                data_withdrawn_by=r["withdrawn"]["by"] if withdrawn else None,
                data_withdraws=withdraws,
                data_corrects=r["corrects"],
                data_replaced_by=" ".join(r["replaced_by"]) or None,
            )
        )
    caption = f"{len(report.history)} events known at {report.as_of.text}"
    if withdrawn_count:
        caption += f", {withdrawn_count} of them withdrawn by then (struck through)"
    return section(
        6,
        "evidence",
        "Evidence and history",
        h(
            "p",
            f"Every event recorded by {report.as_of.text}{_order_words(report.basis)}, with both times: "
            "observed (when it happened) and recorded (when it entered the record). Late entries (recorded on a "
            "later day than observed), imported and back-filled history are flagged; an amendment is shown beside "
            "the entry it corrected. An entry withdrawn as made in error is struck through and says who withdrew "
            "it, when and why; from its withdrawal on it counts for nothing, and a replacement entry links to it. "
            "Nothing here is edited: a correction is a new event.",
            class_="lead",
        ),
        table(
            caption,
            [
                "Event",
                "Observed (UTC)",
                "Recorded (UTC)",
                "Kind",
                "Theme and scope",
                "Who and record",
                "What",
                "Flags and source",
            ],
            rows,
            class_="evidence",
        ),
        total=total,
    )
