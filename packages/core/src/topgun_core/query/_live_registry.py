"""Many live queries over one map, and routing each write to the ones it can affect.

A write ``key: old → new`` can change a live query's result only if

1. the query currently holds ``key`` (it matched ``old``): it must re-check it —
   the row may leave, move or just change — and these queries are found through a
   *holders* table, key → query ids, kept current as deltas are produced; or
2. ``new`` matches although ``old`` did not. For that, an attribute the predicate
   reads must have changed between ``old`` and ``new`` (otherwise the predicate
   gives the same answer), so the query is reached through a table
   top-level attribute → query ids, consulted with the attributes the write
   changed (all of them for an insert or a non-object value).

Queries with an *equality anchor* — an ``eq`` or ``in`` at the root or directly
under a root ``and`` — skip the attribute table: ``new`` can only match if it has
one of the anchor's values, so they are found by a hash lookup
(attribute, value) → query ids on ``new``, however many such queries there are.
Likewise queries with a *range anchor* (``gt gte lt lte between`` in the same
places) are found by a stabbing lookup of ``new``'s value in an interval index
(``_intervals``) per attribute. Anchored hits are then kept only if the write
changed an attribute the query reads, as in (2).
Queries without attributes (no predicate, empty ``and``) see every write.
Everything else the write touches is left alone, which is what makes a thousand
subscriptions cheap.

The registry holds at most ``QueryLimits.live_queries_max`` queries; subscribing
past that raises :class:`~topgun_core.errors.LimitExceeded` (the server answers
429).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

from topgun_core.errors import ConflictError, LimitExceeded
from topgun_core.protocol import Query
from topgun_core.query._execute import DEFAULT_QUERY_LIMITS, Source
from topgun_core.query._intervals import IntervalIndex, RangeAnchor, range_anchor
from topgun_core.query._limits import QueryLimits
from topgun_core.query._live import Delta, LiveQuery
from topgun_core.query._predicates import Predicate
from topgun_core.query._registry import IndexRegistry
from topgun_core.query._values import Getter, compile_path, index_key, json_equal, top_attribute
from topgun_core.query._wire import QuerySpec
from topgun_core.values import JsonValue

__all__ = ["LiveQueryRegistry", "changed_attributes"]

_K = TypeVar("_K", bound=Hashable)


def changed_attributes(old: JsonValue | None, new: JsonValue | None) -> frozenset[str] | None:
    """Top-level fields that differ between two values; None means "consider all"."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return None
    changed = set(old.keys() ^ new.keys())
    changed.update(k for k, v in old.items() if k in new and not json_equal(v, new[k]))
    return frozenset(changed)


@dataclass(frozen=True, slots=True)
class _Anchor:
    attribute: str
    keys: frozenset[Hashable]


def _anchor(predicate: Predicate | None) -> _Anchor | None:
    if predicate is None:
        return None
    candidates = predicate.children if predicate.op == "and" else (predicate,)
    for node in candidates:
        if node.op in ("eq", "in") and node.attribute is not None:
            values = node.value if node.op == "in" else [node.value]
            assert isinstance(values, list)
            keys = frozenset(k for k in map(index_key, values) if k is not None)
            return _Anchor(node.attribute, keys)
    return None


class LiveQueryRegistry:
    """The live queries of one map, each under a caller-chosen id (see the module docstring)."""

    __slots__ = (
        "_anchor_getters",
        "_anchors",
        "_by_attribute",
        "_everything",
        "_holders",
        "_queries",
        "_range_getters",
        "_ranges",
        "_reads",
        "limits",
    )

    def __init__(self, *, limits: QueryLimits = DEFAULT_QUERY_LIMITS) -> None:
        self.limits = limits
        self._queries: dict[str, LiveQuery] = {}
        self._holders: dict[str, set[str]] = {}
        self._anchors: dict[tuple[str, Hashable], set[str]] = {}
        self._anchor_getters: dict[str, tuple[Getter, int]] = {}
        self._by_attribute: dict[str, set[str]] = {}
        self._everything: set[str] = set()
        self._ranges: dict[str, IntervalIndex] = {}
        self._range_getters: dict[str, Getter] = {}
        self._reads: dict[str, frozenset[str]] = {}

    def __len__(self) -> int:
        return len(self._queries)

    def __contains__(self, query_id: object) -> bool:
        return query_id in self._queries

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._queries))

    def get(self, query_id: str) -> LiveQuery | None:
        """The live query registered as ``query_id``."""
        return self._queries.get(query_id)

    def subscribe(
        self,
        query_id: str,
        query: QuerySpec | Query | Mapping[str, object],
        source: Source,
        *,
        indexes: IndexRegistry | None = None,
    ) -> LiveQuery:
        """Evaluate ``query`` over ``source`` and route later writes to it.

        The returned query's ``results`` are the initial snapshot. Raises
        ``ConflictError`` if ``query_id`` is taken and ``LimitExceeded`` when the
        registry is full.
        """
        if query_id in self._queries:
            raise ConflictError(f"live query {query_id!r} already exists")
        if len(self._queries) >= self.limits.live_queries_max:
            raise LimitExceeded(
                "live_queries_max", len(self._queries) + 1, self.limits.live_queries_max
            )
        live = LiveQuery(query, source, indexes=indexes, limits=self.limits)
        self._queries[query_id] = live
        for key in live.matching_keys():
            self._holders.setdefault(key, set()).add(query_id)
        self._route(query_id, live.spec.predicate, add=True)
        return live

    def unsubscribe(self, query_id: str) -> bool:
        """Forget ``query_id``; False if it was not registered."""
        live = self._queries.pop(query_id, None)
        if live is None:
            return False
        for key in live.matching_keys():
            _discard(self._holders, key, query_id)
        self._route(query_id, live.spec.predicate, add=False)
        return True

    def _route(self, query_id: str, predicate: Predicate | None, *, add: bool) -> None:
        reads = frozenset(map(top_attribute, predicate.attributes() if predicate else ()))
        if add:
            self._reads[query_id] = reads
        else:
            del self._reads[query_id]
        anchor = _anchor(predicate)
        in_range = None if predicate is None else range_anchor(predicate)
        if anchor is not None:
            self._route_anchor(query_id, anchor, add=add)
        elif in_range is not None:
            self._route_range(query_id, in_range, add=add)
        elif not reads:
            (self._everything.add if add else self._everything.discard)(query_id)
        else:
            for attribute in reads:
                if add:
                    self._by_attribute.setdefault(attribute, set()).add(query_id)
                else:
                    _discard(self._by_attribute, attribute, query_id)

    def _route_anchor(self, query_id: str, anchor: _Anchor, *, add: bool) -> None:
        getter, users = self._anchor_getters.get(anchor.attribute, (None, 0))
        users += 1 if add else -1
        if users:
            self._anchor_getters[anchor.attribute] = (
                getter or compile_path(anchor.attribute),
                users,
            )
        else:
            del self._anchor_getters[anchor.attribute]
        for key in anchor.keys:
            slot = (anchor.attribute, key)
            if add:
                self._anchors.setdefault(slot, set()).add(query_id)
            else:
                _discard(self._anchors, slot, query_id)

    def _route_range(self, query_id: str, anchor: RangeAnchor, *, add: bool) -> None:
        attribute = anchor.attribute
        intervals = self._ranges.get(attribute)
        if intervals is None:
            intervals = self._ranges[attribute] = IntervalIndex()
            self._range_getters[attribute] = compile_path(attribute)
        if add:
            intervals.add(query_id, anchor)
            return
        intervals.remove(query_id)
        if not intervals:
            del self._ranges[attribute], self._range_getters[attribute]

    def affected(
        self, key: str, old_value: JsonValue | None, new_value: JsonValue | None
    ) -> set[str]:
        """The ids of the queries the write ``key: old_value → new_value`` may change."""
        ids = set(self._holders.get(key, ()))
        if new_value is None:
            return ids
        changed = changed_attributes(old_value, new_value)
        anchored: set[str] = set()
        for attribute, (get, _) in self._anchor_getters.items():
            value_key = index_key(get(new_value))
            if value_key is not None:
                anchored.update(self._anchors.get((attribute, value_key), ()))
        for attribute, intervals in self._ranges.items():
            anchored.update(intervals.stab(self._range_getters[attribute](new_value)))
        if changed is None:
            ids |= anchored
            for routed in self._by_attribute.values():
                ids |= routed
        else:
            # A query that does not hold the key can only gain it if the write
            # changed an attribute the query reads.
            ids.update(q for q in anchored if not self._reads[q].isdisjoint(changed))
            for attribute in changed:
                ids.update(self._by_attribute.get(attribute, ()))
        ids |= self._everything
        return ids

    def apply(
        self, key: str, old_value: JsonValue | None, new_value: JsonValue | None
    ) -> list[tuple[str, Delta]]:
        """Apply one write to every affected query: ``(query id, delta)`` in id order.

        ``old_value`` must be the value the queries last saw for ``key`` (None if
        absent) and ``new_value`` the value now (None if removed).
        """
        out: list[tuple[str, Delta]] = []
        for query_id in sorted(self.affected(key, old_value, new_value)):
            live = self._queries[query_id]
            deltas = live.apply(key, new_value)
            if live.holds(key):
                self._holders.setdefault(key, set()).add(query_id)
            else:
                _discard(self._holders, key, query_id)
            out.extend((query_id, delta) for delta in deltas)
        return out


def _discard(table: dict[_K, set[str]], slot: _K, query_id: str) -> None:
    ids = table.get(slot)
    if ids is not None:
        ids.discard(query_id)
        if not ids:
            del table[slot]
