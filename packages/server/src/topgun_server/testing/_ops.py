"""Builders for wire ops and a counter of HLC-like timestamps, for tests and benchmarks."""

from __future__ import annotations

import itertools
import time

from topgun_core.protocol import OrAddOp, OrRemoveOp, PutOp, RemoveOp, WriteConcern
from topgun_core.values import JsonValue

__all__ = ["Stamper", "or_add", "or_remove", "put", "remove"]


class Stamper:
    """Timestamps ``{millis, counter, nodeId}`` for one fake client node, always increasing."""

    def __init__(self, node_id: str = "client") -> None:
        self.node_id = node_id
        self._counter = itertools.count()

    def __call__(self, millis: int | None = None) -> dict[str, int | str]:
        """A fresh timestamp at wall time (or at ``millis``)."""
        now = time.time_ns() // 1_000_000 if millis is None else millis
        return {"millis": now, "counter": next(self._counter), "nodeId": self.node_id}


_DEFAULT_STAMPER = Stamper()


def put(  # noqa: PLR0913 - every field is a named keyword
    op_id: int,
    map_name: str,
    key: str,
    value: JsonValue,
    *,
    millis: int | None = None,
    ttl_ms: float | None = None,
    write_concern: WriteConcern | None = None,
    stamper: Stamper = _DEFAULT_STAMPER,
) -> PutOp:
    """A PUT op with a fresh timestamp."""
    record = {"value": value, "timestamp": stamper(millis)}
    if ttl_ms is not None:
        record["ttlMs"] = ttl_ms
    op = {"id": op_id, "mapName": map_name, "key": key, "opType": "PUT", "record": record}
    if write_concern is not None:
        op["writeConcern"] = write_concern
    return op  # type: ignore[return-value]  # built field by field above


def remove(
    op_id: int,
    map_name: str,
    key: str,
    *,
    millis: int | None = None,
    stamper: Stamper = _DEFAULT_STAMPER,
) -> RemoveOp:
    """A REMOVE op (a tombstone record) with a fresh timestamp."""
    record = {"value": None, "timestamp": stamper(millis)}
    return {"id": op_id, "mapName": map_name, "key": key, "opType": "REMOVE", "record": record}  # type: ignore[typeddict-item]  # a tombstone


def or_add(
    op_id: int,
    map_name: str,
    key: str,
    value: JsonValue,
    *,
    millis: int | None = None,
    stamper: Stamper = _DEFAULT_STAMPER,
) -> OrAddOp:
    """An OR_ADD op whose tag is its timestamp's string."""
    stamp = stamper(millis)
    tag = f"{stamp['millis']}:{stamp['counter']}:{stamp['nodeId']}"
    record = {"value": value, "timestamp": stamp, "tag": tag}
    return {"id": op_id, "mapName": map_name, "key": key, "opType": "OR_ADD", "orRecord": record}  # type: ignore[typeddict-item]  # built above


def or_remove(op_id: int, map_name: str, key: str, tag: str) -> OrRemoveOp:
    """An OR_REMOVE op tombstoning ``tag``."""
    return {"id": op_id, "mapName": map_name, "key": key, "opType": "OR_REMOVE", "orTag": tag}
