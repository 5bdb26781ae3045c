"""A store written by insightlog 0.1.0 opens, verifies, analyses and exports byte-identically."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import ROOT, invoke

FIXTURE = ROOT / "tests" / "fixtures" / "store-0.1.0"
SERVICE = "Harbour Home Care"


@pytest.fixture
def old_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "store-0.1.0"
    shutil.copytree(FIXTURE, copy)
    monkeypatch.chdir(copy)
    return copy


def test_the_old_store_verifies_against_its_outside_checkpoints_and_key(old_store: Path) -> None:
    result = invoke(
        [
            "--db",
            "store.sqlite",
            "--read-only",
            "verify",
            "--checkpoint",
            "insightlog-checkpoints.jsonl",
            "--trusted-key",
            "insightlog-keys/provider.key.pub",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "OK: 71 events verified" in result.output


@pytest.mark.parametrize(
    ("args", "expected"), [([], "export.jsonl"), (["--with-provenance"], "export-provenance.jsonl")]
)
def test_the_old_store_exports_byte_identically(old_store: Path, args: list[str], expected: str) -> None:
    result = invoke(["--db", "store.sqlite", "--read-only", "export", *args, "-o", "again.jsonl"])
    assert result.exit_code == 0, result.output
    assert (old_store / "again.jsonl").read_bytes() == (old_store / expected).read_bytes()


def test_the_old_store_shows_the_same_history(old_store: Path) -> None:
    # Rows now also say what corrections touch them (interchange 1.1): in a 0.1.0 store, none.
    result = invoke(["--db", "store.sqlite", "--read-only", "history", "--service", SERVICE, "--json"])
    now = json.loads(result.output)
    then = json.loads((old_store / "history.json").read_text())
    assert [{k: row[k] for k in old} for row, old in zip(now, then, strict=False)] == then and len(now) == len(then)
    no_corrections = {"withdrawn": None, "withdraws": None, "corrects": None, "replaced_by": []}
    assert all({k: row[k] for k in no_corrections} == no_corrections for row in now)
    assert all(set(row) == set(old) | set(no_corrections) for row, old in zip(now, then, strict=False))


def test_the_old_store_analyses_as_before_but_for_the_definitions_version(old_store: Path) -> None:
    # 0.1.0 printed insightlog-defs-0.1; the analysis of this history is otherwise unchanged.
    then = json.loads((old_store / "analyse.json").read_text())
    result = invoke(
        ["--db", "store.sqlite", "--read-only", "analyse", "--service", SERVICE, "--as-of", then["as_of"], "--json"]
    )
    now = json.loads(result.output)
    assert {k: v for k, v in now.items() if k != "definitions_version"} == {
        k: v for k, v in then.items() if k != "definitions_version"
    }
    assert list(now) == list(then)


def test_the_old_store_takes_new_events_and_still_verifies(old_store: Path) -> None:
    payload = '{"evidence_score": 3, "evidence_category": "observation", "source_type": "spot_check", "summary": "all signed"}'
    recorded = invoke(
        [
            "--db",
            "store.sqlite",
            "record",
            "SpotCheckRecorded",
            "--service",
            SERVICE,
            "--theme",
            "medicines.mar_charts",
            "--actor-role",
            "deputy_manager",
            "--actor-id",
            "DM-1",
            "--event-id",
            "COMPAT-1",
            "--payload",
            payload,
        ]
    )
    assert recorded.exit_code == 0, recorded.output
    result = invoke(
        [
            "--db",
            "store.sqlite",
            "verify",
            "--checkpoint",
            "insightlog-checkpoints.jsonl",
            "--trusted-key",
            "insightlog-keys/provider.key.pub",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "OK: 72 events verified" in result.output
