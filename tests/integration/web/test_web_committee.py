"""The committee's pages: the governance view on a basis, a theme's figures with the evidence
behind them, two dates compared, the history filtered and paged, the provider page and the work
lists, each over only the services the account may see, every figure linked to its entries."""

from __future__ import annotations

import html
import re
from typing import Any

from insightlog.interchange.timeutil import parse_as_of
from insightlog.web.urls import tilde_encode
from tests.integration.web.conftest import OTHER, SERVICE, Site

BASE = "/services/" + tilde_encode(SERVICE)
OTHER_HTML = html.escape(OTHER, quote=False)


def entry_links(html: str, base: str = BASE) -> set[str]:
    return set(re.findall(re.escape(base) + r"/entries/([A-Za-z0-9._:-]+)\"", html))


def test_the_basis_decides_what_was_known_when(site: Site) -> None:
    # The example was imported just now: on the ledger's clock nothing of it was known in June.
    client = site.signed_in("Ann Lee")
    recorded = client.get(BASE, params={"as_of": "2026-06-30", "basis": "recorded"})
    ledger = client.get(BASE, params={"as_of": "2026-06-30", "basis": "ledger"})
    assert recorded.status_code == ledger.status_code == 200
    assert "medicines.mar_charts" in recorded.text and "ledger basis" in ledger.text
    assert "No themes are defined for this service as of this date" in ledger.text
    now = client.get(BASE, params={"basis": "ledger"})
    assert "medicines.mar_charts" in now.text
    bad = client.get(BASE, params={"basis": "hopeful"})
    assert bad.status_code == 400 and 'id="basis-error"' in bad.text
    assert [r["detail"]["basis"] for r in site.log_rows("viewed")] == ["recorded", "ledger", "ledger"]


def test_every_judgement_and_figure_on_the_governance_view_links_to_its_entries(site: Site) -> None:
    client = site.signed_in("Ann Lee")
    page = client.get(BASE, params={"as_of": "2026-06-30"}).text
    rows = site.usecases.house.usecases.view_from_events(parse_as_of("2026-06-30"), SERVICE)
    judged = {r["judgement"]["event_id"] for r in rows if r["judgement"]}
    assert judged and judged <= entry_links(page)
    for r in rows:
        assert f"{BASE}/themes/{tilde_encode(r['theme'])}?as_of=2026-06-30&amp;basis=recorded" in page
    for link in sorted(entry_links(page))[:3]:
        assert client.get(f"{BASE}/entries/{link}").status_code == 200


def test_a_themes_page_lists_the_evidence_behind_each_months_evidence_score(site: Site) -> None:
    client = site.signed_in("Ann Lee")
    theme = "medicines.mar_charts"
    page = client.get(f"{BASE}/themes/{tilde_encode(theme)}", params={"as_of": "2026-06-30"})
    assert page.status_code == 200
    detail, _ = site.usecases.theme(SERVICE, theme, "2026-06-30", None)
    behind = {e for r in detail.drift for e in r["evidence"]}
    assert behind and behind <= entry_links(page.text)
    assert "<svg" in page.text and 'role="img"' in page.text
    for r in detail.drift:
        assert f'id="m-{r["month"]}"' in page.text
    assert client.get(f"{BASE}/themes/no.such.theme").status_code == 404


def test_comparing_two_dates_shows_each_themes_judgement_then_and_now_and_what_came_between(site: Site) -> None:
    client = site.signed_in("Ann Lee")
    page = client.get(f"{BASE}/compare", params={"then": "2026-03-31", "now": "2026-06-30"})
    assert page.status_code == 200
    comparison, _ = site.usecases.compare(SERVICE, "2026-03-31", "2026-06-30", None)
    changed = [t for t in comparison.themes if t.judgement_changed]
    assert changed, "the example revises judgements between March and June"
    for t in changed:
        j0 = (t.then or {}).get("judgement") or {}
        j1 = (t.now or {}).get("judgement") or {}
        for eid in (j0.get("event_id"), j1.get("event_id")):
            if eid:
                assert f'/entries/{eid}"' in page.text
    between = {r["event_id"] for t in comparison.themes for r in t.entries}
    assert between and between <= entry_links(page.text)
    assert all(r["recorded_at"] > "2026-03-31T23:59:59Z" for t in comparison.themes for r in t.entries)
    backwards = client.get(f"{BASE}/compare", params={"then": "2026-06-30", "now": "2026-03-31"})
    assert backwards.status_code == 400 and 'id="then-error"' in backwards.text


def test_the_history_is_filtered_and_paged(site: Site) -> None:
    client = site.signed_in("Ann Lee")
    everything = site.usecases.history(SERVICE)
    first = client.get(f"{BASE}/history").text
    assert f"{len(everything)} entries, page 1 of 2" in first
    assert entry_links(first) == {r["event_id"] for r in everything[:50]}
    second = client.get(f"{BASE}/history", params={"page": "2"}).text
    assert entry_links(second) == {r["event_id"] for r in everything[50:]}
    spot = client.get(f"{BASE}/history", params={"kind": "SpotCheckRecorded", "theme": "medicines"}).text
    expected = {r["event_id"] for r in site.usecases.history(SERVICE, theme="medicines", kind="SpotCheckRecorded")}
    assert expected and entry_links(spot) == expected
    march = client.get(f"{BASE}/history", params={"as_of": "2026-03-31"}).text
    assert "HHC-070" not in march
    assert client.get(f"{BASE}/history", params={"page": "x"}).status_code == 400


def test_the_provider_page_and_the_work_lists_show_only_the_accounts_services(site: Site) -> None:
    client = site.signed_in("Ann Lee")
    page = client.get("/provider", params={"as_of": "2026-06-30"})
    assert page.status_code == 200
    assert SERVICE in page.text and OTHER_HTML not in page.text and tilde_encode(OTHER) not in page.text
    assert 'class="heat"' in page.text and "/themes/" in page.text
    work = client.get("/work", params={"as_of": "2026-06-30"})
    assert work.status_code == 200 and OTHER_HTML not in work.text
    lists = site.usecases.work([SERVICE], "2026-06-30")
    assert lists.triggers and all(t["service"] == SERVICE for t in lists.triggers)
    for t in lists.triggers:
        for eid in t["events"]:
            assert f'/entries/{eid}"' in work.text
    everyone = site.signed_in("Gail Group", services=None)
    assert OTHER_HTML in everyone.get("/provider", params={"as_of": "2026-06-30"}).text


def test_a_withdrawal_between_two_dates_is_listed_under_the_theme_it_touched(site: Site) -> None:
    from tests.integration.web.test_web_record import form_page, spot_check_form

    client = site.signed_in("Dee Deputy", role="deputy_manager", rights=("view", "record"))
    _, csrf, event_id = form_page(client, f"{BASE}/record/SpotCheckRecorded")
    client.post(
        f"{BASE}/record/SpotCheckRecorded", data={**spot_check_form(), "csrf_token": csrf, "event_id": event_id}
    )
    _, csrf, withdrawal = form_page(client, f"{BASE}/entries/{event_id}/withdraw")
    client.post(
        f"{BASE}/entries/{event_id}/withdraw", data={"csrf_token": csrf, "event_id": withdrawal, "reason": "wrong"}
    )
    comparison: Any
    comparison, _ = site.usecases.compare(SERVICE, "2026-06-30", None, None)
    theme = next(t for t in comparison.themes if t.theme == "medicines.mar_charts")
    assert [r["event_id"] for r in theme.entries] == [event_id, withdrawal]


def test_the_api_governance_view_takes_the_basis_too(site: Site) -> None:
    from insightlog.accounts.rights import Right
    from tests.integration.web.conftest import CLI

    site.add("Feed Owner")
    token = site.accounts.create_token("Feed Owner", "feed", {Right.VIEW}, None, by=CLI)[0]
    client = site.client()
    path = f"/api/v1/services/{tilde_encode(SERVICE)}/governance"
    headers = {"authorization": f"Bearer {token}"}
    recorded = client.get(path, params={"as_of": "2026-06-30"}, headers=headers).json()
    ledger = client.get(path, params={"as_of": "2026-06-30", "basis": "ledger"}, headers=headers).json()
    assert recorded["basis"] == "recorded" and recorded["rows"]
    assert ledger["basis"] == "ledger" and ledger["rows"] == []
    bad = client.get(path, params={"basis": "hopeful"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["error"].startswith("basis:")
