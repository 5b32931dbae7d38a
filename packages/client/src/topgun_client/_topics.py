"""Topics on the client: publish (queued durably until the server has it), subscribe.

Every publish goes into an :class:`~topgun_core.topics.OfflineTopicQueue` and, as
one kv row, into the local store (namespace :data:`TOPICS_NAMESPACE`), so messages
published offline survive a restart and are sent, in order, after reconnecting.
While connected a message is sent at once; after a batch is sent, a ``PING`` with a
marker timestamp follows it, and only when its ``PONG`` returns — the server
handles a connection's messages in order, so it has handled the batch — are the
messages dropped from the queue and the store. A connection lost before that
sends them again (at least once).

The queue is bounded (``TopicQueueSettings.capacity``); when full, the overflow
policy decides (``drop_oldest``, ``drop_newest``, or ``error``, which makes
``publish`` raise ``LimitExceeded``). Every drop is reported to the
``on_dropped`` callbacks and counted (``dropped_total``) — never silent.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Final

import msgpack  # type: ignore[import-untyped]  # ships no type information

from topgun_client._coordination import Coordination
from topgun_client._pending import PendingWrites
from topgun_client._streams import BoundedStream
from topgun_core.protocol import ClientMessage, TopicMessagePayload
from topgun_core.storage import StorageAdapter
from topgun_core.topics import (
    TOPIC_OFFLINE_QUEUE_CAPACITY_DEFAULT,
    DroppedPublish,
    OfflineTopicQueue,
    OverflowPolicy,
    validate_topic_name,
)
from topgun_core.values import JsonValue

__all__ = [
    "TOPICS_NAMESPACE",
    "TopicHandle",
    "TopicMessage",
    "TopicQueueSettings",
    "TopicSubscription",
    "Topics",
]

_log = logging.getLogger("topgun_client.topics")

TOPICS_NAMESPACE: Final = "topgun_client.topics"
"""kv namespace of queued publishes (one row per message, keys in queue order)."""
_MARKER_BASE: Final = 2**52  # PING markers never collide with millisecond heartbeats


@dataclass(frozen=True, slots=True)
class TopicQueueSettings:
    """Bound and overflow policy of the durable publish queue."""

    capacity: int = TOPIC_OFFLINE_QUEUE_CAPACITY_DEFAULT
    overflow: OverflowPolicy = "drop_oldest"


@dataclass(frozen=True, slots=True)
class TopicMessage:
    """A message received on a subscribed topic."""

    topic: str
    data: JsonValue
    publisher_id: str | None
    timestamp_ms: int


class TopicSubscription(BoundedStream[TopicMessage]):
    """Messages of one topic: ``async for`` them; ``close()`` (or ``async with``) ends it.

    At most 10 000 unread messages are buffered; beyond that the oldest are dropped
    and counted in ``dropped``.
    """

    def __init__(self, topics: Topics, topic: str) -> None:
        super().__init__()  # STREAM_BUFFER_MAX unread messages
        self.topic = topic
        self._topics = topics

    def _on_close(self) -> None:
        # The server is told when this was the topic's last subscription.
        self._topics.remove(self)


class TopicHandle:
    """``client.topic(name)``: publish to it, or iterate over its messages."""

    def __init__(self, topics: Topics, name: str) -> None:
        self.name = validate_topic_name(name)
        self._topics = topics

    def publish(self, data: JsonValue) -> None:
        """Publish ``data`` (queued durably; sent now when connected)."""
        self._topics.publish(self.name, data)

    def subscribe(self) -> TopicSubscription:
        """A new subscription (use ``async with``, or call ``close()``)."""
        return self._topics.add(self.name)

    async def __aiter__(self) -> AsyncIterator[TopicMessage]:
        subscription = self.subscribe()
        try:
            async for message in subscription:
                yield message
        finally:
            subscription.close()


DropListener = Callable[[DroppedPublish], None]


class Topics:
    """Subscriptions and the durable publish queue of one client."""

    def __init__(self, hub: Coordination, pending: PendingWrites) -> None:
        self._hub = hub
        self._pending = pending
        self.settings = TopicQueueSettings()
        self.queue = OfflineTopicQueue(self.settings.capacity, self.settings.overflow)
        self._subscriptions: dict[str, set[TopicSubscription]] = {}
        self._sent_through = -1
        self._barrier: tuple[int, int] | None = None
        self._markers = itertools.count(_MARKER_BASE)
        self._drop_listeners: list[DropListener] = []
        self.restore_drops: tuple[DroppedPublish, ...] = ()

    @property
    def dropped_total(self) -> int:
        """Messages dropped by the overflow policy (restores included)."""
        return self.queue.dropped_total

    @property
    def queued(self) -> int:
        """Messages not yet confirmed handled by the server."""
        return len(self.queue)

    def on_dropped(self, callback: DropListener) -> Callable[[], None]:
        """Call ``callback(dropped)`` for every message the overflow policy drops."""
        self._drop_listeners.append(callback)
        return lambda: self._drop_listeners.remove(callback)

    async def load(self, storage: StorageAdapter, settings: TopicQueueSettings) -> None:
        """Rebuild the queue from the store (applying ``settings``' bound again)."""
        self.settings = settings
        rows = await storage.kv_scan(TOPICS_NAMESPACE)
        records = [msgpack.unpackb(row, raw=False) for row in rows.values()]
        self.queue = OfflineTopicQueue.from_records(
            records, capacity=settings.capacity, overflow=settings.overflow
        )
        self.restore_drops = self.queue.restore_drops
        for dropped in self.restore_drops:
            _log.warning("%s (topic %r)", dropped.reason, dropped.message.topic)
            self._pending.kv_put(TOPICS_NAMESPACE, dropped.message.kv_key, None)

    def publish(self, topic: str, data: JsonValue) -> None:
        """Queue (durably) and, when connected, send."""
        result = self.queue.push(topic, data)
        if result.queued:
            row = msgpack.packb(result.message.to_record(), use_bin_type=True)
            self._pending.kv_put(TOPICS_NAMESPACE, result.message.kv_key, row)
        for dropped in result.dropped:
            self._pending.kv_put(TOPICS_NAMESPACE, dropped.message.kv_key, None)
            _log.warning("%s (topic %r)", dropped.reason, dropped.message.topic)
            for listener in tuple(self._drop_listeners):
                listener(dropped)
        self._hub.store_wake()
        if self._hub.authenticated:
            self._send_pending()

    def _send_pending(self) -> None:
        sent = False
        for message in self.queue:
            if message.seq > self._sent_through:
                self._hub.send(
                    {"type": "TOPIC_PUB", "payload": {"topic": message.topic, "data": message.data}}
                )
                self._sent_through = message.seq
                sent = True
        if sent and self._barrier is None:
            marker = next(self._markers)
            self._barrier = (marker, self._sent_through)
            self._hub.send({"type": "PING", "timestamp": marker})

    def pong(self, timestamp: int) -> None:
        """A PONG: if it answers our marker, everything sent before it was handled."""
        if self._barrier is None or timestamp != self._barrier[0]:
            return
        through = self._barrier[1]
        self._barrier = None
        while (head := self.queue.peek()) is not None and head.seq <= through:
            self.queue.pop_batch(1)
            self._pending.kv_put(TOPICS_NAMESPACE, head.kv_key, None)
        self._hub.store_wake()
        if self._hub.authenticated:
            self._send_pending()

    def on_authenticated(self) -> list[ClientMessage]:
        """Subscribe again; the queue is flushed from its start."""
        self._sent_through = -1
        self._barrier = None
        subs: list[ClientMessage] = [
            {"type": "TOPIC_SUB", "payload": {"topic": topic}} for topic in self._subscriptions
        ]
        self._send_pending()  # the hub is already marked authenticated
        return subs

    def disconnected(self) -> None:
        """Unconfirmed messages stay queued and go again on the next connection."""
        self._sent_through = -1
        self._barrier = None

    def add(self, topic: str) -> TopicSubscription:
        """A new subscription to ``topic``."""
        subscription = TopicSubscription(self, validate_topic_name(topic))
        holders = self._subscriptions.setdefault(topic, set())
        if not holders:
            self._hub.send({"type": "TOPIC_SUB", "payload": {"topic": topic}})
        holders.add(subscription)
        return subscription

    def remove(self, subscription: TopicSubscription) -> None:
        """End ``subscription``; unsubscribe on the server after the topic's last one."""
        holders = self._subscriptions.get(subscription.topic)
        if holders is None:
            return
        holders.discard(subscription)
        if not holders:
            del self._subscriptions[subscription.topic]
            self._hub.send({"type": "TOPIC_UNSUB", "payload": {"topic": subscription.topic}})

    def deliver(self, payload: TopicMessagePayload) -> None:
        """A TOPIC_MESSAGE for every local subscription of its topic."""
        message = TopicMessage(
            payload["topic"], payload["data"], payload.get("publisherId"), payload["timestamp"]
        )
        for subscription in tuple(self._subscriptions.get(message.topic, ())):
            subscription.push(message)
