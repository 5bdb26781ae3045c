"""A hostile site submitting forms with a signed-in administrator's browser: every state-changing
request without the right CSRF token is refused, logged, and changes nothing."""

from __future__ import annotations

import pytest

from insightlog.web.permissions import PERMISSIONS, Stage
from tests.integration.web.conftest import Site
from tests.integration.web.test_web_routes import ROUTES, url

# The API takes bearer tokens only, never cookies: no CSRF token to forge (test_web_routes.py).
POSTS = [path for (method, path) in ROUTES if method == "POST" and not path.startswith("/api/")]


@pytest.mark.parametrize("token", [None, "", "forged-token-value"], ids=["missing", "empty", "wrong"])
def test_every_form_without_the_sessions_token_is_refused_and_writes_nothing(site: Site, token: str | None) -> None:
    site.add("Ann Lee")
    site.accounts.create_token("Ann Lee", "feed", site.accounts.get_user("Ann Lee").rights, None, by=_cli())
    admin = site.signed_in(
        "Admin Ada", role="registered_manager", rights=("view", "record", "judge", "audit", "admin"), services=None
    )
    before, head = site.dump(), site.usecases.ledger.head_size()
    for path in POSTS:
        seen = len(site.events())
        data = {"csrf_token": token, "require": "on"} if token is not None else {"require": "on"}
        response = admin.post(url(path), data=data, headers={"origin": "https://evil.example"})
        assert response.status_code == 403, path
        expected = "refused" if PERMISSIONS[ROUTES[("POST", path)]].stage is Stage.SECOND_FACTOR else "csrf_refused"
        assert site.events()[seen:] == [expected], path
    assert site.dump() == before
    assert site.usecases.ledger.head_size() == head
    # Check the session is still good (the attack did not sign it out either).
    assert admin.get("/admin").status_code == 200


def test_another_sessions_token_does_not_pass(site: Site) -> None:
    site.add("Ann Lee")
    attacker = site.signed_in("Mallory", rights=("view",))
    stolen = site.csrf(attacker, "/account")
    admin = site.signed_in("Admin Ada", role="registered_manager", rights=("view", "admin"), services=None)
    response = admin.post(url("/admin/users/{name}/disable"), data={"csrf_token": stolen})
    assert response.status_code == 403
    assert site.accounts.get_user("Ann Lee").status == "active"


def test_the_right_token_in_the_form_or_the_header_is_accepted(site: Site) -> None:
    site.add("Ann Lee")
    admin = site.signed_in("Admin Ada", role="registered_manager", rights=("view", "admin"), services=None)
    token = site.csrf(admin, "/admin")
    assert admin.post(url("/admin/users/{name}/disable"), data={"csrf_token": token}).status_code == 303
    assert site.accounts.get_user("Ann Lee").status == "disabled"
    assert admin.post(url("/admin/users/{name}/enable"), headers={"x-csrf-token": token}).status_code == 303
    assert site.accounts.get_user("Ann Lee").status == "active"
    assert site.events()[-2:] == ["user_disabled", "user_enabled"]


def test_sign_in_cannot_be_forged_without_the_browsers_own_token(site: Site) -> None:
    site.add("Ann Lee")
    victim = site.client()
    before = site.dump()
    # A hostile page posting the attacker's own name and password into the victim's browser.
    response = victim.post(
        "/sign-in", data={"name": "Ann Lee", "password": "correct horse battery staple", "csrf_token": "guess"}
    )
    assert response.status_code == 403
    assert site.dump() == before
    assert site.events()[-1] == "csrf_refused"
    assert victim.get("/services").status_code == 303
    # Check the token is tied to the browser's cookie: another browser's token does not pass.
    other = site.client()
    token = site.csrf(other)
    assert victim.post("/sign-in", data={"name": "Ann Lee", "password": "x", "csrf_token": token}).status_code == 403


def _cli():  # type: ignore[no-untyped-def]
    from tests.integration.web.conftest import CLI

    return CLI
