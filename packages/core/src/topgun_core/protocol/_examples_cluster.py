"""One valid example of every node ↔ node message (see :mod:`._examples`)."""

from topgun_core.protocol._cluster import ClusterMember
from topgun_core.protocol._cluster_sync import PartitionRequestPayload
from topgun_core.protocol._common import NodeEndpoints, Query
from topgun_core.protocol._examples import (
    example_keyed_record,
    example_ops,
    example_or_entry,
    example_predicate,
    example_scored_result,
    example_timestamp,
)
from topgun_core.protocol._unions import ClusterMessage

__all__ = ["example_cluster_messages"]

A = "node-a"
B = "node-b"


def _endpoints() -> NodeEndpoints:
    return {"websocket": "wss://a.example:8080/ws", "http": "https://a.example:8080"}


def _membership() -> list[ClusterMessage]:
    member: ClusterMember = {
        "nodeId": A, "clusterAddress": "10.0.0.1:9090", "endpoints": _endpoints(),
        "status": "ACTIVE",
    }  # fmt: skip
    return [
        {"type": "HELLO", "senderId": A, "payload": {
            "protocolVersion": 1, "clusterAddress": "10.0.0.1:9090", "endpoints": _endpoints(),
            "partitionCount": 271}},
        {"type": "MEMBER_LIST", "senderId": A, "payload": {"version": 4, "members": [member]}},
        {"type": "HEARTBEAT", "senderId": A, "payload": {
            "sentAt": 1_700_000_000_000, "memberListVersion": 4, "partitionMapVersion": 3}},
        {"type": "OP_FORWARD", "senderId": B, "payload": {
            "clientId": "client-1", "ops": example_ops(), "writeConcern": "REPLICATED",
            "timeout": 5000}},
        {"type": "REPLICATION", "senderId": A, "payload": {
            "replicationId": 100, "partitionId": 208, "op": example_ops()[0]}},
        {"type": "REPLICATION_BATCH", "senderId": A, "payload": {
            "replicationId": 101, "partitionId": 208, "ops": example_ops()}},
        {"type": "REPLICATION_ACK", "senderId": B, "payload": {
            "replicationId": 101, "partitionId": 208, "success": False, "error": "disk full"}},
    ]  # fmt: skip


def _migration() -> list[ClusterMessage]:
    return [
        {"type": "MIGRATION_START", "senderId": A, "payload": {
            "migrationId": "m-7", "partitionId": 95, "sourceNodeId": A, "targetNodeId": B,
            "mapNames": ["users", "todos"]}},
        {"type": "MIGRATION_CHUNK", "senderId": A, "payload": {
            "migrationId": "m-7", "partitionId": 95, "sequence": 0, "mapName": "users",
            "records": [example_keyed_record()], "entries": [example_or_entry()],
            "checksum": 2_415_063_551}},
        {"type": "MIGRATION_CHUNK_ACK", "senderId": B, "payload": {
            "migrationId": "m-7", "partitionId": 95, "sequence": 0, "success": True}},
        {"type": "MIGRATION_COMPLETE", "senderId": A, "payload": {
            "migrationId": "m-7", "partitionId": 95, "chunkCount": 1, "recordCount": 2,
            "checksum": 2_415_063_551}},
        {"type": "MIGRATION_VERIFY", "senderId": B, "payload": {
            "migrationId": "m-7", "partitionId": 95, "success": False, "recordCount": 1,
            "checksum": 1, "error": "checksum mismatch"}},
    ]  # fmt: skip


def _services() -> list[ClusterMessage]:
    query: Query = {"predicate": example_predicate(), "sort": {"age": "asc"}, "limit": 10}
    scored = example_scored_result()
    return [
        {"type": "CLUSTER_QUERY_EXEC", "senderId": A, "payload": {
            "requestId": "cq1", "mapName": "users", "query": query, "partitionIds": [1, 2]}},
        {"type": "CLUSTER_QUERY_RESP", "senderId": B, "payload": {
            "requestId": "cq1", "results": [{"key": "user:1", "value": {"age": 36}}],
            "hasMore": True}},
        {"type": "CLUSTER_SEARCH_REQ", "senderId": A, "payload": {
            "requestId": "cs1", "mapName": "docs", "query": "crdt",
            "options": {"limit": 5, "minScore": 0.1}, "partitionIds": [3]}},
        {"type": "CLUSTER_SEARCH_RESP", "senderId": B, "payload": {
            "requestId": "cs1", "results": [scored], "totalCount": 1}},
        {"type": "CLUSTER_SUB_REGISTER", "senderId": A, "payload": {
            "kind": "QUERY", "subscriptionId": "q1", "mapName": "users", "query": query}},
        {"type": "CLUSTER_SUB_ACK", "senderId": B, "payload": {
            "subscriptionId": "q1", "success": True,
            "results": [{"key": "user:1", "value": {"age": 36}}, {**scored}]}},
        {"type": "CLUSTER_SUB_UPDATE", "senderId": B, "payload": {
            "subscriptionId": "s1", "key": "doc:1", "value": {"title": "CRDTs"},
            "changeType": "ENTER", "score": 1.2, "matchedTerms": ["crdt"]}},
        {"type": "CLUSTER_SUB_UNREGISTER", "senderId": A, "payload": {"subscriptionId": "q1"}},
        {"type": "CLUSTER_LOCK_REQUEST", "senderId": A, "payload": {
            "requestId": "l1", "name": "orders", "clientId": "client-1", "ttl": 10_000}},
        {"type": "CLUSTER_LOCK_RELEASE", "senderId": A, "payload": {
            "requestId": "l2", "name": "orders", "clientId": "client-1", "fencingToken": 7}},
        {"type": "CLUSTER_LOCK_GRANTED", "senderId": B, "payload": {
            "requestId": "l1", "name": "orders", "clientId": "client-1", "fencingToken": 7}},
        {"type": "CLUSTER_LOCK_RELEASED", "senderId": B, "payload": {
            "name": "orders", "clientId": "client-1", "success": True}},
        {"type": "CLUSTER_TOPIC_PUB", "senderId": A, "payload": {
            "topic": "chat/general", "data": {"text": "hi"}, "publisherId": "client-1",
            "timestamp": 1_700_000_000_900}},
        {"type": "CLUSTER_CLIENT_DISCONNECTED", "senderId": A,
         "payload": {"clientId": "client-1"}},
        {"type": "CLUSTER_GC_REPORT", "senderId": B,
         "payload": {"olderThan": example_timestamp()}},
        {"type": "CLUSTER_GC_COMMIT", "senderId": A,
         "payload": {"olderThan": example_timestamp()}},
    ]  # fmt: skip


def _anti_entropy() -> list[ClusterMessage]:
    where: PartitionRequestPayload = {"requestId": "ae1", "mapName": "users", "partitionId": 208}
    return [
        {"type": "CLUSTER_MERKLE_ROOT_REQ", "senderId": A, "payload": {**where}},
        {"type": "CLUSTER_MERKLE_ROOT_RESP", "senderId": B, "payload": {
            **where, "rootHash": 2_625_408_098}},
        {"type": "CLUSTER_MERKLE_BUCKETS_REQ", "senderId": A, "payload": {**where, "path": "e"}},
        {"type": "CLUSTER_MERKLE_BUCKETS_RESP", "senderId": B, "payload": {
            **where, "path": "e", "buckets": {"4": 2_415_063_551, "7": 210_344_547}}},
        {"type": "CLUSTER_MERKLE_KEYS_REQ", "senderId": A, "payload": {**where, "path": "e40"}},
        {"type": "CLUSTER_MERKLE_KEYS_RESP", "senderId": B, "payload": {
            **where, "path": "e40", "keys": [{"key": "a", "hash": 2_415_063_551}]}},
        {"type": "CLUSTER_REPAIR_DATA_REQ", "senderId": A, "payload": {**where, "keys": ["a"]}},
        {"type": "CLUSTER_REPAIR_DATA_RESP", "senderId": B, "payload": {
            **where, "records": [example_keyed_record()], "entries": []}},
    ]  # fmt: skip


def example_cluster_messages() -> dict[str, ClusterMessage]:
    """A fresh valid example of every node ↔ node message, by ``type``."""
    messages = [*_membership(), *_migration(), *_services(), *_anti_entropy()]
    return {message["type"]: message for message in messages}
