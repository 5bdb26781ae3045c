"""Ed25519 key files, checkpoint bodies, signatures and their JSON form."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import stat
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from insightlog.proof.checkpoint import (
    Checkpoint,
    CheckpointFormatError,
    Signature,
    SignedCheckpoint,
    dump_jsonl,
    load_jsonl,
    parse_signed_body,
    sign,
    signed_body,
    verify_signature,
)
from insightlog.proof.keys import (
    PROVIDER,
    WITNESS,
    KeyFileError,
    create_key_files,
    generate_private_key,
    key_id,
    load_private_key,
    load_public_key,
    private_key_file_is_private,
    public_key_info,
    raw_public_key,
    write_private_key,
)

from .conftest import OPENSSL, needs_openssl

ROOT = hashlib.sha256(b"some root").digest()
CHECKPOINT = Checkpoint("store-3f2a", 1234, ROOT, datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC))


def flipped(value: bytes, i: int) -> bytes:
    return value[:i] + bytes([value[i] ^ 0x01]) + value[i + 1 :]


# --------------------------------------------------------------------------- keys


def test_key_files_are_pem_the_private_one_readable_only_by_its_owner(tmp_path: Path) -> None:
    info = create_key_files(tmp_path / "provider.key", tmp_path / "provider.pub")
    private_pem = (tmp_path / "provider.key").read_bytes()
    assert private_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert (tmp_path / "provider.pub").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert stat.S_IMODE(os.stat(tmp_path / "provider.key").st_mode) == 0o600
    assert private_key_file_is_private(tmp_path / "provider.key")
    # Check the key id is SHA-256 of the raw 32-byte public key.
    public = load_public_key(tmp_path / "provider.pub")
    assert len(raw_public_key(public)) == 32
    assert info.key_id == hashlib.sha256(raw_public_key(public)).hexdigest()
    assert len(info.key_id) == 64 and info.short_id == info.key_id[:16]
    assert key_id(load_private_key(tmp_path / "provider.key").public_key()) == info.key_id


def test_the_storable_key_description_holds_no_private_material(tmp_path: Path) -> None:
    info = create_key_files(tmp_path / "k", tmp_path / "k.pub")
    private_pem = (tmp_path / "k").read_bytes()
    stored = orjson.dumps(dataclasses.asdict(info))
    assert set(dataclasses.asdict(info)) == {"key_id", "public_key_pem"}
    assert b"PRIVATE" not in stored
    raw_private = load_private_key(tmp_path / "k").private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    assert raw_private.hex() not in stored.decode() and private_pem not in stored


def test_an_existing_key_file_is_never_overwritten(tmp_path: Path) -> None:
    create_key_files(tmp_path / "k", tmp_path / "k.pub")
    before = (tmp_path / "k").read_bytes()
    with pytest.raises(KeyFileError, match="already exists"):
        create_key_files(tmp_path / "k", tmp_path / "other.pub")
    assert (tmp_path / "k").read_bytes() == before


def test_a_passphrase_encrypts_the_private_key_file(tmp_path: Path) -> None:
    info = create_key_files(tmp_path / "k", tmp_path / "k.pub", passphrase=b"correct horse")
    assert b"ENCRYPTED PRIVATE KEY" in (tmp_path / "k").read_bytes()
    key = load_private_key(tmp_path / "k", b"correct horse")
    assert key_id(key.public_key()) == info.key_id
    with pytest.raises(KeyFileError):
        load_private_key(tmp_path / "k", b"wrong")
    with pytest.raises(KeyFileError):
        load_private_key(tmp_path / "k")


def test_keys_of_another_type_or_missing_files_are_refused(tmp_path: Path) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "ec.key").write_bytes(
        ec_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (tmp_path / "ec.pub").write_bytes(
        ec_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(KeyFileError, match="not an Ed25519"):
        load_private_key(tmp_path / "ec.key")
    with pytest.raises(KeyFileError, match="not Ed25519"):
        load_public_key(tmp_path / "ec.pub")
    with pytest.raises(KeyFileError):
        load_private_key(tmp_path / "missing.key")
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(KeyFileError):
        load_public_key(tmp_path / "junk.pem")


# --------------------------------------------------------------------------- checkpoints


def test_the_signed_body_is_origin_size_base64_root_and_time_on_four_lines() -> None:
    expected = ("store-3f2a\n1234\n" + base64.b64encode(ROOT).decode() + "\n2026-03-31T23:59:59Z\n").encode()
    assert signed_body(CHECKPOINT) == expected == CHECKPOINT.signed_body()
    assert parse_signed_body(expected) == CHECKPOINT


@pytest.mark.parametrize(
    "body",
    [
        b"store\n01\n" + base64.b64encode(ROOT) + b"\n2026-03-31T23:59:59Z\n",
        b"store\n1\n" + base64.b64encode(ROOT) + b"\n2026-03-31T23:59:59Z",
        b"store\n1\n" + base64.b64encode(ROOT[:31]) + b"\n2026-03-31T23:59:59Z\n",
        b"store\n1\n" + base64.b64encode(ROOT) + b"\n2026-03-31 23:59:59\n",
        b"store\n1\n" + base64.b64encode(ROOT) + b"\n2026-03-31T23:59:59Z\nextra\n",
    ],
)
def test_a_body_not_in_canonical_form_is_refused(body: bytes) -> None:
    with pytest.raises(CheckpointFormatError):
        parse_signed_body(body)


@pytest.mark.parametrize(
    "fields",
    [
        {"origin": ""},
        {"origin": "two\nlines"},
        {"size": -1},
        {"root_hash": b"short"},
        {"timestamp": datetime(2026, 3, 31, 12, 0)},
        {"timestamp": datetime(2026, 3, 31, 12, 0, 0, 500, tzinfo=UTC)},
    ],
)
def test_a_malformed_checkpoint_cannot_be_made(fields: dict[str, object]) -> None:
    with pytest.raises(CheckpointFormatError):
        dataclasses.replace(CHECKPOINT, **fields)


def test_a_checkpoint_timestamp_in_another_zone_is_kept_in_utc() -> None:
    local = datetime(2026, 4, 1, 1, 59, 59, tzinfo=timezone(timedelta(hours=2)))
    assert dataclasses.replace(CHECKPOINT, timestamp=local) == CHECKPOINT


def test_a_provider_signature_verifies_and_fails_for_any_change() -> None:
    key = generate_private_key()
    signature = sign(CHECKPOINT, key)
    assert signature.role == PROVIDER and signature.key_id == key_id(key.public_key())
    public = key.public_key()
    assert verify_signature(CHECKPOINT, signature, public)
    for change in (
        {"origin": "store-3f2b"},
        {"size": 1235},
        {"root_hash": flipped(ROOT, 31)},
        {"timestamp": CHECKPOINT.timestamp + timedelta(seconds=1)},
    ):
        assert not verify_signature(dataclasses.replace(CHECKPOINT, **change), signature, public)
    for i in range(64):
        bad = dataclasses.replace(signature, signature=flipped(signature.signature, i))
        assert not verify_signature(CHECKPOINT, bad, public)
    assert not verify_signature(CHECKPOINT, signature, generate_private_key().public_key())


def test_a_witness_co_signs_the_same_body_with_its_own_key() -> None:
    provider, witness = generate_private_key(), generate_private_key()
    signed = SignedCheckpoint(CHECKPOINT, (sign(CHECKPOINT, provider),))
    signed = signed.with_signature(sign(CHECKPOINT, witness, WITNESS))
    assert [s.role for s in signed.signatures] == [PROVIDER, WITNESS]
    (w,) = signed.signatures_by(WITNESS)
    assert verify_signature(CHECKPOINT, w, witness.public_key())
    assert not verify_signature(CHECKPOINT, w, provider.public_key())
    # Check a second signature by the same key replaces the first.
    again = signed.with_signature(sign(CHECKPOINT, witness, WITNESS))
    assert len(again.signatures) == 2


@needs_openssl
def test_openssl_verifies_a_checkpoint_signature(tmp_path: Path) -> None:
    create_key_files(tmp_path / "k", tmp_path / "k.pub")
    signature = sign(CHECKPOINT, load_private_key(tmp_path / "k"))
    (tmp_path / "body.txt").write_bytes(signed_body(CHECKPOINT))
    (tmp_path / "sig.bin").write_bytes(signature.signature)
    command = [str(OPENSSL), "pkeyutl", "-verify", "-pubin", "-inkey", "k.pub", "-rawin",
               "-in", "body.txt", "-sigfile", "sig.bin"]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Signature Verified Successfully" in result.stdout
    (tmp_path / "body.txt").write_bytes(signed_body(dataclasses.replace(CHECKPOINT, size=1)))
    assert subprocess.run(command, cwd=tmp_path, capture_output=True).returncode != 0


def test_a_signed_checkpoint_round_trips_through_json_and_json_lines() -> None:
    key, witness = generate_private_key(), generate_private_key()
    first = SignedCheckpoint(CHECKPOINT, (sign(CHECKPOINT, key),), tsa_token=b"\x30\x03\x02\x01\x05")
    later = dataclasses.replace(CHECKPOINT, size=2000, root_hash=hashlib.sha256(b"x").digest())
    second = SignedCheckpoint(later, (sign(later, key), sign(later, witness, WITNESS)))
    line = first.to_json()
    assert b"\n" not in line
    record = orjson.loads(line)
    assert record["root_hash"] == ROOT.hex()
    assert record["timestamp"] == "2026-03-31T23:59:59Z"
    assert record["tsa_token"] == base64.b64encode(b"\x30\x03\x02\x01\x05").decode()
    assert SignedCheckpoint.from_json(line) == first
    data = dump_jsonl([first, second])
    assert data.count(b"\n") == 2
    assert load_jsonl(data) == [first, second]
    assert load_jsonl(b"") == []


@pytest.mark.parametrize(
    "mutate",
    [
        lambda r: r.update(extra=1),
        lambda r: r.pop("tsa_token"),
        lambda r: r.update(v=2),
        lambda r: r.update(root_hash=r["root_hash"].upper()),
        lambda r: r.update(size="1234"),
        lambda r: r.update(timestamp="2026-03-31T23:59:59.5Z"),
        lambda r: r["signatures"][0].update(role="auditor"),
        lambda r: r["signatures"][0].update(signature="!!"),
        lambda r: r["signatures"][0].update(key_id="abc"),
    ],
)
def test_a_malformed_checkpoint_record_is_refused(mutate: object) -> None:
    record = SignedCheckpoint(CHECKPOINT, (sign(CHECKPOINT, generate_private_key()),)).to_dict()
    mutate(record)  # type: ignore[operator]
    with pytest.raises(CheckpointFormatError):
        SignedCheckpoint.from_json(orjson.dumps(record))


def test_a_checkpoint_file_names_the_line_that_is_broken() -> None:
    good = SignedCheckpoint(CHECKPOINT).to_json()
    with pytest.raises(CheckpointFormatError, match="line 2"):
        load_jsonl(good + b"\n{}\n")
    with pytest.raises(CheckpointFormatError, match="newline"):
        load_jsonl(good)


def test_a_signature_record_checks_its_own_shape() -> None:
    with pytest.raises(CheckpointFormatError):
        Signature("ab" * 32, PROVIDER, b"short")
    with pytest.raises(CheckpointFormatError):
        Signature("AB" * 32, PROVIDER, bytes(64))
    with pytest.raises(CheckpointFormatError):
        Signature("ab" * 32, "auditor", bytes(64))


def test_writing_a_private_key_creates_it_with_mode_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_private_key(tmp_path / "k", generate_private_key())
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "k").st_mode) == 0o600
    assert public_key_info(generate_private_key().public_key()).public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")
