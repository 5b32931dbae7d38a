"""The one 32-bit hash every TopGun peer agrees on (SEMANTICS.md §1).

FNV-1a over the string's UTF-16 code units — what a browser's ``charCodeAt`` sees —
so a Python server, a Python client, the JavaScript client and the compiled kernel
compute identical partition ids and Merkle roots. Characters outside the BMP count
as their surrogate pair; lone surrogates (legal in Python ``str``) hash as the single
code unit they are.

When the optional ``topgun_native`` extension is importable the same functions run in
C; a conformance test proves the two are bit-for-bit identical, and
:func:`hash_backend` tells which one is in use. There is no other algorithm.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Literal

__all__ = [
    "PARTITION_COUNT",
    "combine_hashes",
    "hash32",
    "hash32_many",
    "hash_backend",
    "merkle_item_hash",
    "partition_for",
    "py_hash32",
    "py_merkle_item_hash",
]

PARTITION_COUNT = 271
"""Number of partitions a key space is split into (fixed; stored on disk)."""

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
_MASK32 = 0xFFFFFFFF


def py_hash32(s: str) -> int:
    """Pure-Python FNV-1a over UTF-16 code units (the reference implementation)."""
    h = _FNV_OFFSET
    for ch in s:
        cp = ord(ch)
        if cp > 0xFFFF:
            cp -= 0x10000
            h = ((h ^ (0xD800 | (cp >> 10))) * _FNV_PRIME) & _MASK32
            h = ((h ^ (0xDC00 | (cp & 0x3FF))) * _FNV_PRIME) & _MASK32
        else:
            h = ((h ^ cp) * _FNV_PRIME) & _MASK32
    return h


def py_merkle_item_hash(key: str, millis: int, counter: int, node_id: str) -> int:
    """Pure-Python Merkle item hash: ``hash32(f"{key}:{millis}:{counter}:{node_id}")``."""
    return py_hash32(f"{key}:{millis}:{counter}:{node_id}")


def _py_hash32_many(items: Sequence[str]) -> list[int]:
    return [py_hash32(s) for s in items]


hash32: Callable[[str], int]
hash32_many: Callable[[Sequence[str]], list[int]]
merkle_item_hash: Callable[[str, int, int, str], int]

try:  # The accelerator is optional; its absence changes speed, never results.
    from topgun_native import hash32 as _native_hash32
    from topgun_native import hash32_many as _native_hash32_many
    from topgun_native import merkle_item_hash as _native_merkle_item_hash
except ImportError:  # pragma: no cover - exercised by the fallback test in a subprocess
    _BACKEND: Literal["native", "python"] = "python"
    hash32 = py_hash32
    hash32_many = _py_hash32_many
    merkle_item_hash = py_merkle_item_hash
else:
    _BACKEND = "native"
    hash32 = _native_hash32
    hash32_many = _native_hash32_many
    merkle_item_hash = _native_merkle_item_hash


def hash_backend() -> Literal["native", "python"]:
    """Which implementation :func:`hash32` uses in this process."""
    return _BACKEND


def combine_hashes(hashes: Iterable[int]) -> int:
    """Order-independent combination of hashes: their sum modulo 2**32."""
    return sum(hashes) & _MASK32


def partition_for(key: str) -> int:
    """The partition a key belongs to: ``hash32(key) mod PARTITION_COUNT``."""
    return hash32(key) % PARTITION_COUNT
