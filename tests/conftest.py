"""Shared fixtures: every storage test runs on SQLite and on a throwaway PostgreSQL database.

PostgreSQL is at localhost:5432 (override with INSIGHTLOG_TEST_PG_URL, a server URL without a
database). In CI (CI=true) a PostgreSQL test that cannot connect fails; elsewhere it is skipped
and the run ends by saying so plainly.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from insightlog.storage.settings import StoreSettings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
HARBOUR = EXAMPLES / "harbour_home_care.jsonl"
PG_SERVER = os.environ.get("INSIGHTLOG_TEST_PG_URL", "postgresql://postgres@localhost:5432")

_pg_skipped: list[str] = []
_pg_state: dict[str, object] = {}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _admin_connect():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=3)


def postgres_available() -> str | None:
    """None when the server answers, else the reason."""
    if "reason" not in _pg_state:
        try:
            with _admin_connect():
                pass
            _pg_state["reason"] = None
        except Exception as exc:  # noqa: BLE001
            _pg_state["reason"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return _pg_state["reason"]  # type: ignore[return-value]


def require_postgres(nodeid: str) -> None:
    reason = postgres_available()
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"PostgreSQL is required in CI (CI=true) but did not answer at {PG_SERVER}: {reason}")
    _pg_skipped.append(nodeid)
    pytest.skip(f"PostgreSQL not available at {PG_SERVER}: {reason}")


def create_pg_database() -> str:
    name = f"insightlog_test_{uuid.uuid4().hex[:12]}"
    with _admin_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_pg_database(name: str) -> None:
    with _admin_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class StoreFactory:
    """Makes fresh, empty stores of one backend; cleans them up afterwards."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        self.tmp_path = tmp_path
        self.databases: list[str] = []
        self.count = 0

    def new(self, *, created: bool = True) -> StoreSettings:
        """A fresh store: an empty ledger (schema created, no events), or with ``created=False``
        only a place where none is yet (a path with no file, a database with no tables)."""
        self.count += 1
        if self.backend == "sqlite":
            settings = StoreSettings(sqlite_path=str(self.tmp_path / f"store{self.count}.sqlite"))
        else:
            name = create_pg_database()
            self.databases.append(name)
            settings = StoreSettings(database_url=f"{PG_SERVER}/{name}")
        if created:
            from insightlog.application.ledger import open_ledger

            open_ledger(settings).close()
        return settings

    def cli_args(self, settings: StoreSettings) -> list[str]:
        if settings.database_url:
            return ["--database-url", settings.database_url]
        return ["--db", str(settings.sqlite_path)]

    def cleanup(self) -> None:
        for name in self.databases:
            drop_pg_database(name)


@pytest.fixture(autouse=True)
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test runs in an empty working directory with no insightlog settings from outside, so
    nothing it does (a default key, checkpoint file or store) lands in the checkout."""
    for name in list(os.environ):
        if name.startswith("INSIGHTLOG_") and name != "INSIGHTLOG_TEST_PG_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """A factory of empty stores, once per backend."""
    if request.param == "postgres":
        require_postgres(request.node.nodeid)
    factory = StoreFactory(request.param, tmp_path)
    yield factory
    factory.cleanup()


@pytest.fixture
def pg_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """A factory of empty PostgreSQL stores, for tests of PostgreSQL-only behaviour (mark them
    ``postgres``): required in CI, skipped with a reason elsewhere when the server is absent."""
    require_postgres(request.node.nodeid)
    factory = StoreFactory("postgres", tmp_path)
    yield factory
    factory.cleanup()


@pytest.fixture
def store(stores: StoreFactory) -> StoreSettings:
    """One empty store, once per backend."""
    return stores.new()


@pytest.fixture
def ledger_factory(stores: StoreFactory):  # type: ignore[no-untyped-def]
    from insightlog.application.ledger import open_ledger

    opened = []

    def make(settings: StoreSettings | None = None, clock=None):  # type: ignore[no-untyped-def]
        settings = settings or stores.new()
        ledger = open_ledger(settings, clock=clock) if clock else open_ledger(settings)
        opened.append(ledger)
        return ledger

    yield make
    for ledger in opened:
        ledger.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    if _pg_skipped:
        terminalreporter.write_line("")
        terminalreporter.write_line(
            f"NOTE: {len(_pg_skipped)} PostgreSQL test(s) were SKIPPED: no PostgreSQL server answered at "
            f"{PG_SERVER} ({postgres_available()}). Only SQLite was tested. Start PostgreSQL, or run in CI "
            "(CI=true) where these tests are required.",
            yellow=True,
            bold=True,
        )


TIERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    """Each test's tier is its folder: tests/unit (in memory, no database, no SQLite file),
    tests/integration (SQLite and PostgreSQL), tests/e2e (CLI processes, browser, scale, bench)."""
    tests = Path(__file__).resolve().parent
    for item in items:
        try:
            tier = Path(str(item.fspath)).resolve().relative_to(tests).parts[0]
        except ValueError:
            continue
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))
