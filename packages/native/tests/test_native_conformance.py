"""The C kernels are bit-for-bit identical to core's pure-Python reference.

100 000 random strings over every class of input that differs between naive
implementations: empty, ASCII, Latin-1, other BMP text (CJK), astral characters
(emoji, surrogate pairs in UTF-16) and lone surrogates, plus mixes of all of them.
"""

from __future__ import annotations

import random

import pytest

import topgun_native
from topgun_core.hashing import py_hash32, py_merkle_item_hash

STRING_COUNT = 100_000

_ALPHABETS: dict[str, list[tuple[int, int]]] = {
    "ascii": [(0x00, 0x7F)],
    "latin": [(0x80, 0xFF)],
    "cjk": [(0x4E00, 0x9FFF), (0x3040, 0x30FF)],
    "emoji": [(0x1F300, 0x1FAFF), (0x10000, 0x10FFFF)],
    "lone_surrogate": [(0xD800, 0xDFFF)],
}
_ALL_RANGES = [r for ranges in _ALPHABETS.values() for r in ranges]


def _random_string(rng: random.Random) -> str:
    kind = rng.choice([*_ALPHABETS, "mixed", "empty"])
    if kind == "empty":
        return ""
    ranges = _ALL_RANGES if kind == "mixed" else _ALPHABETS[kind]
    length = rng.randint(1, 24)
    chars = []
    for _ in range(length):
        lo, hi = rng.choice(ranges)
        chars.append(chr(rng.randint(lo, hi)))
    return "".join(chars)


@pytest.fixture(scope="module")
def strings() -> list[str]:
    rng = random.Random(20261121)
    return [_random_string(rng) for _ in range(STRING_COUNT)]


def test_hash32_matches_python_on_random_strings(strings: list[str]) -> None:
    mismatches = [s for s in strings if topgun_native.hash32(s) != py_hash32(s)]
    assert mismatches == []


def test_hash32_many_matches_python(strings: list[str]) -> None:
    assert topgun_native.hash32_many(strings) == [py_hash32(s) for s in strings]
    assert topgun_native.hash32_many(tuple(strings[:10])) == [py_hash32(s) for s in strings[:10]]


def test_merkle_item_hash_matches_python(strings: list[str]) -> None:
    rng = random.Random(7)
    for key in strings[:20_000]:
        millis = rng.choice([0, 1, rng.randint(0, 2**53), -rng.randint(1, 2**40), 2**63 - 1])
        counter = rng.randint(0, 2**31)
        node = rng.choice(["A", "node-1", "é", ""])
        assert topgun_native.merkle_item_hash(key, millis, counter, node) == py_merkle_item_hash(
            key, millis, counter, node
        )


def test_minimum_int64_renders_like_python() -> None:
    assert topgun_native.merkle_item_hash("k", -(2**63), 0, "n") == py_merkle_item_hash(
        "k", -(2**63), 0, "n"
    )
