"""The head's compact Merkle frontier gives the same root as the full tree, at every size."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from insightlog.proof.frontier import frontier_extend, frontier_root
from insightlog.proof.merkle import MerkleTree


@settings(max_examples=50, deadline=None)
@given(n=st.integers(min_value=0, max_value=130), split=st.integers(min_value=0, max_value=130))
def test_extending_a_frontier_in_any_batches_matches_the_full_tree_root(n: int, split: int) -> None:
    leaves = [hashlib.sha256(str(i).encode()).digest() for i in range(n)]
    k = min(split, n)
    frontier, size = frontier_extend([], 0, leaves[:k])
    frontier, size = frontier_extend(frontier, size, leaves[k:])
    assert size == n
    assert frontier_root(frontier) == MerkleTree(leaves).root()
    assert len(frontier) == bin(n).count("1")
