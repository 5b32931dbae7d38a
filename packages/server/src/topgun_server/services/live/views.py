"""The query side of one loaded LWW map: plain values, indexes, full text, live state.

A :class:`MapView` exists for a READY map that someone queries or searches. It
holds the map's live values in an :class:`~topgun_core.query.IndexedMap` (with
the configured indexes, and an advisor that may add more), the
:class:`~topgun_core.query.LiveQueryRegistry` of the map's live queries, the
map's :class:`~topgun_core.search.FullTextIndex` when full text is enabled, and
what each live search and hybrid query last reported.

:meth:`MapView.change` is fed every change of the map (a key's new live value, or
None when it was removed or expired): it updates the values, the indexes and the
full-text index, and returns the live queries' deltas at once (O(log n) each).
Searches and hybrids are re-ranked later, once per batch of changes
(:meth:`MapView.refresh`), because a ranking costs a search.

The full-text index is built in the background from the existing values
(:meth:`MapView.build_fulltext`, chunk by chunk, progress in ``indexed`` /
``total``); changes made meanwhile go straight into it, so the built index is
exact. Records with a TTL are remembered in a heap; :meth:`MapView.expired`
returns those whose time has come so that they leave like deletions.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field

from topgun_core.lww_map import LWWRecord
from topgun_core.query import (
    Delta,
    Index,
    IndexAdvisor,
    IndexedMap,
    LiveQueryRegistry,
    Predicate,
    QueryLimits,
    QuerySpec,
)
from topgun_core.search import FullTextIndex, LiveSearch, SearchDelta
from topgun_core.values import JsonValue
from topgun_server.services.live.ranking import Ranked, ScoredDelta, diff_ranked, rank_hybrid
from topgun_server.services.live.subscriptions import SearchRequest
from topgun_server.services.maps import MapSlot

__all__ = ["FULLTEXT_CHUNK_DOCS", "Hybrid", "MapView"]

FULLTEXT_CHUNK_DOCS = 2_000
"""Documents indexed between two yields of a background full-text build."""


@dataclass(eq=False, slots=True)
class Hybrid:
    """A live hybrid query: its text leaves, filter and what the subscriber holds."""

    text: list[Predicate]
    spec: QuerySpec
    fields: frozenset[str] | None
    known: dict[str, Ranked] = field(default_factory=dict)


class MapView:
    """Values, indexes, full text and live state of one READY map (module docstring)."""

    def __init__(
        self,
        slot: MapSlot,
        now_ms: int,
        *,
        limits: QueryLimits,
        indexes: Iterable[Index] = (),
        advisor: IndexAdvisor | None = None,
    ) -> None:
        self.slot = slot
        lww = slot.require_lww()
        self.records = IndexedMap(lww.items(), advisor=advisor, limits=limits)
        for index in indexes:
            self.records.add_index(index)
        self.queries = LiveQueryRegistry(limits=limits)
        self.searches: dict[str, LiveSearch] = {}
        self.hybrids: dict[str, Hybrid] = {}
        self.fulltext: FullTextIndex | None = None
        self.fulltext_ready = asyncio.Event()
        self.indexed = 0
        self.total = 0
        self.closed = False
        self._dirty: set[str] = set()
        self._expiry: list[tuple[int, str, object]] = []
        for key, record in lww.records():
            self.track(key, record, now_ms)

    @property
    def name(self) -> str:
        """The map's name."""
        return self.slot.name

    # ------------------------------------------------------------------ changes

    def change(self, key: str, value: JsonValue | None) -> list[tuple[str, Delta]]:
        """Apply one key's new live value; return the live queries' deltas."""
        old = self.records.set(key, value)
        if old is None and value is None:
            return []
        if self.fulltext is not None:
            if isinstance(value, dict):
                self.fulltext.add(key, value)
            else:
                self.fulltext.remove(key)
        if self.searches or self.hybrids:
            self._dirty.add(key)
        return self.queries.apply(key, old, value)

    @property
    def dirty(self) -> bool:
        """Whether searches or hybrids must be re-ranked."""
        return bool(self._dirty)

    def track(self, key: str, record: LWWRecord, now_ms: int) -> None:
        """Remember when ``record`` (now under ``key``) expires, if it has a TTL."""
        if record.value is not None and record.ttl_ms is not None:
            expires = record.timestamp.millis + int(record.ttl_ms) + 1
            heapq.heappush(self._expiry, (max(expires, now_ms), key, record.timestamp))

    def next_expiry_ms(self) -> int | None:
        """When the earliest tracked record expires."""
        return self._expiry[0][0] if self._expiry else None

    def expired(self, now_ms: int) -> list[str]:
        """Keys whose current record has expired by ``now_ms`` (each returned once)."""
        lww = self.slot.require_lww()
        due: list[str] = []
        while self._expiry and self._expiry[0][0] <= now_ms:
            _, key, stamp = heapq.heappop(self._expiry)
            record = lww.get_record(key)
            if record is not None and record.timestamp == stamp and record.is_expired(now_ms):
                due.append(key)
        return due

    # ------------------------------------------------------------------ full text

    def enable_fulltext(self, fields: tuple[str, ...]) -> None:
        """Start a fresh full-text index over ``fields`` (fill it with :meth:`build_fulltext`)."""
        self.fulltext = FullTextIndex(fields)
        self.fulltext_ready = asyncio.Event()
        self.indexed = 0
        self.total = len(self.records)

    async def build_fulltext(self, chunk_docs: int = FULLTEXT_CHUNK_DOCS) -> None:
        """Index every existing value, yielding to the loop between chunks."""
        index = self.fulltext
        assert index is not None
        keys = list(self.records)
        self.total = len(keys)
        records = self.records
        for start in range(0, len(keys), chunk_docs):
            if self.closed or self.fulltext is not index:
                return
            for key in keys[start : start + chunk_docs]:
                value = records.get(key)
                if isinstance(value, dict):
                    index.add(key, value)
            self.indexed = min(start + chunk_docs, len(keys))
            await asyncio.sleep(0)
        self.indexed = self.total
        self.fulltext_ready.set()

    # ------------------------------------------------------------------ ranked views

    def add_search(self, ref: str, request: SearchRequest) -> LiveSearch:
        """Start a live search (the full-text index must be ready)."""
        assert self.fulltext is not None
        live = LiveSearch(
            self.fulltext,
            request.text,
            limit=request.limit,
            min_score=request.min_score,
            boost=request.boost,
        )
        self.searches[ref] = live
        return live

    def add_hybrid(self, ref: str, hybrid: Hybrid) -> list[Ranked]:
        """Start a live hybrid query; returns its first ranking."""
        ranked = rank_hybrid(
            self.records.records, self.fulltext, hybrid.text, hybrid.spec, hybrid.fields
        )
        hybrid.known = {row.key: row for row in ranked}
        self.hybrids[ref] = hybrid
        return ranked

    def refresh(self) -> list[tuple[str, SearchDelta | ScoredDelta]]:
        """Re-rank every search and hybrid after the changes since the last refresh."""
        changed, self._dirty = self._dirty, set()
        out: list[tuple[str, SearchDelta | ScoredDelta]] = []
        for ref, live in self.searches.items():
            out.extend((ref, delta) for delta in live.refresh(changed))
        records = self.records.records
        for ref, hybrid in self.hybrids.items():
            fresh = rank_hybrid(records, self.fulltext, hybrid.text, hybrid.spec, hybrid.fields)
            deltas, hybrid.known = diff_ranked(hybrid.known, fresh, changed)
            out.extend((ref, delta) for delta in deltas)
        return out

    def drop(self, ref: str) -> None:
        """Forget whatever live state ``ref`` had here."""
        self.queries.unsubscribe(ref)
        self.searches.pop(ref, None)
        self.hybrids.pop(ref, None)
