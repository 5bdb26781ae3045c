"""A tiny HTML builder: escaped by default, so no text reaches the page unescaped.

``h("td", text, class_="x", data_month="2026-01")`` gives ``<td class="x" data-month="2026-01">…</td>``:
attribute names lose a trailing underscore and turn ``_`` into ``-``; ``None`` omits an attribute,
``True`` writes it bare. Children that are ``Markup`` (what ``h`` returns) are kept as they are;
any other value is converted with ``str`` and escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

VOID = frozenset({"meta", "br", "hr", "img", "link", "col"})


class Markup(str):
    """Text that is already HTML (built by ``h`` or ``raw``)."""

    __slots__ = ()


def raw(text: str) -> Markup:
    """Mark trusted, already-escaped text (only for constants of this package)."""
    return Markup(text)


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _child(value: Any) -> str:
    if value is None or value is False:
        return ""
    if isinstance(value, Markup):
        return value
    if isinstance(value, (list, tuple)) or (isinstance(value, Iterable) and not isinstance(value, (str, bytes))):
        return "".join(_child(v) for v in value)
    return esc(value)


def _name(key: str) -> str:
    return key.rstrip("_").replace("_", "-")


def attributes(attrs: dict[str, Any]) -> str:
    out = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        if value is True:
            out.append(f" {_name(key)}")
        else:
            out.append(f' {_name(key)}="{esc(value)}"')
    return "".join(out)


def h(tag: str, *children: Any, **attrs: Any) -> Markup:
    """One element; children escaped unless ``Markup``."""
    if tag in VOID:
        return Markup(f"<{tag}{attributes(attrs)}>")
    return Markup(f"<{tag}{attributes(attrs)}>{_child(children)}</{tag}>")


def join(parts: Iterable[Any]) -> Markup:
    return Markup(_child(list(parts)))


def breakable(text: str) -> Markup:
    """Text with a line-break opportunity after each '.', '_' and ':' (for theme and scope names)."""
    return Markup("".join(esc(ch) + ("<wbr>" if ch in "._:" else "") for ch in text))


def data_value(value: Any) -> str:
    """The text of a ``data-`` attribute: '' for null, integers and strings as in the document."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def table(
    caption: Any,
    headers: Sequence[Any],
    rows: Iterable[Any],
    *,
    class_: str | None = None,
    empty: str = "None.",
    **attrs: Any,
) -> Markup:
    """A semantic table: caption, ``<th scope="col">`` headers, rows built by the caller.

    ``rows`` are ready ``<tr>`` elements (use ``row`` to build them). An empty table says so in
    one full-width cell.
    """
    body = list(rows)
    if not body:
        body = [h("tr", h("td", empty, colspan=len(headers), class_="empty"))]
    return h(
        "table",
        h("caption", caption),
        h("thead", h("tr", [h("th", x, scope="col") for x in headers])),
        h("tbody", body),
        class_=class_,
        **attrs,
    )


def row(header: Any, cells: Sequence[Any], **attrs: Any) -> Markup:
    """A body row whose first cell is a row header (``<th scope="row">``)."""
    return h("tr", h("th", header, scope="row"), [h("td", c) for c in cells], **attrs)


CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

CSS = """
:root { --ink: #1b1b1b; --muted: #555; --rule: #c8c8c8; --opt: #b34700; --cau: #1f5fa8; --ok: #2e6b30; --bg-alt: #f4f4f4; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", "Liberation Sans", Arial, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1180px; padding: 1.5rem 1.5rem 3rem; line-height: 1.4; font-size: 15px; }
h1 { font-size: 1.7rem; margin: 0 0 .3rem; }
h2 { font-size: 1.35rem; border-bottom: 2px solid var(--ink); padding-bottom: .2rem; margin-top: 2.4rem; }
h3 { font-size: 1.08rem; margin: 1.6rem 0 .4rem; }
h2 .secno { font-weight: normal; color: var(--muted); font-size: .95rem; display: block; }
p.lead, .meta { color: var(--muted); margin: .2rem 0; }
nav ol { columns: 2; padding-left: 1.4rem; }
a { color: #0b4f8a; }
table { border-collapse: collapse; margin: .5rem 0 1.2rem; font-size: .86rem; width: 100%; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; caption-side: top; }
th, td { border: 1px solid var(--rule); padding: .25rem .45rem; text-align: left; vertical-align: top; }
thead th { background: var(--bg-alt); }
tbody th { font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.empty { color: var(--muted); font-style: italic; }
.sign { white-space: nowrap; font-weight: 600; }
.sign-opt { color: var(--opt); }
.sign-cau { color: var(--cau); }
.sign-zero { color: var(--ink); }
.sign-none { color: var(--muted); font-weight: normal; }
.status { white-space: nowrap; }
.flag { display: inline-block; border: 1px solid var(--ink); border-radius: 3px; padding: 0 .3rem; margin: 0 .2rem .1rem 0;
        font-size: .75rem; }
.flag-late { border-style: dashed; }
.flag-imported { border-style: dotted; }
.flag-amended { border-width: 2px; }
.amendment { margin-top: .25rem; padding-left: .5rem; border-left: 3px double var(--ink); font-size: .82rem; }
tr.is-amendment td, tr.is-amendment th { background: #fbf7ec; }
.flag-withdrawn { border-width: 3px; border-style: double; font-weight: 600; }
tr.is-withdrawn del { text-decoration: line-through; text-decoration-thickness: 2px; }
.correction { margin-top: .25rem; font-size: .82rem; }
figure { margin: 1rem 0 1.6rem; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-weight: 600; margin-bottom: .3rem; }
svg.chart { width: 100%; max-width: 940px; height: auto; display: block; border: 1px solid var(--rule); background: #fff; }
svg text { font-family: inherit; font-size: 12px; fill: var(--ink); }
svg .axis line, svg .grid line { stroke: #999; stroke-width: 1; }
svg .grid line { stroke: #ddd; }
svg .j-line { stroke: var(--ink); stroke-width: 2.5; fill: none; }
svg .e-line { stroke: var(--cau); stroke-width: 2.5; fill: none; stroke-dasharray: 6 4; }
svg .j-point { fill: var(--ink); }
svg .e-point { fill: #fff; stroke: var(--cau); stroke-width: 2.5; }
svg .gap-rect { stroke: var(--ink); stroke-width: 1; }
svg .gap-diagonal { fill: #fde3cf; }
svg .gap-horizontal { fill: #dbe8f7; }
svg .gap-hatch { stroke: var(--ink); stroke-width: 1; fill: none; }
svg .t3 path { fill: var(--opt); stroke: var(--ink); stroke-width: .8; }
svg .t3 text { font-weight: 700; }
svg .lag-bar { fill: none; stroke: var(--ink); stroke-width: 2; }
svg .lane-label { font-weight: 600; }
.heat td.cell { text-align: center; min-width: 3.2rem; }
.heat td.h-opt { background: #f6c9a8; }
.heat td.h-cau { background: #bcd3ee; }
.heat td.h-zero { background: #e4e4e4; }
.heat td.h-none { background: #fff; color: var(--muted); }
.legend { font-size: .82rem; color: var(--muted); }
.ok { color: var(--ok); font-weight: 700; }
.bad { color: #a00; font-weight: 700; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
                   clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
code, .mono { font-family: "Liberation Mono", "DejaVu Sans Mono", monospace; font-size: .85em; overflow-wrap: break-word; }
.nowrap { white-space: nowrap; }
.theme-col { min-width: 8.5rem; }
table.evidence td.what { min-width: 18rem; }
th .label { font-weight: normal; }
table.evidence td, table.evidence th { font-size: .8rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  @page { size: A4; margin: 14mm 12mm; }
  section.report-section { break-before: page; page-break-before: always; }
  h2 { margin-top: 0; }
  h3, figcaption, caption { break-after: avoid; page-break-after: avoid; }
  table { font-size: 8pt; }
  table.evidence td, table.evidence th { font-size: 7.5pt; }
  .theme-col, table.evidence td.what { min-width: 0; }
  svg.chart { max-width: 100%; }
  nav a, a { color: inherit; text-decoration: none; }
  thead { display: table-header-group; }
  tr, figure, svg { break-inside: avoid; page-break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .heat td.h-opt, .heat td.h-cau, .heat td.h-zero { background: #fff; }
  .sign-opt, .sign-cau, .sign-zero, .bad, .ok { color: #000; }
  svg .e-line { stroke: #000; } svg .e-point { stroke: #000; } svg .gap-rect { stroke: #000; } svg .gap-diagonal, svg .gap-horizontal { fill: #fff; }
  svg .t3 path { fill: #fff; stroke: #000; stroke-width: 1.2; }
  .no-print { display: none; }
}
"""


def page(title: str, body: Any, *, description: str) -> str:
    """A whole, self-contained document (inline CSS, no scripts, no external resources)."""
    return (
        "<!DOCTYPE html>\n"
        + h(
            "html",
            h(
                "head",
                h("meta", charset="utf-8"),
                h("meta", http_equiv="Content-Security-Policy", content=CSP),
                h("meta", name="viewport", content="width=device-width, initial-scale=1"),
                h("meta", name="description", content=description),
                h("meta", name="generator", content="insightlog report"),
                h("title", title),
                h("style", raw(CSS)),
            ),
            h("body", body),
            lang="en",
        )
        + "\n"
    )
