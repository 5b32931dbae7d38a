"""A fixed-capacity ring of items addressed by ever-increasing sequence numbers.

How it works: a :class:`Ringbuffer` preallocates ``capacity`` slots in one list. The
item with sequence ``s`` lives in slot ``s % capacity``. Two integers describe what is
retained: ``head_sequence`` (the oldest item still held) and ``tail_sequence`` (the
sequence the next :meth:`Ringbuffer.add` will return). ``add`` writes one slot and
bumps the tail — O(1), no allocation besides the caller's item — and, once the ring is
full, moves the head forward so the oldest item is overwritten. Items are never
wrapped in per-item objects.

Sequence numbers start at ``start_sequence`` (default **0**), increase by one per
``add`` and never repeat or go back: not when the ring wraps, not after
:meth:`Ringbuffer.clear` or :meth:`Ringbuffer.drop_head_while`. They are bounded by
:data:`SEQUENCE_MAX` (the largest signed 64-bit integer) so they fit every wire format
and database column; ``add`` refuses to go past it.

Slots that hold nothing (never written, cleared, or dropped from the head) contain a
private sentinel rather than the dropped item, so dropped items are released to the
garbage collector immediately instead of when their slot is next overwritten.

Reading a sequence that is no longer retained (overwritten or dropped) or not yet
written raises :class:`SequenceOutOfRange`, which names the retained range.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final, Generic, TypeVar, final

from topgun_core.errors import NotFoundError

__all__ = ["SEQUENCE_MAX", "Ringbuffer", "SequenceOutOfRange"]

T = TypeVar("T")

SEQUENCE_MAX: Final = 2**63 - 1
"""The largest sequence number a ring will issue (signed 64-bit maximum)."""


class SequenceOutOfRange(NotFoundError, IndexError):
    """A sequence that is not retained: overwritten, dropped, or not yet written.

    ``head_sequence`` and ``tail_sequence`` give the retained range
    ``[head_sequence, tail_sequence)`` at the moment of the failed read. It is also an
    ``IndexError``, so generic container code can catch it as one.
    """

    def __init__(self, sequence: int, head_sequence: int, tail_sequence: int) -> None:
        if sequence < head_sequence:
            why = f"is no longer retained (oldest retained is {head_sequence})"
        else:
            why = f"has not been written yet (next to be written is {tail_sequence})"
        super().__init__(f"sequence {sequence} {why}")
        self.sequence = sequence
        self.head_sequence = head_sequence
        self.tail_sequence = tail_sequence


@final
class _Vacant:
    """The type of the marker stored in empty slots (private, so never a ``T``)."""

    __slots__ = ()


_VACANT: Final = _Vacant()


def _check_sequence_arg(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int (got {value!r})")
    if not 0 <= value <= SEQUENCE_MAX:
        raise ValueError(f"{name} must be in [0, {SEQUENCE_MAX}] (got {value})")


class Ringbuffer(Generic[T]):
    """A bounded ring of items with 64-bit sequence numbers; the oldest is overwritten.

    ``capacity`` (> 0) is the number of items retained. ``start_sequence`` (default 0)
    is the sequence of the first item added, so a ring rebuilt from storage can
    continue numbering where the previous one stopped.

    Not thread-safe (core is single-threaded by design). Iterating while adding is
    allowed and sees the new items; iterating past items that get overwritten or
    dropped meanwhile raises ``RuntimeError``.
    """

    __slots__ = ("_capacity", "_head", "_slots", "_tail")

    def __init__(self, capacity: int, *, start_sequence: int = 0) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int):
            raise TypeError(f"capacity must be an int (got {capacity!r})")
        if capacity <= 0:
            raise ValueError(f"capacity must be > 0 (got {capacity})")
        _check_sequence_arg("start_sequence", start_sequence)
        self._capacity = capacity
        self._slots: list[T | _Vacant] = [_VACANT] * capacity
        self._head = start_sequence
        self._tail = start_sequence

    # ------------------------------------------------------------------ state

    @property
    def capacity(self) -> int:
        """How many items the ring retains at most."""
        return self._capacity

    @property
    def head_sequence(self) -> int:
        """Sequence of the oldest retained item (equals ``tail_sequence`` when empty)."""
        return self._head

    @property
    def tail_sequence(self) -> int:
        """Sequence the next :meth:`add` will return (one past the newest item)."""
        return self._tail

    def __len__(self) -> int:
        return self._tail - self._head

    def __repr__(self) -> str:
        return (
            f"Ringbuffer(capacity={self._capacity}, head_sequence={self._head}, "
            f"tail_sequence={self._tail})"
        )

    # ------------------------------------------------------------------ writing

    def add(self, item: T) -> int:
        """Append ``item``, overwriting the oldest item when full; return its sequence."""
        sequence = self._tail
        if sequence > SEQUENCE_MAX:
            raise OverflowError(f"ringbuffer sequence numbers exhausted ({SEQUENCE_MAX})")
        self._slots[sequence % self._capacity] = item
        self._tail = sequence + 1
        if self._tail - self._head > self._capacity:
            self._head += 1
        return sequence

    def drop_head_while(self, predicate: Callable[[T], bool]) -> int:
        """Drop items from the head while ``predicate(item)`` is true; return how many.

        Stops at the first item for which the predicate is false, so it is O(1) when
        nothing is dropped. Used for TTL compaction: items are in append order, so
        "appended before the cutoff" is true for a prefix of the ring.
        """
        dropped = 0
        while self._head < self._tail:
            index = self._head % self._capacity
            item = self._slots[index]
            assert not isinstance(item, _Vacant), "retained slot is vacant"
            if not predicate(item):
                break
            self._slots[index] = _VACANT
            self._head += 1
            dropped += 1
        return dropped

    def clear(self) -> None:
        """Drop every item; sequence numbering continues from ``tail_sequence``."""
        self._slots = [_VACANT] * self._capacity
        self._head = self._tail

    def advance_to(self, sequence: int) -> None:
        """Drop every item and make ``sequence`` the next one :meth:`add` returns.

        ``sequence`` must not be below ``tail_sequence``: numbers never repeat. Used
        when loading items persisted by an earlier incarnation of the ring.
        """
        _check_sequence_arg("sequence", sequence)
        if sequence < self._tail:
            raise ValueError(
                f"cannot advance to sequence {sequence}: "
                f"sequences below {self._tail} were already issued"
            )
        self.clear()
        self._head = self._tail = sequence

    # ------------------------------------------------------------------ reading

    def read(self, sequence: int) -> T:
        """The item with ``sequence``; :class:`SequenceOutOfRange` if not retained."""
        if not self._head <= sequence < self._tail:
            raise SequenceOutOfRange(sequence, self._head, self._tail)
        item = self._slots[sequence % self._capacity]
        assert not isinstance(item, _Vacant), "retained slot is vacant"
        return item

    def read_many(self, from_sequence: int, limit: int) -> list[T]:
        """Up to ``limit`` items starting at ``from_sequence``, oldest first.

        ``from_sequence`` may equal ``tail_sequence`` (the result is then empty) but
        must not be below ``head_sequence``: a reader that fell behind gets
        :class:`SequenceOutOfRange` instead of silently skipping items.
        """
        if limit < 0:
            raise ValueError(f"limit must be >= 0 (got {limit})")
        self._check_start(from_sequence)
        stop = min(from_sequence + limit, self._tail)
        return list(self._iterate(from_sequence, stop))

    def iter_from(self, sequence: int) -> Iterator[T]:
        """Iterate from ``sequence`` (``head_sequence``…``tail_sequence``) to the newest.

        The range is checked now, not on the first ``next()``.
        """
        self._check_start(sequence)
        return self._iterate(sequence, None)

    def __iter__(self) -> Iterator[T]:
        """Iterate over the retained items, oldest first."""
        return self._iterate(self._head, None)

    def _check_start(self, sequence: int) -> None:
        if not self._head <= sequence <= self._tail:
            raise SequenceOutOfRange(sequence, self._head, self._tail)

    def _iterate(self, sequence: int, stop: int | None) -> Iterator[T]:
        # ``stop=None`` follows the tail as it moves, so items added meanwhile are seen.
        while sequence < (self._tail if stop is None else stop):
            if sequence < self._head:
                raise RuntimeError(
                    f"ringbuffer item {sequence} was overwritten or dropped during iteration"
                )
            item = self._slots[sequence % self._capacity]
            assert not isinstance(item, _Vacant), "retained slot is vacant"
            yield item
            sequence += 1
