"""Encryption at rest (INSIGHTLOG_CIPHER_KEY): the stored state is not plaintext, everything else
works as on a plain store, and a missing, wrong or malformed key is one clear line."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from insightlog.application.ledger import open_ledger, read_file_lines
from insightlog.application.maintenance import migrate
from insightlog.storage.cipher import CipherKeyError, new_key
from insightlog.storage.settings import StoreSettings
from tests.e2e.scale.conftest import export_bytes, pg_connect, store_args
from tests.helpers import HARBOUR, invoke

SECRETS = (b"Harbour Home Care", b"charts", b"registered_manager", b"RM-1", b"medicines")
FIXED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def clock() -> datetime:
    return FIXED


def raw_state(settings: StoreSettings) -> list[bytes]:
    """Everything the database holds for the events and snapshots, as stored."""
    if settings.sqlite_path:
        path = Path(settings.sqlite_path)
        return [p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists()]
    with pg_connect(settings.database_url) as conn:
        rows = conn.execute(
            "SELECT state FROM insightlog_events UNION ALL SELECT state FROM insightlog_snapshots"
        ).fetchall()
    return [bytes(r[0]) for r in rows]


@pytest.fixture
def pair(stores) -> tuple[StoreSettings, StoreSettings]:
    """An encrypted and a plain store holding the same import, made at the same clock time."""
    key = new_key()
    encrypted = replace(stores.new(), cipher_key=key)
    plain = stores.new()
    for settings in (encrypted, plain):
        ledger = open_ledger(settings, clock=clock)
        ledger.import_lines(read_file_lines(HARBOUR), source_name=HARBOUR.name)
        ledger.close()
    return encrypted, plain


def test_new_key_is_base64_of_32_random_bytes() -> None:
    result = invoke(["db", "new-key"])
    assert result.exit_code == 0
    assert len(base64.b64decode(result.output.strip())) == 32
    assert invoke(["db", "new-key"]).output != result.output


def test_an_encrypted_store_holds_no_plaintext_and_reads_like_a_plain_one(pair, monkeypatch) -> None:
    encrypted, plain = pair
    # Check no payload or envelope text is in the database, while the plain store shows it.
    assert not any(secret in blob for blob in raw_state(encrypted) for secret in SECRETS)
    assert any(SECRETS[0] in blob for blob in raw_state(plain))
    # Check exports (with provenance) are identical, and so are analysis and verification.
    enc_ledger, plain_ledger = open_ledger(encrypted), open_ledger(plain)
    try:
        assert export_bytes(enc_ledger, with_provenance=True) == export_bytes(plain_ledger, with_provenance=True)
        assert enc_ledger.head().frontier == plain_ledger.head().frontier
    finally:
        enc_ledger.close()
        plain_ledger.close()
    outputs = []
    for settings in (encrypted, plain):
        if settings.cipher_key:
            monkeypatch.setenv("INSIGHTLOG_CIPHER_KEY", settings.cipher_key)
        else:
            monkeypatch.delenv("INSIGHTLOG_CIPHER_KEY", raising=False)
        args = store_args(settings)
        analysis = invoke([*args, "analyse", "--service", "Harbour Home Care", "--as-of", "2026-03-31", "--json"])
        verify = invoke([*args, "verify", "--json"])
        history = invoke([*args, "history", "--service", "Harbour Home Care", "--json"])
        assert analysis.exit_code == verify.exit_code == history.exit_code == 0, analysis.output + verify.output
        assert json.loads(verify.output)["ok"] is True
        outputs.append((analysis.output, history.output))
    assert outputs[0] == outputs[1]


def test_a_missing_wrong_or_malformed_key_is_one_clear_line(pair, monkeypatch) -> None:
    encrypted, plain = pair
    cases = [
        (None, encrypted, "events are encrypted; set INSIGHTLOG_CIPHER_KEY"),
        (new_key(), encrypted, "does not decrypt this store's events (wrong key?)"),
        ("not-a-key", encrypted, "is not base64 of 16, 24 or 32 bytes"),
        (encrypted.cipher_key, plain, "events are not encrypted but INSIGHTLOG_CIPHER_KEY is set"),
    ]
    for key, settings, message in cases:
        if key is None:
            monkeypatch.delenv("INSIGHTLOG_CIPHER_KEY", raising=False)
        else:
            monkeypatch.setenv("INSIGHTLOG_CIPHER_KEY", key)
        for command in (["export"], ["services"], ["history", "--service", "Harbour Home Care"]):
            result = invoke([*store_args(settings), *command])
            assert result.exit_code == 1, result.output
            lines = result.output.strip().splitlines()
            assert len(lines) == 1 and message in lines[0], result.output
    # Check the API raises the named error too.
    ledger = open_ledger(replace(encrypted, cipher_key=new_key()))
    try:
        with pytest.raises(CipherKeyError):
            list(ledger.all_entries())
    finally:
        ledger.close()


def test_an_encrypted_store_migrates_to_an_encrypted_store(pair, tmp_path: Path) -> None:
    encrypted, _ = pair
    target_settings = StoreSettings(sqlite_path=str(tmp_path / "copy.sqlite"), cipher_key=encrypted.cipher_key)
    source, target = open_ledger(encrypted), open_ledger(target_settings)
    try:
        report = migrate(source, target)
        assert report.copied == 70
        assert export_bytes(target, with_provenance=True) == export_bytes(source, with_provenance=True)
    finally:
        source.close()
        target.close()
    assert not any(secret in blob for blob in raw_state(target_settings) for secret in SECRETS)
    with pytest.raises(CipherKeyError):
        ledger = open_ledger(StoreSettings(**{**asdict(target_settings), "cipher_key": None}))
        try:
            ledger.head_size()
        finally:
            ledger.close()
