"""The dispatch table: every client message type → the one handler for it.

:data:`ROUTES` merges per-feature tables of ``(message class, handler)`` pairs, each
built with :func:`~topgun_server.handlers.routing.route`, which lets mypy check that
each handler accepts exactly that message class; a type routed twice fails at import. A test
asserts the table covers ``union_members(ClientMessage)`` exactly — a message type
added to the protocol without a handler fails the build, and there is no
catch-all default that would "log and ignore".

Messages of features that later versions add (queries, search, topics, locks,
counters, entry processors, resolvers, journal, partition map) are listed
explicitly with :func:`~topgun_server.handlers.unsupported.not_supported`, which
answers ``ERROR 501``; each feature replaces its own entries in its own module
(``handlers/queries.py``, ``handlers/coordination.py``, ``handlers/compute.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from topgun_core import protocol as p
from topgun_core.protocol import ClientMessage
from topgun_server.context import ServerContext
from topgun_server.handlers.compute import COMPUTE_ROUTES
from topgun_server.handlers.coordination import COORDINATION_ROUTES
from topgun_server.handlers.handshake import handle_auth, handle_ping
from topgun_server.handlers.queries import QUERY_ROUTES
from topgun_server.handlers.routing import Handler, Route, route
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

CORE_ROUTES: tuple[Route, ...] = (
    route(p.AuthMessage, handle_auth),
    route(p.PingMessage, handle_ping),
    route(p.ClientOpMessage, handle_client_op),
    route(p.OpBatchMessage, handle_op_batch),
    route(p.SyncInitMessage, handle_sync_init),
    route(p.MerkleReqBucketMessage, handle_merkle_req_bucket),
    route(p.ORMapSyncInitMessage, handle_ormap_sync_init),
    route(p.ORMapMerkleReqBucketMessage, handle_ormap_merkle_req_bucket),
    route(p.ORMapDiffRequestMessage, handle_ormap_diff_request),
    route(p.ORMapPushDiffMessage, handle_ormap_push_diff),
    # The cluster's partition map arrives with the cluster (ERROR 501 until then).
    route(p.PartitionMapRequestMessage, not_supported),
)


def _merge(*tables: tuple[Route, ...]) -> dict[str, tuple[type, Handler]]:
    merged: dict[str, tuple[type, Handler]] = {}
    for table in tables:
        for name, entry in table:
            if name in merged:
                raise AssertionError(f"{name} is routed twice")
            merged[name] = entry
    return merged


ROUTES: Final[Mapping[str, tuple[type, Handler]]] = _merge(
    CORE_ROUTES, QUERY_ROUTES, COORDINATION_ROUTES, COMPUTE_ROUTES
)
"""Message type → (message class, handler), for every client message type."""


async def dispatch(ctx: ServerContext, session: Session, message: ClientMessage) -> None:
    """Run the handler for ``message`` (validated by the codec, so its type is known)."""
    _, handler = ROUTES[message["type"]]
    await handler(ctx, session, message)
