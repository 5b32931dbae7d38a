"""PN counters on the server: merged from clients, persisted, pushed to subscribers.

The server never increments a counter itself; clients raise their own tallies and
push their whole state (``COUNTER_SYNC``). :meth:`Counters.sync` merges it
(per-node maxima, SEMANTICS.md §5) and, when anything changed, queues the new
state for storage (kv namespace :data:`COUNTERS_NAMESPACE`, one msgpack document
per counter, written behind like map writes) and sends ``COUNTER_UPDATE`` to every
connection that asked for the counter (``COUNTER_REQUEST`` subscribes). A counter
is loaded from storage on first use; concurrent first uses merge what each loaded,
which is harmless because merging is idempotent. At most ``counters_max`` counters
are held in memory (413 past it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Final

import msgpack  # type: ignore[import-untyped]  # ships no type information

from topgun_core.errors import LimitExceeded
from topgun_core.pn_counter import PNCounter, PNCounterState
from topgun_core.protocol import encode
from topgun_core.storage import StorageAdapter, WriteBatch
from topgun_server.ws.session import Session

__all__ = ["COUNTERS_MAX", "COUNTERS_NAMESPACE", "Counters"]

COUNTERS_NAMESPACE: Final = "topgun.counters"
"""kv namespace: counter name → msgpack ``{p, n}``."""
COUNTERS_MAX: Final = 100_000


class Counters:
    """Every counter this node serves, and who listens to each."""

    def __init__(
        self,
        storage: StorageAdapter,
        submit: Callable[[WriteBatch], Awaitable[asyncio.Future[None]]],
        node_id: str,
        *,
        counters_max: int = COUNTERS_MAX,
    ) -> None:
        self._storage = storage
        self._submit = submit
        self._node_id = node_id
        self.counters_max = counters_max
        self._counters: dict[str, PNCounter] = {}
        self._subscribers: dict[str, dict[Session, None]] = {}
        self._subscribed: dict[Session, set[str]] = {}

    async def get(self, name: str) -> PNCounter:
        """The counter ``name``, loaded from storage on first use."""
        counter = self._counters.get(name)
        if counter is not None:
            return counter
        if len(self._counters) >= self.counters_max:
            raise LimitExceeded("counters_max", len(self._counters) + 1, self.counters_max)
        stored = await self._storage.kv_get(COUNTERS_NAMESPACE, name)
        counter = self._counters.setdefault(name, PNCounter(self._node_id))
        if stored is not None:
            counter.merge(msgpack.unpackb(stored, raw=False))
        return counter

    async def request(self, session: Session, name: str) -> PNCounterState:
        """Subscribe ``session`` to ``name``; the counter's current state."""
        counter = await self.get(name)
        self._subscribers.setdefault(name, {})[session] = None
        self._subscribed.setdefault(session, set()).add(name)
        return counter.state

    async def sync(self, name: str, state: PNCounterState) -> PNCounterState:
        """Merge a client's state; on change persist it and notify every subscriber."""
        counter = await self.get(name)
        if counter.merge(state):
            merged = counter.state
            document = msgpack.packb(merged, use_bin_type=True)
            await self._submit(WriteBatch(kv_puts=[(COUNTERS_NAMESPACE, name, document)]))
            frame = encode({"type": "COUNTER_UPDATE", "payload": {"name": name, "state": merged}})
            for session in self._subscribers.get(name, ()):
                if session.authenticated:
                    session.outbox.send_frame(frame)
        return counter.state

    def remove_session(self, session: Session) -> None:
        """Forget a closed connection's subscriptions."""
        for name in self._subscribed.pop(session, ()):
            subscribers = self._subscribers.get(name)
            if subscribers is not None:
                subscribers.pop(session, None)
                if not subscribers:
                    del self._subscribers[name]
