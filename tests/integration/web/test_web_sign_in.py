"""Signing in and out as an attacker would try it: fixation, replayed cookies, guessing, timeouts,
the second factor, and where a sign-in may redirect to."""

from __future__ import annotations

from datetime import timedelta

import pyotp

from tests.integration.web.conftest import CLI, SERVICE, Site

COOKIE = "__Host-insightlog_session"


def test_a_session_id_set_before_sign_in_is_never_the_one_after_it(site: Site) -> None:
    site.add("Ann Lee")
    client = site.client()
    # Check an attacker-planted cookie is not adopted: signing in issues a fresh id.
    client.cookies.set(COOKIE, "planted-by-an-attacker", domain="testserver.local")
    assert site.sign_in(client, "Ann Lee").status_code == 303
    first = client.cookies.get(COOKIE)
    assert first and first != "planted-by-an-attacker"
    # Check signing in again (same browser) rotates the id and the old one stops working.
    assert site.sign_in(client, "Ann Lee").status_code == 303
    second = client.cookies.get(COOKIE)
    assert second != first
    stale = site.client()
    stale.cookies.set(COOKIE, first)
    assert stale.get("/services").status_code == 303
    assert client.get("/services").status_code == 200


def test_sign_out_ends_the_session_for_good_even_if_the_cookie_is_replayed(site: Site) -> None:
    site.add("Ann Lee")
    client = site.client()
    site.sign_in(client, "Ann Lee")
    cookie = client.cookies.get(COOKIE)
    csrf = site.csrf(client, "/services")
    response = client.post("/sign-out", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/sign-in?notice=signed-out"
    assert COOKIE not in client.cookies
    replay = site.client()
    replay.cookies.set(COOKIE, cookie)
    assert replay.get("/services").status_code == 303
    assert site.events()[-2:] == ["signed_out", "refused"]


def test_repeated_failures_are_throttled_then_lock_the_account(site: Site) -> None:
    site.add("Ann Lee")
    client = site.client()
    policy = site.accounts.policy.throttle
    for attempt in range(1, policy.lock_after + 1):
        response = site.sign_in(client, "Ann Lee", "not the password at all")
        assert response.status_code == 401
        assert "is not right, or this account cannot sign in" in response.text
        if policy.free <= attempt < policy.lock_after:
            # Check the right password is refused while throttled, without counting a failure.
            assert site.sign_in(client, "Ann Lee").status_code == 401
            assert site.log_rows()[-1]["detail"]["reason"] == "throttled"
            site.clock.advance(seconds=policy.wait_after(attempt).total_seconds())
    assert site.accounts.get_user("Ann Lee").status == "locked"
    assert site.log_rows("locked_out")[-1]["detail"] == {"failures": policy.lock_after}
    # Check even the right password stays refused, an hour later, until an administrator resets it.
    site.clock.advance(hours=1)
    assert site.sign_in(client, "Ann Lee").status_code == 401
    assert site.log_rows()[-1]["detail"]["reason"] == "locked"
    site.accounts.reset("Ann Lee", None, by=CLI)
    assert site.sign_in(client, "Ann Lee").status_code == 303


def test_an_unknown_name_and_a_wrong_password_get_the_same_answer(site: Site) -> None:
    site.add("Ann Lee")
    unknown = site.sign_in(site.client(), "Nobody Here", "whatever password")
    wrong = site.sign_in(site.client(), "Ann Lee", "whatever password")
    assert unknown.status_code == wrong.status_code == 401
    import re

    def same(text: str, name: str) -> str:
        return re.sub(r'name="csrf_token" value="[^"]+"', "", text.replace(name, "NAME"))

    assert same(unknown.text, "Nobody Here") == same(wrong.text, "Ann Lee")
    assert [r["detail"]["reason"] for r in site.log_rows("sign_in_failed")] == ["unknown_name", "wrong_password"]


def test_a_lock_out_ends_the_accounts_open_sessions(site: Site) -> None:
    site.add("Ann Lee")
    victim = site.client()
    site.sign_in(victim, "Ann Lee")
    attacker = site.client()
    for _ in range(site.accounts.policy.throttle.lock_after):
        site.sign_in(attacker, "Ann Lee", "guessing guessing")
        site.clock.advance(minutes=20)
    assert victim.get("/services").status_code == 303


def test_idle_and_absolute_timeouts_end_a_session(site: Site) -> None:
    site.add("Ann Lee")
    policy = site.accounts.policy
    client = site.client()
    site.sign_in(client, "Ann Lee")
    # Check activity keeps a session alive past the idle timeout...
    for _ in range(4):
        site.clock.advance(seconds=policy.idle_timeout.total_seconds() - 60)
        assert client.get("/services").status_code == 200
    # ...and idleness ends it.
    site.clock.advance(seconds=policy.idle_timeout.total_seconds())
    assert client.get("/services").status_code == 303
    assert site.log_rows("session_expired")[-1]["detail"] == {"reason": "idle timeout"}
    # Check the absolute timeout ends even a busy session.
    site.sign_in(client, "Ann Lee")
    elapsed = timedelta(0)
    while elapsed < policy.absolute_timeout:
        step = policy.idle_timeout - timedelta(minutes=1)
        site.clock.advance(seconds=step.total_seconds())
        elapsed += step
        client.get("/services")
    assert client.get("/services").status_code == 303
    assert site.log_rows("session_expired")[-1]["detail"] == {"reason": "absolute timeout"}


def test_disabling_an_account_ends_its_sessions_and_refuses_its_sign_in(site: Site) -> None:
    site.add("Ann Lee")
    client = site.client()
    site.sign_in(client, "Ann Lee")
    site.accounts.set_disabled("Ann Lee", True, by=CLI)
    assert client.get("/services").status_code == 303
    assert site.sign_in(client, "Ann Lee").status_code == 401
    assert site.log_rows()[-1]["detail"]["reason"] == "disabled"


def test_sign_in_goes_only_to_a_page_of_this_site(site: Site) -> None:
    site.add("Ann Lee")
    for target, expected in [
        ("/services/Harbour+Home+Care?as_of=2026-03-31", "/services/Harbour+Home+Care?as_of=2026-03-31"),
        ("https://evil.example/", "/services"),
        ("//evil.example/", "/services"),
        ("/\\evil.example", "/services"),
        ("javascript:alert(1)", "/services"),
    ]:
        response = site.sign_in(site.client(), "Ann Lee", next_path=target)
        assert response.headers["location"] == expected, target


def test_a_page_asked_for_before_sign_in_is_shown_after_it(site: Site) -> None:
    site.add("Ann Lee")
    client = site.client()
    redirect = client.get("/services/Harbour+Home+Care?as_of=2026-03-31")
    assert redirect.status_code == 303
    form = client.get(redirect.headers["location"])
    assert 'name="next" value="/services/Harbour+Home+Care?as_of=2026-03-31"' in form.text


def totp_now(site: Site, secret: str) -> str:
    return pyotp.TOTP(secret).at(site.clock.now)


def secret_on(page: str) -> str:
    import re

    match = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page)
    assert match, page
    return match.group(1).replace(" ", "")


def test_admins_and_leaders_set_up_a_second_factor_when_the_provider_requires_it(site: Site) -> None:
    site.add("Rita Manager", role="registered_manager", rights=("view", "judge"))
    site.add("Quinn Lead", role="quality_lead", rights=("view", "record"))
    site.accounts.set_require_second_factor(True, by=CLI)
    # Check a quality lead without admin signs in with the password alone.
    assert site.sign_in(site.client(), "Quinn Lead").headers["location"] == "/services"
    # Check a registered manager is sent to set it up, and sees nothing before.
    client = site.client()
    response = site.sign_in(client, "Rita Manager")
    assert response.headers["location"].startswith("/sign-in/code")
    assert client.get("/services").headers["location"] == "/sign-in/code"
    page = client.get("/sign-in/code")
    secret = secret_on(page.text)
    partial = client.cookies.get(COOKIE)
    csrf = site.csrf(client, "/sign-in/code")
    # Check a wrong code is refused and counted.
    assert client.post("/sign-in/code", data={"code": "000000", "csrf_token": csrf}).status_code == 401
    assert site.accounts.get_user("Rita Manager").failed_count == 1
    # Check the right code completes sign-in with yet another session id.
    code = totp_now(site, secret)
    response = client.post("/sign-in/code", data={"code": code, "csrf_token": csrf, "next": "/services"})
    assert response.status_code == 303 and response.headers["location"] == "/services"
    assert client.cookies.get(COOKIE) != partial
    assert client.get("/services").status_code == 200
    assert site.accounts.get_user("Rita Manager").totp_enrolled
    events = site.events()
    assert events[events.index("second_factor_set_up") + 1] == "signed_in"
    # Check the same code cannot sign in a second time (replay), though it is still in its 30 s.
    other = site.client()
    site.sign_in(other, "Rita Manager")
    csrf = site.csrf(other, "/sign-in/code")
    assert other.post("/sign-in/code", data={"code": code, "csrf_token": csrf}).status_code == 401
    site.clock.advance(seconds=30)
    assert other.post("/sign-in/code", data={"code": totp_now(site, secret), "csrf_token": csrf}).status_code == 303


def test_a_session_awaiting_its_second_factor_reaches_no_page_or_api(site: Site) -> None:
    site.add("Admin Ada", role="registered_manager", rights=("view", "admin"), services=None)
    site.accounts.set_require_second_factor(True, by=CLI)
    client = site.client()
    site.sign_in(client, "Admin Ada")
    for path in ("/services", f"/services/{SERVICE.replace(' ', '+')}", "/admin", "/admin/access-log", "/account"):
        assert client.get(path).headers.get("location") == "/sign-in/code", path
    assert client.get("/api/v1/services").status_code == 401


def test_second_factor_setup_from_the_account_page(site: Site) -> None:
    site.add("Ann Lee")
    client = site.client()
    site.sign_in(client, "Ann Lee")
    secret = secret_on(client.get("/account/second-factor").text)
    csrf = site.csrf(client, "/account")
    response = client.post("/account/second-factor", data={"code": totp_now(site, secret), "csrf_token": csrf})
    assert response.headers["location"] == "/account?notice=second-factor-set-up"
    # Check the next sign-in asks for the code.
    assert site.sign_in(site.client(), "Ann Lee").headers["location"].startswith("/sign-in/code")
