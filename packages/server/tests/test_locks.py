"""Locks end to end: grants, FIFO waiters, release rules, disconnects, expiry, and
fencing tokens that only ever increase — across releases, restarts and kill -9."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from topgun_adapters import MemoryStorage
from topgun_server.auth.tokens import mint_token
from topgun_server.testing import ProtocolClient, RunningServer, ServerProcess, running_server


async def _client(url: str, token: str) -> ProtocolClient:
    client = await ProtocolClient.connect(url)
    await client.auth(token)
    return client


async def _acquire(client: ProtocolClient, name: str, rid: str, ttl: int | None = None) -> int:
    payload: dict[str, object] = {"requestId": rid, "name": name}
    if ttl is not None:
        payload["ttl"] = ttl
    await client.send({"type": "LOCK_REQUEST", "payload": payload})
    granted = await client.expect("LOCK_GRANTED")
    assert granted["payload"]["requestId"] == rid
    return granted["payload"]["fencingToken"]


async def _release(client: ProtocolClient, name: str, token: int, rid: str = "r") -> bool:
    await client.send(
        {"type": "LOCK_RELEASE", "payload": {"requestId": rid, "name": name, "fencingToken": token}}
    )
    released = await client.expect("LOCK_RELEASED")
    return released["payload"]["success"]


async def _barrier(client: ProtocolClient) -> None:
    await client.send({"type": "PING", "timestamp": 1})
    await client.expect("PONG")


async def _quiet(client: ProtocolClient, *forbidden: str) -> None:
    """Round-trip a PING; fail if a ``forbidden`` message arrives before its PONG."""
    await client.send({"type": "PING", "timestamp": 1})
    while (message := await client.recv())["type"] != "PONG":
        assert message["type"] not in forbidden, message


async def test_fifo_waiters_and_strictly_increasing_tokens(server: RunningServer) -> None:
    a, b, c, d = [await _client(server.ws_url, server.token(n)) for n in ("a", "b", "c", "d")]
    first = await _acquire(a, "jobs:42", "a1")
    await b.send({"type": "LOCK_REQUEST", "payload": {"requestId": "b1", "name": "jobs:42"}})
    await _barrier(b)
    await c.send({"type": "LOCK_REQUEST", "payload": {"requestId": "c1", "name": "jobs:42"}})
    await _barrier(c)
    assert not await _release(d, "jobs:42", first)  # not the holder: refused, nothing changes
    assert not await _release(a, "jobs:42", first + 99)  # stale token: refused
    assert await _release(a, "jobs:42", first)
    second = (await b.expect("LOCK_GRANTED"))["payload"]["fencingToken"]
    assert second > first
    assert await _release(b, "jobs:42", second)
    third = (await c.expect("LOCK_GRANTED"))["payload"]["fencingToken"]
    assert await _release(c, "jobs:42", third)
    # Released by everyone: the next grant still continues above every token issued.
    assert await _acquire(a, "jobs:42", "a2") > third > second


async def test_the_holder_reacquiring_extends_and_keeps_its_token(server: RunningServer) -> None:
    a = await _client(server.ws_url, server.token("a"))
    token = await _acquire(a, "l", "1")
    assert await _acquire(a, "l", "2", ttl=60_000) == token


async def test_a_disconnect_releases_and_the_next_waiter_gets_it(server: RunningServer) -> None:
    a, b = [await _client(server.ws_url, server.token(n)) for n in ("a", "b")]
    token = await _acquire(a, "l", "a1")
    await b.send({"type": "LOCK_REQUEST", "payload": {"requestId": "b1", "name": "l"}})
    await _barrier(b)
    await a.close()
    granted = await b.expect("LOCK_GRANTED")
    assert granted["payload"]["fencingToken"] > token


async def test_a_waiter_can_cancel_its_wait(server: RunningServer) -> None:
    a, b, c = [await _client(server.ws_url, server.token(n)) for n in ("a", "b", "c")]
    token = await _acquire(a, "l", "a1")
    for client, rid in ((b, "b1"), (c, "c1")):
        await client.send({"type": "LOCK_REQUEST", "payload": {"requestId": rid, "name": "l"}})
        await _barrier(client)
    assert await _release(b, "l", 0)  # b gives up waiting
    assert await _release(a, "l", token)
    assert (await c.expect("LOCK_GRANTED"))["payload"]["requestId"] == "c1"
    await _quiet(b, "LOCK_GRANTED")  # b was never granted


async def test_leases_expire_and_pass_to_the_next_waiter() -> None:
    async with running_server(lock_ttl_min_ms=50) as server:
        a, b = [await _client(server.ws_url, server.token(n)) for n in ("a", "b")]
        token = await _acquire(a, "l", "a1", ttl=50)
        await b.send(
            {"type": "LOCK_REQUEST", "payload": {"requestId": "b1", "name": "l", "ttl": 50}}
        )
        granted = await b.expect("LOCK_GRANTED", timeout=5)
        assert granted["payload"]["fencingToken"] > token
        assert not await _release(a, "l", token)  # a's lease is over


async def test_tokens_keep_increasing_across_a_clean_restart() -> None:
    storage = MemoryStorage()
    tokens = []
    for _ in range(3):
        async with running_server(adapter=storage) as server:
            client = await _client(server.ws_url, server.token("a"))
            token = await _acquire(client, "jobs", "1")
            assert await _release(client, "jobs", token)
            tokens.append(token)
            tokens.append(await _acquire(client, "jobs", "2"))
            await client.close()
    assert tokens == sorted(tokens)
    assert len(set(tokens)) == len(tokens)


async def test_tokens_keep_increasing_after_kill_9(tmp_path: Path) -> None:
    secret = secrets.token_urlsafe(48)
    env = {
        **os.environ,
        "TOPGUN_JWT_SECRET": secret,
        "TOPGUN_STORAGE": f"sqlite:///{tmp_path}/t.db",
    }
    server = ServerProcess(tmp_path / "server.log", env)
    await server.start()
    try:
        client = await _client(server.ws_url, mint_token(secret, sub="a"))
        seen = [await _acquire(client, "jobs", "1")]
        assert await _release(client, "jobs", seen[0])
        seen.append(await _acquire(client, "jobs", "2"))  # LOCK_GRANTED only once durable
        server.kill()
        await client.close()
        await server.start()
        client = await _client(server.ws_url, mint_token(secret, sub="a"))
        seen.append(await _acquire(client, "jobs", "3"))
        assert seen == sorted(seen)
        assert len(set(seen)) == 3
        await client.close()
    finally:
        server.stop()
