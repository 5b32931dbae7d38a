"""Client → server messages, part 1: handshake, writes, sync, queries and search.

One ``TypedDict`` per message (PROTOCOL.md "Client → server"), discriminated by
its ``type`` literal; :mod:`topgun_core.protocol._unions` joins them into
``ClientMessage``. Messages that PROTOCOL.md writes as ``payload {...}`` nest their
fields under ``payload``; the others (auth, sync init) carry them at the top level,
exactly as the table writes them.
"""

# No ``from __future__ import annotations`` here: on Python 3.11 it hides
# ``NotRequired`` from ``TypedDict.__required_keys__``.

from typing import Annotated, Literal, NotRequired

from typing_extensions import TypedDict

from topgun_core.protocol._common import (
    ClientOp,
    ORMapEntry,
    PredicateNode,
    Query,
    SearchOptions,
    SortDirection,
    WriteConcern,
)
from topgun_core.protocol._fields import (
    Hash32,
    Key,
    MapName,
    MerklePath,
    Name,
    UInt,
    Value,
    limited_list,
)

__all__ = [
    "AuthMessage",
    "ClientOpMessage",
    "HybridQuerySubMessage",
    "HybridQuerySubPayload",
    "HybridQueryUnsubMessage",
    "MapPathPayload",
    "MerkleReqBucketMessage",
    "ORMapDiffRequestMessage",
    "ORMapDiffRequestPayload",
    "ORMapMerkleReqBucketMessage",
    "ORMapPushDiffMessage",
    "ORMapPushDiffPayload",
    "ORMapSyncInitMessage",
    "OpBatchMessage",
    "OpBatchPayload",
    "PingMessage",
    "QueryIdPayload",
    "QuerySubMessage",
    "QuerySubPayload",
    "QueryUnsubMessage",
    "SearchMessage",
    "SearchPayload",
    "SearchSubMessage",
    "SearchSubPayload",
    "SearchUnsubMessage",
    "SubscriptionIdPayload",
    "SyncInitMessage",
]


# ---------------------------------------------------------------- handshake, liveness


class AuthMessage(TypedDict):
    """Authenticate with a JWT; optionally negotiate the protocol version and name the client."""

    type: Literal["AUTH"]
    token: str
    protocolVersion: NotRequired[UInt]
    clientId: NotRequired[Name]


class PingMessage(TypedDict):
    """Liveness probe, allowed before auth; ``timestamp`` is the client's wall-clock millis."""

    type: Literal["PING"]
    timestamp: UInt


# ---------------------------------------------------------------- writes


class ClientOpMessage(TypedDict):
    """One write; answered by an ``OP_ACK`` (or ``OP_REJECTED``)."""

    type: Literal["CLIENT_OP"]
    payload: ClientOp


class OpBatchPayload(TypedDict):
    """Up to ``batch_ops_max`` ops; ``writeConcern``/``timeout`` apply to ops without their own."""

    ops: Annotated[list[ClientOp], limited_list("batch_ops_max")]
    writeConcern: NotRequired[WriteConcern]
    timeout: NotRequired[UInt]


class OpBatchMessage(TypedDict):
    """Several writes (the offline op log on reconnect); every op gets a result."""

    type: Literal["OP_BATCH"]
    payload: OpBatchPayload


# ---------------------------------------------------------------- LWW and OR sync


class SyncInitMessage(TypedDict):
    """Start Merkle sync of an LWW map; ``lastSyncTimestamp`` is millis of the last sync."""

    type: Literal["SYNC_INIT"]
    mapName: MapName
    lastSyncTimestamp: NotRequired[UInt]


class MapPathPayload(TypedDict):
    """A Merkle trie node of one map."""

    mapName: MapName
    path: MerklePath


class MerkleReqBucketMessage(TypedDict):
    """Ask for the child buckets (or the leaf records) under ``path`` of an LWW map."""

    type: Literal["MERKLE_REQ_BUCKET"]
    payload: MapPathPayload


class ORMapSyncInitMessage(TypedDict):
    """Start two-way sync of an OR map with the client's root and top-level bucket hashes."""

    type: Literal["ORMAP_SYNC_INIT"]
    mapName: MapName
    rootHash: Hash32
    bucketHashes: dict[str, Hash32]
    lastSyncTimestamp: NotRequired[UInt]


class ORMapMerkleReqBucketMessage(TypedDict):
    """Ask for the child buckets (or leaf entries) under ``path`` of an OR map."""

    type: Literal["ORMAP_MERKLE_REQ_BUCKET"]
    payload: MapPathPayload


class ORMapDiffRequestPayload(TypedDict):
    """Keys whose full OR-map state the client wants."""

    mapName: MapName
    keys: list[Key]


class ORMapDiffRequestMessage(TypedDict):
    """Ask for the records and tombstones of specific OR-map keys."""

    type: Literal["ORMAP_DIFF_REQUEST"]
    payload: ORMapDiffRequestPayload


class ORMapPushDiffPayload(TypedDict):
    """The client's OR-map state for some keys."""

    mapName: MapName
    entries: list[ORMapEntry]


class ORMapPushDiffMessage(TypedDict):
    """Push the client's records and tombstones for keys that differ."""

    type: Literal["ORMAP_PUSH_DIFF"]
    payload: ORMapPushDiffPayload


# ---------------------------------------------------------------- queries and search


class QuerySubPayload(TypedDict):
    """A live query on one map."""

    queryId: Name
    mapName: MapName
    query: Query


class QuerySubMessage(TypedDict):
    """Subscribe to a live query: a ``QUERY_RESP`` snapshot, then ``QUERY_UPDATE`` deltas."""

    type: Literal["QUERY_SUB"]
    payload: QuerySubPayload


class QueryIdPayload(TypedDict):
    """Names a live query."""

    queryId: Name


class QueryUnsubMessage(TypedDict):
    """End a live query."""

    type: Literal["QUERY_UNSUB"]
    payload: QueryIdPayload


class HybridQuerySubPayload(TypedDict):
    """A full-text + filter query: ``predicate`` may mix match ops and comparisons."""

    subscriptionId: Name
    mapName: MapName
    predicate: PredicateNode
    where: NotRequired[dict[str, Value]]
    sort: NotRequired[dict[str, SortDirection]]
    limit: NotRequired[UInt]
    cursor: NotRequired[str]


class HybridQuerySubMessage(TypedDict):
    """Subscribe to a hybrid (full-text + filter) live query, ranked by score."""

    type: Literal["HYBRID_QUERY_SUB"]
    payload: HybridQuerySubPayload


class SubscriptionIdPayload(TypedDict):
    """Names a subscription."""

    subscriptionId: Name


class HybridQueryUnsubMessage(TypedDict):
    """End a hybrid live query."""

    type: Literal["HYBRID_QUERY_UNSUB"]
    payload: SubscriptionIdPayload


class SearchPayload(TypedDict):
    """A one-shot full-text search."""

    requestId: Name
    mapName: MapName
    query: str
    options: SearchOptions


class SearchMessage(TypedDict):
    """Run a full-text search once; answered by ``SEARCH_RESP``."""

    type: Literal["SEARCH"]
    payload: SearchPayload


class SearchSubPayload(TypedDict):
    """A live full-text search."""

    subscriptionId: Name
    mapName: MapName
    query: str
    options: NotRequired[SearchOptions]


class SearchSubMessage(TypedDict):
    """Subscribe to a live search: ``SEARCH_RESP`` then ``SEARCH_UPDATE`` deltas."""

    type: Literal["SEARCH_SUB"]
    payload: SearchSubPayload


class SearchUnsubMessage(TypedDict):
    """End a live search."""

    type: Literal["SEARCH_UNSUB"]
    payload: SubscriptionIdPayload
