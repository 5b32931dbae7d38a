"""Node ↔ node messages, part 1: membership, forwarded ops, replication, migration.

The cluster port speaks the same msgpack framing as clients, with
``{type, senderId, payload}`` messages (PROTOCOL.md "Node ↔ node");
:mod:`topgun_core.protocol._unions` joins them into ``ClusterMessage``. PROTOCOL.md
names these messages without fields; the payloads are designed here and documented
on each class. Conventions:

- ``senderId`` is the sending node's id; a reply goes back to it.
- Partition-scoped data always names its ``partitionId`` (``hash32(key) mod 271``)
  and carries records with their full HLC timestamps, so the receiver merges with
  the ordinary CRDT rules.
- ``checksum`` fields are ``combine`` (sum mod 2^32) of the Merkle item hashes of
  the records covered (SEMANTICS.md §6); the receiver recomputes and compares.
"""

# No ``from __future__ import annotations`` here: on Python 3.11 it hides
# ``NotRequired`` from ``TypedDict.__required_keys__``.

from typing import Annotated, Literal, NotRequired

from typing_extensions import TypedDict

from topgun_core.protocol._common import (
    ClientOp,
    KeyedRecord,
    NodeEndpoints,
    NodeStatus,
    ORMapEntry,
    WriteConcern,
)
from topgun_core.protocol._fields import (
    Hash32,
    MapName,
    Name,
    NodeId,
    UInt,
    limited_list,
)

__all__ = [
    "ClusterMember",
    "HeartbeatMessage",
    "HeartbeatPayload",
    "HelloMessage",
    "HelloPayload",
    "MemberListMessage",
    "MemberListPayload",
    "MigrationChunkAckMessage",
    "MigrationChunkAckPayload",
    "MigrationChunkMessage",
    "MigrationChunkPayload",
    "MigrationCompleteMessage",
    "MigrationCompletePayload",
    "MigrationStartMessage",
    "MigrationStartPayload",
    "MigrationVerifyMessage",
    "MigrationVerifyPayload",
    "OpForwardMessage",
    "OpForwardPayload",
    "ReplicationAckMessage",
    "ReplicationAckPayload",
    "ReplicationBatchMessage",
    "ReplicationBatchPayload",
    "ReplicationMessage",
    "ReplicationPayload",
]


# ---------------------------------------------------------------- membership


class HelloPayload(TypedDict):
    """Who the sender is: protocol version, cluster address, client endpoints, partitioning."""

    protocolVersion: UInt
    clusterAddress: str
    endpoints: NodeEndpoints
    partitionCount: UInt


class HelloMessage(TypedDict):
    """First message on a new cluster link (after the secret / mTLS check)."""

    type: Literal["HELLO"]
    senderId: NodeId
    payload: HelloPayload


class ClusterMember(TypedDict):
    """A member as the cluster sees it."""

    nodeId: NodeId
    clusterAddress: str
    endpoints: NodeEndpoints
    status: NodeStatus


class MemberListPayload(TypedDict):
    """The full member list at ``version`` (higher versions replace lower ones)."""

    version: UInt
    members: list[ClusterMember]


class MemberListMessage(TypedDict):
    """The sender's view of cluster membership."""

    type: Literal["MEMBER_LIST"]
    senderId: NodeId
    payload: MemberListPayload


class HeartbeatPayload(TypedDict):
    """Sender's wall-clock millis and the versions of its member list and partition map."""

    sentAt: UInt
    memberListVersion: UInt
    partitionMapVersion: UInt


class HeartbeatMessage(TypedDict):
    """Liveness for the failure detector; version numbers reveal stale views."""

    type: Literal["HEARTBEAT"]
    senderId: NodeId
    payload: HeartbeatPayload


# ---------------------------------------------------------------- forwarded ops, replication


class OpForwardPayload(TypedDict):
    """Client ops for partitions the sender does not own (one op or a whole batch).

    ``clientId`` is the originating client (already authenticated and authorised by
    the sender); ``writeConcern``/``timeout`` as in ``OP_BATCH``.
    """

    clientId: Name
    ops: Annotated[list[ClientOp], limited_list("batch_ops_max")]
    writeConcern: NotRequired[WriteConcern]
    timeout: NotRequired[UInt]


class OpForwardMessage(TypedDict):
    """Forward client writes to the owner of their partition."""

    type: Literal["OP_FORWARD"]
    senderId: NodeId
    payload: OpForwardPayload


class ReplicationPayload(TypedDict):
    """One applied op for a backup; ``replicationId`` is the owner's sequence number."""

    replicationId: UInt
    partitionId: UInt
    op: ClientOp


class ReplicationMessage(TypedDict):
    """Owner → backup: replicate one applied write."""

    type: Literal["REPLICATION"]
    senderId: NodeId
    payload: ReplicationPayload


class ReplicationBatchPayload(TypedDict):
    """Applied ops of one partition, in order; acknowledged as a whole."""

    replicationId: UInt
    partitionId: UInt
    ops: Annotated[list[ClientOp], limited_list("batch_ops_max")]


class ReplicationBatchMessage(TypedDict):
    """Owner → backup: replicate several applied writes."""

    type: Literal["REPLICATION_BATCH"]
    senderId: NodeId
    payload: ReplicationBatchPayload


class ReplicationAckPayload(TypedDict):
    """The backup applied (``success``) replication ``replicationId`` or failed with ``error``."""

    replicationId: UInt
    partitionId: UInt
    success: bool
    error: NotRequired[str]


class ReplicationAckMessage(TypedDict):
    """Backup → owner: needed for the ``REPLICATED`` write concern."""

    type: Literal["REPLICATION_ACK"]
    senderId: NodeId
    payload: ReplicationAckPayload


# ---------------------------------------------------------------- partition migration


class MigrationStartPayload(TypedDict):
    """Partition ``partitionId`` moves from ``sourceNodeId`` to ``targetNodeId``."""

    migrationId: Name
    partitionId: UInt
    sourceNodeId: NodeId
    targetNodeId: NodeId
    mapNames: list[MapName]


class MigrationStartMessage(TypedDict):
    """Source → target: a partition migration begins; chunks follow."""

    type: Literal["MIGRATION_START"]
    senderId: NodeId
    payload: MigrationStartPayload


class MigrationChunkPayload(TypedDict):
    """Chunk ``sequence`` (from 0) of one map's data: LWW ``records`` or OR ``entries``."""

    migrationId: Name
    partitionId: UInt
    sequence: UInt
    mapName: MapName
    records: list[KeyedRecord]
    entries: list[ORMapEntry]
    checksum: Hash32


class MigrationChunkMessage(TypedDict):
    """Source → target: a bounded chunk of the partition's data."""

    type: Literal["MIGRATION_CHUNK"]
    senderId: NodeId
    payload: MigrationChunkPayload


class MigrationChunkAckPayload(TypedDict):
    """The target merged chunk ``sequence`` (and its checksum matched), or why not."""

    migrationId: Name
    partitionId: UInt
    sequence: UInt
    success: bool
    error: NotRequired[str]


class MigrationChunkAckMessage(TypedDict):
    """Target → source: flow control and per-chunk verification."""

    type: Literal["MIGRATION_CHUNK_ACK"]
    senderId: NodeId
    payload: MigrationChunkAckPayload


class MigrationCompletePayload(TypedDict):
    """All ``chunkCount`` chunks sent: ``recordCount`` records with combined ``checksum``."""

    migrationId: Name
    partitionId: UInt
    chunkCount: UInt
    recordCount: UInt
    checksum: Hash32


class MigrationCompleteMessage(TypedDict):
    """Source → target: the last chunk has been sent."""

    type: Literal["MIGRATION_COMPLETE"]
    senderId: NodeId
    payload: MigrationCompletePayload


class MigrationVerifyPayload(TypedDict):
    """The target's own count and checksum of what it received; ``success`` if they match."""

    migrationId: Name
    partitionId: UInt
    success: bool
    recordCount: UInt
    checksum: Hash32
    error: NotRequired[str]


class MigrationVerifyMessage(TypedDict):
    """Target → source: verification result; ownership moves only on success."""

    type: Literal["MIGRATION_VERIFY"]
    senderId: NodeId
    payload: MigrationVerifyPayload
