"""The pages as a committee member and an administrator see them: the governance view as of a
date, stored text rendered inert, security headers on every response, nothing fetched from
elsewhere, and the access log that shows who looked at what."""

from __future__ import annotations

import re
from typing import Any

import orjson

from insightlog.accounts.chain import verify_chain
from insightlog.application.governance import view_from_events
from insightlog.interchange.timeutil import parse_as_of
from insightlog.web.config import CONTENT_SECURITY_POLICY
from insightlog.web.urls import tilde_encode
from tests.integration.web.conftest import OTHER, SCRIPT, SERVICE, Site

PAGE = "/services/" + tilde_encode(SERVICE)


def table_rows(html: str) -> dict[str, str]:
    """The governance table's rows, by the theme id shown in each."""
    rows = {}
    for tr in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        found = re.search(r"<th scope=\"row\">.*?<code>([^<]+)</code>", tr, flags=re.S)
        if found:
            rows[found.group(1)] = tr
    return rows


def judgements(site: Site, day: str) -> dict[str, str | None]:
    rows = view_from_events(site.usecases.ledger, parse_as_of(day), SERVICE)
    return {r["theme"]: (r["judgement"] or {}).get("event_id") for r in rows}


def test_the_governance_page_shows_each_themes_judgement_as_of_the_date_picked(site: Site) -> None:
    client = site.signed_in("Ann Lee")
    march, june = judgements(site, "2026-03-31"), judgements(site, "2026-06-30")
    assert march != june  # the example revises judgements between the two dates
    for day, expected in (("2026-03-31", march), ("2026-06-30", june)):
        page = client.get(PAGE, params={"as_of": day})
        assert page.status_code == 200
        rows = table_rows(page.text)
        assert set(rows) == set(expected)
        for theme, event_id in expected.items():
            assert (f"<code>{event_id}</code>" in rows[theme]) if event_id else ("none" in rows[theme]), (day, theme)
        assert f'value="{day}"' in page.text and "the events known then" in page.text
    # Check the access log says who looked at which service as of when.
    viewed = site.log_rows("viewed")
    assert [(r["user_name"], r["subject"], r["detail"]["as_of"]) for r in viewed] == [
        ("Ann Lee", SERVICE, "2026-03-31"),
        ("Ann Lee", SERVICE, "2026-06-30"),
    ]


def test_the_governance_page_now_reads_the_read_models(site: Site) -> None:
    client = site.signed_in("Ann Lee")
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "the read models, caught up with the ledger" in page.text
    now = site.usecases.governance(SERVICE)
    assert set(table_rows(page.text)) == {r["theme"] for r in now.rows}


def test_a_bad_date_is_shown_next_to_the_field_and_nothing_else(site: Site) -> None:
    client = site.signed_in("Ann Lee")
    page = client.get(PAGE, params={"as_of": "31/03/2026"})
    assert page.status_code == 400
    assert 'id="as_of-error"' in page.text and 'aria-invalid="true"' in page.text
    assert "the date &#39;31/03/2026&#39; is neither" in page.text
    assert table_rows(page.text) == {}
    assert site.log_rows("viewed") == []


def test_unknown_services_and_malformed_names_are_not_found(site: Site) -> None:
    client = site.signed_in("Ann Lee", services=None)
    assert client.get("/services/No+Such+Service").status_code == 404
    assert client.get("/services/bad~ZZname").status_code == 404
    assert client.get("/services/" + tilde_encode(OTHER)).status_code == 200


def test_stored_script_is_rendered_as_text_in_every_page_that_shows_it(site: Site) -> None:
    client = site.signed_in("Ann Lee", services=None)
    page = client.get("/services/" + tilde_encode(OTHER), params={"as_of": "2026-06-30"})
    assert page.status_code == 200
    assert SCRIPT not in page.text
    assert "&lt;script&gt;alert(&#34;stored&#34;)&lt;/script&gt; Medicines" in page.text
    assert "Quayside Care / North &amp; East" in page.text
    listing = client.get("/services").text
    assert f'href="/services/{tilde_encode(OTHER)}"' in listing and "North &amp; East" in listing
    # A sign-in attempt under a hostile name lands in the access log an administrator reads.
    site.sign_in(site.client(), SCRIPT, "some password or other")
    admin = site.signed_in("Admin Ada", role="registered_manager", rights=("admin",), services=None)
    log_page = admin.get("/admin/access-log").text
    assert SCRIPT not in log_page and "&lt;script&gt;" in log_page
    for response in (page, log_page):
        text = response if isinstance(response, str) else response.text
        assert "<script" not in text.lower()


def local_references(html: str) -> list[str]:
    return re.findall(r'(?:src|href|action)="([^"]*)"', html)


def test_no_page_refers_to_anything_outside_the_app(site: Site) -> None:
    site.add("Ann Lee")
    client = site.signed_in("Admin Ada", role="registered_manager", rights=("view", "admin"), services=None)
    anonymous = site.client()
    pages = [anonymous.get("/sign-in"), anonymous.get("/no-such-page")]
    pages += [
        client.get(p)
        for p in (
            "/services",
            PAGE,
            PAGE + "?as_of=2026-03-31",
            "/account",
            "/account/second-factor",
            "/admin",
            "/admin/access-log",
        )
    ]
    for response in pages:
        assert response.headers["content-type"].startswith("text/html")
        refs = local_references(response.text)
        assert refs, response.url
        for ref in refs:
            assert ref.startswith(("/", "#")) and not ref.startswith("//"), (response.url, ref)
        assert "<script" not in response.text.lower() and " style=" not in response.text.lower()
        assert response.text.count('rel="stylesheet"') == 1


def test_every_kind_of_response_carries_the_security_headers(site: Site) -> None:
    client = site.signed_in("Ann Lee")
    token = site.accounts.create_token("Ann Lee", "feed", site.accounts.get_user("Ann Lee").rights, None, by=_cli())[0]
    anonymous = site.client()
    responses = [
        client.get(PAGE),
        client.get("/services"),
        anonymous.get("/sign-in"),
        anonymous.get("/services"),  # a redirect
        anonymous.get("/nowhere"),  # a 404
        anonymous.get("/static/style.css"),
        anonymous.get("/health"),
        anonymous.get("/api/v1/services"),  # a 401
        client.get("/api/v1/services", headers={"authorization": f"Bearer {token}"}),
    ]
    for r in responses:
        assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, r.url
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["cross-origin-opener-policy"] == "same-origin"
        assert "camera=()" in r.headers["permissions-policy"]
        assert "server" not in r.headers
    assert responses[0].headers["cache-control"] == "no-store"


def test_cookies_are_secure_http_only_and_same_site_strict(site: Site) -> None:
    site.add("Ann Lee")
    client = site.client()
    csrf_cookie = client.get("/sign-in").headers["set-cookie"]
    response = site.sign_in(client, "Ann Lee")
    session_cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("__Host-insightlog_session=")
    )
    for cookie in (csrf_cookie, session_cookie):
        attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
        assert {"httponly", "secure", "samesite=strict", "path=/"} <= attributes, cookie
        assert not any(a.startswith("domain=") for a in attributes)
        assert not any(a.startswith(("max-age", "expires")) for a in attributes) or "max-age=0" in attributes


def test_the_access_log_export_verifies_and_is_itself_logged(site: Site) -> None:
    admin = site.signed_in("Admin Ada", role="registered_manager", rights=("view", "admin"), services=None)
    admin.get(PAGE)
    response = admin.get("/admin/access-log/export")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="insightlog-access-log.jsonl"'
    rows = [orjson.loads(line) for line in response.content.splitlines()]
    report = verify_chain(rows)
    assert report.ok and report.rows == len(rows)
    assert [r["event"] for r in rows][-2:] == ["viewed", "access_log_exported"]
    assert site.events()[-1] == "access_log_exported"
    assert site.log_rows("access_log_exported")[-1]["detail"]["chain_ok"] is True


def test_the_access_log_page_filters_and_pages(site: Site) -> None:
    admin = site.signed_in("Admin Ada", role="registered_manager", rights=("view", "admin"), services=None)
    for _ in range(3):
        site.sign_in(site.client(), "Ann Nobody", "no such account here")
    site.app.state.insightlog.config = _with_page(site, 2)
    page = admin.get("/admin/access-log", params={"event": "sign_in_failed"}).text
    shown = re.findall(r"<td>(\d+)</td><td>[^<]+</td><td>sign in failed</td>", page)
    assert len(shown) == 2
    older = re.search(r'href="(/admin/access-log\?before=\d+&amp;event=sign_in_failed)"', page)
    assert older
    rest = admin.get(older.group(1).replace("&amp;", "&")).text
    assert len(re.findall(r"<td>sign in failed</td>", rest)) == 1
    assert "The log's hash chain checks out" in page


def _with_page(site: Site, size: int) -> Any:
    from dataclasses import replace

    return replace(site.app.state.insightlog.config, access_log_page=size)


def _cli():  # type: ignore[no-untyped-def]
    from tests.integration.web.conftest import CLI

    return CLI
