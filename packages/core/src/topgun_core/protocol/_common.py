"""Shapes shared by many messages: records, ops, queries, counters, journal, partitions.

Every shape is a ``TypedDict`` whose keys are the camelCase wire names
(PROTOCOL.md "Shared shapes"); a decoded message *is* a tree of plain dicts, so
handlers read ``op["mapName"]`` with full static typing and nothing is copied into
objects. Optional fields are ``NotRequired``: they are omitted, never ``null``.

Ops are a union discriminated by ``opType``: each kind requires exactly the fields it
needs (a ``PUT`` carries ``record``, an ``OR_ADD`` carries ``orRecord``...), so a
handler narrowing on ``op["opType"]`` gets the right fields and a malformed op is
rejected at the edge instead of half-applied.
"""

# No ``from __future__ import annotations`` here: on Python 3.11 it hides
# ``NotRequired`` from ``TypedDict.__required_keys__``.

from typing import Annotated, Literal, NotRequired, TypeAlias

from pydantic import Field
from typing_extensions import TypedDict

from topgun_core.hlc import TimestampWire
from topgun_core.journal import JournalEventType, JournalEventWire
from topgun_core.lww_map import LWWRecordWire
from topgun_core.or_map import ORRecordWire
from topgun_core.pn_counter import COUNT_MAX, PNCounterState
from topgun_core.protocol._fields import (
    Key,
    MapName,
    Name,
    NodeId,
    PositiveNumber,
    TimestampField,
    UInt,
    Value,
    Via,
    int_between,
)

Tally = Annotated[int, int_between(0, COUNT_MAX)]
"""A PN counter's per-node tally (at most JavaScript's safe-integer maximum)."""

__all__ = [
    "ChangeType",
    "ClientOp",
    "JournalEventType",
    "JournalEventWire",
    "KeyedRecord",
    "LWWRecordWire",
    "NodeEndpoints",
    "NodeStatus",
    "ORMapEntry",
    "ORRecordWire",
    "OpResult",
    "OrAddOp",
    "OrRemoveOp",
    "PNCounterState",
    "PartitionInfo",
    "PartitionMapNode",
    "PartitionMapPayload",
    "PredicateNode",
    "PredicateOp",
    "PutOp",
    "Query",
    "QueryResult",
    "RemoveOp",
    "ScoredResult",
    "SearchOptions",
    "SortDirection",
    "TimestampWire",
    "WriteConcern",
]

WriteConcern: TypeAlias = Literal["FIRE_AND_FORGET", "MEMORY", "APPLIED", "REPLICATED", "PERSISTED"]
"""How far a write must get before it is acknowledged (SEMANTICS.md §7), weakest first."""

ChangeType: TypeAlias = Literal["ENTER", "UPDATE", "LEAVE"]
"""How a live query's or search's result set changed for one key."""

SortDirection: TypeAlias = Literal["asc", "desc"]

PredicateOp: TypeAlias = Literal[
    "eq", "neq", "gt", "gte", "lt", "lte", "between", "in", "like", "regex",
    "contains", "containsAll", "containsAny", "and", "or", "not",
    "match", "matchPhrase", "matchPrefix",
]  # fmt: skip
"""Predicate operators (SEMANTICS.md §8); any other name is a validation error."""

NodeStatus: TypeAlias = Literal["ACTIVE", "JOINING", "LEAVING", "SUSPECTED", "FAILED"]


# Records, journal events and counter states travel in the shapes the CRDT modules
# define (``LWWRecordWire``...), so a decoded record goes straight into
# ``LWWRecord.from_wire``. Each ``*Shape`` below is how the codec validates one; the
# ``*Field`` alias pairs the static type with it (see ``_fields.Via``).


class LWWRecordShape(TypedDict):
    """A last-writer-wins record; ``value`` null is a tombstone; ``ttlMs`` > 0 if set."""

    value: Value
    timestamp: TimestampField
    ttlMs: NotRequired[PositiveNumber]


class TombstoneShape(TypedDict):
    """The record of a ``REMOVE`` op: an LWW record whose value is null."""

    value: None
    timestamp: TimestampField


class ORRecordShape(TypedDict):
    """An observed-remove record; ``tag`` is the HLC string of the add."""

    value: Value
    timestamp: TimestampField
    tag: Name
    ttlMs: NotRequired[PositiveNumber]


LWWRecordField = Annotated[LWWRecordWire, Via(LWWRecordShape)]
TombstoneField = Annotated[LWWRecordWire, Via(TombstoneShape)]
ORRecordField = Annotated[ORRecordWire, Via(ORRecordShape)]


class _OpBase(TypedDict):
    id: UInt
    mapName: MapName
    key: Key
    writeConcern: NotRequired[WriteConcern]
    timeout: NotRequired[UInt]


class PutOp(_OpBase):
    """Write ``record`` to an LWW map. ``id`` is a client-unique integer sequence."""

    opType: Literal["PUT"]
    record: LWWRecordField


class RemoveOp(_OpBase):
    """Remove a key from an LWW map by writing the tombstone ``record``."""

    opType: Literal["REMOVE"]
    record: TombstoneField


class OrAddOp(_OpBase):
    """Add ``orRecord`` (a new tag) under ``key`` of an OR map."""

    opType: Literal["OR_ADD"]
    orRecord: ORRecordField


class OrRemoveOp(_OpBase):
    """Tombstone the tag ``orTag`` under ``key`` of an OR map."""

    opType: Literal["OR_REMOVE"]
    orTag: Name


ClientOp: TypeAlias = Annotated[
    PutOp | RemoveOp | OrAddOp | OrRemoveOp, Field(discriminator="opType")
]
"""One write: ``{id, mapName, key, opType, record? | orRecord? | orTag?, writeConcern?,
timeout?}``, discriminated by ``opType``."""


class OpResult(TypedDict):
    """The outcome of one op in an ``OP_ACK``."""

    opId: UInt
    success: bool
    achievedLevel: WriteConcern
    error: NotRequired[str]


class PredicateNode(TypedDict):
    """One node of a predicate tree: a comparison on ``attribute`` or a combinator."""

    op: PredicateOp
    attribute: NotRequired[str]
    value: NotRequired[Value]
    children: NotRequired[list["PredicateNode"]]


class Query(TypedDict):
    """A query: predicate and/or legacy ``where``, ordered ``sort``, paging."""

    predicate: NotRequired[PredicateNode]
    where: NotRequired[dict[str, Value]]
    sort: NotRequired[dict[str, SortDirection]]
    limit: NotRequired[UInt]
    cursor: NotRequired[str]


class SearchOptions(TypedDict):
    """Full-text search options; ``boost`` weights per-field scores."""

    limit: NotRequired[UInt]
    minScore: NotRequired[float]
    boost: NotRequired[dict[str, float]]


class QueryResult(TypedDict):
    """One row of a query result."""

    key: Key
    value: Value


class ScoredResult(TypedDict):
    """One row of a search or hybrid-query result, with its relevance."""

    key: Key
    value: Value
    score: float
    matchedTerms: list[str]


class KeyedRecord(TypedDict):
    """An LWW record with its key (Merkle leaves, repair and migration data)."""

    key: Key
    record: LWWRecordField


class ORMapEntry(TypedDict):
    """All OR-map state of one key: live records and tombstoned tags."""

    key: Key
    records: list[ORRecordField]
    tombstones: list[Name]


class PNCounterStateShape(TypedDict):
    """A PN counter: per-node increments ``p`` and decrements ``n`` (SEMANTICS.md §5)."""

    p: dict[NodeId, Tally]
    n: dict[NodeId, Tally]


PNCounterStateField = Annotated[PNCounterState, Via(PNCounterStateShape)]


class JournalEventShape(TypedDict):
    """One event-journal entry (SEMANTICS.md §10)."""

    sequence: UInt
    type: JournalEventType
    mapName: MapName
    key: Key
    value: NotRequired[Value]
    previousValue: NotRequired[Value]
    timestamp: TimestampField
    nodeId: NodeId


JournalEventField = Annotated[JournalEventWire, Via(JournalEventShape)]


class NodeEndpoints(TypedDict):
    """A node's client-facing addresses (URLs)."""

    websocket: str
    http: str


class PartitionMapNode(TypedDict):
    """A cluster member as clients see it."""

    nodeId: NodeId
    endpoints: NodeEndpoints
    status: NodeStatus


class PartitionInfo(TypedDict):
    """Who owns one partition and who backs it up."""

    partitionId: UInt
    ownerNodeId: NodeId
    backupNodeIds: list[NodeId]


class PartitionMapPayload(TypedDict):
    """The partition table: nodes with their real endpoints and every partition's owner."""

    version: UInt
    partitionCount: UInt
    nodes: list[PartitionMapNode]
    partitions: list[PartitionInfo]
