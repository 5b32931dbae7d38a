"""A term index for ``contains``, ``containsAll`` and ``containsAny``.

``contains`` means two things (``_evaluate``): element membership on a list and
case-insensitive substring on a string. The index keeps one posting set per term,
with terms of two tagged kinds so they never collide:

- a list value contributes one *element term* per element (``_values.element_key``:
  the equality key, strings lower-cased) — a lookup by element is exact;
- a string value contributes its lower-cased character *trigrams*. A needle of three
  or more characters can only occur in strings holding all of its trigrams, so the
  intersection of their postings is a small superset; shorter needles fall back to
  every indexed string. String lookups are therefore inexact and the planner
  filters them by evaluating the predicate.

``containsAll`` intersects and ``containsAny`` unites the per-needle sets; an empty
``containsAll`` is every indexed string or list, an empty ``containsAny`` nothing.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Final

from topgun_core.query._indexes import Index, add_posting, drop_posting
from topgun_core.query._predicates import Predicate
from topgun_core.query._values import element_key
from topgun_core.values import JsonValue

__all__ = ["InvertedIndex"]

_GRAM: Final = 3
_OPS: Final = frozenset({"contains", "containsAll", "containsAny"})


def _trigrams(text: str) -> set[Hashable]:
    return {("g", text[i : i + _GRAM]) for i in range(len(text) - _GRAM + 1)}


class InvertedIndex(Index):
    """Element and trigram index on one attribute (see the module docstring)."""

    __slots__ = ("_entries", "_postings", "_strings")
    kind = "inverted"

    def __init__(self, attribute: str) -> None:
        super().__init__(attribute)
        self._postings: dict[Hashable, set[str]] = {}
        self._entries: dict[str, frozenset[Hashable]] = {}
        self._strings: set[str] = set()

    def add(self, key: str, value: JsonValue) -> None:
        """Index the elements of a list value or the trigrams of a string value."""
        x = self._getters[0](value)
        if isinstance(x, str):
            terms = frozenset(_trigrams(x.lower()))
            self._strings.add(key)
        elif isinstance(x, list):
            terms = frozenset(("e", k) for k in map(element_key, x) if k is not None)
        else:
            return
        self._entries[key] = terms
        for term in terms:
            add_posting(self._postings, term, key)

    def remove(self, key: str) -> None:
        """Forget ``key``."""
        terms = self._entries.pop(key, None)
        if terms is not None:
            self._strings.discard(key)
            for term in terms:
                drop_posting(self._postings, term, key)

    def __len__(self) -> int:
        return len(self._entries)

    def supports(self, predicate: Predicate) -> bool:
        """The three ``contains`` operators on this attribute."""
        return predicate.attribute == self.attributes[0] and predicate.op in _OPS

    def _needles(self, predicate: Predicate) -> list[JsonValue]:
        if predicate.op == "contains":
            return [predicate.value]
        assert isinstance(predicate.value, list)
        return predicate.value

    def exact(self, predicate: Predicate) -> bool:
        """Exact unless a string needle has to be checked against indexed strings."""
        return not self._strings or not any(isinstance(n, str) for n in self._needles(predicate))

    def _postings_of(self, needle: JsonValue) -> Iterable[set[str]]:
        """The sets whose union holds every key containing ``needle`` (maybe more)."""
        key = element_key(needle)
        if key is not None:
            yield self._postings.get(("e", key), set())
        if isinstance(needle, str) and self._strings:
            grams = _trigrams(needle.lower())
            if not grams:
                yield self._strings
                return
            sets = sorted((self._postings.get(g, set()) for g in grams), key=len)
            yield sets[0] if len(sets) == 1 else sets[0].intersection(*sets[1:])

    def _one(self, needle: JsonValue) -> set[str]:
        out: set[str] = set()
        for posting in self._postings_of(needle):
            out |= posting
        return out

    def _estimate_one(self, needle: JsonValue) -> int:
        key = element_key(needle)
        size = len(self._postings.get(("e", key), ())) if key is not None else 0
        if isinstance(needle, str) and self._strings:
            grams = _trigrams(needle.lower())
            size += min((len(self._postings.get(g, ())) for g in grams), default=len(self._strings))
        return size

    def estimate(self, predicate: Predicate) -> int:
        """Posting sizes (an upper bound): summed for contains/Any, smallest for containsAll."""
        sizes = [self._estimate_one(n) for n in self._needles(predicate)]
        if predicate.op == "containsAll":
            return min(sizes, default=len(self._entries))
        return sum(sizes)

    def lookup(self, predicate: Predicate) -> set[str]:
        """Keys that contain the needles (a superset when a needle is a string)."""
        needles = self._needles(predicate)
        if predicate.op != "containsAll":
            out: set[str] = set()
            for needle in needles:
                out |= self._one(needle)
            return out
        if not needles:
            return set(self._entries)
        sets = sorted((self._one(n) for n in needles), key=len)
        return sets[0].intersection(*sets[1:])
