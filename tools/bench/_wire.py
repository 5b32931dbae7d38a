"""Raw-socket helpers shared by the load generators (separate processes from the server).

They speak the wire protocol directly, without the client SDK, so the numbers measure
the server: :func:`frame_messages` splits a frame (unpacking ``BATCH`` envelopes with
core's :func:`~topgun_core.protocol.unpack_batch`), :func:`open_authenticated` opens
and authenticates one connection.
"""

from __future__ import annotations

import msgpack
from websockets.asyncio.client import ClientConnection, connect

from topgun_core.protocol import unpack_batch

FRAME_BYTES_MAX = 256 * 1024 * 1024


def frame_messages(frame: bytes) -> list[dict]:
    """The messages in one server frame (a ``BATCH`` holds several)."""
    message = msgpack.unpackb(frame, raw=False)
    if message.get("type") != "BATCH":
        return [message]
    return [msgpack.unpackb(part, raw=False) for part in unpack_batch(message["data"])]


async def open_authenticated(url: str, token: str) -> ClientConnection:
    """A connection that has completed AUTH; raises on AUTH_FAIL."""
    ws = await connect(url, compression=None, max_size=FRAME_BYTES_MAX)
    await ws.recv()  # AUTH_REQUIRED
    await ws.send(msgpack.packb({"type": "AUTH", "token": token}))
    while True:
        for message in frame_messages(await ws.recv()):
            if message["type"] == "AUTH_ACK":
                return ws
            if message["type"] == "AUTH_FAIL":
                raise RuntimeError(message["error"])
