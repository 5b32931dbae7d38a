"""Opening a client's local store: its node id, its maps and its sync bookmarks.

The node id is generated once with :mod:`secrets` and kept in the store's kv
(namespace ``topgun_client``), so a replica keeps its identity — and the timestamps
of its queued ops stay its own — across restarts. Every map the store knows is
loaded into the replica before the client is returned, so the first read already
sees the local data.
"""

from __future__ import annotations

import os
import secrets
from typing import Final

from topgun_adapters import MemoryStorage, SQLiteStorage
from topgun_client._engine import SYNC_NAMESPACE
from topgun_client._replica import Replica
from topgun_core.hlc import validate_node_id
from topgun_core.storage import StorageAdapter, WriteBatch

__all__ = ["CLIENT_NAMESPACE", "load_last_sync", "load_maps", "load_node_id", "open_store"]

CLIENT_NAMESPACE: Final = "topgun_client"
"""kv namespace of the client's own state (its node id)."""

_NODE_ID_KEY: Final = "node_id"

Store = str | os.PathLike[str] | StorageAdapter


def open_store(store: Store) -> StorageAdapter:
    """The (unopened) adapter for ``store``: a path (SQLite), ``":memory:"`` or an adapter."""
    if isinstance(store, StorageAdapter):
        return store
    path = os.fspath(store)
    if path == ":memory:":
        return MemoryStorage()
    if not path:
        raise ValueError('store= needs a path, ":memory:" or a StorageAdapter')
    return SQLiteStorage(path)


async def load_node_id(storage: StorageAdapter, wanted: str | None) -> str:
    """The store's node id; generate and keep one on first use.

    ``wanted`` (tests, tools) is used for a fresh store; for a store that already has
    an identity it must match, since the queued ops carry the old one.
    """
    stored = await storage.kv_get(CLIENT_NAMESPACE, _NODE_ID_KEY)
    if stored is not None:
        node_id = validate_node_id(stored.decode("ascii", "replace"))
        if wanted is not None and wanted != node_id:
            raise ValueError(f"this store belongs to node {node_id!r}, not {wanted!r}")
        return node_id
    node_id = validate_node_id(wanted) if wanted is not None else "c" + secrets.token_hex(8)
    await storage.apply(WriteBatch(kv_puts=[(CLIENT_NAMESPACE, _NODE_ID_KEY, node_id.encode())]))
    return node_id


async def load_maps(storage: StorageAdapter, replica: Replica) -> None:
    """Load every stored map into the replica."""
    for name, kind in sorted((await storage.map_kinds()).items()):
        if kind == "lww":
            replica.load_lww(name, await storage.load_lww(name))
        else:
            replica.load_or(name, await storage.load_or(name))


async def load_last_sync(storage: StorageAdapter) -> dict[str, int]:
    """Each map's ``lastSyncTimestamp`` bookmark (unreadable ones are dropped: full sync)."""
    found: dict[str, int] = {}
    for name, raw in (await storage.kv_scan(SYNC_NAMESPACE)).items():
        text = raw.decode("ascii", "replace")
        if text.isdigit():
            found[name] = int(text)
    return found
