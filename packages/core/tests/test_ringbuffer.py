"""Ringbuffer: sequences, overwrite, reads across the wrap, head drops, and a model check."""

from __future__ import annotations

import gc
import weakref

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from topgun_core.errors import NotFoundError
from topgun_core.ringbuffer import SEQUENCE_MAX, Ringbuffer, SequenceOutOfRange


class Item:
    """A weak-referenceable payload, to check that dropped items are released."""

    def __init__(self, n: int) -> None:
        self.n = n


def test_empty_ring_starts_at_zero() -> None:
    ring: Ringbuffer[str] = Ringbuffer(4)
    assert (ring.capacity, len(ring), ring.head_sequence, ring.tail_sequence) == (4, 0, 0, 0)
    assert list(ring) == []
    assert ring.read_many(0, 10) == []


@pytest.mark.parametrize("capacity", [0, -1])
def test_capacity_must_be_positive(capacity: int) -> None:
    with pytest.raises(ValueError, match="capacity must be > 0"):
        Ringbuffer[int](capacity)


def test_capacity_must_be_an_int() -> None:
    with pytest.raises(TypeError, match="capacity must be an int"):
        Ringbuffer[int](2.5)  # type: ignore[arg-type]


def test_start_sequence_must_be_an_int() -> None:
    with pytest.raises(TypeError, match="start_sequence must be an int"):
        Ringbuffer[int](2, start_sequence=1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("start", [-1, SEQUENCE_MAX + 1])
def test_start_sequence_must_fit_64_bits(start: int) -> None:
    with pytest.raises(ValueError, match="start_sequence must be in"):
        Ringbuffer[int](2, start_sequence=start)


def test_add_returns_consecutive_sequences_and_overwrites_the_oldest() -> None:
    ring: Ringbuffer[str] = Ringbuffer(3)
    assert [ring.add(c) for c in "abcde"] == [0, 1, 2, 3, 4]
    assert (len(ring), ring.head_sequence, ring.tail_sequence) == (3, 2, 5)
    assert list(ring) == ["c", "d", "e"]
    assert [ring.read(s) for s in (2, 3, 4)] == ["c", "d", "e"]


def test_capacity_one_keeps_only_the_newest() -> None:
    ring: Ringbuffer[int] = Ringbuffer(1)
    for n in range(5):
        assert ring.add(n * 10) == n
        assert ring.read(n) == n * 10
        assert (len(ring), ring.head_sequence, ring.tail_sequence) == (1, n, n + 1)
    with pytest.raises(SequenceOutOfRange):
        ring.read(3)
    assert ring.read_many(4, 5) == [40]


def test_read_of_an_overwritten_sequence_names_the_oldest_retained() -> None:
    ring: Ringbuffer[int] = Ringbuffer(2)
    for n in range(5):
        ring.add(n)
    with pytest.raises(
        SequenceOutOfRange, match=r"sequence 1 is no longer retained \(oldest retained is 3\)"
    ) as info:
        ring.read(1)
    assert (info.value.sequence, info.value.head_sequence, info.value.tail_sequence) == (1, 3, 5)
    assert isinstance(info.value, NotFoundError)
    assert isinstance(info.value, IndexError)


@pytest.mark.parametrize("sequence", [5, 6, 100])
def test_read_of_an_unwritten_sequence_names_the_next(sequence: int) -> None:
    ring: Ringbuffer[int] = Ringbuffer(8)
    for n in range(5):
        ring.add(n)
    with pytest.raises(SequenceOutOfRange, match="has not been written yet"):
        ring.read(sequence)


def test_read_of_a_negative_sequence_is_out_of_range() -> None:
    ring: Ringbuffer[int] = Ringbuffer(2)
    ring.add(1)
    with pytest.raises(SequenceOutOfRange):
        ring.read(-1)


def test_read_many_spans_the_wrap_around() -> None:
    ring: Ringbuffer[int] = Ringbuffer(4)
    for n in range(10):  # slots now hold 6, 7 at indexes 2, 3 and 8, 9 at indexes 0, 1
        ring.add(n)
    assert ring.read_many(6, 4) == [6, 7, 8, 9]
    assert ring.read_many(7, 2) == [7, 8]
    assert ring.read_many(7, 100) == [7, 8, 9]
    assert ring.read_many(8, 0) == []
    assert ring.read_many(10, 3) == []


def test_read_many_refuses_a_stale_or_future_start() -> None:
    ring: Ringbuffer[int] = Ringbuffer(2)
    for n in range(4):
        ring.add(n)
    with pytest.raises(SequenceOutOfRange, match="no longer retained"):
        ring.read_many(1, 2)
    with pytest.raises(SequenceOutOfRange, match="not been written"):
        ring.read_many(5, 2)
    with pytest.raises(ValueError, match="limit must be >= 0"):
        ring.read_many(2, -1)


def test_iter_from_checks_eagerly_and_follows_the_tail() -> None:
    ring: Ringbuffer[int] = Ringbuffer(8)
    ring.add(0)
    with pytest.raises(SequenceOutOfRange):
        ring.iter_from(2)
    seen = []
    for item in ring.iter_from(0):
        seen.append(item)
        if item < 3:
            ring.add(item + 1)
    assert seen == [0, 1, 2, 3]


def test_iterating_past_an_overwritten_item_raises() -> None:
    ring: Ringbuffer[int] = Ringbuffer(2)
    ring.add(0)
    ring.add(1)
    iterator = iter(ring)
    assert next(iterator) == 0
    ring.add(2)
    ring.add(3)  # overwrites 1, which the iterator has not reached
    with pytest.raises(RuntimeError, match="overwritten or dropped during iteration"):
        next(iterator)


def test_drop_head_while_stops_at_the_first_false() -> None:
    ring: Ringbuffer[int] = Ringbuffer(8)
    for n in [1, 2, 9, 3, 4]:
        ring.add(n)
    assert ring.drop_head_while(lambda n: n < 5) == 2
    assert list(ring) == [9, 3, 4]
    assert ring.head_sequence == 2
    assert ring.drop_head_while(lambda n: n < 5) == 0
    assert ring.drop_head_while(lambda _: True) == 3
    assert (len(ring), ring.head_sequence, ring.tail_sequence) == (0, 5, 5)
    assert ring.drop_head_while(lambda _: True) == 0
    assert ring.add(7) == 5


def test_dropped_and_cleared_items_are_released() -> None:
    ring: Ringbuffer[Item] = Ringbuffer(4)
    first, second = Item(1), Item(2)
    refs = [weakref.ref(first), weakref.ref(second)]
    ring.add(first)
    ring.add(second)
    del first, second
    ring.drop_head_while(lambda item: item.n == 1)
    gc.collect()
    assert refs[0]() is None
    assert refs[1]() is not None
    ring.clear()
    gc.collect()
    assert refs[1]() is None


def test_clear_keeps_numbering() -> None:
    ring: Ringbuffer[str] = Ringbuffer(2)
    for c in "abc":
        ring.add(c)
    ring.clear()
    assert (len(ring), ring.head_sequence, ring.tail_sequence) == (0, 3, 3)
    with pytest.raises(SequenceOutOfRange):
        ring.read(2)
    assert ring.add("d") == 3
    assert list(ring) == ["d"]


def test_start_sequence_and_advance_to_continue_numbering() -> None:
    ring: Ringbuffer[str] = Ringbuffer(2, start_sequence=41)
    assert ring.add("x") == 41
    ring.advance_to(100)
    assert (len(ring), ring.head_sequence, ring.tail_sequence) == (0, 100, 100)
    assert ring.add("y") == 100
    ring.advance_to(101)  # advancing to the current tail is allowed (drops the items)
    assert len(ring) == 0
    with pytest.raises(ValueError, match="sequences below 101 were already issued"):
        ring.advance_to(100)


def test_sequences_stop_at_the_64_bit_maximum() -> None:
    ring: Ringbuffer[int] = Ringbuffer(2, start_sequence=SEQUENCE_MAX - 1)
    assert ring.add(1) == SEQUENCE_MAX - 1
    assert ring.add(2) == SEQUENCE_MAX
    with pytest.raises(OverflowError, match="exhausted"):
        ring.add(3)
    assert list(ring) == [1, 2]


def test_repr_shows_the_retained_range() -> None:
    ring: Ringbuffer[int] = Ringbuffer(2)
    ring.add(1)
    assert repr(ring) == "Ringbuffer(capacity=2, head_sequence=0, tail_sequence=1)"


# ---------------------------------------------------------------- model check

_operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 99)),
        st.tuples(st.just("drop_below"), st.integers(0, 99)),
        st.tuples(st.just("clear"), st.just(0)),
    ),
    max_size=60,
)


@settings(max_examples=300, database=None)
@given(capacity=st.integers(1, 6), operations=_operations)
def test_ring_matches_a_list_model(capacity: int, operations: list[tuple[str, int]]) -> None:
    """The ring equals "the last `capacity` (sequence, item) pairs of an append-only log"."""
    ring: Ringbuffer[int] = Ringbuffer(capacity)
    model: list[tuple[int, int]] = []  # retained (sequence, item) pairs, oldest first
    next_sequence = 0
    for name, value in operations:
        if name == "add":
            assert ring.add(value) == next_sequence
            model = [*model, (next_sequence, value)][-capacity:]
            next_sequence += 1
        elif name == "drop_below":
            kept = 0
            while kept < len(model) and model[kept][1] < value:
                kept += 1
            assert ring.drop_head_while(value.__gt__) == kept  # item < value
            model = model[kept:]
        else:
            ring.clear()
            model = []
        head = model[0][0] if model else next_sequence
        assert (len(ring), ring.head_sequence, ring.tail_sequence) == (
            len(model),
            head,
            next_sequence,
        )
        assert list(ring) == [item for _, item in model]
        for sequence, item in model:
            assert ring.read(sequence) == item
        for start in range(head, next_sequence + 1):
            assert ring.read_many(start, 3) == [item for s, item in model if s >= start][:3]
