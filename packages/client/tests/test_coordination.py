"""Topics, locks, counters, the journal, processors and resolvers from the Python client,
end to end against the real server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from topgun_client import (
    ConnectionState,
    MergeRejection,
    ProcessorFailed,
    TopGunClient,
    TopicQueueSettings,
)
from topgun_core.errors import LimitExceeded
from topgun_server.testing import running_server

TIMEOUT_S = 20.0
GUARD = """
if (ctx.remote_value or 0) < 0:
    return {'action': 'reject', 'reason': 'negative'}
return {'action': 'local'}
"""


async def _connected(*clients: TopGunClient) -> None:
    for client in clients:
        client.go_online()
    for client in clients:
        await client.wait_for_state(ConnectionState.CONNECTED, timeout=TIMEOUT_S)


async def _until(predicate: Callable[[], bool], timeout: float = TIMEOUT_S) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


# ---------------------------------------------------------------- topics


async def test_offline_publishes_survive_a_client_restart_and_arrive_in_order(tmp_path) -> None:
    async with running_server() as server:
        token = server.token()
        reader = TopGunClient(server.ws_url, token=token)
        async with reader:
            await _connected(reader)
            subscription = reader.topic("chat").subscribe()
            store = tmp_path / "pub.db"
            async with TopGunClient(server.ws_url, token=token, store=store, online=False) as pub:
                for i in range(5):
                    pub.topic("chat").publish({"n": i})
                await pub.flush_local()
                assert pub.topic_queue.queued == 5
            async with TopGunClient(server.ws_url, token=token, store=store) as pub:
                assert pub.topic_queue.queued == 5  # restored from the store
                got = [(await subscription.get(TIMEOUT_S)).data for _ in range(5)]
                assert got == [{"n": i} for i in range(5)]
                await _until(lambda: pub.topic_queue.queued == 0)
            subscription.close()


@pytest.mark.parametrize(
    ("policy", "kept"), [("drop_oldest", [2, 3, 4]), ("drop_newest", [0, 1, 2])]
)
async def test_overflow_drops_are_reported_and_counted(policy, kept) -> None:
    async with running_server() as server:
        settings = TopicQueueSettings(capacity=3, overflow=policy)
        dropped = []
        async with TopGunClient(
            server.ws_url, token=server.token(), online=False, topics=settings
        ) as pub:
            pub.on_topic_dropped(dropped.append)
            for i in range(5):
                pub.topic("t").publish(i)
            assert [m.data for m in pub.topic_queue.queue] == kept
            assert pub.topic_queue.dropped_total == 2
            assert len(dropped) == 2
            assert all(policy in d.policy for d in dropped)


async def test_the_error_policy_refuses_the_publish() -> None:
    async with running_server() as server:
        settings = TopicQueueSettings(capacity=1, overflow="error")
        async with TopGunClient(
            server.ws_url, token=server.token(), online=False, topics=settings
        ) as pub:
            pub.topic("t").publish(1)
            with pytest.raises(LimitExceeded):
                pub.topic("t").publish(2)


async def test_live_pub_sub_between_clients() -> None:
    async with running_server() as server:
        a = TopGunClient(server.ws_url, token=server.token("a"))
        b = TopGunClient(server.ws_url, token=server.token("b"))
        async with a, b:
            await _connected(a, b)
            received = []

            async def listen() -> None:
                async for message in b.topic("news"):
                    received.append(message.data)
                    if len(received) == 3:
                        return

            listener = asyncio.ensure_future(listen())
            await asyncio.sleep(0)  # the listener subscribes first
            for i in range(3):
                a.topic("news").publish(i)
            await asyncio.wait_for(listener, TIMEOUT_S)
            assert received == [0, 1, 2]


# ---------------------------------------------------------------- locks


async def test_locks_fencing_fifo_and_acquire_timeout() -> None:
    async with running_server() as server:
        a = TopGunClient(server.ws_url, token=server.token("a"))
        b = TopGunClient(server.ws_url, token=server.token("b"))
        async with a, b:
            await _connected(a, b)
            async with a.lock("jobs:42", ttl_ms=10_000) as held:
                first = held.fencing_token
                assert first is not None
                assert not await b.lock("jobs:42").acquire(timeout=0.2)
                waiter = b.lock("jobs:42")
                waiting = asyncio.ensure_future(waiter.acquire(timeout=TIMEOUT_S))
                await asyncio.sleep(0.05)
            assert await waiting
            assert waiter.fencing_token is not None
            assert waiter.fencing_token > first
            assert await waiter.release()


async def test_a_held_lock_is_lost_when_the_connection_drops() -> None:
    async with running_server() as server:
        a = TopGunClient(server.ws_url, token=server.token("a"))
        b = TopGunClient(server.ws_url, token=server.token("b"))
        async with a, b:
            await _connected(a, b)
            held = a.lock("l")
            assert await held.acquire(timeout=TIMEOUT_S)
            await a.go_offline()
            assert held.lost
            other = b.lock("l")
            assert await other.acquire(timeout=TIMEOUT_S)
            assert other.fencing_token > held.fencing_token


# ---------------------------------------------------------------- counters


async def test_counters_converge_from_three_clients_with_offline_periods(tmp_path) -> None:
    async with running_server() as server:
        clients = [
            TopGunClient(server.ws_url, token=server.token(f"u{i}"), store=tmp_path / f"{i}.db")
            for i in range(3)
        ]
        async with clients[0], clients[1], clients[2]:
            await _connected(*clients)
            likes = [c.counter("likes") for c in clients]
            likes[0].add(10)
            await clients[1].go_offline()
            await clients[2].go_offline()
            likes[1].add(20)
            likes[2].add(30)
            likes[2].decrement()
            likes[0].increment()
            await _connected(clients[1], clients[2])
            await _until(lambda: [h.value for h in likes] == [60, 60, 60])
            seen = []
            likes[0].subscribe(seen.append)
            likes[1].add(-5)
            await _until(lambda: seen[-1:] == [55])


async def test_offline_increments_survive_a_restart(tmp_path) -> None:
    async with running_server() as server:
        store = tmp_path / "c.db"
        async with TopGunClient(
            server.ws_url, token=server.token(), store=store, online=False
        ) as c:
            c.counter("n").add(7)
            await c.flush_local()
        async with TopGunClient(server.ws_url, token=server.token(), store=store) as c:
            assert c.counter("n").value == 7
            async with TopGunClient(server.ws_url, token=server.token("x")) as other:
                await _connected(other)
                handle = other.counter("n")
                await _until(lambda: handle.value == 7)


# ---------------------------------------------------------------- processors and resolvers


async def test_execute_on_key_and_a_failing_processor() -> None:
    async with (
        running_server() as server,
        TopGunClient(server.ws_url, token=server.token()) as client,
    ):
        await _connected(client)
        counters = client.get_map("counters")
        result = await client.execute_on_key(
            "counters", "k", "builtin:increment", args={"delta": 5}
        )
        assert result.new_value == 5
        code = "return {'value': (value or 0) * 2, 'result': 'doubled'}"
        result = await client.execute_on_key("counters", "k", code=code)
        assert (result.result, result.new_value) == ("doubled", 10)
        await _until(lambda: counters.get("k") == 10)  # the server's write reached the replica
        with pytest.raises(ProcessorFailed, match="imports are not allowed"):
            await client.execute_on_key("counters", "k", code="import os")


async def test_a_resolver_rejection_reaches_the_writer_only() -> None:
    async with running_server() as server:
        writer = TopGunClient(server.ws_url, token=server.token("w"))
        other = TopGunClient(server.ws_url, token=server.token("o"))
        async with writer, other:
            await _connected(writer, other)
            await writer.resolvers.register(
                "scores",
                "guard",
                code=GUARD,
            )
            assert [r["name"] for r in await writer.resolvers.list("scores")] == ["guard"]
            mine: list[MergeRejection] = []
            theirs: list[MergeRejection] = []
            writer.on_merge_rejected(mine.append)
            other.on_merge_rejected(theirs.append)
            writer.get_map("scores").set("s", 5)
            await writer.flush(timeout=TIMEOUT_S)
            writer.get_map("scores").set("s", -1)
            await _until(lambda: len(mine) == 1)
            assert mine[0].reason == "negative"
            assert mine[0].attempted_value == -1
            await _until(lambda: writer.get_map("scores").get("s") == 5)  # converged back
            assert theirs == []
