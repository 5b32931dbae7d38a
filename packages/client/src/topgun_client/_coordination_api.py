"""Topics, locks, counters, the journal, processors and resolvers on ``TopGunClient``.

A mixin, to keep the client small: each method hands the work to the engine's
:class:`~topgun_client._coordination.Coordination` hub. :func:`new_coordination`
builds the hub, :func:`load_coordination` restores what the local store keeps
(counters, queued topic messages) and :func:`wire_coordination` connects it to a
running client (push-loop and writer wake-ups); the connection shell tells the hub
when each connection ends.
See docs/client.md, "Topics", "Locks", "Counters", "Event journal", "Entry
processors and resolvers".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from topgun_client._compute import (
    Compute,
    MergeRejectedListener,
    ProcessorFailed,
    ProcessorResult,
    Resolvers,
)
from topgun_client._coordination import Coordination
from topgun_client._counters import CounterHandle, Counters
from topgun_client._journal import Journal
from topgun_client._locks import LockHandle, Locks
from topgun_client._replica import Replica
from topgun_client._settings import ClientSettings
from topgun_client._topics import DropListener, TopicHandle, TopicQueueSettings, Topics
from topgun_core.storage import StorageAdapter
from topgun_core.values import JsonValue

if TYPE_CHECKING:
    from topgun_client._runtime import Runtime

__all__ = [
    "CoordinationMethods",
    "load_coordination",
    "new_coordination",
    "wire_coordination",
]


def new_coordination(replica: Replica, settings: ClientSettings) -> Coordination:
    """The hub and its features for one client."""
    hub = Coordination()
    timeout_s = settings.write_timeout_ms / 1000
    hub.topics = Topics(hub, replica.pending)
    hub.counters = Counters(hub, replica.hlc.node_id, replica.pending)
    hub.locks = Locks(hub)
    hub.journal = Journal(hub, timeout_s)
    hub.compute = Compute(hub, timeout_s)
    return hub


async def load_coordination(
    hub: Coordination, storage: StorageAdapter, topics: TopicQueueSettings
) -> None:
    """Restore counters and queued publishes from the local store."""
    await hub.counters.load(storage)
    await hub.topics.load(storage, topics)


def wire_coordination(rt: Runtime, store_wake: Callable[[], None]) -> None:
    """Connect the hub to a running client's shells."""
    hub = rt.engine.coord
    hub.wake = rt.ops_ready.set
    hub.store_wake = store_wake


class CoordinationMethods:
    """Topics, locks, counters, journal, processors and resolvers of a client."""

    def _runtime(self) -> Runtime:
        raise NotImplementedError

    def _hub(self) -> Coordination:
        return self._runtime().engine.coord

    def topic(self, name: str) -> TopicHandle:
        """Topic ``name``: ``publish(data)``, or ``async for message in client.topic(name)``."""
        return TopicHandle(self._hub().topics, name)

    def on_topic_dropped(self, callback: DropListener) -> Callable[[], None]:
        """Call ``callback(dropped)`` for each queued publish the overflow policy drops."""
        return self._hub().topics.on_dropped(callback)

    @property
    def topic_queue(self) -> Topics:
        """The durable publish queue: ``queued``, ``dropped_total``, ``restore_drops``."""
        return self._hub().topics

    def lock(self, name: str, ttl_ms: int | None = None) -> LockHandle:
        """Lock ``name``: ``async with client.lock(name) as lock`` or ``acquire(timeout=…)``."""
        return LockHandle(self._hub().locks, name, ttl_ms)

    def counter(self, name: str) -> CounterHandle:
        """PN counter ``name``: ``increment()``, ``add(n)``, ``value``, ``subscribe(cb)``."""
        return self._hub().counters.handle(name)

    @property
    def journal(self) -> Journal:
        """The server's event journal: ``read(from_seq, limit)``, ``subscribe(from_seq)``."""
        return self._hub().journal

    @property
    def resolvers(self) -> Resolvers:
        """Conflict resolvers: ``register(map, name, code=…)``, ``unregister``, ``list``."""
        return self._hub().compute.resolvers

    def on_merge_rejected(self, callback: MergeRejectedListener) -> Callable[[], None]:
        """Call ``callback(rejection)`` when a resolver refuses a write of this client."""
        return self._hub().compute.on_merge_rejected(callback)

    async def execute_on_key(
        self,
        map_name: str,
        key: str,
        processor: str | None = None,
        *,
        code: str | None = None,
        args: JsonValue = None,
    ) -> ProcessorResult:
        """Run an entry processor on one key on the server (raises ``ProcessorFailed``)."""
        return await self._hub().compute.execute_on_key(
            map_name, key, processor, code=code, args=args
        )

    async def execute_on_keys(
        self,
        map_name: str,
        keys: list[str],
        processor: str | None = None,
        *,
        code: str | None = None,
        args: JsonValue = None,
    ) -> dict[str, ProcessorResult | ProcessorFailed]:
        """Run an entry processor on each of ``keys``."""
        return await self._hub().compute.execute_on_keys(
            map_name, keys, processor, code=code, args=args
        )
