"""hash32, combine_hashes and partitions: the vectors of SEMANTICS.md §1."""

from __future__ import annotations

import subprocess
import sys

import pytest

from topgun_core import (
    PARTITION_COUNT,
    combine_hashes,
    hash32,
    hash32_many,
    hash_backend,
    merkle_item_hash,
    partition_for,
)
from topgun_core.hashing import py_hash32, py_merkle_item_hash

HASH_VECTORS = {
    "": 2166136261,
    "a": 3826002220,
    "b": 3876335077,
    "key1": 927623783,
    "hello": 1335831723,
    "user:1": 1830439627,
    "é": 1812687940,
    "日本": 1610399396,
    "😀": 3409036472,
}

PARTITION_VECTORS = {"key1": 268, "a": 101, "user:1": 208, "hello": 95}


@pytest.mark.parametrize(("text", "expected"), HASH_VECTORS.items())
def test_hash32_vectors(text: str, expected: int) -> None:
    assert hash32(text) == expected
    assert py_hash32(text) == expected


def test_hash32_many_matches_single() -> None:
    assert hash32_many(list(HASH_VECTORS)) == list(HASH_VECTORS.values())
    assert hash32_many([]) == []


@pytest.mark.parametrize(("key", "partition"), PARTITION_VECTORS.items())
def test_partition_vectors(key: str, partition: int) -> None:
    assert partition_for(key) == partition


def test_partition_count_is_fixed() -> None:
    assert PARTITION_COUNT == 271


def test_combine_is_order_independent_sum_mod_2_32() -> None:
    hashes = [0xFFFFFFFF, 2, 3]
    assert combine_hashes(hashes) == (0xFFFFFFFF + 5) % 2**32
    assert combine_hashes(reversed(hashes)) == combine_hashes(hashes)
    assert combine_hashes([]) == 0


def test_merkle_item_hash_is_hash_of_joined_string() -> None:
    # SEMANTICS.md §6 vectors: a@100/0/test and b@200/0/test.
    assert merkle_item_hash("a", 100, 0, "test") == 2415063551
    assert merkle_item_hash("b", 200, 0, "test") == 210344547
    assert py_merkle_item_hash("a", 100, 0, "test") == 2415063551


def test_surrogate_pair_is_two_code_units() -> None:
    # U+1F600 is D83D DE00 in UTF-16; hashing the lone surrogates in order is the same.
    assert hash32("😀") == hash32("\ud83d\ude00") == py_hash32("\ud83d\ude00")


def test_backend_reports_native_in_the_dev_environment() -> None:
    # The workspace installs topgun-native, so the accelerated path is what runs here.
    assert hash_backend() == "native"


def test_python_fallback_is_used_without_native() -> None:
    code = (
        "import sys; sys.modules['topgun_native'] = None\n"
        "import topgun_core\n"
        "assert topgun_core.hash_backend() == 'python', topgun_core.hash_backend()\n"
        "assert topgun_core.hash32('日本') == 1610399396\n"
        "assert topgun_core.partition_for('key1') == 268\n"
        "assert topgun_core.hash32_many(['a', 'b']) == [3826002220, 3876335077]\n"
        "assert topgun_core.merkle_item_hash('a', 100, 0, 'test') == 2415063551\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
