"""Shared pieces of the storage conformance suite: the fixture protocol and helpers.

See :mod:`topgun_core.testing.storage` for how the suite is used. Everything here is
plain coroutines and comparisons (core is sans-IO; the caller runs the event loop).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import NamedTuple, Protocol, cast

from topgun_core.errors import StorageError
from topgun_core.hlc import Timestamp
from topgun_core.lww_map import LWWRecord
from topgun_core.or_map import ORRecord
from topgun_core.storage import StorageAdapter
from topgun_core.values import JsonValue

__all__ = [
    "SAMPLE_VALUES",
    "StorageCheck",
    "StorageFixture",
    "check",
    "fresh",
    "lww",
    "opened",
    "orr",
    "raises_storage_error",
    "same_records",
    "same_value",
    "snapshot",
    "ts",
]


class StorageFixture(Protocol):
    """Hands adapters to the checks; see the module docstring."""

    durable: bool
    """Whether ``reopen()`` finds what the previous adapter on the store wrote."""

    async def new(self) -> StorageAdapter:
        """A fresh, unopened adapter on a new, empty backing store."""
        ...

    async def reopen(self) -> StorageAdapter:
        """A fresh, unopened adapter on the store of the latest ``new()``."""
        ...


class StorageCheck(NamedTuple):
    """One named rule of the contract."""

    name: str
    run: Callable[[StorageFixture], Awaitable[None]]
    needs_reopen: bool = False


SAMPLE_VALUES: dict[str, JsonValue] = {
    "true": True,
    "false": False,
    "zero": 0,
    "int": 42,
    "negative": -7,
    "2**53+1": 2**53 + 1,
    "-2**63": -(2**63),
    "2**64-1": 2**64 - 1,
    "float": 3.25,
    "one-float": 1.0,
    "negative-zero": -0.0,
    "inf": math.inf,
    "-inf": -math.inf,
    "nan": math.nan,
    "empty-str": "",
    "unicode": "日本語 — é 😀",
    "nul-in-str": "a\x00b",
    "bytes": b"\x00\xff\x80binary",
    "empty-bytes": b"",
    "list": [1, "two", 3.0, None, True, b"\x01", [], {}],
    "empty-list": [],
    "empty-dict": {},
    "dict": {"a": {"b": [1, {"c": None}]}, "é": 1.5, "": "empty key", "n": None},
    "deep": cast("JsonValue", [[[[[[[[[[{"deep": [1.0]}]]]]]]]]]]),
}
"""One value of every JsonValue shape the store must keep exactly (types included)."""


def same_value(a: object, b: object) -> bool:
    """Equal *and* of the same types all the way down (``1.0`` is not ``1``; NaN is NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        assert isinstance(b, float)
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, list):
        assert isinstance(b, list)
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return a == b


def ts(millis: int, counter: int = 0, node: str = "node-A") -> Timestamp:
    return Timestamp(millis, counter, node)


def lww(value: JsonValue, millis: int, ttl: float | None = None) -> LWWRecord:
    return LWWRecord(value, ts(millis, millis % 7, f"n{millis % 3}"), ttl)


def orr(value: JsonValue, millis: int, ttl: float | None = None) -> ORRecord:
    stamp = ts(millis, millis % 5, f"n{millis % 2}")
    return ORRecord(value, stamp, str(stamp), ttl)


@asynccontextmanager
async def opened(adapter: StorageAdapter) -> AsyncIterator[StorageAdapter]:
    await adapter.open()
    try:
        yield adapter
    finally:
        await adapter.close()


@asynccontextmanager
async def fresh(fixture: StorageFixture) -> AsyncIterator[StorageAdapter]:
    async with opened(await fixture.new()) as store:
        yield store


async def raises_storage_error(call: Awaitable[object], what: str) -> StorageError:
    try:
        await call
    except StorageError as exc:
        return exc
    except Exception as exc:
        raise AssertionError(f"{what}: raised {type(exc).__name__}, not StorageError") from exc
    raise AssertionError(f"{what}: did not raise StorageError")


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def same_records(got: Sequence[tuple[str, object]], want: Sequence[tuple[str, object]]) -> bool:
    """Same ``(key, record)`` pairs in any order, values compared with :func:`same_value`."""
    if len(got) != len(want):
        return False
    by_key = sorted(got, key=_order)
    return all(
        g[0] == w[0] and _same_record(g[1], w[1])
        for g, w in zip(by_key, sorted(want, key=_order), strict=True)
    )


def _order(pair: tuple[str, object]) -> tuple[str, str]:
    record = pair[1]
    return pair[0], record.tag if isinstance(record, ORRecord) else ""


def _same_record(got: object, want: object) -> bool:
    if isinstance(got, LWWRecord) and isinstance(want, LWWRecord):
        pairs = ((got.value, want.value), (got.ttl_ms, want.ttl_ms))
    elif isinstance(got, ORRecord) and isinstance(want, ORRecord):
        if got.tag != want.tag:
            return False
        pairs = ((got.value, want.value), (got.ttl_ms, want.ttl_ms))
    else:
        return False
    ts_ok = type(got.timestamp) is Timestamp and tuple(got.timestamp) == tuple(want.timestamp)
    return ts_ok and all(same_value(a, b) for a, b in pairs)


async def snapshot(
    store: StorageAdapter, lww_maps: Sequence[str], or_maps: Sequence[str]
) -> object:
    """Everything observable about some maps, kv namespace "ns" and the op log."""
    loads: list[object] = [sorted(await store.load_lww(name), key=_order) for name in lww_maps]
    for name in or_maps:
        snap = await store.load_or(name)
        loads.append((sorted(snap.records, key=_order), sorted(snap.tombstones)))
    oplog = await store.oplog_read(-1, 1_000_000)
    return (await store.map_kinds(), loads, dict(await store.kv_scan("ns")), oplog)
