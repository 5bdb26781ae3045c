"""``analyse --basis proven`` on a real store with a local RFC 3161 TSA (SQLite and PostgreSQL): an
event's instant is the verified genTime of the earliest timestamped checkpoint covering it, and an
event no such checkpoint covers is not known at any instant (definitions §3.5)."""

from __future__ import annotations

import base64
import json
from datetime import UTC
from pathlib import Path

from tests.helpers import HARBOUR, invoke, write_jsonl

SERVICE = "Harbour Home Care"


def test_the_proven_basis_reads_verified_checkpoint_times_only(stores, tmp_path: Path, local_tsa) -> None:
    from insightlog.analysis import CheckpointInstants, analyse, proven_basis
    from insightlog.application.ledger import open_ledger
    from insightlog.interchange.timeutil import parse_as_of
    from insightlog.proof.tsa import token_gen_time

    settings = stores.new()
    args = [
        *stores.cli_args(settings),
        "--key",
        str(tmp_path / "provider.key"),
        "--checkpoint-file",
        str(tmp_path / "cp.jsonl"),
    ]
    rows = [json.loads(line) for line in HARBOUR.read_text().splitlines()]
    assert invoke([*args, "import", str(write_jsonl(tmp_path / "a.jsonl", rows[:50]))]).exit_code == 0
    assert invoke([*args, "keys", "init"]).exit_code == 0
    stamped = invoke([*args, "checkpoint", "--tsa", local_tsa.url, "--json"])
    assert stamped.exit_code == 0, stamped.output
    gen_time = token_gen_time(base64.b64decode(json.loads(stamped.stdout)["tsa_token"]))
    # The rest arrives later: its automatic checkpoint carries no timestamp token.
    assert invoke([*args, "import", str(write_jsonl(tmp_path / "b.jsonl", rows[50:]))]).exit_code == 0

    result = invoke(
        [*args, "analyse", "--service", SERVICE, "--basis", "proven", "--tsa-ca", str(local_tsa.ca_pem), "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["basis"] == "proven"
    # Check: the first 50 events are known, all at the token's genTime; HHC-051… are not known.
    assert "medicines.time_critical" not in doc["isolated_themes"]
    months = sorted({r["month"] for r in doc["drift"]})
    assert months[0] == gen_time.strftime("%Y-%m")
    assert {r["pattern_detectable_recorded"] for r in doc["recognition"]} == {gen_time.date().isoformat()}
    ledger = open_ledger(settings)
    try:
        entries = ledger.read_service(SERVICE)
    finally:
        ledger.close()
    expected = analyse(
        entries, SERVICE, parse_as_of(doc["as_of"]), basis=proven_basis(CheckpointInstants([(50, gen_time)]))
    )
    assert doc == json.loads(json.dumps(expected))

    # A token that does not chain to the given CA proves nothing: every event is unknown, and the
    # user is told why.
    other_ca = _other_ca(tmp_path / "other-ca.pem")
    wrong = invoke([*args, "analyse", "--service", SERVICE, "--basis", "proven", "--tsa-ca", str(other_ca), "--json"])
    assert wrong.exit_code == 0, wrong.output
    assert json.loads(wrong.stdout)["recognition"] == [] and json.loads(wrong.stdout)["drift"] == []
    assert "timestamp token does not verify" in wrong.stderr
    assert "no checkpoint of this store carries a verified timestamp token" in wrong.stderr


def _other_ca(path: Path) -> Path:
    """A self-signed CA certificate that signed nothing of the local TSA."""
    from datetime import datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Some Other CA")])
    now = datetime.now(UTC) - timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_history_view_and_pack_on_the_proven_basis_know_only_what_a_timestamped_checkpoint_covers(
    stores, tmp_path: Path, local_tsa
) -> None:
    import zipfile

    from insightlog.interchange.timeutil import format_utc
    from insightlog.proof.tsa import token_gen_time

    args = [
        *stores.cli_args(stores.new()),
        "--key",
        str(tmp_path / "provider.key"),
        "--checkpoint-file",
        str(tmp_path / "cp.jsonl"),
    ]
    rows = [json.loads(line) for line in HARBOUR.read_text().splitlines()]
    assert invoke([*args, "import", str(write_jsonl(tmp_path / "a.jsonl", rows[:50]))]).exit_code == 0
    assert invoke([*args, "keys", "init"]).exit_code == 0
    stamped = invoke([*args, "checkpoint", "--tsa", local_tsa.url, "--json"])
    assert stamped.exit_code == 0, stamped.output
    gen_time = format_utc(token_gen_time(base64.b64decode(json.loads(stamped.stdout)["tsa_token"])))
    assert invoke([*args, "import", str(write_jsonl(tmp_path / "b.jsonl", rows[50:]))]).exit_code == 0
    proven = ["--basis", "proven", "--tsa-ca", str(local_tsa.ca_pem)]

    history = invoke([*args, "history", "--service", SERVICE, *proven, "--json"])
    assert history.exit_code == 0, history.output
    shown = json.loads(history.stdout)
    assert [r["position"] for r in shown] == list(range(1, 51))
    assert {(r["basis"], r["known_at"]) for r in shown} == {("proven", gen_time)}

    view = invoke([*args, "view", "--service", SERVICE, *proven, "--json"])
    assert view.exit_code == 0, view.output
    assert {r["basis"] for r in json.loads(view.stdout)} == {"proven"}

    pack = tmp_path / "proven.zip"
    made = invoke([*args, "pack", "--service", SERVICE, *proven, "-o", str(pack)])
    assert made.exit_code == 0, made.output
    with zipfile.ZipFile(pack) as z:
        assert json.loads(z.read("analysis.json"))["basis"] == "proven"
        assert "Basis proven (definitions §3.5)" in z.read("README.txt").decode()
        assert len(z.read("events.jsonl").splitlines()) == 50
