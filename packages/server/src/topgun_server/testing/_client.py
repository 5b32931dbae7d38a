"""``ProtocolClient``: a raw wire-protocol client for tests and load generators.

It speaks msgpack frames over the ``websockets`` library — no SDK logic — so a
test sees exactly what any client sees. Received frames are validated with the
core codec and ``BATCH`` envelopes are unpacked into the inbox. ``expect`` waits
(with a timeout, never a sleep) for a message of given types; ``closed`` waits
for the server's close and returns its code and reason.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping

import msgpack  # type: ignore[import-untyped]  # ships no type information
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from topgun_core.hashing import combine_hashes, merkle_item_hash
from topgun_core.protocol import KeyedRecord, ServerMessage, decode_server, unpack_batch

__all__ = ["DEFAULT_TIMEOUT_S", "ProtocolClient"]

DEFAULT_TIMEOUT_S = 10.0
_MAX_SIZE = 256 * 1024 * 1024


class ProtocolClient:
    """One raw WebSocket connection speaking the TopGun wire protocol."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.inbox: deque[ServerMessage] = deque()
        self.batches = 0
        """How many BATCH envelopes arrived (coalescing is observable)."""

    @classmethod
    async def connect(cls, url: str, *, max_size: int = _MAX_SIZE) -> ProtocolClient:
        """Open a connection (no compression, like the server's default)."""
        ws = await connect(url, compression=None, open_timeout=DEFAULT_TIMEOUT_S, max_size=max_size)
        return cls(ws)

    async def send(self, message: Mapping[str, object]) -> None:
        """Send one message as a msgpack frame (any dict: tests send malformed ones too)."""
        await self.ws.send(msgpack.packb(dict(message), use_bin_type=True))

    async def send_raw(self, frame: bytes | str) -> None:
        """Send a frame as given (bytes: binary frame, str: text frame)."""
        await self.ws.send(frame)

    async def _fill(self) -> None:
        frame = await self.ws.recv()
        if isinstance(frame, str):
            raise AssertionError("the server sends binary frames only")
        message = decode_server(frame)
        if message["type"] == "BATCH":
            self.batches += 1
            for inner in unpack_batch(message["data"], count=message["count"]):
                self.inbox.append(decode_server(inner))
        else:
            self.inbox.append(message)

    async def recv(self, timeout: float = DEFAULT_TIMEOUT_S) -> ServerMessage:
        """The next message."""
        async with asyncio.timeout(timeout):
            while not self.inbox:
                await self._fill()
        return self.inbox.popleft()

    async def expect(self, *types: str, timeout: float = DEFAULT_TIMEOUT_S) -> ServerMessage:
        """The next message of one of ``types``; others before it are dropped."""
        async with asyncio.timeout(timeout):
            while True:
                message = await self.recv(timeout)
                if message["type"] in types:
                    return message

    async def closed(self, timeout: float = DEFAULT_TIMEOUT_S) -> tuple[int | None, str]:
        """Wait for the server to close the connection; ``(code, reason)``."""
        async with asyncio.timeout(timeout):
            try:
                while True:
                    await self._fill()
            except ConnectionClosed as exc:
                received = exc.rcvd
                return (received.code, received.reason) if received is not None else (None, "")

    async def auth(self, token: str, **extra: object) -> ServerMessage:
        """Wait for AUTH_REQUIRED, send AUTH; return AUTH_ACK or AUTH_FAIL."""
        await self.expect("AUTH_REQUIRED")
        await self.send({"type": "AUTH", "token": token, **extra})
        return await self.expect("AUTH_ACK", "AUTH_FAIL")

    async def write(self, *ops: Mapping[str, object]) -> ServerMessage:
        """Send ``ops`` as one OP_BATCH and return its OP_ACK.

        Messages that arrive before the ack (broadcasts, live-query deltas) stay in
        :attr:`inbox`, in order, for the test to read next.
        """
        await self.send({"type": "OP_BATCH", "payload": {"ops": list(ops)}})
        others: list[ServerMessage] = []
        while (message := await self.recv())["type"] != "OP_ACK":
            others.append(message)
        self.inbox.extendleft(reversed(others))
        return message

    async def close(self) -> None:
        """Close from the client side."""
        await self.ws.close()

    async def sync_lww(self, map_name: str) -> dict[str, KeyedRecord]:
        """Pull a whole LWW map by Merkle sync, pipelining every bucket request.

        A leaf may arrive in several SYNC_RESP_LEAF chunks; it is complete when the
        item hashes of the records received for it add up to its bucket hash.
        """
        await self.send({"type": "SYNC_INIT", "mapName": map_name})
        root = await self.expect("SYNC_RESP_ROOT", "SYNC_RESET_REQUIRED")
        if root["type"] != "SYNC_RESP_ROOT":
            raise AssertionError(f"sync of {map_name!r} needs a reset")
        found: dict[str, KeyedRecord] = {}
        if root["payload"]["rootHash"] == 0:
            return found
        expected: dict[str, int] = {"": root["payload"]["rootHash"]}
        leaves: dict[str, list[int]] = {}
        await self._request_bucket(map_name, "")
        while expected:
            message = await self.expect("SYNC_RESP_BUCKETS", "SYNC_RESP_LEAF")
            if message["type"] == "SYNC_RESP_BUCKETS":
                path = message["payload"]["path"]
                del expected[path]
                for digit, bucket_hash in message["payload"]["buckets"].items():
                    expected[path + digit] = bucket_hash
                    await self._request_bucket(map_name, path + digit)
            elif message["type"] == "SYNC_RESP_LEAF":
                path = message["payload"]["path"]
                hashes = leaves.setdefault(path, [])
                for entry in message["payload"]["records"]:
                    found[entry["key"]] = entry
                    ts = entry["record"]["timestamp"]
                    hashes.append(
                        merkle_item_hash(entry["key"], ts["millis"], ts["counter"], ts["nodeId"])
                    )
                if combine_hashes(hashes) == expected.get(path):
                    del expected[path]
        return found

    async def _request_bucket(self, map_name: str, path: str) -> None:
        await self.send(
            {"type": "MERKLE_REQ_BUCKET", "payload": {"mapName": map_name, "path": path}}
        )
