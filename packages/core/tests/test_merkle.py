"""MerkleTree: the SEMANTICS.md §6 vectors, incremental maintenance and path queries."""

from __future__ import annotations

import random

import pytest

from topgun_core.hashing import combine_hashes, hash32, merkle_item_hash
from topgun_core.hlc import Timestamp
from topgun_core.merkle import MerkleTree

A_HASH = 2415063551
B_HASH = 210344547


def _vector_tree() -> MerkleTree:
    tree = MerkleTree()
    tree.update("a", Timestamp(100, 0, "test"))
    tree.update("b", Timestamp(200, 0, "test"))
    return tree


def test_vector_item_hashes_paths_and_buckets() -> None:
    tree = _vector_tree()
    assert tree.item_hash("a") == A_HASH
    assert tree.item_hash("b") == B_HASH
    assert tree.leaf_path("a") == "e40"
    assert tree.leaf_path("b") == "e70"
    assert tree.buckets("") == {"e": 2625408098}
    assert tree.buckets("e") == {"4": A_HASH, "7": B_HASH}
    assert tree.root_hash == 2625408098
    assert tree.keys_in_bucket("e40") == ["a"]
    assert tree.keys_in_bucket("e70") == ["b"]
    assert tree.keys_in_bucket("e") == ["a", "b"]


def test_vector_tombstone_replaces_item_hash() -> None:
    tree = _vector_tree()
    tree.update("a", Timestamp(300, 0, "test"))
    assert tree.root_hash == 291008020
    assert len(tree) == 2


def test_empty_tree() -> None:
    tree = MerkleTree()
    assert tree.root_hash == 0
    assert tree.buckets() == {}
    assert tree.keys_in_bucket("") == []
    assert tree.item_hash("a") is None
    assert not tree.remove("a")


def test_remove_detaches_empty_nodes() -> None:
    tree = _vector_tree()
    assert tree.remove("a")
    assert tree.root_hash == B_HASH
    assert tree.buckets("e") == {"7": B_HASH}
    assert tree.keys_in_bucket("e40") == []
    assert tree.remove("b")
    assert tree.root_hash == 0
    assert tree.buckets() == {}
    assert "b" not in tree


def test_leaf_has_no_child_buckets_and_node_hash_reads_any_level() -> None:
    tree = _vector_tree()
    assert tree.buckets("e40") == {}
    assert tree.node_hash("") == tree.root_hash
    assert tree.node_hash("e4") == A_HASH
    assert tree.node_hash("e40") == A_HASH
    assert tree.node_hash("f") == 0
    assert tree.buckets("f") == {}


@pytest.mark.parametrize("path", ["E", "e400", "g", "e-"])
def test_malformed_path_is_rejected(path: str) -> None:
    with pytest.raises(ValueError, match="hex digits"):
        _vector_tree().buckets(path)


@pytest.mark.parametrize("depth", [0, 9])
def test_depth_is_bounded(depth: int) -> None:
    with pytest.raises(ValueError, match="depth"):
        MerkleTree(depth)


def test_explicit_item_hash_and_same_hash_update() -> None:
    tree = MerkleTree(depth=2)
    tree.update_hash("k", 7)
    tree.update_hash("k", 7)
    assert tree.root_hash == 7
    assert tree.leaf_path("k") == f"{hash32('k'):08x}"[:2]
    tree.update_hash("k", 0xFFFFFFFF)
    tree.update_hash("j", 2)
    assert tree.root_hash == 1  # sums wrap modulo 2**32


def test_node_whose_hashes_sum_to_zero_is_still_listed() -> None:
    tree = MerkleTree()
    tree.update_hash("a", 1)
    tree.update_hash("a2", 0)
    assert tree.root_hash == 1
    tree.update_hash("a", 0)
    assert tree.root_hash == 0
    assert set(tree.buckets()) == {tree.leaf_path("a")[0], tree.leaf_path("a2")[0]}


def test_clear() -> None:
    tree = _vector_tree()
    tree.clear()
    assert tree.root_hash == 0
    assert len(tree) == 0
    tree.update("a", Timestamp(100, 0, "test"))
    assert tree.root_hash == A_HASH


def _full_recompute(items: dict[str, int], depth: int, path: str) -> int:
    return combine_hashes(
        h for key, h in items.items() if f"{hash32(key):08x}"[:depth].startswith(path)
    )


def test_incremental_hashes_match_a_full_recompute() -> None:
    rng = random.Random(42)
    tree = MerkleTree()
    model: dict[str, int] = {}
    for step in range(3000):
        key = f"key{rng.randrange(400)}"
        if rng.random() < 0.2:
            assert tree.remove(key) == (model.pop(key, None) is not None)
        else:
            ts = Timestamp(step, rng.randrange(3), rng.choice("ABC"))
            tree.update(key, ts)
            model[key] = merkle_item_hash(key, *ts)
    assert tree.root_hash == _full_recompute(model, 3, "")
    assert sorted(tree) == sorted(model)
    for digit, digest in tree.buckets().items():
        assert digest == _full_recompute(model, 3, digit)
        for child, child_digest in tree.buckets(digit).items():
            assert child_digest == _full_recompute(model, 3, digit + child)
    for key in model:
        leaf = tree.leaf_path(key)
        assert key in tree.keys_in_bucket(leaf)
        assert tree.node_hash(leaf) == _full_recompute(model, 3, leaf)
    assert tree.keys_in_bucket("") == sorted(model)
