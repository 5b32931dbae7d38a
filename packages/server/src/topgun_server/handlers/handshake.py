"""AUTH and PING: the two messages allowed before authentication.

AUTH verifies the token (see :mod:`topgun_server.auth.tokens`) and negotiates the
protocol version: a client may name the version it speaks; one this server does
not speak is refused with AUTH_FAIL naming the supported versions. Success moves
the session to AUTHENTICATED, raises its frame limit from the small pre-auth one
to ``frame_bytes_max`` and answers AUTH_ACK. Failure answers AUTH_FAIL and closes
4001. A later AUTH on an authenticated connection re-verifies (token refresh).

PING is answered with PONG echoing the client's timestamp plus the server's wall
clock — a plain number that never touches an HLC (SEMANTICS.md §2).
"""

from __future__ import annotations

from typing import Final

from topgun_core.errors import AuthError
from topgun_core.protocol import PROTOCOL_VERSION, AuthMessage, PingMessage
from topgun_server.context import ServerContext
from topgun_server.ws.session import Session, SessionState

__all__ = ["FEATURES", "SUPPORTED_VERSIONS", "UNAUTHORIZED", "handle_auth", "handle_ping"]

SUPPORTED_VERSIONS: Final = (PROTOCOL_VERSION,)
"""Protocol versions this server speaks."""

FEATURES: Final = ("lww", "ormap", "merkle-sync", "ormap-sync", "write-concern", "batch", "gc")
"""What AUTH_ACK advertises."""

UNAUTHORIZED: Final = 4001


async def handle_auth(ctx: ServerContext, session: Session, message: AuthMessage) -> None:
    """Verify the token and version; AUTH_ACK or AUTH_FAIL + close 4001."""
    version = message.get("protocolVersion", PROTOCOL_VERSION)
    if version not in SUPPORTED_VERSIONS:
        supported = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
        _fail(session, f"unsupported protocol version {version}; this server speaks {supported}")
        return
    try:
        principal = ctx.verifier.verify(message["token"])
    except AuthError as exc:
        _fail(session, exc.message)
        return
    session.principal = principal
    session.client_id = message.get("clientId")
    session.protocol_version = version
    if session.state is SessionState.AWAITING_AUTH:
        session.move(SessionState.AUTHENTICATED)
        if session.transport is not None:
            session.transport.set_frame_limit(ctx.settings.frame_bytes_max)
        if ctx.interceptors:
            session.spawn(ctx.interceptors.connected(session))
    session.outbox.send(
        {
            "type": "AUTH_ACK",
            "protocolVersion": version,
            "nodeId": ctx.node_id,
            "serverTime": ctx.clock.now_ms(),
            "features": list(FEATURES),
        }
    )


def _fail(session: Session, reason: str) -> None:
    session.outbox.send({"type": "AUTH_FAIL", "error": reason})
    session.close(UNAUTHORIZED, "authentication failed")


async def handle_ping(ctx: ServerContext, session: Session, message: PingMessage) -> None:
    """PONG with the echoed timestamp and the server's wall-clock millis."""
    session.outbox.send(
        {"type": "PONG", "timestamp": message["timestamp"], "serverTime": ctx.clock.now_ms()}
    )
