"""Client benchmarks: local writes, pushing an offline queue, a fresh client's sync.

Run: ``uv run python tools/bench/client_sync.py`` (``--runs N``, default 3;
``--ops N``, default 100 000). Each scenario runs against a real server started
in-process (``topgun_server.testing.running_server``, memory storage) and a client
with a SQLite store in a temporary directory:

- **local writes**: ``set()`` of N small records plus ``flush_local()`` (records/s,
  durable in the local store, offline);
- **offline queue push**: going online with those N queued ops until ``flush()``
  returns (ops/s acknowledged by the server, 500-op batches, 2 000 in flight);
- **fresh sync**: a new in-memory client syncing the N-record map (seconds until
  ``CONNECTED``).

The table reports medians; results are recorded by hand in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from topgun_client import ConnectionState, TopGunClient
from topgun_server.testing import running_server


async def _one_run(ops: int, directory: Path) -> dict[str, float]:
    results: dict[str, float] = {}
    async with running_server() as server:
        token = server.token()
        async with TopGunClient(
            server.ws_url, token=token, store=directory / "bench.db", online=False
        ) as client:
            bench = client.get_map("bench")
            start = time.perf_counter()
            for first in range(0, ops, 10_000):
                for i in range(first, min(ops, first + 10_000)):
                    bench.set(f"user:{i}", {"n": i, "name": f"name {i}"})
                await client.flush_local()
            results["local writes (records/s)"] = ops / (time.perf_counter() - start)
            start = time.perf_counter()
            client.go_online()
            await client.flush(timeout=600)
            results["offline queue push (ops/s)"] = ops / (time.perf_counter() - start)
        start = time.perf_counter()
        async with TopGunClient(server.ws_url, token=token) as fresh:
            fresh.get_map("bench")
            await fresh.wait_for_state(ConnectionState.CONNECTED, timeout=600)
            assert len(fresh.get_map("bench")) == ops
            results["fresh sync of the map (s)"] = time.perf_counter() - start
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ops", type=int, default=100_000)
    args = parser.parse_args()
    runs: list[dict[str, float]] = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as directory:
            runs.append(asyncio.run(_one_run(args.ops, Path(directory))))
    print(f"| scenario ({args.ops:,} records) | median of {args.runs} | runs |")
    print("|---|---:|---|")
    for name in runs[0]:
        values = [run[name] for run in runs]
        shown = ", ".join(f"{v:,.2f}" if v < 100 else f"{v:,.0f}" for v in values)
        median = statistics.median(values)
        print(
            f"| {name} | {median:,.2f} | {shown} |"
            if median < 100
            else f"| {name} | {median:,.0f} | {shown} |"
        )


if __name__ == "__main__":
    main()
