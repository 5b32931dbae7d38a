"""Live queries, full-text search and hybrid queries (PROTOCOL.md, SEMANTICS.md §8-§9).

Every request needs READ on its map, and may only read fields its principal can
read: a predicate, a sort or a full-text leaf naming another field is refused
with 403 (otherwise the result would reveal it); every row and delta is filtered
to the readable fields. Queries run on LWW maps (an OR map is a 409).

- ``QUERY_SUB`` registers a live query and answers ``QUERY_RESP`` (the first page,
  ``hasMore``, ``nextCursor``), then ``QUERY_UPDATE`` deltas. A ``QUERY_SUB`` whose
  query carries a ``cursor`` is a one-shot page: ``QUERY_RESP`` with
  ``cursorStatus`` (an expired or invalid cursor answers no rows and says which),
  and nothing follows. ``QUERY_UNSUB`` ends a live query.
- ``SEARCH`` answers ``SEARCH_RESP`` once; ``SEARCH_SUB`` answers it and then sends
  ``SEARCH_UPDATE`` deltas; ``SEARCH_UNSUB`` ends it. The map needs a full-text
  index (``TOPGUN_FULLTEXT`` or the admin API), else 400.
- ``HYBRID_QUERY_SUB`` ranks the rows of a predicate that mixes full-text leaves
  and comparisons (``services.live.ranking``), answers ``HYBRID_QUERY_RESP`` and
  sends ``HYBRID_QUERY_UPDATE`` deltas; ``HYBRID_QUERY_UNSUB`` ends it.

Too many subscriptions on one connection or one map is a 429 naming the limit.
"""

from __future__ import annotations

from collections.abc import Mapping

from topgun_core import protocol as p
from topgun_core.errors import PermissionDenied, ValidationError
from topgun_core.protocol import SearchOptions
from topgun_core.query import CursorError, QuerySpec, execute
from topgun_server.context import ServerContext
from topgun_server.handlers.replies import require
from topgun_server.handlers.routing import Route, route
from topgun_server.services.live import SearchRequest, Subscription
from topgun_server.services.live.messages import query_rows, scored_rows
from topgun_server.services.live.ranking import ALL_FIELDS, readable_boost
from topgun_server.ws.session import Session

__all__ = ["QUERY_ROUTES"]


def _readable(ctx: ServerContext, session: Session, name: str) -> frozenset[str] | None:
    require(ctx, session, name, "READ")
    return ctx.policies.readable_fields(session.require_principal(), name)


def _check_fields(spec: QuerySpec, fields: frozenset[str] | None) -> None:
    if fields is None:
        return
    read = {a for a in spec.predicate.attributes() if a != ALL_FIELDS} if spec.predicate else set()
    read.update(field for field, _ in spec.sort)
    hidden = sorted({a.split(".")[0] for a in read} - fields)
    if hidden:
        raise PermissionDenied(f"the query reads fields you may not read: {hidden}")


async def handle_query_sub(
    ctx: ServerContext, session: Session, message: p.QuerySubMessage
) -> None:
    """Subscribe to a live query, or answer one page when the query has a cursor."""
    payload = message["payload"]
    name = payload["mapName"]
    fields = _readable(ctx, session, name)
    spec = QuerySpec.from_wire(payload["query"], "payload.query")
    _check_fields(spec, fields)
    slot = await ctx.maps.acquire(name, "lww")
    if spec.cursor is None:
        sub = Subscription("query", payload["queryId"], session, name, fields, spec=spec)
        ctx.live.subscribe_query(slot, sub)
        return
    view = ctx.live.view(slot)
    resp: p.QueryRespPayload = {"queryId": payload["queryId"], "results": []}
    try:
        page = execute(
            spec,
            view.records.records,
            indexes=view.records.indexes,
            clock=ctx.clock,
            limits=ctx.live.limits,
        )
    except CursorError as exc:
        resp["cursorStatus"] = exc.status
        resp["hasMore"] = False
    else:
        resp["results"] = query_rows(page.results, fields)
        resp["hasMore"] = page.has_more
        resp["cursorStatus"] = page.cursor_status
        if page.next_cursor is not None:
            resp["nextCursor"] = page.next_cursor
    session.outbox.send({"type": "QUERY_RESP", "payload": resp})


async def handle_query_unsub(
    ctx: ServerContext, session: Session, message: p.QueryUnsubMessage
) -> None:
    """End a live query (an unknown id is not an error: it may have ended already)."""
    ctx.live.unsubscribe(session, message["payload"]["queryId"])


def _search_request(
    text: str, options: SearchOptions | None, boost: dict[str, float] | None
) -> SearchRequest:
    options = options or {}
    return SearchRequest(text, options.get("limit"), float(options.get("minScore", 0.0)), boost)


async def handle_search(ctx: ServerContext, session: Session, message: p.SearchMessage) -> None:
    """One full-text search: ``SEARCH_RESP`` with the page and the total count."""
    payload = message["payload"]
    name = payload["mapName"]
    fields = _readable(ctx, session, name)
    view = await ctx.live.fulltext_view(await ctx.maps.acquire(name, "lww"))
    index = view.fulltext
    assert index is not None
    options = payload["options"]
    boost = readable_boost(index, options.get("boost"), fields)
    try:
        hits = index.search(payload["query"], min_score=options.get("minScore", 0.0), boost=boost)
    except ValueError as exc:
        raise ValidationError("payload.options", str(exc)) from None
    limit = options.get("limit")
    page = hits if limit is None else hits[:limit]
    session.outbox.send(
        {
            "type": "SEARCH_RESP",
            "payload": {
                "requestId": payload["requestId"],
                "results": scored_rows(page, view.records.records, fields),
                "totalCount": len(hits),
            },
        }
    )


async def handle_search_sub(
    ctx: ServerContext, session: Session, message: p.SearchSubMessage
) -> None:
    """Subscribe to a live search: ``SEARCH_RESP``, then ``SEARCH_UPDATE`` deltas."""
    payload = message["payload"]
    name = payload["mapName"]
    fields = _readable(ctx, session, name)
    slot = await ctx.maps.acquire(name, "lww")
    view = await ctx.live.fulltext_view(slot)
    assert view.fulltext is not None
    options = payload.get("options") or {}
    boost = readable_boost(view.fulltext, options.get("boost"), fields)
    request = _search_request(payload["query"], options, boost)
    try:
        view.fulltext.search("", limit=request.limit, min_score=request.min_score, boost=boost)
    except ValueError as exc:
        raise ValidationError("payload.options", str(exc)) from None
    sub = Subscription("search", payload["subscriptionId"], session, name, fields, search=request)
    await ctx.live.subscribe_ranked(slot, sub)


async def handle_hybrid_sub(
    ctx: ServerContext, session: Session, message: p.HybridQuerySubMessage
) -> None:
    """Subscribe to a hybrid query: ``HYBRID_QUERY_RESP``, then ``HYBRID_QUERY_UPDATE``."""
    payload = message["payload"]
    name = payload["mapName"]
    fields = _readable(ctx, session, name)
    if "cursor" in payload:
        raise ValidationError("payload.cursor", "a live hybrid query shows the first page")
    fields_of: Mapping[str, object] = payload
    query = {k: fields_of[k] for k in ("predicate", "where", "sort", "limit") if k in fields_of}
    spec = QuerySpec.from_wire(query, "payload")
    _check_fields(spec, fields)
    slot = await ctx.maps.acquire(name, "lww")
    sub = Subscription("hybrid", payload["subscriptionId"], session, name, fields, spec=spec)
    await ctx.live.subscribe_ranked(slot, sub)


async def handle_subscription_unsub(
    ctx: ServerContext, session: Session, message: p.SearchUnsubMessage
) -> None:
    """End a live search."""
    ctx.live.unsubscribe(session, message["payload"]["subscriptionId"])


async def handle_hybrid_unsub(
    ctx: ServerContext, session: Session, message: p.HybridQueryUnsubMessage
) -> None:
    """End a hybrid query."""
    ctx.live.unsubscribe(session, message["payload"]["subscriptionId"])


QUERY_ROUTES: tuple[Route, ...] = (
    route(p.QuerySubMessage, handle_query_sub),
    route(p.QueryUnsubMessage, handle_query_unsub),
    route(p.HybridQuerySubMessage, handle_hybrid_sub),
    route(p.HybridQueryUnsubMessage, handle_hybrid_unsub),
    route(p.SearchMessage, handle_search),
    route(p.SearchSubMessage, handle_search_sub),
    route(p.SearchUnsubMessage, handle_subscription_unsub),
)
