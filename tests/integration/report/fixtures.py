"""Fixtures for the report tests: the worked example in a SQLite store, rendered once per as-of."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from insightlog.application.ledger import open_ledger, read_file_lines
from insightlog.storage.settings import StoreSettings
from tests.helpers import HARBOUR
from tests.integration.report.htmlparse import Node, parse

SERVICE = "Harbour Home Care"
EXAMPLES = HARBOUR.parent
EXPECTED = {
    "2026-06-30": EXAMPLES / "harbour_home_care.expected.json",
    "2026-03-31": EXAMPLES / "harbour_home_care.asof-2026-03-31.expected.json",
}
MADE_AT = datetime(2026, 7, 1, 8, 0, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def harbour_ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The worked example imported into a fresh SQLite store (read by every rendering test)."""
    path = tmp_path_factory.mktemp("harbour") / "harbour.sqlite"
    ledger = open_ledger(StoreSettings(sqlite_path=str(path)))
    ledger.import_lines(read_file_lines(HARBOUR), source_name=HARBOUR.name)
    yield ledger
    ledger.close()


@pytest.fixture(scope="session")
def rendered(harbour_ledger: Any) -> dict[str, str]:
    """The service report of the worked example as of each expected document's instant."""
    from insightlog.application.reports import service_report_html
    from insightlog.interchange.timeutil import parse_as_of

    return {day: service_report_html(harbour_ledger, SERVICE, parse_as_of(day), now=MADE_AT) for day in EXPECTED}


@pytest.fixture(scope="session")
def pages(rendered: dict[str, str]) -> dict[str, Node]:
    return {day: parse(text) for day, text in rendered.items()}


@pytest.fixture(scope="session")
def expected() -> dict[str, dict[str, Any]]:
    return {day: json.loads(path.read_text()) for day, path in EXPECTED.items()}
