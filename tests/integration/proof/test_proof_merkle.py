"""RFC 9162 Merkle trees: the Certificate Transparency vectors, a naive reference, and tampering."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insightlog.proof.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    TreeSizeError,
    hash_children,
    hash_leaf,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

# The leaves and tree heads of Certificate Transparency's reference tests (RFC 6962 hashing),
# as in google/certificate-transparency and transparency-dev/merkle.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # empty tree
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (0-based leaf index, tree size, audit path)
CT_INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# (old size, new size, consistency path)
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


# --------------------------------------------------------------------------- naive reference
# Straight transcriptions of RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1, over lists of leaf data.


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(data: list[bytes]) -> bytes:
    if not data:
        return hashlib.sha256(b"").digest()
    if len(data) == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = _k(len(data))
    return hashlib.sha256(b"\x01" + naive_mth(data[:k]) + naive_mth(data[k:])).digest()


def naive_path(m: int, data: list[bytes]) -> list[bytes]:
    if len(data) == 1:
        return []
    k = _k(len(data))
    if m < k:
        return [*naive_path(m, data[:k]), naive_mth(data[k:])]
    return [*naive_path(m - k, data[k:]), naive_mth(data[:k])]


def naive_subproof(m: int, data: list[bytes], complete: bool) -> list[bytes]:
    n = len(data)
    if m == n:
        return [] if complete else [naive_mth(data)]
    k = _k(n)
    if m <= k:
        return [*naive_subproof(m, data[:k], complete), naive_mth(data[k:])]
    return [*naive_subproof(m - k, data[k:], False), naive_mth(data[:k])]


def leaf_data(n: int) -> list[bytes]:
    return [f"leaf {i}".encode() * (1 + i % 3) for i in range(n)]


MAX = 40
DATA = leaf_data(MAX)
TREE = MerkleTree.from_leaf_data(DATA)
CT_TREE = MerkleTree.from_leaf_data(CT_LEAVES)


def flipped(value: bytes, i: int) -> bytes:
    return value[:i] + bytes([value[i] ^ 0x01]) + value[i + 1 :]


# --------------------------------------------------------------------------- CT vectors


def test_the_tree_heads_match_the_certificate_transparency_vectors() -> None:
    assert EMPTY_ROOT.hex() == CT_ROOTS[0]
    for size in range(len(CT_LEAVES) + 1):
        assert CT_TREE.root(size).hex() == CT_ROOTS[size]
        assert naive_mth(CT_LEAVES[:size]).hex() == CT_ROOTS[size]


def test_leaf_and_node_hashes_use_the_rfc_prefixes() -> None:
    assert hash_leaf(b"").hex() == CT_ROOTS[1]
    assert hash_children(hash_leaf(b""), hash_leaf(b"\x00")).hex() == CT_ROOTS[2]


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_inclusion_proofs_match_the_certificate_transparency_vectors(index: int, size: int, path: list[str]) -> None:
    assert [p.hex() for p in CT_TREE.inclusion_path(index, size)] == path
    proof = [bytes.fromhex(p) for p in path]
    root = bytes.fromhex(CT_ROOTS[size])
    assert verify_inclusion(hash_leaf(CT_LEAVES[index]), index, size, proof, root)


@pytest.mark.parametrize(("old", "new", "path"), CT_CONSISTENCY)
def test_consistency_proofs_match_the_certificate_transparency_vectors(old: int, new: int, path: list[str]) -> None:
    assert [p.hex() for p in CT_TREE.consistency_path(old, new)] == path
    proof = [bytes.fromhex(p) for p in path]
    assert verify_consistency(old, new, bytes.fromhex(CT_ROOTS[old]), bytes.fromhex(CT_ROOTS[new]), proof)


# --------------------------------------------------------------------------- brute force


def test_every_prefix_root_equals_the_naive_merkle_tree_hash() -> None:
    incremental = MerkleTree()
    for n in range(MAX + 1):
        assert TREE.root(n) == naive_mth(DATA[:n])
        assert incremental.root() == naive_mth(DATA[:n])
        if n < MAX:
            incremental.append(hash_leaf(DATA[n]))


def test_every_inclusion_proof_up_to_40_leaves_is_the_rfc_path_and_verifies() -> None:
    for size in range(1, MAX + 1):
        root = TREE.root(size)
        for index in range(size):
            path = TREE.inclusion_path(index, size)
            assert path == naive_path(index, DATA[:size])
            assert verify_inclusion(TREE.leaf_hash(index), index, size, path, root)
            assert root_from_inclusion_proof(TREE.leaf_hash(index), index, size, path) == root


def test_every_consistency_proof_up_to_40_leaves_is_the_rfc_proof_and_verifies() -> None:
    for new in range(1, MAX + 1):
        for old in range(1, new + 1):
            path = TREE.consistency_path(old, new)
            assert path == naive_subproof(old, DATA[:new], True)
            assert verify_consistency(old, new, TREE.root(old), TREE.root(new), path)


sizes = st.integers(min_value=1, max_value=MAX)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_an_inclusion_proof_fails_for_any_other_index_size_or_leaf(data: st.DataObject) -> None:
    size = data.draw(sizes)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    path = TREE.inclusion_path(index, size)
    root = TREE.root(size)
    leaf = TREE.leaf_hash(index)
    other_index = data.draw(st.integers(min_value=0, max_value=MAX).filter(lambda i: i != index))
    other_size = data.draw(sizes.filter(lambda s: s != size))
    assert not verify_inclusion(leaf, other_index, size, path, root)
    assert not verify_inclusion(leaf, index, other_size, path, TREE.root(other_size))
    if size > 1:
        other_leaf = TREE.leaf_hash((index + 1) % size)
        assert not verify_inclusion(other_leaf, index, size, path, root)
    assert not verify_inclusion(leaf, index, size, [*path, root], root)
    if path:
        assert not verify_inclusion(leaf, index, size, path[:-1], root)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_a_consistency_proof_fails_for_any_other_sizes_or_roots(data: st.DataObject) -> None:
    new = data.draw(st.integers(min_value=2, max_value=MAX))
    old = data.draw(st.integers(min_value=1, max_value=new - 1))
    path = TREE.consistency_path(old, new)
    old_root, new_root = TREE.root(old), TREE.root(new)
    other_old = data.draw(st.integers(min_value=1, max_value=MAX).filter(lambda s: s != old))
    other_new = data.draw(st.integers(min_value=1, max_value=MAX).filter(lambda s: s != new))
    assert not verify_consistency(other_old, new, TREE.root(other_old), new_root, path)
    assert not verify_consistency(old, other_new, old_root, TREE.root(other_new), path)
    assert not verify_consistency(old, new, new_root, old_root, path)
    assert not verify_consistency(old, new, old_root, new_root, path[:-1])
    assert not verify_consistency(old, new, old_root, new_root, [*path, new_root])
    assert not verify_consistency(new, old, new_root, old_root, path)


# --------------------------------------------------------------------------- tampering


@pytest.mark.parametrize(("index", "size"), [(0, 1), (0, 8), (5, 8), (6, 7), (12, 37), (36, 37)])
def test_flipping_any_byte_of_an_inclusion_proof_leaf_or_root_fails(index: int, size: int) -> None:
    path = TREE.inclusion_path(index, size)
    root = TREE.root(size)
    leaf = TREE.leaf_hash(index)
    assert verify_inclusion(leaf, index, size, path, root)
    for j, element in enumerate(path):
        for i in range(len(element)):
            bad = [*path[:j], flipped(element, i), *path[j + 1 :]]
            assert not verify_inclusion(leaf, index, size, bad, root)
    for i in range(32):
        assert not verify_inclusion(flipped(leaf, i), index, size, path, root)
        assert not verify_inclusion(leaf, index, size, path, flipped(root, i))


@pytest.mark.parametrize(("old", "new"), [(1, 8), (6, 8), (2, 5), (3, 7), (16, 17), (13, 40)])
def test_flipping_any_byte_of_a_consistency_proof_or_root_fails(old: int, new: int) -> None:
    path = TREE.consistency_path(old, new)
    old_root, new_root = TREE.root(old), TREE.root(new)
    assert verify_consistency(old, new, old_root, new_root, path)
    for j, element in enumerate(path):
        for i in range(len(element)):
            bad = [*path[:j], flipped(element, i), *path[j + 1 :]]
            assert not verify_consistency(old, new, old_root, new_root, bad)
    for i in range(32):
        assert not verify_consistency(old, new, flipped(old_root, i), new_root, path)
        assert not verify_consistency(old, new, old_root, flipped(new_root, i), path)


def test_a_changed_leaf_changes_every_later_root_and_breaks_consistency() -> None:
    changed = list(DATA)
    changed[9] = b"rewritten"
    other = MerkleTree.from_leaf_data(changed)
    assert all(other.root(n) == TREE.root(n) for n in range(10))
    assert all(other.root(n) != TREE.root(n) for n in range(10, MAX + 1))
    path = other.consistency_path(8, MAX)
    assert not verify_consistency(8, MAX, TREE.root(8), TREE.root(MAX), path)


# --------------------------------------------------------------------------- edges


def test_trivial_consistency_between_equal_sizes_and_from_the_empty_tree() -> None:
    root = TREE.root(5)
    assert TREE.consistency_path(5, 5) == []
    assert verify_consistency(5, 5, root, root, [])
    assert not verify_consistency(5, 5, root, TREE.root(6), [])
    assert not verify_consistency(5, 5, root, root, [root])
    assert TREE.consistency_path(0, 5) == []
    assert verify_consistency(0, 5, EMPTY_ROOT, root, [])
    assert not verify_consistency(0, 5, root, root, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, root, [root])
    assert not verify_consistency(1, 2, TREE.root(1), TREE.root(2), [])


def test_malformed_proofs_are_rejected_not_raised() -> None:
    leaf, root = TREE.leaf_hash(0), TREE.root(2)
    path = TREE.inclusion_path(0, 2)
    assert not verify_inclusion(leaf[:31], 0, 2, path, root)
    assert not verify_inclusion(leaf, 0, 2, [path[0] + b"\x00"], root)
    assert not verify_inclusion(leaf, -1, 2, path, root)
    assert not verify_inclusion(leaf, 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(leaf, 0, 2, path, root[:16])
    assert not verify_consistency(-1, 2, root, root, [])


def test_sizes_and_indexes_outside_the_tree_are_errors() -> None:
    with pytest.raises(TreeSizeError):
        TREE.root(MAX + 1)
    with pytest.raises(TreeSizeError):
        TREE.inclusion_path(5, 5)
    with pytest.raises(TreeSizeError):
        TREE.consistency_path(6, 5)
    with pytest.raises(TreeSizeError):
        TREE.leaf_hash(MAX)
    with pytest.raises(ValueError):
        MerkleTree().append(b"short")


def test_a_tree_of_a_hundred_thousand_leaves_answers_any_prefix_quickly() -> None:
    tree = MerkleTree(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(100_000))
    assert len(tree) == 100_000
    root = tree.root()
    for index in (0, 1, 4_095, 65_536, 99_999):
        proof = tree.inclusion_proof(index)
        assert verify_inclusion(tree.leaf_hash(index), index, tree.size, proof.path, root)
    for old in (1, 777, 65_536, 99_998):
        proof = tree.consistency_proof(old)
        assert verify_consistency(old, tree.size, tree.root(old), root, proof.path)
    # An earlier size hashes like a tree built only up to it.
    assert tree.root(50_001) == MerkleTree(tree.leaf_hash(i) for i in range(50_001)).root()
