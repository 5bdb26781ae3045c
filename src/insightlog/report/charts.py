"""Inline SVG charts drawn server-side: the drift chart of a theme and an issue's recognition timeline.

Every chart is ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that states its numbers,
and is accompanied by a table (built by the caller) giving the same figures. Meaning is never
carried by colour alone: J and E differ by line style and marker shape, the gap is hatched diagonally (J
above E) or with horizontal lines (E above J) and labelled with D under each month, and T3 months carry a
triangle with the text "T3".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from insightlog.report.html import Markup, data_value, h, join

SIGN_WORDS = {1: "+1 optimistic", 0: "0 in line", -1: "\u22121 cautious", None: "no sign"}


def sign_text(sign: int | None) -> str:
    return SIGN_WORDS.get(sign, str(sign))


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _signed(d: str | None) -> str:
    if d is None:
        return "\u2013"
    return d if d.startswith("-") else "+" + d


# --- drift ------------------------------------------------------------------------------------


def drift_description(theme: str, rows: Sequence[Mapping[str, Any]], t3: Mapping[str, list[str | None]]) -> str:
    parts = [f"Leaders' score J and evidence score E for {theme}, month by month, on the 1 to 4 scale."]
    for r in rows:
        if r["J"] is None and r["E"] is None:
            parts.append(f"{r['month']}: no judgement and no evidence.")
        elif r["E"] is None:
            parts.append(f"{r['month']}: J {r['J']}, no evidence.")
        elif r["J"] is None:
            parts.append(f"{r['month']}: no judgement, E {r['E']}.")
        else:
            parts.append(f"{r['month']}: J {r['J']}, E {r['E']}, gap D {r['D']} (sign {sign_text(r['sign'])}).")
    for month, scopes in t3.items():
        where = ", ".join("theme level" if s is None else s for s in scopes)
        parts.append(f"T3 sustained optimism fired for {month} ({where}).")
    if not t3:
        parts.append("T3 did not fire.")
    return " ".join(parts)


def drift_chart(uid: str, theme: str, rows: Sequence[Mapping[str, Any]], t3: Mapping[str, list[str | None]]) -> Markup:
    """The drift chart of one theme (theme-level rows in month order); ``t3``: month -> scopes."""
    n = max(len(rows), 1)
    step = max(56, min(120, 660 // n))
    left, right, top, plot_h = 52, 20, 40, 180
    axis_y = top + plot_h
    width = left + step * n + right
    legend_y = axis_y + 56
    height = legend_y + 40

    def x(i: int) -> float:
        return left + step * (i + 0.5)

    def y(score: float) -> float:
        return top + (4 - score) / 3 * plot_h

    grid = [
        h(
            "g",
            h("line", x1=left, x2=width - right, y1=_f(y(s)), y2=_f(y(s))),
            h("text", str(s), x=left - 8, y=_f(y(s) + 4), text_anchor="end"),
            class_="grid",
        )
        for s in (1, 2, 3, 4)
    ]
    axis = h(
        "g",
        h("line", x1=left, x2=width - right, y1=axis_y, y2=axis_y),
        h("line", x1=left, x2=left, y1=top, y2=axis_y),
        h("text", "score", x=12, y=top - 14),
        class_="axis",
    )

    months = []
    j_points: list[tuple[float, float] | None] = []
    e_points: list[tuple[float, float] | None] = []
    for i, r in enumerate(rows):
        cx = x(i)
        j, e = r["J"], (float(r["E"]) if r["E"] is not None else None)
        parts: list[Any] = []
        if j is not None and e is not None and float(j) != e:
            y1, y2 = sorted((y(j), y(e)))
            parts.append(
                _gap(
                    cx - step * 0.2,
                    y1,
                    step * 0.4,
                    y2 - y1,
                    "diagonal" if j > e else "horizontal",
                    f"{r['month']}: gap D {r['D']}",
                    r["month"],
                    r["D"],
                )
            )
        if j is not None:
            parts.append(
                h(
                    "rect",
                    h("title", f"{r['month']}: J {j}"),
                    x=_f(cx - 4.5),
                    y=_f(y(j) - 4.5),
                    width=9,
                    height=9,
                    class_="j-point",
                )
            )
        if e is not None:
            parts.append(
                h("circle", h("title", f"{r['month']}: E {r['E']}"), cx=_f(cx), cy=_f(y(e)), r=5, class_="e-point")
            )
        parts.append(h("text", r["month"], x=_f(cx), y=axis_y + 16, text_anchor="middle"))
        parts.append(h("text", f"D {_signed(r['D'])}", x=_f(cx), y=axis_y + 31, text_anchor="middle", class_="d-label"))
        scopes = t3.get(r["month"])
        if scopes:
            ty = top - 14
            parts.append(
                h(
                    "g",
                    h(
                        "title",
                        "T3 sustained optimism fired: " + ", ".join("theme level" if s is None else s for s in scopes),
                    ),
                    h("path", d=f"M{_f(cx - 6)},{ty + 5} L{_f(cx + 6)},{ty + 5} L{_f(cx)},{ty - 6} Z"),
                    h("text", "T3", x=_f(cx + 9), y=ty + 4),
                    class_="t3",
                    data_month=r["month"],
                    data_scopes="|".join("" if s is None else s for s in scopes),
                )
            )
        months.append(
            h(
                "g",
                parts,
                class_="month",
                data_month=r["month"],
                data_j=data_value(r["J"]),
                data_e=data_value(r["E"]),
                data_d=data_value(r["D"]),
                data_sign=data_value(r["sign"]),
                data_t3="true" if scopes else "false",
            )
        )
        j_points.append((cx, y(j)) if j is not None else None)
        e_points.append((cx, y(e)) if e is not None else None)

    legend = h(
        "g",
        h("line", x1=left, x2=left + 26, y1=legend_y, y2=legend_y, class_="j-line"),
        h("rect", x=left + 8.5, y=legend_y - 4.5, width=9, height=9, class_="j-point"),
        h("text", "J leaders' score", x=left + 32, y=legend_y + 4),
        h("line", x1=left + 140, x2=left + 166, y1=legend_y, y2=legend_y, class_="e-line"),
        h("circle", cx=left + 153, cy=legend_y, r=5, class_="e-point"),
        h("text", "E evidence score", x=left + 172, y=legend_y + 4),
        _gap(left + 290, legend_y - 7, 14, 14, "diagonal", "gap, J above E"),
        h("text", "gap, J above E", x=left + 310, y=legend_y + 4),
        _gap(left + 405, legend_y - 7, 14, 14, "horizontal", "gap, E above J"),
        h("text", "gap, E above J", x=left + 425, y=legend_y + 4),
        h(
            "g",
            h("path", d=f"M{left + 522},{legend_y + 5} L{left + 534},{legend_y + 5} L{left + 528},{legend_y - 6} Z"),
            class_="t3",
        ),
        h("text", "T3 fired", x=left + 540, y=legend_y + 4),
        class_="legend",
    )
    width = max(width, left + 600)
    title_id, desc_id = f"drift-title-{uid}", f"drift-desc-{uid}"
    return h(
        "svg",
        h("title", f"Drift chart for {theme}: J and E by month", id=title_id),
        h("desc", drift_description(theme, rows, t3), id=desc_id),
        grid,
        axis,
        _polylines(j_points, "j-line"),
        _polylines(e_points, "e-line"),
        months,
        legend,
        viewBox=f"0 0 {width} {height}",
        width=width,
        height=height,
        role="img",
        aria_labelledby=f"{title_id} {desc_id}",
        class_="chart drift-chart",
        data_theme=theme,
        id=f"drift-svg-{uid}",
    )


def _hatch_path(x0: float, y0: float, w: float, h_: float, kind: str, spacing: float = 5.0) -> str:
    """Hatch lines inside a rectangle, drawn as plain path segments (no SVG pattern: patterns
    make Chromium's PDF output rasterise and balloon). ``diagonal``: "/" lines; ``horizontal``."""
    x1, y1 = x0 + w, y0 + h_
    segments = []
    if kind == "horizontal":
        yy = y0 + spacing / 2
        while yy < y1:
            segments.append(f"M{_f(x0)},{_f(yy)} L{_f(x1)},{_f(yy)}")
            yy += spacing
    else:  # lines y = k - x, clipped to the rectangle
        k = x0 + y0 + spacing / 2
        while k < x1 + y1:
            xa, xb = max(x0, k - y1), min(x1, k - y0)
            if xa < xb:
                segments.append(f"M{_f(xa)},{_f(k - xa)} L{_f(xb)},{_f(k - xb)}")
            k += spacing
    return " ".join(segments)


def _gap(
    x0: float, y0: float, w: float, h_: float, kind: str, title: str, month: str | None = None, d: str | None = None
) -> Markup:
    """A gap box: light fill, an outline and hatching, so it reads without colour."""
    return h(
        "g",
        h("title", title),
        h(
            "rect",
            x=_f(x0),
            y=_f(y0),
            width=_f(w),
            height=_f(h_),
            class_=f"gap-rect gap-{kind}",
            data_pattern=kind,
            data_month=month,
            data_d=d,
        ),
        h("path", d=_hatch_path(x0, y0, w, h_, kind), class_="gap-hatch"),
        class_="gap",
    )


def _polylines(points: Sequence[tuple[float, float] | None], cls: str) -> Markup:
    """One polyline per run of consecutive months with a value (a null month breaks the line)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for p in points:
        if p is None:
            runs.append([])
        else:
            runs[-1].append(p)
    return join(
        h("polyline", points=" ".join(f"{_f(a)},{_f(b)}" for a, b in run), class_=cls) for run in runs if len(run) >= 2
    )


# --- recognition timeline ---------------------------------------------------------------------


@dataclass
class Milestone:
    lane: str
    when: date
    shape: str  # circle, ring, square, diamond, open-diamond, cross, triangle, dot
    label: str


STATUS_SHAPE = {"acknowledged": "diamond", "lapsed": "cross", "stood_down": "triangle"}


def _shape(shape: str, cx: float, cy: float) -> Markup:
    if shape == "circle":
        return h("circle", cx=_f(cx), cy=_f(cy), r=5.5, fill="#1b1b1b")
    if shape == "dot":
        return h("circle", cx=_f(cx), cy=_f(cy), r=3.5, fill="#1b1b1b")
    if shape == "ring":
        return h("circle", cx=_f(cx), cy=_f(cy), r=5.5, fill="#fff", stroke="#1b1b1b", stroke_width=2)
    if shape == "square":
        return h("rect", x=_f(cx - 5.5), y=_f(cy - 5.5), width=11, height=11, fill="#1b1b1b")
    if shape in ("diamond", "open-diamond"):
        fill = "#1b1b1b" if shape == "diamond" else "#fff"
        return h(
            "path",
            d=f"M{_f(cx)},{_f(cy - 7)} L{_f(cx + 7)},{_f(cy)} L{_f(cx)},{_f(cy + 7)} L{_f(cx - 7)},{_f(cy)} Z",
            fill=fill,
            stroke="#1b1b1b",
            stroke_width=2,
        )
    if shape == "cross":
        return h(
            "path",
            d=f"M{_f(cx - 5)},{_f(cy - 5)} L{_f(cx + 5)},{_f(cy + 5)} M{_f(cx - 5)},{_f(cy + 5)} L{_f(cx + 5)},{_f(cy - 5)}",
            stroke="#1b1b1b",
            stroke_width=2.5,
        )
    if shape == "triangle":
        return h(
            "path",
            d=f"M{_f(cx - 6)},{_f(cy + 5)} L{_f(cx + 6)},{_f(cy + 5)} L{_f(cx)},{_f(cy - 6)} Z",
            fill="#fff",
            stroke="#1b1b1b",
            stroke_width=2,
        )
    raise ValueError(shape)


def timeline_chart(
    uid: str,
    theme: str,
    lanes: Sequence[str],
    milestones: Sequence[Milestone],
    bars: Sequence[tuple[str, date, date, str]],
    description: str,
) -> Markup:
    """A timeline: one lane per milestone kind, day axis with month ticks, lag bars underneath.

    ``bars``: (lane, from, to, label) drawn as bracketed lines with their label (the lag in days).
    """
    all_dates = [m.when for m in milestones] + [d for _, a, b, _ in bars for d in (a, b)]
    start = min(all_dates) - timedelta(days=4)
    end = max(all_dates) + timedelta(days=4)
    span = max((end - start).days, 1)
    label_w, plot_w, right = 190, 600, 110
    width = label_w + plot_w + right
    lane_h, top = 30, 34
    lane_names = list(lanes) + [b[0] for b in bars if b[0] not in lanes]
    height = top + lane_h * len(lane_names) + 34

    def x(d: date) -> float:
        return label_w + (d - start).days / span * plot_w

    def lane_y(name: str) -> float:
        return top + lane_h * lane_names.index(name) + lane_h / 2

    ticks = []
    month = date(start.year, start.month, 1)
    while month <= end:
        if month >= start:
            tx = x(month)
            ticks.append(h("line", x1=_f(tx), x2=_f(tx), y1=top - 6, y2=height - 28))
            ticks.append(h("text", month.strftime("%Y-%m-01"), x=_f(tx), y=top - 10, text_anchor="middle"))
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    lanes_svg = [h("text", name, x=8, y=_f(lane_y(name) + 4), class_="lane-label") for name in lane_names]
    marks = []
    for m in milestones:
        cx, cy = x(m.when), lane_y(m.lane)
        anchor_end = cx > label_w + plot_w * 0.8
        marks.append(
            h(
                "g",
                h("title", f"{m.lane}: {m.label}"),
                _shape(m.shape, cx, cy),
                None
                if m.shape == "dot"
                else h(
                    "text",
                    m.label,
                    x=_f(cx - 10 if anchor_end else cx + 10),
                    y=_f(cy + 4),
                    text_anchor="end" if anchor_end else None,
                ),
                class_="milestone",
                data_lane=m.lane,
                data_date=m.when.isoformat(),
            )
        )
    bar_svg = []
    for lane, a, b, label in bars:
        x1, x2 = sorted((x(a), x(b)))
        cy = lane_y(lane)
        bar_svg.append(
            h(
                "g",
                h(
                    "path",
                    d=f"M{_f(x1)},{_f(cy - 6)} L{_f(x1)},{_f(cy + 6)} M{_f(x1)},{_f(cy)} L{_f(x2)},{_f(cy)} M{_f(x2)},{_f(cy - 6)} L{_f(x2)},{_f(cy + 6)}",
                    class_="lag-bar",
                ),
                h("text", label, x=_f(x2 + 6), y=_f(cy + 4)),
                class_="lag",
                data_lane=lane,
            )
        )
    title_id, desc_id = f"tl-title-{uid}", f"tl-desc-{uid}"
    return h(
        "svg",
        h("title", f"Recognition timeline for {theme}", id=title_id),
        h("desc", description, id=desc_id),
        h("g", ticks, class_="grid"),
        lanes_svg,
        bar_svg,
        marks,
        viewBox=f"0 0 {width} {height}",
        width=width,
        height=height,
        role="img",
        aria_labelledby=f"{title_id} {desc_id}",
        class_="chart timeline-chart",
        data_theme=theme,
        id=f"timeline-svg-{uid}",
    )
