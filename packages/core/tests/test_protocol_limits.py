"""Named limits: defaults, validation of the settings, and enforcement of custom values."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import msgpack
import pytest

from topgun_core.errors import LimitExceeded, ValidationError
from topgun_core.protocol import (
    DEFAULT_LIMITS,
    MESSAGE_TYPES,
    PROTOCOL_VERSION,
    FieldLimitExceeded,
    Limits,
    decode,
    decode_client,
    decode_client_json,
    encode,
    example_messages,
)


def _put(key: str = "k", map_name: str = "m") -> dict[str, Any]:
    stamp = {"millis": 1, "counter": 0, "nodeId": "n"}
    return {"id": 1, "mapName": map_name, "key": key, "opType": "PUT",
            "record": {"value": None, "timestamp": stamp}}  # fmt: skip


def _batch(*ops: dict[str, Any]) -> bytes:
    return msgpack.packb({"type": "OP_BATCH", "payload": {"ops": list(ops)}})


def test_protocol_version_is_one() -> None:
    assert PROTOCOL_VERSION == 1


def test_defaults_have_units_in_their_names() -> None:
    assert Limits() == DEFAULT_LIMITS
    assert DEFAULT_LIMITS.frame_bytes_max == 64 * 1024 * 1024
    assert DEFAULT_LIMITS.batch_ops_max == 10_000
    assert DEFAULT_LIMITS.batch_messages_max == 10_000
    assert DEFAULT_LIMITS.depth_max == 32
    assert DEFAULT_LIMITS.map_name_chars_max == 256
    assert DEFAULT_LIMITS.key_chars_max == 1024
    assert DEFAULT_LIMITS.name_chars_max == 256
    for field in dataclasses.fields(Limits):
        assert field.name.endswith(("_bytes_max", "_chars_max", "_items_max", "_ops_max",
                                    "_messages_max", "depth_max")), field.name  # fmt: skip


def test_limits_are_frozen_and_validated() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_LIMITS.depth_max = 3  # type: ignore[misc]
    with pytest.raises(ValueError, match=r"Limits\.depth_max must be a positive int"):
        Limits(depth_max=0)
    with pytest.raises(ValueError, match=r"Limits\.key_chars_max"):
        Limits(key_chars_max=True)


def test_oversize_frame_is_refused_before_decoding() -> None:
    limits = Limits(frame_bytes_max=100)
    garbage = b"\xc1" * 101  # would be undecodable, but the size check comes first
    with pytest.raises(LimitExceeded) as info:
        decode_client(garbage, limits=limits)
    assert (info.value.limit, info.value.actual, info.value.maximum) == (
        "frame_bytes_max", 101, 100)  # fmt: skip
    with pytest.raises(LimitExceeded, match="frame_bytes_max exceeded: 101 > 100"):
        decode_client_json("x" * 101, limits=limits)
    with pytest.raises(LimitExceeded, match="frame_bytes_max exceeded: 102 > 100"):
        decode_client_json("é" * 51, limits=limits)  # counted in UTF-8 bytes


def test_frame_exactly_at_the_limit_is_accepted() -> None:
    frame = encode({"type": "PING", "timestamp": 1})
    assert decode_client(frame, limits=Limits(frame_bytes_max=len(frame)))["type"] == "PING"


def test_collection_items_max_bounds_every_array_and_map() -> None:
    limits = Limits(collection_items_max=5)
    big_value = {"type": "TOPIC_PUB", "payload": {"topic": "t", "data": list(range(6))}}
    for decoder, frame in (
        (decode_client, msgpack.packb(big_value)),
        (decode_client_json, json.dumps(big_value)),
    ):
        with pytest.raises(LimitExceeded) as info:
            decoder(frame, limits=limits)  # type: ignore[operator]
        assert (info.value.limit, info.value.actual, info.value.maximum) == (
            "collection_items_max", 6, 5)  # fmt: skip
    data = {str(i): i for i in range(9)}
    big_map = {"type": "TOPIC_PUB", "payload": {"topic": "t", "data": data}}
    with pytest.raises(LimitExceeded, match="collection_items_max exceeded: 9 > 5"):
        decode_client(msgpack.packb(big_map), limits=limits)


def test_depth_max_counts_the_top_level_map_as_one() -> None:
    ok = {"type": "TOPIC_PUB", "payload": {"topic": "t", "data": {"a": 1}}}  # depth 3
    assert decode_client(msgpack.packb(ok), limits=Limits(depth_max=3)) == ok
    with pytest.raises(LimitExceeded, match="depth_max exceeded: 3 > 2"):
        decode_client(msgpack.packb(ok), limits=Limits(depth_max=2))


@pytest.mark.parametrize(
    ("limits", "frame", "limit"),
    [
        (Limits(key_chars_max=4), _batch(_put(key="12345")), "key_chars_max"),
        (Limits(map_name_chars_max=2), _batch(_put(map_name="abc")), "map_name_chars_max"),
        (Limits(batch_ops_max=2), _batch(_put(), _put(), _put()), "batch_ops_max"),
    ],
)
def test_custom_field_limits_are_enforced(limits: Limits, frame: bytes, limit: str) -> None:
    with pytest.raises(FieldLimitExceeded) as info:
        decode_client(frame, limits=limits)
    assert info.value.limit == limit
    assert info.value.maximum == getattr(limits, limit)


def test_raised_field_limits_admit_what_the_defaults_refuse() -> None:
    frame = _batch(_put(key="k" * 5000))
    with pytest.raises(FieldLimitExceeded):
        decode_client(frame)
    message = decode_client(frame, limits=Limits(key_chars_max=5000))
    assert message["type"] == "OP_BATCH"
    assert message["payload"]["ops"][0]["key"] == "k" * 5000


@pytest.mark.parametrize("name", MESSAGE_TYPES)
def test_recompiled_validators_accept_and_refuse_like_the_default(name: str) -> None:
    """A validator recompiled for other limits keeps every other rule (strictness too)."""
    limits = Limits(key_chars_max=2048, name_chars_max=512)
    message = example_messages()[name]
    assert decode(encode(message), limits=limits) == message
    broken = {**message, "unexpected": 1}
    with pytest.raises(ValidationError, match="unknown field"):
        decode(msgpack.packb(broken, use_bin_type=True), limits=limits)


def test_recompiled_validator_stays_strict() -> None:
    limits = Limits(key_chars_max=2048)
    with pytest.raises(ValidationError, match="valid integer, got str"):
        decode_client(_batch({**_put(), "id": "1"}), limits=limits)
    with pytest.raises(ValidationError, match="valid string, got int"):
        decode_client(_batch({**_put(), "key": 1}), limits=limits)
