"""PN counters on the client: local increments, durable, merged with the server.

Each counter is a :class:`~topgun_core.pn_counter.PNCounter` whose own tallies are
this replica's node id. Changes — local or merged — are stored at once in the
local store (kv namespace :data:`COUNTERS_NAMESPACE`), so increments made offline
survive a restart; while connected every local change is pushed
(``COUNTER_SYNC``), and on each new connection every counter is requested again
(``COUNTER_REQUEST``, which also subscribes to ``COUNTER_UPDATE``) and its state
pushed. Merging takes per-node maxima, so offline increments from any number of
clients converge to the same value everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import msgpack  # type: ignore[import-untyped]  # ships no type information

from topgun_client._coordination import Coordination
from topgun_client._pending import PendingWrites
from topgun_core.pn_counter import PNCounter, PNCounterState
from topgun_core.protocol import ClientMessage
from topgun_core.storage import StorageAdapter

__all__ = ["COUNTERS_NAMESPACE", "CounterHandle", "Counters"]

COUNTERS_NAMESPACE: Final = "topgun_client.counters"
"""kv namespace: counter name → msgpack ``{p, n}``."""


class CounterHandle:
    """``client.counter(name)``: a PN counter, readable and writable offline."""

    def __init__(self, counters: Counters, name: str, counter: PNCounter) -> None:
        self.name = name
        self._counters = counters
        self._counter = counter

    @property
    def value(self) -> int:
        """The value as this replica knows it."""
        return self._counter.value

    def increment(self) -> int:
        """Add 1; return the new value."""
        return self.add(1)

    def decrement(self) -> int:
        """Subtract 1; return the new value."""
        return self.add(-1)

    def add(self, delta: int) -> int:
        """Add ``delta`` (negative subtracts); return the new value."""
        value = self._counter.add_and_get(delta)
        self._counters.changed(self.name, pushed=True)
        return value

    def subscribe(self, callback: Callable[[int], None]) -> Callable[[], None]:
        """Call ``callback(value)`` after every change (local or from the server)."""
        return self._counter.subscribe(callback)


class Counters:
    """Every counter of one client."""

    def __init__(self, hub: Coordination, node_id: str, pending: PendingWrites) -> None:
        self._hub = hub
        self._node_id = node_id
        self._pending = pending
        self._counters: dict[str, PNCounter] = {}

    async def load(self, storage: StorageAdapter) -> None:
        """Load every stored counter."""
        for name, row in (await storage.kv_scan(COUNTERS_NAMESPACE)).items():
            self._get(name).merge(msgpack.unpackb(row, raw=False))

    def _get(self, name: str) -> PNCounter:
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = PNCounter(self._node_id)
        return counter

    def handle(self, name: str) -> CounterHandle:
        """The handle of ``name`` (subscribed on the server when connected)."""
        known = name in self._counters
        counter = self._get(name)
        if not known:
            self._hub.send({"type": "COUNTER_REQUEST", "payload": {"name": name}})
        return CounterHandle(self, name, counter)

    def changed(self, name: str, *, pushed: bool) -> None:
        """Store the counter's state; push it to the server if it changed here."""
        state = self._counters[name].state
        self._pending.kv_put(COUNTERS_NAMESPACE, name, msgpack.packb(state, use_bin_type=True))
        self._hub.store_wake()
        if pushed:
            self._hub.send({"type": "COUNTER_SYNC", "payload": {"name": name, "state": state}})

    def merge(self, name: str, state: PNCounterState) -> None:
        """A state from the server (COUNTER_RESPONSE / COUNTER_UPDATE)."""
        if self._get(name).merge(state):
            self.changed(name, pushed=False)

    def on_authenticated(self) -> list[ClientMessage]:
        """Request (and subscribe to) every counter and push its state."""
        messages: list[ClientMessage] = []
        for name, counter in self._counters.items():
            messages.append({"type": "COUNTER_REQUEST", "payload": {"name": name}})
            messages.append(
                {"type": "COUNTER_SYNC", "payload": {"name": name, "state": counter.state}}
            )
        return messages
