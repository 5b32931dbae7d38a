"""HARDENING.md requirements, one section each, every test would fail on regression."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Callable
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from topgun_core import HLC, ClockDriftError, LWWMap, LWWRecord, ORMap, ORRecord, Timestamp
from topgun_core.errors import LimitExceeded, ProtocolError, ValidationError
from topgun_core.protocol import (
    CLUSTER_MESSAGE_TYPES,
    MESSAGE_TYPES,
    Limits,
    decode,
    decode_client,
    decode_client_json,
    decode_cluster,
    decode_json,
    decode_server,
    encode,
    example_cluster_messages,
    example_messages,
    pack_batch,
    unpack_batch,
)
from topgun_core.testing import FakeClock

# =====================================================================================
# Message validation at the codec edge (HARDENING.md §3)
#
# Every inbound frame is validated against the typed union before any handler runs;
# invalid input raises a ProtocolError subclass naming the problem and yields nothing;
# unknown types are errors, never ignored; every named limit is enforced.
# =====================================================================================

Decoder = Callable[..., object]
BINARY_DECODERS: list[Decoder] = [decode, decode_client, decode_server, decode_cluster]
ALL_DECODERS: list[Decoder] = [*BINARY_DECODERS, decode_json, decode_client_json]


def _put(i: int, **change: Any) -> dict[str, Any]:
    op = {
        "id": i,
        "mapName": "users",
        "key": f"user:{i}",
        "opType": "PUT",
        "record": {"value": {"n": i}, "timestamp": {"millis": 1, "counter": i, "nodeId": "c"}},
    }
    op.update(change)
    return op  # fmt: skip


def test_edge_one_bad_op_rejects_the_whole_batch() -> None:
    """No partially-valid message: 999 good ops and one bad one decode to nothing."""
    ops = [_put(i) for i in range(1000)]
    ops[637] = _put(637, key=None)
    frame = msgpack.packb({"type": "OP_BATCH", "payload": {"ops": ops}})
    with pytest.raises(ValidationError) as info:
        decode_client(frame)
    assert info.value.field == "payload.ops.637.key"


def test_edge_invalid_input_leaves_the_callers_data_untouched() -> None:
    text = json.dumps({"type": "BATCH", "count": 1, "data": "AQAAAAEAAADA", "extra": 1})
    before = text
    with pytest.raises(ValidationError, match="unknown field"):
        decode_json(text)
    assert text == before


@pytest.mark.parametrize("decoder", ALL_DECODERS, ids=lambda d: d.__name__)
def test_edge_unknown_types_are_errors_for_every_decoder(decoder: Decoder) -> None:
    message = {"type": "SOMETHING_NEW", "payload": {}}
    frame: bytes | str = (
        json.dumps(message) if decoder.__name__.endswith("json") else msgpack.packb(message)
    )
    with pytest.raises(ValidationError) as info:
        decoder(frame)
    assert info.value.field == "type"
    assert "'SOMETHING_NEW'" in info.value.problem


def test_edge_each_wire_accepts_only_its_own_types() -> None:
    for name in MESSAGE_TYPES:
        with pytest.raises(ValidationError, match="unknown node↔node message type"):
            decode_cluster(encode(example_messages()[name]))
    for name in CLUSTER_MESSAGE_TYPES:
        with pytest.raises(ValidationError, match="unknown client↔server message type"):
            decode(encode(example_cluster_messages()[name]))


def _over(limit: str) -> tuple[Limits, Callable[[Limits], object]]:
    """A tight ``Limits`` and an action that exceeds exactly ``limit`` under it."""
    tight = Limits(**{limit: 2})
    ping = {"type": "PING", "timestamp": 1}
    actions: dict[str, Callable[[Limits], object]] = {
        "frame_bytes_max": lambda lim: decode_client(encode(ping), limits=lim),
        "depth_max": lambda lim: decode_client(encode({"type": "TOPIC_PUB", "payload": {
            "topic": "t", "data": {"a": 1}}}), limits=lim),
        "collection_items_max": lambda lim: decode_client(encode({"type": "TOPIC_PUB", "payload": {
            "topic": "t", "data": [1, 2, 3]}}), limits=lim),
        "batch_ops_max": lambda lim: decode_client(msgpack.packb({"type": "OP_BATCH", "payload": {
            "ops": [_put(1), _put(2), _put(3)]}}), limits=lim),
        "batch_messages_max": lambda lim: unpack_batch(pack_batch([b"\xc0"] * 3), limits=lim),
        "map_name_chars_max": lambda lim: decode_client(msgpack.packb(
            {"type": "SYNC_INIT", "mapName": "abc"}), limits=lim),
        "key_chars_max": lambda lim: decode_client(msgpack.packb({"type": "OP_BATCH", "payload": {
            "ops": [_put(1, key="abc")]}}), limits=lim),
        "name_chars_max": lambda lim: decode_client(msgpack.packb(
            {"type": "TOPIC_SUB", "payload": {"topic": "abc"}}), limits=lim),
    }  # fmt: skip
    return tight, actions[limit]


@pytest.mark.parametrize("limit", [f.name for f in dataclasses.fields(Limits)])
def test_edge_every_declared_limit_is_enforced_and_named(limit: str) -> None:
    """No limit is declared but unenforced (STYLE.md anti-pattern)."""
    tight, action = _over(limit)
    with pytest.raises(LimitExceeded) as info:
        action(tight)
    assert info.value.limit == limit
    assert info.value.maximum == 2
    assert info.value.actual > 2
    assert limit in str(info.value)
    action(Limits())  # the same input is fine under the defaults


@settings(max_examples=300, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_edge_arbitrary_bytes_raise_only_protocol_errors(data: bytes) -> None:
    for decoder in BINARY_DECODERS:
        with contextlib.suppress(ProtocolError):
            decoder(data)


_EXAMPLE_FRAMES = [encode(m) for m in example_messages().values()]


@settings(max_examples=300, derandomize=True)
@given(
    st.sampled_from(_EXAMPLE_FRAMES),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_edge_corrupted_frames_raise_only_protocol_errors(
    frame: bytes, flips: list[tuple[int, int]]
) -> None:
    corrupted = bytearray(frame)
    for position, value in flips:
        corrupted[position % len(corrupted)] = value
    try:
        message = decode(bytes(corrupted))
    except ProtocolError:
        return
    assert decode(encode(message)) == message  # whatever passes is a valid message


@settings(max_examples=200, derandomize=True)
@given(st.text(max_size=200))
def test_edge_arbitrary_text_raises_only_protocol_errors(text: str) -> None:
    with contextlib.suppress(ProtocolError):
        decode_json(text)


# =====================================================================================
# Clock drift strict mode (HARDENING.md §2, SEMANTICS.md §2)
#
# A remote timestamp more than max_drift_ms ahead of the wall clock is rejected, not
# merely logged: exactly at the threshold it is accepted, one millisecond beyond it
# raises ClockDriftError naming the drift and the threshold, and the clock — and any
# CRDT that was merging — is left exactly as it was.
# =====================================================================================


def _strict_hlc(wall_ms: int = 1_000_000, max_drift_ms: int = 60_000) -> HLC:
    return HLC("local", clock=FakeClock(wall_ms), max_drift_ms=max_drift_ms, strict=True)


def test_drift_exactly_at_the_threshold_is_accepted() -> None:

    hlc = _strict_hlc()
    hlc.update(Timestamp(1_000_000 + 60_000, 0, "remote"))
    assert hlc.last.millis == 1_060_000


def test_drift_one_ms_beyond_the_threshold_is_rejected_with_a_clear_message() -> None:

    hlc = _strict_hlc()
    with pytest.raises(ClockDriftError) as info:
        hlc.update(Timestamp(1_060_001, 0, "remote"))
    assert str(info.value) == "clock drift of 60001 ms exceeds the maximum of 60000 ms"
    assert info.value.drift_ms == 60_001
    assert info.value.max_drift_ms == 60_000
    assert info.value.code == 400


def test_clock_is_untouched_after_a_rejection() -> None:

    hlc = _strict_hlc()
    issued = hlc.now()
    hlc.update(Timestamp(1_000_000, 5, "remote"))
    before = hlc.last
    with pytest.raises(ClockDriftError):
        hlc.update(Timestamp(9_000_000, 0, "remote"))
    assert hlc.last == before
    assert hlc.now() == Timestamp(before.millis, before.counter + 1, "local")
    assert issued < before


def test_rejected_merge_leaves_lww_map_and_merkle_root_untouched() -> None:

    users = LWWMap(_strict_hlc())
    users.set("u1", {"name": "Ada"})
    root, clock = users.merkle.root_hash, users.hlc.last
    future = LWWRecord({"name": "Mallory"}, Timestamp(2_000_000, 0, "remote"))
    with pytest.raises(ClockDriftError):
        users.merge("u1", future)
    assert users.get("u1") == {"name": "Ada"}
    assert users.merkle.root_hash == root
    assert users.hlc.last == clock


def test_rejected_or_add_leaves_or_map_untouched() -> None:

    tags = ORMap(_strict_hlc())
    tags.add("t", "work")
    root = tags.merkle.root_hash
    stamp = Timestamp(2_000_000, 0, "remote")
    with pytest.raises(ClockDriftError):
        tags.apply("t", ORRecord("evil", stamp, str(stamp)))
    assert tags.get("t") == ["work"]
    assert tags.merkle.root_hash == root


def test_non_strict_mode_accepts_but_the_server_default_is_strict() -> None:

    lenient = HLC("n", clock=FakeClock(0), max_drift_ms=10)
    lenient.update(Timestamp(1_000, 0, "remote"))
    assert lenient.last.millis == 1_000
    assert HLC("n").strict is False  # the library default; servers pass strict=True
