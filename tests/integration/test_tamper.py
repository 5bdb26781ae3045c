"""Tampering done directly in the database, with the guards bypassed, is caught by verify with the
right first bad position — on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from insightlog.application.ledger import ENTRY_TOPIC, read_file_lines
from insightlog.application.proofs import KEY_TOPIC, load_outside, take_checkpoint, verify
from tests.helpers import HARBOUR, harbour_lines, invoke, write_jsonl


class RawStore:
    """Direct access to the stored events, triggers bypassed, as a tamperer would have."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        if settings.is_postgres:
            import psycopg

            self.conn = psycopg.connect(settings.database_url, autocommit=True)
            self.conn.execute("SET session_replication_role = replica")  # triggers off
            self.table, self.key = "insightlog_events", "notification_id"
        else:
            self.conn = sqlite3.connect(settings.sqlite_path, isolation_level=None)
            for op in ("update", "delete"):
                self.conn.execute(f"DROP TRIGGER IF EXISTS insightlog_refuse_{op}_stored_events")
            self.table, self.key = "stored_events", "rowid"

    def rows(self, topic: str) -> list[tuple[int, Any, int, bytes]]:
        cur = self.conn.execute(
            f"SELECT {self.key}, originator_id, originator_version, state FROM {self.table} WHERE topic = %s ORDER BY {self.key}".replace(
                "%s", "%s" if self.settings.is_postgres else "?"
            ),
            (topic,),
        )
        return [(r[0], r[1], r[2], bytes(r[3])) for r in cur.fetchall()]

    def entry_row(self, position: int) -> tuple[int, Any, int, bytes]:
        return next(r for r in self.rows(ENTRY_TOPIC) if json.loads(r[3])["position"] == position)

    def _p(self, sql: str) -> str:
        return sql if self.settings.is_postgres else sql.replace("%s", "?")

    def set_state(self, key: int, state: bytes) -> None:
        self.conn.execute(self._p(f"UPDATE {self.table} SET state = %s WHERE {self.key} = %s"), (state, key))

    def delete(self, key: int) -> None:
        self.conn.execute(self._p(f"DELETE FROM {self.table} WHERE {self.key} = %s"), (key,))

    def insert(self, originator_id: Any, version: int, topic: str, state: bytes) -> None:
        self.conn.execute(
            self._p(
                f"INSERT INTO {self.table} (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)"
            ),
            (originator_id, version, topic, state),
        )

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def signed_store(ledger_factory, stores, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The worked example, checkpointed with a provider key into an outside file."""
    from insightlog.proof.keys import create_key_files

    settings = stores.new()
    ledger = ledger_factory(settings)
    ledger.import_lines(read_file_lines(HARBOUR), source_name=HARBOUR.name)
    create_key_files(tmp_path / "provider.key", tmp_path / "provider.key.pub")
    take_checkpoint(ledger, tmp_path / "provider.key", outside_file=tmp_path / "outside.jsonl")
    raw = RawStore(settings)
    yield ledger, raw, tmp_path
    raw.close()


def _verify(ledger, tmp_path):  # type: ignore[no-untyped-def]
    return verify(ledger, outside=load_outside(tmp_path / "outside.jsonl"))


def test_an_untouched_store_verifies(signed_store) -> None:
    ledger, _, tmp_path = signed_store
    report = _verify(ledger, tmp_path)
    assert report.ok, report.findings
    assert (report.events, report.latest_checkpoint_size, report.after_latest_checkpoint) == (70, 70, 0)
    assert report.signatures_checked == 2


def test_changing_one_byte_of_one_payload_is_caught_at_its_position(signed_store) -> None:
    ledger, raw, tmp_path = signed_store
    key, _, _, state = raw.entry_row(46)
    i = state.index(b'"narrative":"') + len(b'"narrative":"')
    raw.set_state(key, state[:i] + bytes([state[i] ^ 0x01]) + state[i + 1 :])
    report = _verify(ledger, tmp_path)
    assert not report.ok and report.first_bad_position == 46


def test_changing_a_recorded_at_is_caught_at_its_position(signed_store) -> None:
    ledger, raw, tmp_path = signed_store
    key, _, _, state = raw.entry_row(46)
    raw.set_state(key, state.replace(b'"recorded_at":"2026-03-20T11:00:00Z"', b'"recorded_at":"2026-02-27T11:00:00Z"'))
    assert b"2026-02-27T11:00:00Z" in raw.entry_row(46)[3]
    report = _verify(ledger, tmp_path)
    assert not report.ok and report.first_bad_position == 46


def test_deleting_an_event_is_caught_at_its_position(signed_store) -> None:
    ledger, raw, tmp_path = signed_store
    raw.delete(raw.entry_row(33)[0])
    report = _verify(ledger, tmp_path)
    assert not report.ok and report.first_bad_position == 33


def test_inserting_an_event_is_caught(signed_store) -> None:
    ledger, raw, tmp_path = signed_store
    _, originator, version, state = raw.entry_row(70)
    forged = json.loads(state)
    forged["entry"]["event_id"] = "FORGED-1"
    forged["position"] = 71
    forged["originator_version"] = version + 1
    raw.insert(originator, version + 1, ENTRY_TOPIC, json.dumps(forged).encode())
    report = _verify(ledger, tmp_path)
    assert not report.ok and report.first_bad_position == 71


def test_swapping_two_events_is_caught_at_the_first_that_differs(signed_store) -> None:
    ledger, raw, tmp_path = signed_store
    k30, _, _, s30 = raw.entry_row(30)
    k40, _, _, s40 = raw.entry_row(40)
    raw.set_state(k30, s40)
    raw.set_state(k40, s30)
    report = _verify(ledger, tmp_path)
    assert not report.ok and report.first_bad_position == 30


def test_truncating_the_tail_is_caught_by_the_checkpoint(signed_store) -> None:
    ledger, raw, tmp_path = signed_store
    for key, _, _, state in raw.rows(ENTRY_TOPIC) + raw.rows(KEY_TOPIC):
        if json.loads(state)["position"] > 60:
            raw.delete(key)
    report = _verify(ledger, tmp_path)
    assert not report.ok and report.first_bad_position == 61


def test_a_store_rewritten_consistently_is_caught_by_an_outside_checkpoint(
    signed_store, ledger_factory, stores
) -> None:
    ledger, _, tmp_path = signed_store
    # Check: a forger rebuilds the whole log under the same name with one judgement back-dated,
    # every internal commitment consistent, and signs it with a key of their own.
    from insightlog.proof.keys import create_key_files

    entries = list(ledger.all_entries())
    forged = [
        e
        if e.event_id != "HHC-046"
        else type(e)(
            **{
                **{f: getattr(e, f) for f in e.__dataclass_fields__},
                "payload": {**e.payload, "narrative": "agreed on 27 Feb"},
            }
        )
        for e in entries
    ]
    rewritten = ledger_factory(stores.new())
    rewritten.append_preserved(forged, ledger.head().origin)
    create_key_files(tmp_path / "forger.key", tmp_path / "forger.key.pub")
    take_checkpoint(rewritten, tmp_path / "forger.key")
    inside_only = verify(rewritten)
    assert inside_only.ok  # consistent with itself
    report = _verify(rewritten, tmp_path)
    assert not report.ok
    assert any("does not match the stored events" in f.message for f in report.findings)


def test_verify_cli_says_ok_plainly_and_fails_with_the_position(stores, tmp_path: Path) -> None:
    settings = stores.new()
    args = [
        *stores.cli_args(settings),
        "--key",
        str(tmp_path / "k.key"),
        "--checkpoint-file",
        str(tmp_path / "cp.jsonl"),
    ]
    assert invoke([*args, "keys", "init"]).exit_code == 0
    assert invoke([*args, "import", str(HARBOUR)]).exit_code == 0
    ok = invoke([*args, "verify", "--checkpoint", str(tmp_path / "cp.jsonl")])
    assert (
        ok.exit_code == 0
        and "OK: 70 events verified" in ok.output
        and "0 event(s) lie after the newest checkpoint" in ok.output
    )
    extra = harbour_lines()[15]
    extra.update(event_id="LATE-1", recorded_at="2026-07-01T00:00:00Z", observed_at="2026-07-01T00:00:00Z")
    assert (
        invoke([*stores.cli_args(settings), "import", str(write_jsonl(tmp_path / "x.jsonl", [extra]))]).exit_code == 0
    )
    after = invoke([*args[:2], "verify"])
    assert "1 event(s) lie after the newest checkpoint" in after.output
    raw = RawStore(settings)
    raw.delete(raw.entry_row(12)[0])
    raw.close()
    bad = invoke([*args, "verify", "--json"])
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["first_bad_position"] == 12


# --- no false alarm -------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.integration.test_ledger import histories  # noqa: E402


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=histories(), cuts=st.lists(st.integers(min_value=1, max_value=24), max_size=3))
def test_verify_passes_on_random_valid_histories_across_checkpoints(
    tmp_path_factory, rows: list[dict], cuts: list[int]
) -> None:
    from insightlog.application.ledger import open_ledger
    from insightlog.proof.keys import create_key_files
    from insightlog.storage.settings import StoreSettings

    d = tmp_path_factory.mktemp("nofalse")
    create_key_files(d / "k.key", d / "k.key.pub")
    ledger = open_ledger(StoreSettings(sqlite_path=str(d / "s.sqlite")))
    try:
        # Check: import the history in parts, a checkpoint after each part, then verify it all.
        bounds = sorted({c for c in cuts if c < len(rows)} | {0, len(rows)})
        for start, end in itertools.pairwise(bounds):
            part = write_jsonl(d / f"part{start}.jsonl", rows[start:end])
            ledger.import_lines(read_file_lines(part), source_name=part.name)
            take_checkpoint(ledger, d / "k.key", outside_file=d / "outside.jsonl")
        report = verify(ledger, outside=load_outside(d / "outside.jsonl"))
        assert report.ok, report.findings
        assert report.events == len(rows) and report.after_latest_checkpoint == 0
        assert report.checkpoints == len(bounds) - 1
    finally:
        ledger.close()
