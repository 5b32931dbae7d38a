"""Reciprocal rank fusion, and the ranking of hybrid (full-text + filter) results.

RRF (SEMANTICS.md §9) merges ranked lists without comparing their scores: a
document at 0-based rank ``r`` of a list earns ``1/(k + r + 1)`` from it, and its
fused score is the sum over the lists that hold it (k = 60). Only a document's
first appearance in a list counts. The sum is exactly rounded (``math.fsum``), so
the order of the lists cannot change a score in its last bit; results are ordered
by fused score descending, then by id.

A hybrid query ranks by two lists: the full-text hits (BM25 order) and the ids that
pass the filter, in the query's sort order. :func:`hybrid_rank` fuses them with
RRF when both exist; a document must be in both to be a result (the filter
filters, the text must match). When only one list exists it is returned as it is:
text hits keep their BM25 scores; a filtered list gets its single-list RRF score
``1/(k + r + 1)``, so scores always fall with rank. A caller whose filter has no
meaningful order and wants pure text ranking filters the text hits itself and
passes ``filtered_ids_in_order=None``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from topgun_core.search._hits import SearchHit

__all__ = ["RRF_K", "hybrid_rank", "rrf"]

RRF_K = 60
"""The rank-fusion constant of SEMANTICS.md §9."""


def _ordered(scores: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def rrf(lists: Iterable[Sequence[str]], k: int = RRF_K) -> list[tuple[str, float]]:
    """Fuse ranked lists of ids: ``Σ 1/(k + rank + 1)`` per id, best first.

    >>> rrf([["a", "b"], ["b"]], k=60)
    [('b', 0.03252247488101534), ('a', 0.01639344262295082)]
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    shares: dict[str, list[float]] = {}
    for ranked in lists:
        seen: set[str] = set()
        for rank, doc_id in enumerate(ranked):
            if doc_id not in seen:
                seen.add(doc_id)
                shares.setdefault(doc_id, []).append(1.0 / (k + rank + 1))
    return _ordered({doc_id: math.fsum(parts) for doc_id, parts in shares.items()})


def hybrid_rank(
    text_hits: Sequence[SearchHit] | None,
    filtered_ids_in_order: Sequence[str] | None,
    k: int = RRF_K,
) -> list[tuple[str, float]]:
    """Rank a hybrid query's results (module docstring); ``None`` means "no such part"."""
    if text_hits is None:
        return [] if filtered_ids_in_order is None else rrf([filtered_ids_in_order], k)
    if filtered_ids_in_order is None:
        return [(hit.doc_id, hit.score) for hit in text_hits]
    text_ids = [hit.doc_id for hit in text_hits]
    in_both = set(text_ids).intersection(filtered_ids_in_order)
    fused = rrf([text_ids, filtered_ids_in_order], k)
    return [(doc_id, score) for doc_id, score in fused if doc_id in in_both]
