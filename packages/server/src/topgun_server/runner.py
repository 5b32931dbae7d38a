"""Serving the app with uvicorn: configuration, socket, and shutdown order.

:func:`uvicorn_config` pins the WebSocket implementation to
:class:`~topgun_server.ws.transport.TopGunWebSocketProtocol` (uvicorn's
``websockets-sansio`` protocol plus our frame-limit and abort hooks), turns off
uvicorn's own keep-alive pings (liveness is the protocol's PING/PONG with the 4002
idle timeout) and leaves logging alone.

:class:`TopGunServer` changes uvicorn's shutdown order. uvicorn would close every
WebSocket with 1012 first and tell the app afterwards; we stop listening, then run
the app's graceful shutdown (SHUTDOWN_PENDING, drain, close 1001), and only then
let uvicorn finish.

:func:`bind` binds the listening socket itself, so port 0 works and the real
port is known (and logged) before serving.
"""

from __future__ import annotations

import logging
import math
import socket

import uvicorn
from starlette.applications import Starlette

from topgun_server.app import context_of
from topgun_server.lifecycle import shutdown_gracefully
from topgun_server.settings import ServerSettings
from topgun_server.ws.transport import TopGunWebSocketProtocol

__all__ = ["TopGunServer", "bind", "uvicorn_config"]

_log = logging.getLogger(__name__)

_FRAME_OVERHEAD_BYTES = 64


def uvicorn_config(app: Starlette, settings: ServerSettings) -> uvicorn.Config:
    """A uvicorn configuration for ``app`` (sockets are passed to ``serve``)."""
    protocol = type(
        "ConfiguredTopGunWebSocketProtocol",
        (TopGunWebSocketProtocol,),
        {"preauth_frame_bytes_max": settings.preauth_frame_bytes_max + _FRAME_OVERHEAD_BYTES},
    )
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        ws=protocol,
        ws_max_size=settings.frame_bytes_max + _FRAME_OVERHEAD_BYTES,
        ws_ping_interval=None,
        ws_ping_timeout=None,
        ws_per_message_deflate=settings.ws_compression,
        lifespan="on",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=math.ceil(settings.shutdown_drain_timeout_s),
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket bound to ``host:port`` (0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class TopGunServer(uvicorn.Server):
    """uvicorn's server with the app's graceful shutdown before uvicorn's own."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Stop listening, shut the app down gracefully, then let uvicorn finish."""
        for server in self.servers:
            server.close()
        app = self.config.app
        ctx = context_of(app) if isinstance(app, Starlette) else None
        if ctx is not None:
            await shutdown_gracefully(ctx)
        await super().shutdown(sockets)
