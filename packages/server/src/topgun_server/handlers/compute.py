"""Entry processors and conflict resolvers (SEMANTICS.md §11).

ENTRY_PROCESS / ENTRY_PROCESS_BATCH run a processor atomically on a key of an LWW
map (READ and PUT on the map; REMOVE too when the outcome deletes). Atomic means:
processors on one key run one at a time (a per-key lock), and a plain write that
lands while user code runs in the sandbox is detected (the key's record changed)
and the processor runs again on the new value (at most
:data:`PROCESSOR_ATTEMPTS_MAX` times, then 409). A changed outcome is written like
any write — with a fresh server timestamp, through the map's resolvers if it has
any, persisted, journaled, and broadcast to **every** holder including the caller
(the client does not write it again). Every request is answered exactly once:
``ENTRY_PROCESS_RESPONSE`` (or one ``ENTRY_PROCESS_BATCH_RESPONSE``), with
``success: false`` and the error text for any failure.

REGISTER_RESOLVER / UNREGISTER_RESOLVER (PUT on ``resolver:<map>``) and
LIST_RESOLVERS (READ on ``resolver:<map>``; all maps: whatever the caller may
read). Resolvers apply to LWW maps; a map known as OR is refused with 409.
"""

from __future__ import annotations

from topgun_core import protocol as p
from topgun_core.errors import ConflictError, LimitExceeded, TopGunError
from topgun_core.lww_map import LWWRecord
from topgun_core.processors import ProcessorOutcome, ProcessorRequest
from topgun_core.protocol import EntryProcessResult, ResolverInfo
from topgun_core.resolvers import ResolverSpec
from topgun_core.storage import WriteBatch
from topgun_server.context import ServerContext
from topgun_server.handlers.replies import require, send_error
from topgun_server.handlers.resolving import apply_resolved, lww_op
from topgun_server.handlers.routing import Route, route
from topgun_server.services.processors import BATCH_KEYS_MAX
from topgun_server.services.writes import Prepared, apply
from topgun_server.ws.session import Session

__all__ = ["COMPUTE_ROUTES", "PROCESSOR_ATTEMPTS_MAX"]

PROCESSOR_ATTEMPTS_MAX = 3
"""Runs of user code on one key before giving up on a key that keeps changing."""


async def handle_entry_process(
    ctx: ServerContext, session: Session, message: p.EntryProcessMessage
) -> None:
    """Run the processor on one key; one ENTRY_PROCESS_RESPONSE."""
    result = await _answer(ctx, session, message["mapName"], [message["key"]], message["processor"])
    session.outbox.send(
        {
            "type": "ENTRY_PROCESS_RESPONSE",
            "requestId": message["requestId"],
            **result[message["key"]],
        }
    )


async def handle_entry_process_batch(
    ctx: ServerContext, session: Session, message: p.EntryProcessBatchMessage
) -> None:
    """Run the processor on each key in turn; one ENTRY_PROCESS_BATCH_RESPONSE."""
    keys = list(dict.fromkeys(message["keys"]))
    if len(keys) > BATCH_KEYS_MAX:
        exc = LimitExceeded("processor_batch_keys_max", len(keys), BATCH_KEYS_MAX)
        results: dict[str, EntryProcessResult] = {
            key: {"success": False, "error": exc.message} for key in keys
        }
    else:
        results = await _answer(ctx, session, message["mapName"], keys, message["processor"])
    session.outbox.send(
        {
            "type": "ENTRY_PROCESS_BATCH_RESPONSE",
            "requestId": message["requestId"],
            "results": results,
        }
    )


async def _answer(
    ctx: ServerContext, session: Session, map_name: str, keys: list[str], wire: p.EntryProcessor
) -> dict[str, EntryProcessResult]:
    results: dict[str, EntryProcessResult] = {}
    try:
        request = ProcessorRequest.from_wire(wire)
        require(ctx, session, map_name, "READ")
        require(ctx, session, map_name, "PUT")
    except TopGunError as exc:
        return {key: {"success": False, "error": exc.message} for key in keys}
    for key in keys:
        try:
            outcome = await _process(ctx, session, map_name, key, request)
        except TopGunError as exc:
            results[key] = {"success": False, "error": exc.message}
            continue
        results[key] = {"success": True, "result": outcome.result, "newValue": outcome.value}
    return results


async def _process(
    ctx: ServerContext, session: Session, map_name: str, key: str, request: ProcessorRequest
) -> ProcessorOutcome:
    if not ctx.lifecycle.accepting_writes:
        raise ConflictError("the server is shutting down; retry on reconnect")
    if not request.is_builtin:
        ctx.processors.charge(session)
    async with ctx.processors.key_lock(map_name, key):
        for _ in range(PROCESSOR_ATTEMPTS_MAX):
            slot = await ctx.maps.acquire(map_name, "lww")
            before = slot.require_lww().get_record(key)
            outcome = await ctx.processors.outcome(request, slot.require_lww().get(key), key)
            slot = await ctx.maps.acquire(map_name, "lww")
            if slot.require_lww().get_record(key) is before:
                break
        else:
            raise ConflictError(f"key {key!r} kept changing while the processor ran; retry")
        if outcome.changed:
            if outcome.deletes:
                require(ctx, session, map_name, "REMOVE")
            await _write(ctx, session, map_name, key, outcome)
    return outcome


async def _write(
    ctx: ServerContext, session: Session, map_name: str, key: str, outcome: ProcessorOutcome
) -> None:
    slot = await ctx.maps.acquire(map_name, "lww")
    record = LWWRecord(outcome.value, ctx.hlc.now())
    prepared = Prepared(lww_op(0, map_name, key, record), "MEMORY", 0, lww=record)
    batch = WriteBatch()
    if ctx.resolvers.guards(map_name):
        resolved = await apply_resolved(ctx, session, slot, [prepared], batch)
        events = resolved.events
        if resolved.rejections:
            if len(batch):
                await ctx.persistence.submit_applied(batch)
            ctx.broadcast.publish(map_name, events, session)
            raise ConflictError(resolved.rejections[0].reason)
    else:
        events = apply(ctx, slot, [prepared], batch)
    ctx.broadcast.publish(map_name, events, None)  # the caller too: it does not write it again
    if len(batch):
        await ctx.persistence.submit_applied(batch)


# ---------------------------------------------------------------- resolvers


async def handle_register_resolver(
    ctx: ServerContext, session: Session, message: p.RegisterResolverMessage
) -> None:
    """Register (an admin's registration is persistent; anyone else's ends with the connection)."""
    map_name = message["mapName"]
    try:
        require(ctx, session, f"resolver:{map_name}", "PUT")
        ctx.maps.check_kind(map_name, "lww")
        principal = session.require_principal()
        spec = ResolverSpec.from_wire(
            message["resolver"],
            registered_by=session.id,
            persistent=principal.is_admin,
        )
        await ctx.resolvers.register(map_name, spec)
    except TopGunError as exc:
        _resolver_reply(session, "REGISTER_RESOLVER_RESPONSE", message["requestId"], exc)
        return
    _resolver_reply(session, "REGISTER_RESOLVER_RESPONSE", message["requestId"], None)


async def handle_unregister_resolver(
    ctx: ServerContext, session: Session, message: p.UnregisterResolverMessage
) -> None:
    """Remove a resolver (its registering connection or an admin)."""
    map_name = message["mapName"]
    try:
        require(ctx, session, f"resolver:{map_name}", "PUT")
        await ctx.resolvers.unregister(
            map_name,
            message["resolverName"],
            session.id,
            admin=session.require_principal().is_admin,
        )
    except TopGunError as exc:
        _resolver_reply(session, "UNREGISTER_RESOLVER_RESPONSE", message["requestId"], exc)
        return
    _resolver_reply(session, "UNREGISTER_RESOLVER_RESPONSE", message["requestId"], None)


def _resolver_reply(
    session: Session,
    kind: str,
    request_id: str,
    error: TopGunError | None,
) -> None:
    if kind == "REGISTER_RESOLVER_RESPONSE":
        if error is None:
            session.outbox.send(
                {"type": "REGISTER_RESOLVER_RESPONSE", "requestId": request_id, "success": True}
            )
        else:
            session.outbox.send(
                {
                    "type": "REGISTER_RESOLVER_RESPONSE",
                    "requestId": request_id,
                    "success": False,
                    "error": error.message,
                }
            )
    elif error is None:
        session.outbox.send(
            {"type": "UNREGISTER_RESOLVER_RESPONSE", "requestId": request_id, "success": True}
        )
    else:
        session.outbox.send(
            {
                "type": "UNREGISTER_RESOLVER_RESPONSE",
                "requestId": request_id,
                "success": False,
                "error": error.message,
            }
        )


async def handle_list_resolvers(
    ctx: ServerContext, session: Session, message: p.ListResolversMessage
) -> None:
    """The resolvers of one map, or of every map the caller may read resolvers of."""
    map_name = message.get("mapName")
    request_id = message["requestId"]
    principal = session.require_principal()
    try:
        if map_name is not None:
            require(ctx, session, f"resolver:{map_name}", "READ")
    except TopGunError as exc:
        send_error(session, exc.code, exc.message, {"requestId": request_id})
        return
    infos: list[ResolverInfo] = [
        {
            "mapName": info["mapName"],
            "name": info["name"],
            "priority": info["priority"],
            "keyPattern": info["keyPattern"],
        }
        for info in ctx.resolvers.infos(map_name)
        if ctx.policies.allowed(principal, f"resolver:{info['mapName']}", "READ")
    ]
    session.outbox.send(
        {"type": "LIST_RESOLVERS_RESPONSE", "requestId": request_id, "resolvers": infos}
    )


COMPUTE_ROUTES: tuple[Route, ...] = (
    route(p.EntryProcessMessage, handle_entry_process),
    route(p.EntryProcessBatchMessage, handle_entry_process_batch),
    route(p.RegisterResolverMessage, handle_register_resolver),
    route(p.UnregisterResolverMessage, handle_unregister_resolver),
    route(p.ListResolversMessage, handle_list_resolvers),
)
