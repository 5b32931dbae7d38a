"""MemoryStorage: the storage contract over plain dicts, for tests and ephemeral nodes.

It keeps the same encoded rows the SQL adapters keep (msgpack values, validated on
the way in and out through ``_codec``), so it behaves exactly like them — a value
the caller mutates after ``apply`` does not change what is stored, and ``1.0``
comes back a float. Data lives as long as the object: ``close()`` then ``open()`` on
the same instance finds everything again, which is how tests model a restart
without a disk. ``apply`` validates the whole batch (and the map-kind rule) before
touching any dict, so it is atomic. Nothing here awaits, so no call interleaves
with another.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence

from topgun_adapters._codec import (
    EncodedBatch,
    LWWRow,
    ORRow,
    TombstoneRow,
    check_bytes,
    check_oplog_args,
    check_text,
    decode_kind,
    decode_lww,
    decode_or,
    decode_tombstone,
    encode_batch,
)
from topgun_adapters._errors import not_open
from topgun_adapters._schema import PARTITION_COUNT_TEXT, check_partition_count, kind_conflict
from topgun_core.lww_map import LWWRecord
from topgun_core.storage import META_PARTITION_COUNT, MapKind, OpLogEntry, ORSnapshot, WriteBatch

__all__ = ["MemoryStorage"]

_BACKEND = "memory"


class MemoryStorage:
    """A dict-backed :class:`~topgun_core.storage.StorageAdapter`; durable only for its lifetime."""

    def __init__(self) -> None:
        self._open = False
        self._meta: dict[str, str] = {}
        self._kinds: dict[str, str] = {}
        self._lww: dict[str, dict[str, LWWRow]] = {}
        self._or: dict[str, dict[str, ORRow]] = {}
        self._or_tombstones: dict[str, dict[str, TombstoneRow]] = {}
        self._kv: dict[str, dict[str, bytes]] = {}
        self._oplog_ids: list[int] = []
        self._oplog_payloads: list[bytes] = []
        self._oplog_last_id = 0

    def _check_open(self) -> None:
        if not self._open:
            raise not_open(_BACKEND)

    async def open(self) -> None:
        """Mark the store open, writing or checking the partition count."""
        if self._open:
            return
        stored = self._meta.get(META_PARTITION_COUNT)
        check_partition_count(stored)
        if stored is None:
            self._meta[META_PARTITION_COUNT] = PARTITION_COUNT_TEXT
        self._open = True

    async def close(self) -> None:
        """Mark the store closed; the data stays for a later ``open()``."""
        self._open = False

    async def ping(self) -> None:
        """Succeed while open."""
        self._check_open()

    async def get_meta(self, key: str) -> str | None:
        """A meta value, or None."""
        self._check_open()
        return self._meta.get(check_text(key, "meta key"))

    async def set_meta(self, key: str, value: str) -> None:
        """Store a meta value."""
        self._check_open()
        self._meta[check_text(key, "meta key")] = check_text(value, "meta value")

    async def map_kinds(self) -> dict[str, MapKind]:
        """Every known map and its kind."""
        self._check_open()
        return dict(decode_kind(name, kind) for name, kind in self._kinds.items())

    async def load_lww(self, map_name: str) -> list[tuple[str, LWWRecord]]:
        """Every stored record of an LWW map."""
        self._check_open()
        rows = self._lww.get(check_text(map_name, "map name"), {}).values()
        return [decode_lww(map_name, (row[1], *row[3:])) for row in rows]

    async def load_or(self, map_name: str) -> ORSnapshot:
        """Every stored record and tombstone of an OR map."""
        self._check_open()
        check_text(map_name, "map name")
        rows = self._or.get(map_name, {}).values()
        tombs = self._or_tombstones.get(map_name, {}).values()
        return ORSnapshot(
            records=[decode_or(map_name, (row[2], row[1], *row[4:])) for row in rows],
            tombstones=[decode_tombstone(map_name, (row[2], row[1])) for row in tombs],
        )

    async def apply(self, batch: WriteBatch) -> list[int]:
        """Validate all of ``batch``, then apply it (nothing can fail half-way)."""
        self._check_open()
        rows = encode_batch(batch)
        for map_name, kind in rows.map_kinds:
            conflict = kind_conflict(map_name, self._kinds.get(map_name), kind)
            if conflict is not None:
                raise conflict
        self._apply_rows(rows)
        return self._append_oplog(rows.oplog_appends)

    def _apply_rows(self, rows: EncodedBatch) -> None:
        for map_name, kind in rows.map_kinds:
            self._kinds.setdefault(map_name, kind)
        for lww in rows.lww_upserts:
            self._lww.setdefault(lww[0], {})[lww[1]] = lww
        for map_name, key in rows.lww_deletes:
            self._lww.get(map_name, {}).pop(key, None)
        for record in rows.or_upserts:
            self._or.setdefault(record[0], {})[record[1]] = record
        for map_name, tag in rows.or_deletes:
            self._or.get(map_name, {}).pop(tag, None)
        for tomb in rows.or_tombstones:
            self._or_tombstones.setdefault(tomb[0], {})[tomb[1]] = tomb
        for map_name, tag in rows.or_tombstone_deletes:
            self._or_tombstones.get(map_name, {}).pop(tag, None)
        for namespace, key, value in rows.kv_puts:
            self._kv.setdefault(namespace, {})[key] = value
        for namespace, key in rows.kv_deletes:
            self._kv.get(namespace, {}).pop(key, None)

    async def clear_map(self, map_name: str) -> None:
        """Drop every record and tombstone of a map; keep its kind."""
        self._check_open()
        check_text(map_name, "map name")
        for table in (self._lww, self._or, self._or_tombstones):
            table.pop(map_name, None)

    async def kv_get(self, namespace: str, key: str) -> bytes | None:
        """One document, or None."""
        self._check_open()
        check_text(namespace, "namespace")
        return self._kv.get(namespace, {}).get(check_text(key, "key"))

    async def kv_scan(self, namespace: str) -> Mapping[str, bytes]:
        """Every document in a namespace (a copy)."""
        self._check_open()
        return dict(self._kv.get(check_text(namespace, "namespace"), {}))

    async def oplog_append(self, payloads: Sequence[bytes]) -> list[int]:
        """Append entries; ids continue from the highest ever issued."""
        self._check_open()
        checked = [check_bytes(p, f"payloads[{i}]") for i, p in enumerate(payloads)]
        return self._append_oplog(checked)

    def _append_oplog(self, checked: list[bytes]) -> list[int]:
        first = self._oplog_last_id + 1
        ids = list(range(first, first + len(checked)))
        self._oplog_ids.extend(ids)
        self._oplog_payloads.extend(checked)
        self._oplog_last_id += len(checked)
        return ids

    async def oplog_read(self, after_id: int, limit: int) -> list[OpLogEntry]:
        """Up to ``limit`` entries with id > ``after_id``, in id order."""
        self._check_open()
        check_oplog_args(after_id, limit)
        start = bisect.bisect_right(self._oplog_ids, after_id)
        stop = start + limit
        pairs = zip(self._oplog_ids[start:stop], self._oplog_payloads[start:stop], strict=True)
        return [OpLogEntry(i, p) for i, p in pairs]

    async def oplog_trim(self, through_id: int) -> int:
        """Delete entries with id <= ``through_id``; return how many."""
        self._check_open()
        check_oplog_args(through_id, 0)
        count = bisect.bisect_right(self._oplog_ids, through_id)
        del self._oplog_ids[:count]
        del self._oplog_payloads[:count]
        return count

    async def oplog_count(self) -> int:
        """Number of entries in the op log."""
        self._check_open()
        return len(self._oplog_ids)
