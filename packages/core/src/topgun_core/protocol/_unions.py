"""The three message unions — one per wire direction — and their type names.

``ClientMessage`` (client → server), ``ServerMessage`` (server → client) and
``ClusterMessage`` (node ↔ node) are discriminated unions on the ``type`` field;
``Message`` is everything on the client ↔ server wire. The ``*_MESSAGE_TYPES``
tuples are derived from the unions, so they cannot drift from them; a test pins them
to the catalogue in PROTOCOL.md.
"""

from __future__ import annotations

from typing import Annotated, Final, TypeAlias, Union, get_args, get_origin, get_type_hints

from pydantic import Field

from topgun_core.protocol._client import (
    AuthMessage,
    ClientOpMessage,
    HybridQuerySubMessage,
    HybridQueryUnsubMessage,
    MerkleReqBucketMessage,
    OpBatchMessage,
    ORMapDiffRequestMessage,
    ORMapMerkleReqBucketMessage,
    ORMapPushDiffMessage,
    ORMapSyncInitMessage,
    PingMessage,
    QuerySubMessage,
    QueryUnsubMessage,
    SearchMessage,
    SearchSubMessage,
    SearchUnsubMessage,
    SyncInitMessage,
)
from topgun_core.protocol._client_services import (
    CounterRequestMessage,
    CounterSyncMessage,
    EntryProcessBatchMessage,
    EntryProcessMessage,
    JournalReadMessage,
    JournalSubscribeMessage,
    JournalUnsubscribeMessage,
    ListResolversMessage,
    LockReleaseMessage,
    LockRequestMessage,
    PartitionMapRequestMessage,
    RegisterResolverMessage,
    TopicPubMessage,
    TopicSubMessage,
    TopicUnsubMessage,
    UnregisterResolverMessage,
)
from topgun_core.protocol._cluster import (
    HeartbeatMessage,
    HelloMessage,
    MemberListMessage,
    MigrationChunkAckMessage,
    MigrationChunkMessage,
    MigrationCompleteMessage,
    MigrationStartMessage,
    MigrationVerifyMessage,
    OpForwardMessage,
    ReplicationAckMessage,
    ReplicationBatchMessage,
    ReplicationMessage,
)
from topgun_core.protocol._cluster_services import (
    ClusterClientDisconnectedMessage,
    ClusterGcCommitMessage,
    ClusterGcReportMessage,
    ClusterLockGrantedMessage,
    ClusterLockReleasedMessage,
    ClusterLockReleaseMessage,
    ClusterLockRequestMessage,
    ClusterQueryExecMessage,
    ClusterQueryRespMessage,
    ClusterSearchReqMessage,
    ClusterSearchRespMessage,
    ClusterSubAckMessage,
    ClusterSubRegisterMessage,
    ClusterSubUnregisterMessage,
    ClusterSubUpdateMessage,
    ClusterTopicPubMessage,
)
from topgun_core.protocol._cluster_sync import (
    ClusterMerkleBucketsReqMessage,
    ClusterMerkleBucketsRespMessage,
    ClusterMerkleKeysReqMessage,
    ClusterMerkleKeysRespMessage,
    ClusterMerkleRootReqMessage,
    ClusterMerkleRootRespMessage,
    ClusterRepairDataReqMessage,
    ClusterRepairDataRespMessage,
)
from topgun_core.protocol._server import (
    AuthAckMessage,
    AuthFailMessage,
    AuthRequiredMessage,
    HybridQueryRespMessage,
    HybridQueryUpdateMessage,
    OpAckMessage,
    OpRejectedMessage,
    ORMapDiffResponseMessage,
    ORMapSyncRespBucketsMessage,
    ORMapSyncRespLeafMessage,
    ORMapSyncRespRootMessage,
    PongMessage,
    QueryRespMessage,
    QueryUpdateMessage,
    SearchRespMessage,
    SearchUpdateMessage,
    ServerBatchEventMessage,
    ServerEventMessage,
    SyncResetRequiredMessage,
    SyncRespBucketsMessage,
    SyncRespLeafMessage,
    SyncRespRootMessage,
)
from topgun_core.protocol._server_services import (
    BatchMessage,
    CounterResponseMessage,
    CounterUpdateMessage,
    EntryProcessBatchResponseMessage,
    EntryProcessResponseMessage,
    ErrorMessage,
    GcPruneMessage,
    JournalEventMessage,
    JournalReadResponseMessage,
    ListResolversResponseMessage,
    LockGrantedMessage,
    LockReleasedMessage,
    MergeRejectedMessage,
    PartitionMapMessage,
    RegisterResolverResponseMessage,
    ShutdownPendingMessage,
    TopicMessageMessage,
    UnregisterResolverResponseMessage,
)

__all__ = [
    "CLIENT_MESSAGE_TYPES",
    "CLUSTER_MESSAGE_TYPES",
    "MESSAGE_TYPES",
    "SERVER_MESSAGE_TYPES",
    "ClientMessage",
    "ClusterMessage",
    "Message",
    "ServerMessage",
    "message_type_name",
    "union_members",
]

# One member per line: these unions are the protocol's table of contents.
_ClientUnion: TypeAlias = Union[  # noqa: UP007
    AuthMessage,
    PingMessage,
    ClientOpMessage,
    OpBatchMessage,
    SyncInitMessage,
    MerkleReqBucketMessage,
    ORMapSyncInitMessage,
    ORMapMerkleReqBucketMessage,
    ORMapDiffRequestMessage,
    ORMapPushDiffMessage,
    QuerySubMessage,
    QueryUnsubMessage,
    HybridQuerySubMessage,
    HybridQueryUnsubMessage,
    SearchMessage,
    SearchSubMessage,
    SearchUnsubMessage,
    LockRequestMessage,
    LockReleaseMessage,
    TopicSubMessage,
    TopicUnsubMessage,
    TopicPubMessage,
    CounterRequestMessage,
    CounterSyncMessage,
    EntryProcessMessage,
    EntryProcessBatchMessage,
    RegisterResolverMessage,
    UnregisterResolverMessage,
    ListResolversMessage,
    JournalSubscribeMessage,
    JournalUnsubscribeMessage,
    JournalReadMessage,
    PartitionMapRequestMessage,
]

_ServerUnion: TypeAlias = Union[  # noqa: UP007
    AuthRequiredMessage,
    AuthAckMessage,
    AuthFailMessage,
    PongMessage,
    OpAckMessage,
    OpRejectedMessage,
    ServerEventMessage,
    ServerBatchEventMessage,
    SyncRespRootMessage,
    SyncRespBucketsMessage,
    SyncRespLeafMessage,
    SyncResetRequiredMessage,
    ORMapSyncRespRootMessage,
    ORMapSyncRespBucketsMessage,
    ORMapSyncRespLeafMessage,
    ORMapDiffResponseMessage,
    QueryRespMessage,
    QueryUpdateMessage,
    HybridQueryRespMessage,
    HybridQueryUpdateMessage,
    SearchRespMessage,
    SearchUpdateMessage,
    LockGrantedMessage,
    LockReleasedMessage,
    TopicMessageMessage,
    CounterResponseMessage,
    CounterUpdateMessage,
    EntryProcessResponseMessage,
    EntryProcessBatchResponseMessage,
    RegisterResolverResponseMessage,
    UnregisterResolverResponseMessage,
    ListResolversResponseMessage,
    MergeRejectedMessage,
    JournalEventMessage,
    JournalReadResponseMessage,
    PartitionMapMessage,
    GcPruneMessage,
    ErrorMessage,
    ShutdownPendingMessage,
    BatchMessage,
]

_ClusterUnion: TypeAlias = Union[  # noqa: UP007
    HelloMessage,
    MemberListMessage,
    HeartbeatMessage,
    OpForwardMessage,
    ReplicationMessage,
    ReplicationBatchMessage,
    ReplicationAckMessage,
    MigrationStartMessage,
    MigrationChunkMessage,
    MigrationChunkAckMessage,
    MigrationCompleteMessage,
    MigrationVerifyMessage,
    ClusterQueryExecMessage,
    ClusterQueryRespMessage,
    ClusterSearchReqMessage,
    ClusterSearchRespMessage,
    ClusterSubRegisterMessage,
    ClusterSubAckMessage,
    ClusterSubUpdateMessage,
    ClusterSubUnregisterMessage,
    ClusterLockRequestMessage,
    ClusterLockReleaseMessage,
    ClusterLockGrantedMessage,
    ClusterLockReleasedMessage,
    ClusterTopicPubMessage,
    ClusterClientDisconnectedMessage,
    ClusterGcReportMessage,
    ClusterGcCommitMessage,
    ClusterMerkleRootReqMessage,
    ClusterMerkleRootRespMessage,
    ClusterMerkleBucketsReqMessage,
    ClusterMerkleBucketsRespMessage,
    ClusterMerkleKeysReqMessage,
    ClusterMerkleKeysRespMessage,
    ClusterRepairDataReqMessage,
    ClusterRepairDataRespMessage,
]

ClientMessage: TypeAlias = Annotated[_ClientUnion, Field(discriminator="type")]
"""Every message a client may send to a server."""

ServerMessage: TypeAlias = Annotated[_ServerUnion, Field(discriminator="type")]
"""Every message a server may send to a client."""

Message: TypeAlias = Annotated[
    Union[_ClientUnion, _ServerUnion],  # noqa: UP007
    Field(discriminator="type"),
]
"""Every message of the client ↔ server wire, in either direction."""

ClusterMessage: TypeAlias = Annotated[_ClusterUnion, Field(discriminator="type")]
"""Every message one cluster node may send to another (``{type, senderId, payload}``)."""


def union_members(union: object) -> tuple[type, ...]:
    """The message classes of one of the unions above, in declaration order."""
    inner = get_args(union)[0] if get_origin(union) is Annotated else union
    return tuple(member for member in get_args(inner) if isinstance(member, type))


def message_type_name(message_class: type) -> str:
    """The ``type`` literal of a message class (``AuthMessage`` → ``"AUTH"``)."""
    (name,) = get_args(get_type_hints(message_class)["type"])
    assert isinstance(name, str)
    return name


def _type_names(union: object) -> tuple[str, ...]:
    return tuple(message_type_name(member) for member in union_members(union))


CLIENT_MESSAGE_TYPES: Final = _type_names(ClientMessage)
"""The ``type`` of every client → server message."""

SERVER_MESSAGE_TYPES: Final = _type_names(ServerMessage)
"""The ``type`` of every server → client message."""

MESSAGE_TYPES: Final = CLIENT_MESSAGE_TYPES + SERVER_MESSAGE_TYPES
"""The ``type`` of every client ↔ server message."""

CLUSTER_MESSAGE_TYPES: Final = _type_names(ClusterMessage)
"""The ``type`` of every node ↔ node message."""
