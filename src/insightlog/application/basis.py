"""The analysis basis read from a store (definitions §3.5): ledger append times and proven times.

``ledger`` needs nothing beyond the entries (each carries its ``appended_at``). ``proven`` needs
the independent time of the checkpoints: here, the ``genTime`` of each stored checkpoint's RFC 3161
timestamp token, counted only when the token verifies over the checkpoint's signed body (and
chains to ``tsa_ca_pem`` when given) and the checkpoint's root is the root of the stored events at
its size. The analysis itself receives only the resulting position → instant mapping.

Cosignatures carry no time of their own in this store's checkpoint format, so a witness adds no
independent time here; only timestamp tokens do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from insightlog.analysis.basis import LEDGER_BASIS, PROVEN, RECORDED_BASIS, Basis, CheckpointInstants, proven_basis

if TYPE_CHECKING:
    from insightlog.application.ledger import Ledger


@dataclass
class ProvenTimes:
    """The verified (tree size, genTime) pairs of a store, and why any checkpoint was left out."""

    checkpoints: list[tuple[int, datetime]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def instants(self) -> CheckpointInstants:
        return CheckpointInstants(self.checkpoints)


def proven_times(ledger: Ledger, *, tsa_ca_pem: bytes | None = None) -> ProvenTimes:
    """Every stored checkpoint of this store whose timestamp token verifies and whose root is the
    root of the stored events at its size, as (size, genTime)."""
    from insightlog.application.proofs import stored_checkpoints
    from insightlog.proof.canonical import leaf_hash
    from insightlog.proof.merkle import MerkleTree
    from insightlog.proof.tsa import verify_token

    found = ProvenTimes()
    head = ledger.head()
    stamped = [(c, c.signed.tsa_token) for c in stored_checkpoints(ledger) if c.signed.tsa_token is not None]
    if head is None or not stamped:
        return found
    tree = MerkleTree()
    for entry in ledger.all_entries():
        tree.append(leaf_hash(entry))
    for stored, token in stamped:
        cp = stored.signed.checkpoint
        label = f"checkpoint of size {cp.size}"
        if cp.origin != head.origin:
            found.skipped.append(f"{label} names log {cp.origin}, not this store ({head.origin})")
            continue
        if cp.size > len(tree) or tree.root(cp.size) != cp.root_hash:
            found.skipped.append(f"{label} does not match the stored events")
            continue
        try:
            info = verify_token(token, cp.signed_body(), tsa_ca_pem)
        except Exception as exc:  # noqa: BLE001 - any token failure leaves the checkpoint out
            found.skipped.append(f"{label}: the timestamp token does not verify ({exc})")
            continue
        found.checkpoints.append((cp.size, info.gen_time))
    return found


def store_basis(ledger: Ledger, name: str, *, tsa_ca_pem: bytes | None = None) -> tuple[Basis, list[str]]:
    """The basis called ``name`` for analysing this store, with notes for the user (checkpoints
    left out of ``proven``, or none timestamped at all)."""
    if name == PROVEN:
        times = proven_times(ledger, tsa_ca_pem=tsa_ca_pem)
        notes = [f"--basis proven: {why}; left out" for why in times.skipped]
        if not times.checkpoints:
            notes.append(
                "--basis proven: no checkpoint of this store carries a verified timestamp token, so no event is "
                "known at any instant (take one with: insightlog checkpoint --tsa URL)"
            )
        return proven_basis(times.instants), notes
    return (LEDGER_BASIS if name == "ledger" else RECORDED_BASIS), []
