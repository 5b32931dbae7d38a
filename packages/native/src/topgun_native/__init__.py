"""Compiled kernels for TopGun's hot paths.

``hash32`` is FNV-1a (32 bit) over a string's UTF-16 code units, ``hash32_many`` its
batch form, and ``merkle_item_hash(key, millis, counter, node_id)`` the Merkle leaf
item hash ``hash32(f"{key}:{millis}:{counter}:{node_id}")`` computed without
building the string. ``topgun_core`` uses these when this package is installed and an
identical pure-Python version otherwise.
"""

from topgun_native._hash import hash32, hash32_many, merkle_item_hash

__version__ = "0.1.0"

__all__ = ["__version__", "hash32", "hash32_many", "merkle_item_hash"]
