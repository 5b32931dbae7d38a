"""Server → client messages, part 2: locks, topics, counters, processors, resolvers,
journal, cluster map, GC, errors, shutdown and the ``BATCH`` envelope.

Same conventions as :mod:`topgun_core.protocol._server`. ``BATCH.data`` is the
only ``bytes`` field of the client wire: see :mod:`topgun_core.protocol._batch` for
its layout and how it travels in a JSON frame.
"""

# No ``from __future__ import annotations`` here: on Python 3.11 it hides
# ``NotRequired`` from ``TypedDict.__required_keys__``.

from typing import Annotated, Literal, NotRequired

from typing_extensions import TypedDict

from topgun_core.protocol._common import (
    JournalEventField,
    PartitionMapPayload,
    PNCounterStateField,
)
from topgun_core.protocol._fields import (
    Int,
    Key,
    MapName,
    Name,
    TimestampField,
    UInt,
    Value,
    int_between,
)

__all__ = [
    "BatchMessage",
    "CounterPayload",
    "CounterResponseMessage",
    "CounterUpdateMessage",
    "EntryProcessBatchResponseMessage",
    "EntryProcessResponseMessage",
    "EntryProcessResult",
    "ErrorMessage",
    "ErrorPayload",
    "GcPruneMessage",
    "GcPrunePayload",
    "JournalEventMessage",
    "JournalReadResponseMessage",
    "ListResolversResponseMessage",
    "LockGrantedMessage",
    "LockGrantedPayload",
    "LockReleasedMessage",
    "LockReleasedPayload",
    "MergeRejectedMessage",
    "PartitionMapMessage",
    "RegisterResolverResponseMessage",
    "ResolverInfo",
    "ShutdownPendingMessage",
    "TopicMessageMessage",
    "TopicMessagePayload",
    "UnregisterResolverResponseMessage",
]


# ---------------------------------------------------------------- locks, topics, counters


class LockGrantedPayload(TypedDict):
    """The lock is ours; ``fencingToken`` strictly increases for the life of the data."""

    requestId: Name
    name: Name
    fencingToken: UInt


class LockGrantedMessage(TypedDict):
    """A ``LOCK_REQUEST`` succeeded (possibly after waiting in the FIFO queue)."""

    type: Literal["LOCK_GRANTED"]
    payload: LockGrantedPayload


class LockReleasedPayload(TypedDict):
    """Whether the release was accepted (owner and fencing token matched)."""

    requestId: Name
    name: Name
    success: bool


class LockReleasedMessage(TypedDict):
    """Answer to ``LOCK_RELEASE``."""

    type: Literal["LOCK_RELEASED"]
    payload: LockReleasedPayload


class TopicMessagePayload(TypedDict):
    """A published message; ``timestamp`` is the server's wall-clock millis."""

    topic: Name
    data: Value
    publisherId: NotRequired[Name]
    timestamp: UInt


class TopicMessageMessage(TypedDict):
    """A message published on a subscribed topic."""

    type: Literal["TOPIC_MESSAGE"]
    payload: TopicMessagePayload


class CounterPayload(TypedDict):
    """A PN counter's merged state."""

    name: Name
    state: PNCounterStateField


class CounterResponseMessage(TypedDict):
    """Answer to ``COUNTER_REQUEST``."""

    type: Literal["COUNTER_RESPONSE"]
    payload: CounterPayload


class CounterUpdateMessage(TypedDict):
    """A subscribed counter changed."""

    type: Literal["COUNTER_UPDATE"]
    payload: CounterPayload


# ---------------------------------------------------------------- processors and resolvers


class EntryProcessResponseMessage(TypedDict):
    """The outcome of ``ENTRY_PROCESS``: the processor's ``result`` and the key's ``newValue``."""

    type: Literal["ENTRY_PROCESS_RESPONSE"]
    requestId: Name
    success: bool
    result: NotRequired[Value]
    newValue: NotRequired[Value]
    error: NotRequired[str]


class EntryProcessResult(TypedDict):
    """The outcome for one key of ``ENTRY_PROCESS_BATCH``."""

    success: bool
    result: NotRequired[Value]
    newValue: NotRequired[Value]
    error: NotRequired[str]


class EntryProcessBatchResponseMessage(TypedDict):
    """The outcome of ``ENTRY_PROCESS_BATCH``, by key."""

    type: Literal["ENTRY_PROCESS_BATCH_RESPONSE"]
    requestId: Name
    results: dict[Key, EntryProcessResult]


class RegisterResolverResponseMessage(TypedDict):
    """Answer to ``REGISTER_RESOLVER``."""

    type: Literal["REGISTER_RESOLVER_RESPONSE"]
    requestId: Name
    success: bool
    error: NotRequired[str]


class UnregisterResolverResponseMessage(TypedDict):
    """Answer to ``UNREGISTER_RESOLVER``."""

    type: Literal["UNREGISTER_RESOLVER_RESPONSE"]
    requestId: Name
    success: bool
    error: NotRequired[str]


class ResolverInfo(TypedDict):
    """A registered resolver (its code is never sent back)."""

    mapName: MapName
    name: Name
    priority: Annotated[int, int_between(0, 100)]
    keyPattern: NotRequired[str]


class ListResolversResponseMessage(TypedDict):
    """Answer to ``LIST_RESOLVERS``."""

    type: Literal["LIST_RESOLVERS_RESPONSE"]
    requestId: Name
    resolvers: list[ResolverInfo]


class MergeRejectedMessage(TypedDict):
    """A conflict resolver rejected the client's write of ``attemptedValue`` to ``key``."""

    type: Literal["MERGE_REJECTED"]
    mapName: MapName
    key: Key
    attemptedValue: Value
    reason: str
    timestamp: TimestampField


# ---------------------------------------------------------------- journal


class JournalEventMessage(TypedDict):
    """One event of a journal subscription.

    ``subscriptionId`` (**new**) is the ``requestId`` of the ``JOURNAL_SUBSCRIBE``
    it answers, so a client with several subscriptions knows whose event it is.
    """

    type: Literal["JOURNAL_EVENT"]
    event: JournalEventField
    subscriptionId: NotRequired[Name]


class JournalReadResponseMessage(TypedDict):
    """Answer to ``JOURNAL_READ``; ``hasMore`` says a further read would return more."""

    type: Literal["JOURNAL_READ_RESPONSE"]
    requestId: Name
    events: list[JournalEventField]
    hasMore: bool


# ---------------------------------------------------------------- cluster map, GC, errors, shutdown


class PartitionMapMessage(TypedDict):
    """The partition map, with every node's real client-facing endpoints."""

    type: Literal["PARTITION_MAP"]
    payload: PartitionMapPayload


class GcPrunePayload(TypedDict):
    """Tombstones strictly older than this HLC timestamp may be dropped."""

    olderThan: TimestampField


class GcPruneMessage(TypedDict):
    """The cluster's tombstone GC horizon advanced: prune local tombstones older than it."""

    type: Literal["GC_PRUNE"]
    payload: GcPrunePayload


class ErrorPayload(TypedDict):
    """An error code (400 invalid, 401, 403, 404, 409, 413, 429, 500, 503) and safe text."""

    code: Int
    message: str
    details: NotRequired[Value]


class ErrorMessage(TypedDict):
    """A request failed; the message never leaks internals (no SQL, paths, traces)."""

    type: Literal["ERROR"]
    payload: ErrorPayload


class ShutdownPendingMessage(TypedDict):
    """The server is shutting down; reconnect (elsewhere) after ``retryAfter`` ms."""

    type: Literal["SHUTDOWN_PENDING"]
    retryAfter: UInt


class BatchMessage(TypedDict):
    """Several messages in one frame (the per-connection coalescing writer).

    ``data``: little-endian u32 count, then per message a little-endian u32 length
    and that many bytes of one msgpack-encoded message (``pack_batch`` /
    ``unpack_batch``). ``count`` repeats the number of messages.
    """

    type: Literal["BATCH"]
    count: UInt
    data: bytes
