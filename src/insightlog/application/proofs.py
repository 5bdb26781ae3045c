"""The verifiable log over a store: checkpoints, inclusion proofs and verification.

The pure cryptography is in ``insightlog.proof``; this module applies it to a ``Ledger``.
See docs/proof-format.md for the encodings and ADR 0005 for the choices.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from insightlog import safefile
from insightlog.aggregates.checkpoints import CheckpointRecord
from insightlog.aggregates.service import EventKey
from insightlog.application.integrity import Finding, StoredCheckpoint, read_checkpoints, scan
from insightlog.errors import LedgerError, one_line
from insightlog.proof.canonical import leaf_hash
from insightlog.proof.checkpoint import Checkpoint, SignedCheckpoint, load_jsonl, sign, verify_signature
from insightlog.proof.frontier import frontier_root
from insightlog.proof.keys import (
    PROVIDER,
    WITNESS,
    KeyFileError,
    key_id,
    load_private_key,
    public_key_from_pem,
    public_key_pem,
)
from insightlog.proof.merkle import MerkleTree, verify_consistency, verify_inclusion

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from insightlog.analysis.basis import Basis
    from insightlog.application.ledger import Ledger

KEY_TOPIC = get_topic(EventKey.Registered)
CHECKPOINT_TOPICS = [
    get_topic(CheckpointRecord.Taken),
    get_topic(CheckpointRecord.Cosigned),
    get_topic(CheckpointRecord.Timestamped),
]


DEFAULT_CHECKPOINT_DIR = "insightlog-checkpoints"  # one file per store: <log origin>.jsonl


def default_checkpoint_file(origin: str) -> Path:
    """The outside checkpoint file of a store when none is configured: one per store (named after
    its log's origin), so two stores in one folder never share a file."""
    return Path(DEFAULT_CHECKPOINT_DIR) / (origin.rsplit("/", 1)[-1] + ".jsonl")


class ProofError(LedgerError):
    """Raised when a proof cannot be made (no checkpoint, unknown event, no key)."""


# --- checkpoints ------------------------------------------------------------------------------


def stored_checkpoints(ledger: Ledger) -> list[StoredCheckpoint]:
    """Every checkpoint in the ledger, in the order they were taken.

    A damaged checkpoint row is refused with one line (``verify`` names it), never read as a
    checkpoint it is not."""
    found, problems = read_checkpoints(ledger)
    if problems:
        raise ProofError(f"the stored checkpoints are damaged ({problems[0].message}); run 'insightlog verify'")
    return found


def latest_checkpoint(ledger: Ledger) -> StoredCheckpoint | None:
    found = stored_checkpoints(ledger)
    return max(found, key=lambda c: c.signed.checkpoint.size) if found else None


def take_checkpoint(
    ledger: Ledger,
    private_key_path: Path,
    *,
    outside_file: Path | None = None,
    tsa_url: str | None = None,
    passphrase: bytes | None = None,
) -> tuple[SignedCheckpoint, bool]:
    """Sign the current tree head; store it in the ledger and append it to the outside file.

    Returns the checkpoint and whether it is new (a checkpoint of an unchanged tree is reused).
    """
    ledger.check_writable()
    head = ledger.head()
    if head is None:
        raise ProofError("the ledger is empty: there is nothing to checkpoint")
    private = load_private_key(private_key_path, passphrase)
    public = private.public_key()
    existing = ledger._get_or_none(CheckpointRecord.create_id(head.origin, head.size))
    if existing is not None:
        signed = next(c.signed for c in stored_checkpoints(ledger) if c.signed.checkpoint.size == head.size)
        return signed, False
    checkpoint = Checkpoint(head.origin, head.size, head.root(), ledger.now())
    signature = sign(checkpoint, private, PROVIDER)
    record = CheckpointRecord(
        origin=checkpoint.origin,
        size=checkpoint.size,
        root_hash=checkpoint.root_hash.hex(),
        timestamp=checkpoint.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        key_id=signature.key_id,
        role=signature.role,
        signature=base64.b64encode(signature.signature).decode("ascii"),
        public_key_pem=public_key_pem(public).decode("ascii"),
    )
    signed = SignedCheckpoint(checkpoint, (signature,))
    if tsa_url:
        from insightlog.proof.tsa import request_timestamp

        stamp = request_timestamp(tsa_url, checkpoint.signed_body())
        record.timestamp_with(base64.b64encode(stamp.token).decode("ascii"), tsa_url)
        signed = signed.with_tsa_token(stamp.token)
    if outside_file is not None:
        outside_file.parent.mkdir(parents=True, exist_ok=True)
        safefile.check_appendable(outside_file)  # refuse a symlink before the checkpoint is stored
    try:
        ledger.save(record)
    except IntegrityError:
        # Another writer checkpointed the same tree head first (same size, same root): that one
        # is the checkpoint, and it appended it outside itself.
        for c in stored_checkpoints(ledger):
            if c.signed.checkpoint.size == head.size:
                return c.signed, False
        raise
    if outside_file is not None:
        append_outside(outside_file, signed)
    return signed, True


def append_outside(path: Path, signed: SignedCheckpoint) -> None:
    """Append a checkpoint to the file kept outside the database (created if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    safefile.append_bytes(path, signed.to_json() + b"\n")  # O_APPEND | O_NOFOLLOW, fsynced


def cosign_checkpoint(
    ledger: Ledger,
    private_key_path: Path,
    *,
    size: int | None = None,
    role: str = "witness",
    passphrase: bytes | None = None,
) -> SignedCheckpoint:
    """A second key holder signs a stored checkpoint (the latest unless ``size`` is given)."""
    ledger.check_writable()
    found = stored_checkpoints(ledger)
    if not found:
        raise ProofError("there is no checkpoint to co-sign; run 'insightlog checkpoint' first")
    target = (
        max(found, key=lambda c: c.signed.checkpoint.size)
        if size is None
        else next((c for c in found if c.signed.checkpoint.size == size), None)
    )
    if target is None:
        raise ProofError(f"no checkpoint at size {size}")
    # Check the checkpoint against the log before putting a witness's name to it.
    tree = _committed_tree(ledger)
    cp = target.signed.checkpoint
    if cp.size > len(tree) or tree.root(cp.size) != cp.root_hash:
        raise ProofError(f"checkpoint {cp.size} does not match the stored log; run 'insightlog verify'")
    private = load_private_key(private_key_path, passphrase)
    signature = sign(cp, private, role)
    record: CheckpointRecord = ledger.repository.get(CheckpointRecord.create_id(cp.origin, cp.size))
    try:
        record.cosign(
            signature.key_id,
            role,
            base64.b64encode(signature.signature).decode("ascii"),
            public_key_pem(private.public_key()).decode("ascii"),
        )
    except ValueError as exc:
        raise ProofError(str(exc)) from None
    ledger.save(record)
    return target.signed.with_signature(signature)


def _committed_tree(ledger: Ledger) -> MerkleTree:
    tree = MerkleTree()
    for entry in ledger.all_entries():
        tree.append(leaf_hash(entry))
    return tree


# --- inclusion proofs -------------------------------------------------------------------------


def prove(ledger: Ledger, event_id: str) -> dict[str, Any]:
    """An inclusion proof of one event against the latest checkpoint."""
    entry = ledger.find_entry(event_id)
    if entry is None:
        raise ProofError(f"no event {event_id!r} in this store")
    latest = latest_checkpoint(ledger)
    if latest is None:
        raise ProofError("no checkpoint yet; run 'insightlog checkpoint' (needs 'insightlog keys init')")
    cp = latest.signed.checkpoint
    if entry.position > cp.size:
        raise ProofError(
            f"{event_id} (position {entry.position}) was appended after the latest checkpoint (size {cp.size}); take a new checkpoint"
        )
    tree = MerkleTree()
    for other in ledger.all_entries():
        if other.position > cp.size:
            break
        tree.append(leaf_hash(other))
    leaf = leaf_hash(entry)
    proof = tree.inclusion_proof(entry.position - 1, cp.size)
    ok = verify_inclusion(leaf, entry.position - 1, cp.size, proof.path, cp.root_hash)
    return {
        "event_id": event_id,
        "position": entry.position,
        "leaf_index": entry.position - 1,
        "leaf_hash": leaf.hex(),
        "tree_size": cp.size,
        "root_hash": cp.root_hash.hex(),
        "checkpoint_timestamp": cp.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "audit_path": [h.hex() for h in proof.path],
        "verified": ok,
        "backfilled": entry.is_backfill,
    }


# --- verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectedHead:
    """The head the verifier saw last time (``verify --head SIZE[:ROOT]``): the store must still
    hold at least ``size`` events, and (with ``root``) the same first ``size`` of them."""

    size: int
    root: bytes | None = None

    @classmethod
    def parse(cls, text: str) -> ExpectedHead:
        size_text, _, root_text = text.partition(":")
        if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
            raise ProofError(f"--head {text!r}: SIZE is not a number of events (SIZE or SIZE:ROOT)")
        root: bytes | None = None
        if root_text:
            if len(root_text) != 64 or any(c not in "0123456789abcdef" for c in root_text):
                raise ProofError(f"--head {text!r}: ROOT is not 64 lowercase hex digits (as verify prints it)")
            root = bytes.fromhex(root_text)
        return cls(int(size_text), root)


@dataclass
class VerifyReport:
    """The outcome of ``verify``; ``ok`` when nothing was found."""

    events: int = 0
    head_size: int = 0
    root_hash: str | None = None
    checkpoints: int = 0
    outside_checkpoints: int = 0
    latest_checkpoint_size: int | None = None
    anchored_size: int | None = None  # the newest outside checkpoint (or --head) the store still matches
    anchors_given: bool = False
    signatures_checked: int = 0
    tokens_checked: int = 0
    rows_checked: int = 0
    snapshots_checked: int = 0
    taxonomies: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first_bad_position(self) -> int | None:
        positions = [f.position for f in self.findings if f.position is not None]
        return min(positions) if positions else None

    @property
    def after_latest_checkpoint(self) -> int | None:
        return None if self.latest_checkpoint_size is None else max(0, self.events - self.latest_checkpoint_size)

    @property
    def not_yet_anchored(self) -> int:
        """Events after the newest outside checkpoint (all of them when there is none)."""
        return max(0, self.events - (self.anchored_size or 0))

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "head_size": self.head_size,
            "root_hash": self.root_hash,
            "checkpoints": self.checkpoints,
            "outside_checkpoints": self.outside_checkpoints,
            "latest_checkpoint_size": self.latest_checkpoint_size,
            "events_after_latest_checkpoint": self.after_latest_checkpoint,
            "anchored_size": self.anchored_size,
            "events_not_yet_anchored": self.not_yet_anchored,
            "signatures_checked": self.signatures_checked,
            "timestamp_tokens_checked": self.tokens_checked,
            "rows_checked": self.rows_checked,
            "snapshots_checked": self.snapshots_checked,
            "taxonomies": dict(self.taxonomies),
            "first_bad_position": self.first_bad_position,
            "findings": [{"position": f.position, "message": f.message} for f in self.findings],
            "notes": self.notes,
        }


def verify(
    ledger: Ledger,
    *,
    outside: Sequence[SignedCheckpoint] = (),
    trusted_keys: Mapping[str, Ed25519PublicKey] | None = None,
    trusted_witnesses: Mapping[str, Ed25519PublicKey] | None = None,
    tsa_ca_pem: bytes | None = None,
    expected_head: ExpectedHead | None = None,
) -> VerifyReport:
    """Check every stored row (``integrity.scan``: the rows every command reads), recompute the
    tree, and check everything committed against it (ADR 0005, ADR 0017).

    ``outside`` (checkpoints from a file kept off the database host) and ``expected_head`` (the
    head this verifier saw last) are the references a store cannot rewrite: the store must still
    hold what they cover, and every outside checkpoint must still be stored as it was.

    ``trusted_keys`` (key id -> public key, from outside the store) binds the provider: when
    given, every provider signature on every checkpoint (stored or outside) must be by one of
    them, and each checkpoint needs one; a signature by any other key, even a valid one whose key
    the store registered, is a finding naming that key. ``trusted_witnesses`` does the same for
    witness signatures. Without them, signatures are checked against the keys the store
    registered, which shows they are intact but not who made them.
    """
    report = VerifyReport()
    found = scan(ledger)
    report.findings.extend(found.findings)
    tree = found.tree
    report.events = len(tree)
    report.head_size = found.head_size
    report.root_hash = tree.root().hex()
    report.rows_checked, report.snapshots_checked = found.rows, found.snapshots
    report.taxonomies = dict(found.taxonomies)
    if found.has_head and not report.findings:
        if found.head_size != report.events:
            report.findings.append(
                Finding(
                    min(found.head_size, report.events) + 1,
                    f"the ledger head commits to {found.head_size} events; the store holds {report.events}",
                )
            )
        elif frontier_root(found.head_frontier) != tree.root():
            report.findings.append(Finding(1, "the ledger head's root does not match the stored events"))
    trusted_by_role: dict[str, Mapping[str, Ed25519PublicKey]] = {
        PROVIDER: dict(trusted_keys or {}),
        WITNESS: dict(trusted_witnesses or {}),
    }
    stored = found.checkpoints
    report.checkpoints = len(stored) + found.damaged_checkpoints
    report.outside_checkpoints = len(outside)
    checked: list[tuple[str, SignedCheckpoint, dict[str, str]]] = [("stored", s.signed, s.keys) for s in stored]
    checked += [("outside", s, {}) for s in outside]
    registered = {kid: pem for s in stored for kid, pem in s.keys.items()}
    good_sizes: list[tuple[int, bytes]] = []
    anchors: list[int] = []
    origin = found.origin
    origins = {signed.checkpoint.origin for _, signed, _ in checked}
    if origin is not None and len(origins) == 1 and origin not in origins:
        report.findings.append(
            Finding(
                1,
                (
                    f"the ledger head's first event names log {origin}, but every checkpoint names {next(iter(origins))}: "
                    "the head's first event was changed"
                ),
            )
        )
    # An outside checkpoint that matches the stored events shows they are intact up to its size.
    matched_outside = {
        s.checkpoint.size
        for s in outside
        if s.checkpoint.origin == origin
        and s.checkpoint.size <= len(tree)
        and tree.root(s.checkpoint.size) == s.checkpoint.root_hash
    }
    for where, signed, keys in checked:
        cp = signed.checkpoint
        label = f"{where} checkpoint of size {cp.size} ({cp.timestamp.strftime('%Y-%m-%dT%H:%M:%SZ')})"
        sound = _check_signatures(report, label, signed, keys, registered, trusted_by_role, tsa_ca_pem)
        # A checkpoint whose own record is not intact (its signature fails, or the outside copy of
        # it matches the events) was changed itself: the events are not blamed for it.
        blame = sound and not (where == "stored" and cp.size in matched_outside)
        good = _check_against_tree(report, tree, label, cp, origin, good_sizes, blame=blame)
        if where == "outside" and good and sound:
            anchors.append(cp.size)
    _check_outside_is_stored(report, outside, stored, origin)
    if expected_head is not None:
        report.anchors_given = True
        label = f"the head the verifier last saw (--head {expected_head.size})"
        if expected_head.size > report.events:
            report.findings.append(
                Finding(
                    report.events + 1,
                    (
                        f"{label}: the store holds {report.events} events: positions {report.events + 1}..{expected_head.size} were removed"
                    ),
                )
            )
        elif expected_head.root is not None:
            cp = Checkpoint(
                origin or "unknown", expected_head.size, expected_head.root, datetime(1970, 1, 1, tzinfo=UTC)
            )
            if _check_against_tree(report, tree, label, cp, None, good_sizes):
                anchors.append(expected_head.size)
        else:
            anchors.append(expected_head.size)
    report.anchors_given = report.anchors_given or bool(outside)
    report.anchored_size = max(anchors) if anchors else None
    for (s1, r1), (s2, r2) in zip(sorted(set(good_sizes)), sorted(set(good_sizes))[1:], strict=False):
        if s1 == s2:
            report.findings.append(
                Finding(s1 + 1 if s1 < report.events else None, f"two checkpoints of size {s1} have different roots")
            )
            continue
        proof = tree.consistency_proof(s1, s2)
        if not verify_consistency(s1, s2, r1, r2, proof.path):
            report.findings.append(Finding(s1 + 1, f"checkpoints {s1} and {s2} are not consistent"))
    sizes = [s.signed.checkpoint.size for s in stored] + [s.checkpoint.size for s in outside]
    report.latest_checkpoint_size = max(sizes) if sizes else None
    if checked and not trusted_by_role[PROVIDER]:
        report.notes.append(
            "provider signatures were checked against the public keys stored with them: that shows they are "
            "intact, not whose they are; pass the provider's public key with --trusted-key to bind them"
        )
    if not report.anchors_given:
        report.notes.append(
            "no outside checkpoint file (--checkpoint) and no --head were given: verify checked the store against "
            "itself, which cannot show that recent events, checkpoints or snapshots were removed together"
        )
    if report.taxonomies:
        names = ", ".join(f"{name} (sha256 {digest[:16]})" for name, digest in sorted(report.taxonomies.items()))
        report.notes.append(
            f"provider-added taxonomy version(s) {names} are checked for integrity but are not in the tree: "
            "compare their digests with the provider's published ones"
        )
    report.findings.sort(key=lambda f: (f.position is None, f.position or 0))
    return report


def _check_against_tree(
    report: VerifyReport,
    tree: MerkleTree,
    label: str,
    cp: Checkpoint,
    origin: str | None,
    good_sizes: list[tuple[int, bytes]],
    *,
    blame: bool = True,
) -> bool:
    """A checkpoint names this log, covers no more than it holds and has its root at its size."""
    if origin is not None and cp.origin != origin:
        report.findings.append(Finding(None, f"{label} names log {cp.origin}, this store is {origin}"))
        return False
    if cp.size > len(tree):
        report.findings.append(
            Finding(
                len(tree) + 1,
                f"{label} covers {cp.size} events; the store holds {len(tree)}: positions {len(tree) + 1}..{cp.size} were removed",
            )
        )
        return False
    if tree.root(cp.size) != cp.root_hash and not blame:
        report.findings.append(
            Finding(
                None,
                f"{label} does not match the stored events, and its own record is not intact: the checkpoint was changed",
            )
        )
        return False
    if tree.root(cp.size) != cp.root_hash:
        previous = max((s for s, _ in good_sizes if s < cp.size), default=0)
        # The leaves committed at append time pin the position when they agree with the checkpoint.
        exact = [f.position for f in report.findings if f.position is not None and previous < f.position <= cp.size]
        start = min(exact) if exact else previous + 1
        report.findings.append(
            Finding(
                start,
                f"{label} does not match the stored events: the history between positions {previous + 1} and {cp.size} was changed",
            )
        )
        return False
    good_sizes.append((cp.size, cp.root_hash))
    return True


def _check_signatures(
    report: VerifyReport,
    label: str,
    signed: SignedCheckpoint,
    keys: Mapping[str, str],
    registered: Mapping[str, str],
    trusted_by_role: Mapping[str, Mapping[str, Ed25519PublicKey]],
    tsa_ca_pem: bytes | None,
) -> bool:
    """Every signature verifies (by a trusted key, when some are given) and so does the token."""
    before = len(report.findings)
    cp = signed.checkpoint
    if not signed.signatures:
        report.findings.append(Finding(None, f"{label} carries no signature"))
    trusted_providers = 0
    for sig in signed.signatures:
        trusted = trusted_by_role.get(sig.role, {})
        public: Ed25519PublicKey | None = trusted.get(sig.key_id)
        if trusted and public is None:
            report.findings.append(
                Finding(
                    None,
                    (
                        f"{label}: the {sig.role} signature is by key {sig.key_id}, "
                        f"which is not a trusted {sig.role} key (--trusted-{'key' if sig.role == PROVIDER else 'witness'})"
                    ),
                )
            )
            continue
        if public is None:
            pem = keys.get(sig.key_id) or registered.get(sig.key_id)
            if pem is None:
                report.findings.append(Finding(None, f"{label}: signature by unknown key {sig.key_id[:16]}"))
                continue
            try:
                if not isinstance(pem, str):
                    raise KeyFileError("not text")
                public = public_key_from_pem(pem.encode("ascii"))
            except (KeyFileError, UnicodeEncodeError, ValueError):
                report.findings.append(Finding(None, f"{label}: the stored public key {sig.key_id[:16]} is damaged"))
                continue
        report.signatures_checked += 1
        if key_id(public) != sig.key_id or not verify_signature(cp, sig, public):
            report.findings.append(
                Finding(None, f"{label}: the {sig.role} signature by key {sig.key_id[:16]} does not verify")
            )
        elif sig.role == PROVIDER and trusted:
            trusted_providers += 1
    if trusted_by_role[PROVIDER] and not trusted_providers:
        report.findings.append(Finding(None, f"{label}: no valid provider signature by a trusted key"))
    if signed.tsa_token is not None:
        from insightlog.proof.tsa import verify_token

        report.tokens_checked += 1
        try:
            info = verify_token(signed.tsa_token, cp.signed_body(), tsa_ca_pem)
            report.notes.append(
                f"{label}: timestamped by {info.tsa_subject} at {info.gen_time.strftime('%Y-%m-%dT%H:%M:%SZ')}"
            )
        except Exception as exc:  # noqa: BLE001 - report any token failure
            report.findings.append(Finding(None, f"{label}: the timestamp token does not verify ({one_line(exc)})"))
    return len(report.findings) == before


def _check_outside_is_stored(
    report: VerifyReport, outside: Sequence[SignedCheckpoint], stored: Sequence[StoredCheckpoint], origin: str | None
) -> None:
    """Every checkpoint of the outside file is still stored, as it was: commands (prove, pack,
    the report) show the stored ones, so a deleted or re-signed one must not pass."""
    by_size: dict[int, list[SignedCheckpoint]] = {}
    for s in stored:
        by_size.setdefault(s.signed.checkpoint.size, []).append(s.signed)
    for theirs in outside:
        cp = theirs.checkpoint
        if origin is not None and cp.origin != origin:
            continue  # reported already: another log's checkpoint
        label = f"outside checkpoint of size {cp.size} ({cp.timestamp.strftime('%Y-%m-%dT%H:%M:%SZ')})"
        mine = by_size.get(cp.size, [])
        if not mine:
            report.findings.append(
                Finding(None, f"{label} is not among the stored checkpoints: its stored record was removed")
            )
            continue
        if not any(_same_checkpoint(m, theirs) for m in mine):
            report.findings.append(
                Finding(
                    None,
                    f"{label} differs from the stored checkpoint of size {cp.size} "
                    "(root, time, signatures or token): the stored record was replaced",
                )
            )


def _same_checkpoint(mine: SignedCheckpoint, theirs: SignedCheckpoint) -> bool:
    """The stored record holds the outside one: same body, its signatures (the store may have
    more: co-signatures), and its token when it has one."""
    if mine.checkpoint != theirs.checkpoint:
        return False
    if not set(theirs.signatures) <= set(mine.signatures):
        return False
    return theirs.tsa_token is None or theirs.tsa_token == mine.tsa_token


def load_outside(path: Path) -> list[SignedCheckpoint]:
    """Checkpoints from a file kept outside the database (JSON Lines)."""
    try:
        return load_jsonl(path.read_bytes())
    except OSError as exc:
        raise ProofError(f"cannot read checkpoint file {path}: {exc.strerror}") from None


# --- evidence packs ---------------------------------------------------------------------------


@dataclass
class PackSummary:
    """What went into an evidence pack."""

    path: Path
    events: int
    backfilled: int
    checkpoint_size: int
    files: int
    withdrawn: int = 0
    basis: str = "recorded"


def make_pack(
    ledger: Ledger,
    out: Path,
    *,
    service: str,
    as_of: Any,
    theme: str | None = None,
    signing_key: Path | None = None,
    tsa_ca_pem: bytes | None = None,
    passphrase: bytes | None = None,
    basis: Basis | None = None,
) -> PackSummary:
    """Write an evidence pack for a service (and theme) as of a moment; checkable offline.

    The events are those known at ``as_of`` on ``basis`` (definitions §3.5, default ``recorded``),
    withdrawn ones included (with the withdrawals themselves); the README names the basis and
    marks every entry withdrawn by then and its replacements, and ``analysis.json`` is on the same
    basis (naming it when it is not the default).
    """
    import orjson

    from insightlog.analysis.basis import RECORDED_BASIS
    from insightlog.analysis.engine import analyse
    from insightlog.analysis.history import history_rows
    from insightlog.application.packnotes import pack_corrections_text
    from insightlog.proof.canonical import entry_leaf_bytes
    from insightlog.proof.pack import PackKey, build_pack, pack_proofs

    basis = basis or RECORDED_BASIS
    entries = ledger.read_service(service)
    rows = history_rows(entries, theme=theme, as_of=as_of.instant, basis=basis)
    wanted = {r["position"] for r in rows}
    selected = [e for e in entries if e.position in wanted]
    stored = stored_checkpoints(ledger)
    if not stored:
        raise ProofError("no checkpoint yet; run 'insightlog checkpoint' before making a pack")
    latest = max(c.signed.checkpoint.size for c in stored)
    late = [e.event_id for e in selected if e.position > latest]
    if late:
        raise ProofError(
            f"{len(late)} selected event(s) (first {late[0]}) lie after the latest checkpoint; run 'insightlog checkpoint' first"
        )
    tree = MerkleTree()
    for entry in ledger.all_entries():
        if entry.position > latest:
            break
        tree.append(leaf_hash(entry))
    signed = [c.signed for c in stored]
    inclusion, consistency = pack_proofs(tree, [e.position for e in selected], signed)
    roles: dict[str, str] = {}
    pems: dict[str, str] = {}
    for c in stored:
        for sig in c.signed.signatures:
            roles.setdefault(sig.key_id, sig.role)
        pems.update(c.keys)
    keys = [PackKey(roles[kid], pem.encode("ascii")) for kid, pem in sorted(pems.items()) if kid in roles]
    analysis = orjson.dumps(analyse(entries, service, as_of, basis=basis)) + b"\n"
    if signing_key is None or not signing_key.exists():
        raise ProofError(f"no signing key at {signing_key}: a pack's manifest must be signed by the provider's key")
    manifest_key = load_private_key(signing_key, passphrase)
    backfilled = [e.event_id for e in selected if e.is_backfill]
    preamble = (
        f"Evidence pack for {service}"
        + (f", theme {theme} and its sub-themes" if theme else "")
        + f", as the ledger stood at {as_of.text}.\n"
        f"It holds {len(selected)} events, proven against the signed checkpoint of {latest} events.\n"
    )
    if backfilled:
        preamble += (
            f"{len(backfilled)} of them were back-filled (their recording time rests on the provider's word, "
            f"not on the ledger): {', '.join(backfilled)}. Their 'ledger.source' says 'backfill:'.\n"
        )
    preamble += pack_corrections_text(rows, basis.name)
    files = build_pack(
        out,
        events=[(e.position, entry_leaf_bytes(e)) for e in selected],
        inclusion_proofs=inclusion,
        checkpoints=signed,
        consistency_proofs=consistency,
        public_keys=keys,
        analysis_json=analysis,
        tsa_ca_pem=tsa_ca_pem,
        readme_preamble=preamble,
        manifest_key=manifest_key,
        created_at=ledger.now(),
    )
    withdrawn = sum(1 for r in rows if r["withdrawn"] is not None)
    return PackSummary(out, len(selected), len(backfilled), latest, len(files), withdrawn, basis.name)
