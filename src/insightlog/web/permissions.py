"""Permissions as data, checked in one place (after Datasette's ``Permission`` registry).

Each route declares one ``Permission`` (``insightlog.web.guard.guarded``); the guard resolves the
request's actor and calls ``decide`` before the view runs. A permission names the right it needs,
whether it applies to one service (taken from the route's ``service`` path parameter), and which
sessions may use it: none (public), a session that has passed only the password (the second-factor
step), any session, or a fully signed-in one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from insightlog.accounts.rights import Right

if TYPE_CHECKING:
    from insightlog.accounts.store import Session, Token, User


class Stage(str, Enum):
    """Which actors a permission is for."""

    PUBLIC = "public"  # anyone, signed in or not
    SECOND_FACTOR = "second_factor"  # an account that passed its password and owes a second factor
    ANY_SESSION = "any_session"  # either of the above or a full session
    SIGNED_IN = "signed_in"  # fully signed in


@dataclass(frozen=True)
class Permission:
    name: str
    description: str
    stage: Stage = Stage.SIGNED_IN
    right: Right | None = None
    takes_service: bool = False


PUBLIC = Permission("public", "anyone; no account needed", Stage.PUBLIC)
SECOND_FACTOR_STEP = Permission(
    "second-factor-step", "an account that has given its password, for its second factor", Stage.SECOND_FACTOR
)
HAS_SESSION = Permission(
    "has-session", "an account with a session, complete or awaiting its second factor", Stage.ANY_SESSION
)
SIGNED_IN = Permission("signed-in", "any signed-in account")
LIST_SERVICES = Permission(
    "list-services", "accounts with the view right; each sees only its own services", right=Right.VIEW
)
VIEW_SERVICE = Permission("view-service", "the view right on this service", right=Right.VIEW, takes_service=True)
RECORD = Permission("record", "the record right on this service", right=Right.RECORD, takes_service=True)
JUDGE = Permission("judge", "the judge right on this service", right=Right.JUDGE, takes_service=True)
AUDIT_SERVICE = Permission("audit-service", "the audit right on this service", right=Right.AUDIT, takes_service=True)
ADMIN = Permission("admin", "the admin right", right=Right.ADMIN)

PERMISSIONS: dict[str, Permission] = {
    p.name: p
    for p in (
        PUBLIC,
        SECOND_FACTOR_STEP,
        HAS_SESSION,
        SIGNED_IN,
        LIST_SERVICES,
        VIEW_SERVICE,
        RECORD,
        JUDGE,
        AUDIT_SERVICE,
        ADMIN,
    )
}


@dataclass(frozen=True)
class Actor:
    """Who is making a request: an account through a session or an API token, with the rights and
    services the request may use (a token's are its own, within its owner's)."""

    user: User
    rights: frozenset[Right]
    services: frozenset[str] | None
    via: str  # "session" or "token"
    complete: bool  # False: a session still awaiting its second factor
    session: Session | None = None
    token: Token | None = None

    def may_see(self, service: str) -> bool:
        return self.services is None or service in self.services

    def visible(self, services: list[str]) -> list[str]:
        return [s for s in services if self.may_see(s)]


def session_actor(user: User, session: Session) -> Actor:
    from insightlog.accounts.store import FULL

    return Actor(user, user.rights, user.services, "session", session.stage == FULL, session=session)


def token_actor(user: User, token: Token) -> Actor:
    rights = token.rights & user.rights
    if user.services is None:
        services = token.services
    else:
        services = user.services if token.services is None else token.services & user.services
    return Actor(user, rights, services, "token", True, token=token)


class Decision(str, Enum):
    ALLOW = "allow"
    UNAUTHENTICATED = "unauthenticated"  # sign in first
    FORBIDDEN = "forbidden"  # signed in, but not allowed


def decide(actor: Actor | None, permission: Permission, service: str | None = None) -> Decision:
    """The one permission check: may ``actor`` do what ``permission`` names (on ``service``)?"""
    if permission.stage is Stage.PUBLIC:
        return Decision.ALLOW
    if actor is None:
        return Decision.UNAUTHENTICATED
    if permission.stage is Stage.SECOND_FACTOR:
        return Decision.ALLOW if not actor.complete else Decision.FORBIDDEN
    if permission.stage is Stage.ANY_SESSION:
        return Decision.ALLOW
    if not actor.complete:
        return Decision.UNAUTHENTICATED
    if permission.right is not None and permission.right not in actor.rights:
        return Decision.FORBIDDEN
    if permission.takes_service and (service is None or not actor.may_see(service)):
        return Decision.FORBIDDEN
    return Decision.ALLOW
