"""One valid example of every message, for tests, tooling and the testing kit.

:func:`example_messages` returns fresh ``{type: message}`` dicts on each call
(callers may mutate them). The examples fill in optional fields too, so a round
trip through the codec exercises every field. Node ↔ node examples live in
:mod:`topgun_core.protocol._examples_cluster`; a test proves every union member has
an example.
"""

from topgun_core.hlc import TimestampWire
from topgun_core.protocol._client_services import EntryProcessor
from topgun_core.protocol._common import (
    ClientOp,
    JournalEventWire,
    KeyedRecord,
    LWWRecordWire,
    OpResult,
    ORMapEntry,
    ORRecordWire,
    PartitionMapPayload,
    PNCounterState,
    PredicateNode,
    Query,
    ScoredResult,
)
from topgun_core.protocol._server import UpdatedEvent
from topgun_core.protocol._unions import ClientMessage, Message, ServerMessage
from topgun_core.values import JsonValue

__all__ = [
    "example_keyed_record",
    "example_messages",
    "example_ops",
    "example_or_entry",
    "example_predicate",
    "example_record",
    "example_scored_result",
    "example_timestamp",
]

NODE = "node-a"
TAG = "1700000000000:3:node-a"


def example_timestamp() -> TimestampWire:
    """An HLC timestamp."""
    return {"millis": 1_700_000_000_000, "counter": 3, "nodeId": NODE}


def example_record() -> LWWRecordWire:
    """An LWW record with a small object value and a TTL."""
    value: JsonValue = {"name": "Ada", "age": 36, "score": 9.5, "tags": ["a", "b"], "avatar": None}
    return {"value": value, "timestamp": example_timestamp(), "ttlMs": 60_000}


def _or_record() -> ORRecordWire:
    return {"value": "work", "timestamp": example_timestamp(), "tag": TAG, "ttlMs": 1000}


def example_or_entry() -> ORMapEntry:
    """One key's OR-map state: a live record and a tombstoned tag."""
    return {"key": "todo:1", "records": [_or_record()], "tombstones": ["1699999999999:0:node-b"]}


def example_keyed_record() -> KeyedRecord:
    """A keyed LWW record."""
    return {"key": "user:1", "record": example_record()}


def example_ops() -> list[ClientOp]:
    """One op of each kind (PUT, REMOVE, OR_ADD, OR_REMOVE)."""
    tombstone: LWWRecordWire = {"value": None, "timestamp": example_timestamp()}
    return [
        {"id": 1, "mapName": "users", "key": "user:1", "opType": "PUT",
         "record": example_record(), "writeConcern": "APPLIED", "timeout": 5000},
        {"id": 2, "mapName": "users", "key": "user:2", "opType": "REMOVE", "record": tombstone},
        {"id": 3, "mapName": "todos", "key": "todo:1", "opType": "OR_ADD",
         "orRecord": _or_record()},
        {"id": 4, "mapName": "todos", "key": "todo:1", "opType": "OR_REMOVE", "orTag": TAG},
    ]  # fmt: skip


def example_predicate() -> PredicateNode:
    """A predicate tree mixing a combinator, comparisons and a full-text match."""
    return {
        "op": "and",
        "children": [
            {"op": "gte", "attribute": "age", "value": 18},
            {"op": "in", "attribute": "role", "value": ["admin", "editor"]},
            {"op": "not", "children": [{"op": "like", "attribute": "name", "value": "A%"}]},
            {"op": "match", "attribute": "bio", "value": "distributed systems"},
        ],
    }


def example_scored_result() -> ScoredResult:
    """A search hit."""
    return {"key": "doc:1", "value": {"title": "CRDTs"}, "score": 1.4816, "matchedTerms": ["crdt"]}


def _counter() -> PNCounterState:
    return {"p": {"node-a": 10, "node-b": 20}, "n": {"node-a": 5}}


def _journal_event() -> JournalEventWire:
    return {
        "sequence": 42, "type": "UPDATE", "mapName": "users", "key": "user:1",
        "value": {"age": 37}, "previousValue": {"age": 36},
        "timestamp": example_timestamp(), "nodeId": NODE,
    }  # fmt: skip


def _client_messages() -> list[ClientMessage]:
    predicate = example_predicate()
    query: Query = {
        "predicate": predicate, "where": {"active": True}, "sort": {"age": "desc", "name": "asc"},
        "limit": 20, "cursor": "eyJrIjoidXNlcjoxIn0",
    }  # fmt: skip
    processor: EntryProcessor = {"name": "increment", "code": "value + args", "args": {"by": 2}}
    return [
        {"type": "AUTH", "token": "eyJhbGciOiJIUzI1NiJ9.e30.x", "protocolVersion": 1,
         "clientId": "client-1"},
        {"type": "PING", "timestamp": 1_700_000_000_123},
        {"type": "CLIENT_OP", "payload": example_ops()[0]},
        {"type": "OP_BATCH", "payload": {"ops": example_ops(), "writeConcern": "PERSISTED",
                                         "timeout": 10_000}},
        {"type": "SYNC_INIT", "mapName": "users", "lastSyncTimestamp": 1_699_000_000_000},
        {"type": "MERKLE_REQ_BUCKET", "payload": {"mapName": "users", "path": "e4"}},
        {"type": "ORMAP_SYNC_INIT", "mapName": "todos", "rootHash": 2_625_408_098,
         "bucketHashes": {"e": 2_625_408_098}, "lastSyncTimestamp": 1_699_000_000_000},
        {"type": "ORMAP_MERKLE_REQ_BUCKET", "payload": {"mapName": "todos", "path": ""}},
        {"type": "ORMAP_DIFF_REQUEST", "payload": {"mapName": "todos", "keys": ["todo:1"]}},
        {"type": "ORMAP_PUSH_DIFF", "payload": {"mapName": "todos",
                                                "entries": [example_or_entry()]}},
        {"type": "QUERY_SUB", "payload": {"queryId": "q1", "mapName": "users", "query": query}},
        {"type": "QUERY_UNSUB", "payload": {"queryId": "q1"}},
        {"type": "HYBRID_QUERY_SUB", "payload": {
            "subscriptionId": "h1", "mapName": "docs", "predicate": predicate,
            "where": {"published": True}, "sort": {"_score": "desc"}, "limit": 10,
            "cursor": "c1"}},
        {"type": "HYBRID_QUERY_UNSUB", "payload": {"subscriptionId": "h1"}},
        {"type": "SEARCH", "payload": {"requestId": "r1", "mapName": "docs", "query": "crdt sync",
                                       "options": {"limit": 10, "minScore": 0.5,
                                                   "boost": {"title": 2.0}}}},
        {"type": "SEARCH_SUB", "payload": {"subscriptionId": "s1", "mapName": "docs",
                                           "query": "crdt", "options": {"limit": 5}}},
        {"type": "SEARCH_UNSUB", "payload": {"subscriptionId": "s1"}},
        {"type": "LOCK_REQUEST", "payload": {"requestId": "l1", "name": "orders", "ttl": 10_000}},
        {"type": "LOCK_RELEASE", "payload": {"requestId": "l2", "name": "orders",
                                             "fencingToken": 7}},
        {"type": "TOPIC_SUB", "payload": {"topic": "chat/general"}},
        {"type": "TOPIC_UNSUB", "payload": {"topic": "chat/general"}},
        {"type": "TOPIC_PUB", "payload": {"topic": "chat/general", "data": {"text": "hi"}}},
        {"type": "COUNTER_REQUEST", "payload": {"name": "likes"}},
        {"type": "COUNTER_SYNC", "payload": {"name": "likes", "state": _counter()}},
        {"type": "ENTRY_PROCESS", "requestId": "e1", "mapName": "stock", "key": "sku:1",
         "processor": processor},
        {"type": "ENTRY_PROCESS_BATCH", "requestId": "e2", "mapName": "stock",
         "keys": ["sku:1", "sku:2"], "processor": {"name": "get"}},
        {"type": "REGISTER_RESOLVER", "requestId": "r2", "mapName": "stock",
         "resolver": {"name": "non_negative", "code": "...", "priority": 80,
                      "keyPattern": "sku:*"}},
        {"type": "UNREGISTER_RESOLVER", "requestId": "r3", "mapName": "stock",
         "resolverName": "non_negative"},
        {"type": "LIST_RESOLVERS", "requestId": "r4", "mapName": "stock"},
        {"type": "JOURNAL_SUBSCRIBE", "requestId": "j1", "fromSequence": 40, "mapName": "users",
         "types": ["PUT", "DELETE"]},
        {"type": "JOURNAL_UNSUBSCRIBE", "subscriptionId": "j1"},
        {"type": "JOURNAL_READ", "requestId": "j2", "fromSequence": 0, "limit": 100,
         "mapName": "users"},
        {"type": "PARTITION_MAP_REQUEST", "payload": {"currentVersion": 3}},
    ]  # fmt: skip


def _server_messages() -> list[ServerMessage]:
    event: UpdatedEvent = {
        "mapName": "users", "key": "user:1", "eventType": "UPDATED", "record": example_record(),
    }  # fmt: skip
    scored = example_scored_result()
    ok: OpResult = {"opId": 1, "success": True, "achievedLevel": "APPLIED"}
    failed: OpResult = {
        "opId": 2, "success": False, "achievedLevel": "FIRE_AND_FORGET", "error": "denied",
    }  # fmt: skip
    return [
        {"type": "AUTH_REQUIRED"},
        {"type": "AUTH_ACK", "protocolVersion": 1, "nodeId": NODE, "serverTime": 1_700_000_000_500,
         "features": ["search", "hybrid-query"]},
        {"type": "AUTH_FAIL", "error": "invalid token"},
        {"type": "PONG", "timestamp": 1_700_000_000_123, "serverTime": 1_700_000_000_130},
        {"type": "OP_ACK", "payload": {"lastId": 2, "achievedLevel": "APPLIED",
                                       "results": [ok, failed]}},
        {"type": "OP_REJECTED", "payload": {"opId": 5, "reason": "clock drift 90000 ms",
                                            "code": 400}},
        {"type": "SERVER_EVENT", "payload": event},
        {"type": "SERVER_BATCH_EVENT", "payload": {"events": [
            event,
            {"mapName": "todos", "key": "todo:1", "eventType": "OR_ADD", "orRecord": _or_record()},
            {"mapName": "todos", "key": "todo:1", "eventType": "OR_REMOVE", "orTag": TAG}]}},
        {"type": "SYNC_RESP_ROOT", "payload": {"mapName": "users", "rootHash": 2_625_408_098,
                                               "timestamp": example_timestamp()}},
        {"type": "SYNC_RESP_BUCKETS", "payload": {"mapName": "users", "path": "e",
                                                  "buckets": {"4": 2_415_063_551}}},
        {"type": "SYNC_RESP_LEAF", "payload": {"mapName": "users", "path": "e40",
                                               "records": [example_keyed_record()]}},
        {"type": "SYNC_RESET_REQUIRED", "payload": {"mapName": "users"}},
        {"type": "ORMAP_SYNC_RESP_ROOT", "payload": {"mapName": "todos", "rootHash": 300_778_023,
                                                     "timestamp": example_timestamp()}},
        {"type": "ORMAP_SYNC_RESP_BUCKETS", "payload": {"mapName": "todos", "path": "",
                                                        "buckets": {"a": 1}}},
        {"type": "ORMAP_SYNC_RESP_LEAF", "payload": {"mapName": "todos", "path": "a1b",
                                                     "entries": [example_or_entry()]}},
        {"type": "ORMAP_DIFF_RESPONSE", "payload": {"mapName": "todos",
                                                    "entries": [example_or_entry()]}},
        {"type": "QUERY_RESP", "payload": {"queryId": "q1", "results": [{"key": "user:1",
                                           "value": {"age": 36}}], "nextCursor": "c2",
                                           "hasMore": True, "cursorStatus": "valid"}},
        {"type": "QUERY_UPDATE", "payload": {"queryId": "q1", "key": "user:1",
                                             "value": {"age": 37}, "changeType": "UPDATE"}},
        {"type": "HYBRID_QUERY_RESP", "payload": {"subscriptionId": "h1", "results": [scored],
                                                  "nextCursor": "c3", "hasMore": False,
                                                  "cursorStatus": "none"}},
        {"type": "HYBRID_QUERY_UPDATE", "payload": {**scored, "subscriptionId": "h1",
                                                    "changeType": "ENTER"}},
        {"type": "SEARCH_RESP", "payload": {"requestId": "r1", "results": [scored],
                                            "totalCount": 12, "nextCursor": "c4"}},
        {"type": "SEARCH_UPDATE", "payload": {**scored, "subscriptionId": "s1",
                                              "changeType": "LEAVE"}},
    ]  # fmt: skip


def _server_service_messages() -> list[ServerMessage]:
    partition_map: PartitionMapPayload = {
        "version": 3,
        "partitionCount": 271,
        "nodes": [
            {
                "nodeId": NODE,
                "status": "ACTIVE",
                "endpoints": {
                    "websocket": "wss://a.example:8080/ws",
                    "http": "https://a.example:8080",
                },
            }
        ],
        "partitions": [{"partitionId": 0, "ownerNodeId": NODE, "backupNodeIds": ["node-b"]}],
    }
    return [
        {"type": "LOCK_GRANTED", "payload": {"requestId": "l1", "name": "orders",
                                             "fencingToken": 7}},
        {"type": "LOCK_RELEASED", "payload": {"requestId": "l2", "name": "orders",
                                              "success": True}},
        {"type": "TOPIC_MESSAGE", "payload": {"topic": "chat/general", "data": {"text": "hi"},
                                              "publisherId": "client-2",
                                              "timestamp": 1_700_000_000_900}},
        {"type": "COUNTER_RESPONSE", "payload": {"name": "likes", "state": _counter()}},
        {"type": "COUNTER_UPDATE", "payload": {"name": "likes", "state": _counter()}},
        {"type": "ENTRY_PROCESS_RESPONSE", "requestId": "e1", "success": True, "result": 12,
         "newValue": {"qty": 12}},
        {"type": "ENTRY_PROCESS_BATCH_RESPONSE", "requestId": "e2", "results": {
            "sku:1": {"success": True, "result": 3, "newValue": 3},
            "sku:2": {"success": False, "error": "processor timed out"}}},
        {"type": "REGISTER_RESOLVER_RESPONSE", "requestId": "r2", "success": True},
        {"type": "UNREGISTER_RESOLVER_RESPONSE", "requestId": "r3", "success": False,
         "error": "no such resolver"},
        {"type": "LIST_RESOLVERS_RESPONSE", "requestId": "r4", "resolvers": [
            {"mapName": "stock", "name": "non_negative", "priority": 80, "keyPattern": "sku:*"}]},
        {"type": "MERGE_REJECTED", "mapName": "stock", "key": "sku:1", "attemptedValue": -3,
         "reason": "must not be negative", "timestamp": example_timestamp()},
        {"type": "JOURNAL_EVENT", "event": _journal_event(), "subscriptionId": "j1"},
        {"type": "JOURNAL_READ_RESPONSE", "requestId": "j2", "events": [_journal_event()],
         "hasMore": False},
        {"type": "PARTITION_MAP", "payload": partition_map},
        {"type": "GC_PRUNE", "payload": {"olderThan": example_timestamp()}},
        {"type": "ERROR", "payload": {"code": 413, "message": "key_chars_max exceeded",
                                      "details": {"field": "payload.ops.3.key"}}},
        {"type": "SHUTDOWN_PENDING", "retryAfter": 5000},
        {"type": "BATCH", "count": 2, "data": b"\x02\x00\x00\x00\x01\x00\x00\x00\xc0"
                                             b"\x01\x00\x00\x00\xc3"},
    ]  # fmt: skip


def example_messages() -> dict[str, Message]:
    """A fresh valid example of every client ↔ server message, by ``type``."""
    messages: list[Message] = [
        *_client_messages(),
        *_server_messages(),
        *_server_service_messages(),
    ]
    return {message["type"]: message for message in messages}
