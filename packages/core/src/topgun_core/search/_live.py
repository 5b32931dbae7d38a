"""Live search: a subscribed query that turns document changes into result deltas.

A :class:`LiveSearch` holds the result window its subscriber knows — the hits last
reported, the initial result being a plain search — and, after each change, runs
the search again and reports the difference:

- ``LEAVE`` for every document in the window that is no longer a result (deleted,
  stopped matching, fell under ``min_score``, or was pushed out of ``limit`` by a
  better document), listed first and in the old window's order;
- ``ENTER`` for every result not in the window (a new or newly matching document,
  or the next one moving up into a ``limit`` window another one left);
- ``UPDATE`` for a document that stays, when the document itself changed (its
  value is new even if its score is not), when its matched terms changed, or when
  its score moved by more than ``score_tolerance`` (relative) from the score last
  reported for it.

ENTER and UPDATE follow in the new rank order. The last rule is the policy for BM25's
drift: every write changes ``N``, ``df`` and the average lengths, so the score of
every other result moves a little. Reporting each such move would send the whole
window on every write to the map; ignoring them would let a subscriber's scores
rot. Comparing with the score *last reported* bounds the error instead: the
subscriber's scores are always within ``score_tolerance`` (default 1 %) of the
truth and drift never accumulates (``0`` reports every move; ``math.inf`` only
documents that changed). Membership and window order are always exact:
applying the deltas to the initial result gives exactly the ids of a fresh search
after every change, and with ``score_tolerance=0`` exactly its scores too.

The object is sans-IO and knows nothing about who else uses its index: given a
:class:`FullTextIndex` it shares it (whoever owns it applies writes, then calls
:meth:`LiveSearch.refresh` with the changed ids — one refresh may cover a batch);
given field names it owns a private index and :meth:`LiveSearch.apply` takes the
changes. A refresh costs one search: proportional to the postings of the query's
terms, not to the size of the map.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from topgun_core.search._hits import SearchDelta, SearchHit
from topgun_core.search._index import FullTextIndex

__all__ = ["SCORE_TOLERANCE", "LiveSearch"]

SCORE_TOLERANCE = 0.01
"""Default relative score drift of an unchanged result that is not reported."""


class LiveSearch:
    """ENTER / UPDATE / LEAVE deltas of one query over a changing index (module doc).

    >>> live = LiveSearch(["title"], "fox")
    >>> [(d.change, d.doc_id) for d in live.apply("a", {"title": "a fox"})]
    [('ENTER', 'a')]
    >>> [(d.change, d.doc_id) for d in live.apply("a", None)]
    [('LEAVE', 'a')]
    """

    __slots__ = ("_boost", "_index", "_limit", "_min_score", "_query", "_tolerance", "_view")

    def __init__(
        self,
        index_or_fields: FullTextIndex | Iterable[str],
        query: str,
        *,
        limit: int | None = None,
        min_score: float = 0.0,
        boost: Mapping[str, float] | None = None,
        score_tolerance: float = SCORE_TOLERANCE,
    ) -> None:
        if not score_tolerance >= 0.0:  # NaN fails too
            raise ValueError(f"score_tolerance must be >= 0, got {score_tolerance}")
        if isinstance(index_or_fields, FullTextIndex):
            self._index = index_or_fields
        else:
            self._index = FullTextIndex(index_or_fields)
        self._query = query
        self._limit = limit
        self._min_score = min_score
        self._boost = dict(boost) if boost else None
        self._tolerance = score_tolerance
        self._view = {hit.doc_id: hit for hit in self._search()}

    @property
    def index(self) -> FullTextIndex:
        """The index this search runs on."""
        return self._index

    @property
    def query(self) -> str:
        """The subscribed query text."""
        return self._query

    @property
    def results(self) -> list[SearchHit]:
        """The window as the subscriber knows it: last-reported hits, in rank order."""
        return list(self._view.values())

    def apply(self, doc_id: str, doc: Mapping[str, object] | None) -> list[SearchDelta]:
        """Write ``doc`` (``None``: delete) to the index, then :meth:`refresh`."""
        if doc is None:
            self._index.remove(doc_id)
        else:
            self._index.add(doc_id, doc)
        return self.refresh((doc_id,))

    def refresh(self, changed: Iterable[str] = ()) -> list[SearchDelta]:
        """The deltas since the last call, the index having changed the ``changed`` ids."""
        changed_ids = set(changed)
        fresh = self._search()
        old = self._view
        fresh_ids = {hit.doc_id for hit in fresh}
        deltas = [
            SearchDelta("LEAVE", doc_id, 0.0, ()) for doc_id in old if doc_id not in fresh_ids
        ]
        view: dict[str, SearchHit] = {}
        for hit in fresh:
            known = old.get(hit.doc_id)
            if known is None:
                deltas.append(SearchDelta("ENTER", hit.doc_id, hit.score, hit.matched_terms))
            elif (
                hit.doc_id in changed_ids
                or hit.matched_terms != known.matched_terms
                or abs(hit.score - known.score) > self._tolerance * abs(known.score)
            ):
                deltas.append(SearchDelta("UPDATE", hit.doc_id, hit.score, hit.matched_terms))
            else:
                hit = known  # noqa: PLW2901 - the subscriber keeps the score it was told
            view[hit.doc_id] = hit
        self._view = view
        return deltas

    def _search(self) -> list[SearchHit]:
        return self._index.search(
            self._query, limit=self._limit, min_score=self._min_score, boost=self._boost
        )
