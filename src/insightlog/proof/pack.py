"""Evidence packs: a zip an inspector can check with nothing but the zip.

``build_pack`` writes selected events (their canonical leaf bytes), an inclusion proof for each
against the latest checkpoint, the signed checkpoints with their timestamp tokens, consistency
proofs between successive checkpoints and to the latest, the public keys, the analysis output, a
README for the inspector and a manifest with the SHA-256 of every file. ``verify_pack`` checks all
of it using only the pack and returns a ``PackReport``; it never prints.

Layout (positions are zero-padded to 10 digits, checkpoints numbered 0001... in size order)::

    README.txt                          plain-language guide, with OpenSSL commands
    manifest.json                       RFC 8785 JSON: format, origin, latest tree head, sha256 of every file
    manifest.sig                        optional Ed25519 signature over manifest.json by a provider key
    analysis.json                       the analysis output, as given (optional)
    events.jsonl                        every event's canonical bytes, one per line, in position order
    events/<position>.json              the same bytes, one file each (no trailing newline)
    proofs/<position>.json              inclusion proof of that event in the latest checkpoint
    checkpoints.jsonl                   the signed checkpoints (JSON Lines, as in the checkpoint file)
    checkpoints/<n>/body.txt            the exact signed body of checkpoint n
    checkpoints/<n>/<role>-<keyid16>.sig  raw 64-byte Ed25519 signature over body.txt
    checkpoints/<n>/timestamp.tsr       RFC 3161 TimeStampResp holding the checkpoint's token (if any)
    consistency/<old>-<new>.json        consistency proof between two checkpoint sizes
    keys.json                           the public keys: key_id, role, file
    keys/<role>-<keyid16>.pem           Ed25519 public keys (PEM SubjectPublicKeyInfo)
    tsa/ca.pem                          the timestamping authority's CA certificate (if given)
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from insightlog.proof.canonical import (
    LEAF_FORMAT_VERSION,
    canonicalize,
    leaf_hash_of_bytes,
    parse_json,
)
from insightlog.proof.checkpoint import (
    Checkpoint,
    SignedCheckpoint,
    dump_jsonl,
    load_jsonl,
    signed_body,
    verify_signature,
)
from insightlog.proof.keys import (
    PROVIDER,
    ROLES,
    key_id,
    public_key_from_pem,
    short_key_id,
)
from insightlog.proof.merkle import (
    ConsistencyProof,
    InclusionProof,
    MerkleTree,
    verify_consistency,
    verify_inclusion,
)
from insightlog.proof.tsa import response_from_token, token_from_response, verify_token

PACK_FORMAT = "insightlog-evidence-pack"
PACK_FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_SIGNATURE = "manifest.sig"
README = "README.txt"
MAX_MEMBER_BYTES = 256 * 1024 * 1024


class PackError(ValueError):
    """Raised when a pack cannot be built from the data given."""


@dataclass(frozen=True, slots=True)
class PackKey:
    """A public key to ship in a pack, with the role it signs in."""

    role: str
    public_key_pem: bytes

    @property
    def key_id(self) -> str:
        return key_id(public_key_from_pem(self.public_key_pem))


@dataclass(frozen=True, slots=True)
class Check:
    """One verification step: what was checked, whether it held, and why not (or what it found)."""

    subject: str
    ok: bool
    detail: str = ""


@dataclass
class PackReport:
    """The outcome of ``verify_pack``: every check in the order made, and what the pack claims."""

    path: str
    checks: list[Check] = field(default_factory=list)
    origin: str | None = None
    latest_size: int | None = None
    latest_root_hash: str | None = None
    key_ids: dict[str, str] = field(default_factory=dict)
    """key_id -> role for the keys in the pack; compare with the provider's published key id."""
    notes: list[str] = field(default_factory=list)
    """Limits of what was shown, in plain words (not failures)."""

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def first_failure(self) -> Check | None:
        failures = self.failures
        return failures[0] if failures else None

    def add(self, subject: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(Check(subject, ok, detail))
        return ok


# --------------------------------------------------------------------------- names and JSON


def _event_name(position: int) -> str:
    return f"events/{position:010d}.json"


def _proof_name(position: int) -> str:
    return f"proofs/{position:010d}.json"


def _checkpoint_dir(number: int) -> str:
    return f"checkpoints/{number:04d}"


def _consistency_name(old_size: int, new_size: int) -> str:
    return f"consistency/{old_size:010d}-{new_size:010d}.json"


def _key_name(role: str, full_key_id: str) -> str:
    return f"keys/{role}-{short_key_id(full_key_id)}.pem"


def _json(value: Any) -> bytes:
    return canonicalize(value)


def _hexes(path: Sequence[bytes]) -> list[str]:
    return [p.hex() for p in path]


def _unhex_list(value: Any, what: str) -> list[bytes]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what} is not a list of hex strings")
    return [_unhex(v, what) for v in value]


def _unhex(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != 64 or value != value.lower():
        raise ValueError(f"{what} is not 64 lowercase hex digits")
    return bytes.fromhex(value)


# --------------------------------------------------------------------------- building


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


@dataclass(frozen=True, slots=True)
class _CheckpointFiles:
    number: int
    signed: SignedCheckpoint
    directory: str
    signature_files: tuple[tuple[str, str, str], ...]  # (file, role, key file)


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
    manifest_key: Ed25519PrivateKey | None = None,
    created_at: datetime | None = None,
) -> dict[str, str]:
    """Write an evidence pack to ``out_path``; return its manifest's file table (name -> sha256).

    ``events`` are (1-based position, canonical leaf bytes) pairs; ``inclusion_proofs`` maps each
    position to its proof against the latest (largest) checkpoint. ``consistency_proofs`` should
    link every checkpoint to the next and to the latest (``pack_proofs`` makes both kinds of proof
    from a ``MerkleTree``). ``readme`` replaces the generated README; ``readme_preamble`` is put
    before it. ``manifest_key``, a provider private key, signs ``manifest.json`` (and so the
    analysis output). The zip is deterministic for the same inputs.
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
        name = _key_name(key.role, kid)
        key_files[kid] = name
        files[name] = key.public_key_pem
        key_table.append({"key_id": kid, "role": key.role, "file": name})
    files["keys.json"] = _json(key_table)

    # Checkpoints, their bodies, signatures and tokens.
    files["checkpoints.jsonl"] = dump_jsonl(ordered)
    cp_files = []
    for number, signed in enumerate(ordered, start=1):
        directory = _checkpoint_dir(number)
        files[f"{directory}/body.txt"] = signed_body(signed.checkpoint)
        sig_files = []
        for sig in signed.signatures:
            if sig.key_id not in key_roles:
                raise PackError(
                    f"checkpoint {number} is signed by key {sig.key_id[:16]}, not in the pack"
                )
            name = f"{directory}/{sig.role}-{short_key_id(sig.key_id)}.sig"
            files[name] = sig.signature
            sig_files.append((name, sig.role, key_files[sig.key_id]))
        if signed.tsa_token is not None:
            files[f"{directory}/timestamp.tsr"] = response_from_token(signed.tsa_token)
        cp_files.append(_CheckpointFiles(number, signed, directory, tuple(sig_files)))

    # Consistency proofs.
    roots = {c.checkpoint.size: c.checkpoint.root_hash for c in ordered}
    for proof in consistency_proofs:
        if proof.old_size not in roots or proof.new_size not in roots:
            raise PackError(
                f"consistency proof {proof.old_size}->{proof.new_size} is not between checkpoints"
            )
        files[_consistency_name(proof.old_size, proof.new_size)] = _json(
            {
                "v": PACK_FORMAT_VERSION,
                "old_size": proof.old_size,
                "old_root": roots[proof.old_size].hex(),
                "new_size": proof.new_size,
                "new_root": roots[proof.new_size].hex(),
                "path": _hexes(proof.path),
            }
        )

    # Events and their inclusion proofs.
    lines = []
    example: tuple[int, str, str] | None = None
    for position, leaf_bytes in sorted(events):
        if b"\n" in leaf_bytes:
            raise PackError(f"event at position {position} is not canonical (holds a newline)")
        proof = inclusion_proofs.get(position)
        if proof is None:
            raise PackError(f"no inclusion proof for the event at position {position}")
        if proof.leaf_index != position - 1 or proof.tree_size != latest.size:
            raise PackError(
                f"inclusion proof for position {position} is for leaf {proof.leaf_index} of "
                f"{proof.tree_size}, not leaf {position - 1} of the latest checkpoint ({latest.size})"
            )
        leaf = leaf_hash_of_bytes(leaf_bytes)
        files[_event_name(position)] = leaf_bytes
        files[_proof_name(position)] = _json(
            {
                "v": PACK_FORMAT_VERSION,
                "position": position,
                "leaf_index": proof.leaf_index,
                "leaf_hash": leaf.hex(),
                "tree_size": proof.tree_size,
                "root_hash": latest.root_hash.hex(),
                "path": _hexes(proof.path),
            }
        )
        lines.append(leaf_bytes + b"\n")
        if example is None:
            example = (position, _event_name(position), leaf.hex())
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
            signed_manifest=manifest_key is not None,
        )
    if readme_preamble:
        readme = readme_preamble.rstrip("\n") + "\n\n" + readme
    files[README] = readme.encode("utf-8")

    table = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
    manifest = _json(
        {
            "format": PACK_FORMAT,
            "v": PACK_FORMAT_VERSION,
            "origin": latest.origin,
            "created_at": when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "latest_checkpoint": {"size": latest.size, "root_hash": latest.root_hash.hex()},
            "files": table,
        }
    )
    files[MANIFEST] = manifest
    if manifest_key is not None:
        signer = key_id(manifest_key.public_key())
        if key_roles.get(signer) != PROVIDER:
            raise PackError("the manifest signing key is not a provider key in the pack")
        files[MANIFEST_SIGNATURE] = manifest_key.sign(manifest)

    _write_zip(Path(out_path), files, when)
    return table


def _write_zip(path: Path, files: Mapping[str, bytes], when: datetime) -> None:
    utc = when.astimezone(timezone.utc)
    stamp = (
        max(utc.year, 1980),
        utc.month,
        utc.day,
        utc.hour,
        utc.minute,
        utc.second - utc.second % 2,
    )
    order = [README, MANIFEST] + sorted(n for n in files if n not in (README, MANIFEST))
    tmp = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in order:
            if name not in files:
                continue
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    os.replace(tmp, path)


# --------------------------------------------------------------------------- README


def render_readme(
    *,
    origin: str,
    created_at: datetime,
    event_count: int,
    latest: SignedCheckpoint,
    checkpoints: Sequence[_CheckpointFiles],
    keys: Sequence[Mapping[str, str]],
    example_event: tuple[int, str, str] | None,
    has_analysis: bool,
    has_tsa_ca: bool,
    signed_manifest: bool,
) -> str:
    """The plain-language README for the inspector, with the OpenSSL commands for this pack."""
    cp = latest.checkpoint
    when = created_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    out: list[str] = []
    w = out.append
    w("EVIDENCE PACK")
    w("=============")
    w("")
    w(f"Log (store) identifier: {origin}")
    w(f"Pack made: {when}")
    w(f"Events in this pack: {event_count}")
    w(
        f"Latest checkpoint: {cp.size} events in the whole log, root hash {cp.root_hash.hex()}, "
        f"signed {cp.timestamp.strftime('%Y-%m-%d %H:%M:%S UTC')}"
    )
    w("")
    w("WHAT THIS PACK PROVES")
    w("")
    w("The provider's records are kept in an append-only log. Every event ever written is a leaf")
    w("of one Merkle tree (the scheme of RFC 9162, Certificate Transparency), in the order it was")
    w("written. From time to time the provider signs a 'checkpoint': the number of events so far")
    w("and the tree's root hash, a 32-byte fingerprint of all of them. An independent")
    w("timestamping authority may countersign it (RFC 3161), and a second key holder (a witness)")
    w("may co-sign it. This pack lets you check, with nothing but this zip:")
    w("")
    w("  1. that each event in events/ is exactly as it was written to the log (its leaf hash")
    w("     and inclusion proof lead to the root hash in the latest signed checkpoint);")
    w("  2. that the checkpoints are signed by the keys in keys/ and, where present, were")
    w("     timestamped by the authority no later than the time in the token;")
    w("  3. that each checkpoint is an earlier state of the next one: nothing was removed or")
    w("     changed between them, only added (consistency proofs in consistency/);")
    w("  4. that no file in the pack was altered (manifest.json lists the SHA-256 of every file)")
    w(
        "     and that the manifest, and so the analysis output, was signed by the provider."
        if signed_manifest
        else "     (the manifest itself is not signed: the analysis output is only as trustworthy"
    )
    if not signed_manifest:
        w("     as the hands it came through; the events and checkpoints are signed).")
    w("")
    w("What it does not prove: that the provider wrote true things. It shows the record was")
    w("not rewritten after the fact. Events marked 'backfill:' in their ledger.source were")
    w("entered after the time they describe; their recorded time rests on the provider's word.")
    w("")
    w("Check the key ids below against the ones the provider published or gave you separately:")
    w("a pack can only show that its contents agree with the keys inside it.")
    w("")
    for key in keys:
        w(f"  {key['role']:<9} {key['key_id']}  ({key['file']})")
    w("")
    w("THE FILES")
    w("")
    w("  README.txt              this text")
    w("  manifest.json           SHA-256 of every other file")
    if signed_manifest:
        w("  manifest.sig            provider's Ed25519 signature over manifest.json")
    if has_analysis:
        w("  analysis.json           the analysis output this pack supports")
    w("  events.jsonl            the events, one per line (the exact bytes that were hashed)")
    w("  events/NNNNNNNNNN.json  the same, one file per event, named by log position")
    w("  proofs/NNNNNNNNNN.json  that event's leaf hash and inclusion proof")
    w("  checkpoints.jsonl       the signed checkpoints")
    w("  checkpoints/NNNN/       per checkpoint: body.txt (the signed text), *.sig (signatures),")
    w("                          timestamp.tsr (RFC 3161 timestamp, if any)")
    w("  consistency/            proofs that each checkpoint extends the one before")
    w("  keys/                   the public keys (PEM)")
    if has_tsa_ca:
        w("  tsa/ca.pem              the timestamping authority's CA certificate")
    w("")
    w("CHECKING WITH INSIGHTLOG")
    w("")
    w("    insightlog verify-pack THIS-PACK.zip")
    w("")
    w("It needs only this file, and reports each check with its result.")
    w("")
    w("CHECKING WITH STANDARD TOOLS (OpenSSL 3.0 or later)")
    w("")
    w("Unzip the pack and run these in its folder.")
    w("")
    w("a) File integrity. Each file's SHA-256 must equal its entry in manifest.json:")
    w("")
    w("    openssl dgst -sha256 events.jsonl")
    w("")
    if signed_manifest:
        provider = next((k for k in keys if k["role"] == PROVIDER), None)
        if provider is not None:
            w(
                "   and the manifest's signature must verify (prints 'Signature Verified Successfully'):"
            )
            w("")
            w(
                f"    openssl pkeyutl -verify -pubin -inkey {provider['file']} -rawin "
                f"-in manifest.json -sigfile manifest.sig"
            )
            w("")
    w("b) Checkpoint signatures. Each must print 'Signature Verified Successfully':")
    w("")
    for files in checkpoints:
        for sig_file, _role, key_file in files.signature_files:
            w(
                f"    openssl pkeyutl -verify -pubin -inkey {key_file} -rawin "
                f"-in {files.directory}/body.txt -sigfile {sig_file}"
            )
    w("")
    w("   body.txt holds four lines: log identifier, number of events, root hash (base64) and")
    w("   time. The root hash in hex, as in the other files, is:")
    w("")
    w(
        f"    sed -n 3p {checkpoints[-1].directory}/body.txt | openssl base64 -d "
        "| od -An -v -tx1 | tr -d ' \\n'"
    )
    w("")
    with_tokens = [f for f in checkpoints if f.signed.tsa_token is not None]
    if with_tokens:
        w("c) Timestamps. Each must print 'Verification: OK'. The authority's token says the")
        w("   checkpoint existed at the time it states:")
        w("")
        ca = "tsa/ca.pem" if has_tsa_ca else "TSA-CA.pem"
        for files in with_tokens:
            w(
                f"    openssl ts -verify -in {files.directory}/timestamp.tsr "
                f"-data {files.directory}/body.txt -CAfile {ca}"
            )
        w("")
        if not has_tsa_ca:
            w("   TSA-CA.pem is the timestamping authority's CA certificate, from the authority.")
        else:
            w("   tsa/ca.pem came with the pack; compare it with the authority's published CA.")
        w("   To read a token:  openssl ts -reply -in <file>.tsr -text")
        w("")
    else:
        w("c) Timestamps: none of these checkpoints carries an RFC 3161 timestamp.")
        w("")
    w("d) Leaf hashes. A leaf hash is SHA-256 of one zero byte followed by the event's bytes:")
    w("")
    if example_event is not None:
        _position, name, leaf_hex = example_event
        w(f"    printf '\\000' | cat - {name} | openssl dgst -sha256")
        w("")
        w(f"   gives {leaf_hex}, the leaf_hash in proofs/{name.split('/')[1]}.")
    else:
        w("    printf '\\000' | cat - events/NNNNNNNNNN.json | openssl dgst -sha256")
    w("")
    w("e) Inclusion and consistency proofs. OpenSSL does not walk Merkle proofs; the steps are")
    w("   in RFC 9162 sections 2.1.3.2 (inclusion) and 2.1.4.2 (consistency), with SHA-256,")
    w("   leaf prefix 0x00 and node prefix 0x01. Each proofs/ file gives leaf_index (the log")
    w("   position minus one), tree_size, leaf_hash, the path (hex, leaf side first) and the")
    w("   root_hash it must reach, which is the latest checkpoint's. Each consistency/ file gives")
    w("   old_size, old_root, new_size, new_root and the path. Any RFC 9162 or Certificate")
    w("   Transparency library can check them.")
    w("")
    w("HOW AN EVENT IS ENCODED")
    w("")
    w("Each event file is the RFC 8785 (JSON Canonicalization Scheme) form of one JSON object")
    w(
        f'with the member "v": {LEAF_FORMAT_VERSION}, the 13 interchange envelope fields (event_id, service,'
    )
    w("theme, location, team, shift, kind, actor_role, actor_id, record, observed_at,")
    w("recorded_at, payload) and 'ledger' {position, appended_at, source}: no spaces, members")
    w("sorted, UTF-8. The same event always gives the same bytes, whatever database held it.")
    w("")
    return "\n".join(out)


# --------------------------------------------------------------------------- verifying


def _load_json(data: bytes, what: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"{what} is not JSON: {exc}") from None


def _read_members(path: str, report: PackReport) -> dict[str, bytes] | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if len(names) != len(set(names)):
                report.add("pack", False, "the zip holds two members with the same name")
                return None
            members = {}
            for info in archive.infolist():
                if info.is_dir():
                    continue
                if info.file_size > MAX_MEMBER_BYTES:
                    report.add(info.filename, False, "member is too large")
                    return None
                try:
                    members[info.filename] = archive.read(info)
                except (zipfile.BadZipFile, OSError) as exc:
                    report.add(info.filename, False, f"cannot be read from the zip: {exc}")
                    return None
    except (zipfile.BadZipFile, OSError) as exc:
        report.add("pack", False, f"not a readable zip file: {exc}")
        return None
    report.add("pack", True, f"zip with {len(members)} files")
    return members


def _guard(report: PackReport, subject: str, step: Callable[[], None]) -> None:
    # A pack is untrusted input: whatever goes wrong while checking becomes a failed check.
    try:
        step()
    except Exception as exc:  # noqa: BLE001
        report.add(subject, False, f"{type(exc).__name__}: {exc}")


def _file_position(name: str, prefix: str) -> int | None:
    stem = name[len(prefix) : -len(".json")]
    if name.startswith(prefix) and name.endswith(".json") and len(stem) == 10 and stem.isdigit():
        return int(stem)
    return None


def verify_pack(path: str | os.PathLike[str]) -> PackReport:
    """Check an evidence pack using nothing but its contents; never raises for a bad pack.

    Checks, in order: the zip opens; ``manifest.json`` is well formed and every file's SHA-256
    matches it with no file missing or unlisted (and ``manifest.sig`` verifies, if present); the
    keys parse and their ids match; each checkpoint's ``body.txt`` is its signed body, every
    signature verifies with its key in the role it claims, and each checkpoint has a provider
    signature; each timestamp token verifies over the checkpoint body (and chains to
    ``tsa/ca.pem`` if present); successive checkpoints are consistent; each event's bytes are
    canonical, its leaf hash matches its proof, and its inclusion proof reaches the latest
    checkpoint's root.
    """
    report = PackReport(os.fspath(path))
    members = _read_members(report.path, report)
    if members is None:
        return report

    _guard(report, MANIFEST, lambda: _check_manifest(members, report))
    keys: dict[str, tuple[str, Ed25519PublicKey]] = {}
    _guard(report, "keys.json", lambda: _check_keys(members, report, keys))
    if MANIFEST_SIGNATURE in members:
        _guard(report, MANIFEST_SIGNATURE, lambda: _check_manifest_signature(members, report, keys))
    else:
        report.notes.append(
            "manifest.json is not signed: analysis.json and README.txt are protected against "
            "accidental damage only; events and checkpoints are covered by signatures"
        )
    checkpoints: list[SignedCheckpoint] = []
    _guard(
        report, "checkpoints.jsonl", lambda: _check_checkpoints(members, report, keys, checkpoints)
    )
    if checkpoints:
        _guard(report, "consistency", lambda: _check_consistency(members, report, checkpoints))
        _guard(report, "events", lambda: _check_events(members, report, checkpoints[-1]))
    if "analysis.json" in members:
        _guard(report, "analysis.json", lambda: _check_analysis(members, report))
    if any(c.tsa_token is not None for c in checkpoints) and "tsa/ca.pem" not in members:
        report.notes.append(
            "the timestamping authority's certificate was not checked against a CA "
            "(the pack has no tsa/ca.pem)"
        )
    report.notes.append(
        "the pack shows agreement with the keys inside it: compare their ids with the ones "
        "the provider published"
    )
    return report


def _check_analysis(members: Mapping[str, bytes], report: PackReport) -> None:
    _load_json(members["analysis.json"], "analysis.json")
    report.add("analysis.json", True, "well-formed JSON")


def _check_manifest(members: Mapping[str, bytes], report: PackReport) -> None:
    if MANIFEST not in members:
        report.add(MANIFEST, False, "manifest.json is missing")
        return
    manifest = _load_json(members[MANIFEST], MANIFEST)
    expected = {"format", "v", "origin", "created_at", "latest_checkpoint", "files"}
    if not isinstance(manifest, dict) or set(manifest) != expected:
        report.add(MANIFEST, False, "manifest.json does not have the expected members")
        return
    if manifest["format"] != PACK_FORMAT or manifest["v"] != PACK_FORMAT_VERSION:
        report.add(MANIFEST, False, "manifest.json names another format or version")
        return
    if canonicalize(manifest) != members[MANIFEST]:
        report.add(MANIFEST, False, "manifest.json is not in canonical form")
        return
    table = manifest["files"]
    if not isinstance(table, dict):
        report.add(MANIFEST, False, "manifest.json 'files' is not an object")
        return
    report.origin = manifest["origin"] if isinstance(manifest["origin"], str) else None
    report.add(MANIFEST, True, f"lists {len(table)} files")
    for name in sorted(table):
        digest = table[name]
        if name not in members:
            report.add(name, False, "listed in manifest.json but missing from the pack")
        elif hashlib.sha256(members[name]).hexdigest() != digest:
            report.add(name, False, "SHA-256 differs from manifest.json: the file was altered")
        else:
            report.add(name, True, "SHA-256 matches manifest.json")
    for name in sorted(members):
        if name not in table and name not in (MANIFEST, MANIFEST_SIGNATURE):
            report.add(name, False, "in the pack but not listed in manifest.json")
    latest = manifest["latest_checkpoint"]
    if isinstance(latest, dict):
        report.latest_size = latest.get("size")
        report.latest_root_hash = latest.get("root_hash")


def _check_keys(
    members: Mapping[str, bytes],
    report: PackReport,
    keys: dict[str, tuple[str, Ed25519PublicKey]],
) -> None:
    table = _load_json(members["keys.json"], "keys.json") if "keys.json" in members else None
    if not isinstance(table, list):
        report.add("keys.json", False, "keys.json is missing or not a list")
        return
    for item in table:
        if not isinstance(item, dict) or set(item) != {"key_id", "role", "file"}:
            report.add("keys.json", False, "a key entry lacks key_id, role or file")
            continue
        name, role, kid = item["file"], item["role"], item["key_id"]
        if role not in ROLES:
            report.add(str(name), False, f"role {role!r} is not provider or witness")
            continue
        if name not in members:
            report.add(str(name), False, "key file listed in keys.json is missing")
            continue
        try:
            public_key = public_key_from_pem(members[name])
        except ValueError as exc:
            report.add(name, False, f"not an Ed25519 public key: {exc}")
            continue
        if key_id(public_key) != kid:
            report.add(name, False, f"key id in keys.json is not this key's ({key_id(public_key)})")
            continue
        if kid in keys:
            report.add(name, False, "the same key is listed twice")
            continue
        keys[kid] = (role, public_key)
        report.key_ids[kid] = role
        report.add(name, True, f"{role} key {kid}")


def _check_manifest_signature(
    members: Mapping[str, bytes],
    report: PackReport,
    keys: Mapping[str, tuple[str, Ed25519PublicKey]],
) -> None:
    signature = members[MANIFEST_SIGNATURE]
    for kid, (role, public_key) in keys.items():
        if role != PROVIDER:
            continue
        try:
            public_key.verify(signature, members.get(MANIFEST, b""))
        except InvalidSignature:
            continue
        report.add(MANIFEST_SIGNATURE, True, f"manifest.json signed by provider key {kid[:16]}")
        return
    report.add(
        MANIFEST_SIGNATURE,
        False,
        "manifest.sig is not a provider key's signature over manifest.json",
    )


def _check_checkpoints(
    members: Mapping[str, bytes],
    report: PackReport,
    keys: Mapping[str, tuple[str, Ed25519PublicKey]],
    out: list[SignedCheckpoint],
) -> None:
    if "checkpoints.jsonl" not in members:
        report.add("checkpoints.jsonl", False, "checkpoints.jsonl is missing")
        return
    records = load_jsonl(members["checkpoints.jsonl"])
    if not records:
        report.add("checkpoints.jsonl", False, "the pack holds no checkpoint")
        return
    report.add("checkpoints.jsonl", True, f"{len(records)} checkpoints")
    ca_pem = members.get("tsa/ca.pem")
    expected_files = set()
    for number, signed in enumerate(records, start=1):
        cp = signed.checkpoint
        directory = _checkpoint_dir(number)
        subject = f"checkpoint {number} (size {cp.size})"
        body = signed_body(cp)
        body_name = f"{directory}/body.txt"
        expected_files.add(body_name)
        report.add(
            body_name,
            members.get(body_name) == body,
            "" if members.get(body_name) == body else f"is not the signed body of {subject}",
        )
        providers = 0
        for sig in signed.signatures:
            name = f"{directory}/{sig.role}-{short_key_id(sig.key_id)}.sig"
            expected_files.add(name)
            sig_subject = f"{subject}: {sig.role} signature by key {sig.key_id[:16]}"
            if members.get(name) != sig.signature:
                report.add(name, False, f"does not hold the {sig_subject}")
            known = keys.get(sig.key_id)
            if known is None:
                report.add(sig_subject, False, "the key is not in keys/")
                continue
            if known[0] != sig.role:
                report.add(sig_subject, False, f"the key is a {known[0]} key")
                continue
            if verify_signature(cp, sig, known[1]):
                report.add(sig_subject, True, "Ed25519 signature verifies")
                providers += sig.role == PROVIDER
            else:
                report.add(sig_subject, False, "Ed25519 signature does not verify")
        report.add(
            f"{subject}: provider signature",
            providers > 0,
            "" if providers else "no valid provider signature",
        )
        token_name = f"{directory}/timestamp.tsr"
        if signed.tsa_token is not None:
            expected_files.add(token_name)
            _check_token_guarded(members, report, signed, token_name, subject, body, ca_pem)
        if number > 1:
            previous = records[number - 2].checkpoint
            in_order = previous.size <= cp.size and previous.timestamp <= cp.timestamp
            same_log = previous.origin == cp.origin
            report.add(
                f"{subject}: order",
                in_order and same_log,
                ""
                if in_order and same_log
                else "checkpoints are not in order of size and time, or come from another log",
            )
    for name in sorted(members):
        if name.startswith("checkpoints/") and name not in expected_files:
            report.add(name, False, "is not part of any checkpoint in checkpoints.jsonl")
    out.extend(records)
    latest = records[-1].checkpoint
    if report.latest_size is not None and (
        report.latest_size != latest.size or report.latest_root_hash != latest.root_hash.hex()
    ):
        report.add(
            MANIFEST,
            False,
            "manifest.json's latest checkpoint is not the last in checkpoints.jsonl",
        )
    report.origin = latest.origin
    report.latest_size = latest.size
    report.latest_root_hash = latest.root_hash.hex()


def _check_token_guarded(
    members: Mapping[str, bytes],
    report: PackReport,
    signed: SignedCheckpoint,
    token_name: str,
    subject: str,
    body: bytes,
    ca_pem: bytes | None,
) -> None:
    _guard(
        report,
        f"{subject}: timestamp",
        lambda: _check_token(members, report, signed, token_name, subject, body, ca_pem),
    )


def _check_token(
    members: Mapping[str, bytes],
    report: PackReport,
    signed: SignedCheckpoint,
    token_name: str,
    subject: str,
    body: bytes,
    ca_pem: bytes | None,
) -> None:
    token = signed.tsa_token
    if token is None:
        return
    if token_name not in members or token_from_response(members[token_name]) != token:
        report.add(token_name, False, f"does not hold the timestamp token of {subject}")
    info = verify_token(token, body, ca_pem)
    chain = "chains to tsa/ca.pem" if ca_pem is not None else "CA not checked (no tsa/ca.pem)"
    report.add(
        f"{subject}: timestamp",
        True,
        f"RFC 3161 token from {info.tsa_subject}, genTime "
        f"{info.gen_time.strftime('%Y-%m-%dT%H:%M:%SZ')}, {chain}",
    )


def _check_consistency(
    members: Mapping[str, bytes], report: PackReport, checkpoints: Sequence[SignedCheckpoint]
) -> None:
    roots = {}
    for signed in checkpoints:
        cp = signed.checkpoint
        if roots.setdefault(cp.size, cp.root_hash) != cp.root_hash:
            report.add(
                f"checkpoints of size {cp.size}", False, "two checkpoints of the same size differ"
            )
    sizes = sorted(roots)
    proven: set[tuple[int, int]] = set()
    for name in sorted(n for n in members if n.startswith("consistency/")):
        subject = name
        data = _load_json(members[name], name)
        if not isinstance(data, dict) or data.get("v") != PACK_FORMAT_VERSION:
            report.add(name, False, "not a consistency proof record")
            continue
        old_size, new_size = data.get("old_size"), data.get("new_size")
        if old_size not in roots or new_size not in roots:
            report.add(name, False, "is not between two checkpoints of the pack")
            continue
        if name != _consistency_name(old_size, new_size):
            report.add(name, False, "file name does not match the sizes inside")
            continue
        if (
            _unhex(data.get("old_root"), "old_root") != roots[old_size]
            or _unhex(data.get("new_root"), "new_root") != roots[new_size]
        ):
            report.add(name, False, "roots differ from the checkpoints'")
            continue
        path = _unhex_list(data.get("path"), "path")
        ok = verify_consistency(old_size, new_size, roots[old_size], roots[new_size], path)
        report.add(
            subject,
            ok,
            f"checkpoint of size {old_size} is a prefix of size {new_size}"
            if ok
            else "the consistency proof does not verify",
        )
        if ok:
            proven.add((old_size, new_size))
    for old_size, new_size in pairwise(sizes):
        if (old_size, new_size) not in proven:
            report.add(
                f"consistency {old_size} -> {new_size}",
                False,
                "no verified consistency proof between these successive checkpoints",
            )


def _check_events(
    members: Mapping[str, bytes], report: PackReport, latest_signed: SignedCheckpoint
) -> None:
    latest = latest_signed.checkpoint
    event_positions = sorted(
        p for p in (_file_position(n, "events/") for n in members) if p is not None
    )
    proof_positions = {p for p in (_file_position(n, "proofs/") for n in members) if p is not None}
    for name in members:
        if (name.startswith("events/") and _file_position(name, "events/") is None) or (
            name.startswith("proofs/") and _file_position(name, "proofs/") is None
        ):
            report.add(name, False, "unexpected file name")
    for position in sorted(proof_positions - set(event_positions)):
        report.add(_proof_name(position), False, "proof without its event")

    expected_lines = b"".join(members[_event_name(p)] + b"\n" for p in event_positions)
    jsonl_ok = members.get("events.jsonl") == expected_lines
    report.add(
        "events.jsonl",
        jsonl_ok,
        f"{len(event_positions)} events, same bytes as events/"
        if jsonl_ok
        else "does not list exactly the bytes of events/, in position order",
    )
    for position in event_positions:
        _check_event_guarded(members, report, position, latest)


def _check_event_guarded(
    members: Mapping[str, bytes], report: PackReport, position: int, latest: Checkpoint
) -> None:
    name = _event_name(position)
    _guard(report, name, lambda: _check_event(members, report, position, name, latest))


def _check_event(
    members: Mapping[str, bytes],
    report: PackReport,
    position: int,
    name: str,
    latest: Checkpoint,
) -> None:
    data = members[name]
    event = parse_json(data)
    label = (
        f"event {event.get('event_id')!r} (position {position})"
        if isinstance(event, dict)
        else name
    )
    if not isinstance(event, dict) or canonicalize(event) != data:
        report.add(name, False, "the event is not in RFC 8785 canonical form")
        return
    ledger = event.get("ledger")
    if (
        event.get("v") != LEAF_FORMAT_VERSION
        or not isinstance(ledger, dict)
        or (ledger.get("position") != position)
    ):
        report.add(name, False, "version or ledger.position does not match the file name")
        return
    leaf = leaf_hash_of_bytes(data)
    proof_name = _proof_name(position)
    if proof_name not in members:
        report.add(f"inclusion of {label}", False, f"{proof_name} is missing")
        return
    proof = _load_json(members[proof_name], proof_name)
    if not isinstance(proof, dict) or proof.get("position") != position:
        report.add(proof_name, False, "not an inclusion proof for this position")
        return
    if _unhex(proof.get("leaf_hash"), "leaf_hash") != leaf:
        report.add(
            f"inclusion of {label}",
            False,
            f"leaf hash in {proof_name} is not SHA-256(0x00 || {name})",
        )
        return
    if (
        proof.get("tree_size") != latest.size
        or _unhex(proof.get("root_hash"), "root_hash") != latest.root_hash
    ):
        report.add(
            f"inclusion of {label}", False, f"{proof_name} is not against the latest checkpoint"
        )
        return
    index = proof.get("leaf_index")
    if index != position - 1:
        report.add(f"inclusion of {label}", False, f"{proof_name} leaf_index is not position - 1")
        return
    path = _unhex_list(proof.get("path"), "path")
    ok = verify_inclusion(leaf, index, latest.size, path, latest.root_hash)
    report.add(
        f"inclusion of {label}",
        ok,
        f"leaf {leaf.hex()[:16]}... is in the log of {latest.size} at index {index}"
        if ok
        else f"the inclusion proof in {proof_name} does not reach the latest root",
    )
