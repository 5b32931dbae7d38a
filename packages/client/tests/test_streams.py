"""BoundedStream: bounded buffer, counted drops, errors in order, close semantics."""

from __future__ import annotations

import asyncio

import pytest

from topgun_client._errors import ServerError
from topgun_client._streams import BoundedStream


class _Draining(BoundedStream[int]):
    pass


class _Stopping(BoundedStream[int]):
    drain_after_close = False


async def test_a_slow_reader_loses_the_oldest_items_and_it_is_counted() -> None:
    stream = _Draining(buffer_max=3)
    for i in range(5):
        stream.push(i)
    assert stream.dropped == 2
    assert [await stream.get(timeout=1) for _ in range(3)] == [2, 3, 4]


async def test_errors_reach_the_reader_in_order() -> None:
    stream = _Draining()
    stream.push(1)
    stream.fail(ServerError(403, "denied"))
    assert await stream.get(timeout=1) == 1
    with pytest.raises(ServerError):
        await stream.get(timeout=1)


async def test_close_wakes_a_waiting_reader() -> None:
    stream = _Draining()
    reader = asyncio.create_task(anext(stream, None))
    await asyncio.sleep(0)
    stream.close()
    assert await asyncio.wait_for(reader, 1) is None


async def test_draining_and_stopping_streams_differ_after_close() -> None:
    draining, stopping = _Draining(), _Stopping()
    for stream in (draining, stopping):
        stream.push(7)
        stream.close()
        stream.close()  # idempotent
    assert [i async for i in draining] == [7]
    assert [i async for i in stopping] == []


def test_buffer_must_hold_something() -> None:
    with pytest.raises(ValueError, match="at least one"):
        _Draining(buffer_max=0)


async def test_change_feed_fails_loudly_when_the_reader_falls_behind() -> None:
    from topgun_client._live import ChangeFeed
    from topgun_core.errors import LimitExceeded

    feed: ChangeFeed[int] = ChangeFeed(2)
    feed.push(1)
    feed.push(2)
    feed.push(3)  # one over the bound: the feed fails instead of dropping silently
    feed.push(4)  # ignored after the failure
    with pytest.raises(LimitExceeded, match="query_changes_max"):
        async for _ in feed.changes():
            pass


async def test_change_feed_ends_after_what_is_queued() -> None:
    from topgun_client._live import ChangeFeed

    feed: ChangeFeed[str] = ChangeFeed(10)
    feed.push("a")
    feed.end()
    assert [c async for c in feed.changes()] == ["a"]
