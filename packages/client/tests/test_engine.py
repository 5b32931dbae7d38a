"""The sans-IO engine: sync walks, resets, GC, drift refusal and frame validation.

No sockets: a tiny in-test server made of core CRDTs answers the engine's messages
(``SansServer``), and every frame goes through the real codec in both directions.
"""

from __future__ import annotations

import msgpack
import pytest

from topgun_client import ClientSettings
from topgun_client._engine import SYNC_NAMESPACE, ClientEngine
from topgun_client._replica import Replica
from topgun_core.errors import ClockDriftError, ProtocolError, ValidationError
from topgun_core.hlc import HLC, Timestamp
from topgun_core.lww_map import LWWMap, LWWRecord
from topgun_core.or_map import ORMap, ORRecord
from topgun_core.protocol import (
    SERVER_MESSAGE_TYPES,
    decode_client,
    encode,
    example_messages,
    pack_batch,
)
from topgun_core.testing import FakeClock

NOW = 1_700_000_000_000


class SansServer:
    """Answers sync messages from core maps, like the real server does."""

    def __init__(self, clock: FakeClock) -> None:
        self.hlc = HLC("server", clock=clock)
        self.maps: dict[str, LWWMap | ORMap] = {}
        self.seen: list[dict] = []

    def answer(self, message: dict) -> list[dict]:
        self.seen.append(message)
        kind = message["type"]
        if kind in ("SYNC_INIT", "ORMAP_SYNC_INIT"):
            target = self.maps[message["mapName"]]
            prefix = "ORMAP_" if kind == "ORMAP_SYNC_INIT" else ""
            root = {"mapName": message["mapName"], "rootHash": target.merkle.root_hash,
                    "timestamp": self.hlc.now().to_wire()}  # fmt: skip
            out = [{"type": f"{prefix}SYNC_RESP_ROOT", "payload": root}]
            if prefix and target.merkle.root_hash != message["rootHash"]:
                out += self.bucket(message["mapName"], "")
            return out
        if kind in ("MERKLE_REQ_BUCKET", "ORMAP_MERKLE_REQ_BUCKET"):
            return self.bucket(message["payload"]["mapName"], message["payload"]["path"])
        if kind == "ORMAP_PUSH_DIFF":
            target = self.maps[message["payload"]["mapName"]]
            for entry in message["payload"]["entries"]:
                records = [ORRecord.from_wire(r) for r in entry["records"]]
                target.merge_key(entry["key"], records, entry["tombstones"])
        return []

    def bucket(self, name: str, path: str) -> list[dict]:
        target = self.maps[name]
        prefix = "ORMAP_" if isinstance(target, ORMap) else ""
        if len(path) < target.merkle.depth:
            buckets = {"mapName": name, "path": path, "buckets": target.merkle.buckets(path)}
            return [{"type": f"{prefix}SYNC_RESP_BUCKETS", "payload": buckets}]
        keys = target.merkle.keys_in_bucket(path)
        if isinstance(target, LWWMap):
            records = [{"key": k, "record": target.get_record(k).to_wire()} for k in keys]
            return [
                {
                    "type": "SYNC_RESP_LEAF",
                    "payload": {"mapName": name, "path": path, "records": records},
                }
            ]
        tombs = target.tombstones_for(keys)
        entries = [
            {"key": k, "records": [r.to_wire() for r in target.records(k)], "tombstones": tombs[k]}
            for k in keys
        ]
        return [
            {
                "type": "ORMAP_SYNC_RESP_LEAF",
                "payload": {"mapName": name, "path": path, "entries": entries},
            }
        ]


@pytest.fixture
def clock():
    return FakeClock(NOW)


@pytest.fixture
def replica(clock):
    return Replica("client-1", clock, ClientSettings(), lambda: None)


@pytest.fixture
def engine(replica):
    return ClientEngine(replica, ClientSettings(), {})


def start(engine: ClientEngine) -> list[dict]:
    """Connect, authenticate, send an empty op log: returns the sync-init messages."""
    engine.connected()
    ack = {
        "type": "AUTH_ACK",
        "protocolVersion": 1,
        "nodeId": "server",
        "serverTime": 1,
        "features": [],
    }
    assert engine.receive_frame(encode(ack)).auth_ack is not None
    request = engine.want_ops()
    return engine.ops_loaded(request, []).sends


def pump(engine: ClientEngine, server: SansServer, sends: list[dict]) -> list:
    """Exchange messages until neither side has anything to say; return reported errors."""
    errors = []
    queue = list(sends)
    while queue:
        message = decode_client(encode(queue.pop(0)))  # every client frame is valid on the wire
        for reply in server.answer(message):
            out = engine.receive_frame(encode(reply))
            errors += out.errors
            queue += out.sends
    return errors


def test_lww_walk_requests_only_differing_buckets(engine, replica, clock):
    server = SansServer(clock)
    remote = server.maps["users"] = LWWMap(server.hlc)
    local, _ = replica.lww("users")
    for i in range(200):
        record = LWWRecord(i, Timestamp(NOW - 1000, i, "server"))
        remote.merge(f"k{i}", record)
        local.merge(f"k{i}", record)
    remote.merge("k7", LWWRecord("newer", Timestamp(NOW, 0, "server")))
    remote.merge("fresh", LWWRecord("only-server", Timestamp(NOW, 1, "server")))
    assert pump(engine, server, start(engine)) == []
    assert local.get("k7") == "newer"
    assert local.get("fresh") == "only-server"
    assert local.merkle.root_hash == remote.merkle.root_hash
    leaves = {remote.merkle.leaf_path(k) for k in ("k7", "fresh")}
    requested = [m["payload"]["path"] for m in server.seen if m["type"] == "MERKLE_REQ_BUCKET"]
    assert {p for p in requested if len(p) == 3} == leaves
    assert len(requested) <= 1 + 2 * len(leaves) + len(leaves)  # root, <= 2 inner per leaf, leaves
    assert engine.synced
    assert engine.last_sync["users"] >= NOW


def test_maps_in_step_need_one_round_trip(engine, replica, clock):
    server = SansServer(clock)
    server.maps["users"] = LWWMap(server.hlc)
    replica.lww("users")
    sends = start(engine)
    assert [m["type"] for m in sends] == ["SYNC_INIT"]
    pump(engine, server, sends)
    assert [m["type"] for m in server.seen] == ["SYNC_INIT"]
    assert engine.synced
    commit = replica.pending.take()
    assert (
        SYNC_NAMESPACE,
        "users",
        str(engine.last_sync["users"]).encode(),
    ) in commit.batch.kv_puts


def test_or_sync_is_two_way_and_pushes_local_only_subtrees(engine, replica, clock):
    server = SansServer(clock)
    remote = server.maps["tags"] = ORMap(server.hlc)
    local, _ = replica.or_map("tags")
    shared = remote.add("shared", "s")
    local.apply("shared", shared)
    remote.add("server-only", "a")
    for i in range(30):
        local.add(f"client-only-{i}", i)
    removed = local.add("gone", "x")
    remote.apply("gone", removed)
    local.remove("gone", "x")
    assert pump(engine, server, start(engine)) == []
    assert local.get("server-only") == ["a"]
    assert all(remote.get(f"client-only-{i}") == [i] for i in range(30))
    assert remote.get("gone") == []  # the tombstone travelled with the push
    assert local.merkle.root_hash == remote.merkle.root_hash
    assert engine.synced


def test_sync_reset_clears_the_map_and_starts_over(engine, replica, clock):
    engine.last_sync["users"] = 5
    local, _ = replica.lww("users")
    local.merge("stale", LWWRecord("old", Timestamp(NOW - 10, 0, "x")))
    sends = start(engine)
    assert sends[0]["lastSyncTimestamp"] == 5
    out = engine.receive_frame(
        encode({"type": "SYNC_RESET_REQUIRED", "payload": {"mapName": "users"}})
    )
    assert local.get("stale") is None
    assert len(local) == 0
    assert out.sends == [{"type": "SYNC_INIT", "mapName": "users"}]
    commit = replica.pending.take()
    assert commit.clears == ["users"]
    assert (SYNC_NAMESPACE, "users") in commit.batch.kv_deletes


def test_gc_prune_drops_old_tombstones_here_and_in_the_store(engine, replica):
    lww, _ = replica.lww("users")
    lww.merge("old", LWWRecord(None, Timestamp(NOW - 100, 0, "x")))
    lww.merge("new", LWWRecord(None, Timestamp(NOW, 0, "x")))
    orm, _ = replica.or_map("tags")
    orm.apply_tombstone(str(Timestamp(NOW - 100, 0, "x")), "k")
    replica.pending.take()
    horizon = Timestamp(NOW - 50, 0, "server").to_wire()
    engine.receive_frame(encode({"type": "GC_PRUNE", "payload": {"olderThan": horizon}}))
    assert lww.get_record("old") is None
    assert lww.get_record("new") is not None
    assert not orm.tombstones
    commit = replica.pending.take()
    assert commit.batch.lww_deletes == [("users", "old")]
    assert commit.batch.or_tombstone_deletes == [("tags", str(Timestamp(NOW - 100, 0, "x")))]


def _event(key: str, millis: int, value: object = "v") -> dict:
    record = {"value": value, "timestamp": {"millis": millis, "counter": 0, "nodeId": "server"}}
    return {"mapName": "users", "key": key, "eventType": "UPDATED", "record": record}


def test_an_event_beyond_the_drift_bound_is_refused_and_reported(engine, replica):
    local, _ = replica.lww("users")
    far = NOW + ClientSettings().max_drift_ms + 1
    out = engine.receive_frame(encode({"type": "SERVER_EVENT", "payload": _event("k", far)}))
    assert len(out.errors) == 1
    assert isinstance(out.errors[0], ClockDriftError)
    assert "'users'" in out.errors[0].message
    assert "'k'" in out.errors[0].message
    assert local.get("k") is None
    assert out.changes == []
    assert replica.hlc.last.millis < far  # the clock did not move either
    batch = {
        "type": "SERVER_BATCH_EVENT",
        "payload": {"events": [_event("a", far), _event("b", NOW)]},
    }
    out = engine.receive_frame(encode(batch))
    assert len(out.errors) == 1
    assert local.get("a") is None
    assert local.get("b") == "v"
    assert [c.key for c in out.changes] == ["b"]


def test_a_leaf_record_beyond_the_drift_bound_is_refused_and_the_rest_merged(
    engine, replica, clock
):
    server = SansServer(clock)
    remote = server.maps["users"] = LWWMap(HLC("server", clock=clock, strict=False))
    replica.lww("users")
    remote.merge("ok", LWWRecord(1, Timestamp(NOW, 0, "server")))
    remote.merge("evil", LWWRecord(2, Timestamp(NOW + 3_600_000, 0, "server")))
    errors = pump(engine, server, start(engine))
    assert [type(e) for e in errors] == [ClockDriftError]
    local = replica.get("users")
    assert local.get("ok") == 1
    assert local.get("evil") is None


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"\xc1",
        msgpack.packb([1, 2, 3]),
        msgpack.packb({"type": "NOPE"}),
        msgpack.packb({"type": "OP_ACK", "payload": {"lastId": "one"}}),
        msgpack.packb({"type": "SERVER_EVENT", "payload": {"mapName": "users"}}),
        msgpack.packb({"type": "BATCH", "count": 1, "data": b"\x01\x00\x00\x00\x05"}),
        msgpack.packb({"type": "BATCH", "count": 1, "data": pack_batch([b"\xc1"])}),
        msgpack.packb({"type": "AUTH"}),  # a client message is not a server message
    ],
)
def test_invalid_frames_are_reported_and_change_nothing(engine, replica, frame):
    local, _ = replica.lww("users")
    out = engine.receive_frame(frame)
    assert len(out.errors) == 1
    assert isinstance(out.errors[0], ProtocolError)
    assert out.sends == []
    assert out.changes == []
    assert len(local) == 0
    # ...and the engine keeps working.
    out = engine.receive_frame(encode({"type": "SERVER_EVENT", "payload": _event("k", NOW)}))
    assert out.errors == []
    assert local.get("k") == "v"


def test_batch_envelopes_are_unpacked_and_nested_batches_refused(engine, replica):
    local, _ = replica.lww("users")
    inner = [encode({"type": "SERVER_EVENT", "payload": _event(k, NOW)}) for k in ("a", "b")]
    nested = encode({"type": "BATCH", "count": 1, "data": pack_batch([inner[0]])})
    frame = encode({"type": "BATCH", "count": 3, "data": pack_batch([*inner, nested])})
    out = engine.receive_frame(frame)
    assert local.get("a") == "v"
    assert local.get("b") == "v"
    assert len(out.errors) == 1
    assert isinstance(out.errors[0], ValidationError)


def test_every_server_message_type_is_handled(engine, replica):
    replica.lww("users")
    examples = example_messages()
    for name in SERVER_MESSAGE_TYPES:
        message = examples[name]
        out = engine.receive_frame(encode(message))
        assert all(not isinstance(e, ProtocolError) or name == "BATCH" for e in out.errors), name


def test_pong_server_time_never_reaches_the_clock(engine, replica):
    before = replica.hlc.last
    engine.receive_frame(encode({"type": "PONG", "timestamp": 1, "serverTime": NOW + 10**9}))
    assert replica.hlc.last == before


def test_an_error_naming_a_map_ends_its_sync_without_a_bookmark(engine, replica):
    replica.lww("secret")
    replica.lww("open")
    start(engine)
    error = {"code": 403, "message": "READ on 'secret' is not allowed",
             "details": {"mapName": "secret"}}  # fmt: skip
    out = engine.receive_frame(encode({"type": "ERROR", "payload": error}))
    assert out.errors[0].code == 403
    assert not engine.synced  # "open" still syncing
    root = {
        "mapName": "open",
        "rootHash": 0,
        "timestamp": {"millis": NOW, "counter": 0, "nodeId": "s"},
    }
    engine.receive_frame(encode({"type": "SYNC_RESP_ROOT", "payload": root}))
    assert engine.synced
    assert "secret" not in engine.last_sync
