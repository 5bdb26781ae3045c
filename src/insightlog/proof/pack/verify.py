"""Verifying an evidence pack with nothing but the pack; the report of every check made.

A pack is hostile input. Before any member is read, the zip's table of contents is checked: its
size and member count, every member's name (no '..', absolute path, backslash, drive letter or
other character outside the layout's alphabet; no duplicate, not even by case), no directory or
encrypted entry, only stored or deflated members, and each member's declared size, the total and
the compression ratio within the limits in ``layout``. Members are then read on demand, streamed
for hashing and held whole only when parsed (at most ``MAX_PARSED_MEMBER_BYTES``), and the zip
reader never yields more than a member declares, so memory stays bounded whatever the zip holds.

This module must stay importable without the store: no eventsourcing, SQLAlchemy, psycopg or
sqlite3 (tests/proof/test_pack_imports.py checks it in a fresh interpreter).
"""

from __future__ import annotations

import hashlib
import os
import struct
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from insightlog.proof.canonical import LEAF_FORMAT_VERSION, canonicalize, leaf_hash_of_bytes, parse_json
from insightlog.proof.checkpoint import Checkpoint, SignedCheckpoint, load_jsonl, signed_body, verify_signature
from insightlog.proof.keys import PROVIDER, ROLES, key_id, public_key_from_pem, short_key_id
from insightlog.proof.merkle import verify_consistency, verify_inclusion
from insightlog.proof.pack import layout
from insightlog.proof.pack.layout import (
    MANIFEST,
    MANIFEST_SIGNATURE,
    MAX_CENTRAL_DIRECTORY_BYTES,
    MAX_COMPRESSION_RATIO,
    MAX_MEMBER_BYTES,
    MAX_MEMBERS,
    MAX_PARSED_MEMBER_BYTES,
    MAX_TOTAL_BYTES,
    PACK_FORMAT,
    PACK_FORMAT_VERSION,
    RATIO_FLOOR_BYTES,
)
from insightlog.proof.tsa import token_from_response, verify_token

CHUNK = 1024 * 1024
_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record, 22 bytes
_EOCD64_LOCATOR = struct.Struct("<4sLQL")  # 20 bytes
_EOCD64 = struct.Struct("<4sQ2H2L4Q")  # 56 bytes


@dataclass(frozen=True, slots=True)
class Check:
    """One verification step: what was checked, whether it held, and why not (or what it found)."""

    subject: str
    ok: bool
    detail: str = ""


def _printable(text: str) -> str:
    # Names and messages come from the pack: escape anything a terminal could act on.
    return text if text.isprintable() and text.isascii() else ascii(text)[1:-1]


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
        self.checks.append(Check(_printable(subject), ok, _printable(detail)))
        return ok


@dataclass(frozen=True, slots=True)
class TrustedKeys:
    """Public keys the inspector trusts, from outside the pack (the provider's published key).

    When ``providers`` is not empty every provider signature in the pack (each checkpoint's and
    the manifest's) must be by one of them, and each checkpoint needs one; when ``witnesses`` is
    not empty every witness signature must be by one of those.
    """

    providers: Mapping[str, Ed25519PublicKey] = field(default_factory=dict)
    witnesses: Mapping[str, Ed25519PublicKey] = field(default_factory=dict)

    @classmethod
    def of(cls, providers: Iterable[Ed25519PublicKey] = (), witnesses: Iterable[Ed25519PublicKey] = ()) -> TrustedKeys:
        return cls({key_id(k): k for k in providers}, {key_id(k): k for k in witnesses})

    def for_role(self, role: str) -> Mapping[str, Ed25519PublicKey]:
        return self.providers if role == PROVIDER else self.witnesses


class PackMembers(Mapping[str, bytes]):
    """The members of an open pack, read from the zip on demand and never all at once.

    ``members[name]`` is the whole member (for the ones that are parsed, at most
    ``MAX_PARSED_MEMBER_BYTES``); ``sha256`` and ``chunks`` stream it. A read that fails (bad
    CRC, truncated data, a member larger than it declared) raises ``ValueError`` naming it.
    """

    def __init__(self, archive: zipfile.ZipFile, infos: Mapping[str, zipfile.ZipInfo]) -> None:
        self._archive = archive
        self._infos = dict(infos)

    def __getitem__(self, name: str) -> bytes:
        info = self._infos[name]
        if info.file_size > MAX_PARSED_MEMBER_BYTES:
            raise ValueError(
                f"{name} is {info.file_size} bytes; members the verifier parses are at most {MAX_PARSED_MEMBER_BYTES}"
            )
        return b"".join(self.chunks(name))

    def __iter__(self) -> Iterator[str]:
        return iter(self._infos)

    def __len__(self) -> int:
        return len(self._infos)

    def __contains__(self, name: object) -> bool:
        return name in self._infos

    def chunks(self, name: str) -> Iterator[bytes]:
        info = self._infos[name]
        try:
            with self._archive.open(info) as stream:
                while chunk := stream.read(CHUNK):
                    yield chunk
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
            raise ValueError(f"{name} cannot be read from the zip: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - zlib.error and the like: a damaged member
            raise ValueError(f"{name} cannot be read from the zip: {type(exc).__name__}: {exc}") from None

    def sha256(self, name: str) -> str:
        digest = hashlib.sha256()
        for chunk in self.chunks(name):
            digest.update(chunk)
        return digest.hexdigest()


def _load_json(data: bytes, what: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"{what} is not JSON: {exc}") from None


def _directory_limits(path: str) -> str | None:
    """Why the zip's table of contents is refused before it is parsed, or None.

    A pack's zip ends with its end-of-central-directory record (no archive comment), so this
    reads the same record ``zipfile`` will, and bounds the directory it will read into memory.
    """
    with open(path, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        if size < _EOCD.size:
            return "not a readable zip file: too short"
        fh.seek(size - _EOCD.size)
        signature, _disk, _cd_disk, _here, total, cd_size, _cd_offset, comment = _EOCD.unpack(fh.read(_EOCD.size))
        if signature != b"PK\x05\x06":
            return "not a readable zip file: it does not end with a zip directory (or has a comment)"
        if comment:
            return "a pack's zip has no archive comment"
        where = size - _EOCD.size - _EOCD64_LOCATOR.size
        if where >= _EOCD64.size:
            fh.seek(where)
            locator = _EOCD64_LOCATOR.unpack(fh.read(_EOCD64_LOCATOR.size))
            if locator[0] == b"PK\x06\x07":
                fh.seek(where - _EOCD64.size)
                record = _EOCD64.unpack(fh.read(_EOCD64.size))
                if record[0] == b"PK\x06\x06":
                    total, cd_size = record[7], record[8]
    if total > MAX_MEMBERS:
        return f"the zip lists {total} members; a pack holds at most {MAX_MEMBERS}"
    if cd_size > MAX_CENTRAL_DIRECTORY_BYTES:
        return f"the zip's directory is {cd_size} bytes; a pack's is at most {MAX_CENTRAL_DIRECTORY_BYTES}"
    return None


def _entry_problems(infos: Sequence[zipfile.ZipInfo]) -> list[tuple[str, str]]:
    """(name, why) for every zip entry that a pack cannot hold, before anything is read."""
    problems: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    total = 0
    if len(infos) > MAX_MEMBERS:
        problems.append(("pack", f"the zip holds {len(infos)} members; a pack holds at most {MAX_MEMBERS}"))
    for info in infos:
        name = info.orig_filename
        if name.endswith("/"):
            why = layout.member_name_problem(name[:-1])
            directory = "a directory entry: a pack holds only files"
            problems.append((name, f"member name {why}: refused" if why else directory))
            continue
        why = layout.member_name_problem(name)
        if why is not None:
            problems.append((name, f"member name {why}: refused"))
            continue
        folded = name.casefold()
        if folded in seen:
            same = "the same name" if seen[folded] == name else f"a name differing only in case ({seen[folded]})"
            problems.append((name, f"the zip holds two members with {same}"))
            continue
        seen[folded] = name
        if info.flag_bits & 0x1:
            problems.append((name, "the member is encrypted"))
            continue
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            problems.append((name, f"compression method {info.compress_type} is not stored or deflate"))
            continue
        if info.file_size > MAX_MEMBER_BYTES:
            problems.append((name, f"declares {info.file_size} bytes; a member is at most {MAX_MEMBER_BYTES}"))
            continue
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_COMPRESSION_RATIO * info.compress_size:
            ratio = info.file_size // max(info.compress_size, 1)
            problems.append(
                (name, f"compresses {ratio}:1, beyond the {MAX_COMPRESSION_RATIO}:1 a pack member reaches (a zip bomb)")
            )
            continue
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        problems.append(("pack", f"the members declare {total} bytes in all; a pack holds at most {MAX_TOTAL_BYTES}"))
    return problems


def _open_members(path: str, report: PackReport, archive_out: list[zipfile.ZipFile]) -> PackMembers | None:
    try:
        refused = _directory_limits(path)
    except OSError as exc:
        report.add("pack", False, f"cannot be read: {exc.strerror or exc}")
        return None
    if refused is not None:
        report.add("pack", False, refused)
        return None
    try:
        archive = zipfile.ZipFile(path)
    except Exception as exc:  # noqa: BLE001 - whatever the zip module makes of hostile bytes
        report.add("pack", False, f"not a readable zip file: {exc}")
        return None
    archive_out.append(archive)
    infos = archive.infolist()
    problems = _entry_problems(infos)
    if problems:
        for name, why in problems:
            report.add(name, False, why)
        report.add("pack", False, f"refused before reading any member: {len(problems)} problem(s) in the zip directory")
        return None
    report.add("pack", True, f"zip with {len(infos)} files, within the limits")
    return PackMembers(archive, {info.orig_filename: info for info in infos})


def _guard(report: PackReport, subject: str, step: Callable[[], None]) -> None:
    # A pack is untrusted input: whatever goes wrong while checking becomes a failed check.
    try:
        step()
    except Exception as exc:  # noqa: BLE001
        report.add(subject, False, f"{type(exc).__name__}: {exc}")


def verify_pack(path: str | os.PathLike[str], trusted: TrustedKeys | None = None) -> PackReport:
    """Check an evidence pack using nothing but its contents (and ``trusted`` keys, if given).

    Never raises for a bad pack. Checks, in order: the zip's directory is within the limits and
    every name is a safe pack member name (else nothing is read); ``manifest.json`` is well
    formed and every file's SHA-256 matches it with no file missing or unlisted; ``manifest.sig``
    is present and a provider key's signature over ``manifest.json``; the keys parse and their
    ids match; each checkpoint's ``body.txt`` is its signed body, every signature verifies with
    its key in the role it claims, and each checkpoint has a provider signature; with ``trusted``
    keys, every provider (and witness) signature is by a trusted key; each timestamp token
    verifies over the checkpoint body (and chains to ``tsa/ca.pem`` if present); successive
    checkpoints are consistent; each event's bytes are canonical, its leaf hash matches its proof,
    and its inclusion proof reaches the latest checkpoint's root.
    """
    report = PackReport(os.fspath(path))
    trusted = trusted or TrustedKeys()
    opened: list[zipfile.ZipFile] = []
    try:
        members = _open_members(report.path, report, opened)
        if members is not None:
            _verify_members(members, report, trusted)
    finally:
        for archive in opened:
            archive.close()
    return report


def _verify_members(members: PackMembers, report: PackReport, trusted: TrustedKeys) -> None:
    _guard(report, MANIFEST, lambda: _check_manifest(members, report))
    keys: dict[str, tuple[str, Ed25519PublicKey]] = {}
    _guard(report, "keys.json", lambda: _check_keys(members, report, keys))
    if MANIFEST_SIGNATURE in members:
        _guard(report, MANIFEST_SIGNATURE, lambda: _check_manifest_signature(members, report, keys, trusted))
    else:
        report.add(
            MANIFEST_SIGNATURE,
            False,
            "manifest.sig is missing: without the provider's signature over manifest.json, "
            "analysis.json and README.txt could have been replaced",
        )
    checkpoints: list[SignedCheckpoint] = []
    _guard(report, "checkpoints.jsonl", lambda: _check_checkpoints(members, report, keys, trusted, checkpoints))
    if checkpoints:
        _guard(report, "consistency", lambda: _check_consistency(members, report, checkpoints))
        _guard(report, "events", lambda: _check_events(members, report, checkpoints[-1]))
    if "analysis.json" in members:
        _guard(report, "analysis.json", lambda: _check_analysis(members, report))
    if any(c.tsa_token is not None for c in checkpoints) and "tsa/ca.pem" not in members:
        report.notes.append(
            "the timestamping authority's certificate was not checked against a CA (the pack has no tsa/ca.pem)"
        )
    if trusted.providers:
        report.notes.append(
            f"provider signatures were required to be by the {len(trusted.providers)} trusted key(s) given"
        )
    else:
        report.notes.append(
            "the pack shows agreement with the keys inside it: compare their ids with the ones "
            "the provider published (or pass the provider's public key as a trusted key)"
        )


def _check_analysis(members: Mapping[str, bytes], report: PackReport) -> None:
    _load_json(members["analysis.json"], "analysis.json")
    report.add("analysis.json", True, "well-formed JSON")


def _check_manifest(members: PackMembers, report: PackReport) -> None:
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
        why = layout.member_name_problem(name)
        if why is not None or name in (MANIFEST, MANIFEST_SIGNATURE):
            report.add(name, False, f"listed in manifest.json, but a name that {why or 'the manifest cannot list'}")
        elif not isinstance(digest, str) or len(digest) != 64 or digest != digest.lower():
            report.add(name, False, "manifest.json's SHA-256 for it is not 64 lowercase hex digits")
        elif name not in members:
            report.add(name, False, "listed in manifest.json but missing from the pack")
        else:
            _check_digest(members, report, name, digest)
    for name in sorted(members):
        if name not in table and name not in (MANIFEST, MANIFEST_SIGNATURE):
            report.add(name, False, "in the pack but not listed in manifest.json")
    latest = manifest["latest_checkpoint"]
    if isinstance(latest, dict):
        size, root = latest.get("size"), latest.get("root_hash")
        report.latest_size = size if isinstance(size, int) and not isinstance(size, bool) else None
        report.latest_root_hash = root if isinstance(root, str) else None


def _check_digest(members: PackMembers, report: PackReport, name: str, digest: str) -> None:
    try:
        actual = members.sha256(name)
    except ValueError as exc:
        report.add(name, False, str(exc))
        return
    if actual != digest:
        report.add(name, False, "SHA-256 differs from manifest.json: the file was altered")
    else:
        report.add(name, True, "SHA-256 matches manifest.json")


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
    trusted: TrustedKeys,
) -> None:
    signature = members[MANIFEST_SIGNATURE]
    manifest = members.get(MANIFEST, b"")
    candidates = {kid: public_key for kid, (role, public_key) in keys.items() if role == PROVIDER}
    candidates.update(trusted.providers)
    for kid, public_key in candidates.items():
        try:
            public_key.verify(signature, manifest)
        except InvalidSignature:
            continue
        if trusted.providers and kid not in trusted.providers:
            report.add(
                MANIFEST_SIGNATURE,
                False,
                f"manifest.json is signed by provider key {kid}, which is not a trusted provider key",
            )
            return
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
    trusted: TrustedKeys,
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
        directory = layout.checkpoint_dir(number)
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
            trusted_keys = trusted.for_role(sig.role)
            known = keys.get(sig.key_id)
            if known is None and sig.key_id in trusted_keys:
                known = (sig.role, trusted_keys[sig.key_id])
            if known is None:
                report.add(sig_subject, False, "the key is not in keys/")
                continue
            if known[0] != sig.role:
                report.add(sig_subject, False, f"the key is a {known[0]} key")
                continue
            if not verify_signature(cp, sig, known[1]):
                report.add(sig_subject, False, "Ed25519 signature does not verify")
            elif trusted_keys and sig.key_id not in trusted_keys:
                report.add(
                    sig_subject, False, f"the signature verifies, but key {sig.key_id} is not a trusted {sig.role} key"
                )
            else:
                report.add(sig_subject, True, "Ed25519 signature verifies" + (", trusted key" if trusted_keys else ""))
                providers += sig.role == PROVIDER
        report.add(
            f"{subject}: provider signature",
            providers > 0,
            "" if providers else "no valid provider signature" + (" by a trusted key" if trusted.providers else ""),
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
        f"RFC 3161 token from {info.tsa_subject}, genTime {info.gen_time.strftime('%Y-%m-%dT%H:%M:%SZ')}, {chain}",
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_consistency(
    members: Mapping[str, bytes], report: PackReport, checkpoints: Sequence[SignedCheckpoint]
) -> None:
    roots: dict[int, bytes] = {}
    for signed in checkpoints:
        cp = signed.checkpoint
        if roots.setdefault(cp.size, cp.root_hash) != cp.root_hash:
            report.add(f"checkpoints of size {cp.size}", False, "two checkpoints of the same size differ")
    sizes = sorted(roots)
    proven: set[tuple[int, int]] = set()
    for name in sorted(n for n in members if n.startswith("consistency/")):
        subject = name
        data = _load_json(members[name], name)
        if not isinstance(data, dict) or data.get("v") != PACK_FORMAT_VERSION:
            report.add(name, False, "not a consistency proof record")
            continue
        old_size, new_size = data.get("old_size"), data.get("new_size")
        if not _is_int(old_size) or not _is_int(new_size) or old_size not in roots or new_size not in roots:
            report.add(name, False, "is not between two checkpoints of the pack")
            continue
        if name != layout.consistency_name(old_size, new_size):
            report.add(name, False, "file name does not match the sizes inside")
            continue
        if (
            layout.unhex(data.get("old_root"), "old_root") != roots[old_size]
            or layout.unhex(data.get("new_root"), "new_root") != roots[new_size]
        ):
            report.add(name, False, "roots differ from the checkpoints'")
            continue
        path = layout.unhex_list(data.get("path"), "path")
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


def _check_events(members: PackMembers, report: PackReport, latest_signed: SignedCheckpoint) -> None:
    latest = latest_signed.checkpoint
    event_positions = sorted(p for p in (layout.file_position(n, "events/") for n in members) if p is not None)
    proof_positions = {p for p in (layout.file_position(n, "proofs/") for n in members) if p is not None}
    for name in members:
        if (name.startswith("events/") and layout.file_position(name, "events/") is None) or (
            name.startswith("proofs/") and layout.file_position(name, "proofs/") is None
        ):
            report.add(name, False, "unexpected file name")
    for position in sorted(proof_positions - set(event_positions)):
        report.add(layout.proof_name(position), False, "proof without its event")

    # events.jsonl must be the events' bytes, one per line: compared by SHA-256, streamed.
    expected = hashlib.sha256()
    for position in event_positions:
        expected.update(members[layout.event_name(position)] + b"\n")
    jsonl_ok = "events.jsonl" in members and members.sha256("events.jsonl") == expected.hexdigest()
    report.add(
        "events.jsonl",
        jsonl_ok,
        f"{len(event_positions)} events, same bytes as events/"
        if jsonl_ok
        else "does not list exactly the bytes of events/, in position order",
    )
    for position in event_positions:
        _check_event_guarded(members, report, position, latest)


def _check_event_guarded(members: Mapping[str, bytes], report: PackReport, position: int, latest: Checkpoint) -> None:
    name = layout.event_name(position)
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
    label = f"event {event.get('event_id')!r} (position {position})" if isinstance(event, dict) else name
    if not isinstance(event, dict) or canonicalize(event) != data:
        report.add(name, False, "the event is not in RFC 8785 canonical form")
        return
    ledger = event.get("ledger")
    if event.get("v") != LEAF_FORMAT_VERSION or not isinstance(ledger, dict) or (ledger.get("position") != position):
        report.add(name, False, "version or ledger.position does not match the file name")
        return
    leaf = leaf_hash_of_bytes(data)
    proof_name = layout.proof_name(position)
    if proof_name not in members:
        report.add(f"inclusion of {label}", False, f"{proof_name} is missing")
        return
    proof = _load_json(members[proof_name], proof_name)
    if not isinstance(proof, dict) or proof.get("position") != position:
        report.add(proof_name, False, "not an inclusion proof for this position")
        return
    if layout.unhex(proof.get("leaf_hash"), "leaf_hash") != leaf:
        report.add(
            f"inclusion of {label}",
            False,
            f"leaf hash in {proof_name} is not SHA-256(0x00 || {name})",
        )
        return
    if proof.get("tree_size") != latest.size or layout.unhex(proof.get("root_hash"), "root_hash") != latest.root_hash:
        report.add(f"inclusion of {label}", False, f"{proof_name} is not against the latest checkpoint")
        return
    index = proof.get("leaf_index")
    if index != position - 1:
        report.add(f"inclusion of {label}", False, f"{proof_name} leaf_index is not position - 1")
        return
    path = layout.unhex_list(proof.get("path"), "path")
    ok = verify_inclusion(leaf, index, latest.size, path, latest.root_hash)
    report.add(
        f"inclusion of {label}",
        ok,
        f"leaf {leaf.hex()[:16]}... is in the log of {latest.size} at index {index}"
        if ok
        else f"the inclusion proof in {proof_name} does not reach the latest root",
    )
