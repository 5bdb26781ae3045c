"""The unit tier: no database server and no SQLite file; a test that opens either fails."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a unit test opened a database; it belongs in tests/integration")

    monkeypatch.setattr(sqlite3, "connect", refuse)
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        return
    monkeypatch.setattr(psycopg, "connect", refuse)
    monkeypatch.setattr(psycopg.Connection, "connect", classmethod(refuse))
