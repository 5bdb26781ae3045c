"""Fixtures for the proof tests: synthetic entries and a real RFC 3161 TSA on 127.0.0.1.

The TSA is ``openssl ts -reply`` behind a tiny ``http.server`` in a thread. Paths other than ``/``
misbehave on purpose: ``/other-digest`` timestamps a different digest than the one asked for,
``/other-nonce`` answers with a different nonce, ``/reject`` refuses.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from insightlog.interchange.entry import Entry

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")


@dataclass(frozen=True)
class LocalTSA:
    url: str
    directory: Path
    ca_pem: Path
    tsa_pem: Path

    def path_url(self, path: str) -> str:
        return self.url.rstrip("/") + path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "insightlog test"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _make_ca_and_tsa(directory: Path) -> tuple[Path, Path, Path]:
    now = datetime.now(UTC) - timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Test Root CA"))
        .issuer_name(_name("Test Root CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Test TSA"))
        .issuer_name(ca_cert.subject)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = directory / "ca.pem"
    tsa_pem = directory / "tsa.pem"
    tsa_key_pem = directory / "tsa.key"
    ca_pem.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    tsa_pem.write_bytes(tsa_cert.public_bytes(serialization.Encoding.PEM))
    tsa_key_pem.write_bytes(
        tsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_pem, tsa_pem, tsa_key_pem


def _write_config(directory: Path, tsa_pem: Path, tsa_key: Path) -> Path:
    (directory / "serial").write_text("01\n")
    config = directory / "tsa.cnf"
    config.write_text(
        f"""
[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
dir = {directory}
serial = $dir/serial
crypto_device = builtin
signer_cert = {tsa_pem}
signer_key = {tsa_key}
signer_digest = sha256
default_policy = 1.3.6.1.4.1.55555.1
other_policies = 1.3.6.1.4.1.55555.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""
    )
    return config


def _rewrite_request(query: bytes, *, digest: bytes | None = None, nonce: int | None = None) -> bytes:
    request = tsp.TimeStampReq.load(query)
    values = {
        "version": "v1",
        "message_imprint": {
            "hash_algorithm": {"algorithm": "sha256"},
            "hashed_message": digest or request["message_imprint"]["hashed_message"].native,
        },
        "nonce": nonce if nonce is not None else request["nonce"].native,
        "cert_req": True,
    }
    return tsp.TimeStampReq(values).dump()


@pytest.fixture(scope="session")
def local_tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTSA]:
    """A real timestamping authority (``openssl ts -reply``) on 127.0.0.1, random port."""
    if OPENSSL is None:
        pytest.skip("the openssl command is not installed")
    directory = tmp_path_factory.mktemp("tsa")
    ca_pem, tsa_pem, tsa_key = _make_ca_and_tsa(directory)
    config = _write_config(directory, tsa_pem, tsa_key)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/reject":
                # SEQUENCE { PKIStatusInfo } with no token, as a refusing TSA sends it.
                status = tsp.PKIStatusInfo({"status": "rejection", "status_string": ["not today"]}).dump()
                reply = b"\x30" + bytes([len(status)]) + status
            else:
                if self.path == "/other-digest":
                    query = _rewrite_request(query, digest=hashlib.sha256(b"other").digest())
                elif self.path == "/other-nonce":
                    query = _rewrite_request(query, nonce=12345)
                with lock:
                    (directory / "query.tsq").write_bytes(query)
                    subprocess.run(
                        [
                            OPENSSL,
                            "ts",
                            "-reply",
                            "-config",
                            str(config),
                            "-queryfile",
                            str(directory / "query.tsq"),
                            "-out",
                            str(directory / "reply.tsr"),
                        ],
                        check=True,
                        capture_output=True,
                    )
                    reply = (directory / "reply.tsr").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LocalTSA(f"http://127.0.0.1:{server.server_port}/", directory, ca_pem, tsa_pem)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def make_entry(number: int, **changes: object) -> Entry:
    """A plausible stored event numbered ``number`` (its 1-based position unless overridden)."""
    position = number
    base = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
    values: dict[str, object] = dict(
        event_id=f"HHC-{position:03d}",
        service="Harbour Home Care",
        theme="medicines.mar_charts",
        location=None,
        team="north",
        shift=None,
        kind="AuditSectionScored",
        actor_role="quality_lead",
        actor_id="QL-1",
        record="assurance_variance_log",
        observed_at=base + timedelta(hours=position),
        recorded_at=base + timedelta(hours=position, minutes=5),
        payload={
            "evidence_score": 3,
            "evidence_category": "processes",
            "source_type": "audit",
            "summary": f"MAR chart audit {position}: Ärztin signed — 😀",
            "items_checked": 30,
            "items_compliant": 20,
            "compliance_pct": 66.7,
            "audit_id": f"A-{position}",
        },
        position=position,
        appended_at=base + timedelta(days=30, seconds=position),
        source="import:harbour.jsonl",
    )
    values.update(changes)
    return Entry(**values)  # type: ignore[arg-type]
