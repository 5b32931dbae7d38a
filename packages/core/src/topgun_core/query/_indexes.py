"""Secondary indexes: the common interface, hash and compound indexes.

An index watches one map. It is told about every record through :meth:`Index.add`
and :meth:`Index.remove` (an :class:`~topgun_core.query.IndexRegistry` does this
for all indexes of a map on every write) and remembers what it stored per key, so
removal never depends on the caller knowing the old value.

For the planner, an index answers, for one predicate node: does it
:meth:`~Index.supports` it, how many keys would a lookup return
(:meth:`~Index.estimate`, cheap), the keys themselves (:meth:`~Index.lookup`), and
whether those keys are :meth:`~Index.exact` — exactly the matching keys — or a
superset the planner must filter by evaluating the predicate. Every index uses the
evaluator's own value rules (``_values``), which is what makes indexed results
equal to a scan's.

- :class:`HashIndex` (one attribute): ``eq``, ``in`` and ``neq``, exact.
- :class:`CompoundIndex` (several attributes): an ``and`` holding an ``eq`` on every
  one of its attributes, exact for those conjuncts.
- ``NavigableIndex`` (ranges) and ``InvertedIndex`` (contains) live in their own
  modules.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterable, Sequence
from typing import ClassVar, Literal, TypeAlias

from topgun_core.query._predicates import Predicate
from topgun_core.query._values import Getter, compile_path, index_key, json_equal
from topgun_core.values import JsonValue

__all__ = ["CompoundIndex", "HashIndex", "Index", "IndexKind", "add_posting", "drop_posting"]

IndexKind: TypeAlias = Literal["hash", "navigable", "inverted", "compound"]


class Index(ABC):
    """One secondary index over the records of one map (see the module docstring)."""

    __slots__ = ("_getters", "attributes", "name")

    kind: ClassVar[IndexKind]

    def __init__(self, *attributes: str) -> None:
        if not attributes or "" in attributes or not all(isinstance(a, str) for a in attributes):
            raise ValueError("an index needs one or more non-empty attribute paths")
        self.attributes: tuple[str, ...] = attributes
        self.name = f"{self.kind}({', '.join(attributes)})"
        """A readable identity, unique per kind and attributes: ``hash(age)``."""
        self._getters: tuple[Getter, ...] = tuple(compile_path(a) for a in attributes)

    @abstractmethod
    def add(self, key: str, value: JsonValue) -> None:
        """Index record ``key`` holding ``value`` (the key must not be indexed yet)."""

    @abstractmethod
    def remove(self, key: str) -> None:
        """Forget record ``key`` (no-op if it is not indexed)."""

    @abstractmethod
    def __len__(self) -> int:
        """Records indexed (those with an indexable value at the attributes)."""

    def build(self, records: Iterable[tuple[str, JsonValue]]) -> None:
        """Index many records (an empty index only); subclasses may do it in bulk."""
        for key, value in records:
            if value is not None:
                self.add(key, value)

    def update(self, key: str, value: JsonValue | None) -> None:
        """Re-index ``key`` with ``value`` (None: the record is gone)."""
        self.remove(key)
        if value is not None:
            self.add(key, value)

    def changed(self, old_value: JsonValue, new_value: JsonValue) -> bool:
        """Whether a write from ``old_value`` to ``new_value`` touches an indexed attribute."""
        return not all(json_equal(get(old_value), get(new_value)) for get in self._getters)

    @abstractmethod
    def supports(self, predicate: Predicate) -> bool:
        """Whether :meth:`lookup` can answer ``predicate``."""

    @abstractmethod
    def estimate(self, predicate: Predicate) -> int:
        """How many keys :meth:`lookup` would return (an upper bound when inexact)."""

    @abstractmethod
    def lookup(self, predicate: Predicate) -> set[str]:
        """The keys matching ``predicate`` (a superset when not :meth:`exact`); a new set."""

    def exact(self, predicate: Predicate) -> bool:
        """Whether :meth:`lookup` returns exactly the matching keys."""
        return True

    def __repr__(self) -> str:
        return f"<{self.name}: {len(self)} records>"


def add_posting(postings: dict[Hashable, set[str]], term: Hashable, key: str) -> None:
    posting = postings.get(term)
    if posting is None:
        postings[term] = {key}
    else:
        posting.add(key)


def drop_posting(postings: dict[Hashable, set[str]], term: Hashable, key: str) -> None:
    posting = postings.get(term)
    if posting is not None:
        posting.discard(key)
        if not posting:
            del postings[term]


class HashIndex(Index):
    """Equality index on one attribute: ``eq``, ``in`` and ``neq`` in O(matches)."""

    __slots__ = ("_entries", "_postings")
    kind = "hash"

    def __init__(self, attribute: str) -> None:
        super().__init__(attribute)
        self._postings: dict[Hashable, set[str]] = {}
        self._entries: dict[str, Hashable] = {}

    def add(self, key: str, value: JsonValue) -> None:
        """Index ``key`` under the equality key of its attribute value (if it has one)."""
        term = index_key(self._getters[0](value))
        if term is not None:
            self._entries[key] = term
            add_posting(self._postings, term, key)

    def remove(self, key: str) -> None:
        """Forget ``key``."""
        term = self._entries.pop(key, None)
        if term is not None:
            drop_posting(self._postings, term, key)

    def __len__(self) -> int:
        return len(self._entries)

    def supports(self, predicate: Predicate) -> bool:
        """``eq``, ``in`` and ``neq`` on this attribute."""
        return predicate.attribute == self.attributes[0] and predicate.op in ("eq", "in", "neq")

    def _terms(self, predicate: Predicate) -> list[Hashable]:
        values = predicate.value if predicate.op == "in" else [predicate.value]
        assert isinstance(values, list)
        return list({t for t in map(index_key, values) if t is not None})

    def estimate(self, predicate: Predicate) -> int:
        """Exact counts from the posting sizes."""
        terms = self._terms(predicate)
        matches = sum(len(self._postings.get(t, ())) for t in terms)
        if predicate.op != "neq":
            return matches
        return len(self._entries) - matches if terms else 0

    def lookup(self, predicate: Predicate) -> set[str]:
        """Union of the postings (``neq``: every indexed key with a different value)."""
        terms = self._terms(predicate)
        if predicate.op == "neq":
            if not terms:  # comparing with null: nothing is "not equal"
                return set()
            (term,) = terms
            return {k for k, t in self._entries.items() if t != term}
        out: set[str] = set()
        for term in terms:
            out |= self._postings.get(term, set())
        return out


class CompoundIndex(Index):
    """Equality index on several attributes together, for ``and`` of ``eq`` on each."""

    __slots__ = ("_entries", "_postings")
    kind = "compound"

    def __init__(self, *attributes: str) -> None:
        if len(attributes) < 2 or len(set(attributes)) != len(attributes):
            raise ValueError("a compound index needs two or more distinct attributes")
        super().__init__(*attributes)
        self._postings: dict[Hashable, set[str]] = {}
        self._entries: dict[str, Hashable] = {}

    def add(self, key: str, value: JsonValue) -> None:
        """Index ``key`` if every attribute has an indexable value."""
        terms = tuple(index_key(get(value)) for get in self._getters)
        if None not in terms:
            self._entries[key] = terms
            add_posting(self._postings, terms, key)

    def remove(self, key: str) -> None:
        """Forget ``key``."""
        terms = self._entries.pop(key, None)
        if terms is not None:
            drop_posting(self._postings, terms, key)

    def __len__(self) -> int:
        return len(self._entries)

    def covered(self, predicate: Predicate) -> Sequence[Predicate] | None:
        """The ``eq`` children of an ``and`` that this index answers, or None."""
        if predicate.op != "and":
            return None
        chosen: list[Predicate] = []
        for attribute in self.attributes:
            child = next(
                (c for c in predicate.children if c.op == "eq" and c.attribute == attribute),
                None,
            )
            if child is None:
                return None
            chosen.append(child)
        return chosen

    def supports(self, predicate: Predicate) -> bool:
        """An ``and`` with an ``eq`` on each of the index's attributes."""
        return self.covered(predicate) is not None

    def _term(self, predicate: Predicate) -> Hashable | None:
        covered = self.covered(predicate)
        assert covered is not None
        terms = tuple(index_key(c.value) for c in covered)
        return None if None in terms else terms

    def estimate(self, predicate: Predicate) -> int:
        """Exact: the size of the posting for the combined key."""
        term = self._term(predicate)
        return 0 if term is None else len(self._postings.get(term, ()))

    def lookup(self, predicate: Predicate) -> set[str]:
        """Keys matching the covered ``eq`` conjuncts (the rest of the ``and`` is not checked)."""
        term = self._term(predicate)
        return set() if term is None else set(self._postings.get(term, ()))
