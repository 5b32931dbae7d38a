"""Core benchmarks: hashing (python vs native), LWW merges, Merkle updates, OP_BATCH decode.

Run: ``uv run python tools/bench/core.py`` (``--runs N``, default 3). Each scenario is
run N times; the table reports the median rate. Results are recorded by hand in
``docs/benchmarks.md`` together with the machine they were measured on. Nothing here
is asserted by tests: speed is checked by reading these numbers, never by timing tests.
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import time
from collections.abc import Callable

import topgun_native
from topgun_core import (
    HLC,
    EventJournal,
    JournalConfig,
    LWWMap,
    MerkleTree,
    Timestamp,
    hash_backend,
)
from topgun_core.hashing import py_hash32, py_merkle_item_hash
from topgun_core.lww_map import LWWRecord
from topgun_core.protocol import decode, encode
from topgun_core.testing import FakeClock

KEYS = [f"user:{i}" for i in range(100_000)]


def _rate(ops: int, fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return ops / (time.perf_counter() - start)


def bench_hash_python() -> float:
    return _rate(len(KEYS), lambda: [py_hash32(k) for k in KEYS])


def bench_hash_native() -> float:
    h = topgun_native.hash32
    return _rate(len(KEYS), lambda: [h(k) for k in KEYS])


def bench_hash_native_batch() -> float:
    return _rate(len(KEYS), lambda: topgun_native.hash32_many(KEYS))


def bench_item_hash_python() -> float:
    return _rate(
        len(KEYS), lambda: [py_merkle_item_hash(k, 1_700_000_000_000, 3, "node-1") for k in KEYS]
    )


def bench_item_hash_native() -> float:
    h = topgun_native.merkle_item_hash
    return _rate(len(KEYS), lambda: [h(k, 1_700_000_000_000, 3, "node-1") for k in KEYS])


def bench_lww_merge() -> float:
    records = [
        (k, LWWRecord({"name": k, "age": i % 90}, Timestamp(1_700_000_000_000 + i, 0, "remote")))
        for i, k in enumerate(KEYS)
    ]
    # The local wall clock is past every record, so no merge trips the drift warning.
    target = LWWMap(HLC("local", clock=FakeClock(1_700_000_000_000 + len(KEYS))))

    def run() -> None:
        merge = target.merge
        for key, record in records:
            merge(key, record)

    return _rate(len(records), run)


def bench_merkle_update() -> float:
    tree = MerkleTree()
    stamps = [Timestamp(1_700_000_000_000 + i, 0, "n") for i in range(len(KEYS))]

    def run() -> None:
        update = tree.update
        for key, ts in zip(KEYS, stamps, strict=True):
            update(key, ts)

    return _rate(len(KEYS), run)


def _op_batch_frame(ops: int) -> bytes:
    batch = [
        {
            "id": i,
            "mapName": "users",
            "key": f"user:{i}",
            "opType": "PUT",
            "record": {
                "value": {"name": f"user {i}", "age": i % 90, "tags": ["a", "b"]},
                "timestamp": {"millis": 1_700_000_000_000 + i, "counter": 0, "nodeId": "client-1"},
            },
        }
        for i in range(ops)
    ]
    return encode({"type": "OP_BATCH", "payload": {"ops": batch}})  # type: ignore[typeddict-item]


def bench_op_batch_decode() -> float:
    frame = _op_batch_frame(1000)
    rounds = 100

    def run() -> None:
        for _ in range(rounds):
            decode(frame)  # the result is dropped, as a server drops it after applying

    return _rate(1000 * rounds, run)


def bench_journal_append() -> float:
    journal = EventJournal(JournalConfig(capacity=10_000), clock=FakeClock(0))
    stamp = Timestamp(1, 0, "n")

    def run() -> None:
        append = journal.append
        for key in KEYS:
            append("PUT", "users", key, {"v": 1}, None, stamp, "n")

    return _rate(len(KEYS), run)


SCENARIOS: dict[str, Callable[[], float]] = {
    "hash32, pure Python (keys/s)": bench_hash_python,
    "hash32, native (keys/s)": bench_hash_native,
    "hash32_many, native batch (keys/s)": bench_hash_native_batch,
    "Merkle item hash, pure Python (items/s)": bench_item_hash_python,
    "Merkle item hash, native (items/s)": bench_item_hash_native,
    "LWW merges (records/s, 100k keys)": bench_lww_merge,
    "Merkle updates (updates/s, 100k keys)": bench_merkle_update,
    "OP_BATCH decode+validate (ops/s, 1000-op batches)": bench_op_batch_decode,
    "Event journal appends (events/s, ring of 10 000)": bench_journal_append,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(
        f"python {platform.python_version()}, {platform.machine()}, hash backend {hash_backend()}"
    )
    print(f"| scenario | median of {args.runs} | runs |")
    print("|---|---:|---|")
    for name, fn in SCENARIOS.items():
        rates = []
        for _ in range(args.runs):
            gc.collect()  # each run starts without the previous run's garbage
            rates.append(fn())
        runs = ", ".join(f"{r:,.0f}" for r in rates)
        print(f"| {name} | {statistics.median(rates):,.0f} | {runs} |")


if __name__ == "__main__":
    main()
