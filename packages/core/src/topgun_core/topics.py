"""Topic names, the subscription bound, and the client's offline publish queue.

Pure parts of pub/sub (SEMANTICS.md §10); the server's fan-out and the client's
socket live in their packages.

- :func:`validate_topic_name`: 1 to 256 characters, each an ASCII word character
  (``A-Z a-z 0-9 _``, what JavaScript's ``\\w`` matches, so every peer agrees) or
  one of ``- . _ : /``.
- :data:`TOPIC_SUBSCRIPTIONS_PER_CLIENT_MAX`: subscriptions one client may hold.
- :class:`OfflineTopicQueue`: publishes made while offline wait here, in order,
  until the client flushes them after reconnecting. It is bounded by
  ``capacity``; when full, ``overflow`` decides: ``drop_oldest`` drops the head to
  make room, ``drop_newest`` drops the message being pushed, ``error`` raises
  :class:`~topgun_core.errors.LimitExceeded` and changes nothing. Every drop is
  reported in the :class:`PushResult` (which message, why) and counted in
  ``dropped_total`` — never silent (HARDENING.md §8).

Persistence. Each message carries a sequence number (``seq``, increasing) and has
a plain record form (:class:`PendingPublishRecord`, msgpack-friendly). The client
stores one kv row per message under :attr:`PendingPublish.kv_key` (zero-padded,
so key order is queue order): write the pushed message's row, delete the rows of
dropped and flushed messages, and on start rebuild the queue with
:meth:`OfflineTopicQueue.from_records` — which applies the capacity again (the
configuration may have shrunk) and reports what it dropped in ``restore_drops``.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias, TypedDict

from topgun_core.errors import LimitExceeded, ValidationError
from topgun_core.processors import check_json_value
from topgun_core.values import JsonValue

__all__ = [
    "OVERFLOW_POLICIES",
    "TOPIC_MESSAGE_BYTES_MAX",
    "TOPIC_NAME_CHARS_MAX",
    "TOPIC_OFFLINE_QUEUE_CAPACITY_DEFAULT",
    "TOPIC_OFFLINE_QUEUE_CAPACITY_MAX",
    "TOPIC_SUBSCRIPTIONS_PER_CLIENT_MAX",
    "DroppedPublish",
    "OfflineTopicQueue",
    "OverflowPolicy",
    "PendingPublish",
    "PendingPublishRecord",
    "PushResult",
    "validate_topic_name",
]

TOPIC_NAME_CHARS_MAX: Final = 256
TOPIC_SUBSCRIPTIONS_PER_CLIENT_MAX: Final = 100
"""Topics one client may be subscribed to at once."""
TOPIC_OFFLINE_QUEUE_CAPACITY_DEFAULT: Final = 1_000
"""Messages an offline queue holds unless configured otherwise."""
TOPIC_OFFLINE_QUEUE_CAPACITY_MAX: Final = 1_000_000
"""Largest configurable offline queue capacity, in messages."""
TOPIC_MESSAGE_BYTES_MAX: Final = 1_048_576
"""msgpack-encoded bytes of one queued message's ``data``."""

OverflowPolicy: TypeAlias = Literal["drop_oldest", "drop_newest", "error"]
OVERFLOW_POLICIES: Final[tuple[OverflowPolicy, ...]] = ("drop_oldest", "drop_newest", "error")

_TOPIC_NAME: Final = re.compile(r"[A-Za-z0-9_\-.:/]+")
_KV_KEY_DIGITS: Final = 20  # 2**64 has 20 digits


def validate_topic_name(name: object) -> str:
    """Return ``name`` if it is a valid topic name; raise ``ValidationError`` (field ``topic``)."""
    if not isinstance(name, str) or not name:
        raise ValidationError("topic", "a topic name must be a non-empty string")
    if len(name) > TOPIC_NAME_CHARS_MAX:
        raise ValidationError(
            "topic", f"a topic name has at most {TOPIC_NAME_CHARS_MAX} characters, got {len(name)}"
        )
    if _TOPIC_NAME.fullmatch(name) is None:
        bad = next(c for c in name if _TOPIC_NAME.fullmatch(c) is None)
        raise ValidationError(
            "topic",
            f"invalid character {bad!r} in topic name: use letters, digits and _ - . : / only",
        )
    return name


class PendingPublishRecord(TypedDict):
    """A queued message as stored in the client's kv namespace."""

    seq: int
    topic: str
    data: JsonValue


@dataclass(frozen=True, slots=True)
class PendingPublish:
    """A message published while offline: ``data`` for ``topic``, ``seq`` in queue order."""

    seq: int
    topic: str
    data: JsonValue

    @property
    def kv_key(self) -> str:
        """The kv key of this message's row; keys sort in queue order."""
        return f"{self.seq:0{_KV_KEY_DIGITS}d}"

    def to_record(self) -> PendingPublishRecord:
        """The stored form."""
        return {"seq": self.seq, "topic": self.topic, "data": self.data}

    @classmethod
    def from_record(cls, record: object, field: str = "record") -> PendingPublish:
        """Rebuild from :meth:`to_record` output; ``ValidationError`` names ``field``."""
        if not isinstance(record, Mapping) or set(record) != {"seq", "topic", "data"}:
            raise ValidationError(field, "must be an object {seq, topic, data}")
        seq = record["seq"]
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
            raise ValidationError(f"{field}.seq", "must be an integer >= 0")
        try:
            topic = validate_topic_name(record["topic"])
        except ValidationError as error:
            raise ValidationError(f"{field}.topic", error.problem) from None
        data = check_json_value(
            record["data"],
            f"{field}.data",
            bytes_max=TOPIC_MESSAGE_BYTES_MAX,
            limit="topic_message_bytes_max",
        )
        return cls(seq, topic, data)


@dataclass(frozen=True, slots=True)
class DroppedPublish:
    """A message the queue dropped, under which ``policy``, and a human-readable ``reason``."""

    message: PendingPublish
    policy: OverflowPolicy
    reason: str


@dataclass(frozen=True, slots=True)
class PushResult:
    """What :meth:`OfflineTopicQueue.push` did: the message, whether it is queued, the drops."""

    message: PendingPublish
    queued: bool
    dropped: tuple[DroppedPublish, ...] = ()


class OfflineTopicQueue:
    """A bounded FIFO of publishes waiting for a connection (module docstring)."""

    __slots__ = ("_capacity", "_items", "_next_seq", "_overflow", "dropped_total", "restore_drops")

    def __init__(
        self,
        capacity: int = TOPIC_OFFLINE_QUEUE_CAPACITY_DEFAULT,
        overflow: OverflowPolicy = "drop_oldest",
        *,
        next_seq: int = 0,
    ) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int):
            raise ValueError("capacity must be an int")
        if not 1 <= capacity <= TOPIC_OFFLINE_QUEUE_CAPACITY_MAX:
            raise ValueError(f"capacity must be from 1 to {TOPIC_OFFLINE_QUEUE_CAPACITY_MAX}")
        if overflow not in OVERFLOW_POLICIES:
            raise ValueError(f"overflow must be one of {', '.join(OVERFLOW_POLICIES)}")
        self._capacity = capacity
        self._overflow: OverflowPolicy = overflow
        self._items: deque[PendingPublish] = deque()
        self._next_seq = next_seq
        self.dropped_total = 0
        """Messages dropped by overflow since this queue was created (restores included)."""
        self.restore_drops: tuple[DroppedPublish, ...] = ()
        """What :meth:`from_records` dropped to fit the capacity."""

    @property
    def capacity(self) -> int:
        """Most messages held at once."""
        return self._capacity

    @property
    def overflow(self) -> OverflowPolicy:
        """What happens when a push finds the queue full."""
        return self._overflow

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[PendingPublish]:
        """The queued messages, oldest first."""
        return iter(tuple(self._items))

    def push(self, topic: str, data: JsonValue) -> PushResult:
        """Queue ``data`` for ``topic``, applying the overflow policy when full.

        Raises ``ValidationError`` for a bad topic name or non-JSON data,
        ``FieldLimitExceeded`` for data over :data:`TOPIC_MESSAGE_BYTES_MAX`, and
        ``LimitExceeded`` (``topic_offline_queue_capacity``) under the ``error``
        policy when full — the queue is then unchanged.
        """
        validate_topic_name(topic)
        checked = check_json_value(
            data, "data", bytes_max=TOPIC_MESSAGE_BYTES_MAX, limit="topic_message_bytes_max"
        )
        full = len(self._items) >= self._capacity
        if full and self._overflow == "error":
            raise LimitExceeded(
                "topic_offline_queue_capacity", len(self._items) + 1, self._capacity
            )
        message = PendingPublish(self._next_seq, topic, checked)
        self._next_seq += 1
        if not full:
            self._items.append(message)
            return PushResult(message, queued=True)
        if self._overflow == "drop_newest":
            return PushResult(message, queued=False, dropped=(self._drop(message),))
        dropped = self._drop(self._items.popleft())
        self._items.append(message)
        return PushResult(message, queued=True, dropped=(dropped,))

    def peek(self) -> PendingPublish | None:
        """The oldest message, left in place."""
        return self._items[0] if self._items else None

    def peek_batch(self, n: int) -> list[PendingPublish]:
        """Up to ``n`` oldest messages, left in place."""
        return [self._items[i] for i in range(min(_count(n), len(self._items)))]

    def pop_batch(self, n: int) -> list[PendingPublish]:
        """Remove and return up to ``n`` oldest messages."""
        return [self._items.popleft() for _ in range(min(_count(n), len(self._items)))]

    def to_records(self) -> list[PendingPublishRecord]:
        """Every queued message in stored form, oldest first."""
        return [message.to_record() for message in self._items]

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, object]],
        *,
        capacity: int = TOPIC_OFFLINE_QUEUE_CAPACITY_DEFAULT,
        overflow: OverflowPolicy = "drop_oldest",
    ) -> OfflineTopicQueue:
        """Rebuild a queue from stored records (any order; sorted by ``seq``).

        More records than ``capacity``: ``drop_oldest`` keeps the newest, the other
        policies keep the oldest (nothing can be refused any more); the dropped
        messages are in ``restore_drops`` and counted in ``dropped_total``.
        Duplicate sequence numbers or malformed records raise ``ValidationError``.
        """
        messages = sorted(
            (PendingPublish.from_record(r, f"records.{i}") for i, r in enumerate(records)),
            key=lambda m: m.seq,
        )
        for before, after in itertools.pairwise(messages):
            if before.seq == after.seq:
                raise ValidationError("records", f"duplicate sequence number {after.seq}")
        queue = cls(capacity, overflow, next_seq=messages[-1].seq + 1 if messages else 0)
        excess = max(0, len(messages) - capacity)
        if overflow == "drop_oldest":
            kept, gone = messages[excess:], messages[:excess]
        else:
            kept, gone = messages[: len(messages) - excess], messages[len(messages) - excess :]
        queue._items.extend(kept)
        queue.restore_drops = tuple(queue._drop(m, restoring=True) for m in gone)
        return queue

    def _drop(self, message: PendingPublish, *, restoring: bool = False) -> DroppedPublish:
        self.dropped_total += 1
        which = "oldest" if self._overflow == "drop_oldest" else "newest"
        when = "restored" if restoring else "full"
        reason = (
            f"offline topic queue {when} over its capacity of {self._capacity}: "
            f"dropped the {which} message"
        )
        return DroppedPublish(message, self._overflow, reason)


def _count(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"a batch size must be an int >= 0, got {n!r}")
    return n
