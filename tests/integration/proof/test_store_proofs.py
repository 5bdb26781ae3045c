"""Proofs over a real store, through the CLI, on SQLite and PostgreSQL: automatic checkpoints,
RFC 3161 timestamps from a local TSA, witnesses, inclusion proofs and offline evidence packs."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.helpers import HARBOUR, invoke


def _args(stores, settings, tmp_path: Path, key: str = "provider.key") -> list[str]:  # type: ignore[no-untyped-def]
    return [
        *stores.cli_args(settings),
        "--key",
        str(tmp_path / key),
        "--checkpoint-file",
        str(tmp_path / "outside.jsonl"),
    ]


def test_writing_commands_checkpoint_automatically_once_a_key_exists(stores, tmp_path: Path) -> None:
    settings = stores.new()
    args = _args(stores, settings, tmp_path)
    invoke([*args, "import", str(HARBOUR)])
    assert not (tmp_path / "outside.jsonl").exists()  # no key yet: nothing signed
    assert invoke([*args, "keys", "init"]).exit_code == 0
    payload = json.dumps(
        {"evidence_score": 3, "evidence_category": "observation", "source_type": "spot_check", "summary": "ok"}
    )
    recorded = invoke(
        [
            *args,
            "record",
            "SpotCheckRecorded",
            "--service",
            "Harbour Home Care",
            "--theme",
            "medicines.mar_charts",
            "--team",
            "north",
            "--actor-role",
            "deputy_manager",
            "--actor-id",
            "DM-1",
            "--payload",
            payload,
        ]
    )
    assert recorded.exit_code == 0, recorded.output
    lines = (tmp_path / "outside.jsonl").read_text().splitlines()
    assert [json.loads(x)["size"] for x in lines] == [71]
    report = json.loads(invoke([*args, "verify", "--checkpoint", str(tmp_path / "outside.jsonl"), "--json"]).stdout)
    assert report["ok"] and report["events_after_latest_checkpoint"] == 0


def test_a_checkpoint_timestamped_by_a_local_tsa_stores_a_token_that_verifies(
    stores, tmp_path: Path, local_tsa
) -> None:
    settings = stores.new()
    args = _args(stores, settings, tmp_path)
    invoke([*args, "keys", "init"])
    invoke([*args, "import", str(HARBOUR)])  # automatic checkpoint at 70, no token
    extra = invoke(
        [
            *args,
            "record",
            "IncidentRecorded",
            "--service",
            "Harbour Home Care",
            "--theme",
            "safeguarding.referrals",
            "--team",
            "east",
            "--actor-role",
            "team_leader",
            "--actor-id",
            "TL-E",
            "--payload",
            json.dumps(
                {
                    "evidence_score": 2,
                    "evidence_category": "outcomes",
                    "source_type": "incident",
                    "summary": "late referral",
                }
            ),
        ]
    )
    assert extra.exit_code == 0
    # The record took checkpoint 71 automatically; a --tsa checkpoint of the same tree is the same one.
    again = json.loads(invoke([*args, "checkpoint", "--json"]).stdout)
    assert again["new"] is False and again["size"] == 71
    invoke(
        [
            *args,
            "record",
            "IncidentRecorded",
            "--service",
            "Harbour Home Care",
            "--theme",
            "safeguarding.referrals",
            "--team",
            "east",
            "--actor-role",
            "team_leader",
            "--actor-id",
            "TL-E",
            "--payload",
            json.dumps(
                {"evidence_score": 3, "evidence_category": "outcomes", "source_type": "incident", "summary": "on time"}
            ),
        ]
    )
    stamped = invoke([*stores.cli_args(settings), "--key", str(tmp_path / "none.key"), "checkpoint", "--json"])
    assert stamped.exit_code == 1 and "no signing key" in stamped.output
    # Check: write one more, then checkpoint with a timestamp from the TSA.
    invoke(
        [
            *stores.cli_args(settings),
            "record",
            "IncidentRecorded",
            "--service",
            "Harbour Home Care",
            "--theme",
            "safeguarding.referrals",
            "--team",
            "east",
            "--actor-role",
            "team_leader",
            "--actor-id",
            "TL-E",
            "--payload",
            json.dumps(
                {"evidence_score": 3, "evidence_category": "outcomes", "source_type": "incident", "summary": "on time"}
            ),
        ]
    )
    with_token = invoke([*args, "checkpoint", "--tsa", local_tsa.url, "--json"])
    assert with_token.exit_code == 0, with_token.output
    assert json.loads(with_token.stdout)["tsa_token"]
    report = invoke([*args, "verify", "--tsa-ca", str(local_tsa.ca_pem), "--json"])
    body = json.loads(report.stdout)
    assert report.exit_code == 0, body
    assert body["timestamp_tokens_checked"] == 1
    assert any("timestamped by" in n for n in body["notes"])


def test_a_witness_cosigns_after_checking_and_verify_counts_both_signatures(stores, tmp_path: Path) -> None:
    settings = stores.new()
    args = _args(stores, settings, tmp_path)
    invoke([*args, "keys", "init"])
    invoke([*args, "import", str(HARBOUR)])
    assert invoke([*args, "keys", "init", "--role", "witness", "--out", str(tmp_path / "chair.key")]).exit_code == 0
    cosigned = invoke([*_args(stores, settings, tmp_path, "chair.key"), "checkpoint", "cosign"])
    assert cosigned.exit_code == 0, cosigned.output
    twice = invoke([*_args(stores, settings, tmp_path, "chair.key"), "checkpoint", "cosign"])
    assert twice.exit_code == 1 and "already signed" in twice.output
    report = json.loads(
        invoke(
            [
                *args,
                "verify",
                "--json",
                "--trusted-key",
                str(tmp_path / "provider.key.pub"),
                "--trusted-witness",
                str(tmp_path / "chair.key.pub"),
            ]
        ).stdout
    )
    assert report["ok"] and report["signatures_checked"] == 2
    # The chair's key is a witness key: trusted as the provider's it binds nothing, and fails.
    wrong = invoke([*args, "verify", "--json", "--trusted-key", str(tmp_path / "chair.key.pub")])
    assert wrong.exit_code == 1 and "which is not a trusted provider key" in wrong.stdout


def test_prove_gives_an_inclusion_proof_against_the_latest_checkpoint(stores, tmp_path: Path) -> None:
    from insightlog.proof.merkle import verify_inclusion

    settings = stores.new()
    args = _args(stores, settings, tmp_path)
    invoke([*args, "keys", "init"])
    invoke([*args, "import", str(HARBOUR)])
    proof = json.loads(invoke([*args, "prove", "HHC-046", "--json"]).stdout)
    path = [bytes.fromhex(h) for h in proof["audit_path"]]
    leaf, root = bytes.fromhex(proof["leaf_hash"]), bytes.fromhex(proof["root_hash"])
    assert proof["verified"] and verify_inclusion(leaf, 45, 70, path, root)
    assert not verify_inclusion(leaf, 44, 70, path, root)
    missing = invoke([*args, "prove", "NOPE"])
    assert missing.exit_code == 1 and "no event 'NOPE'" in missing.output


def test_an_evidence_pack_verifies_offline_and_fails_with_one_byte_changed(stores, tmp_path: Path, local_tsa) -> None:
    settings = stores.new()
    args = _args(stores, settings, tmp_path)
    invoke([*args, "keys", "init"])
    invoke([*args, "import", str(HARBOUR)])
    invoke(
        [
            *stores.cli_args(settings),
            "record",
            "IncidentRecorded",
            "--service",
            "Harbour Home Care",
            "--theme",
            "safeguarding.referrals",
            "--team",
            "east",
            "--actor-role",
            "team_leader",
            "--actor-id",
            "TL-E",
            "--payload",
            json.dumps(
                {"evidence_score": 2, "evidence_category": "outcomes", "source_type": "incident", "summary": "late"}
            ),
        ]
    )
    assert invoke([*args, "checkpoint", "--tsa", local_tsa.url]).exit_code == 0
    pack = tmp_path / "pack.zip"
    made = invoke(
        [
            *args,
            "pack",
            "--service",
            "Harbour Home Care",
            "--theme",
            "safeguarding",
            "--as-of",
            "2026-03-31",
            "--tsa-ca",
            str(local_tsa.ca_pem),
            "-o",
            str(pack),
        ]
    )
    assert made.exit_code == 0, made.output
    names = zipfile.ZipFile(pack).namelist()
    assert "analysis.json" in names and "README.txt" in names
    analysis = json.loads(zipfile.ZipFile(pack).read("analysis.json"))
    assert analysis["as_of"] == "2026-03-31T23:59:59Z" and analysis["recognition"][2]["acknowledgement"] == "HHC-046"
    # Check: in a separate process, in an empty directory, with no settings pointing at any store.
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    code = "import sys; from insightlog.proof.pack import verify_pack; r = verify_pack(sys.argv[1]); print('OK' if r.ok else 'FAIL'); sys.exit(0 if r.ok else 1)"
    env = {"PATH": "/usr/bin:/bin"}
    ok = subprocess.run([sys.executable, "-c", code, str(pack)], cwd=empty, env=env, capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.strip() == "OK", ok.stderr
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "events.jsonl":
                data = data.replace(b"2026-03-20T11:00:00Z", b"2026-02-27T11:00:00Z", 1)
            dst.writestr(item, data)
    bad = subprocess.run(
        [sys.executable, "-c", code, str(tampered)], cwd=empty, env=env, capture_output=True, text=True
    )
    assert bad.returncode == 1 and bad.stdout.strip() == "FAIL"
    cli_bad = invoke(["verify-pack", str(tampered)])
    assert cli_bad.exit_code == 1 and "FAILED" in cli_bad.output


def test_a_pack_refuses_events_after_the_latest_checkpoint(stores, tmp_path: Path) -> None:
    settings = stores.new()
    args = _args(stores, settings, tmp_path)
    invoke([*args, "keys", "init"])
    invoke([*args, "import", str(HARBOUR)])
    invoke(
        [
            *stores.cli_args(settings),
            "record",
            "IncidentRecorded",
            "--service",
            "Harbour Home Care",
            "--theme",
            "safeguarding.referrals",
            "--team",
            "east",
            "--actor-role",
            "team_leader",
            "--actor-id",
            "TL-E",
            "--payload",
            json.dumps(
                {"evidence_score": 2, "evidence_category": "outcomes", "source_type": "incident", "summary": "late"}
            ),
        ]
    )
    refused = invoke([*args, "pack", "--service", "Harbour Home Care", "-o", str(tmp_path / "p.zip")])
    assert refused.exit_code == 1 and "after the latest checkpoint" in refused.output
