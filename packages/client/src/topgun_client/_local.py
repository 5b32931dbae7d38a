"""Local query state: each queried LWW map's values, indexes and local live queries.

A :class:`LocalIndex` mirrors the live values of one replica map in an
:class:`~topgun_core.query.IndexedMap` — so local queries use indexes instead of
scanning the map — and keeps a :class:`~topgun_core.query.LiveQueryRegistry` of
the live queries running on it. It listens to the replica map itself
(``LWWMap.subscribe``), so *every* change — a local write, a live event, a sync
merge — updates the indexes and produces the live queries' deltas at once,
before the write call returns. Indexes come from
:meth:`~topgun_client.LWWMapHandle.create_index` or from the advisor, which
creates one after ``query_index_auto_threshold`` queries of the same pattern.

Records with a TTL are kept in a heap and leave (like a removal) once their time
has passed, checked whenever the map changes or a query reads its results
(:meth:`LocalIndex.sweep`). A map reset (``SYNC_RESET_REQUIRED``) clears the
replica without telling listeners, so the index is rebuilt from the replica
(:meth:`LocalIndex.rebuild`), and the deltas of the rebuild are reported too.
Optionally a :class:`~topgun_core.search.FullTextIndex` answers full-text
searches offline (:meth:`~topgun_client.LWWMapHandle.create_fulltext_index`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from topgun_core.clock import Clock
from topgun_core.hlc import Timestamp
from topgun_core.lww_map import LWWMap, LWWRecord
from topgun_core.query import Delta, IndexAdvisor, IndexedMap, LiveQueryRegistry, QueryLimits
from topgun_core.search import FullTextIndex
from topgun_core.values import JsonValue

__all__ = ["DeltaSink", "LocalIndex", "LocalIndexes"]

DeltaSink = Callable[[str, list[tuple[str, Delta]]], None]
"""``sink(map_name, [(query id, delta)])``: where local live-query deltas go."""


class LocalIndex:
    """Values, indexes and live queries of one replica map (module docstring)."""

    __slots__ = (
        "_clock",
        "_expiry",
        "_lww",
        "_sink",
        "fulltext",
        "indexed",
        "limits",
        "name",
        "queries",
    )

    def __init__(
        self,
        name: str,
        lww: LWWMap,
        clock: Clock,
        sink: DeltaSink,
        *,
        limits: QueryLimits,
        auto_index_threshold: int,
    ) -> None:
        self.name = name
        self._lww = lww
        self._clock = clock
        self._sink = sink
        self.limits = limits
        advisor = IndexAdvisor(auto_create_threshold=auto_index_threshold, limits=limits)
        self.indexed = IndexedMap(lww.items(), advisor=advisor, clock=clock, limits=limits)
        self.queries = LiveQueryRegistry(limits=limits)
        self.fulltext: FullTextIndex | None = None
        self._expiry: list[tuple[int, str, Timestamp]] = []
        now = clock.now_ms()
        for key, record in lww.records():
            self._track(key, record, now)
        lww.subscribe(self._changed)

    def _track(self, key: str, record: LWWRecord, now_ms: int) -> None:
        if record.value is not None and record.ttl_ms is not None:
            expires = record.timestamp.millis + int(record.ttl_ms) + 1
            heapq.heappush(self._expiry, (max(expires, now_ms), key, record.timestamp))

    def _changed(self, key: str, record: LWWRecord | None, _previous: LWWRecord | None) -> None:
        now = self._clock.now_ms()
        value: JsonValue | None = None
        if record is not None and record.value is not None and not record.is_expired(now):
            value = record.value
            self._track(key, record, now)
        self._set(key, value)
        self.sweep()

    def _set(self, key: str, value: JsonValue | None) -> None:
        old = self.indexed.set(key, value)
        if old is None and value is None:
            return
        if self.fulltext is not None:
            if isinstance(value, dict):
                self.fulltext.add(key, value)
            else:
                self.fulltext.remove(key)
        deltas = self.queries.apply(key, old, value)
        if deltas:
            self._sink(self.name, deltas)

    def sweep(self) -> None:
        """Let every record whose TTL has run out leave (it is gone from reads too)."""
        if not self._expiry or self._expiry[0][0] > self._clock.now_ms():
            return
        now = self._clock.now_ms()
        while self._expiry and self._expiry[0][0] <= now:
            _, key, stamp = heapq.heappop(self._expiry)
            record = self._lww.get_record(key)
            if record is not None and record.timestamp == stamp and record.is_expired(now):
                self._set(key, None)

    def known(self, key: str) -> bool:
        """Whether the replica holds any record of ``key`` (a tombstone counts)."""
        return self._lww.get_record(key) is not None

    def rebuild(self) -> None:
        """Bring the index in line with the replica after a reset (deltas included)."""
        live = dict(self._lww.items())
        for key in [k for k in self.indexed if k not in live]:
            self._set(key, None)
        for key, value in live.items():
            if self.indexed.get(key) != value:
                self._set(key, value)

    def enable_fulltext(self, fields: tuple[str, ...]) -> FullTextIndex:
        """Build a full-text index over ``fields`` of the current values."""
        index = FullTextIndex(fields)
        for key, value in self.indexed.records.items():
            if isinstance(value, dict):
                index.add(key, value)
        self.fulltext = index
        return index


class LocalIndexes:
    """The :class:`LocalIndex` of every queried LWW map, made on first use."""

    __slots__ = ("_by_map", "_clock", "_sink", "auto_index_threshold", "limits")

    def __init__(
        self, clock: Clock, sink: DeltaSink, *, limits: QueryLimits, auto_index_threshold: int
    ) -> None:
        self._clock = clock
        self._sink = sink
        self.limits = limits
        self.auto_index_threshold = auto_index_threshold
        self._by_map: dict[str, LocalIndex] = {}

    def get(self, name: str, lww: LWWMap) -> LocalIndex:
        """The index of map ``name`` (``lww`` is the replica map)."""
        index = self._by_map.get(name)
        if index is None:
            index = self._by_map[name] = LocalIndex(
                name,
                lww,
                self._clock,
                self._sink,
                limits=self.limits,
                auto_index_threshold=self.auto_index_threshold,
            )
        return index

    def find(self, name: str) -> LocalIndex | None:
        """The index of ``name`` if one was made."""
        return self._by_map.get(name)
