"""The compact frontier of an append-only Merkle tree (RFC 9162 hashing).

A tree of ``n`` leaves is the perfect subtrees given by the set bits of ``n``, largest first;
keeping their roots (at most 64 hashes) lets the ledger head extend the tree and give its root
without reading any leaf.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from insightlog.proof.merkle import EMPTY_ROOT, hash_children


def frontier_extend(frontier: Sequence[bytes], size: int, leaf_hashes: Iterable[bytes]) -> tuple[list[bytes], int]:
    """Append leaf hashes to a frontier of a tree of ``size`` leaves; returns (frontier, size)."""
    stack = list(frontier)
    for leaf in leaf_hashes:
        stack.append(leaf)
        n = size
        while n & 1:
            right = stack.pop()
            left = stack.pop()
            stack.append(hash_children(left, right))
            n >>= 1
        size += 1
    return stack, size


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of the tree the frontier describes."""
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for node in reversed(frontier[:-1]):
        root = hash_children(node, root)
    return root
