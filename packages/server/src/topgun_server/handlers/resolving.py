"""Writes to a map with conflict resolvers: decide each op, then apply what was decided.

Called by the write path (``handlers/writes.py``) and by entry processors for LWW
ops on a map whose resolvers are registered. Under the map's resolver lock each
op, in order, is decided against the value it would replace
(:meth:`~topgun_server.services.resolvers.Resolvers.decide`):

- ``accept`` of the remote value, or ``local`` (no resolver objected; LWW keeps
  the newer record): applied as the plain write path would;
- ``accept`` of another value, or an ``accept`` of a write older than the local
  record, or ``merge``: the decided value is written with a fresh server
  timestamp (so it wins everywhere) and also sent back to the writer, whose
  replica holds something else;
- ``reject``: nothing of the op is applied; the writer alone gets
  ``MERGE_REJECTED`` and the op's ``OP_REJECTED`` (409), and the current value
  is re-asserted with a fresh timestamp so the writer's replica — which already
  holds its own newer record — converges back to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from topgun_core.lww_map import LWWRecord
from topgun_core.or_map import json_equal
from topgun_core.protocol import ClientOp, ServerEvent
from topgun_core.resolvers import MergeContext
from topgun_core.storage import WriteBatch
from topgun_core.values import JsonValue
from topgun_server.context import ServerContext
from topgun_server.services.maps import MapSlot
from topgun_server.services.writes import Prepared, Rejection, apply
from topgun_server.ws.session import Session

__all__ = ["Resolved", "apply_resolved", "lww_op"]


@dataclass(slots=True)
class Resolved:
    """What resolving a run of ops produced."""

    accepted: list[Prepared] = field(default_factory=list)
    """Ops to acknowledge (applied, rewritten, or kept out by LWW)."""
    events: list[ServerEvent] = field(default_factory=list)
    """Events for the map's other holders."""
    rejections: list[Rejection] = field(default_factory=list)
    """Ops a resolver refused (answer each with OP_REJECTED)."""


async def apply_resolved(
    ctx: ServerContext, session: Session, slot: MapSlot, ops: list[Prepared], batch: WriteBatch
) -> Resolved:
    """Decide and apply LWW ``ops`` of ``slot`` in order (module docstring)."""
    out = Resolved()
    async with ctx.resolvers.lock(slot.name):
        for prepared in ops:
            await _one(ctx, session, slot, prepared, batch, out)
    return out


async def _one(
    ctx: ServerContext,
    session: Session,
    slot: MapSlot,
    prepared: Prepared,
    batch: WriteBatch,
    out: Resolved,
) -> None:
    record = prepared.lww
    assert record is not None
    key = prepared.op["key"]
    lww = slot.require_lww()
    local = lww.get_record(key)
    decision = await ctx.resolvers.decide(
        MergeContext(
            slot.name,
            key,
            lww.get(key),
            record.value,
            None if local is None else local.timestamp,
            record.timestamp,
            record.timestamp.node_id,
            session.principal,
        )
    )
    newer = local is None or record.timestamp > local.timestamp
    match decision.action:
        case "local":
            out.events.extend(apply(ctx, slot, [prepared], batch))
            out.accepted.append(prepared)
        case "accept" if newer and json_equal(decision.value, record.value):
            out.events.extend(apply(ctx, slot, [prepared], batch))
            out.accepted.append(prepared)
        case "accept" | "merge":
            _rewrite(ctx, session, slot, prepared, decision.value, batch, out)
            out.accepted.append(prepared)
        case "reject":
            reason = decision.reason or "rejected by a conflict resolver"
            out.rejections.append(
                Rejection(
                    prepared.op["id"], 409, f"rejected by resolver {decision.resolver}: {reason}"
                )
            )
            session.outbox.send(
                {
                    "type": "MERGE_REJECTED",
                    "mapName": slot.name,
                    "key": key,
                    "attemptedValue": record.value,
                    "reason": reason,
                    "timestamp": record.timestamp.to_wire(),
                }
            )
            current = None if local is None else lww.get(key)
            _rewrite(ctx, session, slot, prepared, current, batch, out)


def lww_op(op_id: int, map_name: str, key: str, record: LWWRecord) -> ClientOp:
    """A PUT (or REMOVE, for a tombstone) op carrying ``record``."""
    if record.value is None:
        return {
            "id": op_id,
            "mapName": map_name,
            "key": key,
            "opType": "REMOVE",
            "record": record.to_wire(),
        }
    return {
        "id": op_id,
        "mapName": map_name,
        "key": key,
        "opType": "PUT",
        "record": record.to_wire(),
    }


def _rewrite(
    ctx: ServerContext,
    session: Session,
    slot: MapSlot,
    prepared: Prepared,
    value: JsonValue,
    batch: WriteBatch,
    out: Resolved,
) -> None:
    """Write ``value`` under the op's key with a fresh server timestamp; echo it to the writer."""
    record = prepared.lww
    assert record is not None
    ctx.hlc.update(record.timestamp)  # the new stamp must beat the writer's
    stamped = LWWRecord(value, ctx.hlc.now(), record.ttl_ms if value is not None else None)
    op = lww_op(prepared.op["id"], slot.name, prepared.op["key"], stamped)
    events = apply(ctx, slot, [replace(prepared, op=op, lww=stamped)], batch)
    out.events.extend(events)
    for event in events:
        session.outbox.send({"type": "SERVER_EVENT", "payload": event})
