"""Malformed input: every case is refused with an error naming the field and the problem."""

from __future__ import annotations

import copy
import json
from typing import Any

import msgpack
import pytest

from topgun_core.errors import LimitExceeded, ProtocolError, ValidationError
from topgun_core.protocol import (
    FieldLimitExceeded,
    decode,
    decode_client,
    decode_client_json,
    decode_cluster,
    decode_server,
    encode,
    example_cluster_messages,
    example_messages,
)


def _ts(**change: Any) -> dict[str, Any]:
    return {"millis": 1_700_000_000_000, "counter": 0, "nodeId": "node-a", **change}


def _op(**change: Any) -> dict[str, Any]:
    op = {"id": 1, "mapName": "users", "key": "user:1", "opType": "PUT",
          "record": {"value": {"name": "Ada"}, "timestamp": _ts()}}  # fmt: skip
    op.update(change)
    return op


def _batch(*ops: dict[str, Any], **payload: Any) -> bytes:
    return msgpack.packb({"type": "OP_BATCH", "payload": {"ops": list(ops), **payload}})


def _msg(**message: Any) -> bytes:
    return msgpack.packb(message, use_bin_type=True)


def _query(predicate: dict[str, Any]) -> bytes:
    return _msg(type="QUERY_SUB", payload={"queryId": "q", "mapName": "m",
                                           "query": {"predicate": predicate}})  # fmt: skip


def _without(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


# (id, frame, field, a phrase the problem must contain)
SCHEMA_CASES: list[tuple[str, bytes, str, str]] = [
    ("string where int", _batch(_op(id="1")), "payload.ops.0.id", "valid integer, got str '1'"),
    ("bool where int", _batch(_op(id=True)), "payload.ops.0.id", "valid integer, got bool"),
    ("non-integral float", _batch(_op(id=1.5)), "payload.ops.0.id", "non-integral number 1.5"),
    ("negative id", _batch(_op(id=-1)), "payload.ops.0.id", "greater than or equal to 0"),
    ("int where string", _batch(_op(key=7)), "payload.ops.0.key", "valid string, got int 7"),
    ("list where map", _batch(_op(record=[1])), "payload.ops.0.record", "valid dictionary"),
    ("map where list", _msg(type="OP_BATCH", payload={"ops": {}}), "payload.ops", "valid list"),
    ("missing field", _batch(_without(_op(), "key")), "payload.ops.0.key", "missing"),
    ("missing payload", _msg(type="OP_BATCH"), "payload", "missing"),
    ("missing opType", _batch(_without(_op(), "opType")), "payload.ops.0.opType", "missing"),
    ("invalid opType", _batch(_op(opType="UPSERT")), "payload.ops.0.opType",
     "must be one of 'PUT', 'REMOVE', 'OR_ADD', 'OR_REMOVE', got str 'UPSERT'"),
    ("PUT without record", _batch(_without(_op(), "record")), "payload.ops.0.record", "missing"),
    ("OR_ADD with a record", _batch(_op(opType="OR_ADD")), "payload.ops.0.orRecord", "missing"),
    ("REMOVE with a value", _batch(_op(opType="REMOVE")), "payload.ops.0.record.value",
     "should be None"),
    ("invalid writeConcern", _batch(_op(writeConcern="FAST")), "payload.ops.0.writeConcern",
     "got str 'FAST'"),
    ("invalid batch writeConcern", _batch(_op(), writeConcern="ALL"), "payload.writeConcern",
     "'PERSISTED'"),
    ("unknown field", _batch(_op(ttl=5)), "payload.ops.0.ttl", "unknown field"),
    ("string millis", _batch(_op(record={"value": 1, "timestamp": _ts(millis="1")})),
     "payload.ops.0.record.timestamp.millis", "valid integer, got str"),
    ("fractional millis", _batch(_op(record={"value": 1, "timestamp": _ts(millis=1.25)})),
     "payload.ops.0.record.timestamp.millis", "non-integral"),
    ("nodeId with colon", _batch(_op(record={"value": 1, "timestamp": _ts(nodeId="a:b")})),
     "payload.ops.0.record.timestamp.nodeId", "non-empty ASCII without ':'"),
    ("empty nodeId", _batch(_op(record={"value": 1, "timestamp": _ts(nodeId="")})),
     "payload.ops.0.record.timestamp.nodeId", "non-empty ASCII"),
    ("non-ASCII nodeId", _batch(_op(record={"value": 1, "timestamp": _ts(nodeId="nœud")})),
     "payload.ops.0.record.timestamp.nodeId", "ASCII"),
    ("zero ttl", _batch(_op(record={"value": 1, "timestamp": _ts(), "ttlMs": 0})),
     "payload.ops.0.record.ttlMs", "positive finite number"),
    ("string ttl", _batch(_op(record={"value": 1, "timestamp": _ts(), "ttlMs": "5"})),
     "payload.ops.0.record.ttlMs", "positive finite number"),
    ("unknown predicate op", _query({"op": "startsWith", "attribute": "a", "value": "x"}),
     "payload.query.predicate.op", "got str 'startsWith'"),
    ("unknown nested predicate op", _query({"op": "and", "children": [{"op": "eq"}, {"op": "x"}]}),
     "payload.query.predicate.children.1.op", "'matchPrefix'"),
    ("bad sort direction", _msg(type="QUERY_SUB", payload={"queryId": "q", "mapName": "m",
                                                           "query": {"sort": {"a": "up"}}}),
     "payload.query.sort.a", "'asc' or 'desc'"),
    ("bad merkle path", _msg(type="MERKLE_REQ_BUCKET", payload={"mapName": "m", "path": "XYZ"}),
     "payload.path", "hex digits"),
    ("bad counter node", _msg(type="COUNTER_SYNC", payload={"name": "c", "state": {
        "p": {"a:b": 1}, "n": {}}}), "payload.state.p.a:b", "map key"),
    ("negative tally", _msg(type="COUNTER_SYNC", payload={"name": "c", "state": {
        "p": {"a": -1}, "n": {}}}), "payload.state.p.a", "greater than or equal to 0"),
    ("resolver priority", _msg(type="REGISTER_RESOLVER", requestId="r", mapName="m",
                               resolver={"name": "x", "priority": 101}),
     "resolver.priority", "less than or equal to 100"),
    ("null for optional field", _msg(type="AUTH", token="t", clientId=None), "clientId",
     "valid string, got NoneType"),
    ("NaN score", _msg(type="SEARCH", payload={"requestId": "r", "mapName": "m", "query": "q",
                                               "options": {"minScore": float("nan")}}),
     "payload.options.minScore", "finite number"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("frame", "field", "phrase"),
    [pytest.param(frame, field, phrase, id=name) for name, frame, field, phrase in SCHEMA_CASES],
)
def test_schema_violations_name_field_and_problem(frame: bytes, field: str, phrase: str) -> None:
    with pytest.raises(ValidationError) as info:
        decode_client(frame)
    assert info.value.field == field
    assert phrase in info.value.problem
    assert info.value.code == 400
    assert str(info.value) == f"invalid message: {field}: {info.value.problem}"


# (id, frame, problem phrase) -- all name the ``type`` field.
ENVELOPE_CASES: list[tuple[str, bytes, str]] = [
    ("unknown type", _msg(type="TELEPORT"), "unknown client→server message type 'TELEPORT'"),
    ("server type sent by a client", _msg(type="OP_ACK", payload={}), "'OP_ACK'"),
    ("missing type", _msg(payload={}), "missing"),
    ("non-string type", _msg(type=3), "must be a string, got int 3"),
    ("null type", _msg(type=None), "must be a string, got NoneType"),
    ("array top level", msgpack.packb([1, 2]), "must be a map, got list"),
    ("string top level", msgpack.packb("AUTH"), "must be a map, got str 'AUTH'"),
    ("int top level", msgpack.packb(5), "must be a map, got int 5"),
    ("huge unknown type is cut short", _msg(type="X" * 5000), "'XXXXXXXXXX"),
]


@pytest.mark.parametrize(
    ("frame", "phrase"),
    [pytest.param(frame, phrase, id=name) for name, frame, phrase in ENVELOPE_CASES],
)
def test_envelope_violations_name_the_type_field(frame: bytes, phrase: str) -> None:
    with pytest.raises(ValidationError) as info:
        decode_client(frame)
    assert info.value.field == "type"
    assert phrase in info.value.problem
    assert len(str(info.value)) < 200


# (id, frame, phrase) -- bytes that are not one msgpack message.
UNDECODABLE_CASES: list[tuple[str, bytes, str]] = [
    ("empty bytes", b"", "empty frame"),
    ("garbage", b"\xc1\xc1\xc1", "not msgpack"),
    ("truncated", encode(example_messages()["AUTH"])[:-3], "truncated msgpack"),
    ("trailing data", encode(example_messages()["PING"]) + b"\x00", "trailing bytes"),
    ("two messages", encode(example_messages()["PING"]) * 2, "trailing bytes"),
    ("invalid UTF-8", b"\x81\xa4type\xa2\xff\xfe", "not valid UTF-8"),
    ("integer map key", msgpack.packb({1: 2}), "map key"),
]


@pytest.mark.parametrize(
    ("frame", "phrase"),
    [pytest.param(frame, phrase, id=name) for name, frame, phrase in UNDECODABLE_CASES],
)
def test_undecodable_frames(frame: bytes, phrase: str) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_client(frame)
    assert type(info.value) is ProtocolError
    assert str(info.value).startswith("undecodable frame: ")
    assert phrase in str(info.value)


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("", "empty frame"),
        ("{not json", "not JSON"),
        ('{"type": "PING", "timestamp": NaN}', "not JSON"),
        ('{"type": "PING", "timestamp": 1} 2', "not JSON"),
        (b"\xff\xfe{}", "not JSON"),
    ],
)
def test_undecodable_json_frames(text: str | bytes, phrase: str) -> None:
    with pytest.raises(ProtocolError, match=phrase):
        decode_client_json(text)


@pytest.mark.parametrize(
    ("frame", "field", "limit", "actual", "maximum"),
    [
        pytest.param(_batch(_op(key="k" * 1025)), "payload.ops.0.key", "key_chars_max", 1025,
                     1024, id="key"),
        pytest.param(_batch(_op(mapName="m" * 257)), "payload.ops.0.mapName",
                     "map_name_chars_max", 257, 256, id="mapName"),
        pytest.param(_msg(type="TOPIC_SUB", payload={"topic": "t" * 300}), "payload.topic",
                     "name_chars_max", 300, 256, id="topic"),
        pytest.param(_batch(*[_op()] * 10_001), "payload.ops", "batch_ops_max", 10_001, 10_000,
                     id="batch"),
        pytest.param(_msg(type="ORMAP_DIFF_REQUEST", payload={"mapName": "m",
                                                              "keys": ["a", "k" * 2000]}),
                     "payload.keys.1", "key_chars_max", 2000, 1024, id="key-in-list"),
    ],
)  # fmt: skip
def test_oversize_fields_name_field_and_limit(
    frame: bytes, field: str, limit: str, actual: int, maximum: int
) -> None:
    with pytest.raises(FieldLimitExceeded) as info:
        decode_client(frame)
    error = info.value
    assert (error.field, error.limit, error.actual, error.maximum) == (
        field, limit, actual, maximum)  # fmt: skip
    assert isinstance(error, LimitExceeded)
    assert error.code == 413
    assert str(error) == f"{field}: {limit} exceeded: {actual} > {maximum}"


def test_oversize_batch_is_refused_before_its_ops_are_validated() -> None:
    bad_ops = [{"opType": "NONSENSE"}] * 10_001
    with pytest.raises(FieldLimitExceeded, match="batch_ops_max"):
        decode_client(_batch(*bad_ops))


def test_limit_exact_maximum_is_accepted() -> None:
    message = decode_client(_batch(*[_op(key="k" * 1024, mapName="m" * 256)] * 10_000))
    assert message["type"] == "OP_BATCH"
    assert len(message["payload"]["ops"]) == 10_000


def test_too_deep_nesting_names_depth_max() -> None:
    value: Any = 1
    for _ in range(40):
        value = [value]
    with pytest.raises(LimitExceeded) as info:
        decode_client(_batch(_op(record={"value": value, "timestamp": _ts()})))
    assert info.value.limit == "depth_max"
    assert info.value.maximum == 32


def test_nesting_past_the_decoders_own_stack_is_undecodable() -> None:
    frame = b"\x91" * 5000 + b"\x01"
    with pytest.raises(ProtocolError, match="undecodable frame: nested deeper"):
        decode_client(frame)
    with pytest.raises(ProtocolError):
        decode_client_json("[" * 100_000 + "]" * 100_000)


def test_msgpack_extension_values_are_refused() -> None:
    timestamp_ext = _msg(type="TOPIC_PUB", payload={"topic": "t", "data": msgpack.Timestamp(1)})
    other_ext = _msg(type="TOPIC_PUB", payload={"topic": "t", "data": msgpack.ExtType(5, b"x")})
    for frame in (timestamp_ext, other_ext):
        with pytest.raises(ValidationError, match="unsupported value type"):
            decode_client(frame)


def test_bytes_map_keys_in_values_are_refused() -> None:
    frame = _msg(type="TOPIC_PUB", payload={"topic": "t", "data": {b"k": 1}})
    with pytest.raises(ValidationError, match="map keys must be strings, got bytes"):
        decode_client(frame)


def test_the_first_of_many_errors_is_reported() -> None:
    ops = [_op(), _op(id="x"), _op(key=1)]
    with pytest.raises(ValidationError) as info:
        decode_client(_batch(*ops))
    assert info.value.field == "payload.ops.1.id"


def test_no_pydantic_exception_escapes_any_decoder() -> None:
    import pydantic

    bad = [_batch(_op(id="x")), b"\xc1", _msg(type="NOPE"), _msg(type="HELLO", senderId=1)]
    for frame in bad:
        for decoder in (decode, decode_client, decode_server, decode_cluster):
            with pytest.raises(ProtocolError) as info:
                decoder(frame)
            assert not isinstance(info.value, pydantic.ValidationError)
            assert info.value.__cause__ is None


def test_cluster_schema_errors_name_the_field() -> None:
    hello = copy.deepcopy(example_cluster_messages()["HELLO"])
    hello["senderId"] = "bad:id"
    with pytest.raises(ValidationError) as info:
        decode_cluster(encode(hello))
    assert info.value.field == "senderId"


def test_json_errors_name_the_field_too() -> None:
    text = json.dumps({"type": "OP_BATCH", "payload": {"ops": [_op(id=2.5)]}})
    with pytest.raises(ValidationError) as info:
        decode_client_json(text)
    assert info.value.field == "payload.ops.0.id"
