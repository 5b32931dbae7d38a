"""Last-writer-wins map: one record per key, the greatest HLC timestamp wins (SEMANTICS.md §3).

Every write — local ``set``/``remove`` or a remote record handed to ``merge`` — is an
:class:`LWWRecord` ``(value, timestamp, ttl_ms)``. A ``None`` value is a tombstone: a
remove is a write like any other, so it replicates and wins or loses by timestamp.
``merge`` first folds the remote timestamp into the local HLC (which, in strict mode,
raises :class:`~topgun_core.errors.ClockDriftError` before anything changes), then
keeps the remote record iff there is no local one or the remote timestamp is
strictly greater. Timestamps are totally ordered (millis, counter, node id), so any
delivery order of the same records ends in the same state: merge is commutative,
associative and idempotent.

A record with ``ttl_ms`` expires when ``timestamp.millis + ttl_ms < now`` (the HLC's
wall clock); expiry only hides it from reads, so every replica keeps the same records
and the same Merkle root whatever its clock says. Tombstones are kept (and hashed
into the :class:`~topgun_core.merkle.MerkleTree`) until ``prune`` drops those older
than a GC horizon the caller chooses.
"""

from __future__ import annotations

import math
from collections.abc import Callable, ItemsView, Iterator
from typing import NamedTuple, NotRequired, TypedDict

from topgun_core.hlc import HLC, Timestamp, TimestampWire
from topgun_core.listeners import Listeners
from topgun_core.merkle import MerkleTree
from topgun_core.values import JsonValue

__all__ = [
    "LWWListener",
    "LWWMap",
    "LWWRecord",
    "LWWRecordWire",
    "validate_ttl_ms",
]


def validate_ttl_ms(ttl_ms: object) -> float | None:
    """Return a TTL in milliseconds, normalised; raise ``ValueError`` unless positive and finite.

    ``None`` means "no TTL". An integral float becomes an ``int`` so that every peer
    renders it the same way (``100``, never ``100.0``) when hashing.
    """
    if ttl_ms is None:
        return None
    if isinstance(ttl_ms, bool) or not isinstance(ttl_ms, int | float):
        raise ValueError(f"ttl_ms must be a number of milliseconds, got {ttl_ms!r}")
    if not (math.isfinite(ttl_ms) and ttl_ms > 0):
        raise ValueError(f"ttl_ms must be a positive finite number, got {ttl_ms!r}")
    if isinstance(ttl_ms, float) and ttl_ms.is_integer():
        return int(ttl_ms)
    return ttl_ms


class LWWRecordWire(TypedDict):
    """An LWW record on the wire: ``{value, timestamp, ttlMs?}``."""

    value: JsonValue
    timestamp: TimestampWire
    ttlMs: NotRequired[float]


class LWWRecord(NamedTuple):
    """One LWW write. ``value is None`` marks a tombstone.

    A ``NamedTuple`` because records are created and compared on the merge hot path:
    attribute reads are C-level and the instance costs no ``__dict__``.
    """

    value: JsonValue
    timestamp: Timestamp
    ttl_ms: float | None = None

    @property
    def is_tombstone(self) -> bool:
        """Whether this record deletes its key."""
        return self.value is None

    def is_expired(self, now_ms: int) -> bool:
        """Whether the TTL has run out at ``now_ms`` (the boundary instant is still alive)."""
        ttl = self.ttl_ms
        return ttl is not None and self.timestamp.millis + ttl < now_ms

    def to_wire(self) -> LWWRecordWire:
        """The wire shape; ``ttlMs`` only when a TTL is set."""
        wire: LWWRecordWire = {"value": self.value, "timestamp": self.timestamp.to_wire()}
        if self.ttl_ms is not None:
            wire["ttlMs"] = self.ttl_ms
        return wire

    @classmethod
    def from_wire(cls, wire: LWWRecordWire) -> LWWRecord:
        """Build from a wire dict whose types the codec has checked; the TTL is re-validated."""
        return cls(
            wire["value"],
            Timestamp.from_wire(wire["timestamp"]),
            validate_ttl_ms(wire.get("ttlMs")),
        )


LWWListener = Callable[[str, LWWRecord | None, LWWRecord | None], None]
"""Change callback ``(key, record, previous)``; ``record`` is None when ``prune`` dropped it."""


class LWWMap:
    """A last-writer-wins map replica stamped by ``hlc``.

    Reads (``get``, iteration, ``items``, ``len``) see live entries only: neither
    tombstones nor expired records. ``records`` and ``get_record`` expose everything
    that replicates. ``merkle`` summarises every record, tombstones included.
    """

    __slots__ = (
        "_hlc",
        "_listeners",
        "_records",
        "_tombstone_count",
        "_ttl_keys",
        "merkle",
    )

    def __init__(self, hlc: HLC, *, merkle_depth: int = 3) -> None:
        self._hlc = hlc
        self._records: dict[str, LWWRecord] = {}
        self.merkle = MerkleTree(merkle_depth)
        """Merkle trie over every record (tombstones included) for delta sync."""
        # Kept so that len() costs O(records with a TTL), not O(records).
        self._tombstone_count = 0
        self._ttl_keys: set[str] = set()
        self._listeners: Listeners[[str, LWWRecord | None, LWWRecord | None]] = Listeners()

    @property
    def hlc(self) -> HLC:
        """The clock that stamps local writes and absorbs remote timestamps."""
        return self._hlc

    # ------------------------------------------------------------------ writes

    def set(self, key: str, value: JsonValue, ttl_ms: float | None = None) -> LWWRecord:
        """Write ``value`` under ``key`` with a fresh timestamp; return the record to replicate."""
        if value is None:
            raise ValueError("None is the tombstone value: use remove() to delete a key")
        record = LWWRecord(value, self._hlc.now(), validate_ttl_ms(ttl_ms))
        self._store(key, record, self._records.get(key))
        return record

    def remove(self, key: str) -> LWWRecord:
        """Write a tombstone for ``key`` (even if absent, so the delete replicates)."""
        record = LWWRecord(None, self._hlc.now())
        self._store(key, record, self._records.get(key))
        return record

    def merge(self, key: str, record: LWWRecord) -> bool:
        """Apply a remote record; return whether it replaced the local state.

        The clock absorbs ``record.timestamp`` first: a ``ClockDriftError`` from a
        strict HLC propagates with the map, its Merkle tree and the clock unchanged.
        """
        timestamp = record.timestamp
        self._hlc.update(timestamp)
        local = self._records.get(key)
        if local is not None and timestamp <= local.timestamp:
            return False
        self._store(key, record, local)
        return True

    def prune(self, older_than: Timestamp) -> list[str]:
        """Drop tombstones strictly older than ``older_than``; return their keys."""
        pruned = [
            key
            for key, record in self._records.items()
            if record.value is None and record.timestamp < older_than
        ]
        for key in pruned:
            previous = self._records.pop(key)
            self._tombstone_count -= 1
            self.merkle.remove(key)
            self._notify(key, None, previous)
        return pruned

    def clear(self) -> None:
        """Forget every record (a reset, e.g. before reloading): listeners are not called."""
        self._records.clear()
        self._ttl_keys.clear()
        self._tombstone_count = 0
        self.merkle.clear()

    def _store(self, key: str, record: LWWRecord, previous: LWWRecord | None) -> None:
        self._records[key] = record
        if previous is not None and previous.value is None:
            self._tombstone_count -= 1
        if record.value is None:
            self._tombstone_count += 1
            if self._ttl_keys:
                self._ttl_keys.discard(key)
        elif record.ttl_ms is not None:
            self._ttl_keys.add(key)
        elif self._ttl_keys:
            self._ttl_keys.discard(key)
        self.merkle.update(key, record.timestamp)
        if self._listeners:
            self._notify(key, record, previous)

    # ------------------------------------------------------------------ reads

    def get(self, key: str) -> JsonValue:
        """The live value under ``key``; None if absent, deleted or expired."""
        record = self._records.get(key)
        if record is None or record.value is None:
            return None
        ttl = record.ttl_ms
        if ttl is not None and record.timestamp.millis + ttl < self._hlc.clock.now_ms():
            return None
        return record.value

    def get_record(self, key: str) -> LWWRecord | None:
        """The raw record under ``key``, tombstones and expired records included."""
        return self._records.get(key)

    def records(self) -> ItemsView[str, LWWRecord]:
        """A read-only live view of every ``(key, record)``, tombstones included."""
        return self._records.items()

    def items(self) -> Iterator[tuple[str, JsonValue]]:
        """``(key, value)`` for every live entry (no tombstones, nothing expired)."""
        now = self._hlc.clock.now_ms()
        for key, record in self._records.items():
            if record.value is not None and not record.is_expired(now):
                yield key, record.value

    def __iter__(self) -> Iterator[str]:
        """Keys of live entries."""
        return (key for key, _ in self.items())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __len__(self) -> int:
        """Number of live entries (the length of ``iter(self)``)."""
        live = len(self._records) - self._tombstone_count
        if self._ttl_keys:
            now = self._hlc.clock.now_ms()
            live -= sum(1 for key in self._ttl_keys if self._records[key].is_expired(now))
        return live

    # ------------------------------------------------------------------ listeners

    def subscribe(self, listener: LWWListener) -> Callable[[], None]:
        """Call ``listener(key, record, previous)`` after every change; return an unsubscriber.

        Changes are local writes, accepted merges and pruned tombstones (``record`` is
        None); ``clear`` is a reset and notifies nobody. A listener's exception
        propagates to the writer, after the change has been applied.
        """
        return self._listeners.add(listener)

    def _notify(self, key: str, record: LWWRecord | None, previous: LWWRecord | None) -> None:
        self._listeners.notify(key, record, previous)
