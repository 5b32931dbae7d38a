"""Query-engine benchmarks: equality and range queries, index upkeep, live-query fan-out.

Run: ``uv run python tools/bench/query.py`` (``--runs N``, default 3; ``--records N``,
default 1 000 000). Each scenario runs N times and the table reports the median.

- **Queries** over ``--records`` records ``{team, score, name}`` (1 000 teams, scores
  uniform in [0, 1000)): an equality query (``team == t``, 0.1 % of the records) and
  a range query (``score`` in a window of width 1, 0.1 %), each by a full scan and
  through an index (``HashIndex("team")`` / ``NavigableIndex("score")``). Latency is
  per query (indexed: mean over 200 different operands); "records/s" is the map size
  divided by the latency, i.e. how many records per second the query *covers*.
- **Index upkeep**: building both indexes over the records, and writes through an
  ``IndexedMap`` that keeps them current.
- **Live fan-out**: 1 000 subscriptions on a 100 000-record map — 500 anchored
  (``team == t``, sorted by score, limit 10), 200 anchored with a range
  (``team == t and score > 500``), 300 pure ranges (``score`` in a window, limit
  20) — then 10 000 writes changing a random record's score (and every fifth its
  team). Latency is the time for one write to produce every delta of every
  affected subscription (``LiveQueryRegistry.apply``); p50 and p99 over the writes.

Results are recorded by hand in ``docs/benchmarks.md`` with the machine they ran on.
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import statistics
import time
from collections.abc import Callable

from topgun_core.query import (
    HashIndex,
    IndexedMap,
    IndexRegistry,
    LiveQueryRegistry,
    NavigableIndex,
    P,
    QuerySpec,
    execute,
)
from topgun_core.values import JsonValue

TEAMS = 1_000
PROBES = 200


def make_records(count: int, seed: int = 7) -> dict[str, JsonValue]:
    rng = random.Random(seed)
    return {
        f"user:{i:07}": {
            "team": f"t{rng.randrange(TEAMS)}",
            "score": rng.random() * 1000,
            "name": f"user {i}",
        }
        for i in range(count)
    }


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def scan_eq(records: dict[str, JsonValue]) -> float:
    return _timed(lambda: execute(QuerySpec(P.eq("team", "t7")), records))


def scan_range(records: dict[str, JsonValue]) -> float:
    return _timed(lambda: execute(QuerySpec(P.between("score", 500, 501)), records))


def indexed(records: dict[str, JsonValue], registry: IndexRegistry, *, eq: bool) -> float:
    rng = random.Random(1)
    specs = [
        QuerySpec(P.eq("team", f"t{rng.randrange(TEAMS)}"))
        if eq
        else QuerySpec(P.between("score", (lo := rng.random() * 999), lo + 1))
        for _ in range(PROBES)
    ]

    def run() -> None:
        for spec in specs:
            result = execute(spec, records, indexes=registry)
            assert result.plan.uses_index

    return _timed(run) / PROBES


def build_indexes(records: dict[str, JsonValue]) -> tuple[float, IndexRegistry]:
    registry = IndexRegistry(records)

    def run() -> None:
        registry.add_index(HashIndex("team"))
        registry.add_index(NavigableIndex("score"))

    return _timed(run), registry


def indexed_writes(count: int) -> float:
    users = IndexedMap()
    users.add_index(HashIndex("team"))
    users.add_index(NavigableIndex("score"))
    rng = random.Random(3)
    rows = [
        (f"user:{i:07}", {"team": f"t{rng.randrange(TEAMS)}", "score": rng.random() * 1000})
        for i in range(count)
    ]

    def run() -> None:
        for key, value in rows:
            users.set(key, value)

    return count / _timed(run)


def fan_out(records: dict[str, JsonValue], writes: int = 10_000) -> tuple[float, float, float]:
    """p50 and p99 write-to-deltas latency (µs) and deltas per write."""
    users = IndexedMap(records)
    users.add_index(HashIndex("team"))
    users.add_index(NavigableIndex("score"))
    registry = LiveQueryRegistry()
    rng = random.Random(5)
    for i in range(1_000):
        team = f"t{rng.randrange(TEAMS)}"
        if i < 500:
            spec = QuerySpec(P.eq("team", team), sort=(("score", "desc"),), limit=10)
        elif i < 700:
            spec = QuerySpec(P.eq("team", team) & P.gt("score", 500))
        else:
            low = rng.random() * 990
            spec = QuerySpec(P.between("score", low, low + 10), sort=(("score", "asc"),), limit=20)
        registry.subscribe(f"q{i}", spec, users.records, indexes=users.indexes)
    keys = list(users.records)
    latencies: list[float] = []
    deltas = 0
    for n in range(writes):
        key = rng.choice(keys)
        old = users.get(key)
        assert isinstance(old, dict)
        new: JsonValue = {**old, "score": rng.random() * 1000}
        if n % 5 == 0:
            new["team"] = f"t{rng.randrange(TEAMS)}"
        start = time.perf_counter()
        users.set(key, new)
        deltas += len(registry.apply(key, old, new))
        latencies.append(time.perf_counter() - start)
    quantiles = statistics.quantiles(latencies, n=100)
    return quantiles[49] * 1e6, quantiles[98] * 1e6, deltas / writes


def _median_runs(runs: int, fn: Callable[[], float]) -> tuple[float, list[float]]:
    values = []
    for _ in range(runs):
        gc.collect()
        values.append(fn())
    return statistics.median(values), values


def _row(name: str, unit: str, median: float, values: list[float], fmt: str = ",.1f") -> None:
    runs = ", ".join(format(v, fmt) for v in values)
    print(f"| {name} | {format(median, fmt)} {unit} | {runs} |")


def query_rows(n: int, runs: int) -> None:
    records = make_records(n)
    for name, scan in (("equality", scan_eq), ("range", scan_range)):
        med, vals = _median_runs(runs, lambda scan=scan: scan(records))
        _row(f"{name} query, full scan: latency", "ms", med * 1e3, [v * 1e3 for v in vals])
        _row(f"{name} query, full scan: records/s", "", n / med, [n / v for v in vals], ",.0f")
    build_rates = []
    registry = IndexRegistry(records)
    for _ in range(runs):
        gc.collect()
        elapsed, registry = build_indexes(records)
        build_rates.append(n / elapsed)
    med = statistics.median(build_rates)
    _row("building hash + navigable indexes: records/s", "", med, build_rates, ",.0f")
    for name, eq in (("equality", True), ("range", False)):
        med, vals = _median_runs(runs, lambda eq=eq: indexed(records, registry, eq=eq))
        _row(f"{name} query, indexed: latency", "ms", med * 1e3, [v * 1e3 for v in vals], ",.3f")
        _row(f"{name} query, indexed: records/s", "", n / med, [n / v for v in vals], ",.0f")


def fan_out_rows(runs: int) -> None:
    records = make_records(100_000, seed=11)
    results = []
    for _ in range(runs):
        gc.collect()
        results.append(fan_out(records))
    for label, i, unit in (("p50", 0, "µs"), ("p99", 1, "µs"), ("deltas per write", 2, "")):
        vals = [r[i] for r in results]
        name = f"live fan-out, 1 000 subs, 10 000 writes: {label}"
        _row(name, unit, statistics.median(vals), vals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}, {args.records:,} records")
    print(f"| scenario | median of {args.runs} | runs |")
    print("|---|---:|---|")
    query_rows(args.records, args.runs)
    gc.collect()  # the fan-out map stands alone: no 1M-record heap for the GC to walk
    med, vals = _median_runs(args.runs, lambda: indexed_writes(100_000))
    _row("writes keeping 2 indexes current (100k): writes/s", "", med, vals, ",.0f")
    fan_out_rows(args.runs)


if __name__ == "__main__":
    main()
