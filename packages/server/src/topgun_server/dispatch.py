"""The dispatch table: every client message type → the one handler for it.

:data:`ROUTES` is built from ``(message class, handler)`` pairs by :func:`_route`,
which lets mypy check that each handler accepts exactly that message class. A test
asserts the table covers ``union_members(ClientMessage)`` exactly — a message type
added to the protocol without a handler fails the build, and there is no
catch-all default that would "log and ignore".

Messages of features that later versions add (queries, search, topics, locks,
counters, entry processors, resolvers, journal, partition map) are listed
explicitly with :func:`~topgun_server.handlers.unsupported.not_supported`, which
answers ``ERROR 501``; each feature replaces its own entries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Final, TypeVar, cast

from topgun_core import protocol as p
from topgun_core.protocol import ClientMessage, message_type_name
from topgun_server.context import ServerContext
from topgun_server.handlers.handshake import handle_auth, handle_ping
from topgun_server.handlers.sync_lww import handle_merkle_req_bucket, handle_sync_init
from topgun_server.handlers.sync_or import (
    handle_ormap_diff_request,
    handle_ormap_merkle_req_bucket,
    handle_ormap_push_diff,
    handle_ormap_sync_init,
)
from topgun_server.handlers.unsupported import not_supported
from topgun_server.handlers.writes import handle_client_op, handle_op_batch
from topgun_server.ws.session import Session

__all__ = ["ROUTES", "Handler", "dispatch"]

M = TypeVar("M")
Handler = Callable[[ServerContext, Session, ClientMessage], Awaitable[None]]
"""A handler as the table stores it (each is typed with its own message class)."""


def _route(
    message_class: type[M], handler: Callable[[ServerContext, Session, M], Awaitable[None]]
) -> tuple[str, tuple[type, Handler]]:
    # cast: the table is keyed by the message's type literal, so dispatch only ever
    # hands a handler the class it was registered for (mypy checked that pairing above).
    return message_type_name(message_class), (message_class, cast("Handler", handler))


ROUTES: Final[Mapping[str, tuple[type, Handler]]] = dict(
    [
        _route(p.AuthMessage, handle_auth),
        _route(p.PingMessage, handle_ping),
        _route(p.ClientOpMessage, handle_client_op),
        _route(p.OpBatchMessage, handle_op_batch),
        _route(p.SyncInitMessage, handle_sync_init),
        _route(p.MerkleReqBucketMessage, handle_merkle_req_bucket),
        _route(p.ORMapSyncInitMessage, handle_ormap_sync_init),
        _route(p.ORMapMerkleReqBucketMessage, handle_ormap_merkle_req_bucket),
        _route(p.ORMapDiffRequestMessage, handle_ormap_diff_request),
        _route(p.ORMapPushDiffMessage, handle_ormap_push_diff),
        # Later issues replace these entries one by one (ERROR 501 until then).
        _route(p.QuerySubMessage, not_supported),
        _route(p.QueryUnsubMessage, not_supported),
        _route(p.HybridQuerySubMessage, not_supported),
        _route(p.HybridQueryUnsubMessage, not_supported),
        _route(p.SearchMessage, not_supported),
        _route(p.SearchSubMessage, not_supported),
        _route(p.SearchUnsubMessage, not_supported),
        _route(p.LockRequestMessage, not_supported),
        _route(p.LockReleaseMessage, not_supported),
        _route(p.TopicSubMessage, not_supported),
        _route(p.TopicUnsubMessage, not_supported),
        _route(p.TopicPubMessage, not_supported),
        _route(p.CounterRequestMessage, not_supported),
        _route(p.CounterSyncMessage, not_supported),
        _route(p.EntryProcessMessage, not_supported),
        _route(p.EntryProcessBatchMessage, not_supported),
        _route(p.RegisterResolverMessage, not_supported),
        _route(p.UnregisterResolverMessage, not_supported),
        _route(p.ListResolversMessage, not_supported),
        _route(p.JournalSubscribeMessage, not_supported),
        _route(p.JournalUnsubscribeMessage, not_supported),
        _route(p.JournalReadMessage, not_supported),
        _route(p.PartitionMapRequestMessage, not_supported),
    ]
)
"""Message type → (message class, handler), for every client message type."""


async def dispatch(ctx: ServerContext, session: Session, message: ClientMessage) -> None:
    """Run the handler for ``message`` (validated by the codec, so its type is known)."""
    _, handler = ROUTES[message["type"]]
    await handler(ctx, session, message)
