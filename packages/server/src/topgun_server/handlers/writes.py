"""CLIENT_OP and OP_BATCH: one path for one op or ten thousand.

The ops are validated one by one (:func:`~topgun_server.services.writes.prepare`);
a refused op is answered ``OP_REJECTED`` at once. The accepted ops are grouped by
map, each map is acquired (loaded if needed; readers and writers await READY),
the ops are merged in order, broadcast to the map's other holders, and their
changed rows are queued for persistence as **one** ``WriteBatch`` (the queue's
back-pressure makes this connection wait when storage falls behind).

Answers: ops that asked for at most APPLIED get an ``OP_ACK`` at once. Durable
ops (PERSISTED, REPLICATED) are answered by a task in the connection's task group
that waits for the batch to be durable, at most each op's timeout; at most
``pending_acks_max`` such waits are in flight per connection (the reader waits
for a slot: back-pressure, never an unbounded pile of tasks).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from topgun_core.errors import StorageError, TopGunError
from topgun_core.protocol import ClientOp, ClientOpMessage, OpBatchMessage, OpResult, WriteConcern
from topgun_core.storage import WriteBatch
from topgun_server.context import ServerContext
from topgun_server.handlers.resolving import apply_resolved
from topgun_server.services.writes import (
    Permissions,
    Prepared,
    Rejection,
    apply,
    kind_of,
    prepare,
    success,
)
from topgun_server.ws.session import Session

__all__ = ["handle_client_op", "handle_op_batch", "reject_all", "write_ops"]

_LEVEL_ORDER: dict[WriteConcern, int] = {
    "FIRE_AND_FORGET": 0,
    "MEMORY": 1,
    "APPLIED": 2,
    "REPLICATED": 3,
    "PERSISTED": 4,
}


async def handle_client_op(ctx: ServerContext, session: Session, message: ClientOpMessage) -> None:
    """One op; answered like a one-op batch."""
    await write_ops(ctx, session, [message["payload"]], (None, None))


async def handle_op_batch(ctx: ServerContext, session: Session, message: OpBatchMessage) -> None:
    """Many ops; the batch's writeConcern and timeout apply to ops without their own."""
    payload = message["payload"]
    await write_ops(
        ctx, session, payload["ops"], (payload.get("writeConcern"), payload.get("timeout"))
    )


def reject(ctx: ServerContext, session: Session, rejection: Rejection) -> None:
    """Answer one op with OP_REJECTED."""
    ctx.metrics.ops_rejected.labels(str(rejection.code)).inc()
    session.outbox.send(
        {
            "type": "OP_REJECTED",
            "payload": {
                "opId": rejection.op_id,
                "reason": rejection.reason,
                "code": rejection.code,
            },
        }
    )


def reject_all(
    ctx: ServerContext, session: Session, ops: list[ClientOp], code: int, reason: str
) -> None:
    """Answer every op with the same OP_REJECTED (rate limit, overload)."""
    for op in ops:
        reject(ctx, session, Rejection(op["id"], code, reason))


async def write_ops(
    ctx: ServerContext,
    session: Session,
    ops: list[ClientOp],
    defaults: tuple[WriteConcern | None, int | None],
) -> None:
    """Validate, apply, persist, broadcast and answer ``ops``."""
    if ctx.interceptors:
        ops, refused = await ctx.interceptors.screen(session, ops)
        for op_id, code, reason in refused:
            reject(ctx, session, Rejection(op_id, code, reason))
    permissions = Permissions(ctx, session.require_principal())
    by_map: dict[str, list[Prepared]] = defaultdict(list)
    for op in ops:
        outcome = prepare(ctx, permissions, op, defaults)
        if isinstance(outcome, Rejection):
            reject(ctx, session, outcome)
        else:
            by_map[op["mapName"]].append(outcome)
    batch = WriteBatch()
    accepted: list[Prepared] = []
    for name, prepared in by_map.items():
        accepted.extend(await _apply_map(ctx, session, name, prepared, batch))
    if not accepted:
        return
    if ctx.interceptors:
        for p in accepted:
            await ctx.interceptors.after_op(session, p.op)
    durable = [p for p in accepted if p.durable]
    immediate = [success(p.op["id"], "APPLIED") for p in accepted if not p.durable]
    done: asyncio.Future[None] | None = None
    if len(batch) > len(batch.map_kinds):  # rows changed (not only the kinds noted by apply)
        done = await ctx.persistence.submit_applied(batch)
    if immediate:
        _ack(session, immediate)
    if durable:
        await session.ack_slots.acquire()
        session.spawn(_ack_when_durable(session, durable, done or ctx.persistence.barrier()))


async def _apply_map(
    ctx: ServerContext, session: Session, name: str, prepared: list[Prepared], batch: WriteBatch
) -> list[Prepared]:
    kind = kind_of(prepared[0].op)
    try:
        slot = await ctx.maps.acquire(name, kind)
    except TopGunError as exc:
        for p in prepared:
            reject(ctx, session, Rejection(p.op["id"], exc.code, exc.message))
        return []
    fitting = [p for p in prepared if kind_of(p.op) == slot.kind]
    for p in prepared:
        if kind_of(p.op) != slot.kind:
            reason = f"map {name!r} cannot take both LWW and OR ops"
            reject(ctx, session, Rejection(p.op["id"], 409, reason))
    if slot.kind == "lww" and ctx.resolvers.guards(name):
        resolved = await apply_resolved(ctx, session, slot, fitting, batch)
        for rejection in resolved.rejections:
            reject(ctx, session, rejection)
        events, fitting = resolved.events, resolved.accepted
    else:
        events = apply(ctx, slot, fitting, batch)
    ctx.broadcast.publish(name, events, session)
    return fitting


def _ack(session: Session, results: list[OpResult]) -> None:
    level = min((r["achievedLevel"] for r in results), key=_LEVEL_ORDER.__getitem__)
    session.outbox.send(
        {
            "type": "OP_ACK",
            "payload": {
                "lastId": max(r["opId"] for r in results),
                "achievedLevel": level,
                "results": results,
            },
        }
    )


async def _ack_when_durable(
    session: Session, ops: list[Prepared], done: asyncio.Future[None]
) -> None:
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        groups: dict[int, list[Prepared]] = defaultdict(list)
        for p in ops:
            groups[p.timeout_ms].append(p)
        for timeout_ms in sorted(groups):
            remaining = timeout_ms / 1000 - (loop.time() - started)
            _ack(session, await _durable_results(groups[timeout_ms], done, remaining, timeout_ms))
    finally:
        session.ack_slots.release()


async def _durable_results(
    ops: list[Prepared], done: asyncio.Future[None], remaining_s: float, timeout_ms: int
) -> list[OpResult]:
    try:
        await asyncio.wait_for(asyncio.shield(done), max(remaining_s, 0.0))
    except TimeoutError:
        error = f"timed out after {timeout_ms} ms waiting for PERSISTED; achieved APPLIED"
    except StorageError as exc:
        error = f"503 {exc.message}; the write is applied in memory and persisting is retried"
    else:
        return [success(p.op["id"], "PERSISTED") for p in ops]
    return [
        {"opId": p.op["id"], "success": False, "achievedLevel": "APPLIED", "error": error}
        for p in ops
    ]
