"""The per-connection coalescing writer (:class:`Outbox`).

Everything the server sends on a connection goes through its outbox: handlers and
broadcasts call :meth:`Outbox.send` (or :meth:`Outbox.send_frame` with an
already-encoded message, so a broadcast is encoded once for many recipients),
which only appends to a queue — it never blocks the sender. One writer task
(:meth:`Outbox.run`) drains the queue: when several messages are waiting it packs
them into one ``BATCH`` envelope (``pack_batch``), bounded by
``batch_bytes_max`` and ``batch_messages_max``; a lone message goes out as it is.
While a send is in flight, new messages accumulate, so coalescing adapts to the
reader's speed by itself.

The queue is bounded by ``bytes_max``. A reader that cannot keep up — its queue
would grow past that — is disconnected with close code 4004 (:data:`SLOW_CONSUMER`)
and reason "slow consumer: …": its pending output is dropped and the transport is
aborted rather than allowed to grow memory without bound. On reconnect a client
re-syncs through Merkle trees, so nothing it missed is lost.

:meth:`Outbox.close` asks for a close after what is queued has been sent (AUTH_FAIL
then 4001, SHUTDOWN_PENDING then 1001).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Protocol

from topgun_core.protocol import ServerMessage, encode, pack_batch

__all__ = ["SLOW_CONSUMER", "Outbox", "WirePort"]

_log = logging.getLogger(__name__)

SLOW_CONSUMER = 4004
"""Close code for a reader whose outbound queue passed ``outbound_bytes_max``."""


class WirePort(Protocol):
    """The socket side of an outbox."""

    async def send(self, frame: bytes) -> None:
        """Send one binary frame (may wait for the peer to read)."""
        ...

    async def close(self, code: int, reason: str) -> None:
        """Send a close frame."""
        ...

    def abort(self, code: int, reason: str) -> None:
        """Close at once, dropping buffered output if the peer does not read it."""
        ...


class Outbox:
    """A bounded, coalescing queue of outbound frames for one connection."""

    def __init__(self, *, bytes_max: int, batch_bytes_max: int, batch_messages_max: int) -> None:
        self.bytes_max = bytes_max
        self._batch_bytes_max = batch_bytes_max
        self._batch_messages_max = batch_messages_max
        self._frames: deque[bytes] = deque()
        self._bytes = 0
        self._wake = asyncio.Event()
        self._close: tuple[int, str] | None = None
        self._aborted = False
        self._port: WirePort | None = None
        self._drained = asyncio.Event()
        self._drained.set()
        self.close_code: int | None = None
        """The code this side closed with, once it asked to close."""

    @property
    def closing(self) -> bool:
        """Whether a close was requested (nothing more is queued after it)."""
        return self._close is not None

    @property
    def queued_bytes(self) -> int:
        """Bytes waiting to be sent."""
        return self._bytes

    async def wait_writable(self) -> None:
        """Wait until at most half of ``bytes_max`` is queued.

        The reader calls this before handling a request, so a client that pipelines
        requests faster than it reads the answers is slowed down (back-pressure)
        instead of filling its own queue into a 4004.
        """
        while self._bytes > self.bytes_max // 2 and not self._aborted:
            self._drained.clear()
            await self._drained.wait()

    def send(self, message: ServerMessage) -> None:
        """Queue one message."""
        if self._close is None:
            self.send_frame(encode(message))

    def send_frame(self, frame: bytes) -> None:
        """Queue one encoded message; over ``bytes_max`` the reader is cut off (4004)."""
        if self._close is not None:
            return
        if self._bytes + len(frame) > self.bytes_max:
            self.abort(
                SLOW_CONSUMER,
                f"slow consumer: more than {self.bytes_max} bytes queued (outbound_bytes_max)",
            )
            return
        self._frames.append(frame)
        self._bytes += len(frame)
        self._wake.set()

    def close(self, code: int, reason: str) -> None:
        """Close after everything queued so far has been sent."""
        if self._close is None:
            self._close = (code, reason)
            self.close_code = code
            self._wake.set()

    def abort(self, code: int, reason: str) -> None:
        """Drop what is queued and close now."""
        if self._aborted:
            return
        self._close = self._close or (code, reason)
        self.close_code = self._close[0]
        self._aborted = True
        self._frames.clear()
        self._bytes = 0
        _log.info("closing connection %d: %s", code, reason)
        if self._port is not None:
            self._port.abort(code, reason)
        self._wake.set()
        self._drained.set()

    def peer_gone(self) -> None:
        """The peer disconnected: stop the writer."""
        self._aborted = True
        self._frames.clear()
        self._bytes = 0
        self._wake.set()
        self._drained.set()

    async def run(self, port: WirePort) -> None:
        """Send queued frames until closed; returns once the close is sent or the peer is gone."""
        self._port = port
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._frames and not self._aborted:
                    await port.send(self._next_frame())
                    if self._bytes <= self.bytes_max // 2:
                        self._drained.set()
                if self._aborted:
                    return
                if self._close is not None and not self._frames:
                    await port.close(*self._close)
                    return
        except (OSError, RuntimeError) as exc:
            # The peer went away mid-send (uvicorn raises ClientDisconnected, an OSError).
            _log.debug("writer stopped: %s", type(exc).__name__)

    def _next_frame(self) -> bytes:
        first = self._frames.popleft()
        size = len(first)
        if not self._frames or size >= self._batch_bytes_max:
            self._bytes -= size
            return first
        taken = [first]
        while (
            self._frames
            and len(taken) < self._batch_messages_max
            and size + len(self._frames[0]) <= self._batch_bytes_max
        ):
            frame = self._frames.popleft()
            taken.append(frame)
            size += len(frame)
        self._bytes -= size
        if len(taken) == 1:
            return first
        return encode({"type": "BATCH", "count": len(taken), "data": pack_batch(taken)})
