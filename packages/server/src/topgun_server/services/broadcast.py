"""Real-time fan-out of applied writes to the other connections holding a map.

A connection *holds* a map once it has synced it (SYNC_INIT / ORMAP_SYNC_INIT);
:meth:`Broadcast.hold` records that together with the fields the connection's
principal may read. :meth:`Broadcast.publish` sends one write's events to every
holder except the writer: recipients are grouped by their readable-field set, each
group's message is filtered (field-level security) and encoded once, then queued
on each recipient's outbox. One event goes out as ``SERVER_EVENT``, several as one
``SERVER_BATCH_EVENT``. Queuing never blocks: a recipient that cannot keep up is
cut off by its own outbox (close 4004).
"""

from __future__ import annotations

from collections.abc import Iterable

from topgun_core.protocol import ServerEvent, ServerMessage, encode
from topgun_server.ws.session import Session

__all__ = ["Broadcast", "filter_event", "filter_fields"]


def filter_fields(value: object, fields: frozenset[str] | None) -> object:
    """``value`` with only the readable top-level fields (dicts only; None: all)."""
    if fields is None or not isinstance(value, dict):
        return value
    return {k: v for k, v in value.items() if k in fields}


def filter_event(event: ServerEvent, fields: frozenset[str] | None) -> ServerEvent:
    """An event whose record value shows only the readable fields."""
    if fields is None:
        return event
    if event["eventType"] == "UPDATED":
        record = event["record"]
        return {**event, "record": {**record, "value": filter_fields(record["value"], fields)}}  # type: ignore[typeddict-item]  # value stays a JsonValue
    if event["eventType"] == "OR_ADD":
        orec = event["orRecord"]
        return {**event, "orRecord": {**orec, "value": filter_fields(orec["value"], fields)}}  # type: ignore[typeddict-item]  # value stays a JsonValue
    return event


class Broadcast:
    """Which connections hold which maps, and delivery of events to them."""

    def __init__(self) -> None:
        self._holders: dict[str, dict[Session, frozenset[str] | None]] = {}

    def hold(self, session: Session, map_name: str, fields: frozenset[str] | None) -> None:
        """``session`` now receives ``map_name``'s events, showing only ``fields``."""
        self._holders.setdefault(map_name, {})[session] = fields
        session.held_maps[map_name] = fields

    def release(self, session: Session) -> None:
        """Forget every map ``session`` held (it disconnected)."""
        for name in session.held_maps:
            holders = self._holders.get(name)
            if holders is not None:
                holders.pop(session, None)
                if not holders:
                    del self._holders[name]
        session.held_maps.clear()

    def holders(self, map_name: str) -> int:
        """How many connections hold ``map_name``."""
        return len(self._holders.get(map_name, ()))

    def publish(self, map_name: str, events: list[ServerEvent], origin: Session | None) -> None:
        """Send ``events`` (all of ``map_name``) to every holder except ``origin``."""
        holders = self._holders.get(map_name)
        if not holders or not events:
            return
        groups: dict[frozenset[str] | None, list[Session]] = {}
        for session, fields in holders.items():
            if session is not origin and session.authenticated:
                groups.setdefault(fields, []).append(session)
        for fields, sessions in groups.items():
            shown = [filter_event(event, fields) for event in events]
            message: ServerMessage
            if len(shown) == 1:
                message = {"type": "SERVER_EVENT", "payload": shown[0]}
            else:
                message = {"type": "SERVER_BATCH_EVENT", "payload": {"events": shown}}
            frame = encode(message)
            for session in sessions:
                session.outbox.send_frame(frame)

    @staticmethod
    def to_all(sessions: Iterable[Session], message: ServerMessage) -> None:
        """Send one message to each of ``sessions`` (encoded once)."""
        frame = encode(message)
        for session in sessions:
            session.outbox.send_frame(frame)
