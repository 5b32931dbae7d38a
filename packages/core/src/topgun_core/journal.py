"""The event journal: a bounded, replayable log of map writes (SEMANTICS.md §10).

How it works: each write reported through :meth:`EventJournal.append` becomes a
:class:`JournalEvent` in a :class:`~topgun_core.ringbuffer.Ringbuffer` (default
capacity 10 000) and takes the ring's next sequence number. Numbers start at 0 (or at
``start_sequence``) and never repeat — not on overflow, not after TTL compaction, not
after a restart that reloads the journal with :meth:`EventJournal.restore`.

- **Filters.** :class:`JournalConfig` decides which writes are journaled at all
  (``enabled``, ``include_maps`` — empty means every map — and ``exclude_maps``, which
  wins). A filtered-out write returns ``None`` and uses no sequence number.
- **Reading.** :meth:`EventJournal.read` returns a :class:`JournalPage`; a ``limit``
  over ``read_limit_max`` is a :class:`~topgun_core.errors.LimitExceeded` (an error,
  never a silent clamp). Asking for events already overwritten or expired yields the
  retained ones with ``lost > 0``: a gap is always reported.
- **Subscribing.** :meth:`EventJournal.subscribe` replays retained events from
  ``from_sequence`` synchronously, then delivers each new matching event on append.
  Every listener sees sequence order even when a listener appends, subscribes or
  unsubscribes from its callback (appends made during delivery are queued). A
  listener that raises is logged and skipped; append and the other listeners go on.
  ``unsubscribe()`` drops every reference the journal holds. At most
  ``subscriptions_max`` subscriptions exist at once.
- **TTL.** An event expires once its ``appended_at_ms`` is strictly older than
  ``now - ttl_ms`` (injected clock). ``append`` drops expired events from the head
  (O(1) when there are none); ``read``, ``subscribe`` and ``compact`` do so before
  looking. ``appended_at_ms`` never decreases along the journal (a wall clock that
  steps back is ignored), so the expired events are always a prefix.
- **Persistence** is outside core: a store subscribes to save events and hands them
  back to ``restore`` at startup (or passes ``start_sequence``).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Final, Literal, NamedTuple, NotRequired, TypeAlias, TypedDict

from topgun_core.clock import Clock, SystemClock
from topgun_core.errors import LimitExceeded, ValidationError
from topgun_core.hlc import Timestamp, TimestampWire
from topgun_core.ringbuffer import Ringbuffer
from topgun_core.values import JsonValue

__all__ = [
    "EVENT_TYPES",
    "EventJournal",
    "JournalConfig",
    "JournalEvent",
    "JournalEventType",
    "JournalEventWire",
    "JournalListener",
    "JournalPage",
    "JournalSubscription",
]

_log = logging.getLogger(__name__)

JournalEventType: TypeAlias = Literal["PUT", "UPDATE", "DELETE"]
"""What a journaled write did: created a key, changed it, or removed it."""

_TypeSet: TypeAlias = frozenset[JournalEventType]

EVENT_TYPES: Final[_TypeSet] = frozenset({"PUT", "UPDATE", "DELETE"})


class JournalEventWire(TypedDict):
    """The PROTOCOL.md wire shape of a journal event (``JOURNAL_EVENT.event``)."""

    sequence: int
    type: JournalEventType
    mapName: str
    key: str
    value: NotRequired[JsonValue]
    previousValue: NotRequired[JsonValue]
    timestamp: TimestampWire
    nodeId: str


class JournalEvent(NamedTuple):
    """One journaled write.

    ``value`` is the new value (``None`` for a DELETE), ``previous_value`` the one it
    replaced (``None`` for a PUT); ``None`` means absent and is left off the wire.
    ``timestamp`` is the write's HLC timestamp, ``node_id`` the node that journaled it,
    ``appended_at_ms`` the journal's wall time of the append (for TTL; non-decreasing).
    """

    sequence: int
    type: JournalEventType
    map_name: str
    key: str
    value: JsonValue
    previous_value: JsonValue
    timestamp: Timestamp
    node_id: str
    appended_at_ms: int

    def to_wire(self) -> JournalEventWire:
        """The PROTOCOL.md shape; ``value`` / ``previousValue`` only when not ``None``."""
        wire: JournalEventWire = {
            "sequence": self.sequence,
            "type": self.type,
            "mapName": self.map_name,
            "key": self.key,
            "timestamp": self.timestamp.to_wire(),
            "nodeId": self.node_id,
        }
        if self.value is not None:
            wire["value"] = self.value
        if self.previous_value is not None:
            wire["previousValue"] = self.previous_value
        return wire


JournalListener: TypeAlias = Callable[[JournalEvent], None]
"""A subscriber callback; it is called synchronously, once per matching event."""


def _positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"JournalConfig.{name} must be an int > 0 (got {value!r})")


def _map_names(name: str, value: object) -> frozenset[str]:
    names = frozenset(value) if isinstance(value, Iterable) and not isinstance(value, str) else ()
    good = frozenset(n for n in names if isinstance(n, str) and n)
    if good != names:
        raise ValueError(f"JournalConfig.{name} must be a set of non-empty map names: {value!r}")
    return good


@dataclass(frozen=True, slots=True)
class JournalConfig:
    """Settings of one :class:`EventJournal`; validated on construction.

    ``include_maps`` / ``exclude_maps`` accept any collection of names and are stored
    as frozensets. A map listed in both is excluded.
    """

    capacity: int = 10_000
    """Events retained; the oldest is overwritten beyond this."""
    ttl_ms: int | None = None
    """Events older than this many milliseconds are dropped; ``None``: no TTL."""
    include_maps: AbstractSet[str] = field(default_factory=frozenset)
    """Only these maps are journaled; empty means every map."""
    exclude_maps: AbstractSet[str] = field(default_factory=frozenset)
    """These maps are never journaled."""
    enabled: bool = True
    """When false, :meth:`EventJournal.append` journals nothing."""
    read_limit_max: int = 1000
    """Largest ``limit`` :meth:`EventJournal.read` accepts."""
    subscriptions_max: int = 1000
    """Most subscriptions open at once on one journal."""

    def __post_init__(self) -> None:
        _positive_int("capacity", self.capacity)
        if self.ttl_ms is not None:
            _positive_int("ttl_ms", self.ttl_ms)
        _positive_int("read_limit_max", self.read_limit_max)
        _positive_int("subscriptions_max", self.subscriptions_max)
        # Frozen: normalising the sets needs object.__setattr__ (the dataclass idiom).
        object.__setattr__(self, "include_maps", _map_names("include_maps", self.include_maps))
        object.__setattr__(self, "exclude_maps", _map_names("exclude_maps", self.exclude_maps))


@dataclass(frozen=True, slots=True)
class JournalPage:
    """The answer to :meth:`EventJournal.read`.

    ``next_sequence`` is where the next read starts (past every event examined);
    ``has_more``: a further matching event is already retained. ``lost`` counts the
    requested sequence numbers already gone (overwritten or expired); the reader cannot
    know whether they matched its filters, so every gap is reported.
    """

    events: tuple[JournalEvent, ...]
    has_more: bool
    next_sequence: int
    lost: int = 0

    @property
    def truncated(self) -> bool:
        """Whether events the reader asked for were no longer retained."""
        return self.lost > 0


def _type_filter(types: Iterable[JournalEventType] | None) -> _TypeSet | None:
    if types is None:
        return None
    chosen = frozenset(types)
    unknown = sorted(repr(t) for t in chosen if t not in EVENT_TYPES)
    if unknown:
        raise ValidationError("types", f"unknown event types {', '.join(unknown)}")
    if not chosen:
        raise ValidationError("types", "must not be empty (pass None for every type)")
    return chosen


def _matches(event: JournalEvent, map_name: str | None, types: _TypeSet | None) -> bool:
    return (map_name is None or map_name == event.map_name) and (
        types is None or event.type in types
    )


@dataclass(eq=False, repr=False, slots=True, weakref_slot=True)
class JournalSubscription:
    """A live subscription returned by :meth:`EventJournal.subscribe` (made only there).

    ``lost`` counts the sequence numbers the replay asked for that were already gone
    (0 when nothing was missed); check it after ``subscribe`` returns.
    """

    _journal: EventJournal | None
    _listener: JournalListener | None
    map_name: str | None
    types: _TypeSet | None
    lost: int = 0
    _next_sequence: int = 0  # the first sequence this subscription has not been offered

    @property
    def active(self) -> bool:
        """False once :meth:`unsubscribe` was called."""
        return self._listener is not None

    def unsubscribe(self) -> None:
        """Stop delivery for good; idempotent.

        The journal forgets this subscription and the subscription forgets the
        listener and the journal, so neither keeps the other alive.
        """
        journal = self._journal
        self._listener = None
        self._journal = None
        if journal is not None:
            journal._detach(self)

    def _offer(self, event: JournalEvent) -> None:
        """Call the listener with ``event`` unless unsubscribed, already offered or filtered."""
        listener = self._listener
        if listener is None or event.sequence < self._next_sequence:
            return
        self._next_sequence = event.sequence + 1
        if not _matches(event, self.map_name, self.types):
            return
        try:
            listener(event)
        except Exception:  # noqa: BLE001 - logged with traceback below
            # A faulty subscriber must not break the writer or the other subscribers.
            _log.exception(
                "journal listener %r failed on event %d; it stays subscribed",
                listener,
                event.sequence,
            )


class EventJournal:
    """A bounded, replayable journal of PUT / UPDATE / DELETE events.

    ``clock`` (default: the system clock) supplies wall time for TTL;
    ``start_sequence`` numbers the first event, to continue a journal not kept.
    """

    def __init__(
        self,
        config: JournalConfig | None = None,
        *,
        clock: Clock | None = None,
        start_sequence: int = 0,
    ) -> None:
        self._config = config if config is not None else JournalConfig()
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._ring = Ringbuffer[JournalEvent](self._config.capacity, start_sequence=start_sequence)
        self._last_appended_ms = 0
        # Insertion-ordered set of live subscriptions (a dict keeps delivery order).
        self._subscriptions: dict[JournalSubscription, None] = {}
        self._pending: deque[JournalEvent] = deque()
        self._delivering = False

    @property
    def config(self) -> JournalConfig:
        """The settings this journal was built with."""
        return self._config

    @property
    def last_sequence(self) -> int:
        """Sequence of the newest event ever appended; ``start_sequence - 1`` if none."""
        return self._ring.tail_sequence - 1

    @property
    def next_sequence(self) -> int:
        """Sequence the next journaled event will get."""
        return self._ring.tail_sequence

    @property
    def oldest_sequence(self) -> int:
        """Sequence of the oldest retained event (``next_sequence`` when empty)."""
        return self._ring.head_sequence

    @property
    def subscription_count(self) -> int:
        """How many subscriptions are active."""
        return len(self._subscriptions)

    def __len__(self) -> int:
        return len(self._ring)

    def accepts(self, map_name: str) -> bool:
        """Whether writes to ``map_name`` are journaled under the current config."""
        config = self._config
        return (
            config.enabled
            and (not config.include_maps or map_name in config.include_maps)
            and map_name not in config.exclude_maps
        )

    def append(
        self,
        event_type: JournalEventType,
        map_name: str,
        key: str,
        value: JsonValue,
        previous_value: JsonValue,
        timestamp: Timestamp,
        node_id: str,
    ) -> JournalEvent | None:
        """Journal one write and deliver it to matching subscribers.

        Returns the event, or ``None`` when the config filters ``map_name`` out.
        Raises :class:`~topgun_core.errors.ValidationError` for an unknown type.
        """
        if event_type not in EVENT_TYPES:
            raise ValidationError("type", f"must be PUT, UPDATE or DELETE (got {event_type!r})")
        if not self.accepts(map_name):
            return None
        now = max(self._clock.now_ms(), self._last_appended_ms)
        self._last_appended_ms = now
        if self._config.ttl_ms is not None:
            self._compact_before(now - self._config.ttl_ms)
        seq = self._ring.tail_sequence
        event = JournalEvent(
            seq, event_type, map_name, key, value, previous_value, timestamp, node_id, now
        )
        self._ring.add(event)
        if self._subscriptions:
            self._publish(event)
        return event

    def compact(self) -> int:
        """Drop events strictly older than ``ttl_ms`` by the clock; return how many."""
        if self._config.ttl_ms is None:
            return 0
        return self._compact_before(self._clock.now_ms() - self._config.ttl_ms)

    def _compact_before(self, cutoff_ms: int) -> int:
        return self._ring.drop_head_while(lambda event: event.appended_at_ms < cutoff_ms)

    def restore(self, events: Iterable[JournalEvent]) -> int:
        """Load persisted events into this empty journal; return how many are retained.

        ``events`` must be contiguous, in order, from :attr:`next_sequence` or later;
        numbering continues after the last. Only the newest ``capacity`` are kept,
        expired ones are compacted, subscribers are not called. Bad input raises
        ``ValueError`` and changes nothing.
        """
        if len(self._ring):
            raise ValueError("restore() needs an empty journal")
        newest = deque(events, maxlen=self._config.capacity)
        if not newest:
            return 0
        _check_restorable(newest, self.next_sequence)
        self._ring.advance_to(newest[0].sequence)
        for event in newest:
            # Keep appended_at_ms non-decreasing, as append does, so TTL stays a prefix.
            if event.appended_at_ms < self._last_appended_ms:
                event = event._replace(appended_at_ms=self._last_appended_ms)  # noqa: PLW2901
            self._last_appended_ms = event.appended_at_ms
            self._ring.add(event)
        self.compact()
        return len(self._ring)

    def read(
        self,
        from_sequence: int,
        limit: int = 100,
        *,
        map_name: str | None = None,
        types: Iterable[JournalEventType] | None = None,
    ) -> JournalPage:
        """Up to ``limit`` retained events from ``from_sequence`` matching the filters.

        ``map_name`` / ``types``: ``None`` means any. ``limit`` over ``read_limit_max``
        raises ``LimitExceeded``; a negative or future ``from_sequence``, a ``limit``
        below 1 or an unknown type raises ``ValidationError``.
        """
        if limit > self._config.read_limit_max:
            raise LimitExceeded("read_limit_max", limit, self._config.read_limit_max)
        if limit < 1:
            raise ValidationError("limit", f"must be >= 1 (got {limit})")
        type_set = _type_filter(types)
        start, lost = self._start_from(from_sequence)
        events: list[JournalEvent] = []
        for event in self._ring.iter_from(start):
            if not _matches(event, map_name, type_set):
                continue
            if len(events) == limit:
                return JournalPage(
                    tuple(events), has_more=True, next_sequence=events[-1].sequence + 1, lost=lost
                )
            events.append(event)
        return JournalPage(
            tuple(events), has_more=False, next_sequence=self._ring.tail_sequence, lost=lost
        )

    def _start_from(self, from_sequence: int) -> tuple[int, int]:
        """Compact, then clamp ``from_sequence`` to the retained range: (start, lost)."""
        if isinstance(from_sequence, bool) or not isinstance(from_sequence, int):
            raise ValidationError("fromSequence", f"must be an integer (got {from_sequence!r})")
        if from_sequence < 0:
            raise ValidationError("fromSequence", f"must be >= 0 (got {from_sequence})")
        if from_sequence > self.next_sequence:
            raise ValidationError(
                "fromSequence",
                f"{from_sequence} is beyond the next sequence {self.next_sequence}",
            )
        self.compact()
        start = max(from_sequence, self._ring.head_sequence)
        return start, start - from_sequence

    def subscribe(
        self,
        listener: JournalListener,
        *,
        from_sequence: int | None = None,
        map_name: str | None = None,
        types: Iterable[JournalEventType] | None = None,
    ) -> JournalSubscription:
        """Call ``listener`` for every matching event appended from now on.

        With ``from_sequence``, retained matching events from there are first replayed
        synchronously; the subscription's ``lost`` reports any part of that range no
        longer retained. Beyond ``subscriptions_max`` raises ``LimitExceeded``.
        """
        maximum = self._config.subscriptions_max
        if len(self._subscriptions) >= maximum:
            raise LimitExceeded("subscriptions_max", len(self._subscriptions) + 1, maximum)
        subscription = JournalSubscription(self, listener, map_name, _type_filter(types))
        if from_sequence is None:
            subscription._next_sequence = self.next_sequence
        else:
            self._replay(subscription, from_sequence)
        self._subscriptions[subscription] = None
        return subscription

    def _replay(self, subscription: JournalSubscription, from_sequence: int) -> None:
        # Read one event at a time up to the *current* tail: events appended by a
        # listener during replay are replayed too, so nothing falls between replay and
        # live delivery, and registration happens only once replay has caught up.
        sequence, subscription.lost = self._start_from(from_sequence)
        subscription._next_sequence = sequence
        ring = self._ring
        while sequence < ring.tail_sequence:
            if sequence < ring.head_sequence:  # overwritten while we were replaying
                subscription.lost += ring.head_sequence - sequence
                sequence = ring.head_sequence
                continue
            subscription._offer(ring.read(sequence))
            sequence += 1

    def _publish(self, event: JournalEvent) -> None:
        # Appends made by listeners while we deliver are queued and delivered after
        # the current event has reached everyone, so every listener sees sequence order.
        self._pending.append(event)
        if self._delivering:
            return
        self._delivering = True
        try:
            while self._pending:
                current = self._pending.popleft()
                for subscription in tuple(self._subscriptions):
                    subscription._offer(current)  # skips what its replay already gave
        finally:
            self._delivering = False

    def _detach(self, subscription: JournalSubscription) -> None:
        self._subscriptions.pop(subscription, None)


def _check_restorable(events: deque[JournalEvent], next_sequence: int) -> None:
    """Raise ``ValueError`` unless ``events`` are contiguous, typed and not reused."""
    if events[0].sequence < next_sequence:
        raise ValueError(f"cannot restore: sequences below {next_sequence} were already issued")
    for expected, event in enumerate(events, start=events[0].sequence):
        if event.sequence != expected or event.type not in EVENT_TYPES:
            raise ValueError(
                f"cannot restore event {event.sequence} of type {event.type!r}: expected "
                f"sequence {expected} (restored events are contiguous) and a known type"
            )
