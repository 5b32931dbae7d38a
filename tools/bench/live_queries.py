"""Live-query fan-out over a real server: 1 000 subscriptions, writes at a steady rate.

Run: ``uv run python tools/bench/live_queries.py`` (``--runs N``, default 3;
``--rate`` writes/s, default 10 000; ``--seconds`` per run, default 5;
``--subscribers`` connections, default 10; ``--quick`` for a smoke run). It starts
``python -m topgun_server serve`` as a child process on memory storage (so the
numbers are the query path, not SQLite), opens ``subscribers`` raw WebSocket
connections holding 1 000 live queries in all — ``group == g`` for g in 0..99,
ten subscriptions per group, so every write fans out to ten deltas — and one
writer connection that sends ``OP_BATCH`` frames of PUTs on a fixed schedule (one
frame per 5 ms) into random groups. Each value carries the writer's
``perf_counter`` at send time; a subscriber receiving the ``QUERY_UPDATE``
records ``now - sent``: end-to-end delta latency (writer → server → subscriber,
all in this process's clock). The table reports per run the writes/s achieved,
the deltas received and the p50 / p99 latency, and the median of the runs.
Nothing here is asserted by tests; results go into ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import secrets
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

import msgpack
from websockets.asyncio.client import ClientConnection, connect

from topgun_server.auth import mint_token
from topgun_server.testing import ServerProcess

GROUPS = 100
SUBSCRIPTIONS = 1_000
TICK_S = 0.005
BASE_MILLIS = int(time.time() * 1000) - 3_600_000
_U32 = struct.Struct("<I")


def _messages(frame: bytes) -> list[dict]:
    message = msgpack.unpackb(frame, raw=False)
    if message["type"] != "BATCH":
        return [message]
    data, out, offset = message["data"], [], 4
    for _ in range(_U32.unpack_from(data, 0)[0]):
        (length,) = _U32.unpack_from(data, offset)
        out.append(msgpack.unpackb(data[offset + 4 : offset + 4 + length], raw=False))
        offset += 4 + length
    return out


async def _open(url: str, token: str) -> ClientConnection:
    ws = await connect(url, compression=None, max_size=None)
    await ws.recv()  # AUTH_REQUIRED
    await ws.send(msgpack.packb({"type": "AUTH", "token": token}))
    while not any(m["type"] == "AUTH_ACK" for m in _messages(await ws.recv())):
        pass
    return ws


async def _subscribe(ws: ClientConnection, first: int, count: int) -> None:
    for i in range(first, first + count):
        query = {"predicate": {"op": "eq", "attribute": "group", "value": i % GROUPS}}
        message = {"queryId": f"q{i}", "mapName": "feed", "query": query}
        await ws.send(msgpack.packb({"type": "QUERY_SUB", "payload": message}))
    answered = 0
    while answered < count:
        answered += sum(m["type"] == "QUERY_RESP" for m in _messages(await ws.recv()))


async def _listen(ws: ClientConnection, latencies: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            frame = await asyncio.wait_for(ws.recv(), 0.5)
        except TimeoutError:
            continue
        now = time.perf_counter()
        latencies.extend(
            now - m["payload"]["value"]["t"]
            for m in _messages(frame)
            if m["type"] == "QUERY_UPDATE" and m["payload"]["changeType"] != "LEAVE"
        )


async def _write(ws: ClientConnection, rate: int, seconds: float, rng: random.Random) -> int:
    per_tick = max(1, round(rate * TICK_S))
    ticks = round(seconds / TICK_S)
    start = time.perf_counter()
    op_id = 0
    for tick in range(ticks):
        delay = start + tick * TICK_S - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent = time.perf_counter()
        ops = []
        for _ in range(per_tick):
            op_id += 1
            value = {"group": rng.randrange(GROUPS), "t": sent}
            record = {
                "value": value,
                "timestamp": {"millis": BASE_MILLIS, "counter": op_id, "nodeId": "w"},
            }
            key = f"k{rng.randrange(10_000)}"
            ops.append(
                {"id": op_id, "mapName": "feed", "key": key, "opType": "PUT", "record": record}
            )
        await ws.send(msgpack.packb({"type": "OP_BATCH", "payload": {"ops": ops}}))
    return op_id


async def _drain_acks(ws: ClientConnection, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(ws.recv(), 0.5)
        except TimeoutError:
            continue


async def run_once(directory: Path, args: argparse.Namespace, run: int) -> dict[str, float]:
    """One server, 1 000 subscriptions, ``args.seconds`` of writes."""
    secret = secrets.token_urlsafe(48)
    env = {
        "TOPGUN_JWT_SECRET": secret,
        "TOPGUN_STORAGE": "memory",
        "TOPGUN_LOG_LEVEL": "WARNING",
        "TOPGUN_CLIENT_MSGS_PER_S": "1000000",
        "TOPGUN_CLIENT_MSGS_BURST": "1000000",
    }
    server = ServerProcess(directory / f"live{run}.log", env, args=("--log-level", "INFO"))
    await server.start()
    try:
        per_conn = SUBSCRIPTIONS // args.subscribers
        subs = [
            await _open(server.ws_url, mint_token(secret, sub=f"s{i}"))
            for i in range(args.subscribers)
        ]
        for i, ws in enumerate(subs):
            await _subscribe(ws, i * per_conn, per_conn)
        writer = await _open(server.ws_url, mint_token(secret, sub="writer"))
        latencies: list[float] = []
        stop = asyncio.Event()
        listeners = [asyncio.create_task(_listen(ws, latencies, stop)) for ws in subs]
        acks = asyncio.create_task(_drain_acks(writer, stop))
        started = time.perf_counter()
        writes = await _write(writer, args.rate, args.seconds, random.Random(run))
        elapsed = time.perf_counter() - started
        expected = writes * (SUBSCRIPTIONS // GROUPS)
        deadline = time.perf_counter() + 30
        while len(latencies) < expected and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*listeners, acks)
        for ws in [*subs, writer]:
            await ws.close()
    finally:
        await server.terminate()
    latencies.sort()
    return {
        "writes_per_s": writes / elapsed,
        "deltas": len(latencies),
        "expected": expected,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


async def main() -> None:
    """Parse flags, run, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--subscribers", type=int, default=10)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.seconds = 1, 1.0
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            results.append(await run_once(Path(tmp), args, run))
            print(f"run {run + 1}: {results[-1]}", file=sys.stderr)
    print(f"Python {platform.python_version()}, {platform.machine()}, {platform.system()}")
    print(f"{SUBSCRIPTIONS} subscriptions, {args.subscribers} connections, {args.rate} writes/s")
    print("| metric | median | runs |\n|---|---:|---|")
    for name in ("writes_per_s", "deltas", "p50_ms", "p99_ms"):
        values = [r[name] for r in results]
        shown = ", ".join(f"{v:,.1f}" for v in values)
        print(f"| {name} | {statistics.median(values):,.1f} | {shown} |")


if __name__ == "__main__":
    asyncio.run(main())
