"""The BATCH envelope: layout, round trip, and every way its data can be malformed."""

from __future__ import annotations

import struct

import pytest

from topgun_core.errors import LimitExceeded, ProtocolError
from topgun_core.protocol import (
    Limits,
    decode_server,
    encode,
    example_messages,
    pack_batch,
    unpack_batch,
)


def _u32(n: int) -> bytes:
    return struct.pack("<I", n)


def test_layout_is_little_endian_count_then_length_prefixed_messages() -> None:
    assert pack_batch([b"\xc0", b"\x01\x02"]) == (
        _u32(2) + _u32(1) + b"\xc0" + _u32(2) + b"\x01\x02"
    )
    assert pack_batch([]) == _u32(0)


def test_round_trip_of_real_messages() -> None:
    names = ["SERVER_EVENT", "QUERY_UPDATE", "OP_ACK", "ERROR"]
    frames = [encode(example_messages()[n]) for n in names]
    data = pack_batch(frames)
    assert unpack_batch(data) == frames
    assert unpack_batch(data, count=4) == frames
    assert [decode_server(f)["type"] for f in unpack_batch(data)] == names


def test_batch_message_carries_packed_data() -> None:
    frames = [encode(example_messages()["PONG"])] * 3
    batch = decode_server(encode({"type": "BATCH", "count": 3, "data": pack_batch(frames)}))
    assert batch["type"] == "BATCH"
    assert unpack_batch(batch["data"], count=batch["count"]) == frames


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        pytest.param(b"", "0 bytes, too short for the count", id="empty"),
        pytest.param(b"\x01\x00", "2 bytes, too short for the count", id="truncated-count"),
        pytest.param(_u32(2) + _u32(1) + b"\xc0", "header says 2 messages but data ends after 1",
                     id="count-mismatch"),
        pytest.param(_u32(1) + b"\x01\x00", "truncated length of message 0 at byte 4",
                     id="truncated-length"),
        pytest.param(_u32(1) + _u32(10) + b"\xc0", "message 0 length 10 runs past the end",
                     id="length-past-end"),
        pytest.param(_u32(1) + _u32(1) + b"\xc0" + b"junk", "4 trailing bytes after 1 messages",
                     id="trailing-garbage"),
        pytest.param(_u32(1) + _u32(0), "message 0 is empty", id="empty-message"),
        pytest.param(_u32(0) + b"x", "1 trailing bytes after 0 messages", id="zero-count-garbage"),
    ],
)  # fmt: skip
def test_malformed_data_is_refused_naming_the_problem(data: bytes, phrase: str) -> None:
    with pytest.raises(ProtocolError) as info:
        unpack_batch(data)
    assert phrase in str(info.value)
    assert str(info.value).startswith("malformed BATCH data: ")


def test_count_field_must_match_the_data() -> None:
    with pytest.raises(ProtocolError, match="count field is 3 but data holds 2"):
        unpack_batch(pack_batch([b"\xc0", b"\xc0"]), count=3)


def test_over_limit_count_is_refused_before_reading_messages() -> None:
    with pytest.raises(LimitExceeded) as info:
        unpack_batch(_u32(10_001))
    assert (info.value.limit, info.value.actual, info.value.maximum) == (
        "batch_messages_max", 10_001, 10_000)  # fmt: skip
    with pytest.raises(LimitExceeded, match="batch_messages_max exceeded: 4 > 3"):
        unpack_batch(pack_batch([b"\xc0"] * 4), limits=Limits(batch_messages_max=3))


def test_pack_refuses_more_messages_than_the_limit() -> None:
    with pytest.raises(LimitExceeded, match="batch_messages_max"):
        pack_batch([b"\xc0"] * 3, limits=Limits(batch_messages_max=2))
