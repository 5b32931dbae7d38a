"""Server → client messages, part 1: handshake, acks, events, sync, queries and search.

One ``TypedDict`` per message (PROTOCOL.md "Server → client"), discriminated by its
``type`` literal; :mod:`topgun_core.protocol._unions` joins them into
``ServerMessage``. A ``SERVER_EVENT`` payload is itself a union discriminated by
``eventType``, so each kind carries exactly the record it needs.
"""

# No ``from __future__ import annotations`` here: on Python 3.11 it hides
# ``NotRequired`` from ``TypedDict.__required_keys__``.

from typing import Annotated, Literal, NotRequired, TypeAlias

from pydantic import Field
from typing_extensions import TypedDict

from topgun_core.protocol._common import (
    ChangeType,
    KeyedRecord,
    LWWRecordField,
    OpResult,
    ORMapEntry,
    ORRecordField,
    QueryResult,
    ScoredResult,
    WriteConcern,
)
from topgun_core.protocol._fields import (
    Hash32,
    Int,
    Key,
    MapName,
    MerklePath,
    Name,
    NodeId,
    TimestampField,
    UInt,
    Value,
)

__all__ = [
    "AuthAckMessage",
    "AuthFailMessage",
    "AuthRequiredMessage",
    "CursorStatus",
    "HybridQueryRespMessage",
    "HybridQueryRespPayload",
    "HybridQueryUpdateMessage",
    "MapNamePayload",
    "ORMapDiffResponseMessage",
    "ORMapEntriesPayload",
    "ORMapLeafPayload",
    "ORMapSyncRespBucketsMessage",
    "ORMapSyncRespLeafMessage",
    "ORMapSyncRespRootMessage",
    "OpAckMessage",
    "OpAckPayload",
    "OpRejectedMessage",
    "OpRejectedPayload",
    "OrAddEvent",
    "OrRemoveEvent",
    "PongMessage",
    "QueryRespMessage",
    "QueryRespPayload",
    "QueryUpdateMessage",
    "QueryUpdatePayload",
    "ScoredUpdatePayload",
    "SearchRespMessage",
    "SearchRespPayload",
    "SearchUpdateMessage",
    "ServerBatchEventMessage",
    "ServerBatchEventPayload",
    "ServerEvent",
    "ServerEventMessage",
    "SyncBucketsPayload",
    "SyncLeafPayload",
    "SyncResetRequiredMessage",
    "SyncRespBucketsMessage",
    "SyncRespLeafMessage",
    "SyncRespRootMessage",
    "SyncRootPayload",
    "UpdatedEvent",
]

CursorStatus: TypeAlias = Literal["valid", "expired", "invalid", "none"]
"""What became of the request's cursor: used, too old, not ours, or none given."""


# ---------------------------------------------------------------- handshake, liveness


class AuthRequiredMessage(TypedDict):
    """Sent on connect: the client must ``AUTH`` before anything but ``PING``."""

    type: Literal["AUTH_REQUIRED"]


class AuthAckMessage(TypedDict):
    """Authenticated: the negotiated protocol version, this node, its time, its features."""

    type: Literal["AUTH_ACK"]
    protocolVersion: UInt
    nodeId: NodeId
    serverTime: UInt
    features: list[str]


class AuthFailMessage(TypedDict):
    """Authentication failed; the server closes with 4001 after sending it."""

    type: Literal["AUTH_FAIL"]
    error: str


class PongMessage(TypedDict):
    """Answer to ``PING``: the echoed ``timestamp`` and the server's wall-clock millis.

    ``serverTime`` is a plain number, never fed to an HLC (SEMANTICS.md §2).
    """

    type: Literal["PONG"]
    timestamp: UInt
    serverTime: UInt


# ---------------------------------------------------------------- write results and events


class OpAckPayload(TypedDict):
    """Results for every op up to ``lastId``, with the write concern each achieved."""

    lastId: UInt
    achievedLevel: WriteConcern
    results: list[OpResult]


class OpAckMessage(TypedDict):
    """Acknowledges a ``CLIENT_OP`` or ``OP_BATCH``."""

    type: Literal["OP_ACK"]
    payload: OpAckPayload


class OpRejectedPayload(TypedDict):
    """Why op ``opId`` was refused (nothing of it was applied); ``code`` as in ``ERROR``."""

    opId: UInt
    reason: str
    code: Int


class OpRejectedMessage(TypedDict):
    """An op was rejected (validation, permission, clock drift, resolver...)."""

    type: Literal["OP_REJECTED"]
    payload: OpRejectedPayload


class _EventBase(TypedDict):
    mapName: MapName
    key: Key


class UpdatedEvent(_EventBase):
    """An LWW record changed (``record.value`` null: it was removed)."""

    eventType: Literal["UPDATED"]
    record: LWWRecordField


class OrAddEvent(_EventBase):
    """An OR-map record was added."""

    eventType: Literal["OR_ADD"]
    orRecord: ORRecordField


class OrRemoveEvent(_EventBase):
    """An OR-map tag was removed."""

    eventType: Literal["OR_REMOVE"]
    orTag: Name


ServerEvent: TypeAlias = Annotated[
    UpdatedEvent | OrAddEvent | OrRemoveEvent, Field(discriminator="eventType")
]
"""``{mapName, key, eventType, record? | orRecord? | orTag?}``, discriminated by ``eventType``."""


class ServerEventMessage(TypedDict):
    """A write applied elsewhere, broadcast to clients holding the map."""

    type: Literal["SERVER_EVENT"]
    payload: ServerEvent


class ServerBatchEventPayload(TypedDict):
    """Several events, in application order."""

    events: list[ServerEvent]


class ServerBatchEventMessage(TypedDict):
    """Several broadcast writes at once."""

    type: Literal["SERVER_BATCH_EVENT"]
    payload: ServerBatchEventPayload


# ---------------------------------------------------------------- LWW and OR sync


class SyncRootPayload(TypedDict):
    """A map's Merkle root and the server's HLC time when it was taken."""

    mapName: MapName
    rootHash: Hash32
    timestamp: TimestampField


class SyncRespRootMessage(TypedDict):
    """The LWW map's Merkle root, answering ``SYNC_INIT``."""

    type: Literal["SYNC_RESP_ROOT"]
    payload: SyncRootPayload


class SyncBucketsPayload(TypedDict):
    """Child hashes under ``path``, by hex digit."""

    mapName: MapName
    path: MerklePath
    buckets: dict[str, Hash32]


class SyncRespBucketsMessage(TypedDict):
    """Child bucket hashes of an LWW map's trie node."""

    type: Literal["SYNC_RESP_BUCKETS"]
    payload: SyncBucketsPayload


class SyncLeafPayload(TypedDict):
    """Every record (tombstones included) of one leaf."""

    mapName: MapName
    path: MerklePath
    records: list[KeyedRecord]


class SyncRespLeafMessage(TypedDict):
    """The records of an LWW map's leaf."""

    type: Literal["SYNC_RESP_LEAF"]
    payload: SyncLeafPayload


class MapNamePayload(TypedDict):
    """Names a map."""

    mapName: MapName


class SyncResetRequiredMessage(TypedDict):
    """The client's last sync is older than the tombstone GC horizon: clear and resync."""

    type: Literal["SYNC_RESET_REQUIRED"]
    payload: MapNamePayload


class ORMapSyncRespRootMessage(TypedDict):
    """The OR map's Merkle root, answering ``ORMAP_SYNC_INIT``."""

    type: Literal["ORMAP_SYNC_RESP_ROOT"]
    payload: SyncRootPayload


class ORMapSyncRespBucketsMessage(TypedDict):
    """Child bucket hashes of an OR map's trie node."""

    type: Literal["ORMAP_SYNC_RESP_BUCKETS"]
    payload: SyncBucketsPayload


class ORMapLeafPayload(TypedDict):
    """Every key's records and tombstones of one leaf."""

    mapName: MapName
    path: MerklePath
    entries: list[ORMapEntry]


class ORMapSyncRespLeafMessage(TypedDict):
    """The entries of an OR map's leaf."""

    type: Literal["ORMAP_SYNC_RESP_LEAF"]
    payload: ORMapLeafPayload


class ORMapEntriesPayload(TypedDict):
    """OR-map state of some keys."""

    mapName: MapName
    entries: list[ORMapEntry]


class ORMapDiffResponseMessage(TypedDict):
    """The OR-map state of the keys an ``ORMAP_DIFF_REQUEST`` named."""

    type: Literal["ORMAP_DIFF_RESPONSE"]
    payload: ORMapEntriesPayload


# ---------------------------------------------------------------- queries and search


class QueryRespPayload(TypedDict):
    """A page of query results; ``nextCursor`` fetches the next page."""

    queryId: Name
    results: list[QueryResult]
    nextCursor: NotRequired[str]
    hasMore: NotRequired[bool]
    cursorStatus: NotRequired[CursorStatus]


class QueryRespMessage(TypedDict):
    """A live query's initial snapshot (or one page of it)."""

    type: Literal["QUERY_RESP"]
    payload: QueryRespPayload


class QueryUpdatePayload(TypedDict):
    """One key entered, changed in, or left a live query's result."""

    queryId: Name
    key: Key
    value: Value
    changeType: ChangeType


class QueryUpdateMessage(TypedDict):
    """A live query delta."""

    type: Literal["QUERY_UPDATE"]
    payload: QueryUpdatePayload


class HybridQueryRespPayload(TypedDict):
    """A page of ranked hybrid-query results."""

    subscriptionId: Name
    results: list[ScoredResult]
    nextCursor: NotRequired[str]
    hasMore: NotRequired[bool]
    cursorStatus: NotRequired[CursorStatus]


class HybridQueryRespMessage(TypedDict):
    """A hybrid live query's initial snapshot."""

    type: Literal["HYBRID_QUERY_RESP"]
    payload: HybridQueryRespPayload


class ScoredUpdatePayload(TypedDict):
    """One key entered, changed in, or left a ranked result, with its score."""

    subscriptionId: Name
    key: Key
    value: Value
    score: float
    matchedTerms: list[str]
    changeType: ChangeType


class HybridQueryUpdateMessage(TypedDict):
    """A hybrid live query delta."""

    type: Literal["HYBRID_QUERY_UPDATE"]
    payload: ScoredUpdatePayload


class SearchRespPayload(TypedDict):
    """Ranked search results; ``totalCount`` counts all matches, not just this page."""

    requestId: Name
    results: list[ScoredResult]
    totalCount: UInt
    nextCursor: NotRequired[str]


class SearchRespMessage(TypedDict):
    """Answer to ``SEARCH`` (and the snapshot of a ``SEARCH_SUB``)."""

    type: Literal["SEARCH_RESP"]
    payload: SearchRespPayload


class SearchUpdateMessage(TypedDict):
    """A live search delta."""

    type: Literal["SEARCH_UPDATE"]
    payload: ScoredUpdatePayload
