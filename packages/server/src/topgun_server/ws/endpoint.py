"""The WebSocket endpoint at ``/ws``: one connection's life, as three tasks.

On connect the endpoint refuses politely when it must — shutting down (1001),
or at ``connections_max`` (1013 with ``{"reason", "retryAfter"}`` as JSON in the
close reason; clients add jitter) — and otherwise creates a
:class:`~topgun_server.ws.session.Session` and runs, in one task group:

* the **writer** (:meth:`~topgun_server.ws.writer.Outbox.run`): the only code that
  sends on the socket; when it returns the connection is over;
* the **reader** (:mod:`topgun_server.ws.reader`): decode, validate, gate, dispatch;
* the **watchdog**: closes 4001 if AUTH does not succeed within
  ``auth_timeout_ms`` and 4002 when no frame arrived for ``idle_timeout_ms``.

It sends AUTH_REQUIRED first. When the writer is done, the reader, the watchdog
and any durable-ack waiters are cancelled and the session is forgotten.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from starlette.websockets import WebSocket, WebSocketDisconnect

from topgun_server.context import ServerContext
from topgun_server.services.coordination import release_session
from topgun_server.ws.ratelimit import TokenBucket
from topgun_server.ws.reader import read_loop
from topgun_server.ws.session import Session, SessionState
from topgun_server.ws.transport import EXTENSION, TransportControl
from topgun_server.ws.writer import Outbox

__all__ = ["GOING_AWAY", "HEARTBEAT_TIMEOUT", "OVERLOADED", "websocket_endpoint"]

_log = logging.getLogger(__name__)

GOING_AWAY = 1001
OVERLOADED = 1013
HEARTBEAT_TIMEOUT = 4002
_CLOSE_TIMEOUT_S = 2.0


class _AsgiPort:
    """The outbox's view of a Starlette WebSocket (plus the transport hooks if present)."""

    def __init__(self, websocket: WebSocket, transport: TransportControl | None) -> None:
        self._ws = websocket
        self._transport = transport

    async def send(self, frame: bytes) -> None:
        try:
            await self._ws.send_bytes(frame)
        except WebSocketDisconnect:
            raise ConnectionResetError("peer gone") from None

    async def close(self, code: int, reason: str) -> None:
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                await self._ws.close(code, reason)
        except TimeoutError:
            self.abort(code, reason)
        except WebSocketDisconnect:
            raise ConnectionResetError("peer gone") from None

    def abort(self, code: int, reason: str) -> None:
        if self._transport is not None:
            self._transport.abort(code, reason)


def _new_session(ctx: ServerContext, transport: TransportControl | None) -> Session:
    s = ctx.settings
    return Session(
        outbox=Outbox(
            bytes_max=s.outbound_bytes_max,
            batch_bytes_max=s.outbound_batch_bytes_max,
            batch_messages_max=ctx.limits.batch_messages_max,
        ),
        messages=TokenBucket(s.client_msgs_per_s, s.client_msgs_burst),
        invalid=TokenBucket(s.invalid_msgs_per_s, s.invalid_msgs_burst),
        transport=transport,
        ack_slots=asyncio.Semaphore(s.pending_acks_max),
    )


async def websocket_endpoint(websocket: WebSocket) -> None:
    """Serve one WebSocket connection from accept to close."""
    ctx: ServerContext = websocket.app.state.ctx
    transport: TransportControl | None = websocket.scope.get("extensions", {}).get(EXTENSION)
    await websocket.accept()
    if ctx.lifecycle.shutting_down:
        await websocket.close(GOING_AWAY, "server shutting down")
        return
    if len(ctx.sessions) >= ctx.settings.connections_max:
        ctx.metrics.disconnects.labels(str(OVERLOADED)).inc()
        retry = {"reason": "connection limit", "retryAfter": ctx.settings.overload_retry_after_ms}
        await websocket.close(OVERLOADED, json.dumps(retry, separators=(",", ":")))
        return
    session = _new_session(ctx, transport)
    ctx.sessions.add(session)
    ctx.metrics.connected_clients.inc()
    try:
        await _serve(ctx, session, websocket, transport)
    finally:
        ctx.sessions.discard(session)
        ctx.broadcast.release(session)
        release_session(ctx, session)
        ctx.live.release(session)
        ctx.metrics.connected_clients.dec()
        if session.outbox.close_code is not None:
            ctx.metrics.disconnects.labels(str(session.outbox.close_code)).inc()
        if session.state is not SessionState.CLOSED:
            session.move(SessionState.CLOSED)
        session.finished.set()


async def _serve(
    ctx: ServerContext, session: Session, websocket: WebSocket, transport: TransportControl | None
) -> None:
    async with asyncio.TaskGroup() as tg:
        session.task_group = tg
        reader = tg.create_task(read_loop(ctx, session, websocket))
        watchdog = tg.create_task(_watch(ctx, session))
        session.outbox.send({"type": "AUTH_REQUIRED"})
        await session.outbox.run(_AsgiPort(websocket, transport))
        reader.cancel()
        watchdog.cancel()
        for task in list(session.tasks):
            task.cancel()


async def _watch(ctx: ServerContext, session: Session) -> None:
    """Close on authentication timeout (4001) or silence (4002)."""
    auth_deadline = session.connected_s + ctx.settings.auth_timeout_ms / 1000
    idle_s = ctx.settings.idle_timeout_ms / 1000
    while True:
        now = time.monotonic()
        if session.state is SessionState.AWAITING_AUTH and now >= auth_deadline:
            session.close(4001, "authentication timeout")
            return
        idle_deadline = session.last_frame_s + idle_s
        if now >= idle_deadline:
            session.close(
                HEARTBEAT_TIMEOUT,
                f"heartbeat timeout: no frame for {ctx.settings.idle_timeout_ms} ms",
            )
            return
        wake = idle_deadline
        if session.state is SessionState.AWAITING_AUTH:
            wake = min(wake, auth_deadline)
        await asyncio.sleep(wake - now)
