"""Building an evidence pack from plain data: the proofs it needs, its files and the zip."""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from insightlog import safefile
from insightlog.proof.canonical import leaf_hash_of_bytes
from insightlog.proof.checkpoint import SignedCheckpoint, dump_jsonl, signed_body
from insightlog.proof.keys import PROVIDER, ROLES, key_id, public_key_from_pem, short_key_id
from insightlog.proof.merkle import ConsistencyProof, InclusionProof, MerkleTree
from insightlog.proof.pack import layout
from insightlog.proof.pack.layout import (
    MANIFEST,
    MANIFEST_SIGNATURE,
    MAX_MEMBER_BYTES,
    MAX_MEMBERS,
    MAX_PARSED_MEMBER_BYTES,
    MAX_TOTAL_BYTES,
    PACK_FORMAT,
    PACK_FORMAT_VERSION,
    README,
    STREAMED_MEMBERS,
    CheckpointFiles,
    PackError,
)
from insightlog.proof.pack.readme import render_readme
from insightlog.proof.tsa import response_from_token


@dataclass(frozen=True, slots=True)
class PackKey:
    """A public key to ship in a pack, with the role it signs in."""

    role: str
    public_key_pem: bytes

    @property
    def key_id(self) -> str:
        return key_id(public_key_from_pem(self.public_key_pem))


def pack_proofs(
    tree: MerkleTree, positions: Iterable[int], checkpoints: Sequence[SignedCheckpoint]
) -> tuple[dict[int, InclusionProof], list[ConsistencyProof]]:
    """Inclusion proofs (against the latest checkpoint) and consistency proofs for a pack.

    Positions are 1-based ledger positions (leaf index = position - 1). Consistency proofs are made
    between each pair of successive checkpoint sizes and from every checkpoint to the latest.
    Raises ``PackError`` when a checkpoint's root is not the tree's root at that size.
    """
    if not checkpoints:
        raise PackError("a pack needs at least one checkpoint")
    for signed in checkpoints:
        cp = signed.checkpoint
        if cp.size > tree.size or tree.root(cp.size) != cp.root_hash:
            raise PackError(f"checkpoint of size {cp.size} does not match the tree")
    sizes = sorted({c.checkpoint.size for c in checkpoints})
    latest = sizes[-1]
    inclusion = {p: tree.inclusion_proof(p - 1, latest) for p in positions}
    pairs = {(a, b) for a, b in pairwise(sizes)} | {(s, latest) for s in sizes[:-1]}
    consistency = [tree.consistency_proof(a, b) for a, b in sorted(pairs)]
    return inclusion, consistency


def build_pack(
    out_path: str | os.PathLike[str],
    *,
    events: Sequence[tuple[int, bytes]],
    inclusion_proofs: Mapping[int, InclusionProof],
    checkpoints: Sequence[SignedCheckpoint],
    consistency_proofs: Sequence[ConsistencyProof],
    public_keys: Sequence[PackKey],
    analysis_json: bytes | None = None,
    tsa_ca_pem: bytes | None = None,
    readme: str | None = None,
    readme_preamble: str | None = None,
    manifest_key: Ed25519PrivateKey,
    created_at: datetime | None = None,
    overwrite: bool = False,
) -> dict[str, str]:
    """Write an evidence pack to ``out_path``; return its manifest's file table (name -> sha256).

    ``events`` are (1-based position, canonical leaf bytes) pairs; ``inclusion_proofs`` maps each
    position to its proof against the latest (largest) checkpoint. ``consistency_proofs`` should
    link every checkpoint to the next and to the latest (``pack_proofs`` makes both kinds of proof
    from a ``MerkleTree``). ``readme`` replaces the generated README; ``readme_preamble`` is put
    before it. ``manifest_key``, the private key of a provider key in ``public_keys``, signs
    ``manifest.json`` (and so the analysis output and README); a pack without that signature does
    not verify. Raises ``PackError`` when the pack would exceed the verifier's limits (``layout``).
    The zip is deterministic for the same inputs. ``out_path`` is written without following
    symlinks and an existing file is refused unless ``overwrite``.
    """
    if not checkpoints:
        raise PackError("a pack needs at least one checkpoint")
    ordered = sorted(checkpoints, key=lambda c: (c.checkpoint.size, c.checkpoint.timestamp))
    latest = ordered[-1].checkpoint
    origins = {c.checkpoint.origin for c in ordered}
    if len(origins) != 1:
        raise PackError(f"checkpoints come from several logs: {sorted(origins)}")

    files: dict[str, bytes] = {}

    # Keys.
    key_roles: dict[str, str] = {}
    key_files: dict[str, str] = {}
    key_table = []
    for key in public_keys:
        if key.role not in ROLES:
            raise PackError(f"key role {key.role!r} is not one of {', '.join(ROLES)}")
        kid = key.key_id
        if kid in key_roles:
            raise PackError(f"key {short_key_id(kid)} is listed twice")
        key_roles[kid] = key.role
        name = layout.key_name(key.role, kid)
        key_files[kid] = name
        files[name] = key.public_key_pem
        key_table.append({"key_id": kid, "role": key.role, "file": name})
    files["keys.json"] = layout.json_bytes(key_table)
    signer = key_id(manifest_key.public_key()) if isinstance(manifest_key, Ed25519PrivateKey) else None
    if signer is None or key_roles.get(signer) != PROVIDER:
        raise PackError("the manifest must be signed by a provider key in the pack (verify-pack refuses it unsigned)")

    # Checkpoints, their bodies, signatures and tokens.
    files["checkpoints.jsonl"] = dump_jsonl(ordered)
    cp_files = []
    for number, signed in enumerate(ordered, start=1):
        directory = layout.checkpoint_dir(number)
        files[f"{directory}/body.txt"] = signed_body(signed.checkpoint)
        sig_files = []
        for sig in signed.signatures:
            if sig.key_id not in key_roles:
                raise PackError(f"checkpoint {number} is signed by key {sig.key_id[:16]}, not in the pack")
            name = f"{directory}/{sig.role}-{short_key_id(sig.key_id)}.sig"
            files[name] = sig.signature
            sig_files.append((name, sig.role, key_files[sig.key_id]))
        if signed.tsa_token is not None:
            files[f"{directory}/timestamp.tsr"] = response_from_token(signed.tsa_token)
        cp_files.append(CheckpointFiles(number, signed, directory, tuple(sig_files)))

    # Consistency proofs.
    roots = {c.checkpoint.size: c.checkpoint.root_hash for c in ordered}
    for proof in consistency_proofs:
        if proof.old_size not in roots or proof.new_size not in roots:
            raise PackError(f"consistency proof {proof.old_size}->{proof.new_size} is not between checkpoints")
        files[layout.consistency_name(proof.old_size, proof.new_size)] = layout.json_bytes(
            {
                "v": PACK_FORMAT_VERSION,
                "old_size": proof.old_size,
                "old_root": roots[proof.old_size].hex(),
                "new_size": proof.new_size,
                "new_root": roots[proof.new_size].hex(),
                "path": layout.hexes(proof.path),
            }
        )

    # Events and their inclusion proofs.
    lines = []
    example: tuple[int, str, str] | None = None
    for position, leaf_bytes in sorted(events):
        if b"\n" in leaf_bytes:
            raise PackError(f"event at position {position} is not canonical (holds a newline)")
        inclusion = inclusion_proofs.get(position)
        if inclusion is None:
            raise PackError(f"no inclusion proof for the event at position {position}")
        if inclusion.leaf_index != position - 1 or inclusion.tree_size != latest.size:
            raise PackError(
                f"inclusion proof for position {position} is for leaf {inclusion.leaf_index} of "
                f"{inclusion.tree_size}, not leaf {position - 1} of the latest checkpoint ({latest.size})"
            )
        leaf = leaf_hash_of_bytes(leaf_bytes)
        files[layout.event_name(position)] = leaf_bytes
        files[layout.proof_name(position)] = layout.json_bytes(
            {
                "v": PACK_FORMAT_VERSION,
                "position": position,
                "leaf_index": inclusion.leaf_index,
                "leaf_hash": leaf.hex(),
                "tree_size": inclusion.tree_size,
                "root_hash": latest.root_hash.hex(),
                "path": layout.hexes(inclusion.path),
            }
        )
        lines.append(leaf_bytes + b"\n")
        if example is None:
            example = (position, layout.event_name(position), leaf.hex())
    files["events.jsonl"] = b"".join(lines)

    if analysis_json is not None:
        files["analysis.json"] = analysis_json
    if tsa_ca_pem is not None:
        files["tsa/ca.pem"] = tsa_ca_pem

    when = created_at or latest.timestamp
    if readme is None:
        readme = render_readme(
            origin=latest.origin,
            created_at=when,
            event_count=len(events),
            latest=ordered[-1],
            checkpoints=cp_files,
            keys=key_table,
            example_event=example,
            has_analysis=analysis_json is not None,
            has_tsa_ca=tsa_ca_pem is not None,
            manifest_key_file=key_files[signer],
        )
    if readme_preamble:
        readme = readme_preamble.rstrip("\n") + "\n\n" + readme
    files[README] = readme.encode("utf-8")

    table = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
    manifest = layout.json_bytes(
        {
            "format": PACK_FORMAT,
            "v": PACK_FORMAT_VERSION,
            "origin": latest.origin,
            "created_at": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "latest_checkpoint": {"size": latest.size, "root_hash": latest.root_hash.hex()},
            "files": table,
        }
    )
    files[MANIFEST] = manifest
    files[MANIFEST_SIGNATURE] = manifest_key.sign(manifest)
    _check_limits(files)

    _write_zip(Path(out_path), files, when, overwrite)
    return table


def _check_limits(files: Mapping[str, bytes]) -> None:
    # Every pack made here must pass verify_pack's limits; the ratio limit is left to the data.
    if len(files) > MAX_MEMBERS:
        raise PackError(f"the pack would hold {len(files)} files; at most {MAX_MEMBERS} (select fewer events)")
    for name, data in files.items():
        limit = MAX_MEMBER_BYTES if name in STREAMED_MEMBERS else MAX_PARSED_MEMBER_BYTES
        if len(data) > limit:
            raise PackError(f"{name} would be {len(data)} bytes; at most {limit} (select fewer events)")
    total = sum(len(data) for data in files.values())
    if total > MAX_TOTAL_BYTES:
        raise PackError(f"the pack would hold {total} bytes; at most {MAX_TOTAL_BYTES} (select fewer events)")


def _write_zip(path: Path, files: Mapping[str, bytes], when: datetime, overwrite: bool) -> None:
    utc = when.astimezone(UTC)
    stamp = (
        max(utc.year, 1980),
        utc.month,
        utc.day,
        utc.hour,
        utc.minute,
        utc.second - utc.second % 2,
    )
    order = [README, MANIFEST, *sorted(n for n in files if n not in (README, MANIFEST))]
    # A new file beside the target, moved into place: never through a symlink, never over a file.
    with (
        safefile.creating(path, overwrite=overwrite) as fh,
        zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        for name in order:
            if name not in files:
                continue
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
