"""An interval index over live queries: which range queries can a value fall into?

A live query whose predicate is a range on one attribute (``score > 500``, or
``between`` under a root ``and``) can only gain a row whose value at that
attribute lies in the range. :class:`IntervalIndex` holds one closed interval per
query and answers *stabbing* lookups — every interval containing ``x`` — in
O(log n + matches) with a centred interval tree: each node keeps the intervals
that contain its centre (the median endpoint), sorted by low end and by high end,
and the intervals wholly left or right of it go to the children.

Numbers and strings never compare, so each has its own tree; open bounds are
treated as closed and unbounded ends as infinite, which can only return *more*
queries than needed (they re-check the row exactly), never fewer. Subscriptions
change far less often than rows, so a change only marks the tree stale and the
next lookup rebuilds it (O(n log n) for n queries).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, TypeAlias

from topgun_core.query._predicates import Predicate
from topgun_core.query._values import is_nan, is_number

__all__ = ["IntervalIndex", "RangeAnchor", "range_anchor"]

_Bound: TypeAlias = "int | float | str"
_Point: TypeAlias = "tuple[int, int | float | str]"
"""``(-1, 0)`` is minus infinity, ``(1, 0)`` plus infinity, ``(0, v)`` a finite point."""

_LOW: Final[_Point] = (-1, 0)
_HIGH: Final[_Point] = (1, 0)


@dataclass(frozen=True, slots=True)
class RangeAnchor:
    """The range a query's rows must fall in: ``low <= attribute <= high`` (None: open)."""

    attribute: str
    low: _Bound | None
    high: _Bound | None

    @property
    def strings(self) -> bool:
        """Whether the bounds are strings (else numbers)."""
        return isinstance(self.low if self.low is not None else self.high, str)


def range_anchor(predicate: Predicate) -> RangeAnchor | None:
    """The range of a range leaf, or of the first range leaf under a root ``and``."""
    for node in predicate.children if predicate.op == "and" else (predicate,):
        value, attribute = node.value, node.attribute
        if attribute is None:
            continue
        if node.op == "between" and isinstance(value, list):
            low, high = value
            assert isinstance(low, int | float | str)
            assert isinstance(high, int | float | str)
            return RangeAnchor(attribute, low, high)
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            if node.op in ("gt", "gte"):
                return RangeAnchor(attribute, value, None)
            if node.op in ("lt", "lte"):
                return RangeAnchor(attribute, None, value)
    return None


@dataclass(frozen=True, slots=True)
class _Node:
    center: _Point
    by_low: list[tuple[_Point, str]]
    by_high: list[tuple[_Point, str]]  # descending
    left: _Node | None
    right: _Node | None


def _build(items: list[tuple[_Point, _Point, str]]) -> _Node | None:
    if not items:
        return None
    points = sorted(p for low, high, _ in items for p in (low, high))
    center = points[len(points) // 2]
    here = [i for i in items if i[0] <= center <= i[1]]
    return _Node(
        center,
        sorted((low, qid) for low, _, qid in here),
        sorted(((high, qid) for _, high, qid in here), reverse=True),
        _build([i for i in items if i[1] < center]),
        _build([i for i in items if i[0] > center]),
    )


class IntervalIndex:
    """Query ids by interval; :meth:`stab` finds those whose interval may hold a value."""

    __slots__ = ("_intervals", "_trees")

    def __init__(self) -> None:
        self._intervals: dict[str, tuple[bool, _Point, _Point]] = {}
        self._trees: dict[bool, _Node | None] | None = None

    def __len__(self) -> int:
        return len(self._intervals)

    def add(self, query_id: str, anchor: RangeAnchor) -> None:
        """Register ``query_id`` with the interval of ``anchor``."""
        low = _LOW if anchor.low is None else (0, anchor.low)
        high = _HIGH if anchor.high is None else (0, anchor.high)
        self._intervals[query_id] = (anchor.strings, low, high)
        self._trees = None

    def remove(self, query_id: str) -> None:
        """Forget ``query_id``."""
        if self._intervals.pop(query_id, None) is not None:
            self._trees = None

    def _items(self, strings: bool) -> list[tuple[_Point, _Point, str]]:
        # An empty interval (low above high) holds nothing: it stays out of the tree.
        return [
            (low, high, query_id)
            for query_id, (kind, low, high) in self._intervals.items()
            if kind == strings and low <= high
        ]

    def stab(self, value: object) -> Iterator[str]:
        """The ids whose interval contains ``value`` (a superset; see the module docstring)."""
        point: _Point
        if isinstance(value, str):
            strings, point = True, (0, value)
        elif is_number(value) and not is_nan(value):
            strings, point = False, (0, value)
        else:
            return
        if self._trees is None:
            self._trees = {kind: _build(self._items(kind)) for kind in (False, True)}
        yield from _stab(self._trees[strings], point)


def _stab(node: _Node | None, x: _Point) -> Iterator[str]:
    while node is not None:
        if x < node.center:
            for low, query_id in node.by_low:
                if low > x:
                    break
                yield query_id
            node = node.left
        elif x > node.center:
            for high, query_id in node.by_high:
                if high < x:
                    break
                yield query_id
            node = node.right
        else:
            yield from (query_id for _, query_id in node.by_low)
            return
