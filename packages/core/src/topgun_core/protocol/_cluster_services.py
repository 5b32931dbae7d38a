"""Node ↔ node messages, part 2: distributed queries and subscriptions, locks,
topics, client disconnects and tombstone GC.

Same conventions as :mod:`topgun_core.protocol._cluster`. Request/response pairs
share a ``requestId`` chosen by the requester; a response carries ``error`` (safe
text) instead of data when the responder could not serve the request.
"""

# No ``from __future__ import annotations`` here: on Python 3.11 it hides
# ``NotRequired`` from ``TypedDict.__required_keys__``.

from typing import Annotated, Literal, NotRequired, TypeAlias

from pydantic import Field
from typing_extensions import TypedDict

from topgun_core.protocol._common import (
    ChangeType,
    Query,
    QueryResult,
    ScoredResult,
    SearchOptions,
)
from topgun_core.protocol._fields import (
    Key,
    MapName,
    Name,
    NodeId,
    TimestampField,
    UInt,
    Value,
)

__all__ = [
    "ClientRefPayload",
    "ClusterClientDisconnectedMessage",
    "ClusterGcCommitMessage",
    "ClusterGcReportMessage",
    "ClusterLockGrantedMessage",
    "ClusterLockGrantedPayload",
    "ClusterLockReleaseMessage",
    "ClusterLockReleasePayload",
    "ClusterLockReleasedMessage",
    "ClusterLockReleasedPayload",
    "ClusterLockRequestMessage",
    "ClusterLockRequestPayload",
    "ClusterQueryExecMessage",
    "ClusterQueryExecPayload",
    "ClusterQueryRespMessage",
    "ClusterQueryRespPayload",
    "ClusterSearchReqMessage",
    "ClusterSearchReqPayload",
    "ClusterSearchRespMessage",
    "ClusterSearchRespPayload",
    "ClusterSubAckMessage",
    "ClusterSubAckPayload",
    "ClusterSubRegisterMessage",
    "ClusterSubResult",
    "ClusterSubUnregisterMessage",
    "ClusterSubUpdateMessage",
    "ClusterSubUpdatePayload",
    "ClusterSubscription",
    "ClusterTopicPubMessage",
    "ClusterTopicPubPayload",
    "GcHorizonPayload",
    "QuerySubscription",
    "SearchSubscription",
    "SubscriptionRefPayload",
]


# ---------------------------------------------------------------- distributed query and search


class ClusterQueryExecPayload(TypedDict):
    """Run ``query`` on the receiver's replicas of ``partitionIds`` (its top rows only)."""

    requestId: Name
    mapName: MapName
    query: Query
    partitionIds: list[UInt]


class ClusterQueryExecMessage(TypedDict):
    """Coordinator → owner: evaluate a query locally."""

    type: Literal["CLUSTER_QUERY_EXEC"]
    senderId: NodeId
    payload: ClusterQueryExecPayload


class ClusterQueryRespPayload(TypedDict):
    """The receiver's matching rows (sorted and limited as the query asked)."""

    requestId: Name
    results: list[QueryResult]
    hasMore: NotRequired[bool]
    error: NotRequired[str]


class ClusterQueryRespMessage(TypedDict):
    """Owner → coordinator: local query results, merged by the coordinator."""

    type: Literal["CLUSTER_QUERY_RESP"]
    senderId: NodeId
    payload: ClusterQueryRespPayload


class ClusterSearchReqPayload(TypedDict):
    """Run a full-text search on the receiver's replicas of ``partitionIds``."""

    requestId: Name
    mapName: MapName
    query: str
    options: SearchOptions
    partitionIds: list[UInt]


class ClusterSearchReqMessage(TypedDict):
    """Coordinator → owner: search locally."""

    type: Literal["CLUSTER_SEARCH_REQ"]
    senderId: NodeId
    payload: ClusterSearchReqPayload


class ClusterSearchRespPayload(TypedDict):
    """The receiver's ranked results and its total match count."""

    requestId: Name
    results: list[ScoredResult]
    totalCount: UInt
    error: NotRequired[str]


class ClusterSearchRespMessage(TypedDict):
    """Owner → coordinator: local search results, fused by the coordinator."""

    type: Literal["CLUSTER_SEARCH_RESP"]
    senderId: NodeId
    payload: ClusterSearchRespPayload


# ---------------------------------------------------------------- distributed live subscriptions


class QuerySubscription(TypedDict):
    """A live query (plain or hybrid: ``query.predicate`` may use match ops)."""

    kind: Literal["QUERY"]
    subscriptionId: Name
    mapName: MapName
    query: Query


class SearchSubscription(TypedDict):
    """A live full-text search."""

    kind: Literal["SEARCH"]
    subscriptionId: Name
    mapName: MapName
    query: str
    options: NotRequired[SearchOptions]


ClusterSubscription: TypeAlias = Annotated[
    QuerySubscription | SearchSubscription, Field(discriminator="kind")
]


class ClusterSubRegisterMessage(TypedDict):
    """Coordinator → owner: evaluate a live subscription on local writes."""

    type: Literal["CLUSTER_SUB_REGISTER"]
    senderId: NodeId
    payload: ClusterSubscription


class ClusterSubResult(TypedDict):
    """A row of a subscription's result; ``score``/``matchedTerms`` for searches."""

    key: Key
    value: Value
    score: NotRequired[float]
    matchedTerms: NotRequired[list[str]]


class ClusterSubAckPayload(TypedDict):
    """Registration outcome with the owner's initial matching rows."""

    subscriptionId: Name
    success: bool
    results: list[ClusterSubResult]
    error: NotRequired[str]


class ClusterSubAckMessage(TypedDict):
    """Owner → coordinator: the subscription is registered (or why not)."""

    type: Literal["CLUSTER_SUB_ACK"]
    senderId: NodeId
    payload: ClusterSubAckPayload


class ClusterSubUpdatePayload(TypedDict):
    """A key entered, changed in, or left the subscription's result on the owner."""

    subscriptionId: Name
    key: Key
    value: Value
    changeType: ChangeType
    score: NotRequired[float]
    matchedTerms: NotRequired[list[str]]


class ClusterSubUpdateMessage(TypedDict):
    """Owner → coordinator: a live delta to pass on to the client."""

    type: Literal["CLUSTER_SUB_UPDATE"]
    senderId: NodeId
    payload: ClusterSubUpdatePayload


class SubscriptionRefPayload(TypedDict):
    """Names a distributed subscription."""

    subscriptionId: Name


class ClusterSubUnregisterMessage(TypedDict):
    """Coordinator → owner: drop a live subscription."""

    type: Literal["CLUSTER_SUB_UNREGISTER"]
    senderId: NodeId
    payload: SubscriptionRefPayload


# ---------------------------------------------------------------- locks, topics, clients


class ClusterLockRequestPayload(TypedDict):
    """Acquire lock ``name`` for ``clientId`` (connected to the sender); ``ttl`` in ms."""

    requestId: Name
    name: Name
    clientId: Name
    ttl: NotRequired[UInt]


class ClusterLockRequestMessage(TypedDict):
    """Node → lock owner: a client's lock request."""

    type: Literal["CLUSTER_LOCK_REQUEST"]
    senderId: NodeId
    payload: ClusterLockRequestPayload


class ClusterLockReleasePayload(TypedDict):
    """Release lock ``name`` held by ``clientId`` with ``fencingToken``."""

    requestId: NotRequired[Name]
    name: Name
    clientId: Name
    fencingToken: UInt


class ClusterLockReleaseMessage(TypedDict):
    """Node → lock owner: a client's lock release."""

    type: Literal["CLUSTER_LOCK_RELEASE"]
    senderId: NodeId
    payload: ClusterLockReleasePayload


class ClusterLockGrantedPayload(TypedDict):
    """Lock ``name`` granted to ``clientId`` with a strictly increasing ``fencingToken``."""

    requestId: Name
    name: Name
    clientId: Name
    fencingToken: UInt


class ClusterLockGrantedMessage(TypedDict):
    """Lock owner → client's node: the lock is granted."""

    type: Literal["CLUSTER_LOCK_GRANTED"]
    senderId: NodeId
    payload: ClusterLockGrantedPayload


class ClusterLockReleasedPayload(TypedDict):
    """Whether ``clientId``'s release of lock ``name`` was accepted."""

    requestId: NotRequired[Name]
    name: Name
    clientId: Name
    success: bool


class ClusterLockReleasedMessage(TypedDict):
    """Lock owner → client's node: outcome of a release."""

    type: Literal["CLUSTER_LOCK_RELEASED"]
    senderId: NodeId
    payload: ClusterLockReleasedPayload


class ClusterTopicPubPayload(TypedDict):
    """A topic message to deliver to the receiver's local subscribers."""

    topic: Name
    data: Value
    publisherId: NotRequired[Name]
    timestamp: UInt


class ClusterTopicPubMessage(TypedDict):
    """Fan a topic publication out to every node."""

    type: Literal["CLUSTER_TOPIC_PUB"]
    senderId: NodeId
    payload: ClusterTopicPubPayload


class ClientRefPayload(TypedDict):
    """Names a client connection."""

    clientId: Name


class ClusterClientDisconnectedMessage(TypedDict):
    """A client of the sender disconnected: release its locks and subscriptions."""

    type: Literal["CLUSTER_CLIENT_DISCONNECTED"]
    senderId: NodeId
    payload: ClientRefPayload


# ---------------------------------------------------------------- tombstone GC


class GcHorizonPayload(TypedDict):
    """An HLC horizon: tombstones strictly older than ``olderThan``."""

    olderThan: TimestampField


class ClusterGcReportMessage(TypedDict):
    """Node → coordinator: the horizon below which this node may prune tombstones."""

    type: Literal["CLUSTER_GC_REPORT"]
    senderId: NodeId
    payload: GcHorizonPayload


class ClusterGcCommitMessage(TypedDict):
    """Coordinator → nodes: prune below the minimum of all reports."""

    type: Literal["CLUSTER_GC_COMMIT"]
    senderId: NodeId
    payload: GcHorizonPayload
