"""Interceptors: connect/disconnect hooks, refusing and changing ops, the two examples."""

from __future__ import annotations

import asyncio

from topgun_core.errors import PermissionDenied
from topgun_core.protocol import ClientOp
from topgun_server.app import context_of
from topgun_server.interceptors import (
    Connection,
    Interceptor,
    RateLimitInterceptor,
    ServerTimestampInterceptor,
)
from topgun_server.testing import RunningServer, put, running_server


class Recorder(Interceptor):
    name = "recorder"

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.gone = asyncio.Event()

    async def on_connect(self, conn: Connection) -> None:
        assert conn.principal is not None
        self.events.append(("connect", conn.principal.user_id))

    async def on_disconnect(self, conn: Connection) -> None:
        self.events.append(("disconnect", conn.id))
        self.gone.set()

    async def before_op(self, conn: Connection, op: ClientOp) -> ClientOp:
        if op["key"].startswith("forbidden"):
            raise PermissionDenied("this key is closed by an extension")
        return op

    async def after_op(self, conn: Connection, op: ClientOp) -> None:
        self.events.append(("applied", op["key"]))


class Broken(Interceptor):
    name = "broken"

    async def before_op(self, conn: Connection, op: ClientOp) -> ClientOp:
        raise RuntimeError("bug")


async def test_hooks_run_and_a_refusal_rejects_only_its_op(server: RunningServer) -> None:
    ctx = context_of(server.app)
    assert ctx is not None
    recorder = Recorder()
    ctx.interceptors.add(recorder)
    client = await server.client("ada")
    ops = [put(1, "m", "ok", 1), put(2, "m", "forbidden:1", 2)]
    await client.send({"type": "OP_BATCH", "payload": {"ops": ops}})
    rejected = await client.expect("OP_REJECTED")
    assert rejected["payload"] == {
        "opId": 2,
        "reason": "this key is closed by an extension",
        "code": 403,
    }
    assert (await client.expect("OP_ACK"))["payload"]["lastId"] == 1
    await client.close()
    await asyncio.wait_for(recorder.gone.wait(), 5)
    assert recorder.events[:2] == [("connect", "ada"), ("applied", "ok")]
    assert recorder.events[2][0] == "disconnect"


async def test_a_broken_interceptor_refuses_with_500_and_the_server_goes_on(
    server: RunningServer,
) -> None:
    ctx = context_of(server.app)
    assert ctx is not None
    ctx.interceptors.add(Broken())
    client = await server.client()
    await client.send({"type": "CLIENT_OP", "payload": put(1, "m", "k", 1)})
    rejected = await client.expect("OP_REJECTED")
    assert rejected["payload"]["code"] == 500
    assert "bug" not in rejected["payload"]["reason"]


async def test_the_rate_limiter_refuses_with_429() -> None:
    async with running_server() as server:
        ctx = context_of(server.app)
        assert ctx is not None
        limiter = RateLimitInterceptor(ops_per_s=0.001, burst=3)
        ctx.interceptors.add(limiter)
        client = await server.client()
        ops = [put(i, "m", f"k{i}", i) for i in range(1, 6)]
        await client.send({"type": "OP_BATCH", "payload": {"ops": ops}})
        codes = [(await client.expect("OP_REJECTED"))["payload"]["code"] for _ in range(2)]
        assert codes == [429, 429]
        assert (await client.expect("OP_ACK"))["payload"]["lastId"] == 3
        assert limiter.refused == 2


async def test_server_timestamps_replace_client_stamps_and_the_origin_adopts_them() -> None:
    async with running_server() as server:
        ctx = context_of(server.app)
        assert ctx is not None
        ctx.interceptors.add(ServerTimestampInterceptor())
        client = await server.client()
        op = put(1, "m", "k", "v")
        await client.send({"type": "CLIENT_OP", "payload": op})
        echoed = await client.expect("SERVER_EVENT")
        stamp = echoed["payload"]["record"]["timestamp"]
        assert stamp["nodeId"] == ctx.node_id
        assert stamp != op["record"]["timestamp"]
        records = await client.sync_lww("m")
        assert records["k"]["record"]["timestamp"] == stamp
