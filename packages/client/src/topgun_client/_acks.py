"""Callers of ``write()`` waiting for their op's acknowledgement, matched by op id.

A waiter is registered before its op is committed (keyed by the op's sequence number
in the pending queue) and re-keyed by the op id the store assigns, synchronously in
the commit callback — so the ack can never arrive before its waiter exists. At most
``pending_writes_max`` waiters exist; one more raises ``LimitExceeded``.
"""

from __future__ import annotations

import asyncio

from topgun_client._errors import WriteRejected
from topgun_client._outbox import WriteResult
from topgun_core.errors import LimitExceeded, TopGunError

__all__ = ["AckWaiters"]


class AckWaiters:
    """Futures of ``write()`` calls, by sequence number until committed, then by op id."""

    __slots__ = ("_by_id", "_by_seq", "_max")

    def __init__(self, pending_writes_max: int) -> None:
        self._max = pending_writes_max
        self._by_seq: dict[int, asyncio.Future[WriteResult]] = {}
        self._by_id: dict[int, asyncio.Future[WriteResult]] = {}

    def __len__(self) -> int:
        return len(self._by_seq) + len(self._by_id)

    def check_room(self) -> None:
        """Raise ``LimitExceeded`` if another waiter would exceed the bound."""
        if len(self) >= self._max:
            raise LimitExceeded("pending_writes_max", len(self) + 1, self._max)

    def expect(self, seq: int) -> asyncio.Future[WriteResult]:
        """A future for the op queued with sequence number ``seq``."""
        future: asyncio.Future[WriteResult] = asyncio.get_running_loop().create_future()
        self._by_seq[seq] = future
        return future

    def bind(self, first_seq: int, ids: list[int]) -> None:
        """The ops ``first_seq, first_seq + 1, ...`` were stored under ``ids``."""
        if not self._by_seq:
            return
        for offset, op_id in enumerate(ids):
            future = self._by_seq.pop(first_seq + offset, None)
            if future is not None:
                self._by_id[op_id] = future

    def resolve(self, result: WriteResult) -> None:
        """Op ``result.op_id`` was acknowledged."""
        future = self._by_id.pop(result.op_id, None)
        if future is not None and not future.done():
            future.set_result(result)

    def fail(self, error: WriteRejected) -> None:
        """Op ``error.op_id`` failed for good (retryable rejections are not final)."""
        if error.retryable:
            return
        future = self._by_id.pop(error.op_id, None)
        if future is not None and not future.done():
            future.set_exception(error)

    def discard(self, future: asyncio.Future[WriteResult]) -> None:
        """Forget a waiter (its caller stopped waiting)."""
        for table in (self._by_seq, self._by_id):
            for key in [key for key, value in table.items() if value is future]:
                del table[key]

    def close(self, error: TopGunError) -> None:
        """Fail every waiter (the client is closing)."""
        for table in (self._by_seq, self._by_id):
            for future in table.values():
                if not future.done():
                    future.set_exception(error)
            table.clear()
