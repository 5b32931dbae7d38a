"""One live query: an initial result, then ENTER / UPDATE / LEAVE deltas per write.

**State.** A :class:`LiveQuery` keeps *every* record that matches its predicate —
not just the visible page — in a ``SortedList`` of sort keys (``_sort``), plus each
matching key's sort key and value. The *window* is the first ``limit`` entries
(``QueryLimits.results_max`` without a limit): exactly what :func:`execute` would
return as the first page. Keeping the whole matching set is what lets the window
refill without going back to the source: when a row leaves a full window, the next
row is already at hand. Memory is one sort key per matching record; values are
shared with the caller's map, not copied.

**Deltas.** :meth:`LiveQuery.apply` takes one write (key, new value or None) and
costs O(log n). With ``L`` the window size, ``A`` the sorted matching set, and only
one key changing, the window changes in at most two places:

- the key was in the window and still is: ``UPDATE`` (it may have moved within it);
- it was in and is not any more (removed, no longer matching, or sorted past the
  window): ``LEAVE`` it, and the row now at position ``L - 1`` — formerly the first
  one outside — ``ENTER`` s;
- it was not in and now is: the row pushed to position ``L`` ``LEAVE`` s, and the
  key ``ENTER`` s;
- otherwise the window is unchanged and nothing is emitted.

``LEAVE`` is always emitted before ``ENTER``, so a client applying deltas in order
never holds more than ``L`` rows. Each delta carries the key's current value (None
for a deleted key). Applying the deltas to the initial result always gives what a
fresh :func:`execute` would return (a property test checks this).

A live query starts with at most ``QueryLimits.live_rows_max`` matching records
(more is a ``LimitExceeded``); afterwards its set grows and shrinks with the map.

A live query has no cursor: it always shows the first page; :meth:`next_cursor`
gives the cursor for fetching the page after the window with :func:`execute`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sortedcontainers import SortedList

from topgun_core.clock import Clock, SystemClock
from topgun_core.errors import LimitExceeded, ValidationError
from topgun_core.protocol import ChangeType, Query, QueryUpdatePayload
from topgun_core.query._cursor import CursorContext, encode_cursor
from topgun_core.query._evaluate import Matcher, matcher
from topgun_core.query._execute import (
    DEFAULT_QUERY_LIMITS,
    Source,
    as_spec,
    matching_rows,
    page_size,
    plan_for,
    predicate_hash,
)
from topgun_core.query._limits import QueryLimits
from topgun_core.query._registry import IndexRegistry
from topgun_core.query._sort import SortKey, SortOrder
from topgun_core.query._wire import QuerySpec
from topgun_core.values import JsonValue

__all__ = ["Delta", "LiveQuery"]


@dataclass(frozen=True, slots=True)
class Delta:
    """One change of a live query's window: ``key`` ENTERed, was UPDATEd in, or LEFT it."""

    key: str
    value: JsonValue
    change: ChangeType

    def to_wire(self, query_id: str) -> QueryUpdatePayload:
        """The ``QUERY_UPDATE`` payload for subscription ``query_id``."""
        return {
            "queryId": query_id,
            "key": self.key,
            "value": self.value,
            "changeType": self.change,
        }


class LiveQuery:
    """The matching set and window of one query, kept current write by write."""

    __slots__ = ("_keys", "_sorted", "_test", "_values", "limits", "order", "spec", "window_size")

    def __init__(
        self,
        query: QuerySpec | Query | Mapping[str, object],
        source: Source,
        *,
        indexes: IndexRegistry | None = None,
        limits: QueryLimits = DEFAULT_QUERY_LIMITS,
    ) -> None:
        spec = as_spec(query)
        if spec.cursor is not None:
            raise ValidationError(
                "query.cursor", "a live query shows the first page; fetch later pages with execute"
            )
        self.spec = spec
        self.limits = limits
        self.order = SortOrder(spec.sort)
        self.window_size = page_size(spec, limits)
        """Rows in the window: the query's limit, or ``results_max``."""
        self._test: Matcher | None = None if spec.predicate is None else matcher(spec.predicate)
        plan = plan_for(spec, source, indexes)
        self._values: dict[str, JsonValue] = {}
        for key, value in matching_rows(spec.predicate, source, plan):
            self._values[key] = value
            if len(self._values) > limits.live_rows_max:
                raise LimitExceeded("live_rows_max", len(self._values), limits.live_rows_max)
        key_of = self.order.key
        self._keys: dict[str, SortKey] = {k: key_of(k, v) for k, v in self._values.items()}
        self._sorted: SortedList[SortKey] = SortedList(self._keys.values())  # one bulk sort

    def _insert(self, key: str, value: JsonValue) -> SortKey:
        sort_key = self.order.key(key, value)
        self._sorted.add(sort_key)
        self._keys[key] = sort_key
        self._values[key] = value
        return sort_key

    @property
    def results(self) -> list[tuple[str, JsonValue]]:
        """The window: the first page of the query, in sort order."""
        keys = (sk[-1] for sk in self._sorted.islice(0, self.window_size))
        return [(key, self._values[key]) for key in keys if isinstance(key, str)]

    @property
    def has_more(self) -> bool:
        """Whether matching rows lie beyond the window."""
        return len(self._sorted) > self.window_size

    def __len__(self) -> int:
        """How many records match (inside the window and beyond)."""
        return len(self._keys)

    def matching_keys(self) -> list[str]:
        """The keys of every matching record (inside the window and beyond)."""
        return list(self._keys)

    def holds(self, key: str) -> bool:
        """Whether ``key`` currently matches the predicate."""
        return key in self._keys

    def matches(self, value: JsonValue | None) -> bool:
        """Whether a record holding ``value`` (None: absent) matches the predicate."""
        return value is not None and (self._test is None or self._test(value))

    def next_cursor(self, clock: Clock | None = None) -> str | None:
        """A cursor for the page after the window (for :func:`execute`), or None."""
        if not self.has_more:
            return None
        now_ms = (clock if clock is not None else SystemClock()).now_ms()
        context = CursorContext(
            predicate_hash(self.spec.predicate), self.order, now_ms, self.limits
        )
        return encode_cursor(self._sorted[self.window_size - 1], context)

    def _in_window(self, sort_key: SortKey) -> bool:
        # Every row is in the window while the set is no larger than it: skip the bisect.
        if len(self._sorted) <= self.window_size:
            return True
        return self._sorted.bisect_left(sort_key) < self.window_size

    def _row(self, position: int, change: ChangeType) -> Delta:
        key = self._sorted[position][-1]
        assert isinstance(key, str)
        return Delta(key, self._values[key], change)

    def apply(self, key: str, value: JsonValue | None) -> list[Delta]:
        """Apply one write (``value`` None: deleted) and return the window's deltas."""
        size = self.window_size
        old = self._keys.pop(key, None)
        was_in = old is not None and self._in_window(old)
        if old is not None:
            self._sorted.remove(old)
            del self._values[key]
        now_in = False
        if value is not None and self.matches(value):
            now_in = self._in_window(self._insert(key, value))
        if was_in and now_in:
            return [Delta(key, value, "UPDATE")]
        if was_in:
            left = Delta(key, value, "LEAVE")
            return [left, self._row(size - 1, "ENTER")] if len(self._sorted) >= size else [left]
        if now_in:
            entered = Delta(key, value, "ENTER")
            return [self._row(size, "LEAVE"), entered] if len(self._sorted) > size else [entered]
        return []
