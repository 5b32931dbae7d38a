"""Topics: name validation table, the offline queue's overflow policies with
their reports, batching, and the persistence round trip."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from topgun_core.errors import LimitExceeded, ValidationError
from topgun_core.protocol import FieldLimitExceeded
from topgun_core.topics import (
    OVERFLOW_POLICIES,
    TOPIC_MESSAGE_BYTES_MAX,
    TOPIC_SUBSCRIPTIONS_PER_CLIENT_MAX,
    DroppedPublish,
    OfflineTopicQueue,
    OverflowPolicy,
    PendingPublish,
    PushResult,
    validate_topic_name,
)


@pytest.mark.parametrize(
    "name",
    ["chat", "a", "x" * 256, "room:42/messages", "a.b-c_d", "UPPER_lower_09", "::", "/", "-._:/"],
)
def test_valid_topic_names(name: str) -> None:
    assert validate_topic_name(name) == name


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "non-empty"),
        (None, "non-empty string"),
        (42, "non-empty string"),
        ("x" * 257, "at most 256 characters, got 257"),
        ("has space", "invalid character ' '"),
        ("chat!", "invalid character '!'"),
        ("café", "invalid character 'é'"),
        ("日本", "invalid character '日'"),
        ("tab\there", "invalid character '\\t'"),
        ("line\n", "invalid character '\\n'"),
        ("a*b", "invalid character '*'"),
        ("a#b", "invalid character '#'"),
    ],
)
def test_invalid_topic_names(name: object, problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_topic_name(name)
    assert caught.value.field == "topic"
    assert problem in caught.value.problem


def test_subscription_limit_is_named() -> None:
    assert TOPIC_SUBSCRIPTIONS_PER_CLIENT_MAX == 100


def filled(policy: OverflowPolicy, capacity: int = 3) -> OfflineTopicQueue:
    queue = OfflineTopicQueue(capacity, policy)
    for i in range(capacity):
        assert queue.push("t", i).queued
    return queue


def test_queue_is_fifo() -> None:
    queue = OfflineTopicQueue(10)
    results = [queue.push(f"t{i}", {"n": i}) for i in range(5)]
    assert [r.message.seq for r in results] == [0, 1, 2, 3, 4]
    assert all(r.queued and r.dropped == () for r in results)
    assert len(queue) == 5
    assert queue.peek() == PendingPublish(0, "t0", {"n": 0})
    assert [m.seq for m in queue.peek_batch(2)] == [0, 1]
    assert len(queue) == 5
    assert [m.data for m in queue.pop_batch(3)] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert [m.seq for m in queue] == [3, 4]
    assert queue.pop_batch(100) == [
        PendingPublish(3, "t3", {"n": 3}),
        PendingPublish(4, "t4", {"n": 4}),
    ]
    assert queue.pop_batch(1) == []
    assert queue.peek() is None
    assert queue.peek_batch(0) == []


def test_drop_oldest_reports_the_dropped_head() -> None:
    queue = filled("drop_oldest")
    result = queue.push("t", 3)
    assert result.queued
    assert result.dropped == (
        DroppedPublish(
            PendingPublish(0, "t", 0),
            "drop_oldest",
            "offline topic queue full over its capacity of 3: dropped the oldest message",
        ),
    )
    assert [m.data for m in queue] == [1, 2, 3]
    assert queue.dropped_total == 1
    queue.push("t", 4)
    assert queue.dropped_total == 2
    assert [m.data for m in queue] == [2, 3, 4]


def test_drop_newest_reports_the_refused_message() -> None:
    queue = filled("drop_newest")
    result = queue.push("t", 3)
    assert not result.queued
    assert result.message == PendingPublish(3, "t", 3)
    assert [d.message for d in result.dropped] == [result.message]
    assert result.dropped[0].policy == "drop_newest"
    assert "dropped the newest message" in result.dropped[0].reason
    assert [m.data for m in queue] == [0, 1, 2]
    assert queue.dropped_total == 1


def test_error_policy_raises_and_keeps_the_queue_intact() -> None:
    queue = filled("error")
    with pytest.raises(LimitExceeded) as caught:
        queue.push("t", 3)
    assert caught.value.limit == "topic_offline_queue_capacity"
    assert (caught.value.actual, caught.value.maximum) == (4, 3)
    assert [m.data for m in queue] == [0, 1, 2]
    assert queue.dropped_total == 0
    queue.pop_batch(1)
    assert queue.push("t", 3) == PushResult(PendingPublish(3, "t", 3), queued=True)


def test_push_validates_topic_and_data() -> None:
    queue = OfflineTopicQueue(3)
    with pytest.raises(ValidationError) as caught:
        queue.push("bad topic", 1)
    assert caught.value.field == "topic"
    with pytest.raises(ValidationError) as caught:
        queue.push("t", {"x": {1, 2}})  # type: ignore[dict-item]
    assert caught.value.field == "data.x"
    with pytest.raises(FieldLimitExceeded) as caught_size:
        queue.push("t", "x" * TOPIC_MESSAGE_BYTES_MAX)
    assert caught_size.value.limit == "topic_message_bytes_max"
    assert len(queue) == 0
    assert queue.push("t", (1, 2)).message.data == [1, 2]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"capacity": 0}, "capacity"),
        ({"capacity": 2_000_000}, "capacity"),
        ({"capacity": 1.5}, "capacity"),
        ({"overflow": "drop_random"}, "overflow"),
    ],
)
def test_bad_configuration(kwargs: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        OfflineTopicQueue(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("n", [-1, 1.0, True])
def test_bad_batch_sizes(n: object) -> None:
    queue = OfflineTopicQueue()
    with pytest.raises(ValueError, match="batch size"):
        queue.pop_batch(n)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch size"):
        queue.peek_batch(n)  # type: ignore[arg-type]


# ---------------------------------------------------------------- persistence


def test_records_round_trip_through_msgpack() -> None:
    queue = OfflineTopicQueue(5)
    queue.push("chat", {"text": "hi", "blob": b"\x00\x01", "n": [1, 2.5, None, True]})
    queue.push("room:1/x", "plain")
    queue.pop_batch(0)
    stored = {m.kv_key: msgpack.packb(m.to_record()) for m in queue}
    assert sorted(stored) == ["00000000000000000000", "00000000000000000001"]
    rows = [msgpack.unpackb(stored[k]) for k in sorted(stored, reverse=True)]  # any order
    restored = OfflineTopicQueue.from_records(rows, capacity=5)
    assert list(restored) == list(queue)
    assert restored.to_records() == queue.to_records()
    assert restored.restore_drops == ()
    assert restored.push("t", 1).message.seq == 2  # numbering continues


def test_restore_after_some_were_flushed_keeps_order_and_numbering() -> None:
    queue = OfflineTopicQueue(10)
    for i in range(6):
        queue.push("t", i)
    queue.pop_batch(4)
    restored = OfflineTopicQueue.from_records(queue.to_records(), capacity=10)
    assert [m.seq for m in restored] == [4, 5]
    assert restored.push("t", 6).message.seq == 6
    assert OfflineTopicQueue.from_records([]).push("t", 0).message.seq == 0


@pytest.mark.parametrize(
    ("policy", "kept", "gone"),
    [
        ("drop_oldest", [3, 4], [0, 1, 2]),
        ("drop_newest", [0, 1], [2, 3, 4]),
        ("error", [0, 1], [2, 3, 4]),
    ],
)
def test_restore_over_a_smaller_capacity_reports_drops(
    policy: OverflowPolicy, kept: list[int], gone: list[int]
) -> None:
    queue = OfflineTopicQueue(10)
    for i in range(5):
        queue.push("t", i)
    restored = OfflineTopicQueue.from_records(queue.to_records(), capacity=2, overflow=policy)
    assert [m.seq for m in restored] == kept
    assert [d.message.seq for d in restored.restore_drops] == gone
    assert all("restored over its capacity of 2" in d.reason for d in restored.restore_drops)
    assert restored.dropped_total == len(gone)
    assert restored.overflow == policy
    assert restored.capacity == 2


@pytest.mark.parametrize(
    ("records", "field"),
    [
        ([{"seq": 0, "topic": "t"}], "records.0"),
        (["x"], "records.0"),
        ([{"seq": -1, "topic": "t", "data": 1}], "records.0.seq"),
        ([{"seq": "0", "topic": "t", "data": 1}], "records.0.seq"),
        ([{"seq": True, "topic": "t", "data": 1}], "records.0.seq"),
        (
            [{"seq": 0, "topic": "t", "data": 1}, {"seq": 1, "topic": "no good", "data": 1}],
            "records.1.topic",
        ),
        ([{"seq": 0, "topic": "t", "data": {1}}], "records.0.data"),
        ([{"seq": 3, "topic": "t", "data": 1}, {"seq": 3, "topic": "t", "data": 2}], "records"),
    ],
)
def test_bad_records_are_refused(records: list[object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        OfflineTopicQueue.from_records(records)  # type: ignore[arg-type]
    assert caught.value.field == field


@given(
    capacity=st.integers(1, 8),
    policy=st.sampled_from(OVERFLOW_POLICIES),
    ops=st.lists(
        st.one_of(st.integers(0, 3).map(lambda n: -n - 1), st.integers(0, 1000)), max_size=60
    ),
)
def test_queue_never_loses_a_message_silently(
    capacity: int, policy: OverflowPolicy, ops: list[int]
) -> None:
    """Every pushed message is eventually popped, reported dropped, or still queued — once."""
    queue = OfflineTopicQueue(capacity, policy)
    pushed: list[int] = []
    accounted: list[int] = []
    dropped = 0
    for op in ops:
        if op < 0:
            accounted.extend(m.seq for m in queue.pop_batch(-op))
            continue
        try:
            result = queue.push("t", op)
        except LimitExceeded:
            assert policy == "error"
            assert len(queue) == capacity
            continue
        pushed.append(result.message.seq)
        accounted.extend(d.message.seq for d in result.dropped)
        dropped += len(result.dropped)
        assert len(queue) <= capacity
    accounted.extend(m.seq for m in queue)
    assert sorted(accounted) == pushed
    assert queue.dropped_total == dropped
