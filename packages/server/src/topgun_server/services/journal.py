"""The server's event journal: every applied write, replayable, optionally durable.

:class:`Journal` wraps a :class:`~topgun_core.journal.EventJournal` (a bounded
ring; SEMANTICS.md §10) and is registered on the maps' change hook, so **every**
applied write — client ops, OR pushes, entry-processor results, resolver merges —
appends one event: ``PUT`` (the key had no live value), ``UPDATE`` or ``DELETE``,
with the previous value.

Persistence (``journal_persist``): each event is one msgpack document in the kv
namespace :data:`JOURNAL_NAMESPACE` under its zero-padded sequence number. The
change hook runs inside the write, synchronously, so documents are collected and
:meth:`Journal.run` hands them to the persistence queue right after — the same
FIFO, write-behind queue as the writes they describe (usually coalesced into the
same transaction; a crash can lose the newest events exactly as it can lose the
newest non-durable writes). Retention is bounded: appending event ``n`` deletes
the document of event ``n - capacity``, so storage never holds more than
``capacity`` events; on start :meth:`Journal.load` restores them (numbering
continues after the last) and drops any surplus. A kv namespace needs no change
to the storage contract and works on every adapter (memory, SQLite, PostgreSQL).

OR maps journal the key's list of live values: ``value`` after the change and,
for an add, ``previousValue`` before it (a removal's previous list is not known
to the hook and is left off).

Subscriptions (``JOURNAL_SUBSCRIBE``) belong to a connection and are keyed by the
request id; each delivers replayed then live events as ``JOURNAL_EVENT`` (naming
the subscription), filtered by what the subscriber may READ and by its readable
fields. ``JOURNAL_UNSUBSCRIBE`` and disconnects detach them for good.

The hook sees every change to a loaded map — client writes, OR pushes, entry
processor results, resolver merges — but not a GC prune of a tombstone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Final, Protocol

import msgpack  # type: ignore[import-untyped]  # ships no type information

from topgun_core.clock import Clock
from topgun_core.errors import LimitExceeded, NotFoundError
from topgun_core.hlc import Timestamp
from topgun_core.journal import (
    EventJournal,
    JournalConfig,
    JournalEvent,
    JournalEventType,
    JournalEventWire,
    JournalPage,
    JournalSubscription,
)
from topgun_core.lww_map import LWWRecord
from topgun_core.or_map import ORMap, ORRecord, json_equal
from topgun_core.policies import PolicyEngine, Principal
from topgun_core.protocol import encode
from topgun_core.storage import StorageAdapter, WriteBatch
from topgun_core.values import JsonValue
from topgun_server.ws.session import Session

__all__ = [
    "JOURNAL_NAMESPACE",
    "SUBSCRIPTIONS_PER_CLIENT_MAX",
    "Journal",
    "MapChange",
    "event_type",
    "viewer",
]

JOURNAL_NAMESPACE: Final = "topgun.journal"
"""kv namespace: zero-padded sequence → msgpack event."""
SUBSCRIPTIONS_PER_CLIENT_MAX: Final = 100
_SEQ_DIGITS: Final = 20
_VIEW_CACHE_MAX: Final = 1024


class _Slot(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def ormap(self) -> ORMap | None: ...


class MapChange(Protocol):
    """The maps' change notification as the journal reads it (``services.maps.MapChange``)."""

    @property
    def slot(self) -> _Slot: ...

    @property
    def key(self) -> str: ...

    @property
    def record(self) -> LWWRecord | ORRecord | None: ...

    @property
    def previous(self) -> LWWRecord | None: ...

    @property
    def removed_tag(self) -> str | None: ...


Viewer = Callable[[JournalEvent], JournalEventWire | None]
"""An event as one principal may see it (None: it may not read that map)."""


def event_type(old: JsonValue, new: JsonValue) -> JournalEventType | None:
    """What a change did: PUT (no live value before), UPDATE, DELETE; None: nothing."""
    if new is None:
        return None if old is None else "DELETE"
    return "PUT" if old is None else "UPDATE"


def viewer(policies: PolicyEngine, principal: Principal) -> Viewer:
    """Events as ``principal`` may see them: READ on the map, readable fields only."""
    cache: dict[str, tuple[bool, frozenset[str] | None]] = {}

    def view(event: JournalEvent) -> JournalEventWire | None:
        rule = cache.get(event.map_name)
        if rule is None:
            allowed = policies.allowed(principal, event.map_name, "READ")
            fields = policies.readable_fields(principal, event.map_name) if allowed else None
            if len(cache) >= _VIEW_CACHE_MAX:
                cache.clear()
            rule = cache[event.map_name] = (allowed, fields)
        if not rule[0]:
            return None
        wire = event.to_wire()
        if rule[1] is not None:
            if "value" in wire:
                wire["value"] = _filtered(wire["value"], rule[1])
            if "previousValue" in wire:
                wire["previousValue"] = _filtered(wire["previousValue"], rule[1])
        return wire

    return view


def _describe(
    change: MapChange,
) -> tuple[JournalEventType, JsonValue, JsonValue, Timestamp] | None:
    """(type, live value before, after, timestamp) of a change; None if it is no write.

    An OR removal carries no timestamp of its own: the removed tag's (the add's) is used.
    """
    record = change.record
    if isinstance(record, LWWRecord):
        old = None if change.previous is None else change.previous.value
        kind = event_type(old, record.value)
        return None if kind is None else (kind, old, record.value, record.timestamp)
    ormap = change.slot.ormap
    if ormap is None:
        return None
    after: list[JsonValue] = list(ormap.get(change.key))
    if isinstance(record, ORRecord):
        before = list(after)
        for index, item in enumerate(before):
            if json_equal(item, record.value):
                del before[index]
                break
        return ("UPDATE" if before else "PUT"), (before or None), after, record.timestamp
    if change.removed_tag is None:
        return None  # a GC prune, not a write
    stamp = Timestamp.parse(change.removed_tag)
    return ("UPDATE" if after else "DELETE"), None, (after or None), stamp


def _filtered(value: JsonValue, fields: frozenset[str]) -> JsonValue:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k in fields}
    return value


def _doc_key(sequence: int) -> str:
    return f"{sequence:0{_SEQ_DIGITS}d}"


def _encode(event: JournalEvent) -> bytes:
    row = [
        event.sequence,
        event.type,
        event.map_name,
        event.key,
        event.value,
        event.previous_value,
        str(event.timestamp),
        event.node_id,
        event.appended_at_ms,
    ]
    document: bytes = msgpack.packb(row, use_bin_type=True)
    return document


def _decode(document: bytes) -> JournalEvent:
    seq, kind, map_name, key, value, previous, stamp, node_id, at = msgpack.unpackb(
        document, raw=False
    )
    return JournalEvent(
        seq, kind, map_name, key, value, previous, Timestamp.parse(stamp), node_id, at
    )


class Journal:
    """The node's journal, its persistence and its subscriptions."""

    def __init__(
        self,
        config: JournalConfig,
        clock: Clock,
        node_id: str,
        submit: Callable[[WriteBatch], Awaitable[asyncio.Future[None]]],
        *,
        persist: bool = False,
    ) -> None:
        self.events = EventJournal(config, clock=clock)
        self._node_id = node_id
        self._submit = submit
        self.persist = persist
        self._subscriptions: dict[Session, dict[str, JournalSubscription]] = {}
        self._pending = WriteBatch()
        self._dirty = asyncio.Event()

    async def load(self, storage: StorageAdapter) -> int:
        """Restore persisted events (when persisting); return how many are retained."""
        if not self.persist:
            return 0
        documents = await storage.kv_scan(JOURNAL_NAMESPACE)
        events = sorted((_decode(doc) for doc in documents.values()), key=lambda e: e.sequence)
        capacity = self.events.config.capacity
        surplus = events[:-capacity] if len(events) > capacity else []
        if surplus:
            await storage.apply(
                WriteBatch(kv_deletes=[(JOURNAL_NAMESPACE, _doc_key(e.sequence)) for e in surplus])
            )
        return self.events.restore(events[len(surplus) :])

    def on_change(self, change: MapChange) -> None:
        """The maps' change hook: journal the change (and queue its document)."""
        described = _describe(change)
        if described is None:
            return
        kind, old, new, stamp = described
        event = self.events.append(
            kind, change.slot.name, change.key, new, old, stamp, self._node_id
        )
        if event is not None and self.persist:
            self._pending.kv_puts.append(
                (JOURNAL_NAMESPACE, _doc_key(event.sequence), _encode(event))
            )
            expired = event.sequence - self.events.config.capacity
            if expired >= 0:
                self._pending.kv_deletes.append((JOURNAL_NAMESPACE, _doc_key(expired)))
            self._dirty.set()

    async def run(self) -> None:
        """Hand collected documents to the persistence queue, in order, forever."""
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            batch, self._pending = self._pending, WriteBatch()
            if len(batch):
                await self._submit(batch)

    def read(
        self, from_sequence: int, limit: int, map_name: str | None, view: Viewer
    ) -> tuple[list[JournalEventWire], bool]:
        """One page of events the reader may see, and whether more are retained."""
        page: JournalPage = self.events.read(from_sequence, limit, map_name=map_name)
        shown = [wire for wire in map(view, page.events) if wire is not None]
        return shown, page.has_more

    def subscribe(
        self,
        session: Session,
        subscription_id: str,
        view: Viewer,
        *,
        from_sequence: int | None,
        map_name: str | None,
        types: Iterable[JournalEventType] | None,
    ) -> None:
        """Replay from ``from_sequence`` (if given), then deliver live events to ``session``."""
        held = self._subscriptions.setdefault(session, {})
        old = held.pop(subscription_id, None)
        if old is not None:
            old.unsubscribe()
        if len(held) >= SUBSCRIPTIONS_PER_CLIENT_MAX:
            raise LimitExceeded(
                "journal_subscriptions_per_client_max", len(held) + 1, SUBSCRIPTIONS_PER_CLIENT_MAX
            )

        def deliver(event: JournalEvent) -> None:
            wire = view(event)
            if wire is not None and session.authenticated:
                session.outbox.send_frame(
                    encode(
                        {"type": "JOURNAL_EVENT", "event": wire, "subscriptionId": subscription_id}
                    )
                )

        held[subscription_id] = self.events.subscribe(
            deliver, from_sequence=from_sequence, map_name=map_name, types=types
        )

    def unsubscribe(self, session: Session, subscription_id: str) -> None:
        """Stop one subscription (404 if this connection has no such subscription)."""
        subscription = self._subscriptions.get(session, {}).pop(subscription_id, None)
        if subscription is None:
            raise NotFoundError(f"no journal subscription {subscription_id!r} on this connection")
        subscription.unsubscribe()

    def remove_session(self, session: Session) -> None:
        """Detach every subscription of a closed connection."""
        for subscription in self._subscriptions.pop(session, {}).values():
            subscription.unsubscribe()

    @property
    def subscription_count(self) -> int:
        """Active subscriptions on this node."""
        return self.events.subscription_count
