"""The query engine: predicates, execution, indexes, planner, advisor and live queries.

Pure and sans-IO like the rest of core: no event loop, no I/O, time only through
an injected :class:`~topgun_core.Clock`. Rules are SEMANTICS.md §8; each private
module opens with the part it implements:

- ``_predicates`` / ``_wire`` — the :class:`Predicate` tree, the :class:`P`
  builders, wire validation (:func:`predicate_from_wire`, :class:`QuerySpec`) and
  the legacy ``where`` (:func:`where_to_predicate`);
- ``_values`` / ``_evaluate`` / ``_regex`` — value rules (paths, equality,
  ordering) and :func:`evaluate`;
- ``_sort`` / ``_cursor`` / ``_execute`` — multi-field sort, opaque cursors and
  :func:`execute`;
- ``_indexes`` / ``_navigable`` / ``_inverted`` / ``_registry`` /
  ``_indexed_map`` — :class:`HashIndex`, :class:`NavigableIndex`,
  :class:`InvertedIndex`, :class:`CompoundIndex`, :class:`IndexRegistry` and
  :class:`IndexedMap`;
- ``_planner`` — the cost-based planner behind :func:`explain` and :class:`Plan`;
- ``_advisor`` — :class:`IndexAdvisor`;
- ``_live`` / ``_live_registry`` — :class:`LiveQuery` deltas and
  :class:`LiveQueryRegistry` routing.

Typical use::

    users = IndexedMap()
    users.add_index(NavigableIndex("age"))
    users.set("u1", {"age": 31, "email": "ann@example.com"})
    page = users.query(QuerySpec(P.gt("age", 30) & P.like("email", "%@example.com"),
                                 sort=(("age", "desc"),), limit=20))
    page.results, page.next_cursor, str(page.plan)
"""

from topgun_core.query._advisor import IndexAdvisor, IndexSuggestion, PatternKind, QueryPattern
from topgun_core.query._cursor import CursorError, CursorStatus
from topgun_core.query._evaluate import evaluate
from topgun_core.query._execute import QueryResult, Source, execute, explain
from topgun_core.query._indexed_map import IndexedMap
from topgun_core.query._indexes import CompoundIndex, HashIndex, Index, IndexKind
from topgun_core.query._inverted import InvertedIndex
from topgun_core.query._limits import (
    CURSOR_AGE_MS_MAX,
    LIKE_PATTERN_CHARS_MAX,
    PREDICATE_DEPTH_MAX,
    PREDICATE_NODES_MAX,
    PREDICATE_VALUES_MAX,
    REGEX_CACHE_ENTRIES_MAX,
    REGEX_PATTERN_CHARS_MAX,
    REGEX_TIMEOUT_MS,
    SORT_FIELDS_MAX,
    QueryLimits,
)
from topgun_core.query._live import Delta, LiveQuery
from topgun_core.query._live_registry import LiveQueryRegistry, changed_attributes
from topgun_core.query._navigable import NavigableIndex
from topgun_core.query._planner import Plan, PlanHint, PlanKind
from topgun_core.query._predicates import P, Predicate
from topgun_core.query._regex import RegexStats, regex_stats
from topgun_core.query._registry import IndexRegistry
from topgun_core.query._sort import SortOrder
from topgun_core.query._wire import QuerySpec, predicate_from_wire, where_to_predicate

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
    "CompoundIndex",
    "CursorError",
    "CursorStatus",
    "Delta",
    "HashIndex",
    "Index",
    "IndexAdvisor",
    "IndexKind",
    "IndexRegistry",
    "IndexSuggestion",
    "IndexedMap",
    "InvertedIndex",
    "LiveQuery",
    "LiveQueryRegistry",
    "NavigableIndex",
    "P",
    "PatternKind",
    "Plan",
    "PlanHint",
    "PlanKind",
    "Predicate",
    "QueryLimits",
    "QueryPattern",
    "QueryResult",
    "QuerySpec",
    "RegexStats",
    "SortOrder",
    "Source",
    "changed_attributes",
    "evaluate",
    "execute",
    "explain",
    "predicate_from_wire",
    "regex_stats",
    "where_to_predicate",
]
