"""The JSON API as an integration uses it, and as someone holding an old or borrowed token tries it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from insightlog.accounts.rights import Right
from insightlog.application.governance import view_from_events
from insightlog.interchange.timeutil import parse_as_of
from insightlog.web.urls import tilde_encode
from tests.integration.web.conftest import CLI, OTHER, SERVICE, Site

GOVERNANCE = "/api/v1/services/{}/governance"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def token_for(
    site: Site, owner: str, *, rights: tuple[str, ...] = ("view",), services: Any = None, **kwargs: Any
) -> str:
    return site.accounts.create_token(owner, "integration", {Right(r) for r in rights}, services, by=CLI, **kwargs)[0]


def test_the_governance_json_is_the_views_rows_as_of_the_date(site: Site) -> None:
    site.add("Ann Lee")
    client = site.client()
    token = token_for(site, "Ann Lee")
    response = client.get(
        GOVERNANCE.format(tilde_encode(SERVICE)), params={"as_of": "2026-03-31"}, headers=bearer(token)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["rows"] == view_from_events(site.usecases.ledger, parse_as_of("2026-03-31"), SERVICE)
    assert (body["service"], body["as_of"], body["source"]) == (SERVICE, "2026-03-31T23:59:59Z", "events")
    row = site.log_rows("viewed")[-1]
    assert (row["via"], row["user_name"], row["subject"]) == ("api", "Ann Lee", SERVICE)


def test_a_token_sees_only_its_own_services_within_its_owners(site: Site) -> None:
    site.add("Group Lead", services=None)
    client = site.client()
    narrow = token_for(site, "Group Lead", services=[OTHER])
    assert client.get("/api/v1/services", headers=bearer(narrow)).json() == {"services": [OTHER]}
    assert client.get(GOVERNANCE.format(tilde_encode(SERVICE)), headers=bearer(narrow)).status_code == 403
    wide = token_for(site, "Group Lead")
    assert client.get("/api/v1/services", headers=bearer(wide)).json() == {"services": sorted([SERVICE, OTHER])}


def test_a_token_cannot_be_made_beyond_its_owner(site: Site) -> None:
    import pytest

    from insightlog.accounts.errors import AccountError

    site.add("Ann Lee")
    with pytest.raises(AccountError, match="does not hold the right"):
        token_for(site, "Ann Lee", rights=("view", "admin"))
    with pytest.raises(AccountError, match="may not see"):
        token_for(site, "Ann Lee", services=[OTHER])


def test_a_token_without_the_view_right_is_refused(site: Site) -> None:
    site.add("Ann Lee", rights=("view", "record"))
    token = token_for(site, "Ann Lee", rights=("record",))
    assert site.client().get("/api/v1/services", headers=bearer(token)).status_code == 403


def test_revoked_expired_and_disabled_owners_tokens_are_refused_and_logged(site: Site) -> None:
    site.add("Ann Lee")
    site.add("Bob Sacked")
    client = site.client()
    revoked = token_for(site, "Ann Lee")
    expiring = token_for(site, "Ann Lee", expires_in=timedelta(days=1))
    sacked = token_for(site, "Bob Sacked")
    for token in (revoked, expiring, sacked):
        assert client.get("/api/v1/services", headers=bearer(token)).status_code == 200
    site.accounts.revoke_token(1, by=CLI)
    site.clock.advance(days=1)
    site.accounts.set_disabled("Bob Sacked", True, by=CLI)
    reasons = []
    for token in (revoked, expiring, sacked, "il_" + "x" * 43):
        response = client.get("/api/v1/services", headers=bearer(token))
        assert response.status_code == 401
        assert response.json() == {"error": "A valid bearer token is needed."}
        reasons.append(site.log_rows("refused")[-1]["detail"]["reason"])
    assert reasons == ["token 1 revoked", "token 2 expired", "token 3: owner cannot sign in", "unknown token"]


def test_the_api_takes_no_session_cookie(site: Site) -> None:
    client = site.signed_in("Ann Lee")
    assert client.get("/services").status_code == 200
    assert client.get("/api/v1/services").status_code == 401


def test_api_errors_are_one_line_json(site: Site) -> None:
    site.add("Ann Lee", services=None)
    client = site.client()
    token = token_for(site, "Ann Lee")
    bad = client.get(GOVERNANCE.format(tilde_encode(SERVICE)), params={"as_of": "yesterday"}, headers=bearer(token))
    assert bad.status_code == 400 and bad.json()["error"].startswith("as_of: the date 'yesterday'")
    missing = client.get(GOVERNANCE.format("No+Such"), headers=bearer(token))
    assert missing.status_code == 404 and missing.json() == {"error": "no service named 'No Such' in this store"}
    nowhere = client.get("/api/v1/nowhere", headers=bearer(token))
    assert nowhere.status_code == 404 and nowhere.json() == {"error": "There is no such page."}


def test_the_openapi_document_names_the_api_and_its_bearer_scheme(site: Site) -> None:
    doc = site.client().get("/api/v1/openapi.json").json()
    assert set(doc["paths"]) == {
        "/api/v1/services",
        "/api/v1/services/{service}/governance",
        "/api/v1/services/{service}/events",
    }
    body = doc["paths"]["/api/v1/services/{service}/events"]["post"]["requestBody"]["content"]["application/json"]
    assert {"event_id", "kind", "payload"} <= set(body["schema"]["required"])
    assert doc["components"]["securitySchemes"] == {"bearer": {"type": "http", "scheme": "bearer"}}
    assert doc["security"] == [{"bearer": []}]
    assert site.client().get("/docs").status_code == 404  # no docs page loading scripts from a CDN
