"""LWW Merkle pull sync: SYNC_INIT and MERKLE_REQ_BUCKET.

SYNC_INIT (READ permission) makes the connection a holder of the map — it will
receive the map's SERVER_EVENTs — and answers SYNC_RESP_ROOT, or
SYNC_RESET_REQUIRED when the client's ``lastSyncTimestamp`` is older than the
tombstone GC horizon. MERKLE_REQ_BUCKET walks down: above leaf depth it answers
the child hashes (SYNC_RESP_BUCKETS), at leaf depth every record of the leaf,
tombstones included, in chunks (SYNC_RESP_LEAF, possibly several for one path).
"""

from __future__ import annotations

from topgun_core.errors import ValidationError
from topgun_core.protocol import MerkleReqBucketMessage, SyncInitMessage
from topgun_server.context import ServerContext
from topgun_server.handlers.replies import require
from topgun_server.services.sync import lww_leaf_chunks
from topgun_server.ws.session import Session

__all__ = ["handle_merkle_req_bucket", "handle_sync_init"]


async def handle_sync_init(ctx: ServerContext, session: Session, message: SyncInitMessage) -> None:
    """Hold the map and answer its root (or require a reset)."""
    name = message["mapName"]
    require(ctx, session, name, "READ")
    slot = await ctx.maps.acquire(name, "lww")
    fields = ctx.policies.readable_fields(session.require_principal(), name)
    ctx.broadcast.hold(session, name, fields)
    if ctx.gc.needs_reset(message.get("lastSyncTimestamp")):
        session.outbox.send({"type": "SYNC_RESET_REQUIRED", "payload": {"mapName": name}})
        return
    session.outbox.send(
        {
            "type": "SYNC_RESP_ROOT",
            "payload": {
                "mapName": name,
                "rootHash": slot.require_lww().merkle.root_hash,
                "timestamp": ctx.hlc.now().to_wire(),
            },
        }
    )


async def handle_merkle_req_bucket(
    ctx: ServerContext, session: Session, message: MerkleReqBucketMessage
) -> None:
    """Child bucket hashes, or the leaf's records in chunks."""
    name = message["payload"]["mapName"]
    path = message["payload"]["path"]
    require(ctx, session, name, "READ")
    lww = (await ctx.maps.acquire(name, "lww")).require_lww()
    depth = lww.merkle.depth
    if len(path) > depth:
        raise ValidationError("payload.path", f"deeper than the Merkle depth {depth}")
    if len(path) < depth:
        session.outbox.send(
            {
                "type": "SYNC_RESP_BUCKETS",
                "payload": {"mapName": name, "path": path, "buckets": lww.merkle.buckets(path)},
            }
        )
        return
    fields = ctx.policies.readable_fields(session.require_principal(), name)
    now_ms = ctx.clock.now_ms()
    for records in lww_leaf_chunks(lww, path, now_ms, fields, ctx.settings.sync_leaf_records_max):
        session.outbox.send(
            {
                "type": "SYNC_RESP_LEAF",
                "payload": {"mapName": name, "path": path, "records": records},
            }
        )
