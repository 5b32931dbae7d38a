"""One-shot queries and searches: ask the server when connected, else the replica.

:func:`query_page` and :func:`search` are what ``client.query_page()`` and
``client.search()`` do. Online, a page is a ``QUERY_SUB`` whose query carries the
cursor (the server answers one ``QUERY_RESP`` and registers nothing; a first page
without a cursor is subscribed and unsubscribed at once) and a search is a
``SEARCH``. Offline — or when the connection drops under the request — a page
is computed from the local replica through its indexes (cursors are the same
opaque keyset cursors, so pages fetched either way continue each other), and a
search is answered by the map's local full-text index if it has one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from topgun_client._live import LiveRegistry, new_id
from topgun_client._local import LocalIndex
from topgun_client._queries import QueryPage
from topgun_client._search import SearchResult, hits_from
from topgun_core.errors import Unavailable
from topgun_core.protocol import ClientMessage, SearchOptions
from topgun_core.query import CursorError, QuerySpec

__all__ = ["query_page", "search"]


async def query_page(
    registry: LiveRegistry, index: LocalIndex, spec: QuerySpec, timeout_s: float
) -> QueryPage:
    """One page of ``spec`` (module docstring)."""
    if registry.authenticated:
        try:
            return await _server_page(registry, index.name, spec, timeout_s)
        except Unavailable:
            pass  # dropped meanwhile: answer from the replica
    index.sweep()
    try:
        page = index.indexed.query(spec)
    except CursorError as exc:
        return QueryPage([], None, has_more=False, cursor_status=exc.status, source="local")
    return QueryPage(page.results, page.next_cursor, page.has_more, page.cursor_status, "local")


async def _server_page(
    registry: LiveRegistry, map_name: str, spec: QuerySpec, timeout_s: float
) -> QueryPage:
    request_id = new_id("page")
    message: ClientMessage = {
        "type": "QUERY_SUB",
        "payload": {"queryId": request_id, "mapName": map_name, "query": spec.to_wire()},
    }
    future = registry.request(request_id, map_name, message)
    try:
        async with asyncio.timeout(timeout_s):
            answer = await future
    finally:
        registry.forget(request_id)
        if spec.cursor is None:  # a first page was subscribed: end it
            registry.send({"type": "QUERY_UNSUB", "payload": {"queryId": request_id}})
    assert answer["type"] == "QUERY_RESP"
    payload = answer["payload"]
    return QueryPage(
        [(row["key"], row["value"]) for row in payload["results"]],
        payload.get("nextCursor"),
        payload.get("hasMore", False),
        payload.get("cursorStatus", "none"),
        "server",
    )


async def search(
    registry: LiveRegistry,
    index: LocalIndex | None,
    map_name: str,
    text: str,
    options: SearchOptions,
    timeout_s: float,
) -> list[SearchResult]:
    """Full-text search (module docstring)."""
    if registry.authenticated or index is None or index.fulltext is None:
        request_id = new_id("search")
        message: ClientMessage = {
            "type": "SEARCH",
            "payload": {
                "requestId": request_id,
                "mapName": map_name,
                "query": text,
                "options": options,
            },
        }
        future = registry.request(request_id, map_name, message)
        try:
            async with asyncio.timeout(timeout_s):
                answer = await future
        finally:
            registry.forget(request_id)
        assert answer["type"] == "SEARCH_RESP"
        return hits_from(answer["payload"]["results"])
    return _local_search(index, text, options)


def _local_search(index: LocalIndex, text: str, options: SearchOptions) -> list[SearchResult]:
    assert index.fulltext is not None
    boost: Mapping[str, float] | None = options.get("boost")
    hits = index.fulltext.search(
        text, limit=options.get("limit"), min_score=options.get("minScore", 0.0), boost=boost
    )
    values = index.indexed.records
    return [SearchResult(h.doc_id, values.get(h.doc_id), h.score, h.matched_terms) for h in hits]
