"""BM25 inverted indexes: postings, document lengths, and the scoring loop.

A :class:`TermIndex` covers one field. It keeps only integers: ``postings[term]
[doc_id]`` is the term frequency ``tf``, ``lengths[doc_id]`` the number of terms the
document has in the field (documents without any are absent), and ``total_length``
their sum. So ``N = len(lengths)``, ``df(t) = len(postings[t])`` and ``avgdl =
total_length / N`` are exact after any sequence of adds and removes, and an index
built incrementally scores bit-for-bit like one rebuilt from scratch.

A :class:`CombinedIndex` is the index of all of a document's fields as one text. It
stores only the combined lengths: the postings of a term are its field postings
summed when a query asks for them (one C-level dict copy of the largest plus a loop
over the others), which halves the memory and the build time of keeping a second
copy of every posting, for a small cost per query term.

The score of a document for query terms ``T`` is::

    sum over t in T of  idf(t) * tf*(k1 + 1) / (tf + k1*(1 - b + b*dl/avgdl))
    idf(t) = ln((N - df + 0.5)/(df + 0.5) + 1),   k1 = 1.2,  b = 0.75

(SEMANTICS.md §9). :func:`score` sums ``weight`` times that over weighted indexes,
walking each term's postings once with the per-query constants hoisted out of the
loop.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Protocol

__all__ = ["K1", "B", "CombinedIndex", "Statistics", "TermIndex", "bm25_idf", "score"]

K1 = 1.2
"""BM25 term-frequency saturation."""
B = 0.75
"""BM25 document-length normalisation."""

_NORM_FLAT = K1 * (1.0 - B)


def bm25_idf(n: int, df: int) -> float:
    """BM25 inverse document frequency: ``ln((n - df + 0.5)/(df + 0.5) + 1)``.

    >>> round(bm25_idf(10, 2), 5)
    1.4816
    """
    return math.log((n - df + 0.5) / (df + 0.5) + 1.0)


class TermIndex:
    """Postings and length statistics of one field (or of the combined text)."""

    __slots__ = ("lengths", "postings", "total_length")

    def __init__(self) -> None:
        self.postings: dict[str, dict[str, int]] = {}
        self.lengths: dict[str, int] = {}
        self.total_length = 0

    def add(self, doc_id: str, counts: Mapping[str, int], length: int) -> list[str]:
        """Index a document absent from this index; return the terms it introduced."""
        assert doc_id not in self.lengths, doc_id
        assert length > 0
        postings = self.postings
        created: list[str] = []
        for term, tf in counts.items():
            try:
                postings[term][doc_id] = tf
            except KeyError:
                postings[term] = {doc_id: tf}
                created.append(term)
        self.lengths[doc_id] = length
        self.total_length += length
        return created

    def remove(self, doc_id: str, terms: Iterable[str]) -> list[str]:
        """Un-index a document given its distinct terms; return the terms now gone."""
        postings = self.postings
        gone: list[str] = []
        for term in terms:
            posting = postings[term]
            del posting[doc_id]
            if not posting:
                del postings[term]
                gone.append(term)
        self.total_length -= self.lengths.pop(doc_id)
        return gone

    def posting(self, term: str) -> Mapping[str, int] | None:
        """``{doc_id: tf}`` of ``term``, or ``None`` when no document has it."""
        return self.postings.get(term)

    def has(self, term: str, doc_id: str) -> bool:
        """Whether ``doc_id`` contains ``term`` here."""
        posting = self.postings.get(term)
        return posting is not None and doc_id in posting


class CombinedIndex:
    """All fields as one text: combined lengths, postings summed from the fields."""

    __slots__ = ("fields", "lengths", "total_length")

    def __init__(self, fields: tuple[TermIndex, ...]) -> None:
        self.fields = fields
        self.lengths: dict[str, int] = {}
        self.total_length = 0

    def add(self, doc_id: str, length: int) -> None:
        """Count a document with ``length`` terms over all fields (postings: the fields')."""
        assert doc_id not in self.lengths, doc_id
        assert length > 0
        self.lengths[doc_id] = length
        self.total_length += length

    def remove(self, doc_id: str) -> None:
        """Stop counting a document."""
        self.total_length -= self.lengths.pop(doc_id)

    def posting(self, term: str) -> Mapping[str, int] | None:
        """``{doc_id: tf summed over the fields}`` of ``term``, or ``None``."""
        found = [posting for field in self.fields if (posting := field.postings.get(term))]
        if len(found) <= 1:
            return found[0] if found else None
        found.sort(key=len, reverse=True)
        merged = dict(found[0])
        get = merged.get
        for posting in found[1:]:
            for doc, tf in posting.items():
                merged[doc] = get(doc, 0) + tf
        return merged

    def has(self, term: str, doc_id: str) -> bool:
        """Whether ``doc_id`` contains ``term`` in any field."""
        return any(field.has(term, doc_id) for field in self.fields)


class Statistics(Protocol):
    """What BM25 scoring reads: a :class:`TermIndex` or a :class:`CombinedIndex`."""

    @property
    def lengths(self) -> Mapping[str, int]: ...
    @property
    def total_length(self) -> int: ...
    def posting(self, term: str) -> Mapping[str, int] | None: ...
    def has(self, term: str, doc_id: str) -> bool: ...


def score(
    sources: Sequence[tuple[Statistics, float]],
    terms: Sequence[str],
    only: Collection[str] | None = None,
) -> dict[str, float]:
    """``{doc_id: sum of weight * BM25(terms)}`` over the weighted indexes ``sources``.

    Documents holding none of the terms are absent; with ``only``, documents outside
    it are skipped too (phrase queries score only the documents holding the phrase).
    The (index, term) postings are walked longest first — the first one with a dict
    comprehension, twice as fast as the accumulating loop — so a document's terms
    are summed in an order fixed by the statistics alone: equal indexes give
    bit-identical scores.
    """
    jobs: list[tuple[Mapping[str, int], float, Mapping[str, int], float]] = []
    for index, weight in sources:
        lengths = index.lengths
        n = len(lengths)
        if n == 0:
            continue
        norm_per_length = K1 * B * n / index.total_length  # k1*b/avgdl
        for term in terms:
            posting = index.posting(term)
            if posting:
                factor = weight * bm25_idf(n, len(posting)) * (K1 + 1.0)
                jobs.append((posting, factor, lengths, norm_per_length))
    jobs.sort(key=lambda job: -len(job[0]))
    scores: dict[str, float] = {}
    for posting, factor, lengths, per_length in jobs:
        if not scores:
            scores = {
                doc: factor * tf / (tf + _NORM_FLAT + per_length * lengths[doc])
                for doc, tf in posting.items()
                if only is None or doc in only
            }
            continue
        get = scores.get
        for doc, tf in posting.items():
            if only is None or doc in only:
                scores[doc] = get(doc, 0.0) + factor * tf / (
                    tf + _NORM_FLAT + per_length * lengths[doc]
                )
    return scores
