"""The query and search methods of ``TopGunClient`` (a mixin, to keep the client small).

Each method builds a validated :class:`~topgun_core.query.QuerySpec` or search
options and hands them to the pieces that do the work: :class:`LiveQuery`
(``_queries``), :class:`RankedQuery` (``_search``) and the one-shot requests of
``_requests``. See docs/client.md, "Queries and search".
"""

from __future__ import annotations

from topgun_client._local import LocalIndex
from topgun_client._maps import LWWMapHandle
from topgun_client._queries import LiveQuery, QueryPage
from topgun_client._requests import query_page, search
from topgun_client._runtime import Runtime
from topgun_client._search import RankedQuery, SearchResult
from topgun_core.protocol import (
    ClientMessage,
    HybridQuerySubPayload,
    PredicateNode,
    SearchOptions,
    SortDirection,
)
from topgun_core.query import P, Predicate, QuerySpec, predicate_from_wire

__all__ = ["QueryMethods", "Sort"]

Sort = (
    tuple[tuple[str, SortDirection], ...]
    | list[tuple[str, SortDirection]]
    | dict[str, SortDirection]
)
"""A query's sort: ``[("age", "desc"), ("name", "asc")]`` or ``{"age": "desc"}``."""


def _predicate(predicate: Predicate | PredicateNode | None) -> Predicate | None:
    if predicate is None or isinstance(predicate, Predicate):
        return predicate
    return predicate_from_wire(predicate)


def _search_options(
    limit: int | None, min_score: float, boost: dict[str, float] | None
) -> SearchOptions:
    options: SearchOptions = {}
    if limit is not None:
        options["limit"] = limit
    if min_score:
        options["minScore"] = min_score
    if boost:
        options["boost"] = dict(boost)
    return options


class QueryMethods:
    """Queries, pages, searches and hybrid queries of a client."""

    def _runtime(self) -> Runtime:
        raise NotImplementedError

    def get_map(self, name: str) -> LWWMapHandle:
        """The LWW map ``name`` (see ``TopGunClient.get_map``)."""
        raise NotImplementedError

    def _local_index(self, map_name: str) -> LocalIndex:
        handle = self.get_map(map_name)
        return self._runtime().engine.live.local.get(map_name, handle.crdt)

    def query(
        self,
        map_name: str,
        predicate: Predicate | PredicateNode | None = None,
        *,
        sort: Sort = (),
        limit: int | None = None,
    ) -> LiveQuery:
        """A live query on LWW map ``map_name``; ``async with`` it to run it.

        Results are local-first (the replica, through its indexes) and converge with
        the server's; ``changes()`` yields ENTER / UPDATE / LEAVE. See docs/client.md.
        """
        rt = self._runtime()
        spec = QuerySpec(_predicate(predicate), sort, limit)  # type: ignore[arg-type]  # list or tuple
        return LiveQuery(
            rt.engine.live, lambda: self._local_index(map_name), spec, rt.settings.query_changes_max
        )

    async def query_page(
        self,
        map_name: str,
        predicate: Predicate | PredicateNode | None = None,
        *,
        sort: Sort = (),
        limit: int | None = None,
        cursor: str | None = None,
        timeout: float | None = None,
    ) -> QueryPage:
        """One page of a query: from the server when connected, else from the replica."""
        rt = self._runtime()
        spec = QuerySpec(_predicate(predicate), sort, limit, cursor)  # type: ignore[arg-type]
        return await query_page(
            rt.engine.live, self._local_index(map_name), spec, self._timeout_s(timeout)
        )

    async def search(
        self,
        map_name: str,
        text: str,
        *,
        limit: int | None = None,
        min_score: float = 0.0,
        boost: dict[str, float] | None = None,
        timeout: float | None = None,
    ) -> list[SearchResult]:
        """Full-text search, best first (the server's index; offline: a local one)."""
        rt = self._runtime()
        local = rt.engine.live.local.find(map_name)
        options = _search_options(limit, min_score, boost)
        return await search(
            rt.engine.live, local, map_name, text, options, self._timeout_s(timeout)
        )

    def search_subscribe(
        self,
        map_name: str,
        text: str,
        *,
        limit: int | None = None,
        min_score: float = 0.0,
        boost: dict[str, float] | None = None,
    ) -> RankedQuery:
        """A live full-text search; ``async with`` it, then read ``results`` / ``changes()``."""
        rt = self._runtime()
        options = _search_options(limit, min_score, boost)
        message: ClientMessage = {
            "type": "SEARCH_SUB",
            "payload": {
                "subscriptionId": "",
                "mapName": map_name,
                "query": text,
                "options": options,
            },
        }
        return RankedQuery(
            rt.engine.live, "search", map_name, message, rt.settings.query_changes_max
        )

    def hybrid_query(
        self,
        map_name: str,
        *,
        text: str | None = None,
        predicate: Predicate | PredicateNode | None = None,
        sort: Sort = (),
        limit: int | None = None,
        field: str = "*",
    ) -> RankedQuery:
        """A live hybrid query: full-text ``text`` (on ``field``, default every full-text
        field) and ``predicate``, ranked by rank fusion when ``sort`` is given."""
        rt = self._runtime()
        parts = [] if text is None else [P.match(field, text)]
        if predicate is not None:
            parts.append(_predicate(predicate))  # type: ignore[arg-type]  # not None here
        combined = parts[0] if len(parts) == 1 else P.and_(*parts)
        spec = QuerySpec(combined, sort, limit)  # type: ignore[arg-type]  # list or tuple
        assert spec.predicate is not None, "hybrid_query needs text= or predicate="
        payload: HybridQuerySubPayload = {
            "subscriptionId": "",
            "mapName": map_name,
            "predicate": spec.predicate.to_wire(),
        }
        wire = spec.to_wire()
        if "sort" in wire:
            payload["sort"] = wire["sort"]
        if "limit" in wire:
            payload["limit"] = wire["limit"]
        message: ClientMessage = {"type": "HYBRID_QUERY_SUB", "payload": payload}
        return RankedQuery(
            rt.engine.live, "hybrid", map_name, message, rt.settings.query_changes_max
        )

    def _timeout_s(self, timeout: float | None) -> float:
        if timeout is not None:
            return timeout
        return self._runtime().settings.write_timeout_ms / 1000
