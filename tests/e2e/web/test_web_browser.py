"""The web application in a real Chromium against a real server: a registered manager signs in,
records a spot check through the form, sees it in the governance view and the history, withdraws
it with a reason, moves the as-of picker back, compares two dates and downloads an evidence pack
that ``insightlog verify-pack`` accepts; the record form works by keyboard alone; every page is
free of serious and critical axe-core violations; no page logs a console error or asks anything
of another site. Screenshots of the main pages go to docs/images/ (the README shows them).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from insightlog.web.urls import tilde_encode
from tests.e2e.report.cdp import Browser
from tests.e2e.web.conftest import SERVICE, Server, Tab, signed_in_tab

BASE = "/services/" + tilde_encode(SERVICE)
pytestmark = pytest.mark.e2e


def judgements_as_of(server: Server, day: str) -> dict[str, str | None]:
    from insightlog.bootstrap import Config, House
    from insightlog.interchange.timeutil import parse_as_of
    from insightlog.storage.settings import StoreSettings

    house = House(
        Config(store=StoreSettings(sqlite_path=server.env["INSIGHTLOG_DB"], read_only=True)), may_create=False
    )
    try:
        rows = house.usecases.view_from_events(parse_as_of(day), SERVICE)
    finally:
        house.close()
    return {r["theme"]: (r["judgement"] or {}).get("event_id") for r in rows}


def clean(tab: Tab, *, expected: tuple[str, ...] = ()) -> None:
    """No console error (but the status of a page asked for on purpose: ``expected`` URL ends) and
    no request outside the app."""
    errors = [
        e for e in tab.console_errors() if not (e.split(": Failed to load resource")[0].endswith(expected) and expected)
    ]
    assert errors == [], errors
    assert tab.outside_requests() == [], tab.outside_requests()


def governance_row(tab: Tab, wanted: Any, timeout: float = 15.0) -> str:
    """The governance view's medicines.mar_charts row once ``wanted(row)``: the read models catch up
    just after a write, and the page reads them as they stand meanwhile (saying how far behind)."""
    deadline = time.monotonic() + timeout
    while True:
        tab.goto(BASE)
        row = str(
            tab.js(
                "[...document.querySelectorAll('tbody tr')].map(r => r.innerText)"
                ".find(t => t.includes('medicines.mar_charts'))"
            )
        )
        if wanted(row) or time.monotonic() > deadline:
            assert wanted(row), row
            return row
        assert "behind the ledger" in tab.text or "not yet recomputed" in tab.text, row
        time.sleep(0.5)


def wait_for_download(folder: Path, suffix: str, timeout: float = 30.0) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if p.suffix == suffix]
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} downloaded into {folder}: {list(folder.iterdir())}")


def test_a_manager_records_withdraws_replays_compares_and_downloads_a_pack(
    browser: Browser, server: Server, tmp_path: Path
) -> None:
    tab = signed_in_tab(browser, server, tmp_path)
    tab.screenshot("services")
    # Record a spot check through the form.
    tab.goto(f"{BASE}/record/SpotCheckRecorded")
    tab.fill(
        {
            "theme": "medicines.mar_charts",
            "team": "north",
            "payload.evidence_score": "2",
            "payload.evidence_category": "observation",
            "payload.source_type": "spot_check",
            "payload.summary": "Browser test: 2 of 5 MAR charts unsigned on the north round",
        }
    )
    tab.screenshot("record-form")
    tab.submit("form.record-form button[type=submit]")
    found = re.search(r"/entries/([A-Za-z0-9._:-]+)\?notice=recorded$", tab.url)
    assert found, tab.url
    event_id = found.group(1)
    assert "Recorded." in tab.text and "RM-DEMO" in tab.text
    # See it in the governance view (this month's evidence), the theme's page and the history.
    governance_row(tab, lambda text: "E 2.00" in text)
    tab.screenshot("governance")
    tab.goto(f"{BASE}/themes/{tilde_encode('medicines.mar_charts')}")
    assert event_id in tab.text
    tab.goto(f"{BASE}/history")
    assert event_id in tab.text
    tab.screenshot("history")
    # Withdraw it with a reason.
    tab.goto(f"{BASE}/entries/{event_id}/withdraw")
    tab.fill({"reason": "Browser test: entered against the wrong round"})
    tab.submit()
    assert tab.url.endswith(f"/entries/{event_id}?notice=withdrawn"), tab.url
    assert "Withdrawn" in tab.text and "entered against the wrong round" in tab.text
    tab.screenshot("entry-withdrawn")
    governance_row(tab, lambda text: "E 2.00" not in text)
    # Move the as-of picker back: the judgements are those the ledger knew then.
    tab.fill({"as_of": "2026-03-31"})
    tab.submit("form.as-of button[type=submit]")
    assert "as_of=2026-03-31" in tab.url
    march = judgements_as_of(server, "2026-03-31")
    html = tab.html
    for theme, judgement in march.items():
        if judgement:
            assert f'/entries/{judgement}"' in html, (theme, judgement)
    assert "2026-03-31T23:59:59Z" in tab.text
    # Compare two dates.
    tab.fill({"then": "2026-02-28"})
    tab.submit("form.compare-with button[type=submit]")
    assert "then=2026-02-28" in tab.url and "now=2026-03-31" in tab.url
    assert "Then: 2026-02-28T23:59:59Z" in tab.text
    tab.goto(f"{BASE}/compare?then=2026-03-31&now=2026-06-30&basis=recorded")
    assert "changed" in tab.text
    june = judgements_as_of(server, "2026-06-30")
    changed = [t for t in june if june[t] != march.get(t)]
    assert changed
    tab.screenshot("compare")
    # Download a pack from the downloads page and check it with verify-pack.
    tab.goto(f"{BASE}/downloads")
    tab.fill({"pack-as-of": "2026-06-30", "pack-theme": "medicines"})
    tab.js("document.querySelector('form[action$=\"/pack.zip\"] button[type=submit]').click()")
    pack = wait_for_download(tab.downloads, ".zip")
    public = Path(server.env["INSIGHTLOG_KEY"] + ".pub")
    checked = server.cli("verify-pack", str(pack), "--trusted-key", str(public))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "OK:" in checked.stdout
    log = [json.loads(line) for line in server.cli("users", "access-log").stdout.splitlines()]
    packs = [r for r in log if r["event"] == "pack_downloaded"]
    assert len(packs) == 1 and packs[0]["user_name"] == "Demo Manager"
    assert json.loads(packs[0]["detail"])["theme"] == "medicines"
    for path in ("/provider?as_of=2026-06-30", "/work?as_of=2026-06-30"):
        tab.goto(path)
    tab.goto("/provider?as_of=2026-06-30")
    tab.screenshot("provider")
    tab.goto(f"{BASE}/themes/{tilde_encode('medicines.mar_charts')}?as_of=2026-06-30")
    tab.screenshot("theme")
    clean(tab)


def test_the_record_form_can_be_filled_and_sent_by_keyboard_alone(
    browser: Browser, server: Server, tmp_path: Path
) -> None:
    tab = signed_in_tab(browser, server, tmp_path)
    tab.goto(f"{BASE}/record/IncidentRecorded")
    fields = tab.js("[...document.querySelectorAll('form.record-form [name]:not([type=hidden])')].map(e => e.id)")
    assert fields and "payload.summary" in fields
    # Tab from the top of the page: the skip link first, then through every field in order.
    tab.js("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    order: list[str] = []
    styles: dict[str, str] = {}
    for _ in range(80):
        tab.key("Tab")
        focused = tab.js(
            "(() => { const e = document.activeElement; const s = getComputedStyle(e);"
            " return [e.id || e.className || e.tagName, s.outlineStyle + ' ' + s.outlineWidth]; })()"
        )
        order.append(focused[0])
        styles[focused[0]] = focused[1]
        if focused[0] == "record" or len(order) > 60:
            break
    assert order[0] == "skip-link", order[:3]
    # A date-time input takes one Tab per part (day, month, year, hour, ...): count it once.
    in_form = [name for i, name in enumerate(order) if name in fields and (i == 0 or order[i - 1] != name)]
    assert in_form == fields, (in_form, fields)
    assert [n for n in fields if styles[n].startswith("none")] == [], styles
    # Fill it by keyboard: focus each field with Tab, choose options with the arrow keys, type text.
    tab.js("document.getElementById('theme').focus()")
    wanted_text = {"payload.source_type": "incident", "payload.summary": "Keyboard test: insulin call 50 minutes late"}
    for name in fields:
        kind = tab.js(f"document.getElementById({name!r}).tagName")
        if kind == "SELECT" and name in ("theme", "payload.evidence_score", "payload.evidence_category"):
            tab.key("ArrowDown")
        elif name in wanted_text:
            tab.type_text(wanted_text[name])
        tab.key("Tab")
    values = tab.js("Object.fromEntries(new FormData(document.querySelector('form.record-form')))")
    assert values["theme"] and values["payload.evidence_score"] and values["payload.evidence_category"], values
    tab.js("document.querySelector('form.record-form button[type=submit]').focus()")
    since = len(browser.events)
    tab.key("Enter")
    tab._wait_new("Page.loadEventFired", since)
    assert "?notice=recorded" in tab.url, (tab.url, tab.text[:500])
    clean(tab)


PAGES = [
    ("sign-in", None),
    ("services", "/services"),
    ("governance now", BASE),
    ("governance as of", f"{BASE}?as_of=2026-03-31&basis=recorded"),
    ("record index", f"{BASE}/record"),
    ("record form", f"{BASE}/record/SpotCheckRecorded"),
    ("judgement theme", f"{BASE}/judge/JudgementRevised"),
    ("judgement form", f"{BASE}/judge/JudgementRevised?theme=safeguarding"),
    ("review form", f"{BASE}/record/ReviewHeld"),
    ("entry", f"{BASE}/entries/HHC-032"),
    ("withdraw", f"{BASE}/entries/HHC-032/withdraw"),
    ("amend", f"{BASE}/entries/HHC-032/amend"),
    ("history", f"{BASE}/history"),
    ("compare", f"{BASE}/compare?then=2026-03-31&now=2026-06-30"),
    ("theme", f"{BASE}/themes/{tilde_encode('medicines.mar_charts')}?as_of=2026-06-30"),
    ("provider", "/provider?as_of=2026-06-30"),
    ("work lists", "/work?as_of=2026-06-30"),
    ("downloads", f"{BASE}/downloads"),
    ("sheet import", f"{BASE}/import"),
    ("account", "/account"),
    ("admin", "/admin"),
    ("access log", "/admin/access-log"),
    ("not found", "/services/No+Such+Service"),
]
AXE_RUN = """axe.run(document, {runOnly: {type: 'tag',
  values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})
  .then(r => JSON.stringify({passes: r.passes.length, violations: r.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))}))"""


def axe(tab: Tab, source: str) -> list[dict[str, Any]]:
    tab.browser.call("Runtime.evaluate", {"expression": source}, session=tab.session)
    result = tab.browser.call(
        "Runtime.evaluate", {"expression": AXE_RUN, "awaitPromise": True, "returnByValue": True}, session=tab.session
    )
    assert "exceptionDetails" not in result, result
    found = json.loads(result["result"]["value"])
    assert found["passes"] > 10, found  # axe ran its rules on the page
    return list(found["violations"])


def test_every_page_type_has_no_serious_or_critical_accessibility_violation(
    browser: Browser, server: Server, tmp_path: Path, axe_source: str
) -> None:
    from tests.e2e.web.conftest import new_tab

    anonymous = new_tab(browser, server, tmp_path)
    anonymous.goto("/sign-in")
    found = {"sign-in": axe(anonymous, axe_source)}
    anonymous.screenshot("sign-in")
    tab = signed_in_tab(browser, server, tmp_path)
    for name, path in PAGES[1:]:
        assert path is not None
        tab.goto(path)
        found[name] = axe(tab, axe_source)
    # A form sent with problems: the error summary and the messages next to the fields.
    tab.goto(f"{BASE}/record/SpotCheckRecorded")
    tab.fill({"payload.items_checked": "20", "payload.items_compliant": "15", "payload.evidence_score": "4"})
    tab.submit("form.record-form button[type=submit]")
    assert "There is a problem" in tab.text
    found["record form with errors"] = axe(tab, axe_source)
    tab.screenshot("record-errors")
    bad = {name: v for name, v in found.items() if v}
    assert bad == {}, bad
    clean(tab, expected=("/services/No+Such+Service", "/record/SpotCheckRecorded"))
    clean(anonymous)
