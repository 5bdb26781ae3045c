"""A site for the web tests: the worked example and a second service in a fresh store (SQLite and
PostgreSQL), accounts with cheap hashing and a clock the test moves, and in-process HTTP clients."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

with warnings.catch_warnings():
    # Starlette's test client works on httpx and warns that a successor exists; nothing to act on here.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from insightlog.accounts.passwords import TEST_PARAMETERS
from insightlog.accounts.rights import Right
from insightlog.accounts.store import Accounts, AccountsPolicy, By, User, accounts_engine
from insightlog.storage.settings import StoreSettings
from insightlog.web.app import create_app
from insightlog.web.config import WebConfig
from insightlog.web.usecases import LedgerUseCases
from tests.helpers import harbour_lines

SERVICE = "Harbour Home Care"
# A second service whose name needs tilde-encoding ("/" and "&") and whose first theme's label is
# a stored script, as a hostile or careless recorder might type it.
OTHER = "Quayside Care / North & East"
SCRIPT = '<script>alert("stored")</script>'
PASSWORD = "correct horse battery staple"
CLI = By(via="cli", operator="cli:test")
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


class Clock:
    """The accounts' clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 7, 1, 9, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def other_service_lines() -> list[dict[str, Any]]:
    rows = []
    for row in harbour_lines():
        row = {**row, "service": OTHER, "event_id": "QCN-" + row["event_id"]}
        payload = dict(row["payload"])
        for key in ("supersedes", "amends", "withdraws", "restores", "stated_position_ref"):
            if isinstance(payload.get(key), str):
                payload[key] = "QCN-" + payload[key]
        if row["kind"] == "ThemeDefined" and row["theme"] == "medicines":
            payload["label"] = SCRIPT + " Medicines"
        row["payload"] = payload
        rows.append(row)
    return rows


@dataclass
class Site:
    settings: StoreSettings
    accounts: Accounts
    usecases: LedgerUseCases
    clock: Clock
    app: Any
    clients: list[TestClient] = field(default_factory=list)

    def client(self) -> TestClient:
        c = TestClient(self.app, base_url="https://testserver", follow_redirects=False, raise_server_exceptions=True)
        self.clients.append(c)
        return c

    def add(
        self,
        name: str,
        *,
        role: str = "quality_lead",
        rights: tuple[str, ...] = ("view",),
        services: tuple[str, ...] | None = (SERVICE,),
    ) -> User:
        return self.accounts.add_user(
            name, f"ID-{name.replace(' ', '')}", role, {Right(r) for r in rights}, services, PASSWORD, by=CLI
        )

    def csrf(self, client: TestClient, path: str = "/sign-in") -> str:
        page = client.get(path)
        if page.status_code == 303:  # signed in already: any page's sign-out form has the token
            page = client.get(page.headers["location"])
        match = CSRF_INPUT.search(page.text)
        assert match, f"no CSRF field on {path} ({page.status_code})"
        return match.group(1)

    def sign_in(self, client: TestClient, name: str, password: str = PASSWORD, *, next_path: str = "/services") -> Any:
        token = self.csrf(client)
        return client.post(
            "/sign-in", data={"name": name, "password": password, "csrf_token": token, "next": next_path}
        )

    def signed_in(self, name: str, **kwargs: Any) -> TestClient:
        """A client signed in as a new account (kwargs as for ``add``)."""
        self.add(name, **kwargs)
        client = self.client()
        response = self.sign_in(client, name)
        assert response.status_code == 303, response.text
        return client

    def events(self) -> list[str]:
        return [r["event"] for r in reversed(self.accounts.access_log(limit=10_000))]

    def log_rows(self, event: str | None = None) -> list[dict[str, Any]]:
        return list(reversed(self.accounts.access_log(limit=10_000, event=event)))

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of the accounts tables but the access log (to show nothing was written)."""
        from sqlalchemy import select

        from insightlog.accounts import tables

        with self.accounts.engine.connect() as conn:
            return {
                t.name: sorted(tuple(r) for r in conn.execute(select(t)))
                for t in (tables.users, tables.sessions, tables.tokens, tables.settings)
            }


def make_site(
    settings: StoreSettings, config: WebConfig | None = None, ledger_clock: Any = None, **house_config: Any
) -> Site:
    """``ledger_clock``: the ledger's own clock (default the system's); ``house_config``: other
    ``Config`` fields (a signing key, its checkpoint file)."""
    from insightlog.bootstrap import Config, House

    house = House(Config(store=settings, clock=ledger_clock, **house_config))
    house.usecases.import_lines([json.dumps(r) for r in harbour_lines()], source_name="harbour.jsonl")
    house.usecases.import_lines([json.dumps(r) for r in other_service_lines()], source_name="other.jsonl")
    usecases = LedgerUseCases(house)
    clock = Clock()
    accounts = Accounts(accounts_engine(settings), policy=AccountsPolicy(hashing=TEST_PARAMETERS), clock=clock)
    accounts.ensure()
    app = create_app(accounts, usecases, config or WebConfig())
    return Site(settings, accounts, usecases, clock, app)


@pytest.fixture
def site(stores: Any) -> Iterator[Site]:
    s = make_site(stores.new())
    yield s
    for c in s.clients:
        c.close()
    s.accounts.close()
    s.usecases.close()
