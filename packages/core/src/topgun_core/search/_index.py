"""A BM25 full-text index over chosen fields of JSON-like documents (SEMANTICS.md §9).

Each indexed field has its own :class:`~topgun_core.search._bm25.TermIndex`, and a
*combined* index treats all of a document's fields as one text (with one field the
two are the same object; with more, the combined postings are summed from the
fields' when a query needs them). A field is a key or a dotted path into nested dicts
(``"meta.title"``); a value that is not a string is ignored. A document whose fields
yield no terms at all is not in the index and counts nowhere, so ``N`` and the
average lengths describe exactly the documents that can match. For every document
the index also keeps each field's terms, in order, as one space-padded string
(``" quick brown fox "``): it is how ``remove`` finds the postings to undo, and a
phrase occurs in a field exactly when its padded form is a substring of it.

Scores (``tf``, ``df``, ``N``, ``avgdl`` are those of the index named; k1 1.2, b 0.75)::

    no boost:    score(d) = Σ_{t ∈ Q} BM25_combined(t, d)
    with boost:  score(d) = Σ_{f ∈ fields} w_f · Σ_{t ∈ Q} BM25_f(t, d),
                 w_f = boost.get(f, 1.0)

where ``Q`` is the query's distinct terms and a document is a hit when it contains at
least one of them (OR). An empty boost dict counts as no boost; a field weighted 0
contributes nothing, not even a match. Hits with ``score < min_score`` are dropped;
the rest are ordered by score descending, then ``doc_id`` ascending, and cut to
``limit``. A hit's ``matched_terms`` are the terms of ``Q`` it contains (in the
fields that count). ``match_phrase`` ranks the documents holding the phrase inside
one field the same way, and ``match_prefix`` ranks by the terms the prefix expands
to. With ``field=...`` those two score by that field's index alone.

Prefix expansion walks a sorted term dictionary (``SortedList``) from the prefix and
stops after ``max_expansions`` terms (in term order), so a one-letter prefix costs
the cap, not the vocabulary. :meth:`FullTextIndex.matching` answers the predicate
questions of :mod:`topgun_core.search._match` as sets of ids, uncapped, so that an
indexed predicate agrees with a scan.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Literal, TypeAlias, assert_never

from sortedcontainers import SortedList

from topgun_core.search._bm25 import CombinedIndex, Statistics, TermIndex, score
from topgun_core.search._hits import SearchHit
from topgun_core.search._match import distinct, field_text, joined, prefix_forms
from topgun_core.search._tokenize import tokenize

__all__ = ["PREFIX_EXPANSIONS_MAX", "FullTextIndex", "MatchOp"]

PREFIX_EXPANSIONS_MAX = 50
"""Default cap on the terms one ``match_prefix`` expands to."""

MatchOp: TypeAlias = Literal["match", "matchPhrase", "matchPrefix"]
"""The full-text predicate ops of SEMANTICS.md §8."""

_Scorers: TypeAlias = tuple[tuple[Statistics, float], ...]


def _rank_key(item: tuple[str, float]) -> tuple[float, str]:
    return (-item[1], item[0])


def _top(scores: dict[str, float], limit: int | None, min_score: float) -> list[tuple[str, float]]:
    """The best ``limit`` (doc, score) pairs at or above ``min_score``, in rank order."""
    floor = min_score
    if limit is not None and limit < len(scores):
        # Keep everything tied with the limit-th score, so ties break by id, not luck.
        floor = max(floor, heapq.nlargest(limit, scores.values())[-1])
    if floor > 0.0:  # every score is > 0
        ranked = [(doc, value) for doc, value in scores.items() if value >= floor]
    else:
        ranked = list(scores.items())
    ranked.sort(key=_rank_key)
    return ranked if limit is None else ranked[:limit]


def _intersect(index: Statistics, terms: Iterable[str]) -> set[str]:
    postings = [index.posting(term) for term in terms]
    if not postings or any(p is None for p in postings):
        return set()
    found = [p for p in postings if p is not None]
    found.sort(key=len)
    result = set(found[0])
    for posting in found[1:]:
        result.intersection_update(posting.keys())
    return result


def _check_options(limit: int | None, min_score: float) -> None:
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    if math.isnan(min_score):
        raise ValueError("min_score must be a number, got NaN")


class FullTextIndex:
    """BM25 search over ``fields`` of documents added by id; see the module docstring.

    >>> index = FullTextIndex(["title", "body"])
    >>> index.add("a", {"title": "Quick brown fox", "body": "jumps"})
    >>> [hit.doc_id for hit in index.search("foxes")]
    ['a']
    """

    __slots__ = (
        "_combined", "_docs", "_fields", "_indexes", "_paths", "_positions", "_term_fields",
        "_terms",
    )  # fmt: skip

    def __init__(self, fields: Iterable[str]) -> None:
        if isinstance(fields, str):
            raise TypeError("fields must be a collection of field names, not one string")
        names = tuple(fields)
        if not names:
            raise ValueError("a full-text index needs at least one field")
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate fields in {names!r}")
        if any("" in name.split(".") for name in names):
            raise ValueError(f"a field name or path segment is empty in {names!r}")
        self._fields = names
        self._paths = tuple(tuple(name.split(".")) for name in names)
        self._positions = {name: i for i, name in enumerate(names)}
        self._indexes = tuple(TermIndex() for _ in names)
        self._combined: TermIndex | CombinedIndex = (
            self._indexes[0] if len(names) == 1 else CombinedIndex(self._indexes)
        )
        self._docs: dict[str, tuple[str, ...]] = {}  # per field: joined(terms)
        self._term_fields: dict[str, int] = {}  # how many fields hold each term
        self._terms: SortedList[str] = SortedList()  # the keys of _term_fields, sorted

    @property
    def fields(self) -> tuple[str, ...]:
        """The indexed fields, in the order given."""
        return self._fields

    @property
    def term_count(self) -> int:
        """How many distinct terms the index holds."""
        return len(self._terms)

    def __len__(self) -> int:
        """How many documents have at least one term indexed."""
        return len(self._docs)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._docs

    def add(self, doc_id: str, doc: Mapping[str, object]) -> None:
        """Index ``doc`` under ``doc_id``, replacing what was indexed under it before."""
        self.remove(doc_id)
        texts = [field_text(doc, path) for path in self._paths]
        sequences = [tokenize(text) if text else [] for text in texts]
        if not any(sequences):
            return
        self._docs[doc_id] = tuple(map(joined, sequences))
        created: list[str] = []
        for index, sequence in zip(self._indexes, sequences, strict=True):
            if sequence:
                created += index.add(doc_id, Counter(sequence), len(sequence))
        if isinstance(self._combined, CombinedIndex):
            self._combined.add(doc_id, sum(map(len, sequences)))
        refs = self._term_fields
        for term in created:
            held = refs.get(term, 0)
            refs[term] = held + 1
            if not held:
                self._terms.add(term)

    def remove(self, doc_id: str) -> bool:
        """Un-index ``doc_id``; return whether it was indexed."""
        texts = self._docs.pop(doc_id, None)
        if texts is None:
            return False
        gone: list[str] = []
        for index, text in zip(self._indexes, texts, strict=True):
            if text:
                gone += index.remove(doc_id, set(text.split()))
        if isinstance(self._combined, CombinedIndex):
            self._combined.remove(doc_id)
        refs = self._term_fields
        for term in gone:
            held = refs[term] - 1
            if held:
                refs[term] = held
            else:
                del refs[term]
                self._terms.remove(term)
        return True

    def search(
        self,
        query: str,
        *,
        limit: int | None = None,
        min_score: float = 0.0,
        boost: Mapping[str, float] | None = None,
    ) -> list[SearchHit]:
        """Documents holding any term of ``query``, best first (module docstring).

        Raises ``ValueError`` for a negative ``limit``, a NaN ``min_score``, or a
        ``boost`` naming a field that is not indexed or holding a weight that is
        negative or not finite.
        """
        terms = distinct(tokenize(query))
        return self._rank(terms, self._scorers(boost, None), limit, min_score, None)

    def match_phrase(
        self,
        phrase: str,
        *,
        field: str | None = None,
        limit: int | None = None,
        min_score: float = 0.0,
        boost: Mapping[str, float] | None = None,
    ) -> list[SearchHit]:
        """Documents where ``phrase`` occurs within one field (or within ``field``), ranked."""
        scorers = self._scorers(boost, field)
        holders = self.matching("matchPhrase", phrase, field=field)
        terms = distinct(tokenize(phrase)) if holders else ()
        return self._rank(terms, scorers, limit, min_score, holders)

    def match_prefix(
        self,
        prefix: str,
        *,
        field: str | None = None,
        max_expansions: int = PREFIX_EXPANSIONS_MAX,
        limit: int | None = None,
        min_score: float = 0.0,
        boost: Mapping[str, float] | None = None,
    ) -> list[SearchHit]:
        """Documents holding a term that starts with ``prefix``, ranked by those terms.

        The prefix expands to at most ``max_expansions`` terms, the first in term
        order; ``matched_terms`` are the expansions each hit contains.
        """
        scorers = self._scorers(boost, field)
        terms = tuple(self._expand(prefix, field, max_expansions))
        return self._rank(terms, scorers, limit, min_score, None)

    def matching(
        self, op: MatchOp, text: str, *, field: str | None = None, max_expansions: int | None = None
    ) -> set[str]:
        """Ids of the documents for which predicate ``op`` holds on ``field``.

        ``field=None`` asks about the document's fields together (``match``: all
        terms somewhere; ``matchPhrase``: the phrase inside some one field;
        ``matchPrefix``: any field). Agrees with ``matches``/``matches_phrase``/
        ``matches_prefix`` applied to the field value; ``max_expansions`` caps the
        prefix expansion as in :meth:`match_prefix` (default: no cap, exact).
        """
        index = self._combined if field is None else self._field_index(field)
        if op == "match":
            return _intersect(index, distinct(tokenize(text)))
        if op == "matchPhrase":
            terms = tokenize(text)
            if not terms:
                return set()
            needle = joined(terms)
            slots = range(len(self._fields)) if field is None else (self._positions[field],)
            docs = self._docs
            return {
                doc_id
                for doc_id in _intersect(index, distinct(terms))
                if any(needle in docs[doc_id][slot] for slot in slots)
            }
        if op == "matchPrefix":
            found: set[str] = set()
            for term in self._expand(text, field, max_expansions):
                found.update(index.posting(term) or ())
            return found
        assert_never(op)

    def _field_index(self, field: str) -> TermIndex:
        position = self._positions.get(field)
        if position is None:
            raise ValueError(f"field {field!r} is not indexed (fields: {self._fields!r})")
        return self._indexes[position]

    def _scorers(self, boost: Mapping[str, float] | None, field: str | None) -> _Scorers:
        if field is not None:
            if boost:
                raise ValueError("boost weighs fields; it cannot be combined with field=")
            return ((self._field_index(field), 1.0),)
        if not boost:
            return ((self._combined, 1.0),)
        for name, weight in boost.items():
            self._field_index(name)
            if not (math.isfinite(weight) and weight >= 0.0):
                raise ValueError(f"boost for {name!r} must be finite and >= 0, got {weight}")
        weighted = ((index, float(boost.get(name, 1.0))) for name, index in self._named())
        return tuple((index, weight) for index, weight in weighted if weight > 0.0)

    def _named(self) -> Iterable[tuple[str, TermIndex]]:
        return zip(self._fields, self._indexes, strict=True)

    def _rank(
        self,
        terms: tuple[str, ...],
        scorers: _Scorers,
        limit: int | None,
        min_score: float,
        only: set[str] | None,
    ) -> list[SearchHit]:
        _check_options(limit, min_score)
        if not terms or limit == 0:
            return []
        scores = score(scorers, terms, only)
        return [
            SearchHit(doc_id, score, _matched(doc_id, terms, scorers))
            for doc_id, score in _top(scores, limit, min_score)
        ]

    def _expand(self, prefix: str, field: str | None, cap: int | None) -> list[str]:
        """The terms starting with ``prefix`` (or its stem): the first ``cap`` in order."""
        if cap is not None and cap < 0:
            raise ValueError(f"max_expansions must be >= 0, got {cap}")
        postings = None if field is None else self._field_index(field).postings
        found: set[str] = set()
        for form in prefix_forms(prefix):
            taken = 0
            for term in self._terms.irange(minimum=form):
                if taken == cap or not term.startswith(form):
                    break
                if postings is None or term in postings:
                    found.add(term)
                    taken += 1
        return sorted(found)[:cap]


def _matched(doc_id: str, terms: tuple[str, ...], scorers: _Scorers) -> tuple[str, ...]:
    if len(scorers) == 1:
        has = scorers[0][0].has
        return tuple(term for term in terms if has(term, doc_id))
    return tuple(term for term in terms if any(index.has(term, doc_id) for index, _ in scorers))
