"""Keys bind: with the provider's public key from outside the store, a store re-signed with any
other key fails verify, naming the key; the same for witnesses. On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path

import orjson
from eventsourcing.utils import get_topic

from insightlog.aggregates.checkpoints import CheckpointRecord
from insightlog.proof.checkpoint import Checkpoint, sign
from insightlog.proof.keys import WITNESS, create_key_files, key_id, load_private_key, public_key_pem
from tests.helpers import HARBOUR, invoke
from tests.integration.test_tamper import RawStore

TAKEN = get_topic(CheckpointRecord.Taken)
COSIGNED = get_topic(CheckpointRecord.Cosigned)


def _store(stores, tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = stores.new()
    args = [*stores.cli_args(settings), "--key", str(tmp_path / "provider.key"),
            "--checkpoint-file", str(tmp_path / "outside.jsonl")]  # fmt: skip
    assert invoke([*args, "keys", "init"]).exit_code == 0
    assert invoke([*args, "import", str(HARBOUR)]).exit_code == 0  # automatic checkpoint of 70
    return settings, args


def _resign_stored_rows(settings, topic: str, private_path: Path, role: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """What an attacker with the database does: replace the signature and registered public key
    of every stored checkpoint row of ``topic`` with a fresh key's valid signature. Returns its id."""
    private = load_private_key(private_path)
    raw = RawStore(settings)
    try:
        for row_key, _, _, state in raw.rows(topic):
            data = json.loads(state)
            taken = data if topic == TAKEN else None
            checkpoint = _checkpoint_of(raw, data["originator_id"]) if taken is None else _checkpoint(taken)
            signature = sign(checkpoint, private, role or data["role"])
            data.update(key_id=signature.key_id, signature=base64.b64encode(signature.signature).decode("ascii"),
                        public_key_pem=public_key_pem(private.public_key()).decode("ascii"))  # fmt: skip
            raw.set_state(row_key, orjson.dumps(data))  # in the form the ledger writes
    finally:
        raw.close()
    return key_id(private.public_key())


def _checkpoint(taken: dict) -> Checkpoint:  # type: ignore[type-arg]
    return Checkpoint(taken["origin"], taken["size"], bytes.fromhex(taken["root_hash"]),
                      datetime.fromisoformat(taken["timestamp"].replace("Z", "+00:00")))  # fmt: skip


def _checkpoint_of(raw: RawStore, originator_id: str) -> Checkpoint:
    taken = next(json.loads(s) for _, _, _, s in raw.rows(TAKEN) if json.loads(s)["originator_id"] == originator_id)
    return _checkpoint(taken)


def test_a_store_re_signed_with_a_fresh_key_fails_against_the_providers_public_key(stores, tmp_path: Path) -> None:
    settings, _args = _store(stores, tmp_path)
    create_key_files(tmp_path / "fresh.key", tmp_path / "fresh.key.pub")
    fresh = _resign_stored_rows(settings, TAKEN, tmp_path / "fresh.key")
    base = stores.cli_args(settings)
    # Without a key from outside, the re-signed store is consistent with itself: verify cannot tell.
    alone = invoke([*base, "verify", "--json"])
    assert alone.exit_code == 0, alone.output
    assert any("--trusted-key" in note for note in json.loads(alone.stdout)["notes"])
    # With the provider's real public key it fails, naming the key that signed instead.
    bound = invoke([*base, "verify", "--json", "--trusted-key", str(tmp_path / "provider.key.pub")])
    assert bound.exit_code == 1
    messages = [f["message"] for f in json.loads(bound.stdout)["findings"]]
    assert messages == [
        f"stored checkpoint of size 70 ({_taken_time(settings)}): the provider signature is by key {fresh}, "
        "which is not a trusted provider key (--trusted-key)",
        f"stored checkpoint of size 70 ({_taken_time(settings)}): no valid provider signature by a trusted key",
    ]
    text = invoke([*base, "verify", "--trusted-key", str(tmp_path / "provider.key.pub")])
    assert text.exit_code == 1 and fresh in text.output


def test_an_untouched_store_verifies_against_the_providers_public_key_and_the_outside_file(
    stores, tmp_path: Path
) -> None:
    _settings, args = _store(stores, tmp_path)
    report = invoke([*args, "verify", "--json", "--trusted-key", str(tmp_path / "provider.key.pub"),
                     "--checkpoint", str(tmp_path / "outside.jsonl")])  # fmt: skip
    assert report.exit_code == 0, report.output
    body = json.loads(report.stdout)
    assert body["ok"] and body["signatures_checked"] == 2
    assert not any("--trusted-key" in note for note in body["notes"])


def test_a_wholly_rewritten_store_signed_by_a_forger_fails_against_the_providers_key(
    stores,
    ledger_factory,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    from insightlog.application.proofs import take_checkpoint, verify
    from insightlog.proof.keys import load_public_key

    settings, _ = _store(stores, tmp_path)
    original = ledger_factory(settings)
    rewritten = ledger_factory(stores.new())
    rewritten.append_preserved(list(original.all_entries()), original.head().origin)
    create_key_files(tmp_path / "forger.key", tmp_path / "forger.key.pub")
    take_checkpoint(rewritten, tmp_path / "forger.key")
    assert verify(rewritten).ok  # consistent with itself
    provider = load_public_key(tmp_path / "provider.key.pub")
    report = verify(rewritten, trusted_keys={key_id(provider): provider})
    forger = key_id(load_public_key(tmp_path / "forger.key.pub"))
    assert not report.ok and any(forger in f.message for f in report.findings)


def test_a_cosignature_by_an_untrusted_witness_fails_against_the_trusted_witness(stores, tmp_path: Path) -> None:
    settings, args = _store(stores, tmp_path)
    witness_args = [*stores.cli_args(settings), "--key", str(tmp_path / "chair.key")]
    assert invoke([*witness_args, "keys", "init", "--role", "witness"]).exit_code == 0
    assert invoke([*witness_args, "checkpoint", "cosign"]).exit_code == 0
    trusted = [
        "--trusted-key",
        str(tmp_path / "provider.key.pub"),
        "--trusted-witness",
        str(tmp_path / "chair.key.pub"),
    ]
    assert invoke([*args, "verify", *trusted]).exit_code == 0
    create_key_files(tmp_path / "impostor.key", tmp_path / "impostor.key.pub")
    impostor = _resign_stored_rows(settings, COSIGNED, tmp_path / "impostor.key", WITNESS)
    # Consistent with itself, and with the provider's key (the provider's signature is intact).
    assert invoke([*args, "verify", "--trusted-key", str(tmp_path / "provider.key.pub")]).exit_code == 0
    failed = invoke([*args, "verify", "--json", *trusted])
    assert failed.exit_code == 1
    [finding] = json.loads(failed.stdout)["findings"]
    assert finding["message"].endswith(
        f"the witness signature is by key {impostor}, which is not a trusted witness key (--trusted-witness)"
    )


def _taken_time(settings) -> str:  # type: ignore[no-untyped-def]
    raw = RawStore(settings)
    try:
        [(_, _, _, state)] = raw.rows(TAKEN)
    finally:
        raw.close()
    return json.loads(state)["timestamp"]
