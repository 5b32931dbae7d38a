"""A map's plain records with their indexes and advisor: the unit that answers queries.

:class:`IndexedMap` owns a ``dict`` of key → current value (None means removed, so
it is simply not stored), keeps an :class:`IndexRegistry` over it current on every
:meth:`~IndexedMap.set`, feeds each query's predicate to an optional
:class:`IndexAdvisor` (which may create indexes as patterns repeat), and runs
queries through the planner. The server and the client keep one per map they
query; a CRDT map feeds it its merged values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType

from topgun_core.clock import Clock
from topgun_core.protocol import Query
from topgun_core.query._advisor import IndexAdvisor
from topgun_core.query._execute import DEFAULT_QUERY_LIMITS, QueryResult, as_spec, execute, explain
from topgun_core.query._indexes import Index
from topgun_core.query._limits import QueryLimits
from topgun_core.query._planner import Plan
from topgun_core.query._registry import IndexRegistry
from topgun_core.query._wire import QuerySpec
from topgun_core.values import JsonValue

__all__ = ["IndexedMap"]


class IndexedMap:
    """Records of one map, indexed (see the module docstring)."""

    __slots__ = ("_clock", "_records", "advisor", "indexes", "limits")

    def __init__(
        self,
        records: Mapping[str, JsonValue] | Iterable[tuple[str, JsonValue]] = (),
        *,
        advisor: IndexAdvisor | None = None,
        clock: Clock | None = None,
        limits: QueryLimits = DEFAULT_QUERY_LIMITS,
    ) -> None:
        items = records.items() if isinstance(records, Mapping) else records
        self._records: dict[str, JsonValue] = {k: v for k, v in items if v is not None}
        self.indexes = IndexRegistry(MappingProxyType(self._records))
        """The map's indexes (add more with :meth:`add_index`)."""
        self.advisor = advisor
        self.limits = limits
        self._clock = clock

    @property
    def records(self) -> Mapping[str, JsonValue]:
        """A read-only live view of key → value."""
        return self.indexes.records

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, key: object) -> bool:
        return key in self._records

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def get(self, key: str) -> JsonValue | None:
        """The value of ``key``, or None."""
        return self._records.get(key)

    def set(self, key: str, value: JsonValue | None) -> JsonValue | None:
        """Store ``value`` under ``key`` (None removes it); returns the previous value."""
        old = self._records.get(key)
        if value is None:
            self._records.pop(key, None)
        else:
            self._records[key] = value
        if old is not None or value is not None:
            self.indexes.update(key, old, value)
        return old

    def remove(self, key: str) -> JsonValue | None:
        """Remove ``key``; returns the value it had."""
        return self.set(key, None)

    def add_index(self, index: Index) -> Index:
        """Build ``index`` over the current records and keep it current."""
        return self.indexes.add_index(index)

    def query(self, query: QuerySpec | Query | Mapping[str, object]) -> QueryResult:
        """One page of ``query`` (see :func:`execute`); the advisor sees its predicate."""
        spec = as_spec(query)
        if self.advisor is not None:
            self.advisor.record(spec.predicate, self.indexes)
        return execute(
            spec, self._records, indexes=self.indexes, clock=self._clock, limits=self.limits
        )

    def explain(self, query: QuerySpec | Query | Mapping[str, object]) -> Plan:
        """The plan :meth:`query` would use."""
        return explain(query, self.indexes)
