"""The provider-level page across services: recognition lags, a drift heat map, overdue reviews,
open triggers, each linking to the service's own report.

Percentiles are nearest-rank: the P-th percentile of N values is the value at rank
ceil(P/100 × N) of the ascending list (rank 1 at least); the median is the 50th percentile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from insightlog.report.charts import sign_text
from insightlog.report.html import Markup, data_value, h, join, page, table
from insightlog.report.model import Integrity, theme_anchor
from insightlog.report.sections.common import section
from insightlog.report.sections.integrity import verified_phrase
from insightlog.report.sections.triggers import TRIGGER_NAMES

if TYPE_CHECKING:
    from insightlog.interchange.timeutil import AsOf

PROVIDER_SECTIONS = [
    ("lags", "Recognition lags"),
    ("heatmap", "Drift heat map"),
    ("overdue", "Overdue reviews"),
    ("open-triggers", "Open triggers"),
]


def nearest_rank(values: Sequence[int], percentile: int) -> int | None:
    """The nearest-rank percentile (None for no values): sorted value at rank ceil(P/100 × N)."""
    if not values:
        return None
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], not {percentile}")
    ordered = sorted(values)
    rank = max(1, -(-percentile * len(ordered) // 100))
    return ordered[rank - 1]


@dataclass
class ServiceSummary:
    """What the provider page needs of one service (from its analysis document and governance)."""

    service: str
    href: str
    document: dict[str, Any]
    overdue_reviews: list[dict[str, Any]] = field(default_factory=list)
    open_triggers: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class LagRow:
    service: str
    theme: str | None  # None: all themes of the service (or, with service "", of every service)
    episodes: int
    lags: list[int]
    open_lags: list[int]

    @property
    def median(self) -> int | None:
        return nearest_rank(self.lags, 50)

    @property
    def p90(self) -> int | None:
        return nearest_rank(self.lags, 90)


def summary_from_governance(service: str, href: str, governance: Any, as_of: AsOf) -> ServiceSummary:
    """Build the summary from ``insightlog.analysis.governance.service_governance``'s result."""
    from insightlog.analysis.governance import window_start

    since = window_start(as_of)
    doc = governance.document
    open_triggers = [t for t in doc["triggers"] if t["fired_on"] >= since]
    return ServiceSummary(service, href, doc, list(governance.overdue_reviews), open_triggers)


def lag_rows(summaries: Sequence[ServiceSummary]) -> list[LagRow]:
    """Per service and theme (sorted), then the service's all-themes row; last, all services."""
    out: list[LagRow] = []
    every: list[int] = []
    every_open: list[int] = []
    episodes_total = 0
    for s in summaries:
        by_theme: dict[str, list[dict[str, Any]]] = {}
        for r in s.document["recognition"]:
            by_theme.setdefault(r["theme"], []).append(r)
        all_lags: list[int] = []
        all_open: list[int] = []
        for theme in sorted(by_theme):
            eps = by_theme[theme]
            lags = [r["recognition_lag_days"] for r in eps if r["recognition_lag_days"] is not None]
            open_lags = [r["open_lag_days"] for r in eps if r["open_lag_days"] is not None]
            out.append(LagRow(s.service, theme, len(eps), lags, open_lags))
            all_lags += lags
            all_open += open_lags
        n = sum(len(v) for v in by_theme.values())
        out.append(LagRow(s.service, None, n, all_lags, all_open))
        every += all_lags
        every_open += all_open
        episodes_total += n
    out.append(LagRow("", None, episodes_total, every, every_open))
    return out


def _svc_link(s: ServiceSummary, anchor: str = "") -> Markup:
    return h(
        "a", s.service, href=s.href + (f"#{anchor}" if anchor else ""), class_="service-link", data_service=s.service
    )


def _lags_section(summaries: Sequence[ServiceSummary], total: int) -> Markup:
    by_name = {s.service: s for s in summaries}
    rows = []
    for r in lag_rows(summaries):
        if r.service == "":
            head: Any = h("strong", "All services")
        elif r.theme is None:
            head = [_svc_link(by_name[r.service], "recognition"), h("br"), h("em", "all themes")]
        else:
            head = [_svc_link(by_name[r.service], "recognition"), h("br"), h("span", r.theme, class_="mono")]
        rows.append(
            h(
                "tr",
                h("th", head, scope="row"),
                h("td", str(r.episodes), class_="num"),
                h("td", str(len(r.lags)), class_="num"),
                h("td", "\u2013" if r.median is None else f"{r.median} days", class_="num"),
                h("td", "\u2013" if r.p90 is None else f"{r.p90} days", class_="num"),
                h("td", ", ".join(str(v) for v in sorted(r.lags)) or "\u2013"),
                h(
                    "td",
                    f"{len(r.open_lags)}" + (f" (longest {max(r.open_lags)} days)" if r.open_lags else ""),
                    class_="num",
                ),
                class_="lag-row total"
                if r.service == ""
                else ("lag-row service-total" if r.theme is None else "lag-row"),
                data_service=r.service,
                data_theme=data_value(r.theme),
                data_n=str(len(r.lags)),
                data_median=data_value(r.median),
                data_p90=data_value(r.p90),
                data_lags=" ".join(str(v) for v in sorted(r.lags)),
                data_open=str(len(r.open_lags)),
            )
        )
    return section(
        1,
        "lags",
        "Recognition lags",
        h(
            "p",
            "Days from an issue's first adverse signal (observed) to the leadership judgement acknowledging it (recorded), over the repeated episodes acknowledged by the as-of instant. Median and 90th percentile are nearest-rank: the value at rank \u2308P/100 \u00d7 N\u2309 of the sorted lags. Unacknowledged episodes are counted separately with their open lag.",
            class_="lead",
        ),
        table(
            "Recognition lag by service and theme",
            [
                "Service and theme",
                "Episodes",
                "Acknowledged",
                "Median lag",
                "90th percentile lag",
                "Lags (sorted)",
                "Unacknowledged",
            ],
            rows,
            class_="lags",
        ),
        total=total,
    )


SIGN_SYMBOL = {1: "\u25b2 +1", 0: "\u25cf 0", -1: "\u25bc \u22121", None: "\u00b7 none"}
SIGN_CLASS = {1: "h-opt", 0: "h-zero", -1: "h-cau", None: "h-none"}


def _heatmap_section(summaries: Sequence[ServiceSummary], total: int) -> Markup:
    months = sorted({r["month"] for s in summaries for r in s.document["drift"]})
    rows = []
    for s in summaries:
        cells: dict[str, dict[str, Mapping[str, Any]]] = {}
        for r in s.document["drift"]:
            if r["scope"] is None:
                cells.setdefault(r["theme"], {})[r["month"]] = r
        for theme, per in cells.items():
            tds = []
            for m in months:
                r = per.get(m)
                sign = r["sign"] if r else None
                text = SIGN_SYMBOL[sign] if r else "not a reporting month"
                title = (
                    f"{s.service}, {theme}, {m}: J {data_value(r['J']) or 'none'}, E {data_value(r['E']) or 'none'}, D {data_value(r['D']) or 'none'}, sign {sign_text(sign)}"
                    if r
                    else f"{s.service}, {theme}, {m}: not a reporting month"
                )
                tds.append(
                    h(
                        "td",
                        h("span", text, class_="sign"),
                        h("br") if r and r["D"] is not None else None,
                        h("span", f"D {r['D']}", class_="meta") if r and r["D"] is not None else None,
                        title=title,
                        class_=f"cell {SIGN_CLASS[sign]}",
                        data_service=s.service,
                        data_theme=theme,
                        data_month=m,
                        data_sign=data_value(sign),
                        data_d=data_value(r["D"] if r else None),
                    )
                )
            rows.append(
                h(
                    "tr",
                    h("th", _svc_link(s, theme_anchor(theme)), h("br"), h("span", theme, class_="mono"), scope="row"),
                    tds,
                    class_="heat-row",
                    data_service=s.service,
                    data_theme=theme,
                )
            )
    return section(
        2,
        "heatmap",
        "Drift heat map",
        h(
            "p",
            "Theme-level drift sign by service, theme and month: \u25b2 +1 leaders score more than half a grade above the evidence (optimistic), \u25cf 0 in line, \u25bc \u22121 below (cautious), \u00b7 no sign (no judgement or no evidence that month). Each cell also gives D = J \u2212 E; the shading repeats the symbol.",
            class_="lead",
        ),
        table(
            "Drift sign (D = J \u2212 E) per service, theme and month",
            ["Service and theme", *months],
            rows,
            class_="heat",
        ),
        total=total,
    )


def _overdue_section(summaries: Sequence[ServiceSummary], total: int) -> Markup:
    rows = []
    for s in summaries:
        for r in s.overdue_reviews:
            rows.append(
                h(
                    "tr",
                    h("th", _svc_link(s, "reviews"), scope="row"),
                    h("td", r["level"]),
                    h("td", r["due_by"]),
                    h("td", r["held"] or "not held yet (still open)"),
                    h("td", str(r["days_overdue"]), class_="num"),
                    class_="overdue-row",
                    data_service=s.service,
                    data_level=r["level"],
                    data_due=r["due_by"],
                    data_held=data_value(r["held"]),
                    data_days=str(r["days_overdue"]),
                )
            )
    return section(
        3,
        "overdue",
        "Overdue reviews",
        h(
            "p",
            "Overdue review episodes still open at the as-of date, or closed within the 90 days up to it.",
            class_="lead",
        ),
        table(
            "Overdue reviews by service",
            ["Service", "Level", "Due by", "Held", "Days overdue"],
            rows,
            empty="No review is overdue.",
        ),
        total=total,
    )


def _triggers_section(summaries: Sequence[ServiceSummary], total: int) -> Markup:
    rows = []
    for s in summaries:
        for t in s.open_triggers:
            short, name, _ = TRIGGER_NAMES.get(t["trigger"], (t["trigger"], t["trigger"], ""))
            rows.append(
                h(
                    "tr",
                    h("th", _svc_link(s, "triggers"), scope="row"),
                    h("td", t["fired_on"]),
                    h("td", f"{short} {name}"),
                    h("td", t["theme"] or "\u2013", class_="mono"),
                    h("td", t["scope"] or "\u2013", class_="mono"),
                    h("td", ", ".join(t["events"]) or "\u2013", class_="mono"),
                    class_="trigger-row",
                    data_service=s.service,
                    data_trigger=t["trigger"],
                    data_theme=data_value(t["theme"]),
                    data_scope=data_value(t["scope"]),
                    data_fired_on=t["fired_on"],
                    data_events=" ".join(t["events"]),
                )
            )
    return section(
        4,
        "open-triggers",
        "Open triggers",
        h(
            "p",
            "Trigger occurrences fired in the 90 days up to the as-of date (the governance view's window).",
            class_="lead",
        ),
        table(
            "Open triggers by service",
            ["Service", "Fired on", "Trigger", "Theme", "Scope", "Cited events"],
            rows,
            empty="No trigger fired in the last 90 days.",
        ),
        total=total,
    )


def render_provider(
    summaries: Sequence[ServiceSummary],
    *,
    as_of_text: str,
    generated_at: str,
    integrity: Integrity | None = None,
    skipped: Sequence[str] = (),
    basis: str = "recorded",
) -> str:
    from insightlog.analysis.basis import basis_sentence

    total = len(PROVIDER_SECTIONS)
    header = h(
        "header",
        h("h1", "Provider governance overview"),
        h("p", f"As of {as_of_text}, across {len(summaries)} service(s). Report made {generated_at}.", class_="meta"),
        h("p", basis_sentence(basis), class_="meta basis", data_basis=basis),
        h("p", "Ledger integrity: ", verified_phrase(integrity), f" (checked {integrity.checked_at}).", class_="meta")
        if integrity
        else None,
        h("p", "Services with no event recorded by then (not shown): ", ", ".join(skipped), class_="meta")
        if skipped
        else None,
        h("ul", [h("li", _svc_link(s), f" \u2014 full report: {s.href}") for s in summaries], class_="services"),
        class_="report-header",
        data_as_of=as_of_text,
    )
    nav = h(
        "nav",
        h("ol", [h("li", h("a", title, href=f"#{key}")) for key, title in PROVIDER_SECTIONS]),
        aria_label="Contents",
    )
    main = h(
        "main",
        _lags_section(summaries, total),
        _heatmap_section(summaries, total),
        _overdue_section(summaries, total),
        _triggers_section(summaries, total),
    )
    return page(
        f"Provider governance overview as of {as_of_text}",
        join([header, nav, main]),
        description=f"insightlog provider overview as of {as_of_text}",
    )
