"""The web application's pure rules: who may do what, names in paths, where a sign-in may go."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from insightlog.accounts.rights import Right
from insightlog.accounts.store import FULL, SECOND_FACTOR, Session, Token, User
from insightlog.web.config import WebConfig
from insightlog.web.permissions import (
    ADMIN,
    HAS_SESSION,
    LIST_SERVICES,
    PERMISSIONS,
    PUBLIC,
    RECORD,
    SECOND_FACTOR_STEP,
    SIGNED_IN,
    VIEW_SERVICE,
    Decision,
    decide,
    session_actor,
    token_actor,
)
from insightlog.web.security import security_headers, tokens_match
from insightlog.web.urls import NameEncodingError, safe_next, tilde_decode, tilde_encode

A, B = "Harbour Home Care", "Quayside"


def user(rights: set[Right], services: set[str] | None = None) -> User:
    return User(
        1,
        "Ann",
        "QL-1",
        "quality_lead",
        frozenset(rights),
        frozenset(services) if services is not None else None,
        False,
        0,
        None,
        None,
        None,
        None,
        "2026-01-01T00:00:00Z",
    )


def session(stage: str = FULL) -> Session:
    return Session("h", 1, stage, "csrf", None, "t", "t", "t")


def token(rights: set[Right], services: set[str] | None) -> Token:
    return Token(
        1,
        1,
        "feed",
        "il_x",
        frozenset(rights),
        frozenset(services) if services is not None else None,
        "t",
        None,
        None,
        None,
    )


ALLOW, UNAUTH, FORBID = Decision.ALLOW, Decision.UNAUTHENTICATED, Decision.FORBIDDEN
VIEWER_A = session_actor(user({Right.VIEW}, {A}), session())
ADMIN_ONLY = session_actor(user({Right.ADMIN}, None), session())
HALF = session_actor(user({Right.VIEW, Right.ADMIN}, None), session(SECOND_FACTOR))


@pytest.mark.parametrize(
    ("actor", "permission", "service", "expected"),
    [
        (None, PUBLIC, None, ALLOW),
        (None, SIGNED_IN, None, UNAUTH),
        (None, VIEW_SERVICE, A, UNAUTH),
        (None, SECOND_FACTOR_STEP, None, UNAUTH),
        (VIEWER_A, VIEW_SERVICE, A, ALLOW),
        (VIEWER_A, VIEW_SERVICE, B, FORBID),
        (VIEWER_A, VIEW_SERVICE, None, FORBID),
        (VIEWER_A, RECORD, A, FORBID),
        (VIEWER_A, ADMIN, None, FORBID),
        (VIEWER_A, LIST_SERVICES, None, ALLOW),
        (VIEWER_A, SECOND_FACTOR_STEP, None, FORBID),
        (VIEWER_A, HAS_SESSION, None, ALLOW),
        (ADMIN_ONLY, ADMIN, None, ALLOW),
        (ADMIN_ONLY, VIEW_SERVICE, A, FORBID),  # administering accounts shows no care data
        (ADMIN_ONLY, LIST_SERVICES, None, FORBID),
        (HALF, SECOND_FACTOR_STEP, None, ALLOW),
        (HALF, HAS_SESSION, None, ALLOW),
        (HALF, SIGNED_IN, None, UNAUTH),
        (HALF, ADMIN, None, UNAUTH),
        (HALF, VIEW_SERVICE, A, UNAUTH),
    ],
)
def test_decide(actor: Any, permission: Any, service: str | None, expected: Decision) -> None:
    assert decide(actor, permission, service) is expected


def test_every_permission_is_named_once_and_every_right_has_a_permission() -> None:
    assert len(PERMISSIONS) == len({p.name for p in PERMISSIONS.values()})
    assert {p.right for p in PERMISSIONS.values() if p.right} == set(Right)


@pytest.mark.parametrize(
    ("owner_services", "token_services", "expected"),
    [(None, None, None), (None, {A}, {A}), ({A, B}, None, {A, B}), ({A, B}, {A}, {A}), ({A}, {B}, set())],
)
def test_a_token_never_exceeds_its_owner(owner_services: Any, token_services: Any, expected: Any) -> None:
    owner = user({Right.VIEW}, owner_services)
    actor = token_actor(owner, token({Right.VIEW, Right.ADMIN}, token_services))
    assert actor.rights == {Right.VIEW}  # the owner lost admin, or never had it
    assert actor.services == (frozenset(expected) if expected is not None else None)


@given(st.text())
def test_tilde_encoding_round_trips_any_name_and_never_makes_a_slash(name: str) -> None:
    encoded = tilde_encode(name)
    assert "/" not in encoded and "%" not in encoded and "." not in encoded
    assert tilde_decode(encoded) == name


def test_tilde_encoding_of_names_people_use() -> None:
    assert tilde_encode("Harbour Home Care") == "Harbour+Home+Care"
    assert tilde_encode("Quayside / North & East") == "Quayside+~2F+North+~26+East"
    assert tilde_encode("Ty Môr") == "Ty+M~C3~B4r"


@pytest.mark.parametrize("segment", ["a%2Fb", "a/b", "~ZZ", "~2", "a.b", "~FF~FE"])
def test_segments_that_are_not_tilde_encoded_are_refused(segment: str) -> None:
    with pytest.raises(NameEncodingError):
        tilde_decode(segment)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/services/A?as_of=2026-03-31", "/services/A?as_of=2026-03-31"),
        ("/admin", "/admin"),
        (None, "/services"),
        ("", "/services"),
        ("https://evil.example/", "/services"),
        ("//evil.example", "/services"),
        ("/\\evil.example", "/services"),
        ("\\\\evil.example", "/services"),
        ("/services\r\nSet-Cookie: x", "/services"),
        ("javascript:alert(1)", "/services"),
        ("/sign-in?next=//evil", "/services"),
        ("/sign-out", "/services"),
    ],
)
def test_sign_in_redirects_only_within_the_site(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_csrf_tokens_must_match_exactly_and_never_when_empty() -> None:
    assert tokens_match("abc", "abc")
    assert not tokens_match("abc", "abd")
    assert not tokens_match("", "")
    assert not tokens_match(None, None)
    assert not tokens_match("abc", None)


def test_strict_transport_security_is_sent_only_when_served_behind_tls() -> None:
    assert b"strict-transport-security" not in dict(security_headers(WebConfig()))
    assert dict(security_headers(WebConfig(hsts=True)))[b"strict-transport-security"].startswith(b"max-age=")
