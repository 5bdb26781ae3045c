"""The inspector's verifier loads none of the store's libraries: it must run with only the pack."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

STORE_LIBRARIES = ("eventsourcing", "sqlalchemy", "psycopg", "psycopg_binary", "sqlite3", "_sqlite3")

PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in sys.argv[2:])))
"""


@pytest.mark.parametrize("module", ["insightlog.proof.pack", "insightlog.proof.pack.verify"])
def test_importing_the_pack_verifier_loads_no_store_library(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-I", "-c", PROBE, module, *STORE_LIBRARIES],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_the_probe_does_see_a_store_library_when_one_is_imported() -> None:
    # The probe above can fail: importing the application layer pulls in eventsourcing.
    result = subprocess.run(
        [sys.executable, "-I", "-c", PROBE, "insightlog.application.ledger", *STORE_LIBRARIES],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "eventsourcing" in json.loads(result.stdout)
