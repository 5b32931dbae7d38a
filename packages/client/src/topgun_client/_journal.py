"""The event journal on the client: paged reads and resumable subscriptions.

``client.journal.read(from_seq, limit)`` answers one :class:`JournalPage`.
``client.journal.subscribe(from_seq, map_name=…)`` is a :class:`JournalStream`:
``async for event in stream`` yields replayed then live events, in sequence order.
The stream remembers the last sequence it delivered; after a reconnect it
subscribes again from the next one, so a dropped connection loses no event still
retained by the server. ``close()`` (or leaving ``async with``) sends
``JOURNAL_UNSUBSCRIBE``: the server stops sending.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from topgun_client._coordination import Coordination, new_request_id
from topgun_client._errors import ServerError
from topgun_client._streams import BoundedStream
from topgun_core.hlc import Timestamp
from topgun_core.journal import JournalEvent, JournalEventType, JournalEventWire
from topgun_core.protocol import ClientMessage, JournalEventMessage

__all__ = ["Journal", "JournalPage", "JournalStream", "event_from_wire"]


def event_from_wire(wire: JournalEventWire) -> JournalEvent:
    """A wire event as a core :class:`~topgun_core.journal.JournalEvent` (``appended_at_ms`` 0)."""
    return JournalEvent(
        wire["sequence"],
        wire["type"],
        wire["mapName"],
        wire["key"],
        wire.get("value"),
        wire.get("previousValue"),
        Timestamp.from_wire(wire["timestamp"]),
        wire["nodeId"],
        0,
    )


@dataclass(frozen=True, slots=True)
class JournalPage:
    """One ``JOURNAL_READ`` answer: events in order, and whether more are retained."""

    events: list[JournalEvent]
    has_more: bool

    @property
    def next_sequence(self) -> int | None:
        """Where the next read starts (None when the page is empty)."""
        return self.events[-1].sequence + 1 if self.events else None


class JournalStream(BoundedStream[JournalEvent]):
    """A journal subscription (module docstring).

    At most 10 000 unread events are buffered; a reader further behind loses the
    oldest (counted in ``dropped``) and can read them back with ``journal.read``.
    Closing stops at once: events buffered before ``close()`` are not handed out.
    """

    drain_after_close = False

    def __init__(
        self,
        journal: Journal,
        from_sequence: int | None,
        map_name: str | None,
        types: tuple[JournalEventType, ...] | None,
    ) -> None:
        self.id = new_request_id("journal")
        self.map_name = map_name
        self.types = types
        super().__init__()
        self._journal = journal
        self._next = from_sequence

    def subscribe_message(self) -> ClientMessage:
        """The JOURNAL_SUBSCRIBE that (re)starts this stream where it left off."""
        message: dict[str, object] = {"type": "JOURNAL_SUBSCRIBE", "requestId": self.id}
        if self._next is not None:
            message["fromSequence"] = self._next
        if self.map_name is not None:
            message["mapName"] = self.map_name
        if self.types is not None:
            message["types"] = list(self.types)
        return message  # type: ignore[return-value]  # a JOURNAL_SUBSCRIBE built above

    def _deliver(self, event: JournalEvent) -> None:
        if self._next is not None and event.sequence < self._next:
            return  # already delivered before a reconnect
        self._next = event.sequence + 1
        self.push(event)

    def _on_close(self) -> None:
        self._journal.remove(self)


class Journal:
    """``client.journal``."""

    def __init__(self, hub: Coordination, timeout_s: float) -> None:
        self._hub = hub
        self._timeout_s = timeout_s
        self._streams: dict[str, JournalStream] = {}

    async def read(
        self, from_sequence: int = 0, limit: int = 100, *, map_name: str | None = None
    ) -> JournalPage:
        """Up to ``limit`` events from ``from_sequence`` (waits for a connection)."""
        request_id = new_request_id("jread")
        message: dict[str, object] = {
            "type": "JOURNAL_READ",
            "requestId": request_id,
            "fromSequence": from_sequence,
            "limit": limit,
        }
        if map_name is not None:
            message["mapName"] = map_name
        answer = await self._hub.request(request_id, message, self._timeout_s)  # type: ignore[arg-type]  # a JOURNAL_READ
        assert answer["type"] == "JOURNAL_READ_RESPONSE"
        return JournalPage([event_from_wire(e) for e in answer["events"]], answer["hasMore"])

    def subscribe(
        self,
        from_sequence: int | None = None,
        *,
        map_name: str | None = None,
        types: Iterable[JournalEventType] | None = None,
    ) -> JournalStream:
        """A stream of events from ``from_sequence`` (None: from now on)."""
        stream = JournalStream(
            self, from_sequence, map_name, None if types is None else tuple(types)
        )
        self._streams[stream.id] = stream
        self._hub.send(stream.subscribe_message())
        return stream

    def remove(self, stream: JournalStream) -> None:
        """End ``stream`` (and its server subscription)."""
        if self._streams.pop(stream.id, None) is not None:
            self._hub.send({"type": "JOURNAL_UNSUBSCRIBE", "subscriptionId": stream.id})

    def deliver(self, message: JournalEventMessage) -> None:
        """A JOURNAL_EVENT for the stream it names."""
        stream = self._streams.get(message.get("subscriptionId", ""))
        if stream is not None:
            stream._deliver(event_from_wire(message["event"]))

    def failed(self, request_id: str, error: ServerError) -> None:
        """An ERROR naming a subscription: the stream raises it."""
        stream = self._streams.pop(request_id, None)
        if stream is not None:
            stream.fail(error)

    def on_authenticated(self) -> list[ClientMessage]:
        """Every open stream, resumed after the last event it delivered."""
        return [stream.subscribe_message() for stream in self._streams.values()]
