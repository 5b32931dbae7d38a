"""The map registry: maps load lazily, in explicit states, and idle ones are evicted.

A map is held in a :class:`MapSlot` whose state moves LOADING → READY (or
LOADING → FAILED, after which the slot is dropped so the next access retries).
The first access to a map creates its slot and starts *one* load task in the
registry's task group; every concurrent reader or writer awaits the same slot
becoming READY (HARDENING.md §9). A map nobody has written yet is READY at once,
empty, with the kind its first user asked for; its kind reaches storage with its
first write.

A map's kind (LWW or OR) never changes: asking for the other kind is a
:class:`~topgun_core.errors.ConflictError` (409).

Memory is bounded by an estimate: each slot's size is a per-record constant plus
the key and a shallow size of the value. When the total passes
``memory_bytes_max``, the least recently used READY maps are evicted until it
fits — never one with writes not yet durable (the persistence queue tells), and
never the map being accessed. An evicted map reloads from storage on demand.

Changes: :meth:`Maps.on_change` registers a listener that sees every change to
every READY map's CRDT as a :class:`MapChange` — writes, sync pushes, anything
else that merges — after it is applied (a load's own merges are not changes).
``on_evicted`` is told about each evicted slot. Live queries and the event journal
hang off these two hooks instead of the write paths.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from topgun_core.errors import ConflictError, StorageError, TopGunError
from topgun_core.hlc import HLC
from topgun_core.lww_map import LWWMap, LWWRecord
from topgun_core.or_map import ORMap, ORRecord
from topgun_core.storage import MapKind, StorageAdapter
from topgun_core.values import JsonValue
from topgun_server.metrics import Metrics

__all__ = [
    "ChangeListener",
    "MapChange",
    "MapSlot",
    "MapState",
    "Maps",
    "estimate_record_bytes",
]

_log = logging.getLogger(__name__)

RECORD_OVERHEAD_BYTES = 400
"""Rough cost of one record beyond its key and value: dict slots, tuple, timestamp, Merkle."""
_CONTAINER_ITEM_BYTES = 64


class MapState(enum.Enum):
    """Where a map is in its life: being loaded, usable, or failed to load."""

    LOADING = "LOADING"
    READY = "READY"
    FAILED = "FAILED"


_TRANSITIONS: dict[MapState, frozenset[MapState]] = {
    MapState.LOADING: frozenset({MapState.READY, MapState.FAILED}),
    MapState.READY: frozenset(),
    MapState.FAILED: frozenset(),
}


def _value_bytes(value: JsonValue) -> int:
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, dict | list):
        return _CONTAINER_ITEM_BYTES * (len(value) + 1)
    return 8


def estimate_record_bytes(key: str, value: JsonValue) -> int:
    """A cheap, shallow estimate of one record's memory."""
    return RECORD_OVERHEAD_BYTES + len(key) + _value_bytes(value)


@dataclass(slots=True, eq=False)
class MapSlot:
    """One map: its kind, state and CRDT, and its estimated size."""

    name: str
    kind: MapKind
    lww: LWWMap | None = None
    ormap: ORMap | None = None
    state: MapState = MapState.LOADING
    estimated_bytes: int = 0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    error: TopGunError | None = None

    def move(self, state: MapState) -> None:
        """Change state along the transition table; an illegal move is a bug."""
        assert state in _TRANSITIONS[self.state], f"map {self.state} -> {state} is illegal"
        self.state = state

    def live_items(self) -> int:
        """Live entries (no tombstones, nothing expired)."""
        if self.lww is not None:
            return len(self.lww)
        assert self.ormap is not None
        return len(self.ormap)

    def require_lww(self) -> LWWMap:
        """The LWW map (the kind was checked when the slot was acquired)."""
        assert self.lww is not None, f"map {self.name!r} is not an LWW map"
        return self.lww

    def require_or(self) -> ORMap:
        """The OR map (the kind was checked when the slot was acquired)."""
        assert self.ormap is not None, f"map {self.name!r} is not an OR map"
        return self.ormap


@dataclass(frozen=True, slots=True)
class MapChange:
    """One applied change to a loaded map's CRDT.

    LWW maps: ``record`` is the record now held (None when GC pruned a tombstone)
    and ``previous`` the one it replaced (None if the key was new). OR maps:
    ``record`` is the record added, or ``removed_tag`` the tag tombstoned.
    """

    slot: MapSlot
    key: str
    record: LWWRecord | ORRecord | None
    previous: LWWRecord | None = None
    removed_tag: str | None = None


ChangeListener = Callable[[MapChange], None]
"""Called synchronously, inside the write, after each change is applied."""


class Maps:
    """Every map this node holds: lazy loading, kinds, LRU eviction."""

    def __init__(
        self,
        storage: StorageAdapter,
        hlc: HLC,
        metrics: Metrics,
        task_group: asyncio.TaskGroup,
        *,
        memory_bytes_max: int,
        has_pending_writes: Callable[[str], bool],
    ) -> None:
        self._storage = storage
        self._hlc = hlc
        self._metrics = metrics
        self._tg = task_group
        self.memory_bytes_max = memory_bytes_max
        self._has_pending = has_pending_writes
        self._kinds: dict[str, MapKind] = {}
        self._slots: OrderedDict[str, MapSlot] = OrderedDict()  # LRU order: oldest first
        self._total_bytes = 0  # kept incrementally: the write path must not sum every map
        self.on_loaded: Callable[[MapSlot], None] | None = None
        """Called once a map is READY after a load (GC prunes what is past the horizon)."""
        self.on_evicted: Callable[[MapSlot], None] | None = None
        """Called for each slot evicted under the memory ceiling."""
        self._change_listeners: list[ChangeListener] = []

    def on_change(self, listener: ChangeListener) -> Callable[[], None]:
        """Call ``listener(change)`` after every change to a READY map; returns an unsubscriber."""
        self._change_listeners.append(listener)
        return lambda: self._change_listeners.remove(listener)

    def _watch(self, slot: MapSlot) -> None:
        listeners = self._change_listeners

        def lww_changed(key: str, record: LWWRecord | None, previous: LWWRecord | None) -> None:
            if listeners:
                change = MapChange(slot, key, record, previous)
                for listener in tuple(listeners):
                    listener(change)

        def or_changed(key: str, record: ORRecord | None, tag: str | None) -> None:
            if listeners:
                change = MapChange(slot, key, record, None, tag)
                for listener in tuple(listeners):
                    listener(change)

        if slot.lww is not None:
            slot.lww.subscribe(lww_changed)
        if slot.ormap is not None:
            slot.ormap.subscribe(or_changed)

    @property
    def task_group(self) -> asyncio.TaskGroup:
        """The task group map loads (and their follow-ups) run in."""
        return self._tg

    async def start(self) -> None:
        """Learn the kinds of every stored map (cheap: no records are read)."""
        self._kinds.update(await self._storage.map_kinds())

    def kinds(self) -> dict[str, MapKind]:
        """Every map known on this node (stored or in memory) and its kind."""
        return dict(self._kinds)

    def loaded(self) -> Iterator[MapSlot]:
        """The slots in memory (any state)."""
        return iter(list(self._slots.values()))

    def total_bytes(self) -> int:
        """Estimated memory of every loaded map."""
        return self._total_bytes

    def check_kind(self, name: str, kind: MapKind) -> None:
        """Raise ``ConflictError`` when ``name`` is a map of the other kind."""
        known = self._kinds.get(name)
        if known is not None and known != kind:
            raise ConflictError(
                f"map {name!r} is an {_KIND_NAMES[known]} map, not an {_KIND_NAMES[kind]} map"
            )

    async def acquire(self, name: str, kind: MapKind) -> MapSlot:
        """The READY slot of ``name``, loading it first if needed (one load, shared)."""
        self.check_kind(name, kind)
        slot = self._slots.get(name)
        if slot is None:
            slot = self._create(name, kind)
        else:
            self._slots.move_to_end(name)
        if slot.state is not MapState.READY:
            await slot.ready.wait()
            if slot.error is not None:
                raise StorageError(f"map {name!r} could not be loaded: {slot.error.message}")
        return slot

    def _create(self, name: str, kind: MapKind) -> MapSlot:
        slot = MapSlot(name, kind)
        self._slots[name] = slot
        if name in self._kinds:
            self._tg.create_task(self._load(slot))
        else:
            self._kinds[name] = kind
            self._install(slot, [], None)
            self.evict_if_needed(keep=name)
        self._metrics.maps_loaded.set(len(self._slots))
        return slot

    async def _load(self, slot: MapSlot) -> None:
        try:
            if slot.kind == "lww":
                records = await self._storage.load_lww(slot.name)
                self._install(slot, records, None)
            else:
                snapshot = await self._storage.load_or(slot.name)
                self._install(slot, snapshot.records, snapshot.tombstones)
        except Exception as exc:  # noqa: BLE001 - a failed load must fail its waiters, not the server
            if isinstance(exc, TopGunError):
                _log.error("loading map %r failed: %s", slot.name, exc)
                safe = exc if isinstance(exc, StorageError) else StorageError(exc.message)
            else:
                _log.exception("loading map %r failed", slot.name)
                safe = StorageError("internal error while loading")
            self._fail(slot, safe)
            return
        self._metrics.map_loads.inc()
        if self.on_loaded is not None:
            self.on_loaded(slot)
        self.evict_if_needed(keep=slot.name)

    def _fail(self, slot: MapSlot, error: StorageError) -> None:
        slot.error = error
        slot.move(MapState.FAILED)
        if self._slots.get(slot.name) is slot:
            del self._slots[slot.name]
        slot.ready.set()

    def _install(
        self,
        slot: MapSlot,
        records: list[tuple[str, LWWRecord]] | list[tuple[str, ORRecord]],
        tombstones: list[tuple[str, str]] | None,
    ) -> None:
        size = 0
        if slot.kind == "lww":
            lww = LWWMap(self._hlc)
            for key, record in records:
                assert isinstance(record, LWWRecord)
                lww.merge(key, record)
                size += estimate_record_bytes(key, record.value)
            slot.lww = lww
        else:
            ormap = ORMap(self._hlc)
            for key, tag in tombstones or []:
                ormap.apply_tombstone(tag, key)
                size += RECORD_OVERHEAD_BYTES
            for key, orec in records:
                assert isinstance(orec, ORRecord)
                ormap.apply(key, orec)
                size += estimate_record_bytes(key, orec.value)
            slot.ormap = ormap
        slot.estimated_bytes = size
        if self._slots.get(slot.name) is slot:
            self._total_bytes += size
        self._watch(slot)
        slot.move(MapState.READY)
        slot.ready.set()
        self._update_gauges()

    def grow(self, slot: MapSlot, key: str, value: JsonValue) -> None:
        """Account for a record written to ``slot`` (new or replacing: estimates stay rough)."""
        size = estimate_record_bytes(key, value)
        slot.estimated_bytes += size
        if self._slots.get(slot.name) is slot:
            self._total_bytes += size
            if self._total_bytes > self.memory_bytes_max:
                self.evict_if_needed(keep=slot.name)

    def evict_if_needed(self, keep: str | None = None) -> list[str]:
        """Evict idle maps, least recently used first, until under the ceiling."""
        evicted: list[str] = []
        for name, slot in list(self._slots.items()):
            if self._total_bytes <= self.memory_bytes_max:
                break
            if name == keep or slot.state is not MapState.READY or self._has_pending(name):
                continue
            del self._slots[name]
            self._total_bytes -= slot.estimated_bytes
            evicted.append(name)
            self._metrics.map_evictions.inc()
            if self.on_evicted is not None:
                self.on_evicted(slot)
            _log.info(
                "evicted idle map %r (~%d bytes) under the memory ceiling",
                name,
                slot.estimated_bytes,
            )
        self._update_gauges()
        return evicted

    def _update_gauges(self) -> None:
        self._metrics.maps_loaded.set(len(self._slots))
        self._metrics.maps_memory_bytes.set(self.total_bytes())

    def sizes(self) -> Iterator[tuple[str, int]]:
        """``(map, live items)`` of every READY map (for metrics and the admin API)."""
        for slot in list(self._slots.values()):
            if slot.state is MapState.READY:
                yield slot.name, slot.live_items()


_KIND_NAMES: dict[MapKind, str] = {"lww": "LWW", "or": "OR"}
