"""Server load generator: a real server process, N raw WebSocket connections.

Run: ``uv run python tools/bench/server_load.py`` (``--runs N``, default 3;
``--connections N``, default 4; ``--quick`` for a short smoke run). It starts
``python -m topgun_server serve`` as a child process on SQLite in a temporary
directory (the embedded default), then measures, each scenario ``runs`` times:

* **op_batch_memory / op_batch_persisted** — N connections each keep a window of
  in-flight OP_BATCH frames of 100 PUTs (MEMORY or PERSISTED write concern) for a
  fixed number of batches; reports ops/s and p50/p99 batch ack latency (send → OP_ACK).
* **client_op_rtt** — one connection, sequential CLIENT_OP → OP_ACK round trips.
* **merkle_sync_100k** — a fresh raw client pulls a 100 000-record map by Merkle
  sync (every bucket request pipelined; leaves complete when their hashes add up).
* **rss_1m** — server RSS (``/proc/<pid>/status`` VmRSS) after 1 000 000 small
  records were written (MEMORY) into one map, beside the RSS of the idle server.

The table reports the median of the runs. Frames are encoded before timing starts
and acks are parsed with plain msgpack, so the generator measures the server, not
itself. Nothing here is asserted by tests: results are recorded by hand in
``docs/benchmarks.md`` with the machine they were measured on.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import msgpack
from _wire import frame_messages, open_authenticated
from websockets.asyncio.client import ClientConnection

from topgun_server.auth import mint_token
from topgun_server.testing import ProtocolClient, ServerProcess

OPS_PER_BATCH = 100
WINDOW = 8
BASE_MILLIS = int(time.time() * 1000) - 3_600_000


def _batch_frame(map_name: str, first_id: int, concern: str, node: str) -> bytes:
    ops = [
        {
            "id": first_id + i,
            "mapName": map_name,
            "key": f"{node}:{first_id + i}",
            "opType": "PUT",
            "record": {
                "value": {"n": first_id + i, "name": "user"},
                "timestamp": {"millis": BASE_MILLIS, "counter": first_id + i, "nodeId": node},
            },
        }
        for i in range(OPS_PER_BATCH)
    ]
    message = {"type": "OP_BATCH", "payload": {"ops": ops, "writeConcern": concern}}
    return msgpack.packb(message, use_bin_type=True)


async def _batch_worker(
    ws: ClientConnection, frames: list[tuple[int, bytes]], latencies: list[float]
) -> None:
    sent: dict[int, float] = {}
    window = asyncio.Semaphore(WINDOW)
    done = asyncio.Event()
    remaining = len(frames)

    async def reader() -> None:
        nonlocal remaining
        while remaining:
            for message in frame_messages(await ws.recv()):
                if message["type"] == "OP_ACK":
                    last = message["payload"]["lastId"]
                    latencies.append(time.perf_counter() - sent.pop(last))
                    remaining -= 1
                    window.release()
        done.set()

    task = asyncio.create_task(reader())
    for last_id, frame in frames:
        await window.acquire()
        sent[last_id] = time.perf_counter()
        await ws.send(frame)
    await done.wait()
    await task


async def op_batch(
    server: ServerProcess, secret: str, concern: str, conns: int, batches: int
) -> dict:
    """N connections, each sending ``batches`` OP_BATCH frames of 100 PUTs."""
    map_name = f"bench-{concern.lower()}-{secrets.token_hex(3)}"
    sockets = [
        await open_authenticated(server.ws_url, mint_token(secret, sub=f"w{i}"))
        for i in range(conns)
    ]
    plans = [
        [
            (
                b * OPS_PER_BATCH + OPS_PER_BATCH,
                _batch_frame(map_name, b * OPS_PER_BATCH + 1, concern, f"c{i}"),
            )
            for b in range(batches)
        ]
        for i in range(conns)
    ]
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(
        *(_batch_worker(ws, plan, latencies) for ws, plan in zip(sockets, plans, strict=True))
    )
    elapsed = time.perf_counter() - started
    for ws in sockets:
        await ws.close()
    latencies.sort()
    return {
        "ops_per_s": conns * batches * OPS_PER_BATCH / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


async def client_op_rtt(server: ServerProcess, secret: str, count: int) -> dict:
    """Sequential single CLIENT_OP round trips on one connection."""
    ws = await open_authenticated(server.ws_url, mint_token(secret, sub="rtt"))
    frames = []
    for i in range(1, count + 1):
        op = {
            "id": i,
            "mapName": "rtt",
            "key": f"k{i % 1000}",
            "opType": "PUT",
            "record": {
                "value": i,
                "timestamp": {"millis": BASE_MILLIS, "counter": i, "nodeId": "rtt"},
            },
        }
        frames.append(msgpack.packb({"type": "CLIENT_OP", "payload": op}))
    latencies = []
    started = time.perf_counter()
    for frame in frames:
        t0 = time.perf_counter()
        await ws.send(frame)
        while not any(m["type"] == "OP_ACK" for m in frame_messages(await ws.recv())):
            pass
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    await ws.close()
    latencies.sort()
    return {
        "ops_per_s": count / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
    }


async def _fill(
    server: ServerProcess, secret: str, map_name: str, records: int, conns: int
) -> None:
    per_conn = records // conns // OPS_PER_BATCH
    sockets = [
        await open_authenticated(server.ws_url, mint_token(secret, sub=f"f{i}"))
        for i in range(conns)
    ]
    plans = [
        [
            (
                (b + 1) * OPS_PER_BATCH,
                _batch_frame(map_name, b * OPS_PER_BATCH + 1, "MEMORY", f"f{i}"),
            )
            for b in range(per_conn)
        ]
        for i in range(conns)
    ]
    await asyncio.gather(
        *(_batch_worker(ws, plan, []) for ws, plan in zip(sockets, plans, strict=True))
    )
    for ws in sockets:
        await ws.close()


async def merkle_sync(server: ServerProcess, secret: str, map_name: str, records: int) -> dict:
    """A fresh raw client pulls ``map_name`` by Merkle sync."""
    client = await ProtocolClient.connect(server.ws_url)
    await client.auth(mint_token(secret, sub="syncer"))
    started = time.perf_counter()
    pulled = await client.sync_lww(map_name)
    elapsed = time.perf_counter() - started
    await client.close()
    assert len(pulled) == records, (len(pulled), records)
    return {"seconds": elapsed, "records_per_s": records / elapsed}


def rss_mib(pid: int) -> float:
    """VmRSS of a process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def _start(directory: Path, secret: str, name: str) -> ServerProcess:
    # The child needs nothing from this environment: its interpreter path is absolute.
    env = {
        "TOPGUN_JWT_SECRET": secret,
        "TOPGUN_STORAGE": f"sqlite:///{directory / name}.db",
        "TOPGUN_LOG_LEVEL": "WARNING",
        "TOPGUN_CLIENT_MSGS_PER_S": "1000000",
        "TOPGUN_CLIENT_MSGS_BURST": "1000000",
        "TOPGUN_MAPS_MEMORY_BYTES_MAX": str(8 * 1024**3),
    }
    server = ServerProcess(directory / f"{name}.log", env, args=("--log-level", "INFO"))
    await server.start()
    return server


async def run_once(directory: Path, args: argparse.Namespace, run: int) -> dict[str, dict]:
    secret = secrets.token_urlsafe(48)
    results: dict[str, dict] = {}
    server = await _start(directory, secret, f"run{run}")
    try:
        results["op_batch_memory"] = await op_batch(
            server, secret, "MEMORY", args.connections, args.batches
        )
        results["op_batch_persisted"] = await op_batch(
            server, secret, "PERSISTED", args.connections, args.batches
        )
        results["client_op_rtt"] = await client_op_rtt(server, secret, args.rtt)
        await _fill(server, secret, "sync100k", args.sync_records, 4)
        results["merkle_sync_100k"] = await merkle_sync(
            server, secret, "sync100k", args.sync_records
        )
    finally:
        await server.terminate()
    server = await _start(directory, secret, f"rss{run}")
    try:
        idle = rss_mib(server.pid)
        await _fill(server, secret, "rss", args.rss_records, 4)
        results["rss_1m"] = {
            "idle_mib": idle,
            "loaded_mib": rss_mib(server.pid),
            "records": args.rss_records,
        }
    finally:
        await server.terminate()
    return results


def _median(runs: list[dict[str, dict]], scenario: str, field: str) -> float:
    return statistics.median(run[scenario][field] for run in runs)


def _runs(runs: list[dict[str, dict]], scenario: str, field: str, fmt: str) -> str:
    return ", ".join(format(run[scenario][field], fmt) for run in runs)


def report(runs: list[dict[str, dict]], args: argparse.Namespace) -> None:
    machine = f"{platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}"
    print(f"machine: {machine}, {platform.system()} {platform.release()}")
    print(
        f"runs: {len(runs)} (median first, then each run), connections: {args.connections}, "
        f"window: {WINDOW} batches of {OPS_PER_BATCH} ops per connection"
    )
    for key in ("op_batch_memory", "op_batch_persisted", "client_op_rtt"):
        each = _runs(runs, key, "ops_per_s", ",.0f")
        rate = f"{_median(runs, key, 'ops_per_s'):,.0f} ops/s [{each}]"
        p50 = f"p50 {_median(runs, key, 'p50_ms'):.2f} ms [{_runs(runs, key, 'p50_ms', '.2f')}]"
        p99 = f"p99 {_median(runs, key, 'p99_ms'):.2f} ms [{_runs(runs, key, 'p99_ms', '.2f')}]"
        print(f"{key}: {rate}; {p50}; {p99}")
    key = "merkle_sync_100k"
    seconds = f"{_median(runs, key, 'seconds'):.2f} s [{_runs(runs, key, 'seconds', '.2f')}]"
    print(f"{key}: {seconds} for {args.sync_records:,} records")
    key = "rss_1m"
    loaded = (
        f"{_median(runs, key, 'loaded_mib'):,.0f} MiB [{_runs(runs, key, 'loaded_mib', ',.0f')}]"
    )
    idle = f"idle {_median(runs, key, 'idle_mib'):,.0f} MiB"
    print(f"{key}: {loaded} with {args.rss_records:,} records; {idle}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--batches", type=int, default=250, help="OP_BATCH frames per connection")
    parser.add_argument("--rtt", type=int, default=2000, help="CLIENT_OP round trips")
    parser.add_argument("--sync-records", type=int, default=100_000)
    parser.add_argument("--rss-records", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="small numbers, one run")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.batches, args.rtt = 1, 20, 200
        args.sync_records, args.rss_records = 10_000, 20_000
    with tempfile.TemporaryDirectory(prefix="topgun-bench-") as tmp:
        runs = [asyncio.run(run_once(Path(tmp), args, run)) for run in range(args.runs)]
    report(runs, args)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
