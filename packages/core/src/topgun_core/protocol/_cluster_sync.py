"""Node ↔ node messages, part 3: Merkle anti-entropy between replicas, and repair.

A replica compares its Merkle tree of one map's partition with another's, top down
(root, then buckets, then a leaf's keys with their hashes), and fetches the full
state of only the keys that differ (``CLUSTER_REPAIR_DATA_*``), merging it with the
ordinary CRDT rules. Same conventions as :mod:`topgun_core.protocol._cluster`.
"""

# No ``from __future__ import annotations`` here: on Python 3.11 it hides
# ``NotRequired`` from ``TypedDict.__required_keys__``.

from typing import Literal

from typing_extensions import TypedDict

from topgun_core.protocol._common import KeyedRecord, ORMapEntry
from topgun_core.protocol._fields import Hash32, Key, MapName, MerklePath, Name, NodeId, UInt

__all__ = [
    "ClusterMerkleBucketsReqMessage",
    "ClusterMerkleBucketsRespMessage",
    "ClusterMerkleKeysReqMessage",
    "ClusterMerkleKeysRespMessage",
    "ClusterMerkleRootReqMessage",
    "ClusterMerkleRootRespMessage",
    "ClusterRepairDataReqMessage",
    "ClusterRepairDataRespMessage",
    "KeyHash",
    "MerkleBucketsPayload",
    "MerkleKeysPayload",
    "MerkleRootPayload",
    "PartitionPathPayload",
    "PartitionRequestPayload",
    "RepairDataPayload",
    "RepairRequestPayload",
]


# ---------------------------------------------------------------- Merkle anti-entropy and repair


class PartitionRequestPayload(TypedDict):
    """One map's data in one partition."""

    requestId: Name
    mapName: MapName
    partitionId: UInt


class PartitionPathPayload(PartitionRequestPayload):
    """A Merkle trie node of one map's partition."""

    path: MerklePath


class ClusterMerkleRootReqMessage(TypedDict):
    """Ask a replica for its Merkle root of a map's partition."""

    type: Literal["CLUSTER_MERKLE_ROOT_REQ"]
    senderId: NodeId
    payload: PartitionRequestPayload


class MerkleRootPayload(PartitionRequestPayload):
    """A replica's Merkle root."""

    rootHash: Hash32


class ClusterMerkleRootRespMessage(TypedDict):
    """A replica's Merkle root of a map's partition."""

    type: Literal["CLUSTER_MERKLE_ROOT_RESP"]
    senderId: NodeId
    payload: MerkleRootPayload


class ClusterMerkleBucketsReqMessage(TypedDict):
    """Ask for the child bucket hashes under ``path``."""

    type: Literal["CLUSTER_MERKLE_BUCKETS_REQ"]
    senderId: NodeId
    payload: PartitionPathPayload


class MerkleBucketsPayload(PartitionPathPayload):
    """Child hashes under ``path``, by hex digit."""

    buckets: dict[str, Hash32]


class ClusterMerkleBucketsRespMessage(TypedDict):
    """Child bucket hashes of a trie node."""

    type: Literal["CLUSTER_MERKLE_BUCKETS_RESP"]
    senderId: NodeId
    payload: MerkleBucketsPayload


class ClusterMerkleKeysReqMessage(TypedDict):
    """Ask for the keys (with item hashes) of the leaf at ``path``."""

    type: Literal["CLUSTER_MERKLE_KEYS_REQ"]
    senderId: NodeId
    payload: PartitionPathPayload


class KeyHash(TypedDict):
    """A key and its Merkle item (LWW) or entry (OR) hash."""

    key: Key
    hash: Hash32


class MerkleKeysPayload(PartitionPathPayload):
    """The leaf's keys and hashes."""

    keys: list[KeyHash]


class ClusterMerkleKeysRespMessage(TypedDict):
    """The keys of a leaf with their hashes, so only differing keys are repaired."""

    type: Literal["CLUSTER_MERKLE_KEYS_RESP"]
    senderId: NodeId
    payload: MerkleKeysPayload


class RepairRequestPayload(PartitionRequestPayload):
    """Keys whose full state the requester wants."""

    keys: list[Key]


class ClusterRepairDataReqMessage(TypedDict):
    """Ask a replica for the data of differing keys."""

    type: Literal["CLUSTER_REPAIR_DATA_REQ"]
    senderId: NodeId
    payload: RepairRequestPayload


class RepairDataPayload(PartitionRequestPayload):
    """The keys' state: LWW ``records`` or OR ``entries`` (the other list is empty)."""

    records: list[KeyedRecord]
    entries: list[ORMapEntry]


class ClusterRepairDataRespMessage(TypedDict):
    """A replica's data for the requested keys, merged by the requester."""

    type: Literal["CLUSTER_REPAIR_DATA_RESP"]
    senderId: NodeId
    payload: RepairDataPayload
