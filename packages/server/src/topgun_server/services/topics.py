"""Pub/sub: topic subscriptions per connection and fan-out of published messages.

:class:`Topics` maps each topic to the connections subscribed to it (and each
connection to its topics, so a disconnect forgets them in one step). A
connection holds at most ``subscriptions_max`` topics
(:data:`~topgun_core.topics.TOPIC_SUBSCRIPTIONS_PER_CLIENT_MAX`; one more is a
``LimitExceeded``, 413). :meth:`Topics.publish` encodes ``TOPIC_MESSAGE`` once and
queues it on every other subscriber's outbox (the publisher does not get its own
message back); queuing never blocks, and a subscriber that cannot keep up is cut
off by its own outbox (4004) rather than slowing the publisher.
"""

from __future__ import annotations

from topgun_core.errors import LimitExceeded
from topgun_core.protocol import TopicMessagePayload, encode
from topgun_core.topics import TOPIC_SUBSCRIPTIONS_PER_CLIENT_MAX, validate_topic_name
from topgun_core.values import JsonValue
from topgun_server.ws.session import Session

__all__ = ["Topics"]


class Topics:
    """Who is subscribed to what, and delivery."""

    def __init__(self, *, subscriptions_max: int = TOPIC_SUBSCRIPTIONS_PER_CLIENT_MAX) -> None:
        self.subscriptions_max = subscriptions_max
        self._subscribers: dict[str, dict[Session, None]] = {}
        self._topics: dict[Session, set[str]] = {}
        self.published = 0
        self.delivered = 0

    def subscribe(self, session: Session, topic: str) -> None:
        """Subscribe ``session`` to ``topic`` (idempotent); 413 past the per-client bound."""
        validate_topic_name(topic)
        held = self._topics.setdefault(session, set())
        if topic in held:
            return
        if len(held) >= self.subscriptions_max:
            raise LimitExceeded("topic_subscriptions_max", len(held) + 1, self.subscriptions_max)
        held.add(topic)
        self._subscribers.setdefault(topic, {})[session] = None

    def unsubscribe(self, session: Session, topic: str) -> bool:
        """Drop one subscription; return whether it existed."""
        held = self._topics.get(session)
        if held is None or topic not in held:
            return False
        held.discard(topic)
        if not held:
            del self._topics[session]
        self._drop(topic, session)
        return True

    def remove_session(self, session: Session) -> None:
        """``session`` disconnected: forget every subscription it held."""
        for topic in self._topics.pop(session, ()):
            self._drop(topic, session)

    def _drop(self, topic: str, session: Session) -> None:
        subscribers = self._subscribers.get(topic)
        if subscribers is not None:
            subscribers.pop(session, None)
            if not subscribers:
                del self._subscribers[topic]

    def subscribers(self, topic: str) -> int:
        """How many connections are subscribed to ``topic``."""
        return len(self._subscribers.get(topic, ()))

    def topics_of(self, session: Session) -> frozenset[str]:
        """The topics ``session`` is subscribed to."""
        return frozenset(self._topics.get(session, ()))

    def publish(
        self, origin: Session, topic: str, data: JsonValue, timestamp_ms: int, publisher: str
    ) -> int:
        """Send ``data`` to every subscriber of ``topic`` but ``origin``; return how many."""
        validate_topic_name(topic)
        self.published += 1
        subscribers = self._subscribers.get(topic)
        if not subscribers:
            return 0
        payload: TopicMessagePayload = {
            "topic": topic,
            "data": data,
            "publisherId": publisher,
            "timestamp": timestamp_ms,
        }
        frame = encode({"type": "TOPIC_MESSAGE", "payload": payload})
        sent = 0
        for session in subscribers:
            if session is not origin and session.authenticated:
                session.outbox.send_frame(frame)
                sent += 1
        self.delivered += sent
        return sent
