"""``ProtocolClient``: a raw wire-protocol client for tests and load generators.

It speaks msgpack frames over the ``websockets`` library — no SDK logic — so a
test sees exactly what any client sees. Received frames are validated with the
core codec and ``BATCH`` envelopes are unpacked into the inbox. ``expect`` waits
(with a timeout, never a sleep) for a message of given types; ``closed`` waits
for the server's close and returns its code and reason.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping

import msgpack  # type: ignore[import-untyped]  # ships no type information
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from topgun_core.protocol import ServerMessage, decode_server, unpack_batch

__all__ = ["DEFAULT_TIMEOUT_S", "ProtocolClient"]

DEFAULT_TIMEOUT_S = 10.0
_MAX_SIZE = 256 * 1024 * 1024


class ProtocolClient:
    """One raw WebSocket connection speaking the TopGun wire protocol."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.inbox: deque[ServerMessage] = deque()
        self.batches = 0
        """How many BATCH envelopes arrived (coalescing is observable)."""

    @classmethod
    async def connect(cls, url: str, *, max_size: int = _MAX_SIZE) -> ProtocolClient:
        """Open a connection (no compression, like the server's default)."""
        ws = await connect(url, compression=None, open_timeout=DEFAULT_TIMEOUT_S, max_size=max_size)
        return cls(ws)

    async def send(self, message: Mapping[str, object]) -> None:
        """Send one message as a msgpack frame (any dict: tests send malformed ones too)."""
        await self.ws.send(msgpack.packb(dict(message), use_bin_type=True))

    async def send_raw(self, frame: bytes | str) -> None:
        """Send a frame as given (bytes: binary frame, str: text frame)."""
        await self.ws.send(frame)

    async def _fill(self) -> None:
        frame = await self.ws.recv()
        if isinstance(frame, str):
            raise AssertionError("the server sends binary frames only")
        message = decode_server(frame)
        if message["type"] == "BATCH":
            self.batches += 1
            for inner in unpack_batch(message["data"], count=message["count"]):
                self.inbox.append(decode_server(inner))
        else:
            self.inbox.append(message)

    async def recv(self, timeout: float = DEFAULT_TIMEOUT_S) -> ServerMessage:
        """The next message."""
        async with asyncio.timeout(timeout):
            while not self.inbox:
                await self._fill()
        return self.inbox.popleft()

    async def expect(self, *types: str, timeout: float = DEFAULT_TIMEOUT_S) -> ServerMessage:
        """The next message of one of ``types``; others before it are dropped."""
        async with asyncio.timeout(timeout):
            while True:
                message = await self.recv(timeout)
                if message["type"] in types:
                    return message

    async def closed(self, timeout: float = DEFAULT_TIMEOUT_S) -> tuple[int | None, str]:
        """Wait for the server to close the connection; ``(code, reason)``."""
        async with asyncio.timeout(timeout):
            try:
                while True:
                    await self._fill()
            except ConnectionClosed as exc:
                received = exc.rcvd
                return (received.code, received.reason) if received is not None else (None, "")

    async def auth(self, token: str, **extra: object) -> ServerMessage:
        """Wait for AUTH_REQUIRED, send AUTH; return AUTH_ACK or AUTH_FAIL."""
        await self.expect("AUTH_REQUIRED")
        await self.send({"type": "AUTH", "token": token, **extra})
        return await self.expect("AUTH_ACK", "AUTH_FAIL")

    async def close(self) -> None:
        """Close from the client side."""
        await self.ws.close()
