"""The message unions are exactly the PROTOCOL.md catalogue, and every member is covered."""

from __future__ import annotations

from collections import Counter

import pytest

from topgun_core import protocol
from topgun_core.protocol import (
    CLIENT_MESSAGE_TYPES,
    CLUSTER_MESSAGE_TYPES,
    MESSAGE_TYPES,
    SERVER_MESSAGE_TYPES,
    ClientMessage,
    ClusterMessage,
    Message,
    ServerMessage,
    example_cluster_messages,
    example_messages,
    message_type_name,
    union_members,
)

# Transcribed from PROTOCOL.md ("Client → server", "Server → client", "Node ↔ node").
PROTOCOL_MD_CLIENT = [
    "AUTH",
    "PING",
    "CLIENT_OP",
    "OP_BATCH",
    "SYNC_INIT",
    "MERKLE_REQ_BUCKET",
    "ORMAP_SYNC_INIT",
    "ORMAP_MERKLE_REQ_BUCKET",
    "ORMAP_DIFF_REQUEST",
    "ORMAP_PUSH_DIFF",
    "QUERY_SUB",
    "QUERY_UNSUB",
    "HYBRID_QUERY_SUB",
    "HYBRID_QUERY_UNSUB",
    "SEARCH",
    "SEARCH_SUB",
    "SEARCH_UNSUB",
    "LOCK_REQUEST",
    "LOCK_RELEASE",
    "TOPIC_SUB",
    "TOPIC_UNSUB",
    "TOPIC_PUB",
    "COUNTER_REQUEST",
    "COUNTER_SYNC",
    "ENTRY_PROCESS",
    "ENTRY_PROCESS_BATCH",
    "REGISTER_RESOLVER",
    "UNREGISTER_RESOLVER",
    "LIST_RESOLVERS",
    "JOURNAL_SUBSCRIBE",
    "JOURNAL_UNSUBSCRIBE",
    "JOURNAL_READ",
    "PARTITION_MAP_REQUEST",
]
PROTOCOL_MD_SERVER = [
    "AUTH_REQUIRED",
    "AUTH_ACK",
    "AUTH_FAIL",
    "PONG",
    "OP_ACK",
    "OP_REJECTED",
    "SERVER_EVENT",
    "SERVER_BATCH_EVENT",
    "SYNC_RESP_ROOT",
    "SYNC_RESP_BUCKETS",
    "SYNC_RESP_LEAF",
    "SYNC_RESET_REQUIRED",
    "ORMAP_SYNC_RESP_ROOT",
    "ORMAP_SYNC_RESP_BUCKETS",
    "ORMAP_SYNC_RESP_LEAF",
    "ORMAP_DIFF_RESPONSE",
    "QUERY_RESP",
    "QUERY_UPDATE",
    "HYBRID_QUERY_RESP",
    "HYBRID_QUERY_UPDATE",
    "SEARCH_RESP",
    "SEARCH_UPDATE",
    "LOCK_GRANTED",
    "LOCK_RELEASED",
    "TOPIC_MESSAGE",
    "COUNTER_RESPONSE",
    "COUNTER_UPDATE",
    "ENTRY_PROCESS_RESPONSE",
    "ENTRY_PROCESS_BATCH_RESPONSE",
    "REGISTER_RESOLVER_RESPONSE",
    "UNREGISTER_RESOLVER_RESPONSE",
    "LIST_RESOLVERS_RESPONSE",
    "MERGE_REJECTED",
    "JOURNAL_EVENT",
    "JOURNAL_READ_RESPONSE",
    "PARTITION_MAP",
    "GC_PRUNE",
    "ERROR",
    "SHUTDOWN_PENDING",
    "BATCH",
]
PROTOCOL_MD_CLUSTER = [
    "HELLO",
    "MEMBER_LIST",
    "HEARTBEAT",
    "OP_FORWARD",
    "REPLICATION",
    "REPLICATION_BATCH",
    "REPLICATION_ACK",
    "MIGRATION_START",
    "MIGRATION_CHUNK",
    "MIGRATION_CHUNK_ACK",
    "MIGRATION_COMPLETE",
    "MIGRATION_VERIFY",
    "CLUSTER_QUERY_EXEC",
    "CLUSTER_QUERY_RESP",
    "CLUSTER_SEARCH_REQ",
    "CLUSTER_SEARCH_RESP",
    "CLUSTER_SUB_REGISTER",
    "CLUSTER_SUB_ACK",
    "CLUSTER_SUB_UPDATE",
    "CLUSTER_SUB_UNREGISTER",
    "CLUSTER_LOCK_REQUEST",
    "CLUSTER_LOCK_RELEASE",
    "CLUSTER_LOCK_GRANTED",
    "CLUSTER_LOCK_RELEASED",
    "CLUSTER_TOPIC_PUB",
    "CLUSTER_CLIENT_DISCONNECTED",
    "CLUSTER_GC_REPORT",
    "CLUSTER_GC_COMMIT",
    "CLUSTER_MERKLE_ROOT_REQ",
    "CLUSTER_MERKLE_ROOT_RESP",
    "CLUSTER_MERKLE_BUCKETS_REQ",
    "CLUSTER_MERKLE_BUCKETS_RESP",
    "CLUSTER_MERKLE_KEYS_REQ",
    "CLUSTER_MERKLE_KEYS_RESP",
    "CLUSTER_REPAIR_DATA_REQ",
    "CLUSTER_REPAIR_DATA_RESP",
]


@pytest.mark.parametrize(
    ("union", "documented", "derived"),
    [
        (ClientMessage, PROTOCOL_MD_CLIENT, CLIENT_MESSAGE_TYPES),
        (ServerMessage, PROTOCOL_MD_SERVER, SERVER_MESSAGE_TYPES),
        (ClusterMessage, PROTOCOL_MD_CLUSTER, CLUSTER_MESSAGE_TYPES),
    ],
    ids=["client", "server", "cluster"],
)
def test_union_members_are_exactly_the_documented_types(
    union: object, documented: list[str], derived: tuple[str, ...]
) -> None:
    names = [message_type_name(member) for member in union_members(union)]
    assert [n for n, c in Counter(names).items() if c > 1] == []
    assert set(names) == set(documented)
    assert len(names) == len(documented)
    assert tuple(names) == derived


def test_catalogue_has_no_duplicates_across_directions() -> None:
    everything = PROTOCOL_MD_CLIENT + PROTOCOL_MD_SERVER + PROTOCOL_MD_CLUSTER
    assert len(everything) == len(set(everything))


def test_message_union_is_client_plus_server() -> None:
    assert union_members(Message) == union_members(ClientMessage) + union_members(ServerMessage)
    assert MESSAGE_TYPES == CLIENT_MESSAGE_TYPES + SERVER_MESSAGE_TYPES


def test_every_member_has_an_example_of_its_own_type() -> None:
    examples = example_messages()
    cluster = example_cluster_messages()
    assert set(examples) == set(MESSAGE_TYPES)
    assert set(cluster) == set(CLUSTER_MESSAGE_TYPES)
    for name, message in {**examples, **cluster}.items():
        assert message["type"] == name


def test_every_message_class_is_exported_and_documented() -> None:
    for union in (ClientMessage, ServerMessage, ClusterMessage):
        for member in union_members(union):
            assert getattr(protocol, member.__name__) is member
            assert member.__doc__, f"{member.__name__} has no docstring"


def test_cluster_messages_are_type_sender_payload() -> None:
    for member in union_members(ClusterMessage):
        assert list(member.__annotations__) == ["type", "senderId", "payload"], member
