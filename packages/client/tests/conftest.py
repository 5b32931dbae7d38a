"""Fixtures for the client tests: a small protocol-speaking fake server.

``FakeServer`` speaks just enough of PROTOCOL.md to exercise the client without the
real server: handshake (accepting or refusing tokens), PING/PONG, CLIENT_OP /
OP_BATCH applied to core CRDTs and acknowledged per op, LWW and OR Merkle sync, and
broadcast of applied writes to the other connections holding the map. Tests steer
it through plain attributes (``accept``, ``ack``, ``after_auth`` frames to inject,
``reset_maps``) and read what it saw in ``received``. The end-to-end tests use the
real server instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from topgun_core.hlc import HLC, Timestamp
from topgun_core.lww_map import LWWMap, LWWRecord
from topgun_core.or_map import ORMap, ORRecord
from topgun_core.protocol import PROTOCOL_VERSION, decode_client, encode


class FakeServer:
    """A single-node TopGun server in miniature (see the module docstring)."""

    def __init__(self) -> None:
        self.hlc = HLC("server")
        self.maps: dict[str, LWWMap | ORMap] = {}
        self.received: list[dict] = []
        self.accept: Callable[[str], bool] = lambda token: True
        self.ack = True
        self.duplicate_acks = False
        self.reject: Callable[[dict], tuple[int, str] | None] = lambda op: None
        self.after_auth: list[bytes] = []
        self.reset_maps: set[str] = set()
        self.auth_count = 0
        self.connections: dict[ServerConnection, set[str]] = {}
        self.url = ""
        self.changed = asyncio.Event()
        self.client_root = 0
        self.pong = True
        self.close_after_auth: tuple[int, str] | None = None

    def types(self) -> list[str]:
        return [m["type"] for m in self.received]

    def lww(self, name: str) -> LWWMap:
        found = self.maps.setdefault(name, LWWMap(self.hlc))
        assert isinstance(found, LWWMap)
        return found

    def ormap(self, name: str) -> ORMap:
        found = self.maps.setdefault(name, ORMap(self.hlc))
        assert isinstance(found, ORMap)
        return found

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

    async def send_all(self, message: dict) -> None:
        for ws in list(self.connections):
            await ws.send(encode(message))

    async def handler(self, ws: ServerConnection) -> None:
        self.connections[ws] = set()
        try:
            await ws.send(encode({"type": "AUTH_REQUIRED"}))
            async for frame in ws:
                message = decode_client(frame)
                self.received.append(message)
                await self.dispatch(ws, message)
                self.changed.set()
        except ConnectionClosed:
            pass
        finally:
            self.connections.pop(ws, None)
            self.changed.set()

    async def dispatch(self, ws: ServerConnection, message: dict) -> None:
        kind = message["type"]
        if kind == "AUTH":
            self.auth_count += 1
            if not self.accept(message["token"]):
                await ws.send(encode({"type": "AUTH_FAIL", "error": "bad token"}))
                await ws.close(4001, "unauthorized")
                return
            ack = {"type": "AUTH_ACK", "protocolVersion": PROTOCOL_VERSION, "nodeId": "server",
                   "serverTime": 1, "features": []}  # fmt: skip
            await ws.send(encode(ack))
            for frame in self.after_auth:
                await ws.send(frame)
            if self.close_after_auth is not None:
                await ws.close(*self.close_after_auth)
        elif kind == "PING" and self.pong:
            await ws.send(
                encode({"type": "PONG", "timestamp": message["timestamp"], "serverTime": 5})
            )
        elif kind in ("OP_BATCH", "CLIENT_OP"):
            ops = message["payload"]["ops"] if kind == "OP_BATCH" else [message["payload"]]
            await self.apply_ops(ws, ops)
        elif kind == "SYNC_INIT":
            await self.sync_init(ws, message["mapName"], "lww")
        elif kind == "ORMAP_SYNC_INIT":
            self.client_root = message["rootHash"]
            await self.sync_init(ws, message["mapName"], "or")
        elif kind in ("MERKLE_REQ_BUCKET", "ORMAP_MERKLE_REQ_BUCKET"):
            await self.bucket(ws, message["payload"]["mapName"], message["payload"]["path"])
        elif kind == "ORMAP_PUSH_DIFF":
            target = self.ormap(message["payload"]["mapName"])
            for entry in message["payload"]["entries"]:
                records = [ORRecord.from_wire(r) for r in entry["records"]]
                target.merge_key(entry["key"], records, entry["tombstones"])

    async def apply_ops(self, ws: ServerConnection, ops: list[dict]) -> None:
        results = []
        events = []
        for op in ops:
            refusal = self.reject(op)
            if refusal is not None:
                code, reason = refusal
                payload = {"opId": op["id"], "reason": reason, "code": code}
                await ws.send(encode({"type": "OP_REJECTED", "payload": payload}))
                continue
            name, key = op["mapName"], op["key"]
            if op["opType"] in ("PUT", "REMOVE"):
                self.lww(name).merge(key, LWWRecord.from_wire(op["record"]))
                events.append(
                    {"mapName": name, "key": key, "eventType": "UPDATED", "record": op["record"]}
                )
            elif op["opType"] == "OR_ADD":
                self.ormap(name).apply(key, ORRecord.from_wire(op["orRecord"]))
                events.append(
                    {"mapName": name, "key": key, "eventType": "OR_ADD", "orRecord": op["orRecord"]}
                )
            else:
                self.ormap(name).apply_tombstone(op["orTag"], key)
                events.append(
                    {"mapName": name, "key": key, "eventType": "OR_REMOVE", "orTag": op["orTag"]}
                )
            level = op.get("writeConcern", "MEMORY")
            results.append({"opId": op["id"], "success": True, "achievedLevel": level})
        if self.ack and results:
            payload = {"lastId": results[-1]["opId"], "achievedLevel": "MEMORY", "results": results}
            ack = {"type": "OP_ACK", "payload": payload}
            await ws.send(encode(ack))
            if self.duplicate_acks:
                await ws.send(encode(ack))
        for other, held in list(self.connections.items()):
            mine = [e for e in events if e["mapName"] in held]
            if other is not ws and mine:
                await other.send(
                    encode({"type": "SERVER_BATCH_EVENT", "payload": {"events": mine}})
                )

    async def sync_init(self, ws: ServerConnection, name: str, kind: str) -> None:
        self.connections[ws].add(name)
        if name in self.reset_maps:
            self.reset_maps.discard(name)
            await ws.send(encode({"type": "SYNC_RESET_REQUIRED", "payload": {"mapName": name}}))
            return
        target = self.lww(name) if kind == "lww" else self.ormap(name)
        prefix = "" if kind == "lww" else "ORMAP_"
        payload = {"mapName": name, "rootHash": target.merkle.root_hash,
                   "timestamp": self.hlc.now().to_wire()}  # fmt: skip
        await ws.send(encode({"type": f"{prefix}SYNC_RESP_ROOT", "payload": payload}))
        if kind == "or" and target.merkle.root_hash != self.client_root:
            await self.bucket(ws, name, "")

    async def bucket(self, ws: ServerConnection, name: str, path: str) -> None:
        target = self.maps[name]
        prefix = "" if isinstance(target, LWWMap) else "ORMAP_"
        if len(path) < target.merkle.depth:
            payload = {"mapName": name, "path": path, "buckets": target.merkle.buckets(path)}
            await ws.send(encode({"type": f"{prefix}SYNC_RESP_BUCKETS", "payload": payload}))
            return
        keys = target.merkle.keys_in_bucket(path)
        if isinstance(target, LWWMap):
            records = [{"key": k, "record": target.get_record(k).to_wire()} for k in keys]
            payload = {"mapName": name, "path": path, "records": records}
            await ws.send(encode({"type": "SYNC_RESP_LEAF", "payload": payload}))
            return
        tombs = target.tombstones_for(keys)
        entries = [
            {"key": k, "records": [r.to_wire() for r in target.records(k)], "tombstones": tombs[k]}
            for k in keys
        ]
        payload = {"mapName": name, "path": path, "entries": entries}
        await ws.send(encode({"type": "ORMAP_SYNC_RESP_LEAF", "payload": payload}))


@pytest.fixture
async def fake_server() -> AsyncIterator[FakeServer]:
    server = FakeServer()
    async with serve(server.handler, "127.0.0.1", 0, compression=None) as ws_server:
        port = next(iter(ws_server.sockets)).getsockname()[1]
        server.url = f"ws://127.0.0.1:{port}/ws"
        yield server


def far_future_timestamp(node: str = "server") -> Timestamp:
    """A timestamp an hour ahead of now (beyond any sane drift bound)."""
    import time

    return Timestamp(time.time_ns() // 1_000_000 + 3_600_000, 0, node)


@pytest.fixture
def threaded_fake_server() -> Iterator[FakeServer]:
    """A FakeServer on its own thread and loop, for synchronous tests (the sync facade)."""
    import threading

    ready = threading.Event()
    holder: dict[str, object] = {}

    async def main() -> None:
        server = FakeServer()
        stop = asyncio.Event()
        holder["server"], holder["loop"], holder["stop"] = server, asyncio.get_running_loop(), stop
        async with serve(server.handler, "127.0.0.1", 0, compression=None) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            server.url = f"ws://127.0.0.1:{port}/ws"
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield holder["server"]
    finally:
        holder["loop"].call_soon_threadsafe(holder["stop"].set)
        thread.join(10)
