"""Topics, locks, PN counters and the event journal (SEMANTICS.md §5, §10).

Permissions use prefixed resources (``topic:<name>``, ``lock:<name>``,
``counter:<name>``) with the same policy rules as maps: READ to subscribe to a
topic or read a counter, PUT to publish, lock, or push a counter. The journal is
filtered per reader by READ on each event's map (and its readable fields); naming
a map in the request also requires READ on it up front.

Requests that carry a ``requestId`` and fail are answered ``ERROR`` whose
``details.requestId`` names the request, so a client can fail the right call.
"""

from __future__ import annotations

from topgun_core import protocol as p
from topgun_core.errors import TopGunError
from topgun_core.locks import validate_lock_name
from topgun_core.topics import validate_topic_name
from topgun_server.context import ServerContext
from topgun_server.handlers.replies import require, send_error
from topgun_server.handlers.routing import Route, route
from topgun_server.services.journal import viewer
from topgun_server.ws.session import Session

__all__ = ["COORDINATION_ROUTES"]


def _failed(session: Session, request_id: str, exc: TopGunError, **details: str) -> None:
    send_error(session, exc.code, exc.message, {"requestId": request_id, **details})


# ---------------------------------------------------------------- topics


async def handle_topic_sub(
    ctx: ServerContext, session: Session, message: p.TopicSubMessage
) -> None:
    """Subscribe to a topic (READ on ``topic:<name>``)."""
    topic = validate_topic_name(message["payload"]["topic"])
    require(ctx, session, f"topic:{topic}", "READ")
    ctx.topics.subscribe(session, topic)


async def handle_topic_unsub(
    ctx: ServerContext, session: Session, message: p.TopicUnsubMessage
) -> None:
    """Unsubscribe (unknown subscriptions are ignored: the client's view is the same)."""
    ctx.topics.unsubscribe(session, validate_topic_name(message["payload"]["topic"]))


async def handle_topic_pub(
    ctx: ServerContext, session: Session, message: p.TopicPubMessage
) -> None:
    """Publish to every other subscriber (PUT on ``topic:<name>``)."""
    topic = validate_topic_name(message["payload"]["topic"])
    require(ctx, session, f"topic:{topic}", "PUT")
    publisher = session.client_id or session.require_principal().user_id
    ctx.topics.publish(session, topic, message["payload"]["data"], ctx.clock.now_ms(), publisher)


# ---------------------------------------------------------------- locks


async def handle_lock_request(
    ctx: ServerContext, session: Session, message: p.LockRequestMessage
) -> None:
    """Acquire: LOCK_GRANTED now or when this client's turn comes (PUT on ``lock:<name>``)."""
    payload = message["payload"]
    request_id, name = payload["requestId"], payload["name"]
    try:
        validate_lock_name(name)
        require(ctx, session, f"lock:{name}", "PUT")
        await ctx.locks.request(session, name, request_id, payload.get("ttl"))
    except TopGunError as exc:
        _failed(session, request_id, exc, name=name)


async def handle_lock_release(
    ctx: ServerContext, session: Session, message: p.LockReleaseMessage
) -> None:
    """Release a held lock (owner and token must match) or cancel this client's wait."""
    payload = message["payload"]
    name = payload["name"]
    ok, _error = await ctx.locks.release(session, name, payload["fencingToken"])
    session.outbox.send(
        {
            "type": "LOCK_RELEASED",
            "payload": {"requestId": payload.get("requestId", ""), "name": name, "success": ok},
        }
    )


# ---------------------------------------------------------------- counters


async def handle_counter_request(
    ctx: ServerContext, session: Session, message: p.CounterRequestMessage
) -> None:
    """Answer the counter's state and subscribe to its updates (READ on ``counter:<name>``)."""
    name = message["payload"]["name"]
    require(ctx, session, f"counter:{name}", "READ")
    state = await ctx.counters.request(session, name)
    session.outbox.send({"type": "COUNTER_RESPONSE", "payload": {"name": name, "state": state}})


async def handle_counter_sync(
    ctx: ServerContext, session: Session, message: p.CounterSyncMessage
) -> None:
    """Merge the client's state (PUT on ``counter:<name>``); subscribers get COUNTER_UPDATE."""
    name = message["payload"]["name"]
    require(ctx, session, f"counter:{name}", "PUT")
    await ctx.counters.sync(name, message["payload"]["state"])


# ---------------------------------------------------------------- journal


async def handle_journal_subscribe(
    ctx: ServerContext, session: Session, message: p.JournalSubscribeMessage
) -> None:
    """Replay from ``fromSequence`` (if given), then stream live events."""
    request_id = message["requestId"]
    map_name = message.get("mapName")
    try:
        if map_name is not None:
            require(ctx, session, map_name, "READ")
        ctx.journal.subscribe(
            session,
            request_id,
            viewer(ctx.policies, session.require_principal()),
            from_sequence=message.get("fromSequence"),
            map_name=map_name,
            types=message.get("types"),
        )
    except TopGunError as exc:
        _failed(session, request_id, exc)


async def handle_journal_unsubscribe(
    ctx: ServerContext, session: Session, message: p.JournalUnsubscribeMessage
) -> None:
    """Stop a subscription of this connection (404 if there is none)."""
    subscription_id = message["subscriptionId"]
    try:
        ctx.journal.unsubscribe(session, subscription_id)
    except TopGunError as exc:
        _failed(session, subscription_id, exc)


async def handle_journal_read(
    ctx: ServerContext, session: Session, message: p.JournalReadMessage
) -> None:
    """One page of events from ``fromSequence`` (at most ``limit``, default 100)."""
    request_id = message["requestId"]
    map_name = message.get("mapName")
    try:
        if map_name is not None:
            require(ctx, session, map_name, "READ")
        events, has_more = ctx.journal.read(
            message["fromSequence"],
            message.get("limit", 100),
            map_name,
            viewer(ctx.policies, session.require_principal()),
        )
    except TopGunError as exc:
        _failed(session, request_id, exc)
        return
    session.outbox.send(
        {
            "type": "JOURNAL_READ_RESPONSE",
            "requestId": request_id,
            "events": events,
            "hasMore": has_more,
        }
    )


COORDINATION_ROUTES: tuple[Route, ...] = (
    route(p.LockRequestMessage, handle_lock_request),
    route(p.LockReleaseMessage, handle_lock_release),
    route(p.TopicSubMessage, handle_topic_sub),
    route(p.TopicUnsubMessage, handle_topic_unsub),
    route(p.TopicPubMessage, handle_topic_pub),
    route(p.CounterRequestMessage, handle_counter_request),
    route(p.CounterSyncMessage, handle_counter_sync),
    route(p.JournalSubscribeMessage, handle_journal_subscribe),
    route(p.JournalUnsubscribeMessage, handle_journal_unsubscribe),
    route(p.JournalReadMessage, handle_journal_read),
)
