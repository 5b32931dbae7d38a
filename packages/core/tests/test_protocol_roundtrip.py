"""Every message survives encode → decode unchanged, in msgpack and in JSON text."""

from __future__ import annotations

import json

import msgpack
import pytest

from topgun_core.errors import ProtocolError, ValidationError
from topgun_core.protocol import (
    CLIENT_MESSAGE_TYPES,
    CLUSTER_MESSAGE_TYPES,
    MESSAGE_TYPES,
    SERVER_MESSAGE_TYPES,
    decode,
    decode_client,
    decode_client_json,
    decode_cluster,
    decode_json,
    decode_server,
    decode_server_json,
    encode,
    encode_json,
    example_cluster_messages,
    example_messages,
)


def _floats_for_ints(value: object) -> object:
    """The same tree with every int (not bool) as a float, like some JS encoders send."""
    if isinstance(value, dict):
        return {k: _floats_for_ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_floats_for_ints(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


@pytest.mark.parametrize("name", MESSAGE_TYPES)
def test_msgpack_round_trip(name: str) -> None:
    message = example_messages()[name]
    frame = encode(message)
    assert isinstance(frame, bytes)
    assert decode(frame) == message


@pytest.mark.parametrize("name", MESSAGE_TYPES)
def test_json_round_trip(name: str) -> None:
    message = example_messages()[name]
    text = encode_json(message)
    assert isinstance(text, str)
    assert decode_json(text) == message
    assert decode_json(text.encode()) == message


@pytest.mark.parametrize("name", CLUSTER_MESSAGE_TYPES)
def test_cluster_round_trip(name: str) -> None:
    message = example_cluster_messages()[name]
    assert decode_cluster(encode(message)) == message


@pytest.mark.parametrize("name", CLIENT_MESSAGE_TYPES)
def test_client_messages_decode_on_the_server_side_only(name: str) -> None:
    message = example_messages()[name]
    assert decode_client(encode(message)) == message
    assert decode_client_json(encode_json(message)) == message
    with pytest.raises(ValidationError) as info:
        decode_server(encode(message))
    assert info.value.field == "type"
    assert "unknown server→client message type" in info.value.problem


@pytest.mark.parametrize("name", SERVER_MESSAGE_TYPES)
def test_server_messages_decode_on_the_client_side_only(name: str) -> None:
    message = example_messages()[name]
    assert decode_server(encode(message)) == message
    assert decode_server_json(encode_json(message)) == message
    with pytest.raises(ValidationError) as info:
        decode_client(encode(message))
    assert info.value.field == "type"


@pytest.mark.parametrize("name", CLUSTER_MESSAGE_TYPES)
def test_cluster_and_client_wires_do_not_mix(name: str) -> None:
    with pytest.raises(ValidationError, match="unknown client↔server message type"):
        decode(encode(example_cluster_messages()[name]))


@pytest.mark.parametrize("name", [n for n in MESSAGE_TYPES if n != "BATCH"])
def test_integral_floats_are_accepted_for_every_int_field(name: str) -> None:
    """Some JS encoders send every number as float64; such messages still decode."""
    message = example_messages()[name]
    frame = msgpack.packb(_floats_for_ints(message), use_bin_type=True)
    assert decode(frame) == message  # numerically equal everywhere


def test_integral_float_becomes_an_int_in_typed_fields() -> None:
    frame = msgpack.packb({"type": "PING", "timestamp": 1_700_000_000_123.0})
    message = decode_client(frame)
    assert message == {"type": "PING", "timestamp": 1_700_000_000_123}
    assert type(message["timestamp"]) is int


def test_typed_ints_come_back_as_ints_and_free_form_floats_stay_floats() -> None:
    batch = _floats_for_ints(example_messages()["OP_BATCH"])
    message = decode_client(msgpack.packb(batch))
    assert message["type"] == "OP_BATCH"
    op = message["payload"]["ops"][0]
    assert op["opType"] == "PUT"
    stamp = op["record"]["timestamp"]
    assert [type(v) for v in (op["id"], stamp["millis"], stamp["counter"])] == [int, int, int]
    value = op["record"]["value"]
    assert isinstance(value, dict)
    assert type(value["age"]) is float  # a free-form value is not reinterpreted


def test_batch_data_travels_as_base64_in_json() -> None:
    message = example_messages()["BATCH"]
    text = encode_json(message)
    assert json.loads(text)["data"] == "AgAAAAEAAADAAQAAAMM="
    assert decode_json(text) == message


def test_json_frames_cannot_carry_bytes_outside_batch_data() -> None:
    with pytest.raises(ProtocolError, match="cannot be sent as JSON"):
        encode_json({"type": "TOPIC_MESSAGE", "payload": {
            "topic": "t", "data": b"\x00", "timestamp": 1}})  # fmt: skip


def test_json_batch_data_must_be_base64() -> None:
    text = json.dumps({"type": "BATCH", "count": 1, "data": "not base64!"})
    with pytest.raises(ValidationError) as info:
        decode_json(text)
    assert (info.value.field, info.value.problem) == ("data", "must be base64 text in a JSON frame")


def test_encode_refuses_values_msgpack_cannot_carry() -> None:
    with pytest.raises(ProtocolError, match="unencodable message"):
        encode({"type": "TOPIC_PUB", "payload": {"topic": "t", "data": object()}})  # type: ignore[typeddict-item]


def test_decoded_messages_are_plain_dicts() -> None:
    message = decode_client(encode(example_messages()["OP_BATCH"]))
    assert type(message) is dict
    assert type(message["payload"]["ops"][0]) is dict
