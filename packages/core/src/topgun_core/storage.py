"""The storage contract shared by the server's persistence and the client's local store.

A :class:`StorageAdapter` is an async object (the protocol only *declares* coroutine
methods; core itself runs no event loop). The server writes behind its in-memory
CRDTs through it; the client keeps its offline replica, its op log and small state
(node id, counters, queued topic messages) in it. Implementations live in
``topgun_adapters`` (memory, SQLite, PostgreSQL) and all pass the one conformance
suite in ``topgun_core.testing.storage``.

What is stored:

* **LWW records**, one row per ``(map, key)`` with the full timestamp and TTL;
  tombstones (``value is None``) are rows too, until pruned.
* **OR records**, one row per ``(map, tag)`` with its key, value, timestamp and TTL,
  and **OR tombstones**, one row per ``(map, tag)`` with the key it was removed from.
* **Map kinds**: every map is either ``"lww"`` or ``"or"`` forever.
* **Key/value documents** in namespaces (``kv_*``): counters, lock fencing
  high-water marks, the client's node id, queued topic messages — anything small
  that needs to survive a restart, stored as opaque bytes the caller encodes.
* **The op log**: an append-only sequence of opaque entries with increasing integer
  ids (the client's unacknowledged writes), read in order and trimmed from the front.
* **Meta**: among others the partition count, written when a store is created and
  checked on every open (``PARTITION_COUNT`` is fixed today; the check makes a future
  change a migration instead of silent corruption).

Every write goes through :meth:`StorageAdapter.apply` with one :class:`WriteBatch`,
applied atomically: after a crash either all of it is durable or none of it is. Every
failure of the backend surfaces as :class:`~topgun_core.errors.StorageError` with a
message that is safe to show; details go to the adapter's log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, Protocol, runtime_checkable

from topgun_core.lww_map import LWWRecord
from topgun_core.or_map import ORRecord

__all__ = [
    "META_PARTITION_COUNT",
    "META_SCHEMA_VERSION",
    "MapKind",
    "ORSnapshot",
    "OpLogEntry",
    "StorageAdapter",
    "WriteBatch",
]

MapKind = Literal["lww", "or"]
"""The CRDT a map holds; fixed when the map is first written."""

META_PARTITION_COUNT = "partition_count"
"""Meta key holding the partition count the store was created with."""

META_SCHEMA_VERSION = "schema_version"
"""Meta key holding the adapter's storage-schema version (for migrations)."""


class OpLogEntry(NamedTuple):
    """One op-log entry: its store-assigned id (strictly increasing) and opaque payload."""

    id: int
    payload: bytes


class ORSnapshot(NamedTuple):
    """Everything stored for one OR map: ``(key, record)`` pairs and ``(key, tag)`` tombstones."""

    records: list[tuple[str, ORRecord]]
    tombstones: list[tuple[str, str]]


@dataclass(slots=True)
class WriteBatch:
    """One atomic unit of durable change.

    Fields are applied in this order: map kinds, LWW upserts, LWW deletes, OR upserts,
    OR record deletes, OR tombstones, OR tombstone deletes, kv puts, kv deletes, op-log
    appends. An upsert replaces the row for the same ``(map, key)`` (LWW) or
    ``(map, tag)`` (OR). Because op-log appends commit in the same transaction as the
    records, a client's local write and the op that will replicate it are durable
    together or not at all.
    """

    map_kinds: dict[str, MapKind] = field(default_factory=dict)
    """Kinds of the maps this batch writes; another kind for a stored map fails the batch."""
    lww_upserts: list[tuple[str, str, LWWRecord]] = field(default_factory=list)
    """``(map, key, record)``; tombstones are records whose value is None."""
    lww_deletes: list[tuple[str, str]] = field(default_factory=list)
    """``(map, key)`` rows to drop entirely (pruned tombstones, evicted expiries)."""
    or_upserts: list[tuple[str, str, ORRecord]] = field(default_factory=list)
    """``(map, key, record)``, stored under ``(map, record.tag)``."""
    or_deletes: list[tuple[str, str]] = field(default_factory=list)
    """``(map, tag)`` records removed (their tag was tombstoned)."""
    or_tombstones: list[tuple[str, str, str]] = field(default_factory=list)
    """``(map, key, tag)`` tombstones to record."""
    or_tombstone_deletes: list[tuple[str, str]] = field(default_factory=list)
    """``(map, tag)`` tombstones to forget (GC)."""
    kv_puts: list[tuple[str, str, bytes]] = field(default_factory=list)
    """``(namespace, key, value)`` documents to store."""
    kv_deletes: list[tuple[str, str]] = field(default_factory=list)
    """``(namespace, key)`` documents to drop."""
    oplog_appends: list[bytes] = field(default_factory=list)
    """Op-log payloads to append; ``apply`` returns the ids they were given."""

    def __len__(self) -> int:
        return (
            len(self.map_kinds)
            + len(self.lww_upserts)
            + len(self.lww_deletes)
            + len(self.or_upserts)
            + len(self.or_deletes)
            + len(self.or_tombstones)
            + len(self.or_tombstone_deletes)
            + len(self.kv_puts)
            + len(self.kv_deletes)
            + len(self.oplog_appends)
        )


@runtime_checkable
class StorageAdapter(Protocol):
    """Durable storage for TopGun state. All methods may raise ``StorageError``."""

    async def open(self) -> None:
        """Connect and create or migrate the schema; refuse a store whose partition
        count differs from ``PARTITION_COUNT`` (``StorageError``). Idempotent."""
        ...

    async def close(self) -> None:
        """Release connections; pending work is finished first. Idempotent."""
        ...

    async def ping(self) -> None:
        """Return when the backend answers; raise ``StorageError`` when it does not."""
        ...

    async def get_meta(self, key: str) -> str | None:
        """A meta value, or None."""
        ...

    async def set_meta(self, key: str, value: str) -> None:
        """Store a meta value (durably)."""
        ...

    async def map_kinds(self) -> dict[str, MapKind]:
        """Every known map and its kind."""
        ...

    async def load_lww(self, map_name: str) -> list[tuple[str, LWWRecord]]:
        """Every stored ``(key, record)`` of an LWW map, tombstones and TTLs included."""
        ...

    async def load_or(self, map_name: str) -> ORSnapshot:
        """Every stored record and tombstone of an OR map."""
        ...

    async def apply(self, batch: WriteBatch) -> list[int]:
        """Apply ``batch`` atomically and durably; return the ids of its op-log appends.

        A batch with an invalid entry (a non-text name or key, a malformed timestamp, a
        TTL that is not positive and finite, a value msgpack cannot carry) or a map-kind
        conflict raises ``StorageError`` with ``retryable = False`` and applies nothing."""
        ...

    async def clear_map(self, map_name: str) -> None:
        """Drop every record and tombstone of a map (its kind is kept)."""
        ...

    async def kv_get(self, namespace: str, key: str) -> bytes | None:
        """One document, or None."""
        ...

    async def kv_scan(self, namespace: str) -> Mapping[str, bytes]:
        """Every document in a namespace."""
        ...

    async def oplog_append(self, payloads: Sequence[bytes]) -> list[int]:
        """Append entries atomically; return their ids (strictly increasing, never reused)."""
        ...

    async def oplog_read(self, after_id: int, limit: int) -> list[OpLogEntry]:
        """Up to ``limit`` entries with id > ``after_id``, in id order."""
        ...

    async def oplog_trim(self, through_id: int) -> int:
        """Delete every entry with id <= ``through_id``; return how many were deleted."""
        ...

    async def oplog_count(self) -> int:
        """Number of entries in the op log."""
        ...
