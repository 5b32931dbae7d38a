"""Merkle prefix trie over a map's keys, for delta sync and anti-entropy (SEMANTICS.md §6).

A key lives in the leaf named by the first ``depth`` hex digits of
``f"{hash32(key):08x}"`` (depth 3 by default, so at most 4 096 leaves). Each key
carries one *item hash*: for an LWW map ``merkle_item_hash(key, millis, counter,
node_id)`` of its record's timestamp (tombstones included), for an OR map the entry
hash the map computes itself and hands in with :meth:`MerkleTree.update_hash`.

A node's hash is the ``combine`` (sum modulo 2**32) of its children, so the root is
the sum of every item hash and an empty tree hashes to 0. Because a sum is a group
operation, an update never recomputes anything: replacing a key's item hash adds
the difference to the ``depth + 1`` nodes on its path (O(depth)). Each key's entry
points at that chain of nodes, so the hot path is one dict lookup plus ``depth + 1``
additions; nodes keep their sums unreduced and reduce modulo 2**32 only when read,
which saves a mask per level and gives the same result.

Nodes that become empty are detached, so :meth:`MerkleTree.buckets` lists exactly
the non-empty children — even one whose hashes happen to sum to 0, which is why a
node tracks how many keys it holds rather than inferring emptiness from its hash.
Two replicas compare roots, then walk down the children whose hashes differ
(``buckets``) to the leaves, and exchange the keys found there (``keys_in_bucket``).
"""

from __future__ import annotations

from collections.abc import Iterator

from topgun_core.hashing import hash32, merkle_item_hash
from topgun_core.hlc import Timestamp

__all__ = ["DEPTH_MAX", "MerkleTree"]

_MASK32 = 0xFFFFFFFF
_HEX_DIGITS = "0123456789abcdef"

DEPTH_MAX = 8
"""A key's path comes from one 32-bit hash: 8 hex digits are all there is."""


class _Node:
    """One trie node: unreduced sum of item hashes, keys beneath, children or (leaf) keys."""

    __slots__ = ("children", "count", "keys", "path", "total")

    def __init__(self, path: str, *, leaf: bool) -> None:
        self.path = path
        self.total = 0  # the node's hash is total mod 2**32
        self.count = 0
        self.children: dict[str, _Node] | None = None if leaf else {}
        self.keys: set[str] | None = set() if leaf else None


class _Entry:
    """A key's item hash and the nodes from the root down to its leaf."""

    __slots__ = ("chain", "item_hash")

    def __init__(self, item_hash: int, chain: tuple[_Node, ...]) -> None:
        self.item_hash = item_hash
        self.chain = chain


class MerkleTree:
    """An incrementally maintained Merkle prefix trie of ``depth`` hex levels.

    >>> tree = MerkleTree()
    >>> tree.update("a", Timestamp(100, 0, "test"))
    >>> tree.root_hash
    2415063551
    """

    __slots__ = ("_chains", "_depth", "_items", "_root")

    def __init__(self, depth: int = 3) -> None:
        if not 1 <= depth <= DEPTH_MAX:
            raise ValueError(f"Merkle depth must be between 1 and {DEPTH_MAX}, got {depth}")
        self._depth = depth
        self._root = _Node("", leaf=False)
        # Mutable entries: replacing a key's hash allocates nothing and re-hashes no key.
        self._items: dict[str, _Entry] = {}
        # leaf path -> nodes from the root down to that leaf (only non-empty leaves).
        self._chains: dict[str, tuple[_Node, ...]] = {}

    @property
    def depth(self) -> int:
        """Number of hex digits in a leaf path."""
        return self._depth

    @property
    def root_hash(self) -> int:
        """Sum modulo 2**32 of every item hash; 0 when the tree is empty."""
        return self._root.total & _MASK32

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def leaf_path(self, key: str) -> str:
        """The path of the leaf ``key`` belongs to (the first ``depth`` hex digits of its hash)."""
        return f"{hash32(key):08x}"[: self._depth]

    def item_hash(self, key: str) -> int | None:
        """The item hash stored for ``key``, or None when the key is not in the tree."""
        entry = self._items.get(key)
        return None if entry is None else entry.item_hash

    def update(self, key: str, timestamp: Timestamp) -> None:
        """Set ``key``'s item hash from an LWW record's timestamp (replacing any old one)."""
        self.update_hash(
            key, merkle_item_hash(key, timestamp.millis, timestamp.counter, timestamp.node_id)
        )

    def update_hash(self, key: str, item_hash: int) -> None:
        """Set ``key``'s item hash explicitly (OR maps hash a whole entry themselves)."""
        assert 0 <= item_hash <= _MASK32, "an item hash is an unsigned 32-bit integer"
        entry = self._items.get(key)
        if entry is not None:
            delta = item_hash - entry.item_hash
            if delta:
                entry.item_hash = item_hash
                for node in entry.chain:
                    node.total += delta
            return
        leaf = f"{hash32(key):08x}"[: self._depth]
        chain = self._chains.get(leaf) or self._make_chain(leaf)
        self._items[key] = _Entry(item_hash, chain)
        for node in chain:
            node.total += item_hash
            node.count += 1
        keys = chain[-1].keys
        assert keys is not None
        keys.add(key)

    def remove(self, key: str) -> bool:
        """Drop ``key`` from the tree; return whether it was there."""
        entry = self._items.pop(key, None)
        if entry is None:
            return False
        chain = entry.chain
        for node in chain:
            node.total -= entry.item_hash
            node.count -= 1
        leaf_node = chain[-1]
        assert leaf_node.keys is not None
        leaf_node.keys.discard(key)
        if not leaf_node.keys:
            self._drop_chain(chain)
        return True

    def clear(self) -> None:
        """Remove every key."""
        self._root = _Node("", leaf=False)
        self._items.clear()
        self._chains.clear()

    def node_hash(self, path: str) -> int:
        """Hash of the node at ``path`` ("" is the root); 0 for an empty or absent node."""
        node = self._node_at(path)
        return 0 if node is None else node.total & _MASK32

    def buckets(self, path: str = "") -> dict[str, int]:
        """Hashes of the non-empty children of the node at ``path``, by hex digit.

        A leaf (``len(path) == depth``) has no child nodes, so it returns ``{}``;
        its keys come from :meth:`keys_in_bucket`.
        """
        node = self._node_at(path)
        if node is None or node.children is None:
            return {}
        children = node.children
        return {digit: children[digit].total & _MASK32 for digit in sorted(children)}

    def keys_in_bucket(self, path: str) -> list[str]:
        """Sorted keys stored at or below ``path`` (every key for the root "")."""
        node = self._node_at(path)
        if node is None:
            return []
        found: list[str] = []
        stack = [node]
        while stack:
            current = stack.pop()
            if current.keys is not None:
                found.extend(current.keys)
            elif current.children is not None:
                stack.extend(current.children.values())
        found.sort()
        return found

    def _node_at(self, path: str) -> _Node | None:
        if len(path) > self._depth or any(ch not in _HEX_DIGITS for ch in path):
            raise ValueError(
                f"Merkle path must be at most {self._depth} lower-case hex digits, got {path!r}"
            )
        node: _Node | None = self._root
        for digit in path:
            assert node is not None
            if node.children is None:
                return None
            node = node.children.get(digit)
            if node is None:
                return None
        return node

    def _make_chain(self, leaf: str) -> tuple[_Node, ...]:
        nodes = [self._root]
        for level, digit in enumerate(leaf, start=1):
            children = nodes[-1].children
            assert children is not None
            child = children.get(digit)
            if child is None:
                child = children[digit] = _Node(leaf[:level], leaf=level == self._depth)
            nodes.append(child)
        chain = tuple(nodes)
        self._chains[leaf] = chain
        return chain

    def _drop_chain(self, chain: tuple[_Node, ...]) -> None:
        # Detach every node on the path that no longer holds a key, deepest first.
        leaf = chain[-1].path
        del self._chains[leaf]
        for level in range(self._depth, 0, -1):
            if chain[level].count:
                break
            children = chain[level - 1].children
            assert children is not None
            del children[leaf[level - 1]]
