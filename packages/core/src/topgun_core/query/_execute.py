"""Running a query over a collection of records: filter, sort, page.

:func:`execute` takes a query (a :class:`QuerySpec` or a wire ``Query`` dict) and the
records — a ``Mapping`` key → value, or any iterable of ``(key, value)`` pairs; a
value of None is an absent record and never matches. With an
:class:`IndexRegistry` over the same records (and a ``Mapping`` source) the
planner may answer the predicate from indexes instead of scanning.

The matching rows are ordered by the query's :class:`SortOrder` (ties and
unsorted queries by key) and cut to a page of ``limit`` rows — or
``QueryLimits.results_max`` when there is no limit; a larger limit is refused with
:class:`~topgun_core.errors.LimitExceeded`. When more rows follow, the result has
``has_more`` and a ``next_cursor`` that continues strictly after the page's last
row (``_cursor``). Only the page is sorted: selection is a bounded heap of
``limit + 1`` rows, so a page costs O(matches * log limit).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Final, TypeAlias

from topgun_core.clock import Clock, SystemClock
from topgun_core.errors import LimitExceeded
from topgun_core.hashing import hash32
from topgun_core.protocol import Query
from topgun_core.protocol import QueryResult as QueryResultRow
from topgun_core.query._cursor import CursorContext, CursorStatus, decode_cursor, encode_cursor
from topgun_core.query._evaluate import matcher
from topgun_core.query._limits import QueryLimits
from topgun_core.query._planner import Plan, PlanHint, plan_predicate
from topgun_core.query._predicates import Predicate
from topgun_core.query._registry import IndexRegistry
from topgun_core.query._sort import SortKey, SortOrder
from topgun_core.query._wire import QuerySpec, json_value
from topgun_core.values import JsonValue, canonical_json

__all__ = [
    "DEFAULT_QUERY_LIMITS",
    "QueryResult",
    "Source",
    "as_spec",
    "execute",
    "explain",
    "matching_rows",
    "page_size",
    "plan_for",
    "predicate_hash",
]

Source: TypeAlias = Mapping[str, JsonValue] | Iterable[tuple[str, JsonValue]]
"""Records to query: a mapping key → value, or ``(key, value)`` pairs."""

DEFAULT_QUERY_LIMITS: Final = QueryLimits()
_first: Final = itemgetter(0)


@dataclass(frozen=True, slots=True)
class QueryResult:
    """One page of a query.

    ``results`` are ``(key, value)`` rows in sort order; ``has_more`` says more rows
    follow and ``next_cursor`` fetches them; ``cursor_status`` is ``"valid"`` when
    the query carried a cursor and ``"none"`` otherwise (an unusable cursor raises
    :class:`CursorError` instead); ``plan`` is how the rows were found.
    """

    results: list[tuple[str, JsonValue]]
    next_cursor: str | None
    has_more: bool
    cursor_status: CursorStatus
    plan: Plan

    def to_wire(self) -> list[QueryResultRow]:
        """The rows as wire ``{key, value}`` dicts (``QUERY_RESP.results``)."""
        return [{"key": key, "value": value} for key, value in self.results]


def as_spec(query: QuerySpec | Query | Mapping[str, object]) -> QuerySpec:
    """``query`` as a validated :class:`QuerySpec` (wire dicts are validated)."""
    return query if isinstance(query, QuerySpec) else QuerySpec.from_wire(query)


def predicate_hash(predicate: Predicate | None) -> int:
    """``hash32`` of the canonical JSON of the predicate (what cursors are bound to)."""
    wire = None if predicate is None else json_value(predicate.to_wire(), "predicate")
    return hash32(canonical_json(wire))


def page_size(spec: QuerySpec, limits: QueryLimits) -> int:
    """Rows per page: the query's limit, at most ``limits.results_max``."""
    if spec.limit is None:
        return limits.results_max
    if spec.limit > limits.results_max:
        raise LimitExceeded("results_max", spec.limit, limits.results_max)
    return spec.limit


def matching_rows(
    predicate: Predicate | None, source: Source, plan: Plan | None = None
) -> Iterator[tuple[str, JsonValue]]:
    """The ``(key, value)`` rows of ``source`` that satisfy ``predicate``, via ``plan``."""
    test = None if predicate is None else matcher(predicate)
    if plan is None or plan.kind == "scan":
        items = source.items() if isinstance(source, Mapping) else source
        for key, value in items:
            if value is not None and (test is None or test(value)):
                yield key, value
        return
    assert isinstance(source, Mapping), "index plans need a Mapping source"
    check = test if plan.kind == "filter" else None
    for key in plan.run():
        value = source.get(key)
        if value is not None and (check is None or check(value)):
            yield key, value


def plan_for(
    spec: QuerySpec, source: Source, indexes: IndexRegistry | None, hint: PlanHint = "auto"
) -> Plan:
    """The plan for ``spec`` over ``source``: indexed only with a registry and a Mapping."""
    if indexes is not None and isinstance(source, Mapping):
        return plan_predicate(spec.predicate, indexes, len(source), hint)
    size = len(source) if isinstance(source, Mapping) else 0
    return plan_predicate(spec.predicate, None, size)


def execute(
    query: QuerySpec | Query | Mapping[str, object],
    source: Source,
    *,
    indexes: IndexRegistry | None = None,
    clock: Clock | None = None,
    limits: QueryLimits = DEFAULT_QUERY_LIMITS,
    hint: PlanHint = "auto",
) -> QueryResult:
    """Run ``query`` over ``source`` and return one page (module docstring).

    ``clock`` dates issued cursors and ages received ones (default: the system
    clock); ``hint`` can force an index or a scan plan. Raises ``ValidationError``
    for a malformed query, :class:`CursorError` for an unusable cursor and
    ``LimitExceeded`` for a limit over ``results_max``.
    """
    spec = as_spec(query)
    limit = page_size(spec, limits)
    order = SortOrder(spec.sort)
    now_ms = (clock if clock is not None else SystemClock()).now_ms()
    context = CursorContext(predicate_hash(spec.predicate), order, now_ms, limits)
    after = None if spec.cursor is None else decode_cursor(spec.cursor, context)
    plan = plan_for(spec, source, indexes, hint)
    rows: Iterable[tuple[SortKey, str, JsonValue]] = (
        (order.key(k, v), k, v) for k, v in matching_rows(spec.predicate, source, plan)
    )
    if after is not None:
        rows = (row for row in rows if row[0] > after)
    top = heapq.nsmallest(limit + 1, rows, key=_first)
    has_more = len(top) > limit
    page = top[:limit]
    next_cursor = encode_cursor(page[-1][0], context) if has_more else None
    return QueryResult(
        results=[(key, value) for _, key, value in page],
        next_cursor=next_cursor,
        has_more=has_more,
        cursor_status="none" if spec.cursor is None else "valid",
        plan=plan,
    )


def explain(
    query: QuerySpec | Query | Mapping[str, object],
    indexes: IndexRegistry,
    source: Mapping[str, JsonValue] | None = None,
    hint: PlanHint = "auto",
) -> Plan:
    """The plan :func:`execute` would use for ``query`` with ``indexes``.

    The record count comes from ``source`` when given, else from the registry's
    records. ``str(plan)`` renders the tree; ``plan.to_dict()`` gives JSON.
    """
    spec = as_spec(query)
    size = len(source if source is not None else indexes.records)
    return plan_predicate(spec.predicate, indexes, size, hint)
