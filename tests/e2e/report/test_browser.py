"""The report in a real browser: headless Chromium (Debian's package at /usr/bin/chromium), driven
over the DevTools pipe. The page loads with no console error and no network request, the charts
are drawn with a size, a screenshot is kept in test-artifacts/, and the PDF starts each section
on a page of its own.

Without Chromium these tests are skipped with the reason, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.report.cdp import Browser
from tests.helpers import HARBOUR, invoke
from tests.integration.report.fixtures import ARTIFACTS, SERVICE, in_ci

SCREENSHOT = ARTIFACTS / "report-harbour.png"


@pytest.fixture(scope="module")
def chromium() -> str:
    from insightlog.report import chromium_path
    from insightlog.report.pdf import DEFAULT_CHROMIUM

    path = chromium_path()
    if path is None:
        where = os.environ.get("INSIGHTLOG_CHROMIUM") or DEFAULT_CHROMIUM
        reason = f"Chromium is not installed at {where} (apt-get install chromium); the browser tests did not run"
        if in_ci():
            pytest.fail(f"{reason}, and CI=true requires them")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> dict[str, Path]:
    """The worked example's report and provider page, written by the CLI, each with its PDF."""
    root = tmp_path_factory.mktemp("browser")
    db = ["--db", str(root / "harbour.sqlite")]
    assert invoke([*db, "import", str(HARBOUR)]).exit_code == 0
    report = root / "report.html"
    result = invoke([*db, "report", "--service", SERVICE, "--as-of", "2026-06-30", "-o", str(report), "--pdf"])
    assert result.exit_code == 0, result.output
    site = root / "site"
    result = invoke([*db, "report", "--all", "--as-of", "2026-06-30", "-o", str(site / "provider.html")])
    assert result.exit_code == 0, result.output
    return {"report": report, "pdf": report.with_suffix(".pdf"), "provider": site / "provider.html"}


PROBE = """JSON.stringify({
  charts: [...document.querySelectorAll('svg.chart')].map(svg => {
    const r = svg.getBoundingClientRect();
    return {cls: svg.getAttribute('class'), theme: svg.dataset.theme, w: r.width, h: r.height,
            marks: [...svg.querySelectorAll('polyline, .j-point, .e-point, .gap-rect, .milestone, .lag')]
                     .map(e => { const b = e.getBoundingClientRect(); return [e.tagName, b.width, b.height]; })};
  }),
  heat: [...document.querySelectorAll('td.cell')].map(td => { const r = td.getBoundingClientRect(); return [r.width, r.height]; }),
  resources: performance.getEntriesByType('resource').length,
  scripts: document.scripts.length,
  height: document.documentElement.scrollHeight,
})"""


def _load(browser: Browser, path: Path) -> tuple[str, dict[str, Any]]:
    import json

    session = browser.open_page(path.as_uri())
    browser.drain(0.3)
    return session, json.loads(browser.evaluate(PROBE, session=session))


def _problems(browser: Browser, session: str, url: str) -> tuple[list[str], list[str]]:
    errors = []
    for e in browser.session_events(session, "Runtime.consoleAPICalled", "Runtime.exceptionThrown", "Log.entryAdded"):
        p = e["params"]
        if e["method"] == "Runtime.exceptionThrown":
            errors.append(str(p["exceptionDetails"]))
        elif e["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert", "warning"):
            errors.append(" ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
        elif e["method"] == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
            errors.append(p["entry"]["text"])
    requests = [e["params"]["request"]["url"] for e in browser.session_events(session, "Network.requestWillBeSent")]
    return errors, [u for u in requests if u != url]


def test_the_report_loads_with_no_console_error_no_network_request_and_draws_its_charts(
    chromium: str, written: dict[str, Path]
) -> None:
    with Browser(chromium) as browser:
        session, probe = _load(browser, written["report"])
        errors, requests = _problems(browser, session, written["report"].as_uri())
        assert errors == []
        assert requests == []
        assert probe["resources"] == 0 and probe["scripts"] == 0
        drift = [c for c in probe["charts"] if "drift-chart" in c["cls"]]
        timelines = [c for c in probe["charts"] if "timeline-chart" in c["cls"]]
        assert [c["theme"] for c in drift] == [
            "call_punctuality",
            "medicines",
            "medicines.mar_charts",
            "medicines.time_critical",
            "safeguarding",
            "safeguarding.referrals",
        ]
        assert [c["theme"] for c in timelines] == ["call_punctuality", "medicines.mar_charts", "safeguarding.referrals"]
        for chart in probe["charts"]:
            assert chart["w"] > 300 and chart["h"] > 150, chart
            assert chart["marks"], chart
            for tag, w, h in chart["marks"]:  # a level line has no height; every mark has a size
                assert w > 0 and (h > 0 or tag == "polyline"), (chart["theme"], tag, w, h)

        # the screenshot kept as the test's artefact (the top of the page, as in the README) and the whole page
        ARTIFACTS.mkdir(exist_ok=True)
        top = browser.call(
            "Page.captureScreenshot",
            {
                "format": "png",
                "clip": {"x": 0, "y": 0, "width": 1280, "height": 2300, "scale": 1},
                "captureBeyondViewport": True,
            },
            session=session,
        )
        SCREENSHOT.write_bytes(base64.b64decode(top["data"]))
        full = browser.call(
            "Page.captureScreenshot",
            {
                "format": "png",
                "clip": {"x": 0, "y": 0, "width": 1280, "height": probe["height"], "scale": 0.5},
                "captureBeyondViewport": True,
            },
            session=session,
        )
        (ARTIFACTS / "report-harbour-full.png").write_bytes(base64.b64decode(full["data"]))
    png = SCREENSHOT.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    shutil.copyfile(written["pdf"], ARTIFACTS / "report-harbour.pdf")


def test_the_provider_page_loads_cleanly_and_draws_its_heat_map(chromium: str, written: dict[str, Path]) -> None:
    with Browser(chromium) as browser:
        session, probe = _load(browser, written["provider"])
        errors, requests = _problems(browser, session, written["provider"].as_uri())
        assert errors == [] and requests == [] and probe["resources"] == 0
        assert len(probe["heat"]) == 6 * 6  # six themes by six months
        assert all(w > 0 and h > 0 for w, h in probe["heat"])


def test_the_pdf_starts_each_of_the_seven_sections_on_a_new_page(chromium: str, written: dict[str, Path]) -> None:
    try:
        from pypdf import PdfReader
    except ImportError:
        if in_ci():
            pytest.fail("pypdf (a dev extra) is required in CI to read the PDF")
        pytest.skip("pypdf is not installed (pip install -e '.[dev]')")
    reader = PdfReader(str(written["pdf"]))
    texts = [page.extract_text() or "" for page in reader.pages]
    starts = {}
    for number, text in enumerate(texts):
        for found in re.finditer(r"Section (\d) of (\d)", text):
            assert found.group(2) == "7"
            starts.setdefault(int(found.group(1)), []).append(number)
    assert sorted(starts) == [1, 2, 3, 4, 5, 6, 7]
    assert all(len(pages) == 1 for pages in starts.values()), starts  # each section's heading once
    first_pages = [starts[n][0] for n in range(1, 8)]
    assert first_pages == sorted(set(first_pages)), first_pages  # in order, each on its own page
    for n, page in zip(range(1, 8), first_pages, strict=True):  # the heading is the first thing on its page
        assert texts[page].lstrip().startswith(f"Section {n} of 7"), texts[page][:80]
    assert len(texts) >= 8
    assert "Governance report: Harbour Home Care" in texts[0]
