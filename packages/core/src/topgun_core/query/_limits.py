"""Named bounds of the query engine, each with its unit in the name (STYLE.md).

Two kinds live here. Constants bound one predicate (its size, its patterns, the regex
time budget) and are enforced where a predicate is built, so a predicate that exists
is within them. :class:`QueryLimits` bounds what a query or a subscription may cost
(results per page, cursor size and age, live queries per registry, patterns the
advisor tracks); callers that serve many users pass their own.

What happens at a limit is always stated and never a silent drop: a predicate or a
query over a bound is a :class:`~topgun_core.errors.ValidationError` or
:class:`~topgun_core.errors.LimitExceeded`; a query without ``limit`` returns at
most ``results_max`` rows and says ``has_more`` with a cursor to the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final

__all__ = [
    "CURSOR_AGE_MS_MAX",
    "LIKE_PATTERN_CHARS_MAX",
    "PREDICATE_DEPTH_MAX",
    "PREDICATE_NODES_MAX",
    "PREDICATE_VALUES_MAX",
    "REGEX_CACHE_ENTRIES_MAX",
    "REGEX_PATTERN_CHARS_MAX",
    "REGEX_TIMEOUT_MS",
    "SORT_FIELDS_MAX",
    "QueryLimits",
]

PREDICATE_DEPTH_MAX: Final = 32
"""Nesting of and/or/not nodes; a leaf under the root is at depth 2."""

PREDICATE_NODES_MAX: Final = 1_000
"""Nodes in one predicate tree, leaves and combinators together."""

PREDICATE_VALUES_MAX: Final = 1_000
"""Items in the list value of ``in``, ``containsAll`` and ``containsAny``."""

REGEX_PATTERN_CHARS_MAX: Final = 256
"""Characters in a ``regex`` pattern."""

REGEX_TIMEOUT_MS: Final = 20
"""Time budget of one regex search over one value; past it the value does not match."""

REGEX_CACHE_ENTRIES_MAX: Final = 256
"""Compiled regex patterns kept (least recently used are dropped)."""

LIKE_PATTERN_CHARS_MAX: Final = 1_024
"""Characters in a ``like`` pattern (matching is linear-time, so this bounds memory)."""

SORT_FIELDS_MAX: Final = 8
"""Fields in one query's ``sort``."""

CURSOR_AGE_MS_MAX: Final = 600_000
"""A cursor older than this (10 minutes, SEMANTICS.md §8) is rejected as expired."""


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """What one query or one live-query registry may cost; every field is a maximum.

    - ``results_max``: rows in one page. A larger ``limit`` is refused; a query
      without ``limit`` gets this many rows plus ``has_more`` and a cursor.
    - ``cursor_chars_max``: characters of a cursor, accepted or issued (long sort
      values make long cursors; one over the bound is refused, never truncated).
    - ``cursor_age_ms_max``: age after which a cursor is expired.
    - ``live_queries_max``: live queries one :class:`LiveQueryRegistry` holds.
    - ``live_rows_max``: matching records a live query may start with (it tracks
      all of them, not just its window); checked when it is created.
    - ``tracked_patterns_max``: query patterns an :class:`IndexAdvisor` counts.
    """

    results_max: int = 10_000
    cursor_chars_max: int = 16_384
    cursor_age_ms_max: int = CURSOR_AGE_MS_MAX
    live_queries_max: int = 10_000
    live_rows_max: int = 1_000_000
    tracked_patterns_max: int = 1_000

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"QueryLimits.{f.name} must be a positive integer")
