"""Removing rows the store itself cannot vouch for: a stored checkpoint, a snapshot, everything
after an older checkpoint, or re-signing every checkpoint with another key. Each is detected
with the right message by what verify is given from outside the store (the checkpoint file,
the provider's public key, the head it saw last); what plain verify can see without them is
tested too. On SQLite and PostgreSQL; figures in test-artifacts/tamper-references-<db>.json."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from insightlog.application.ledger import Ledger
from insightlog.proof.checkpoint import Checkpoint, sign
from insightlog.proof.keys import create_key_files, load_private_key, public_key_pem
from tests.helpers import ROOT, invoke
from tests.integration.proof.conftest import needs_openssl
from tests.integration.proof.tamperkit import INTERVALS, Built, Raw, Tally, build_store, run_verify, state_of
from tests.integration.proof.test_tamper_exhaustive import kind_of

ARTIFACTS = ROOT / "test-artifacts"
TALLY = Tally()


@pytest.fixture
def built(stores: Any, tmp_path: Path, local_tsa: Any, monkeypatch: pytest.MonkeyPatch) -> Built:
    monkeypatch.setattr(Ledger, "snapshotting_intervals", INTERVALS)
    return build_store(stores, tmp_path, local_tsa.url, local_tsa.ca_pem)


@pytest.fixture(scope="module", autouse=True)
def figures() -> Any:
    yield
    if TALLY.families:
        TALLY.write(ARTIFACTS / "tamper-references.json", {"note": "per family and database: tried / held"})


def _messages(report: dict[str, Any]) -> list[str]:
    return [f["message"] for f in report["findings"]]


def _record(built: Built, family: str, held: bool) -> None:
    TALLY.add(f"{'postgres' if built.settings.is_postgres else 'sqlite'} / {family}", "detected" if held else "missed")


def _with(raw: Raw, change: Callable[[], list[Callable[[], None]]], check: Callable[[], None]) -> None:
    undo = change()
    try:
        check()
    finally:
        for step in reversed(undo):
            step()


def _taken(raw: Raw, size: int) -> dict[str, Any]:
    return next(r for r in raw.event_rows() if kind_of(r["topic"]) == "taken" and state_of(r)["size"] == size)


@needs_openssl
def test_deleting_a_stored_checkpoint_is_detected_with_the_outside_file(built: Built) -> None:
    raw = Raw(built.settings)
    try:
        for size in (30, 50, 90):
            checkpoint_rows = [
                r for r in raw.event_rows() if r["oid"] == _taken(raw, size)["oid"]
            ]  # with its co-signature and token

            def delete() -> list[Callable[[], None]]:
                return [raw.delete_event(r) for r in checkpoint_rows]

            def check() -> None:
                report = run_verify(built)
                held = (
                    not report["ok"]
                    and report["first_bad_position"] is None
                    and any(
                        m.startswith(f"outside checkpoint of size {size} ")
                        and "is not among the stored checkpoints" in m
                        for m in _messages(report)
                    )
                )
                _record(built, "delete a stored checkpoint, with the outside file", held)
                assert held, report["findings"]
                # Without the file: SQLite's row ids are dense, so rows taken from before the last one
                # show (here every checkpoint precedes the last write); on PostgreSQL (ids skip on
                # every rolled-back write) the store alone cannot tell.
                alone = run_verify(built, outside=False)
                if not built.settings.is_postgres:
                    held = not alone["ok"] and any(
                        "of the event table are missing (deleted)" in m for m in _messages(alone)
                    )
                    _record(
                        built, "delete a stored checkpoint, without the outside file (SQLite's dense row ids)", held
                    )
                    assert held, alone["findings"]
                else:
                    assert alone["ok"] and any("no outside checkpoint file" in n for n in alone["notes"])

            _with(raw, delete, check)
    finally:
        raw.close()


@needs_openssl
def test_deleting_a_snapshot_row_is_detected_with_and_without_the_outside_file(built: Built) -> None:
    raw = Raw(built.settings)
    try:
        for row in raw.snapshot_rows():
            kind = kind_of(row["topic"])

            def check() -> None:
                for outside in (True, False):
                    report = run_verify(built, outside=outside)
                    label = "the ledger head's snapshot" if kind == "head snapshot" else "the snapshot of service"
                    held = not report["ok"] and any(
                        m.startswith(f"{label}") and f"at version {row['ver']} is missing" in m
                        for m in _messages(report)
                    )
                    _record(built, f"delete a {kind} row, {'with' if outside else 'without'} the outside file", held)
                    assert held, report["findings"]

            _with(raw, lambda: [raw.delete_snapshot(row)], check)
    finally:
        raw.close()


@needs_openssl
def test_truncating_to_each_older_checkpoint_is_detected_by_the_outside_file_or_the_last_head(built: Built) -> None:
    raw = Raw(built.settings)
    try:
        last = run_verify(built)
        head = f"{last['events']}:{last['root_hash']}"
        for size in (30, 50, 65, 85):
            cut = _taken(raw, size)["nid"]
            after = [r for r in raw.event_rows() if r["nid"] > cut]
            versions: dict[str, int] = {}
            for r in raw.event_rows():
                if r["nid"] <= cut:
                    versions[r["oid"]] = max(versions.get(r["oid"], 0), r["ver"])
            later_snapshots = [s for s in raw.snapshot_rows() if s["ver"] > versions.get(s["oid"], 0)]

            def truncate() -> list[Callable[[], None]]:
                # What the owner does to go back to the store as it stood at checkpoint ``size``:
                # every later row, and every snapshot of a later version.
                return [raw.delete_event(r) for r in after] + [raw.delete_snapshot(s) for s in later_snapshots]

            def check() -> None:
                report = run_verify(built)
                held = (
                    not report["ok"]
                    and report["first_bad_position"] == size + 1
                    and any(
                        f"the store holds {size}: positions {size + 1}..90 were removed" in m for m in _messages(report)
                    )
                )
                _record(built, "truncate to an older checkpoint, with the outside file", held)
                assert held, report["findings"]
                assert report["events_not_yet_anchored"] == 0 and report["anchored_size"] == size  # never negative
                by_head = run_verify(built, ["--head", head], outside=False)
                held = (
                    not by_head["ok"]
                    and by_head["first_bad_position"] == size + 1
                    and any(
                        "(--head 91)" in m and f"positions {size + 1}..91 were removed" in m for m in _messages(by_head)
                    )
                )
                _record(built, "truncate to an older checkpoint, without the file, with --head", held)
                assert held, by_head["findings"]
                # Alone, the older store is consistent with itself: verify says what it could not see.
                alone = run_verify(built, outside=False)
                assert alone["ok"] and alone["events"] == size
                assert any(
                    "cannot show that recent events, checkpoints or snapshots were removed" in n for n in alone["notes"]
                )

            _with(raw, truncate, check)
    finally:
        raw.close()


@needs_openssl
def test_re_signing_every_checkpoint_with_another_key_is_detected_by_the_trusted_key_or_the_outside_file(
    built: Built,
) -> None:
    create_key_files(built.directory / "forger.key", built.directory / "forger.key.pub")
    create_key_files(built.directory / "accomplice.key", built.directory / "accomplice.key.pub")
    forger = {
        "provider": load_private_key(built.directory / "forger.key"),
        "witness": load_private_key(built.directory / "accomplice.key"),
    }
    raw = Raw(built.settings)
    try:
        rows = raw.event_rows()
        bodies = {}
        for r in rows:
            if kind_of(r["topic"]) == "taken":
                s = state_of(r)
                when = datetime.fromisoformat(s["timestamp"].replace("Z", "+00:00"))
                bodies[r["oid"]] = Checkpoint(s["origin"], s["size"], bytes.fromhex(s["root_hash"]), when)

        def resign() -> list[Callable[[], None]]:
            undo = []
            for r in rows:
                if kind_of(r["topic"]) not in ("taken", "cosigned"):
                    continue
                data = state_of(r)
                private = forger[data["role"]]
                signature = sign(bodies[r["oid"]], private, data["role"])
                data.update(key_id=signature.key_id, signature=base64.b64encode(signature.signature).decode("ascii"),
                            public_key_pem=public_key_pem(private.public_key()).decode("ascii"))  # fmt: skip
                undo.append(raw.set_event(r, {**r, "state": orjson.dumps(data)}))
            return undo

        def check() -> None:
            bound = run_verify(built, outside=False)  # with the trusted provider and witness keys
            held = not bound["ok"] and any(
                "which is not a trusted provider key (--trusted-key)" in m for m in _messages(bound)
            )
            _record(built, "re-sign with another key, with --trusted-key", held)
            assert held, bound["findings"]
            by_file = run_verify(built, trusted=False)
            held = not by_file["ok"] and any(
                m.startswith("outside checkpoint of size 30 ") and "differs from the stored checkpoint of size 30" in m
                for m in _messages(by_file)
            )
            _record(built, "re-sign with another key, with the outside file", held)
            assert held, by_file["findings"]
            alone = run_verify(built, outside=False, trusted=False)
            assert alone["ok"] and any("--trusted-key" in n for n in alone["notes"])  # what it cannot see alone

        _with(raw, resign, check)
    finally:
        raw.close()


@needs_openssl
def test_verify_says_how_many_events_are_not_yet_anchored_and_never_prints_position_none(built: Built) -> None:
    args = [
        *built.args,
        "--read-only",
        "verify",
        "--checkpoint",
        str(built.outside),
        "--trusted-key",
        str(built.provider_pub),
    ]
    ok = invoke(args)
    assert ok.exit_code == 0, ok.output
    assert "1 event(s) after the newest outside checkpoint (size 90) are not yet anchored." in ok.output
    assert "Head: 91:" in ok.output
    raw = Raw(built.settings)
    try:
        row = _taken(raw, 50)
        data = state_of(row)
        data["signature"] = base64.b64encode(b"\x00" * 64).decode("ascii")
        undo = raw.set_event(row, {**row, "state": orjson.dumps(data)})
        try:
            bad = invoke(args)
        finally:
            undo()
    finally:
        raw.close()
    assert bad.exit_code == 1
    assert bad.output.splitlines()[0].startswith("FAILED: stored checkpoint of size 50 ")
    assert "position None" not in bad.output and "None" not in bad.output.splitlines()[0]
    empty = invoke([*built.args, "--read-only", "verify", "--head", "not-a-head"])
    assert empty.exit_code == 1 and "--head 'not-a-head'" in empty.output and "Traceback" not in empty.output
    json.loads(invoke([*args, "--json"]).stdout)  # the JSON form parses
