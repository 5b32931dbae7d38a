"""The public API of topgun_core.protocol is pinned.

Message classes (the union members) and the payload shapes they use are exported by
rule; everything else is listed here, so adding or removing a name is a decision.
"""

from __future__ import annotations

from typing import get_type_hints

from topgun_core import protocol

API = {
    # codec
    "encode", "decode", "decode_client", "decode_server", "decode_cluster",
    "encode_json", "decode_json", "decode_client_json", "decode_server_json",
    "pack_batch", "unpack_batch",
    # unions and their catalogue
    "ClientMessage", "ServerMessage", "ClusterMessage", "Message",
    "CLIENT_MESSAGE_TYPES", "SERVER_MESSAGE_TYPES", "CLUSTER_MESSAGE_TYPES", "MESSAGE_TYPES",
    "union_members", "message_type_name",
    # limits and version
    "PROTOCOL_VERSION", "Limits", "DEFAULT_LIMITS", "FIELD_LIMIT_NAMES", "FieldLimitExceeded",
    # shared shapes (PROTOCOL.md "Shared shapes") and the core wire types they use
    "TimestampWire", "LWWRecordWire", "ORRecordWire", "JournalEventWire", "PNCounterState",
    "JournalEventType", "WriteConcern", "ClientOp", "PutOp", "RemoveOp", "OrAddOp",
    "OrRemoveOp", "OpResult", "Query", "PredicateNode", "PredicateOp", "SortDirection",
    "SearchOptions", "QueryResult", "ScoredResult", "KeyedRecord", "ORMapEntry", "ChangeType",
    "NodeEndpoints", "NodeStatus", "PartitionMapNode", "PartitionInfo", "PartitionMapPayload",
    "CursorStatus", "ServerEvent", "UpdatedEvent", "OrAddEvent", "OrRemoveEvent",
    "EntryProcessor", "EntryProcessResult", "ResolverSpec", "ResolverInfo", "ClusterMember",
    "ClusterSubscription", "QuerySubscription", "SearchSubscription", "ClusterSubResult",
    "KeyHash",
    # examples and docs
    "example_messages", "example_cluster_messages", "example_timestamp", "example_record",
    "example_keyed_record", "example_or_entry", "example_ops", "example_predicate",
    "example_scored_result", "render_protocol_docs",
}  # fmt: skip


def _message_classes() -> set[str]:
    unions = (protocol.ClientMessage, protocol.ServerMessage, protocol.ClusterMessage)
    return {m.__name__ for u in unions for m in protocol.union_members(u)}


def _payload_classes() -> set[str]:
    names = set()
    unions = (protocol.ClientMessage, protocol.ServerMessage, protocol.ClusterMessage)
    for union in unions:
        for member in protocol.union_members(union):
            payload = get_type_hints(member).get("payload")
            if isinstance(payload, type) and payload.__name__.endswith("Payload"):
                names.add(payload.__name__)
    return names


def test_exports_are_pinned() -> None:
    expected = API | _message_classes() | _payload_classes()
    exported = set(protocol.__all__)
    assert exported - expected == set(), "new export: add it to API deliberately"
    assert expected - exported == set(), "missing export"
    assert len(protocol.__all__) == len(exported)


def test_every_export_resolves_and_is_documented() -> None:
    for name in protocol.__all__:
        value = getattr(protocol, name)
        if callable(value) and not name.isupper() and isinstance(value, type):
            assert value.__doc__, f"{name} has no docstring"
        if callable(value) and name[0].islower():
            assert value.__doc__, f"{name} has no docstring"
