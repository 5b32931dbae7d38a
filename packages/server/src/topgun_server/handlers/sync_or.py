"""OR-map two-way sync: ORMAP_SYNC_INIT, ORMAP_MERKLE_REQ_BUCKET, _DIFF_REQUEST, _PUSH_DIFF.

ORMAP_SYNC_INIT (READ) makes the connection a holder and answers the server's
root; when it differs from the client's, the server's top-level buckets follow
(ORMAP_SYNC_RESP_BUCKETS for path ""), so the client can tell which subtrees
differ and which exist only on its side. Walking down works as for LWW maps; a
leaf answers every key's records *and* tombstones (ORMAP_SYNC_RESP_LEAF, chunked).
ORMAP_DIFF_REQUEST answers named keys. ORMAP_PUSH_DIFF is the client's half: its
records (PUT permission) and tombstones (REMOVE permission) for keys that differ,
drift-checked as a whole (one drifting record refuses the push: nothing is
applied), merged, persisted and broadcast to the other holders like any write.
"""

from __future__ import annotations

from topgun_core.errors import ValidationError
from topgun_core.hlc import Timestamp
from topgun_core.or_map import ORMap, ORRecord
from topgun_core.protocol import (
    ORMapDiffRequestMessage,
    ORMapMerkleReqBucketMessage,
    ORMapPushDiffMessage,
    ORMapSyncInitMessage,
    ServerEvent,
)
from topgun_core.storage import WriteBatch
from topgun_server.context import ServerContext
from topgun_server.handlers.replies import require
from topgun_server.services.sync import or_leaf_chunks
from topgun_server.ws.session import Session

__all__ = [
    "handle_ormap_diff_request",
    "handle_ormap_merkle_req_bucket",
    "handle_ormap_push_diff",
    "handle_ormap_sync_init",
]


async def handle_ormap_sync_init(
    ctx: ServerContext, session: Session, message: ORMapSyncInitMessage
) -> None:
    """Hold the map; answer the root, and the top-level buckets when the roots differ."""
    name = message["mapName"]
    require(ctx, session, name, "READ")
    ormap = (await ctx.maps.acquire(name, "or")).require_or()
    ctx.broadcast.hold(
        session, name, ctx.policies.readable_fields(session.require_principal(), name)
    )
    if ctx.gc.needs_reset(message.get("lastSyncTimestamp")):
        session.outbox.send({"type": "SYNC_RESET_REQUIRED", "payload": {"mapName": name}})
        return
    root = ormap.merkle.root_hash
    session.outbox.send(
        {
            "type": "ORMAP_SYNC_RESP_ROOT",
            "payload": {"mapName": name, "rootHash": root, "timestamp": ctx.hlc.now().to_wire()},
        }
    )
    if root != message["rootHash"]:
        session.outbox.send(
            {
                "type": "ORMAP_SYNC_RESP_BUCKETS",
                "payload": {"mapName": name, "path": "", "buckets": ormap.merkle.buckets("")},
            }
        )


async def handle_ormap_merkle_req_bucket(
    ctx: ServerContext, session: Session, message: ORMapMerkleReqBucketMessage
) -> None:
    """Child bucket hashes, or the leaf's entries in chunks."""
    name = message["payload"]["mapName"]
    path = message["payload"]["path"]
    require(ctx, session, name, "READ")
    ormap = (await ctx.maps.acquire(name, "or")).require_or()
    depth = ormap.merkle.depth
    if len(path) > depth:
        raise ValidationError("payload.path", f"deeper than the Merkle depth {depth}")
    if len(path) < depth:
        session.outbox.send(
            {
                "type": "ORMAP_SYNC_RESP_BUCKETS",
                "payload": {"mapName": name, "path": path, "buckets": ormap.merkle.buckets(path)},
            }
        )
        return
    fields = ctx.policies.readable_fields(session.require_principal(), name)
    keys = ormap.merkle.keys_in_bucket(path)
    for entries in or_leaf_chunks(ormap, keys, fields, ctx.settings.sync_leaf_records_max):
        session.outbox.send(
            {
                "type": "ORMAP_SYNC_RESP_LEAF",
                "payload": {"mapName": name, "path": path, "entries": entries},
            }
        )


async def handle_ormap_diff_request(
    ctx: ServerContext, session: Session, message: ORMapDiffRequestMessage
) -> None:
    """The records and tombstones of the keys asked for."""
    name = message["payload"]["mapName"]
    require(ctx, session, name, "READ")
    ormap = (await ctx.maps.acquire(name, "or")).require_or()
    fields = ctx.policies.readable_fields(session.require_principal(), name)
    keys = message["payload"]["keys"]
    for entries in or_leaf_chunks(ormap, keys, fields, ctx.settings.sync_leaf_records_max):
        session.outbox.send(
            {"type": "ORMAP_DIFF_RESPONSE", "payload": {"mapName": name, "entries": entries}}
        )


async def handle_ormap_push_diff(
    ctx: ServerContext, session: Session, message: ORMapPushDiffMessage
) -> None:
    """Merge the client's entries: all validated first, then applied, persisted, broadcast."""
    name = message["payload"]["mapName"]
    entries = message["payload"]["entries"]
    parsed: list[tuple[str, list[ORRecord], list[str]]] = []
    for index, entry in enumerate(entries):
        records = [ORRecord.from_wire(wire) for wire in entry["records"]]
        for record in records:
            Timestamp.parse(record.tag)
            ctx.drift.check_drift(record.timestamp)
        for tag in entry["tombstones"]:
            _check_tag(tag, index)
        parsed.append((entry["key"], records, entry["tombstones"]))
    if any(records for _, records, _ in parsed):
        require(ctx, session, name, "PUT")
    if any(tombstones for _, _, tombstones in parsed):
        require(ctx, session, name, "REMOVE")
    if not ctx.lifecycle.accepting_writes:
        raise ValidationError("", "the server is shutting down; push again after reconnecting")
    slot = await ctx.maps.acquire(name, "or")
    batch = WriteBatch(map_kinds={name: "or"})
    events = _merge_entries(ctx, slot.name, slot.require_or(), parsed, batch)
    ctx.broadcast.publish(name, events, session)
    if len(batch) > len(batch.map_kinds):  # something changed beyond the kind entry
        await ctx.persistence.submit_applied(batch)


def _check_tag(tag: str, index: int) -> None:
    try:
        Timestamp.parse(tag)
    except ValidationError:
        raise ValidationError(
            f"payload.entries.{index}.tombstones", "not a timestamp tag"
        ) from None


def _merge_entries(
    ctx: ServerContext,
    name: str,
    ormap: ORMap,
    parsed: list[tuple[str, list[ORRecord], list[str]]],
    batch: WriteBatch,
) -> list[ServerEvent]:
    events: list[ServerEvent] = []
    for key, records, tombstones in parsed:
        for tag in tombstones:
            if ormap.apply_tombstone(tag, key):
                batch.or_tombstones.append((name, key, tag))
                batch.or_deletes.append((name, tag))
                events.append({"mapName": name, "key": key, "eventType": "OR_REMOVE", "orTag": tag})
        for record in records:
            if ormap.apply(key, record):
                batch.or_upserts.append((name, key, record))
                events.append(
                    {
                        "mapName": name,
                        "key": key,
                        "eventType": "OR_ADD",
                        "orRecord": record.to_wire(),
                    }
                )
    return events
