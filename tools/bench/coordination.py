"""Coordination and compute benchmarks: topics, locks, entry processors, journal overhead.

Run: ``uv run python tools/bench/coordination.py`` (``--runs N``, default 3;
``--quick`` for a short smoke run). Each scenario runs ``runs`` times and the table
reports the median (and every run):

* **topic_fanout** — a server child process (memory storage), 100 raw subscriber
  connections on one topic and one publisher sending ``messages`` TOPIC_PUBs as
  fast as it can; timed from the first send until every subscriber has received
  every message. Reports published messages/s and deliveries/s.
* **lock_rtt** — one connection, sequential LOCK_REQUEST → LOCK_GRANTED →
  LOCK_RELEASE → LOCK_RELEASED on one name, server on SQLite (every grant's
  fencing token is durable before LOCK_GRANTED). Reports acquire+release cycles/s.
* **processor_builtin / processor_sandboxed** — one connection, a window of 32
  ENTRY_PROCESS requests in flight on 64 keys: ``builtin:increment`` vs the same
  increment as user code run in the sandbox (RestrictedPython in worker processes,
  default pool of 2). Reports executions/s.
* **journal_overhead** — in process: 200 000 LWW merges into a map with no
  listener, with the server's journal hook (in-memory journal), and with the hook
  and persistence documents; reports merges/s and the cost per write.

Frames are encoded before timing and answers are parsed with plain msgpack. The
generator and the server share the machine's cores. Results are recorded by hand in
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import msgpack
from _wire import frame_messages, open_authenticated
from websockets.asyncio.client import ClientConnection

from topgun_core.clock import SystemClock
from topgun_core.hlc import HLC, Timestamp
from topgun_core.journal import JournalConfig
from topgun_core.lww_map import LWWMap, LWWRecord
from topgun_server.auth import mint_token
from topgun_server.services.journal import Journal
from topgun_server.testing import ServerProcess

SUBSCRIBERS = 100
WINDOW = 32


async def _until(ws: ClientConnection, kind: str) -> dict:
    while True:
        for message in frame_messages(await ws.recv()):
            if message["type"] == kind:
                return message


async def _server(directory: Path, name: str, storage: str, secret: str) -> ServerProcess:
    env = {
        "TOPGUN_JWT_SECRET": secret,
        "TOPGUN_STORAGE": storage,
        "TOPGUN_LOG_LEVEL": "WARNING",
        "TOPGUN_CLIENT_MSGS_PER_S": "1000000",
        "TOPGUN_CLIENT_MSGS_BURST": "1000000",
        "TOPGUN_SANDBOX_RUNS_PER_S": "1000000",
        "TOPGUN_SANDBOX_RUNS_BURST": "1000000",
        "TOPGUN_OUTBOUND_BYTES_MAX": str(256 * 1024 * 1024),
    }
    server = ServerProcess(directory / f"{name}.log", env, args=("--log-level", "INFO"))
    await server.start()
    return server


async def topic_fanout(url: str, token: str, messages: int) -> dict:
    subscribers = [await open_authenticated(url, token) for _ in range(SUBSCRIBERS)]
    for ws in subscribers:
        await ws.send(msgpack.packb({"type": "TOPIC_SUB", "payload": {"topic": "bench"}}))
        await ws.send(msgpack.packb({"type": "PING", "timestamp": 1}))
        await _until(ws, "PONG")
    publisher = await open_authenticated(url, token)
    frames = [
        msgpack.packb({"type": "TOPIC_PUB", "payload": {"topic": "bench", "data": {"n": i}}})
        for i in range(messages)
    ]

    async def drain(ws: ClientConnection) -> None:
        seen = 0
        while seen < messages:
            seen += sum(1 for m in frame_messages(await ws.recv()) if m["type"] == "TOPIC_MESSAGE")

    started = time.perf_counter()
    readers = [asyncio.ensure_future(drain(ws)) for ws in subscribers]
    for frame in frames:
        await publisher.send(frame)
    await asyncio.gather(*readers)
    elapsed = time.perf_counter() - started
    for ws in [*subscribers, publisher]:
        await ws.close()
    return {
        "messages_per_s": messages / elapsed,
        "deliveries_per_s": messages * SUBSCRIBERS / elapsed,
    }


async def lock_rtt(url: str, token: str, cycles: int) -> dict:
    ws = await open_authenticated(url, token)
    started = time.perf_counter()
    for i in range(cycles):
        request = {"type": "LOCK_REQUEST", "payload": {"requestId": f"r{i}", "name": "bench"}}
        await ws.send(msgpack.packb(request))
        granted = await _until(ws, "LOCK_GRANTED")
        token_ = granted["payload"]["fencingToken"]
        release = {"type": "LOCK_RELEASE", "payload": {"name": "bench", "fencingToken": token_}}
        await ws.send(msgpack.packb(release))
        await _until(ws, "LOCK_RELEASED")
    elapsed = time.perf_counter() - started
    await ws.close()
    return {"cycles_per_s": cycles / elapsed, "us_per_cycle": elapsed / cycles * 1e6}


async def processors(url: str, token: str, count: int, *, sandboxed: bool) -> dict:
    ws = await open_authenticated(url, token)
    processor: dict = {"name": "builtin:increment", "args": {"delta": 1}}
    if sandboxed:
        code = "return {'value': (value or 0) + args['delta'], 'result': None}"
        processor = {"name": "inc", "code": code, "args": {"delta": 1}}
    frames = [
        msgpack.packb(
            {
                "type": "ENTRY_PROCESS",
                "requestId": str(i),
                "mapName": "bench",
                "key": f"k{i % 64}",
                "processor": processor,
            }
        )
        for i in range(count + WINDOW)
    ]
    await ws.send(frames[count])  # warm-up: starts the sandbox workers
    await _until(ws, "ENTRY_PROCESS_RESPONSE")
    sent = answered = failures = 0
    started = time.perf_counter()
    while sent < min(WINDOW, count):
        await ws.send(frames[sent])
        sent += 1
    while answered < count:
        for message in frame_messages(await ws.recv()):
            if message["type"] != "ENTRY_PROCESS_RESPONSE":
                continue
            answered += 1
            failures += not message["success"]
            if sent < count:
                await ws.send(frames[sent])
                sent += 1
    elapsed = time.perf_counter() - started
    await ws.close()
    return {"executions_per_s": count / elapsed, "failures": failures}


@dataclass(frozen=True)
class _Slot:
    name: str
    ormap: None = None


@dataclass(frozen=True)
class _Change:
    slot: _Slot
    key: str
    record: LWWRecord | None
    previous: LWWRecord | None
    removed_tag: str | None = None


async def _submit(batch):  # type: ignore[no-untyped-def]
    future = asyncio.get_running_loop().create_future()
    future.set_result(None)
    return future


def journal_overhead(writes: int) -> dict:
    records = [
        (f"k{i % 50_000}", LWWRecord({"n": i, "name": "user"}, Timestamp(10**12 + i, 0, "w")))
        for i in range(writes)
    ]
    results = {}
    for mode in ("none", "journal", "journal_persist"):
        lww = LWWMap(HLC("bench"))
        if mode != "none":
            journal = Journal(
                JournalConfig(capacity=10_000),
                SystemClock(),
                "bench",
                _submit,
                persist=mode == "journal_persist",
            )
            slot = _Slot("m")
            lww.subscribe(
                lambda key, rec, prev, j=journal, s=slot: j.on_change(_Change(s, key, rec, prev))
            )
        started = time.perf_counter()
        for key, record in records:
            lww.merge(key, record)
        elapsed = time.perf_counter() - started
        results[mode] = {"merges_per_s": writes / elapsed, "us_per_write": elapsed / writes * 1e6}
    return results


async def run_once(directory: Path, args: argparse.Namespace, run: int) -> dict[str, dict]:
    secret = secrets.token_urlsafe(48)
    token = mint_token(secret, sub="bench", roles=("USER",))
    out: dict[str, dict] = {}
    memory = await _server(directory, f"mem{run}", "memory", secret)
    try:
        out["topic_fanout"] = await topic_fanout(memory.ws_url, token, args.messages)
        out["processor_builtin"] = await processors(
            memory.ws_url, token, args.executions, sandboxed=False
        )
        out["processor_sandboxed"] = await processors(
            memory.ws_url, token, args.executions, sandboxed=True
        )
    finally:
        memory.stop()
    sqlite = await _server(directory, f"sql{run}", f"sqlite:///{directory}/l{run}.db", secret)
    try:
        out["lock_rtt"] = await lock_rtt(sqlite.ws_url, token, args.cycles)
    finally:
        sqlite.stop()
    for mode, numbers in journal_overhead(args.writes).items():
        out[f"journal_{mode}"] = numbers
    return out


def _report(runs: list[dict[str, dict]]) -> None:
    print(f"# {platform.machine()} {platform.system()}, Python {sys.version.split()[0]}")
    for scenario in runs[0]:
        for metric in runs[0][scenario]:
            values = [run[scenario][metric] for run in runs]
            median = statistics.median(values)
            each = ", ".join(f"{v:,.1f}" for v in values)
            print(f"{scenario:24} {metric:18} median {median:>14,.1f}   runs: {each}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    args.messages = 200 if args.quick else 2_000
    args.cycles = 100 if args.quick else 1_000
    args.executions = 200 if args.quick else 2_000
    args.writes = 20_000 if args.quick else 200_000
    with tempfile.TemporaryDirectory() as tmp:
        runs = [await run_once(Path(tmp), args, run) for run in range(args.runs)]
    _report(runs)


if __name__ == "__main__":
    asyncio.run(main())
