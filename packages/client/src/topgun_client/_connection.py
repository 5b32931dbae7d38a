"""The connection shell: one websocket at a time, reconnecting with backoff.

:class:`Connector` runs for the client's lifetime. Each attempt opens the socket
(binary frames, ``max_size`` = the protocol's ``frame_bytes_max``), sends ``AUTH``
and runs a session: a reader that pumps every frame through the engine and performs
the effects, a sender draining a bounded outbound queue, a pusher that reads the op
log page by page when the engine wants it, and a heartbeat that sends ``PING`` and
drops a silent socket. The four belong to one task group; when the socket ends, the
session ends with it.

Between attempts the connector waits ``Backoff.next_delay_ms()`` (capped exponential,
full jitter, at least a server's ``retryAfter`` hint from ``SHUTDOWN_PENDING`` or a
1013 close). The delay is reset only once a connection reaches ``CONNECTED``, so a
server that accepts and drops, or refuses every token, is retried ever more slowly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from topgun_client._backoff import Backoff, parse_retry_after
from topgun_client._effects import Effects
from topgun_client._runtime import Runtime
from topgun_client._state import ConnectionState
from topgun_client._tokens import TokenSource
from topgun_core.errors import AuthError, ProtocolError, TopGunError
from topgun_core.protocol import encode

__all__ = ["Connector", "Sleep"]

_log = logging.getLogger("topgun_client.connection")

Sleep = Callable[[float], Awaitable[None]]
"""How the connector waits between attempts (injected by tests)."""

_CLOSE_UNAUTHORIZED = 4001
_CLOSE_OVERLOADED = 1013


class _SessionEnded(Exception):
    """The server closed the socket (with its code and reason)."""


class Connector:
    """Connects, authenticates, runs sessions and reconnects, until cancelled."""

    def __init__(
        self, rt: Runtime, url: str, tokens: TokenSource, backoff: Backoff, sleep: Sleep
    ) -> None:
        self._rt = rt
        self._url = url
        self._tokens = tokens
        self._backoff = backoff
        self._sleep = sleep
        self._online = asyncio.Event()
        self._offline = asyncio.Event()
        self._ws: ClientConnection | None = None
        self.attempts = 0

    @property
    def online(self) -> bool:
        """Whether the connector is allowed to connect."""
        return self._online.is_set()

    def set_online(self, online: bool) -> None:
        """Allow or forbid connecting."""
        if online:
            self._offline.clear()
            self._online.set()
        else:
            self._online.clear()
            self._offline.set()

    async def drop(self) -> None:
        """Close the current socket, if any (the session then ends)."""
        if self._ws is not None:
            await self._ws.close()

    def _to(self, state: ConnectionState) -> None:
        if self._rt.machine.state is not state:
            self._rt.machine.to(state)

    async def run(self) -> None:
        """Connect, serve, back off, forever (the client cancels it on close)."""
        while True:
            if not self._online.is_set():
                self._to(ConnectionState.DISCONNECTED)
                await self._online.wait()
            self._to(ConnectionState.CONNECTING)
            self.attempts += 1
            try:
                await self._attempt()
            except* AuthError as group:
                for exc in group.exceptions:
                    assert isinstance(exc, TopGunError)
                    self._rt.listeners.error(exc)
            except* (
                OSError,
                TimeoutError,
                WebSocketException,
                ProtocolError,
                _SessionEnded,
            ) as group:
                _log.info("connection to %s ended: %r", self._url, group.exceptions[0])
            self._ws = None
            self._rt.engine.coord.disconnected()  # calls in flight: outcome unknown
            self._rt.engine.live.disconnected()
            if not self._online.is_set():
                continue
            self._to(ConnectionState.BACKOFF)
            await self._pause(self._backoff.next_delay_ms() / 1000)

    async def _pause(self, seconds: float) -> None:
        """The backoff wait, cut short by going offline."""
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        waker = asyncio.ensure_future(self._offline.wait())
        try:
            await asyncio.wait((sleeper, waker), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)

    async def _attempt(self) -> None:
        settings = self._rt.settings
        token = await self._tokens.get()
        async with asyncio.timeout(settings.connect_timeout_ms / 1000):
            ws = await connect(
                self._url,
                max_size=settings.limits.frame_bytes_max,
                ping_interval=None,  # the protocol's own PING/PONG is the heartbeat
                compression=None,
                open_timeout=None,
            )
        self._ws = ws
        async with ws:
            if not self._online.is_set():
                return  # went offline while connecting
            self._to(ConnectionState.AUTHENTICATING)
            self._rt.engine.connected()
            session = _Session(self._rt, ws, self._backoff, self._tokens)
            await ws.send(encode(self._rt.engine.auth(token, self._rt.replica.hlc.node_id)))
            await session.run()
        self._closed(ws)

    def _closed(self, ws: ClientConnection) -> None:
        code, reason = ws.close_code, ws.close_reason or ""
        if code == _CLOSE_UNAUTHORIZED:
            self._tokens.invalidate()
        if code == _CLOSE_OVERLOADED:
            hint = parse_retry_after(reason)
            if hint is not None:
                self._backoff.hint(hint)
        raise _SessionEnded(f"closed with {code}: {reason}")


class _Session:
    """One authenticated socket: reader, sender, op-log pusher and heartbeat."""

    def __init__(
        self, rt: Runtime, ws: ClientConnection, backoff: Backoff, tokens: TokenSource
    ) -> None:
        self._rt = rt
        self._ws = ws
        self._backoff = backoff
        self._tokens = tokens
        self._outbound: asyncio.Queue[bytes] = asyncio.Queue(rt.settings.outbound_frames_max)
        self._authenticated = asyncio.Event()
        settings = rt.settings
        self._retry_backoff = Backoff(settings.backoff_initial_ms, settings.backoff_max_ms)
        self._last_frame = asyncio.get_running_loop().time()

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            helpers = [
                tg.create_task(self._send_loop()),
                tg.create_task(self._push_loop()),
                tg.create_task(self._heartbeat()),
            ]
            try:
                await self._read_loop()
            finally:
                for task in helpers:
                    task.cancel()

    async def _read_loop(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            async for frame in self._ws:
                self._last_frame = loop.time()
                if isinstance(frame, str):
                    self._rt.listeners.error(ProtocolError("text frame from the server ignored"))
                    continue
                await self.apply(self._rt.engine.receive_frame(frame))
        except ConnectionClosed:
            pass  # the close code is examined by the connector

    async def _send_loop(self) -> None:
        while True:
            frame = await self._outbound.get()
            await self._ws.send(frame)

    async def _push_loop(self) -> None:
        rt = self._rt
        await self._authenticated.wait()
        while True:
            await self.apply(rt.engine.start_new_walks())
            await self.apply(rt.engine.coord.sends())
            await self.apply(rt.engine.live_sends())
            if rt.engine.window.has_retries:
                # Refused as busy (429/503): wait, growing with each refusal in a row.
                await asyncio.sleep(self._retry_backoff.next_delay_ms() / 1000)
                await self.apply(rt.engine.retry_ops())
                continue
            request = rt.engine.want_ops()
            if request is None:
                await rt.ops_ready.wait()
                rt.ops_ready.clear()
                continue
            entries = await rt.storage.oplog_read(request.after_id, request.limit)
            await self.apply(rt.engine.ops_loaded(request, entries))

    async def _heartbeat(self) -> None:
        rt = self._rt
        loop = asyncio.get_running_loop()
        interval_s = rt.settings.heartbeat_interval_ms / 1000
        timeout_s = rt.settings.heartbeat_timeout_ms / 1000
        while True:
            await asyncio.sleep(interval_s)
            if loop.time() - self._last_frame > timeout_s:
                _log.info("no frame for %.1f s: dropping the connection", timeout_s)
                await self._ws.close()
                return
            await self._outbound.put(encode({"type": "PING", "timestamp": rt.clock.now_ms()}))

    def _handshake(self, out: Effects) -> None:
        rt = self._rt
        if out.auth_failed is not None:
            self._tokens.invalidate()
            raise AuthError(f"authentication failed: {out.auth_failed}")
        if out.auth_ack is not None and rt.machine.state is ConnectionState.AUTHENTICATING:
            rt.machine.to(ConnectionState.SYNCING)
            self._authenticated.set()

    async def apply(self, out: Effects) -> None:
        """Carry out what the engine asked for, in order."""
        rt = self._rt
        for error in out.errors:
            rt.listeners.error(error)
        self._handshake(out)
        for message in out.sends:
            await self._outbound.put(encode(message))
        if out.done:
            self._retry_backoff.reset()
        for result in out.done:
            rt.acks.resolve(result)
        for failure in out.failed:
            rt.acks.fail(failure)
        if out.done or out.failed:
            rt.ops_ready.set()
        if out.trim_through is not None:
            rt.writer.trim(out.trim_through)
        if out.retry_after_ms is not None:
            self._backoff.hint(out.retry_after_ms)
        for change in out.changes:
            rt.listeners.change(change)
        if out.stored:
            rt.writer.wake()
            await rt.writer.wait_room()
        if rt.machine.state is ConnectionState.SYNCING and rt.engine.synced:
            rt.machine.to(ConnectionState.CONNECTED)
            self._backoff.reset()
