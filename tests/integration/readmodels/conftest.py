"""Fixtures for the read-model tests: a settable ledger clock and stores holding the worked example."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from insightlog.storage.settings import StoreSettings
from tests.helpers import HARBOUR

SERVICE = "Harbour Home Care"
END_OF_JUNE = datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)
END_OF_MARCH = datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)


class Clock:
    """A ledger clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def harbour_objects() -> list[dict[str, Any]]:
    return [json.loads(line) for line in HARBOUR.read_text().splitlines() if line.strip()]


def harbour_text(until: str | None = None) -> list[str]:
    """The example's lines, optionally only those recorded up to ``until`` (ISO text)."""
    return [json.dumps(o) for o in harbour_objects() if until is None or o["recorded_at"] <= until]


@dataclass
class Store:
    settings: StoreSettings
    ledger: Any
    clock: Clock
    models: Any
    opened: list[Any]

    def read_only_models(self) -> Any:
        from dataclasses import replace

        from insightlog.application.ledger import open_ledger
        from insightlog.projections.readmodels import ReadModels

        settings = replace(self.settings, read_only=True)
        ledger = open_ledger(settings, clock=self.clock)
        models = ReadModels(ledger, settings)
        self.opened += [models, ledger]
        return models


@pytest.fixture
def make_store(stores, ledger_factory) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """Make a store (both backends) with a settable clock and its read models."""
    from insightlog.projections.readmodels import ReadModels

    made: list[Any] = []

    def make(now: datetime = END_OF_JUNE, *, chunk_size: int | None = None) -> Store:
        settings = stores.new()
        clock = Clock(now)
        ledger = ledger_factory(settings, clock=clock)
        models = ReadModels(ledger, settings, chunk_size=chunk_size) if chunk_size else ReadModels(ledger, settings)
        made.append(models)
        return Store(settings, ledger, clock, models, made)

    yield make
    for opened in made:
        opened.close()


@pytest.fixture
def harbour(make_store) -> Store:  # type: ignore[no-untyped-def]
    """The worked example imported whole, with the ledger clock at the end of June 2026."""
    store = make_store(END_OF_JUNE)
    store.ledger.import_lines(harbour_text(), source_name="harbour_home_care.jsonl")
    return store
