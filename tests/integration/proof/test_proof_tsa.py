"""RFC 3161 timestamps against a real timestamping authority run locally.

The authority is ``openssl ts -reply`` behind an HTTP server on 127.0.0.1 (see conftest).
"""

from __future__ import annotations

import hashlib
import socket
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from insightlog.proof.checkpoint import Checkpoint, SignedCheckpoint, sign
from insightlog.proof.keys import generate_private_key
from insightlog.proof.tsa import (
    TimestampError,
    TimestampVerificationError,
    build_request,
    check_response,
    post_request,
    request_timestamp,
    response_from_token,
    token_from_response,
    token_gen_time,
    tsa_certificates_pem,
    verify_token,
)

from .conftest import OPENSSL, LocalTSA, needs_openssl

pytestmark = needs_openssl
BODY = Checkpoint(
    "store-3f2a", 42, hashlib.sha256(b"root").digest(), datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
).signed_body()


def openssl_verify(tsa: LocalTSA, directory: Path, token: bytes, data: bytes) -> subprocess.CompletedProcess[str]:
    (directory / "token.der").write_bytes(token)
    (directory / "data.txt").write_bytes(data)
    return subprocess.run(
        [str(OPENSSL), "ts", "-verify", "-data", "data.txt", "-in", "token.der", "-token_in",
         "-CAfile", str(tsa.ca_pem), "-untrusted", str(tsa.tsa_pem)],
        cwd=directory,
        capture_output=True,
        text=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def stamp(local_tsa: LocalTSA) -> bytes:
    return request_timestamp(local_tsa.url, BODY).token


def test_the_request_asks_for_sha256_of_the_data_with_a_nonce_and_the_certificate() -> None:
    request = build_request(BODY)
    parsed = tsp.TimeStampReq.load(request.der)
    assert parsed["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    assert parsed["message_imprint"]["hashed_message"].native == hashlib.sha256(BODY).digest()
    assert parsed["nonce"].native == request.nonce != 0
    assert parsed["cert_req"].native is True
    assert build_request(BODY).nonce != request.nonce


def test_a_token_is_obtained_stored_with_the_checkpoint_and_verified(local_tsa: LocalTSA, tmp_path: Path) -> None:
    checkpoint = Checkpoint(
        "store-3f2a", 42, hashlib.sha256(b"root").digest(), datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
    )
    result = request_timestamp(local_tsa.url, checkpoint.signed_body())
    assert result.info.hash_algorithm == "sha256"
    assert result.info.message_digest == hashlib.sha256(checkpoint.signed_body()).digest()
    assert result.info.tsa_subject == "CN=Test TSA,O=insightlog test"
    assert abs(result.info.gen_time - datetime.now(UTC)) < timedelta(minutes=5)
    # Check the token survives storage in the checkpoint's JSON record.
    signed = SignedCheckpoint(checkpoint, (sign(checkpoint, generate_private_key()),))
    stored = signed.with_tsa_token(result.token).to_json()
    (tmp_path / "checkpoints.jsonl").write_bytes(stored + b"\n")
    loaded = SignedCheckpoint.from_json((tmp_path / "checkpoints.jsonl").read_bytes().strip())
    assert loaded.tsa_token == result.token
    info = verify_token(loaded.tsa_token, loaded.checkpoint.signed_body(), local_tsa.ca_pem.read_bytes())
    assert info == result.info
    assert token_gen_time(result.token) == info.gen_time


def test_openssl_ts_verify_accepts_the_token_and_its_response_form(
    local_tsa: LocalTSA, stamp: bytes, tmp_path: Path
) -> None:
    result = openssl_verify(local_tsa, tmp_path, stamp, BODY)
    assert result.returncode == 0, result.stderr
    assert "Verification: OK" in result.stdout
    # The .tsr form that evidence packs carry verifies without -token_in or -untrusted.
    (tmp_path / "timestamp.tsr").write_bytes(response_from_token(stamp))
    assert token_from_response(response_from_token(stamp)) == stamp
    tsr = subprocess.run(
        [str(OPENSSL), "ts", "-verify", "-data", "data.txt", "-in", "timestamp.tsr",
         "-CAfile", str(local_tsa.ca_pem)],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert tsr.returncode == 0, tsr.stderr


def test_a_token_for_another_digest_is_rejected(local_tsa: LocalTSA, stamp: bytes, tmp_path: Path) -> None:
    other = BODY.replace(b"\n42\n", b"\n43\n")
    with pytest.raises(TimestampVerificationError, match="imprint"):
        verify_token(stamp, other)
    assert openssl_verify(local_tsa, tmp_path, stamp, other).returncode != 0
    # Check a TSA that timestamps something else than what was asked is caught at once.
    with pytest.raises(TimestampVerificationError, match="imprint"):
        request_timestamp(local_tsa.path_url("/other-digest"), BODY)


def test_a_reply_with_another_nonce_is_rejected(local_tsa: LocalTSA) -> None:
    with pytest.raises(TimestampVerificationError, match="nonce"):
        request_timestamp(local_tsa.path_url("/other-nonce"), BODY)


def test_a_refusal_and_an_unreachable_authority_are_reported(local_tsa: LocalTSA) -> None:
    with pytest.raises(TimestampError, match="not granted: rejection \\(not today\\)"):
        request_timestamp(local_tsa.path_url("/reject"), BODY)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TimestampError, match="cannot reach"):
        request_timestamp(f"http://127.0.0.1:{port}/", BODY, timeout=2)


def test_a_token_without_the_tsa_certificate_cannot_be_checked(local_tsa: LocalTSA) -> None:
    request = build_request(BODY, cert_req=False)
    token = check_response(post_request(local_tsa.url, request.der), request)
    with pytest.raises(TimestampVerificationError, match="no TSA certificate"):
        verify_token(token, BODY)


def test_a_token_does_not_chain_to_an_unrelated_ca(stamp: bytes) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Test Root CA")])
    now = datetime.now(UTC)
    other_ca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(TimestampVerificationError, match="does not chain"):
        verify_token(stamp, BODY, other_ca.public_bytes(serialization.Encoding.PEM))


def test_changing_any_byte_of_the_signed_timestamp_content_fails_verification(stamp: bytes) -> None:
    info = cms.ContentInfo.load(stamp)
    tst_der = info["content"]["encap_content_info"]["content"].contents
    start = stamp.index(tst_der)
    signature = info["content"]["signer_infos"][0]["signature"].native
    sig_start = stamp.index(signature)
    positions = list(range(start, start + len(tst_der))) + list(range(sig_start, sig_start + len(signature), 7))
    for i in positions:
        bad = stamp[:i] + bytes([stamp[i] ^ 0x01]) + stamp[i + 1 :]
        with pytest.raises(TimestampVerificationError):
            verify_token(bad, BODY)


def test_the_embedded_tsa_certificate_is_available_as_pem(local_tsa: LocalTSA, stamp: bytes) -> None:
    pem = tsa_certificates_pem(stamp)
    assert x509.load_pem_x509_certificate(pem) == x509.load_pem_x509_certificate(local_tsa.tsa_pem.read_bytes())


def test_garbage_is_not_a_token() -> None:
    for junk in (b"", b"\x30\x00", b"not der at all", response_from_token.__doc__.encode()):  # type: ignore[union-attr]
        with pytest.raises(TimestampVerificationError):
            verify_token(junk, BODY)
