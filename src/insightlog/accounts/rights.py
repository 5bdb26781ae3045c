"""The rights an account may hold, as data, and the rules on who may hold which.

``record``  record evidence and actions for the services in scope;
``judge``   record leadership judgements (leadership roles only);
``view``    see the services in scope: the governance view, the history;
``audit``   provenance, proofs, evidence packs and exports of the services in scope;
``admin``   manage accounts and tokens, read and export the access log (no service data by itself).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from insightlog.accounts.errors import AccountError
from insightlog.interchange.kinds import ACTOR_ROLES, LEADERSHIP_ROLES


class Right(str, Enum):
    """One application right."""

    RECORD = "record"
    JUDGE = "judge"
    VIEW = "view"
    AUDIT = "audit"
    ADMIN = "admin"


RIGHTS: tuple[Right, ...] = tuple(Right)
DESCRIPTIONS: dict[Right, str] = {
    Right.RECORD: "record evidence and actions for the services in scope",
    Right.JUDGE: "record leadership judgements (leadership roles only)",
    Right.VIEW: "see the governance view and history of the services in scope",
    Right.AUDIT: "see provenance and proofs, download packs and exports of the services in scope",
    Right.ADMIN: "manage accounts and API tokens, read and export the access log",
}
DEFAULT_RIGHTS: tuple[Right, ...] = (Right.VIEW,)
# Rights whose holders must pass a second factor when the provider turns it on.
SECOND_FACTOR_RIGHTS: frozenset[Right] = frozenset({Right.ADMIN})


def parse_rights(text: str | Iterable[str]) -> frozenset[Right]:
    """Rights from ``"record,view"`` or a list of names; an unknown name is an error naming it."""
    names = [n.strip() for n in text.split(",")] if isinstance(text, str) else [str(n).strip() for n in text]
    rights: set[Right] = set()
    for name in names:
        if not name:
            continue
        try:
            rights.add(Right(name.lower()))
        except ValueError:
            known = ", ".join(r.value for r in RIGHTS)
            raise AccountError(f"unknown right {name!r} (rights: {known})") from None
    return frozenset(rights)


def check_role(role: str) -> str:
    """An interchange actor role, or an error listing them."""
    if role not in ACTOR_ROLES:
        raise AccountError(f"unknown role {role!r} (roles: {', '.join(ACTOR_ROLES)})")
    return role


def check_rights_for_role(role: str, rights: Iterable[Right]) -> None:
    """Refuse ``judge`` for a role that is not a leadership role (interchange.md)."""
    if Right.JUDGE in set(rights) and role not in LEADERSHIP_ROLES:
        raise AccountError(
            f"the right 'judge' is for leadership roles only ({', '.join(LEADERSHIP_ROLES)}), not {role!r}"
        )


def needs_second_factor(role: str, rights: Iterable[Right]) -> bool:
    """Whether the provider's second-factor rule covers this account: admins and leadership roles."""
    return role in LEADERSHIP_ROLES or bool(SECOND_FACTOR_RIGHTS & set(rights))


def rights_text(rights: Iterable[Right]) -> str:
    """Rights in their canonical order, comma-separated."""
    held = set(rights)
    return ",".join(r.value for r in RIGHTS if r in held)
