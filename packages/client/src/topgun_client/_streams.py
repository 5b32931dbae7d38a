"""A bounded stream of server-pushed items that a caller consumes with ``async for``.

Topic subscriptions and journal subscriptions both buffer what the server pushes
until the application reads it. :class:`BoundedStream` is that buffer: at most
``buffer_max`` items; when a reader falls further behind, the oldest item is dropped
and counted in ``dropped`` (and logged) — memory stays bounded and the loss is
visible, never silent. ``close()`` (or leaving ``async with``) ends the stream; the
subclass says what closing means on the server (:meth:`_on_close`). An error pushed
with :meth:`fail` is raised to the reader in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from types import TracebackType
from typing import Generic, Self, TypeVar

from topgun_client._errors import ServerError

__all__ = ["STREAM_BUFFER_MAX", "BoundedStream"]

STREAM_BUFFER_MAX = 10_000
"""Default bound of a stream's unread items."""

T = TypeVar("T")
_log = logging.getLogger(__name__)


class BoundedStream(Generic[T]):
    """Buffered items of type ``T``; ``async for`` them, ``close()`` to stop."""

    drain_after_close = True
    """Whether items buffered before ``close()`` are still handed out after it."""

    def __init__(self, buffer_max: int = STREAM_BUFFER_MAX) -> None:
        if buffer_max < 1:
            raise ValueError("a stream buffer holds at least one item")
        self._items: deque[T | ServerError] = deque()
        self._ready = asyncio.Event()
        self._buffer_max = buffer_max
        self.dropped = 0
        """Items dropped because the reader fell more than ``buffer_max`` behind."""
        self.closed = False

    def push(self, item: T | ServerError) -> None:
        """Buffer one item (called by the client when the server sends it)."""
        if len(self._items) >= self._buffer_max:
            self._items.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                _log.warning(
                    "%s: reader too slow, %d items dropped", type(self).__name__, self.dropped
                )
        self._items.append(item)
        self._ready.set()

    def fail(self, error: ServerError) -> None:
        """Buffer an error; the reader gets it raised, after the items before it."""
        self.push(error)

    def _on_close(self) -> None:
        """What closing means beyond the buffer (e.g. unsubscribing on the server)."""

    def close(self) -> None:
        """Stop the stream (idempotent); see :attr:`drain_after_close`."""
        if not self.closed:
            self.closed = True
            self._ready.set()
            self._on_close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T:
        if self.closed and not self.drain_after_close:
            raise StopAsyncIteration
        while not self._items:
            if self.closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        item = self._items.popleft()
        if isinstance(item, ServerError):
            raise item
        return item

    async def get(self, timeout: float | None = None) -> T:
        """The next item (``TimeoutError`` after ``timeout`` seconds)."""
        async with asyncio.timeout(timeout):
            return await self.__anext__()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
