"""Accessibility and self-containment of the report pages: semantic tables, charts with text
alternatives that state their numbers, meaning never by colour alone, nothing fetched."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration.report.fixtures import EXPECTED, MADE_AT
from tests.integration.report.htmlparse import Node, parse


@pytest.fixture(scope="module")
def provider_page(harbour_ledger: Any) -> str:
    from insightlog.application.reports import provider_report_html
    from insightlog.interchange.timeutil import parse_as_of

    return provider_report_html(harbour_ledger, parse_as_of("2026-06-30"), now=MADE_AT).provider


def _all_pages(rendered: dict[str, str], provider_page: str) -> list[tuple[str, str]]:
    return [(f"service as of {day}", text) for day, text in rendered.items()] + [("provider", provider_page)]


def test_every_page_is_well_formed_html_in_english_with_a_title(rendered: dict[str, str], provider_page: str) -> None:
    for name, text in _all_pages(rendered, provider_page):
        assert text.startswith("<!DOCTYPE html>"), name
        doc = parse(text)
        html = doc.find("html")
        assert html is not None and html.get("lang") == "en", name
        title = doc.find("title")
        assert title is not None and title.text.strip(), name
        assert doc.find("meta", where=lambda n: n.get("charset") == "utf-8") is not None
        assert doc.find("main") is not None and doc.find("nav") is not None
        ids = [n.get("id") for n in doc.iter() if n.get("id")]
        assert len(ids) == len(set(ids)), f"{name}: duplicate ids"


def test_every_chart_is_an_image_with_a_title_and_a_description(rendered: dict[str, str], provider_page: str) -> None:
    for name, text in _all_pages(rendered, provider_page):
        doc = parse(text)
        for svg in doc.find_all("svg"):
            assert svg.get("role") == "img", name
            first = svg.elements[:2]
            assert [e.tag for e in first] == ["title", "desc"], name
            assert all(e.text.strip() for e in first)
            assert svg.get("aria-labelledby") == f"{first[0].get('id')} {first[1].get('id')}"


@pytest.mark.parametrize("day", list(EXPECTED))
def test_each_drift_chart_description_states_its_numbers(
    pages: dict[str, Node], expected: dict[str, Any], day: str
) -> None:
    for svg in pages[day].find_all("svg", cls="drift-chart"):
        desc = svg.find("desc").text  # type: ignore[union-attr]
        for r in expected[day]["drift"]:
            if r["theme"] == svg.get("data-theme") and r["scope"] is None:
                assert r["month"] in desc
                if r["J"] is not None:
                    assert f"J {r['J']}" in desc
                if r["E"] is not None:
                    assert f"E {r['E']}" in desc
                if r["D"] is not None:
                    assert f"gap D {r['D']}" in desc


@pytest.mark.parametrize("day", list(EXPECTED))
def test_each_recognition_timeline_description_states_its_dates_and_lags(
    pages: dict[str, Node], expected: dict[str, Any], day: str
) -> None:
    figures = pages[day].find_all("figure", cls="recognition")
    for fig, r in zip(figures, expected[day]["recognition"], strict=True):
        desc = fig.find("desc").text  # type: ignore[union-attr]
        for value in (
            r["first_signal"],
            r["first_signal_observed"],
            r["pattern_detectable_recorded"],
            r["ack_recorded"],
        ):
            assert value in desc
        assert f"Recognition lag {r['recognition_lag_days']} days" in desc
        assert f"detectable lag {r['detectable_lag_days']} days" in desc


def test_every_table_has_a_caption_and_scoped_header_cells(rendered: dict[str, str], provider_page: str) -> None:
    for name, text in _all_pages(rendered, provider_page):
        doc = parse(text)
        tables = doc.find_all("table")
        assert tables, name
        for table in tables:
            caption = table.elements[0]
            assert caption.tag == "caption" and caption.text.strip(), name
            assert table.find("thead") is not None and table.find("tbody") is not None
            headers = table.find_all("th")
            assert headers
            for th in headers:
                assert th.get("scope") in ("col", "row", "colgroup", "rowgroup"), (
                    f"{name}: <th> without scope: {th.text!r}"
                )
            assert all(th.get("scope") == "col" for th in table.find("thead").find_all("th"))  # type: ignore[union-attr]


def test_nothing_is_fetched_no_script_no_external_resource_no_web_font(
    rendered: dict[str, str], provider_page: str
) -> None:
    for name, text in _all_pages(rendered, provider_page):
        lowered = text.lower()
        assert "<script" not in lowered, name
        assert "http://" not in lowered and "https://" not in lowered, name
        assert "@import" not in lowered and "@font-face" not in lowered, name
        assert "<link" not in lowered and "<iframe" not in lowered and "<img" not in lowered, name
        doc = parse(text)
        for node in doc.iter():
            for attr in ("src", "srcset", "xlink:href", "action", "data", "poster"):
                assert node.get(attr) is None, f"{name}: <{node.tag} {attr}=...>"
            href = node.get("href")
            if href is not None:
                assert href.startswith("#") or re.fullmatch(r"report-[a-z0-9-]+\.html(#[A-Za-z0-9_-]+)?", href), (
                    f"{name}: link {href}"
                )
        for style in doc.find_all("style"):
            assert "url(" not in style.text
        for node in doc.iter():
            for value in node.attrs.values():
                if value and "url(" in value:
                    assert re.fullmatch(r"url\(#[A-Za-z0-9_-]+\)", value), value
        csp = doc.find("meta", where=lambda n: n.get("http-equiv") == "Content-Security-Policy")
        assert csp is not None and "default-src 'none'" in (csp.get("content") or "")


@pytest.mark.parametrize("day", list(EXPECTED))
def test_colour_is_never_the_only_carrier_of_a_sign_or_a_gap(pages: dict[str, Node], day: str) -> None:
    page = pages[day]
    words = {"1": "+1 optimistic", "0": "0 in line", "-1": "\u22121 cautious", "": "no sign"}
    for row in page.find_all("tr", cls="drift-row"):
        sign = row.find("span", cls="sign")
        assert sign is not None and words[row.get("data-sign") or ""] in sign.text
    for svg in page.find_all("svg", cls="drift-chart"):
        legend = svg.find("g", cls="legend")
        assert legend is not None
        for label in ("J leaders' score", "E evidence score", "gap, J above E", "gap, E above J", "T3 fired"):
            assert label in legend.text
        # J and E differ by marker shape as well as line style
        assert all(p.tag == "rect" for p in svg.find_all(cls="j-point"))
        assert all(p.tag == "circle" for p in svg.find_all(cls="e-point"))


def test_the_heat_map_cells_carry_a_symbol_and_the_gap_in_text(provider_page: str) -> None:
    doc = parse(provider_page)
    cells = doc.find_all("td", cls="cell")
    assert cells
    symbols = {"1": "\u25b2 +1", "0": "\u25cf 0", "-1": "\u25bc \u22121", "": "\u00b7"}
    for td in cells:
        assert symbols[td.get("data-sign") or ""] in td.text
        assert td.get("title")
        if td.get("data-d"):
            assert f"D {td.get('data-d')}" in td.text


def test_the_print_stylesheet_starts_each_section_on_a_new_page_and_prints_in_black(rendered: dict[str, str]) -> None:
    style = parse(rendered["2026-06-30"]).find("style").text  # type: ignore[union-attr]
    media = style[style.index("@media print") :]
    assert "section.report-section { break-before: page; page-break-before: always; }" in media
    assert "color: #000" in media
