"""A sorted index for range predicates (``gt gte lt lte between``, also ``eq`` / ``in``).

Numbers and strings never compare with each other (``_values.compare``), so the
index keeps two ``SortedList`` s of ``(value, key)`` pairs, one per kind; values of
any other type (and NaN) are not indexed, which is right because no range predicate
can match them. A range is two bisections, so :meth:`NavigableIndex.estimate` is
an exact count in O(log n) and :meth:`~NavigableIndex.lookup` costs O(log n + matches).
Adding and removing a record are O(log n).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, TypeGuard

from sortedcontainers import SortedList

from topgun_core.query._indexes import Index
from topgun_core.query._predicates import Predicate
from topgun_core.query._values import is_nan, is_number
from topgun_core.values import JsonValue

__all__ = ["NavigableIndex"]

_Orderable = int | float | str
_Entry = tuple[_Orderable, str]
_RANGE_OPS: Final = frozenset({"gt", "gte", "lt", "lte", "between", "eq", "in"})


class _Top(str):
    """Sorts after every other string, so ``(v, TOP)`` is just past every ``(v, key)``.

    A ``str`` subclass so probes have the entries' type; Python asks a subclass's
    reflected comparison first, so ``"any key" < TOP`` is ``TOP > "any key"``: True.
    """

    __slots__ = ()

    def __lt__(self, other: object) -> bool:
        return False

    def __le__(self, other: object) -> bool:
        return other is self

    def __gt__(self, other: object) -> bool:
        return other is not self

    def __ge__(self, other: object) -> bool:
        return True

    def __eq__(self, other: object) -> bool:
        return other is self

    def __hash__(self) -> int:
        return id(self)


_TOP: Final = _Top()
_BOTTOM: Final = ""  # the least string: ``(v, "")`` is at or before every ``(v, key)``


def _orderable(value: object) -> TypeGuard[_Orderable]:
    return isinstance(value, str) or (is_number(value) and not is_nan(value))


class NavigableIndex(Index):
    """Sorted index on one attribute for range queries (see the module docstring)."""

    __slots__ = ("_entries", "_numbers", "_strings")
    kind = "navigable"

    def __init__(self, attribute: str) -> None:
        super().__init__(attribute)
        self._numbers: SortedList[_Entry] = SortedList()
        self._strings: SortedList[_Entry] = SortedList()
        self._entries: dict[str, _Entry] = {}

    def _list(self, value: object) -> SortedList[_Entry]:
        return self._strings if isinstance(value, str) else self._numbers

    def add(self, key: str, value: JsonValue) -> None:
        """Index ``key`` if its attribute value is a number or a string."""
        x = self._getters[0](value)
        if _orderable(x):
            entry = (x, key)
            self._entries[key] = entry
            self._list(x).add(entry)

    def build(self, records: Iterable[tuple[str, JsonValue]]) -> None:
        """Index many records with one sort per kind instead of one insertion each."""
        assert not self._entries, "build() fills an empty index"
        get = self._getters[0]
        for key, value in records:
            x = get(value) if value is not None else None
            if _orderable(x):
                self._entries[key] = (x, key)
        entries = self._entries.values()
        self._numbers = SortedList(e for e in entries if not isinstance(e[0], str))
        self._strings = SortedList(e for e in entries if isinstance(e[0], str))

    def remove(self, key: str) -> None:
        """Forget ``key``."""
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._list(entry[0]).remove(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def supports(self, predicate: Predicate) -> bool:
        """Ranges, and ``eq`` / ``in`` on numbers and strings, on this attribute."""
        if predicate.attribute != self.attributes[0] or predicate.op not in _RANGE_OPS:
            return False
        if predicate.op == "eq":
            return _orderable(predicate.value) or predicate.value is None
        if predicate.op == "in":
            assert isinstance(predicate.value, list)
            return all(_orderable(v) or v is None for v in predicate.value)
        return True  # range operands are validated to be numbers or strings

    def _spans(self, predicate: Predicate) -> list[tuple[SortedList[_Entry], int, int]]:
        """``(list, start, stop)`` position ranges holding the matching entries."""
        op, value = predicate.op, predicate.value
        if op in ("in", "eq"):
            values = value if isinstance(value, list) and op == "in" else [value]
            distinct = {v for v in values if _orderable(v)}
            return [self._span(v, v) for v in distinct]
        if op == "between":
            assert isinstance(value, list)
            low, high = value
            assert _orderable(low)
            assert _orderable(high)
            return [self._span(low, high)]
        assert _orderable(value)
        if op in ("gt", "gte"):
            return [self._span(value, None, low_inclusive=op == "gte")]
        return [self._span(None, value, high_inclusive=op == "lte")]

    def _span(
        self,
        low: _Orderable | None,
        high: _Orderable | None,
        *,
        low_inclusive: bool = True,
        high_inclusive: bool = True,
    ) -> tuple[SortedList[_Entry], int, int]:
        entries = self._list(low if low is not None else high)
        if low is None:
            start = 0
        elif low_inclusive:
            start = entries.bisect_left((low, _BOTTOM))
        else:
            start = entries.bisect_right((low, _TOP))
        if high is None:
            stop = len(entries)
        elif high_inclusive:
            stop = entries.bisect_right((high, _TOP))
        else:
            stop = entries.bisect_left((high, _BOTTOM))
        return entries, start, max(start, stop)

    def estimate(self, predicate: Predicate) -> int:
        """Exact: the width of the bisected ranges."""
        return sum(stop - start for _, start, stop in self._spans(predicate))

    def lookup(self, predicate: Predicate) -> set[str]:
        """The keys inside the bisected ranges."""
        out: set[str] = set()
        for entries, start, stop in self._spans(predicate):
            out.update(key for _, key in entries.islice(start, stop))
        return out
