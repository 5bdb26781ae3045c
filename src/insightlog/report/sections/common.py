"""What every section of the service report shares: the section frame, links to the evidence
table, the drift-sign cell and the small text helpers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from insightlog.report.charts import sign_text
from insightlog.report.html import Markup, h
from insightlog.report.model import ServiceReport

DASH = "\u2013"
_SIGN_CLASS: dict[int | None, str] = {1: "sign-opt", 0: "sign-zero", -1: "sign-cau"}
_SIGN_SYMBOL: dict[int | None, str] = {1: "\u25b2 ", 0: "\u25cf ", -1: "\u25bc "}


def or_dash(value: Any, dash: str = DASH) -> Any:
    """``value``, or a dash (or the text given) for None."""
    return dash if value is None else value


def plural_days(n: int) -> str:
    return f"{n} day" if n in (1, -1) else f"{n} days"


def sign_cell(sign: int | None) -> Markup:
    cls = _SIGN_CLASS.get(sign, "sign-none")
    symbol = _SIGN_SYMBOL.get(sign, "")
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


class EventLinks:
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
