"""Changes applied in memory and not yet committed to the local store.

Every change to the replica — a local write, a merged server record, a pruned
tombstone — lands here first; the local writer takes everything at once
(:meth:`PendingWrites.take`) and commits it as one atomic batch (group commit).
Changes to the same row coalesce: the latest wins, and a later delete cancels an
earlier upsert of the same row in the same batch (and the reverse), so the batch
says exactly the final state. Local writes also carry their op-log payload, in
write order; each gets a sequence number so that a caller can learn the op id the
store assigns to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from topgun_core.lww_map import LWWRecord
from topgun_core.or_map import ORRecord
from topgun_core.storage import MapKind, WriteBatch

__all__ = ["Commit", "PendingWrites"]


@dataclass(slots=True)
class Commit:
    """One group commit: the rows and op-log payloads, and the payloads' sequence numbers."""

    batch: WriteBatch
    first_seq: int
    """Sequence number of ``batch.oplog_appends[0]``; the rest follow consecutively."""
    clears: list[str]
    """Maps to clear in the store *before* this batch (a sync reset)."""


class PendingWrites:
    """The next batch for the local store, coalesced per row."""

    __slots__ = (
        "_clears",
        "_kinds",
        "_kv",
        "_lww",
        "_lww_deletes",
        "_next_seq",
        "_or",
        "_or_deletes",
        "_payloads",
        "_tomb_deletes",
        "_tombs",
    )

    def __init__(self) -> None:
        self._next_seq = 0
        self._reset()

    def _reset(self) -> None:
        self._kinds: dict[str, MapKind] = {}
        self._lww: dict[tuple[str, str], LWWRecord] = {}
        self._lww_deletes: set[tuple[str, str]] = set()
        self._or: dict[tuple[str, str], tuple[str, ORRecord]] = {}
        self._or_deletes: set[tuple[str, str]] = set()
        self._tombs: dict[tuple[str, str], str] = {}
        self._tomb_deletes: set[tuple[str, str]] = set()
        self._kv: dict[tuple[str, str], bytes | None] = {}
        self._payloads: list[bytes] = []
        self._clears: list[str] = []

    def __len__(self) -> int:
        """Rows and op-log entries waiting (the measure ``local_queue_ops_max`` bounds)."""
        return (
            len(self._lww)
            + len(self._lww_deletes)
            + len(self._or)
            + len(self._or_deletes)
            + len(self._tombs)
            + len(self._tomb_deletes)
            + len(self._kv)
            + len(self._payloads)
            + len(self._clears)
        )

    @property
    def ops(self) -> int:
        """Op-log entries waiting."""
        return len(self._payloads)

    def map_kind(self, map_name: str, kind: MapKind) -> None:
        """Declare a map's kind (stored with the batch)."""
        self._kinds[map_name] = kind

    def lww_upsert(self, map_name: str, key: str, record: LWWRecord) -> None:
        """Store ``record`` as the row of ``(map, key)``."""
        row = (map_name, key)
        self._lww_deletes.discard(row)
        self._lww[row] = record

    def lww_delete(self, map_name: str, key: str) -> None:
        """Drop the row of ``(map, key)`` (a pruned tombstone)."""
        row = (map_name, key)
        self._lww.pop(row, None)
        self._lww_deletes.add(row)

    def or_upsert(self, map_name: str, key: str, record: ORRecord) -> None:
        """Store an OR record under its tag."""
        row = (map_name, record.tag)
        self._or_deletes.discard(row)
        self._or[row] = (key, record)

    def or_tombstone(self, map_name: str, key: str | None, tag: str) -> None:
        """Record a tombstone for ``tag`` and drop the tag's record row."""
        row = (map_name, tag)
        self._or.pop(row, None)
        self._or_deletes.add(row)
        self._tomb_deletes.discard(row)
        self._tombs[row] = key if key is not None else ""

    def or_tombstone_delete(self, map_name: str, tag: str) -> None:
        """Forget a tombstone (GC)."""
        row = (map_name, tag)
        self._tombs.pop(row, None)
        self._tomb_deletes.add(row)

    def clear_map(self, map_name: str) -> None:
        """Drop everything of ``map_name`` queued so far and clear its rows in the store."""
        for rows in (self._lww, self._or, self._tombs):
            for row in [row for row in rows if row[0] == map_name]:
                del rows[row]
        for deletes in (self._lww_deletes, self._or_deletes, self._tomb_deletes):
            deletes.difference_update([row for row in deletes if row[0] == map_name])
        self._clears.append(map_name)

    def kv_put(self, namespace: str, key: str, value: bytes | None) -> None:
        """Store (or, with None, delete) a small document with the batch."""
        self._kv[(namespace, key)] = value

    def op(self, payload: bytes) -> int:
        """Queue an op-log payload; return its sequence number."""
        self._payloads.append(payload)
        seq = self._next_seq
        self._next_seq += 1
        return seq

    def take(self) -> Commit:
        """Everything queued, as one commit; the accumulator is empty afterwards."""
        batch = WriteBatch(
            map_kinds=self._kinds,
            lww_upserts=[(m, k, r) for (m, k), r in self._lww.items()],
            lww_deletes=sorted(self._lww_deletes),
            or_upserts=[(m, k, r) for (m, _), (k, r) in self._or.items()],
            or_deletes=sorted(self._or_deletes),
            or_tombstones=[(m, k, t) for (m, t), k in self._tombs.items()],
            or_tombstone_deletes=sorted(self._tomb_deletes),
            kv_puts=[(ns, k, v) for (ns, k), v in self._kv.items() if v is not None],
            kv_deletes=[(ns, k) for (ns, k), v in self._kv.items() if v is None],
            oplog_appends=self._payloads,
        )
        commit = Commit(batch, self._next_seq - len(self._payloads), self._clears)
        self._reset()
        return commit
