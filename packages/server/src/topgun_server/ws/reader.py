"""The reader: every inbound frame is decoded, validated and gated before dispatch.

For each frame, in order:

1. **Decode and validate** against the client message union, with the limits of
   the connection's state (pre-auth frames are capped at
   ``preauth_frame_bytes_max``). An undecodable frame closes 1002; a frame over the
   size limit closes 1009; a decodable but invalid message is answered
   ``ERROR {400 (413 over a limit), message, details {field, problem}}`` and the
   connection stays open — unless invalid messages keep coming: past a burst of
   ``invalid_msgs_burst`` (refilled at ``invalid_msgs_per_s``) it closes 4003.
   Before AUTH an invalid message gets the same ERROR and then a 4001 close (only
   a valid AUTH or PING is acceptable there).
2. **Gate**: before AUTH only AUTH and PING are allowed (anything else closes
   4001); every message spends a token of the per-client rate limit — over it,
   writes are answered ``OP_REJECTED 429`` per op, anything else ``ERROR 429``.
3. **Back-pressure**: wait while the connection's own outbox is over half full.
4. **Dispatch** to the one handler for the type. A ``TopGunError`` it raises is
   answered ``ERROR`` with its code (and ``details.mapName`` when the request names
   a map, so a client syncing many maps knows which one failed); anything else is
   logged in full and answered with a generic ``ERROR 500`` (no internals leak).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from starlette.websockets import WebSocket

from topgun_core.errors import LimitExceeded, ProtocolError, TopGunError, ValidationError
from topgun_core.protocol import ClientMessage, decode_client, decode_client_json
from topgun_server.context import ServerContext
from topgun_server.dispatch import dispatch
from topgun_server.handlers.replies import send_error
from topgun_server.handlers.writes import reject_all
from topgun_server.ws.session import Session

__all__ = ["FRAME_TOO_BIG", "TOO_MANY_INVALID", "UNDECODABLE", "read_loop"]

_log = logging.getLogger(__name__)

UNDECODABLE = 1002
FRAME_TOO_BIG = 1009
TOO_MANY_INVALID = 4003
UNAUTHORIZED = 4001
_PREAUTH_TYPES = frozenset({"AUTH", "PING"})


async def read_loop(ctx: ServerContext, session: Session, websocket: WebSocket) -> None:
    """Read frames until the peer disconnects."""
    while True:
        event = await websocket.receive()
        if event["type"] == "websocket.disconnect":
            session.outbox.peer_gone()
            return
        session.last_frame_s = time.monotonic()
        if session.outbox.closing:
            continue  # closing: the rest of the input is not looked at
        message = _decode(ctx, session, event.get("bytes"), event.get("text"))
        if message is not None:
            await _handle(ctx, session, message)


def _decode(
    ctx: ServerContext, session: Session, data: bytes | None, text: str | None
) -> ClientMessage | None:
    limits = ctx.limits if session.authenticated else ctx.preauth_limits
    size = len(data) if data is not None else len((text or "").encode("utf-8", "surrogatepass"))
    if size > limits.frame_bytes_max:
        session.close(FRAME_TOO_BIG, f"frame of {size} bytes over frame_bytes_max")
        return None
    try:
        if data is not None:
            return decode_client(data, limits=limits)
        return decode_client_json(text or "", limits=limits)
    except LimitExceeded as exc:
        _invalid(ctx, session, exc.code, exc.message, {"limit": exc.limit, "maximum": exc.maximum})
    except ValidationError as exc:
        _invalid(ctx, session, 400, exc.message, {"field": exc.field, "problem": exc.problem})
    except ProtocolError as exc:
        ctx.metrics.invalid_messages.inc()
        session.close(UNDECODABLE, exc.message[:100])
    return None


def _invalid(
    ctx: ServerContext, session: Session, code: int, message: str, details: dict[str, object]
) -> None:
    ctx.metrics.invalid_messages.inc()
    if not session.authenticated:
        # Before AUTH only a valid AUTH or PING is acceptable: say why, then close.
        send_error(session, code, message, details)  # type: ignore[arg-type]  # str/int values
        session.close(UNAUTHORIZED, "invalid message before AUTH")
        return
    if not session.invalid.take():
        session.close(TOO_MANY_INVALID, "too many invalid messages")
        return
    send_error(session, code, message, details)  # type: ignore[arg-type]  # str/int values


async def _handle(ctx: ServerContext, session: Session, message: ClientMessage) -> None:
    kind = message["type"]
    if not session.authenticated and kind not in _PREAUTH_TYPES:
        session.close(UNAUTHORIZED, f"{kind} before AUTH")
        return
    if not session.messages.take():
        ctx.metrics.rate_limited.inc()
        reason = "rate limited: too many messages, slow down"
        if message["type"] == "CLIENT_OP":
            reject_all(ctx, session, [message["payload"]], 429, reason)
        elif message["type"] == "OP_BATCH":
            reject_all(ctx, session, message["payload"]["ops"], 429, reason)
        else:
            send_error(session, 429, reason)
        return
    ctx.metrics.messages.labels(kind).inc()
    await session.outbox.wait_writable()
    try:
        await dispatch(ctx, session, message)
    except TopGunError as exc:
        map_name = _map_of(message)
        send_error(
            session, exc.code, exc.message, None if map_name is None else {"mapName": map_name}
        )
    except Exception:  # noqa: BLE001 - the boundary: log it all, tell the client nothing
        _log.exception("handler for %s failed", kind)
        send_error(session, 500, "internal server error")


def _map_of(message: ClientMessage) -> str | None:
    """The map a request is about, so an ERROR can name it (``details.mapName``)."""
    fields: Mapping[str, object] = message
    name = fields.get("mapName")
    payload = fields.get("payload")
    if name is None and isinstance(payload, dict):
        name = payload.get("mapName")
    return name if isinstance(name, str) else None
