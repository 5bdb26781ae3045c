"""RFC 9162 (Certificate Transparency v2) Merkle trees: hashing, proofs and their verification.

Hashing is RFC 9162 §2.1.1 with SHA-256: the hash of the empty tree is SHA-256 of the empty
string, a leaf is ``SHA-256(0x00 || data)``, an interior node ``SHA-256(0x01 || left || right)``,
and a tree of ``n > 1`` leaves splits at ``k``, the largest power of two smaller than ``n``.

``MerkleTree`` holds the leaf hashes of one log and every complete (perfect, aligned) subtree hash
above them: about two hashes per leaf, kept in flat ``bytearray`` buffers (so 100 000 leaves take
about 6.4 MB). Appending is amortised O(1) hash operations; ``root(n)``, ``inclusion_proof`` and
``consistency_proof`` for any earlier size are O(log² n) at worst.

``verify_inclusion`` and ``verify_consistency`` are the RFC 9162 §2.1.3.2 and §2.1.4.2 algorithms
and need nothing but their arguments.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from insightlog.errors import InsightlogError

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The Merkle Tree Hash of the empty tree (RFC 9162 §2.1.1)."""


class TreeSizeError(InsightlogError, ValueError):
    """Raised when a size or index lies outside the tree, or sizes are out of order."""


def hash_leaf(data: bytes) -> bytes:
    """The leaf hash of ``data``: SHA-256(0x00 || data)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """The interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    if n < 2:
        raise TreeSizeError(f"a tree of {n} leaves does not split")
    return 1 << ((n - 1).bit_length() - 1)


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """An audit path for the leaf at 0-based ``leaf_index`` in the tree of ``tree_size`` leaves."""

    leaf_index: int
    tree_size: int
    path: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """A proof that the tree of ``old_size`` leaves is a prefix of the tree of ``new_size``."""

    old_size: int
    new_size: int
    path: tuple[bytes, ...]


class MerkleTree:
    """An append-only RFC 9162 Merkle tree over leaf hashes.

    ``levels[0]`` holds the leaf hashes; ``levels[h]`` holds, in order, the hash of every complete
    subtree of ``2**h`` leaves whose first leaf index is a multiple of ``2**h``.
    """

    __slots__ = ("_levels", "_size")

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0
        for leaf in leaf_hashes:
            self.append(leaf)

    @classmethod
    def from_leaf_data(cls, items: Iterable[bytes]) -> MerkleTree:
        """A tree whose leaves are ``hash_leaf(item)`` for each item."""
        return cls(hash_leaf(item) for item in items)

    def __len__(self) -> int:
        return self._size

    @property
    def size(self) -> int:
        """The number of leaves."""
        return self._size

    def append(self, leaf_hash: bytes) -> int:
        """Append one leaf hash (already ``hash_leaf``-ed); return its 0-based index."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes, not {len(leaf_hash)}")
        index = self._size
        self._levels[0] += leaf_hash
        self._size += 1
        # Every time the count of nodes on a level becomes even, a parent is complete.
        level, count = 0, self._size
        while count % 2 == 0:
            below = self._levels[level]
            node = hash_children(bytes(below[-2 * HASH_SIZE : -HASH_SIZE]), bytes(below[-HASH_SIZE:]))
            level += 1
            count //= 2
            if level == len(self._levels):
                self._levels.append(bytearray())
            self._levels[level] += node
        return index

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append several leaf hashes."""
        for leaf in leaf_hashes:
            self.append(leaf)

    def leaf_hash(self, index: int) -> bytes:
        """The leaf hash at 0-based ``index``."""
        if not 0 <= index < self._size:
            raise TreeSizeError(f"leaf index {index} is outside a tree of {self._size} leaves")
        return self._node(0, index)

    def _node(self, level: int, index: int) -> bytes:
        buf = self._levels[level]
        return bytes(buf[index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def _range_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]); ``start`` must be a multiple of the largest power of two <= end-start."""
        n = end - start
        if n & (n - 1) == 0:  # a complete subtree, stored
            level = n.bit_length() - 1
            return self._node(level, start >> level)
        k = split_point(n)
        return hash_children(self._range_hash(start, start + k), self._range_hash(start + k, end))

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self._size:
            raise TreeSizeError(f"size {size} is outside a tree of {self._size} leaves")

    def root(self, size: int | None = None) -> bytes:
        """The Merkle Tree Hash of the first ``size`` leaves (default: all of them)."""
        size = self._size if size is None else size
        self._check_size(size)
        if size == 0:
            return EMPTY_ROOT
        return self._range_hash(0, size)

    def frontier(self, size: int | None = None) -> list[bytes]:
        """The compact frontier of the tree of the first ``size`` leaves: the roots of its
        perfect subtrees, largest first (what ``proof.frontier`` keeps)."""
        size = self._size if size is None else size
        self._check_size(size)
        out: list[bytes] = []
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                out.append(self._node(level, start >> level))
                start += 1 << level
        return out

    def inclusion_path(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.3.1 PATH(index, D[0:size]), the leaf-side sibling first."""
        size = self._size if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise TreeSizeError(f"leaf index {index} is outside a tree of {size} leaves")
        path: list[bytes] = []
        start, end, m = 0, size, index
        while end - start > 1:
            k = split_point(end - start)
            if m < k:
                path.append(self._range_hash(start + k, end))
                end = start + k
            else:
                path.append(self._range_hash(start, start + k))
                start += k
                m -= k
        path.reverse()
        return path

    def inclusion_proof(self, index: int, size: int | None = None) -> InclusionProof:
        """The inclusion proof of the leaf at 0-based ``index`` in the tree of ``size`` leaves."""
        size = self._size if size is None else size
        return InclusionProof(index, size, tuple(self.inclusion_path(index, size)))

    def consistency_path(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.4.1 PROOF(old_size, D[0:new_size]); empty when old_size is 0 or equal."""
        new_size = self._size if new_size is None else new_size
        self._check_size(new_size)
        if not 0 <= old_size <= new_size:
            raise TreeSizeError(f"old size {old_size} is not between 0 and new size {new_size}")
        if old_size == 0 or old_size == new_size:
            return []
        path: list[bytes] = []
        start, end, m, complete = 0, new_size, old_size, True
        # SUBPROOF(m, D[start:end], complete), unrolled; the recursion appends after descending,
        # so collect in descent order and reverse at the end.
        while True:
            n = end - start
            if m == n:
                if not complete:
                    path.append(self._range_hash(start, end))
                break
            k = split_point(n)
            if m <= k:
                path.append(self._range_hash(start + k, end))
                end = start + k
            else:
                path.append(self._range_hash(start, start + k))
                start += k
                m -= k
                complete = False
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """The consistency proof between the trees of ``old_size`` and ``new_size`` leaves."""
        new_size = self._size if new_size is None else new_size
        return ConsistencyProof(old_size, new_size, tuple(self.consistency_path(old_size, new_size)))


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of a list of leaf hashes (builds a throwaway ``MerkleTree``)."""
    return MerkleTree(leaf_hashes).root()


def _is_hash(value: object) -> bool:
    return isinstance(value, (bytes, bytearray)) and len(value) == HASH_SIZE


def root_from_inclusion_proof(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes | None:
    """The root implied by an inclusion proof (RFC 9162 §2.1.3.2), or None if it is malformed."""
    if not _is_hash(leaf_hash) or not all(_is_hash(p) for p in proof):
        return None
    if not 0 <= index < size:
        return None
    fn, sn = index, size - 1
    r = bytes(leaf_hash)
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        return None
    return r


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """True when ``proof`` shows the leaf hash at 0-based ``index`` in the tree (``size``, ``root``)."""
    if not _is_hash(root):
        return False
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    return computed is not None and computed == bytes(root)


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """True when ``proof`` shows that the tree (old_size, old_root) is a prefix of (new_size, new_root).

    RFC 9162 §2.1.4.2 for ``0 < old_size < new_size``. When the sizes are equal the proof must be
    empty and the roots equal; from the empty tree the proof must be empty and ``old_root`` the
    empty-tree hash.
    """
    if not _is_hash(old_root) or not _is_hash(new_root) or not all(_is_hash(p) for p in proof):
        return False
    old_root, new_root = bytes(old_root), bytes(new_root)
    if old_size < 0 or new_size < old_size:
        return False
    if old_size == new_size:
        return len(proof) == 0 and old_root == new_root
    if old_size == 0:
        return len(proof) == 0 and old_root == EMPTY_ROOT
    if len(proof) == 0:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
