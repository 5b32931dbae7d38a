"""The index advisor: counts what queries ask for and suggests indexes that would help.

Each recorded predicate is reduced to *patterns* — an attribute with the kind of
access (``equality`` for eq / in / neq, ``range`` for gt / gte / lt / lte / between,
``contains`` for the three contains operators) and, for an ``and`` holding ``eq`` on
two or more attributes, a ``compound`` pattern over those attributes. like, regex
and full-text leaves are not counted: no index here serves them. A pattern counts
once per query, however often it appears in it.

Memory is bounded by ``QueryLimits.tracked_patterns_max`` with the Space-Saving
algorithm: when the table is full, a new pattern replaces the least-counted one
and inherits its count as a possible over-estimate (``error``). Suggestions and
auto-creation use the *guaranteed* count ``count - error``, so an index is never
created on the strength of a count that eviction inflated.

:meth:`IndexAdvisor.suggestions` ranks the patterns that reach ``min_count`` and
that a registry does not already serve. With ``auto_create_threshold`` set,
:meth:`IndexAdvisor.record` builds the suggested index in the given registry as soon
as its pattern's guaranteed count reaches the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from topgun_core.query._indexes import CompoundIndex, HashIndex, Index, IndexKind
from topgun_core.query._inverted import InvertedIndex
from topgun_core.query._limits import QueryLimits
from topgun_core.query._navigable import NavigableIndex
from topgun_core.query._predicates import RANGE_OPS, Predicate
from topgun_core.query._registry import IndexRegistry

__all__ = ["IndexAdvisor", "IndexSuggestion", "PatternKind", "QueryPattern"]

PatternKind: TypeAlias = Literal["equality", "range", "contains", "compound"]

_KIND_OF_OP: Final[dict[str, PatternKind]] = {
    "eq": "equality",
    "in": "equality",
    "neq": "equality",
    "between": "range",
    **dict.fromkeys(RANGE_OPS, "range"),
    "contains": "contains",
    "containsAll": "contains",
    "containsAny": "contains",
}
_INDEX_FOR: Final[dict[PatternKind, IndexKind]] = {
    "equality": "hash",
    "range": "navigable",
    "contains": "inverted",
    "compound": "compound",
}


@dataclass(frozen=True, slots=True)
class QueryPattern:
    """An access pattern: ``kind`` of access on ``attributes`` (one, or several sorted)."""

    kind: PatternKind
    attributes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IndexSuggestion:
    """An index worth creating: which kind, on what, and how many queries wanted it."""

    pattern: QueryPattern
    index_kind: IndexKind
    count: int

    def build(self) -> Index:
        """A new, empty index of the suggested kind (add it to a registry to fill it)."""
        attributes = self.pattern.attributes
        if self.index_kind == "compound":
            return CompoundIndex(*attributes)
        (attribute,) = attributes
        if self.index_kind == "navigable":
            return NavigableIndex(attribute)
        if self.index_kind == "inverted":
            return InvertedIndex(attribute)
        return HashIndex(attribute)


def patterns(predicate: Predicate | None) -> set[QueryPattern]:
    """The distinct access patterns in ``predicate``."""
    found: set[QueryPattern] = set()
    stack = [] if predicate is None else [predicate]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        kind = _KIND_OF_OP.get(node.op)
        if kind is not None and node.attribute is not None:
            found.add(QueryPattern(kind, (node.attribute,)))
        if node.op == "and":
            eq_attributes = {c.attribute for c in node.children if c.op == "eq" and c.attribute}
            if len(eq_attributes) >= 2:
                found.add(QueryPattern("compound", tuple(sorted(eq_attributes))))
    return found


def _served(pattern: QueryPattern, registry: IndexRegistry) -> bool:
    if pattern.kind == "equality":
        return registry.has("hash", pattern.attributes) or registry.has(
            "navigable", pattern.attributes
        )
    return registry.has(_INDEX_FOR[pattern.kind], pattern.attributes)


class IndexAdvisor:
    """Counts query patterns (bounded) and suggests or auto-creates indexes."""

    __slots__ = ("_counts", "_errors", "auto_create_threshold", "limits", "min_count")

    def __init__(
        self,
        *,
        min_count: int = 10,
        auto_create_threshold: int | None = None,
        limits: QueryLimits | None = None,
    ) -> None:
        self.min_count = min_count
        """Queries a pattern needs before it is suggested."""
        self.auto_create_threshold = auto_create_threshold
        """Queries after which :meth:`record` creates the index itself (None: never)."""
        self.limits = limits if limits is not None else QueryLimits()
        self._counts: dict[QueryPattern, int] = {}
        self._errors: dict[QueryPattern, int] = {}

    def __len__(self) -> int:
        return len(self._counts)

    def count(self, pattern: QueryPattern) -> int:
        """The guaranteed number of recorded queries with ``pattern`` (0 if untracked)."""
        return self._counts.get(pattern, 0) - self._errors.get(pattern, 0)

    def _bump(self, pattern: QueryPattern) -> None:
        if pattern in self._counts:
            self._counts[pattern] += 1
            return
        inherited = 0
        if len(self._counts) >= self.limits.tracked_patterns_max:
            victim = min(self._counts, key=self._counts.__getitem__)
            inherited = self._counts.pop(victim)
            self._errors.pop(victim, None)
        self._counts[pattern] = inherited + 1
        if inherited:
            self._errors[pattern] = inherited

    def record(
        self, predicate: Predicate | None, registry: IndexRegistry | None = None
    ) -> list[Index]:
        """Count one query's patterns; with auto-creation on, build indexes it earned.

        Returns the indexes created in ``registry`` by this call (usually none).
        """
        created: list[Index] = []
        for pattern in patterns(predicate):
            self._bump(pattern)
            threshold = self.auto_create_threshold
            if registry is None or threshold is None or self.count(pattern) < threshold:
                continue
            if not _served(pattern, registry):
                suggestion = IndexSuggestion(pattern, _INDEX_FOR[pattern.kind], self.count(pattern))
                created.append(registry.add_index(suggestion.build()))
        return created

    def suggestions(
        self, registry: IndexRegistry | None = None, *, min_count: int | None = None
    ) -> list[IndexSuggestion]:
        """Indexes worth creating, most wanted first (patterns ``registry`` serves are left out)."""
        floor = self.min_count if min_count is None else min_count
        out = [
            IndexSuggestion(pattern, _INDEX_FOR[pattern.kind], self.count(pattern))
            for pattern in self._counts
            if self.count(pattern) >= floor and (registry is None or not _served(pattern, registry))
        ]
        return sorted(out, key=lambda s: (-s.count, s.pattern.kind, s.pattern.attributes))
