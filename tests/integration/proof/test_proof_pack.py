"""Evidence packs: built from synthetic entries, checked with nothing but the zip."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from insightlog.proof.canonical import canonicalize, entry_leaf_bytes, leaf_hash
from insightlog.proof.checkpoint import Checkpoint, SignedCheckpoint, sign
from insightlog.proof.keys import PROVIDER, WITNESS, generate_private_key, key_id, public_key_pem
from insightlog.proof.merkle import MerkleTree
from insightlog.proof.pack import PackError, PackKey, build_pack, pack_proofs, verify_pack
from insightlog.proof.tsa import request_timestamp

from .conftest import OPENSSL, LocalTSA, make_entry

ENTRIES = [make_entry(p) for p in range(1, 13)]
SELECTED = (2, 7, 12)
CHECKPOINT_SIZES = (5, 9, 12)
ANALYSIS = b'{"service":"Harbour Home Care","themes":[{"theme":"medicines","E":3.2}]}'


@dataclasses.dataclass
class Sample:
    path: Path
    provider: Ed25519PrivateKey
    witness: Ed25519PrivateKey
    kwargs: dict[str, object]


def _checkpoints(
    tree: MerkleTree, provider: Ed25519PrivateKey, witness: Ed25519PrivateKey, tsa: LocalTSA | None
) -> list[SignedCheckpoint]:
    out = []
    base = ENTRIES[-1].appended_at
    assert base is not None
    for n, size in enumerate(CHECKPOINT_SIZES):
        cp = Checkpoint("store-3f2a", size, tree.root(size), base + timedelta(hours=n))
        signed = SignedCheckpoint(cp, (sign(cp, provider),))
        if size == CHECKPOINT_SIZES[-1]:
            signed = signed.with_signature(sign(cp, witness, WITNESS))
        if tsa is not None and n > 0:
            signed = signed.with_tsa_token(request_timestamp(tsa.url, cp.signed_body()).token)
        out.append(signed)
    return out


def make_pack(directory: Path, tsa: LocalTSA | None, *, name: str = "pack.zip", **overrides: object) -> Sample:
    provider, witness = generate_private_key(), generate_private_key()
    tree = MerkleTree(leaf_hash(e) for e in ENTRIES)
    checkpoints = _checkpoints(tree, provider, witness, tsa)
    inclusion, consistency = pack_proofs(tree, SELECTED, checkpoints)
    kwargs: dict[str, object] = dict(
        events=[(p, entry_leaf_bytes(ENTRIES[p - 1])) for p in SELECTED],
        inclusion_proofs=inclusion,
        checkpoints=checkpoints,
        consistency_proofs=consistency,
        public_keys=[
            PackKey(PROVIDER, public_key_pem(provider.public_key())),
            PackKey(WITNESS, public_key_pem(witness.public_key())),
        ],
        analysis_json=ANALYSIS,
        tsa_ca_pem=tsa.ca_pem.read_bytes() if tsa else None,
        manifest_key=provider,
    )
    kwargs.update(overrides)
    path = directory / name
    build_pack(path, **kwargs)  # type: ignore[arg-type]
    return Sample(path, provider, witness, kwargs)


@pytest.fixture(scope="module")
def sample(local_tsa: LocalTSA, tmp_path_factory: pytest.TempPathFactory) -> Sample:
    return make_pack(tmp_path_factory.mktemp("pack"), local_tsa)


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(path: Path, files: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)


VERIFY_SCRIPT = """
import json, sys
from insightlog.proof.pack import verify_pack
report = verify_pack(sys.argv[1])
json.dump({"ok": report.ok, "checks": len(report.checks),
           "failures": [[c.subject, c.detail] for c in report.failures]}, sys.stdout)
"""


def verify_in_fresh_process(pack: Path, workdir: Path) -> dict[str, object]:
    """Run verify_pack in a new interpreter that sees only the zip: empty cwd, no store settings."""
    workdir.mkdir(exist_ok=True)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(workdir), "LANG": "C.UTF-8"}
    result = subprocess.run(
        [sys.executable, "-I", "-c", VERIFY_SCRIPT, str(pack)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_fresh_pack_verifies_in_a_process_that_has_only_the_zip(sample: Sample, tmp_path: Path) -> None:
    outcome = verify_in_fresh_process(sample.path, tmp_path / "inspector")
    assert outcome["failures"] == []
    assert outcome["ok"] is True


def test_the_report_lists_every_check_and_what_the_pack_claims(sample: Sample) -> None:
    report = verify_pack(sample.path)
    assert report.ok, report.failures
    subjects = [c.subject for c in report.checks]
    assert "manifest.sig" in subjects
    assert "inclusion of event 'HHC-007' (position 7)" in subjects
    assert "checkpoint 3 (size 12): witness signature by key " + key_id(sample.witness.public_key())[:16] in subjects
    assert "consistency/0000000005-0000000009.json" in subjects
    timestamps = [c for c in report.checks if c.subject.endswith(": timestamp")]
    assert len(timestamps) == 2 and all("chains to tsa/ca.pem" in c.detail for c in timestamps)
    assert report.origin == "store-3f2a" and report.latest_size == 12
    assert report.key_ids == {
        key_id(sample.provider.public_key()): PROVIDER,
        key_id(sample.witness.public_key()): WITNESS,
    }


def test_the_pack_holds_the_files_the_readme_promises(sample: Sample) -> None:
    files = members(sample.path)
    for name in (
        "README.txt", "manifest.json", "manifest.sig", "analysis.json", "events.jsonl",
        "events/0000000007.json", "proofs/0000000007.json", "checkpoints.jsonl",
        "checkpoints/0001/body.txt", "checkpoints/0002/timestamp.tsr", "keys.json",
        "consistency/0000000005-0000000009.json", "consistency/0000000009-0000000012.json",
        "consistency/0000000005-0000000012.json", "tsa/ca.pem",
    ):  # fmt: skip
        assert name in files, name
    assert files["events/0000000007.json"] == entry_leaf_bytes(ENTRIES[6])
    assert files["analysis.json"] == ANALYSIS
    proof = json.loads(files["proofs/0000000007.json"])
    assert proof["leaf_hash"] == leaf_hash(ENTRIES[6]).hex()
    assert proof["leaf_index"] == 6 and proof["tree_size"] == 12
    manifest = json.loads(files["manifest.json"])
    assert canonicalize(manifest) == files["manifest.json"]
    assert set(manifest["files"]) == set(files) - {"manifest.json", "manifest.sig"}


def test_flipping_one_byte_of_any_member_fails_and_names_what_failed(sample: Sample, tmp_path: Path) -> None:
    original = members(sample.path)
    for name, data in original.items():
        if not data:
            continue
        i = len(data) // 2
        changed = dict(original)
        changed[name] = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :]
        bad = tmp_path / "bad.zip"
        rezip(bad, changed)
        report = verify_pack(bad)
        assert not report.ok, name
        assert any(name in f.subject or name in f.detail for f in report.failures), (
            name,
            report.failures,
        )


def test_a_tampered_pack_fails_in_a_process_that_has_only_the_zip(sample: Sample, tmp_path: Path) -> None:
    files = members(sample.path)
    data = files["events/0000000012.json"]
    files["events/0000000012.json"] = data.replace(b'"evidence_score":3', b'"evidence_score":4')
    rezip(tmp_path / "bad.zip", files)
    outcome = verify_in_fresh_process(tmp_path / "bad.zip", tmp_path / "inspector")
    assert outcome["ok"] is False
    assert [
        "events/0000000012.json",
        "SHA-256 differs from manifest.json: the file was altered",
    ] in (
        outcome["failures"]  # type: ignore[operator]
    )


def test_an_event_rewritten_with_every_hash_redone_still_fails_its_inclusion_proof(
    sample: Sample, tmp_path: Path
) -> None:
    # Someone who changes an event and recomputes every unsigned hash in the pack is still caught:
    # the leaf no longer leads to the signed root.
    files = members(sample.path)
    name = "events/0000000007.json"
    event = json.loads(files[name])
    event["payload"]["evidence_score"] = 4
    files[name] = canonicalize(event)
    files["events.jsonl"] = b"".join(files[f"events/{p:010d}.json"] + b"\n" for p in SELECTED)
    proof = json.loads(files["proofs/0000000007.json"])
    proof["leaf_hash"] = hashlib.sha256(b"\x00" + files[name]).hexdigest()
    files["proofs/0000000007.json"] = canonicalize(proof)
    manifest = json.loads(files["manifest.json"])
    manifest["files"] = {
        n: hashlib.sha256(d).hexdigest() for n, d in files.items() if n not in ("manifest.json", "manifest.sig")
    }
    files["manifest.json"] = canonicalize(manifest)
    files["manifest.sig"] = generate_private_key().sign(files["manifest.json"])
    rezip(tmp_path / "forged.zip", files)
    report = verify_pack(tmp_path / "forged.zip")
    failed = {f.subject for f in report.failures}
    assert failed == {"inclusion of event 'HHC-007' (position 7)", "manifest.sig"}


@pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")
def test_the_openssl_commands_in_the_readme_check_the_pack(sample: Sample, tmp_path: Path) -> None:
    with zipfile.ZipFile(sample.path) as archive:
        archive.extractall(tmp_path)
    readme = (tmp_path / "README.txt").read_text()
    commands = [
        line.strip() for line in readme.splitlines() if line.startswith(("    openssl", "    printf", "    sed"))
    ]
    commands = [c for c in commands if "TSA-CA.pem" not in c]
    assert sum("pkeyutl" in c for c in commands) == 5  # 4 checkpoint signatures + manifest
    assert sum("openssl ts -verify" in c for c in commands) == 2
    for command in commands:
        result = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, (command, result.stderr)
        if "pkeyutl" in command:
            assert "Signature Verified Successfully" in result.stdout
        if "ts -verify" in command:
            assert "Verification: OK" in result.stdout
        if command.startswith("printf"):
            assert leaf_hash(ENTRIES[1]).hex() in result.stdout
        if command.startswith("sed"):
            assert (
                result.stdout.strip()
                == json.loads((tmp_path / "manifest.json").read_text())["latest_checkpoint"]["root_hash"]
            )
        if "dgst -sha256 events.jsonl" in command:
            digest = json.loads((tmp_path / "manifest.json").read_text())["files"]["events.jsonl"]
            assert digest in result.stdout


def test_a_pack_without_timestamps_or_analysis_still_verifies(tmp_path: Path) -> None:
    sample = make_pack(tmp_path, None, analysis_json=None)
    report = verify_pack(sample.path)
    assert report.ok, report.failures
    readme = members(sample.path)["README.txt"].decode()
    assert "none of these checkpoints carries an RFC 3161 timestamp" in readme
    assert "was signed by the provider" in readme


def test_a_pack_cannot_be_built_without_a_provider_signature_over_its_manifest(tmp_path: Path) -> None:
    sample = make_pack(tmp_path, None)
    with pytest.raises(PackError, match="manifest must be signed by a provider key"):
        build_pack(tmp_path / "unsigned.zip", **{**sample.kwargs, "manifest_key": None})  # type: ignore[arg-type]
    with pytest.raises(PackError, match="manifest must be signed by a provider key"):
        build_pack(tmp_path / "witness.zip", **{**sample.kwargs, "manifest_key": sample.witness})  # type: ignore[arg-type]
    assert not (tmp_path / "unsigned.zip").exists() and not (tmp_path / "witness.zip").exists()


def test_the_same_inputs_give_the_same_zip_bytes(tmp_path: Path) -> None:
    first = make_pack(tmp_path, None, name="a.zip")
    build_pack(tmp_path / "b.zip", **first.kwargs)  # type: ignore[arg-type]
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_a_missing_consistency_proof_between_successive_checkpoints_fails(tmp_path: Path) -> None:
    sample = make_pack(tmp_path, None)
    proofs = [
        p
        for p in sample.kwargs["consistency_proofs"]  # type: ignore[attr-defined]
        if (p.old_size, p.new_size) != (9, 12)
    ]
    build_pack(tmp_path / "gap.zip", **{**sample.kwargs, "consistency_proofs": proofs})  # type: ignore[arg-type]
    failed = [f.subject for f in verify_pack(tmp_path / "gap.zip").failures]
    assert failed == ["consistency 9 -> 12"]


def test_a_signature_by_a_key_outside_the_pack_is_refused_when_building(tmp_path: Path) -> None:
    sample = make_pack(tmp_path, None)
    with pytest.raises(PackError, match="not in the pack"):
        build_pack(
            tmp_path / "x.zip",
            **{**sample.kwargs, "public_keys": sample.kwargs["public_keys"][:1]},  # type: ignore[index]
        )
    with pytest.raises(PackError, match="no inclusion proof"):
        build_pack(tmp_path / "x.zip", **{**sample.kwargs, "inclusion_proofs": {}})  # type: ignore[arg-type]


def test_proofs_for_a_checkpoint_the_tree_does_not_match_are_refused() -> None:
    tree = MerkleTree(leaf_hash(e) for e in ENTRIES)
    key = generate_private_key()
    cp = Checkpoint("store-3f2a", 5, tree.root(6), ENTRIES[0].observed_at)
    with pytest.raises(PackError, match="does not match the tree"):
        pack_proofs(tree, [1], [SignedCheckpoint(cp, (sign(cp, key),))])


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04broken"])
def test_something_that_is_not_a_pack_fails_cleanly(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "x.zip").write_bytes(content)
    report = verify_pack(tmp_path / "x.zip")
    assert not report.ok
    assert report.first_failure is not None and report.first_failure.subject == "pack"


def test_an_extra_file_slipped_into_the_pack_fails(sample: Sample, tmp_path: Path) -> None:
    files = members(sample.path)
    files["events/0000000003.json"] = entry_leaf_bytes(ENTRIES[2])
    rezip(tmp_path / "extra.zip", files)
    failures = verify_pack(tmp_path / "extra.zip").failures
    assert any(f.subject == "events/0000000003.json" and "not listed" in f.detail for f in failures)
