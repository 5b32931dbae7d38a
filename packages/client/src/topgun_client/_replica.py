"""The client's replica: its CRDT maps, its clock, and the changes waiting to be stored.

Every map the client holds is an :class:`~topgun_core.lww_map.LWWMap` or an
:class:`~topgun_core.or_map.ORMap` stamped by one strict :class:`~topgun_core.hlc.HLC`.
Local writes are applied at once and queued twice in :class:`PendingWrites` — the
record row and an op-log payload — so that one group commit stores both. Remote
records (server events, sync leaves) are merged through the same strict clock: a
record stamped more than ``max_drift_ms`` ahead raises ``ClockDriftError`` before
anything changes, and the caller reports it. Accepted merges queue their rows (no
op-log entry: they came from the server).

Loading from the store at start-up runs the clock non-strict: those records were
accepted before, and a wall clock that stepped back must not lose local data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from topgun_client._oplog import encode_op
from topgun_client._pending import PendingWrites
from topgun_client._settings import ClientSettings
from topgun_client._values import check_key, check_map_name, check_value
from topgun_core.clock import Clock
from topgun_core.errors import ConflictError, LimitExceeded
from topgun_core.hlc import HLC, Timestamp
from topgun_core.lww_map import LWWMap, LWWRecord
from topgun_core.or_map import ORMap, ORRecord, json_equal
from topgun_core.protocol import ClientOp, WriteConcern
from topgun_core.storage import MapKind, ORSnapshot
from topgun_core.values import JsonValue

__all__ = ["OpOptions", "Replica"]

OpOptions = tuple[WriteConcern, int] | None
"""``(writeConcern, timeout_ms)`` carried by an op sent through ``write()``, else None."""


class Replica:
    """Maps, clock and pending changes of one client."""

    __slots__ = ("_maps", "_on_local_write", "hlc", "pending", "settings")

    def __init__(
        self,
        node_id: str,
        clock: Clock,
        settings: ClientSettings,
        on_local_write: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.hlc = HLC(node_id, clock=clock, max_drift_ms=settings.max_drift_ms, strict=True)
        self.pending = PendingWrites()
        self._maps: dict[str, LWWMap | ORMap] = {}
        self._on_local_write = on_local_write

    # ------------------------------------------------------------------ maps

    def kinds(self) -> dict[str, MapKind]:
        """Every held map and its kind."""
        return {name: "lww" if isinstance(m, LWWMap) else "or" for name, m in self._maps.items()}

    def get(self, name: str) -> LWWMap | ORMap | None:
        """The map called ``name``, if held."""
        return self._maps.get(name)

    def lww(self, name: str) -> tuple[LWWMap, bool]:
        """The LWW map ``name`` (created if new) and whether it was created."""
        found = self._maps.get(check_map_name(name, self.settings.limits))
        if isinstance(found, LWWMap):
            return found, False
        if found is not None:
            raise ConflictError(f"map {name!r} is an OR map, not an LWW map")
        created = self._maps[name] = LWWMap(self.hlc)
        self.pending.map_kind(name, "lww")
        return created, True

    def or_map(self, name: str) -> tuple[ORMap, bool]:
        """The OR map ``name`` (created if new) and whether it was created."""
        found = self._maps.get(check_map_name(name, self.settings.limits))
        if isinstance(found, ORMap):
            return found, False
        if found is not None:
            raise ConflictError(f"map {name!r} is an LWW map, not an OR map")
        created = self._maps[name] = ORMap(self.hlc)
        self.pending.map_kind(name, "or")
        return created, True

    def load_lww(self, name: str, rows: Iterable[tuple[str, LWWRecord]]) -> None:
        """Fill a map from the store (clock non-strict while loading)."""
        target = self._maps[name] = LWWMap(self.hlc)
        self.hlc.strict = False
        try:
            for key, record in rows:
                target.merge(key, record)
        finally:
            self.hlc.strict = True

    def load_or(self, name: str, snapshot: ORSnapshot) -> None:
        """Fill an OR map from the store (clock non-strict while loading)."""
        target = self._maps[name] = ORMap(self.hlc)
        self.hlc.strict = False
        try:
            for key, tag in snapshot.tombstones:
                target.apply_tombstone(tag, key or None)
            for key, record in snapshot.records:
                target.apply(key, record)
        finally:
            self.hlc.strict = True

    # ------------------------------------------------------------------ local writes

    def _room(self, needed: int = 1) -> None:
        limit = self.settings.local_queue_ops_max
        if len(self.pending) + needed > limit:
            raise LimitExceeded("local_queue_ops_max", len(self.pending) + needed, limit)

    def _queue_op(self, op: ClientOp, options: OpOptions) -> int:
        if options is not None:
            op["writeConcern"], op["timeout"] = options
        seq = self.pending.op(encode_op(op))
        self._on_local_write()
        return seq

    def put(
        self, name: str, key: str, value: JsonValue, ttl_ms: float | None, options: OpOptions
    ) -> int:
        """Set ``key`` locally and queue the op; return the op's sequence number."""
        limits = self.settings.limits
        check_key(key, limits)
        check_value(value, limits)
        target, _ = self.lww(name)
        self._room(2)
        record = target.set(key, value, ttl_ms)
        self.pending.lww_upsert(name, key, record)
        op: ClientOp = {
            "id": 0, "mapName": name, "key": key, "opType": "PUT", "record": record.to_wire()
        }  # fmt: skip
        return self._queue_op(op, options)

    def remove(self, name: str, key: str, options: OpOptions) -> int:
        """Write a tombstone for ``key`` and queue the op; return its sequence number."""
        check_key(key, self.settings.limits)
        target, _ = self.lww(name)
        self._room(2)
        record = target.remove(key)
        self.pending.lww_upsert(name, key, record)
        op: ClientOp = {
            "id": 0, "mapName": name, "key": key, "opType": "REMOVE", "record": record.to_wire()
        }  # fmt: skip
        return self._queue_op(op, options)

    def or_add(self, name: str, key: str, value: JsonValue, ttl_ms: float | None) -> int:
        """Add ``value`` under ``key`` of an OR map and queue the op."""
        limits = self.settings.limits
        check_key(key, limits)
        check_value(value, limits)
        target, _ = self.or_map(name)
        self._room(2)
        record = target.add(key, value, ttl_ms)
        self.pending.or_upsert(name, key, record)
        op: ClientOp = {
            "id": 0, "mapName": name, "key": key, "opType": "OR_ADD", "orRecord": record.to_wire()
        }  # fmt: skip
        return self._queue_op(op, None)

    def or_remove(self, name: str, key: str, value: JsonValue) -> list[int]:
        """Remove every observed ``value`` under ``key``; queue one op per removed tag."""
        check_key(key, self.settings.limits)
        target, _ = self.or_map(name)
        held = sum(1 for record in target.records(key) if json_equal(record.value, value))
        self._room(2 * held)
        seqs = []
        for tag in target.remove(key, value):
            self.pending.or_tombstone(name, key, tag)
            op: ClientOp = {
                "id": 0,
                "mapName": name,
                "key": key,
                "opType": "OR_REMOVE",
                "orTag": tag,
            }
            seqs.append(self._queue_op(op, None))
        return seqs

    # ------------------------------------------------------------------ remote changes

    def merge_lww(self, target: LWWMap, name: str, key: str, record: LWWRecord) -> bool:
        """Merge a server record (strict clock); queue its row if it won."""
        if not target.merge(key, record):
            return False
        self.pending.lww_upsert(name, key, record)
        return True

    def merge_or(
        self, target: ORMap, name: str, key: str, records: list[ORRecord], tombstones: list[str]
    ) -> bool:
        """Merge a server OR entry (strict clock, all or nothing); queue the key's rows."""
        changed = target.merge_key(key, records, tombstones)
        for tag in tombstones:
            self.pending.or_tombstone(name, key, tag)
        if changed:
            for record in target.records(key):
                self.pending.or_upsert(name, key, record)
        return changed

    def prune(self, older_than: Timestamp) -> None:
        """Drop tombstones older than the server's GC horizon, here and in the store."""
        for name, target in self._maps.items():
            if isinstance(target, LWWMap):
                for key in target.prune(older_than):
                    self.pending.lww_delete(name, key)
            else:
                for tag in target.prune(older_than):
                    self.pending.or_tombstone_delete(name, tag)

    def reset(self, name: str) -> None:
        """Forget a map's records here and in the store (``SYNC_RESET_REQUIRED``)."""
        target = self._maps.get(name)
        if target is not None:
            target.clear()
            self.pending.clear_map(name)
