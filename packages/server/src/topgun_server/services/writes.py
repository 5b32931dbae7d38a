"""The write path: validate a whole batch, apply it, persist it, fan it out, answer it.

:func:`prepare` checks one op without changing anything — the map kind (409),
permission (PUT or REMOVE on the map, 403), the record (TTL, OR tag: 400) and the
clock drift of its timestamp against the strict bound (400, naming the drift) —
and returns either a :class:`Prepared` op or a :class:`Rejection`. A rejected op
is answered ``OP_REJECTED`` and nothing of it is applied; **the other ops of the
batch are unaffected** (one drifting op rejects only itself). Every op gets
exactly one answer: ``OP_REJECTED``, or one result in an ``OP_ACK``.

:func:`apply` merges prepared ops of one map into its CRDT and collects what
changed: rows for the persistence queue and events for the broadcast. The ops
are applied in order and synchronously, so a connection's writes are seen in the
order it sent them.

Write concerns (SEMANTICS.md §7): the merge happens before any answer, so every
accepted op has achieved ``APPLIED`` when it is acked — FIRE_AND_FORGET, MEMORY
and APPLIED requests are acked at once with ``achievedLevel: APPLIED``. PERSISTED
waits until the batch is durable in storage; on a single node REPLICATED has no
backups to wait for and is the same wait — its ack says ``PERSISTED``. A durable
wait that runs past the op's timeout (default ``write_timeout_ms``) is answered
``success: false`` with the level actually achieved (``APPLIED``); a storage
failure likewise, with a 503 in the error text (the write stays applied in memory
and the persistence queue keeps retrying it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Final, Literal, assert_never

from topgun_core.errors import ClockDriftError, TopGunError
from topgun_core.hlc import Timestamp
from topgun_core.lww_map import LWWRecord
from topgun_core.or_map import ORRecord
from topgun_core.policies import Action, Principal
from topgun_core.protocol import ClientOp, OpResult, ServerEvent, WriteConcern
from topgun_core.storage import MapKind, WriteBatch
from topgun_server.context import ServerContext
from topgun_server.services.maps import MapSlot

__all__ = [
    "DURABLE_LEVELS",
    "Permissions",
    "Prepared",
    "Rejection",
    "apply",
    "kind_of",
    "prepare",
    "success",
]

DURABLE_LEVELS: Final = frozenset({"REPLICATED", "PERSISTED"})
"""Levels whose ack waits for storage (single node: REPLICATED == PERSISTED)."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why an op was refused; nothing of it was applied."""

    op_id: int
    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class Prepared:
    """A validated op, ready to apply."""

    op: ClientOp
    level: WriteConcern
    timeout_ms: int
    lww: LWWRecord | None = None
    orec: ORRecord | None = None

    @property
    def durable(self) -> bool:
        """Whether the ack waits for storage."""
        return self.level in DURABLE_LEVELS


def kind_of(op: ClientOp) -> MapKind:
    """The map kind an op writes to."""
    return "lww" if op["opType"] in ("PUT", "REMOVE") else "or"


def _action(op: ClientOp) -> Action:
    return "PUT" if op["opType"] in ("PUT", "OR_ADD") else "REMOVE"


class Permissions:
    """Policy answers for one batch: each (map, action) is evaluated once, not per op."""

    __slots__ = ("_answers", "_ctx", "_principal")

    def __init__(self, ctx: ServerContext, principal: Principal) -> None:
        self._ctx = ctx
        self._principal = principal
        self._answers: dict[tuple[str, Action], bool] = {}

    def allowed(self, map_name: str, action: Action) -> bool:
        """Whether the principal may do ``action`` on ``map_name``."""
        answer = self._answers.get((map_name, action))
        if answer is None:
            answer = self._ctx.policies.allowed(self._principal, map_name, action)
            self._answers[map_name, action] = answer
        return answer


def prepare(
    ctx: ServerContext,
    permissions: Permissions,
    op: ClientOp,
    defaults: tuple[WriteConcern | None, int | None],
) -> Prepared | Rejection:
    """Validate one op without side effects."""
    op_id = op["id"]
    map_name = op["mapName"]
    if not ctx.lifecycle.accepting_writes:
        return Rejection(op_id, 503, "the server is shutting down; retry on reconnect")
    action = _action(op)
    if not permissions.allowed(map_name, action):
        return Rejection(op_id, 403, f"{action} on map {map_name!r} is not allowed")
    try:
        ctx.maps.check_kind(map_name, kind_of(op))
        prepared = _records(op, defaults, ctx.settings.write_timeout_ms)
        stamp = prepared.lww or prepared.orec
        if stamp is not None:
            ctx.drift.check_drift(stamp.timestamp)
    except ClockDriftError as exc:
        return Rejection(op_id, 400, f"rejected: {exc.message}")
    except TopGunError as exc:
        return Rejection(op_id, exc.code, exc.message)
    except ValueError as exc:
        return Rejection(op_id, 400, f"invalid record: {exc}")
    return prepared


def _records(
    op: ClientOp, defaults: tuple[WriteConcern | None, int | None], default_timeout_ms: int
) -> Prepared:
    level: WriteConcern = op.get("writeConcern") or defaults[0] or "MEMORY"
    timeout_ms = op.get("timeout") or defaults[1] or default_timeout_ms
    match op["opType"]:
        case "PUT" | "REMOVE":
            return Prepared(op, level, timeout_ms, lww=LWWRecord.from_wire(op["record"]))
        case "OR_ADD":
            orec = ORRecord.from_wire(op["orRecord"])
            Timestamp.parse(orec.tag)
            return Prepared(op, level, timeout_ms, orec=orec)
        case "OR_REMOVE":
            Timestamp.parse(op["orTag"])
            return Prepared(op, level, timeout_ms)
        case _ as unreachable:
            assert_never(unreachable)


def apply(
    ctx: ServerContext, slot: MapSlot, ops: list[Prepared], batch: WriteBatch
) -> list[ServerEvent]:
    """Merge ``ops`` (all of ``slot``'s map) into memory; add changed rows to ``batch``."""
    events: list[ServerEvent] = []
    name = slot.name
    batch.map_kinds[name] = slot.kind
    counts: Counter[str] = Counter()
    for prepared in ops:
        op = prepared.op
        key = op["key"]
        match op["opType"]:
            case "PUT" | "REMOVE":
                record = prepared.lww
                assert record is not None
                if slot.require_lww().merge(key, record):
                    batch.lww_upserts.append((name, key, record))
                    events.append(
                        {
                            "mapName": name,
                            "key": key,
                            "eventType": "UPDATED",
                            "record": op["record"],
                        }
                    )
                    ctx.maps.grow(slot, key, record.value)
            case "OR_ADD":
                orec = prepared.orec
                assert orec is not None
                if slot.require_or().apply(key, orec):
                    batch.or_upserts.append((name, key, orec))
                    events.append(
                        {
                            "mapName": name,
                            "key": key,
                            "eventType": "OR_ADD",
                            "orRecord": op["orRecord"],
                        }
                    )
                    ctx.maps.grow(slot, key, orec.value)
            case "OR_REMOVE":
                tag = op["orTag"]
                if slot.require_or().apply_tombstone(tag, key):
                    batch.or_tombstones.append((name, key, tag))
                    batch.or_deletes.append((name, tag))
                    events.append(
                        {"mapName": name, "key": key, "eventType": "OR_REMOVE", "orTag": tag}
                    )
            case _ as unreachable:
                assert_never(unreachable)
        counts[op["opType"]] += 1
    label = ctx.metrics.map_label(name)
    for op_type, count in counts.items():
        ctx.metrics.ops.labels(op_type, label).inc(count)
    return events


def success(op_id: int, level: Literal["APPLIED", "PERSISTED"]) -> OpResult:
    """A successful result at ``level``."""
    return {"opId": op_id, "success": True, "achievedLevel": level}
