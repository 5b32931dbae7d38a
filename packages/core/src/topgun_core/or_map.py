"""Observed-remove multimap: many values per key, add beats concurrent remove (SEMANTICS.md §4).

Each ``add`` creates an :class:`ORRecord` under a fresh *tag*, the string of the HLC
timestamp that stamped it, so adding the same value twice keeps two entries. A
``remove(key, value)`` does not write a timestamp: it *tombstones* the tags it has
observed holding that value. A remote record whose tag is tombstoned is ignored,
while a concurrent re-add carries a tag the remover never saw and survives — add
wins. Tombstones are a grow-only set of tags (until ``prune`` drops those whose add
is older than a GC horizon), records under one tag are replaced only by a strictly
newer timestamp, so merging is a union and any delivery order converges.

A key's values are kept ordered by their record timestamp (which is the add order,
and the same on every replica); ``get`` hides expired ones. Expiry only hides: the
stored records and thus the Merkle hashes do not depend on anyone's clock.

For delta sync each key with at least one tag has one entry in the
:class:`~topgun_core.merkle.MerkleTree`: :func:`entry_hash` of its tags in sorted
order. Tombstones are not hashed; a replica learns them in the ``tombstones`` part
of a key's sync entry, which is why the map remembers which key each tombstone was
removed from (:meth:`ORMap.tombstones_for`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, ItemsView, Iterable, Iterator, KeysView
from typing import NamedTuple, NotRequired, TypedDict

from topgun_core.hashing import hash32
from topgun_core.hlc import HLC, Timestamp, TimestampWire
from topgun_core.listeners import Listeners
from topgun_core.lww_map import validate_ttl_ms
from topgun_core.merkle import MerkleTree
from topgun_core.values import JsonValue, canonical_json

__all__ = [
    "ORListener",
    "ORMap",
    "ORRecord",
    "ORRecordWire",
    "entry_hash",
    "json_equal",
]


class ORRecordWire(TypedDict):
    """An OR record on the wire: ``{value, timestamp, tag, ttlMs?}``."""

    value: JsonValue
    timestamp: TimestampWire
    tag: str
    ttlMs: NotRequired[float]


class ORRecord(NamedTuple):
    """One OR-map add; ``tag`` is ``str(timestamp)`` of the add and names it forever."""

    value: JsonValue
    timestamp: Timestamp
    tag: str
    ttl_ms: float | None = None

    def is_expired(self, now_ms: int) -> bool:
        """Whether the TTL has run out at ``now_ms`` (the boundary instant is still alive)."""
        ttl = self.ttl_ms
        return ttl is not None and self.timestamp.millis + ttl < now_ms

    def to_wire(self) -> ORRecordWire:
        """The wire shape; ``ttlMs`` only when a TTL is set."""
        wire: ORRecordWire = {
            "value": self.value,
            "timestamp": self.timestamp.to_wire(),
            "tag": self.tag,
        }
        if self.ttl_ms is not None:
            wire["ttlMs"] = self.ttl_ms
        return wire

    @classmethod
    def from_wire(cls, wire: ORRecordWire) -> ORRecord:
        """Build from a wire dict whose types the codec has checked; the TTL is re-validated."""
        return cls(
            wire["value"],
            Timestamp.from_wire(wire["timestamp"]),
            wire["tag"],
            validate_ttl_ms(wire.get("ttlMs")),
        )


def json_equal(a: JsonValue, b: JsonValue) -> bool:
    """Value equality as JavaScript peers see it: ``1 == 1.0`` but ``True != 1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def entry_hash(key: str, records: Iterable[ORRecord]) -> int:
    """Merkle item hash of one OR-map key holding ``records`` (SEMANTICS.md §6).

    ``hash32`` of ``"key:<key>"`` joined by ``"|"`` with one
    ``"<tag>:<value>:<millis>:<counter>:<node>[:ttl=<ms>]"`` part per record in
    sorted tag order; a ``str`` value is rendered raw, anything else as canonical JSON.
    """
    parts = [f"key:{key}"]
    for record in sorted(records, key=_tag_of):
        value = record.value
        text = value if isinstance(value, str) else canonical_json(value)
        ts = record.timestamp
        part = f"{record.tag}:{text}:{ts.millis}:{ts.counter}:{ts.node_id}"
        if record.ttl_ms is not None:
            part += f":ttl={canonical_json(record.ttl_ms)}"
        parts.append(part)
    return hash32("|".join(parts))


def _tag_of(record: ORRecord) -> str:
    return record.tag


def _order_of(item: tuple[str, ORRecord]) -> tuple[Timestamp, str]:
    return item[1].timestamp, item[0]


ORListener = Callable[[str, ORRecord | None, str | None], None]
"""Change callback ``(key, added_record, removed_tag)``: exactly one of the two is set."""


class ORMap:
    """An observed-remove multimap replica stamped by ``hlc``."""

    __slots__ = (
        "_hlc",
        "_items",
        "_listeners",
        "_shared_tags",
        "_tag_keys",
        "_tombstones",
        "merkle",
    )

    def __init__(self, hlc: HLC, *, merkle_depth: int = 3) -> None:
        self._hlc = hlc
        # key -> tag -> record, in (timestamp, tag) order; a key with no tag is absent.
        self._items: dict[str, dict[str, ORRecord]] = {}
        # live tag -> its key, so a tombstone finds its record in O(1).
        self._tag_keys: dict[str, str] = {}
        # tag -> further keys holding it. Honest peers never reuse a tag; a forged
        # reuse must still converge, so every holder is tracked and tombstoned.
        self._shared_tags: dict[str, set[str]] = {}
        # tombstoned tag -> key it was removed from, when known (sent with the key's sync).
        self._tombstones: dict[str, str | None] = {}
        self.merkle = MerkleTree(merkle_depth)
        """Merkle trie with one :func:`entry_hash` per key that has records."""
        self._listeners: Listeners[[str, ORRecord | None, str | None]] = Listeners()

    @property
    def hlc(self) -> HLC:
        """The clock that stamps local adds and absorbs remote timestamps."""
        return self._hlc

    # ------------------------------------------------------------------ local writes

    def add(self, key: str, value: JsonValue, ttl_ms: float | None = None) -> ORRecord:
        """Add ``value`` under ``key`` with a new tag; return the record to replicate."""
        ttl = validate_ttl_ms(ttl_ms)
        timestamp = self._hlc.now()
        record = ORRecord(value, timestamp, str(timestamp), ttl)
        self._put(key, record, None)
        return record

    def remove(self, key: str, value: JsonValue) -> list[str]:
        """Tombstone every tag under ``key`` holding ``value``; return those tags to replicate."""
        tags = self._items.get(key)
        if not tags:
            return []
        removed = [tag for tag, record in tags.items() if json_equal(record.value, value)]
        for tag in removed:
            self._tombstone(tag, key)
        return removed

    # ------------------------------------------------------------------ remote state

    def apply(self, key: str, record: ORRecord) -> bool:
        """Apply a remote add; return whether the state changed.

        Ignored if its tag is tombstoned, or if the tag is known with a timestamp at
        least as new. A ``ClockDriftError`` from a strict HLC leaves everything as is.
        """
        self._hlc.update(record.timestamp)
        return self._apply(key, record)

    def apply_tombstone(self, tag: str, key: str | None = None) -> bool:
        """Apply a remote tombstone; return whether it was new. ``key``, if known, is kept for sync.

        Raises ``ValidationError`` if ``tag`` is not a timestamp string.
        """
        Timestamp.parse(tag)
        return self._tombstone(tag, key)

    def merge_key(self, key: str, records: Iterable[ORRecord], tombstones: Iterable[str]) -> bool:
        """Merge one key's sync entry: tombstones first, then unseen or newer records.

        All-or-nothing: tags are validated and the clock absorbs the newest timestamp
        before anything is applied.
        """
        records = list(records)
        tombstones = list(tombstones)
        for tag in tombstones:
            Timestamp.parse(tag)
        if records:
            self._hlc.update(max(record.timestamp for record in records))
        changed = False
        for tag in tombstones:
            changed = self._tombstone(tag, key) or changed
        for record in records:
            changed = self._apply(key, record) or changed
        return changed

    def merge(self, other: ORMap) -> bool:
        """Merge another replica's whole state into this one; return whether anything changed."""
        timestamps = [r.timestamp for tags in other._items.values() for r in tags.values()]
        if timestamps:
            self._hlc.update(max(timestamps))
        changed = False
        for tag, key in other._tombstones.items():
            changed = self._tombstone(tag, key) or changed
        for key, tags in other._items.items():
            for record in tags.values():
                changed = self._apply(key, record) or changed
        return changed

    def prune(self, older_than: Timestamp) -> list[str]:
        """Forget tombstones whose tag (the add's timestamp) is strictly older; return them.

        After this, a replica that still holds one of those adds can re-introduce it:
        choose ``older_than`` behind every replica's last sync.
        """
        pruned = [tag for tag in self._tombstones if Timestamp.parse(tag) < older_than]
        for tag in pruned:
            del self._tombstones[tag]
        return pruned

    def clear(self) -> None:
        """Forget everything, tombstones included (a reset: listeners are not called)."""
        self._items.clear()
        self._tag_keys.clear()
        self._shared_tags.clear()
        self._tombstones.clear()
        self.merkle.clear()

    def _apply(self, key: str, record: ORRecord) -> bool:
        tag = record.tag
        if tag in self._tombstones:
            return False
        tags = self._items.get(key)
        previous = None if tags is None else tags.get(tag)
        if previous is not None and record.timestamp <= previous.timestamp:
            return False
        self._put(key, record, previous)
        return True

    def _put(self, key: str, record: ORRecord, previous: ORRecord | None) -> None:
        tag = record.tag
        tags = self._items.get(key)
        if tags is None:
            tags = self._items[key] = {}
        last = next(reversed(tags.items()), None)
        tags[tag] = record
        if previous is not None or (last is not None and _order_of(last) > (record.timestamp, tag)):
            # Out-of-order arrival or a re-stamped tag: restore the timestamp order.
            tags = self._items[key] = dict(sorted(tags.items(), key=_order_of))
        if previous is None:
            holder = self._tag_keys.setdefault(tag, key)
            if holder != key:
                self._shared_tags.setdefault(tag, set()).add(key)
        self.merkle.update_hash(key, entry_hash(key, tags.values()))
        self._notify(key, record, None)

    def _tombstone(self, tag: str, key: str | None) -> bool:
        if tag in self._tombstones:
            if self._tombstones[tag] is None:
                self._tombstones[tag] = key
            return False
        holder = self._tag_keys.pop(tag, None)
        self._tombstones[tag] = holder if holder is not None else key
        if holder is None:
            return True
        for holding_key in (holder, *self._shared_tags.pop(tag, ())):
            self._drop_tag(holding_key, tag)
        return True

    def _drop_tag(self, key: str, tag: str) -> None:
        tags = self._items[key]
        del tags[tag]
        if tags:
            self.merkle.update_hash(key, entry_hash(key, tags.values()))
        else:
            del self._items[key]
            self.merkle.remove(key)
        self._notify(key, None, tag)

    # ------------------------------------------------------------------ reads

    def get(self, key: str) -> list[JsonValue]:
        """Live, unexpired values under ``key`` in add (timestamp) order."""
        tags = self._items.get(key)
        if not tags:
            return []
        now = self._hlc.clock.now_ms()
        return [record.value for record in tags.values() if not record.is_expired(now)]

    def records(self, key: str) -> list[ORRecord]:
        """Every record under ``key`` (expired ones included), in add order."""
        tags = self._items.get(key)
        return [] if tags is None else list(tags.values())

    def entries(self) -> Iterator[tuple[str, list[ORRecord]]]:
        """``(key, records)`` for every key holding records, expired ones included."""
        for key, tags in self._items.items():
            yield key, list(tags.values())

    def entry_hash(self, key: str) -> int:
        """The Merkle item hash of ``key`` (see :func:`entry_hash`)."""
        return entry_hash(key, self._items.get(key, {}).values())

    @property
    def tombstones(self) -> KeysView[str]:
        """A read-only live view of every tombstoned tag."""
        return self._tombstones.keys()

    def tombstone_keys(self) -> ItemsView[str, str | None]:
        """A read-only live view of ``tag -> key it was removed from`` (None when unknown)."""
        return self._tombstones.items()

    def tombstones_for(self, keys: Collection[str]) -> dict[str, list[str]]:
        """Tombstoned tags known to belong to each of ``keys`` (one pass over the tombstones)."""
        found: dict[str, list[str]] = {key: [] for key in keys}
        for tag, key in self._tombstones.items():
            if key is not None and key in found:
                found[key].append(tag)
        return found

    def items(self) -> Iterator[tuple[str, list[JsonValue]]]:
        """``(key, values)`` for every key with at least one live, unexpired value."""
        now = self._hlc.clock.now_ms()
        for key, tags in self._items.items():
            values = [record.value for record in tags.values() if not record.is_expired(now)]
            if values:
                yield key, values

    def keys(self) -> Iterator[str]:
        """Keys with at least one live, unexpired value."""
        now = self._hlc.clock.now_ms()
        for key, tags in self._items.items():
            if any(not record.is_expired(now) for record in tags.values()):
                yield key

    def __iter__(self) -> Iterator[str]:
        return self.keys()

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and bool(self.get(key))

    def __len__(self) -> int:
        """Number of keys with a live, unexpired value (O(keys) when TTLs are in use)."""
        return sum(1 for _ in self.keys())

    # ------------------------------------------------------------------ listeners

    def subscribe(self, listener: ORListener) -> Callable[[], None]:
        """Call ``listener(key, added_record, removed_tag)`` per change; return an unsubscriber.

        One call per record added (locally or by merge) and per live tag tombstoned;
        tombstones for tags not held here and ``clear`` notify nobody.
        """
        return self._listeners.add(listener)

    def _notify(self, key: str, record: ORRecord | None, tag: str | None) -> None:
        if self._listeners:
            self._listeners.notify(key, record, tag)
