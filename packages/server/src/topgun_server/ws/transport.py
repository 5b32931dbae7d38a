"""Transport hooks uvicorn's WebSocket protocol does not offer: frame limit and abort.

:class:`TopGunWebSocketProtocol` is uvicorn's ``websockets-sansio`` protocol with
two additions, handed to the app in the ASGI scope under
``extensions["topgun.transport"]`` as a :class:`TransportControl`:

* ``set_frame_limit(n)``: the largest message the connection accepts, enforced by
  the frame parser *before* the payload is buffered. A connection starts at the
  small pre-auth limit, so an unauthenticated peer cannot make the server buffer
  a 64 MiB frame; the limit is raised once AUTH succeeds. A bigger frame closes the
  connection with 1009 (message too big).
* ``abort(code, reason)``: queue a close frame without waiting for the peer to
  drain what is already buffered, close the transport (flushing if the peer still
  reads) and cut it after a grace period. The writer uses it for a slow consumer,
  whose ``send`` would otherwise wait forever on a full socket buffer.

Under another ASGI server the extension is absent; the endpoint then checks frame
sizes after receipt and closes through ASGI.
"""

from __future__ import annotations

from typing import Protocol

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

__all__ = ["EXTENSION", "TopGunWebSocketProtocol", "TransportControl"]

EXTENSION = "topgun.transport"
ABORT_GRACE_S = 5.0


class TransportControl(Protocol):
    """What the endpoint may ask of the transport."""

    def set_frame_limit(self, frame_bytes_max: int) -> None:
        """Refuse (close 1009) any later message larger than this many bytes."""
        ...

    def abort(self, code: int, reason: str) -> None:
        """Close now without waiting for buffered output to drain."""
        ...


class TopGunWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-IO WebSocket protocol with a per-connection frame limit and abort."""

    preauth_frame_bytes_max: int | None = None
    """Class-level default set by the runner; None keeps uvicorn's ``ws_max_size``."""

    def handle_connect(self, event: Request) -> None:
        """Accept as uvicorn does, then start at the pre-auth limit and expose the hooks."""
        super().handle_connect(event)
        if getattr(self, "scope", None) is None:
            return  # the handshake was refused
        if self.preauth_frame_bytes_max is not None:
            self.set_frame_limit(self.preauth_frame_bytes_max)
        extensions = self.scope.get("extensions")
        if extensions is not None:
            extensions[EXTENSION] = self  # type: ignore[assignment]  # ASGI types it as dict

    def set_frame_limit(self, frame_bytes_max: int) -> None:
        """The parser reads ``max_message_size`` for every frame, so this applies at once."""
        self.conn.max_message_size = frame_bytes_max

    def abort(self, code: int, reason: str) -> None:
        """Queue a close frame, close the transport, cut it after a grace period."""
        if self.transport.is_closing():
            return
        if not self.close_sent:
            self.conn.send_close(code, reason)
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.close_sent = True
        self.transport.close()
        self.loop.call_later(ABORT_GRACE_S, self.transport.abort)
