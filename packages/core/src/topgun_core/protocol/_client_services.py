"""Client → server messages, part 2: locks, topics, counters, processors, resolvers, journal.

Same conventions as :mod:`topgun_core.protocol._client`: one ``TypedDict`` per
message with a ``type`` literal; fields under ``payload`` where PROTOCOL.md writes
``payload {...}``, at the top level otherwise (entry processors, resolvers, journal).
"""

# No ``from __future__ import annotations`` here: on Python 3.11 it hides
# ``NotRequired`` from ``TypedDict.__required_keys__``.

from typing import Annotated, Literal, NotRequired

from typing_extensions import TypedDict

from topgun_core.protocol._common import (
    JournalEventType,
    PNCounterStateField,
)
from topgun_core.protocol._fields import (
    Key,
    MapName,
    Name,
    UInt,
    Value,
    int_between,
)

__all__ = [
    "CounterNamePayload",
    "CounterRequestMessage",
    "CounterStatePayload",
    "CounterSyncMessage",
    "EntryProcessBatchMessage",
    "EntryProcessMessage",
    "EntryProcessor",
    "JournalReadMessage",
    "JournalSubscribeMessage",
    "JournalUnsubscribeMessage",
    "ListResolversMessage",
    "LockReleaseMessage",
    "LockReleasePayload",
    "LockRequestMessage",
    "LockRequestPayload",
    "PartitionMapRequestMessage",
    "PartitionMapRequestPayload",
    "RegisterResolverMessage",
    "ResolverSpec",
    "TopicPayload",
    "TopicPubMessage",
    "TopicPubPayload",
    "TopicSubMessage",
    "TopicUnsubMessage",
    "UnregisterResolverMessage",
]


# ---------------------------------------------------------------- locks, topics, counters


class LockRequestPayload(TypedDict):
    """Acquire lock ``name``; ``ttl`` in ms (default 10 s, clamped to [1 s, 300 s])."""

    requestId: Name
    name: Name
    ttl: NotRequired[UInt]


class LockRequestMessage(TypedDict):
    """Acquire a distributed lock; answered by ``LOCK_GRANTED`` when it is ours."""

    type: Literal["LOCK_REQUEST"]
    payload: LockRequestPayload


class LockReleasePayload(TypedDict):
    """Release lock ``name`` held with ``fencingToken``."""

    requestId: NotRequired[Name]
    name: Name
    fencingToken: UInt


class LockReleaseMessage(TypedDict):
    """Release a lock; answered by ``LOCK_RELEASED``."""

    type: Literal["LOCK_RELEASE"]
    payload: LockReleasePayload


class TopicPayload(TypedDict):
    """Names a topic (1 to 256 word characters and ``-._:/``)."""

    topic: Name


class TopicSubMessage(TypedDict):
    """Subscribe to a topic."""

    type: Literal["TOPIC_SUB"]
    payload: TopicPayload


class TopicUnsubMessage(TypedDict):
    """Unsubscribe from a topic."""

    type: Literal["TOPIC_UNSUB"]
    payload: TopicPayload


class TopicPubPayload(TypedDict):
    """A message for every other subscriber of ``topic``."""

    topic: Name
    data: Value


class TopicPubMessage(TypedDict):
    """Publish to a topic."""

    type: Literal["TOPIC_PUB"]
    payload: TopicPubPayload


class CounterNamePayload(TypedDict):
    """Names a PN counter."""

    name: Name


class CounterRequestMessage(TypedDict):
    """Ask for a counter's state and subscribe to its updates."""

    type: Literal["COUNTER_REQUEST"]
    payload: CounterNamePayload


class CounterStatePayload(TypedDict):
    """A PN counter's full state."""

    name: Name
    state: PNCounterStateField


class CounterSyncMessage(TypedDict):
    """Push the client's counter state to be merged."""

    type: Literal["COUNTER_SYNC"]
    payload: CounterStatePayload


# ---------------------------------------------------------------- processors, resolvers, journal


class EntryProcessor(TypedDict):
    """A built-in processor by ``name``, or user ``code`` run in the sandbox, with ``args``."""

    name: Name
    code: NotRequired[str]
    args: NotRequired[Value]


class EntryProcessMessage(TypedDict):
    """Run an entry processor atomically on one key."""

    type: Literal["ENTRY_PROCESS"]
    requestId: Name
    mapName: MapName
    key: Key
    processor: EntryProcessor


class EntryProcessBatchMessage(TypedDict):
    """Run an entry processor on each of several keys."""

    type: Literal["ENTRY_PROCESS_BATCH"]
    requestId: Name
    mapName: MapName
    keys: list[Key]
    processor: EntryProcessor


class ResolverSpec(TypedDict):
    """A conflict resolver: built-in ``name`` or sandboxed ``code``; priority 0 to 100."""

    name: Name
    code: NotRequired[str]
    priority: NotRequired[Annotated[int, int_between(0, 100)]]
    keyPattern: NotRequired[str]


class RegisterResolverMessage(TypedDict):
    """Register a conflict resolver on a map."""

    type: Literal["REGISTER_RESOLVER"]
    requestId: Name
    mapName: MapName
    resolver: ResolverSpec


class UnregisterResolverMessage(TypedDict):
    """Remove a conflict resolver from a map."""

    type: Literal["UNREGISTER_RESOLVER"]
    requestId: Name
    mapName: MapName
    resolverName: Name


class ListResolversMessage(TypedDict):
    """List registered resolvers, of one map or of all."""

    type: Literal["LIST_RESOLVERS"]
    requestId: Name
    mapName: NotRequired[MapName]


class JournalSubscribeMessage(TypedDict):
    """Stream journal events (optionally from ``fromSequence``, one map, some types).

    ``requestId`` becomes the subscription id that ``JOURNAL_UNSUBSCRIBE`` names.
    """

    type: Literal["JOURNAL_SUBSCRIBE"]
    requestId: Name
    fromSequence: NotRequired[UInt]
    mapName: NotRequired[MapName]
    types: NotRequired[list[JournalEventType]]


class JournalUnsubscribeMessage(TypedDict):
    """Stop a journal subscription."""

    type: Literal["JOURNAL_UNSUBSCRIBE"]
    subscriptionId: Name


class JournalReadMessage(TypedDict):
    """Read up to ``limit`` journal events from ``fromSequence``."""

    type: Literal["JOURNAL_READ"]
    requestId: Name
    fromSequence: UInt
    limit: NotRequired[UInt]
    mapName: NotRequired[MapName]


class PartitionMapRequestPayload(TypedDict):
    """The version the client has, if any (the server may skip an unchanged map)."""

    currentVersion: NotRequired[UInt]


class PartitionMapRequestMessage(TypedDict):
    """Ask for the cluster's partition map."""

    type: Literal["PARTITION_MAP_REQUEST"]
    payload: PartitionMapRequestPayload
