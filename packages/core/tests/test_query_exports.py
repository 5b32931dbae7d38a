"""The public API of ``topgun_core.query`` is exactly what is pinned here."""

from __future__ import annotations

import inspect

from topgun_core import query

QUERY_API = {
    "CURSOR_AGE_MS_MAX", "LIKE_PATTERN_CHARS_MAX", "PREDICATE_DEPTH_MAX", "PREDICATE_NODES_MAX",
    "PREDICATE_VALUES_MAX", "REGEX_CACHE_ENTRIES_MAX", "REGEX_PATTERN_CHARS_MAX",
    "REGEX_TIMEOUT_MS", "SORT_FIELDS_MAX", "CompoundIndex", "CursorError", "CursorStatus",
    "Delta", "HashIndex", "Index", "IndexAdvisor", "IndexKind", "IndexRegistry",
    "IndexSuggestion", "IndexedMap", "InvertedIndex", "LiveQuery", "LiveQueryRegistry",
    "NavigableIndex", "P", "PatternKind", "Plan", "PlanHint", "PlanKind", "Predicate",
    "QueryLimits", "QueryPattern", "QueryResult", "QuerySpec", "RegexStats", "SortOrder",
    "Source", "changed_attributes", "evaluate", "execute", "explain", "predicate_from_wire",
    "regex_stats", "where_to_predicate",
}  # fmt: skip


def test_query_exports_are_pinned() -> None:
    assert set(query.__all__) == QUERY_API
    assert len(query.__all__) == len(QUERY_API)


def test_every_export_resolves_and_is_documented() -> None:
    for name in query.__all__:
        symbol = getattr(query, name)
        if inspect.isclass(symbol) or inspect.isfunction(symbol):
            assert (symbol.__doc__ or "").strip(), name


def test_limits_have_their_documented_values() -> None:
    assert query.REGEX_PATTERN_CHARS_MAX == 256
    assert query.CURSOR_AGE_MS_MAX == 600_000
    limits = query.QueryLimits()
    assert limits.results_max == 10_000
    assert limits.live_queries_max == 10_000
    assert limits.live_rows_max == 1_000_000
    assert limits.tracked_patterns_max == 1_000
