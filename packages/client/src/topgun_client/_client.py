"""``TopGunClient``: the asyncio client — local-first maps synced over one websocket.

Entering the client opens the local store, loads every stored map, and starts two
background tasks in the client's own task group: the local writer (group commit to
the store) and the connector (connect, authenticate, push the op log, sync, receive
live events, reconnect with backoff). Leaving it stops both, commits what is still
queued and closes the store. Nothing here waits for the network except the calls
whose purpose is to: ``write()``, ``flush()`` and ``wait_for_state()``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from topgun_client._acks import AckWaiters
from topgun_client._backoff import Backoff
from topgun_client._connection import Connector, Sleep
from topgun_client._coordination_api import (
    CoordinationMethods,
    load_coordination,
    wire_coordination,
)
from topgun_client._engine import ClientEngine
from topgun_client._errors import ClientClosed, WriteTimeout
from topgun_client._listeners import ChangeListener, ErrorListener, Listeners, StateChangeListener
from topgun_client._maps import LWWMapHandle, MapContext, ORMapHandle
from topgun_client._querying import QueryMethods
from topgun_client._replica import Replica
from topgun_client._runtime import Runtime
from topgun_client._settings import ClientSettings
from topgun_client._startup import Store, load_last_sync, load_maps, load_node_id, open_store
from topgun_client._state import ConnectionState, StateMachine
from topgun_client._tokens import TokenProvider, TokenSource
from topgun_client._topics import TopicQueueSettings
from topgun_client._writer import LocalWriter
from topgun_core.clock import Clock, SystemClock
from topgun_core.errors import StorageError

__all__ = ["ClientStats", "TopGunClient"]


@dataclass(frozen=True, slots=True)
class ClientStats:
    """Counters of a client, for monitoring and tests."""

    pending_ops: int
    connection_attempts: int
    batches_sent: int
    batch_ops_peak: int
    """Most ops ever sent in one ``OP_BATCH``."""
    inflight_ops_peak: int
    """Most ops ever sent and unacknowledged at once (bounded by ``inflight_ops_max``)."""
    token_requests: int


class TopGunClient(QueryMethods, CoordinationMethods):
    """An offline-first TopGun client.

    ``url`` is the server's websocket endpoint (``ws://host:port/ws``). Authenticate
    with a static ``token`` or a ``token_provider`` (an async callable asked again
    when the server refuses or the token expires). ``store`` is a SQLite file path,
    ``":memory:"`` or a ``StorageAdapter``. ``online=False`` starts offline (see
    :meth:`go_online`). ``topics`` bounds the durable publish queue (capacity and
    overflow policy). ``clock``, ``rng`` and ``sleep`` are for tests.
    """

    def __init__(  # noqa: PLR0913
        self,
        url: str,
        *,
        token: str | None = None,
        token_provider: TokenProvider | None = None,
        store: Store = ":memory:",
        node_id: str | None = None,
        settings: ClientSettings | None = None,
        online: bool = True,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        sleep: Sleep | None = None,
        topics: TopicQueueSettings | None = None,
    ) -> None:
        if not url.startswith(("ws://", "wss://")):
            raise ValueError("url must be a ws:// or wss:// URL")
        self._url = url
        self._settings = settings if settings is not None else ClientSettings()
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._tokens = TokenSource(token, token_provider, self._clock)
        self._storage = open_store(store)
        self._wanted_node_id = node_id
        self._online = online
        self._rng = rng
        self._sleep: Sleep = sleep if sleep is not None else asyncio.sleep
        self._listeners = Listeners(self._settings.listeners_max)
        self._machine = StateMachine(self._listeners.state)
        self._rt: Runtime | None = None
        self._connector: Connector | None = None
        self._tg: asyncio.TaskGroup | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._handles: dict[str, LWWMapHandle | ORMapHandle] = {}
        self._closed = False
        self._topic_settings = topics or TopicQueueSettings()

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def open(self) -> None:
        """Open the store, load the maps, start syncing (``async with`` does this)."""
        assert self._rt is None, "a client is opened once"
        await self._storage.open()
        try:
            rt = await self._build()
        except BaseException:
            await self._storage.close()
            raise
        self._rt = rt
        wire_coordination(rt, self._local_write)
        backoff = Backoff(
            self._settings.backoff_initial_ms, self._settings.backoff_max_ms, self._rng
        )
        self._connector = Connector(rt, self._url, self._tokens, backoff, self._sleep)
        self._connector.set_online(self._online)
        self._tg = asyncio.TaskGroup()
        await self._tg.__aenter__()
        self._tasks = [
            self._tg.create_task(rt.writer.run(), name="topgun-local-writer"),
            self._tg.create_task(self._connector.run(), name="topgun-connector"),
        ]

    async def _build(self) -> Runtime:
        settings = self._settings
        node_id = await load_node_id(self._storage, self._wanted_node_id)
        replica = Replica(node_id, self._clock, settings, self._local_write)
        await load_maps(self._storage, replica)
        engine = ClientEngine(replica, settings, await load_last_sync(self._storage))
        await load_coordination(engine.coord, self._storage, self._topic_settings)
        ops_ready = asyncio.Event()
        engine.live.wake = ops_ready.set
        writer = LocalWriter(
            self._storage, replica.pending, settings, self._committed, self._failed
        )
        return Runtime(
            settings=settings,
            clock=self._clock,
            storage=self._storage,
            replica=replica,
            engine=engine,
            writer=writer,
            acks=AckWaiters(settings.pending_writes_max),
            listeners=self._listeners,
            machine=self._machine,
            ops_ready=ops_ready,
            progress=asyncio.Event(),
            oplog_count=await self._storage.oplog_count(),
        )

    async def close(self) -> None:
        """Stop syncing, commit what is queued locally, close the store. Idempotent."""
        if self._closed or self._rt is None or self._tg is None:
            self._closed = True
            return
        self._closed = True
        rt = self._rt
        for task in self._tasks:
            task.cancel()
        try:
            await self._tg.__aexit__(None, None, None)
        finally:
            try:
                await rt.writer.drain()
            finally:
                rt.acks.close(ClientClosed("the client was closed"))
                if self._machine.state is not ConnectionState.CLOSED:
                    self._machine.to(ConnectionState.CLOSED)
                await self._storage.close()

    def _runtime(self) -> Runtime:
        if self._closed:
            raise ClientClosed("the client is closed")
        if self._rt is None:
            raise ClientClosed("the client is not open: use 'async with TopGunClient(...)'")
        return self._rt

    # ------------------------------------------------------------------ writer callbacks

    def _local_write(self) -> None:
        if self._rt is not None:
            self._rt.writer.wake()

    def _committed(self, first_seq: int, ids: list[int], trimmed: int) -> None:
        rt = self._runtime_unchecked()
        rt.acks.bind(first_seq, ids)
        rt.oplog_count += len(ids) - trimmed
        if ids:
            rt.engine.window.appended()
            rt.ops_ready.set()
        rt.pulse()

    def _failed(self, error: StorageError) -> None:
        self._listeners.error(error)

    def _runtime_unchecked(self) -> Runtime:
        assert self._rt is not None
        return self._rt

    # ------------------------------------------------------------------ maps

    def get_map(self, name: str) -> LWWMapHandle:
        """The LWW map ``name``, readable at once from the local replica."""
        rt = self._runtime()
        handle = self._handles.get(name)
        if isinstance(handle, LWWMapHandle):
            return handle
        crdt, created = rt.replica.lww(name)
        handle = self._handles[name] = LWWMapHandle(MapContext(rt, self._check_open), name, crdt)
        if created:
            rt.writer.wake()
            rt.ops_ready.set()
        return handle

    def get_or_map(self, name: str) -> ORMapHandle:
        """The OR map ``name``, readable at once from the local replica."""
        rt = self._runtime()
        handle = self._handles.get(name)
        if isinstance(handle, ORMapHandle):
            return handle
        crdt, created = rt.replica.or_map(name)
        handle = self._handles[name] = ORMapHandle(MapContext(rt, self._check_open), name, crdt)
        if created:
            rt.writer.wake()
            rt.ops_ready.set()
        return handle

    def _check_open(self) -> None:
        self._runtime()

    # ------------------------------------------------------------------ waiting

    async def flush_local(self) -> None:
        """Return once every write made so far is durable in the local store."""
        await self._runtime().writer.flush()

    async def flush(self, timeout: float | None = None) -> None:
        """Wait until the op log is empty: every write so far acknowledged by the server.

        Raises ``WriteTimeout`` after ``timeout`` seconds (None: wait for ever).
        """
        rt = self._runtime()
        await rt.writer.flush()
        try:
            async with asyncio.timeout(timeout):
                while self.pending_ops:
                    await rt.progress.wait()
        except TimeoutError:
            raise WriteTimeout(round((timeout or 0) * 1000)) from None

    async def wait_for_state(self, state: ConnectionState, timeout: float | None = None) -> None:
        """Wait until the connection is in ``state`` (``TimeoutError`` after ``timeout`` s)."""
        self._runtime()
        if self._machine.state is state:
            return
        reached = asyncio.Event()

        def watch(_old: ConnectionState, new: ConnectionState) -> None:
            if new is state:
                reached.set()

        unsubscribe = self._listeners.add_state(watch)
        try:
            async with asyncio.timeout(timeout):
                await reached.wait()
        finally:
            unsubscribe()

    # ------------------------------------------------------------------ state and events

    @property
    def state(self) -> ConnectionState:
        """The connection state."""
        return self._machine.state

    @property
    def node_id(self) -> str:
        """This replica's node id (stable across restarts of the same store)."""
        return self._runtime().replica.hlc.node_id

    @property
    def pending_ops(self) -> int:
        """Writes not yet acknowledged by the server (queued locally or in the op log)."""
        rt = self._runtime_unchecked()
        return rt.oplog_count + rt.replica.pending.ops

    @property
    def stats(self) -> ClientStats:
        """Counters for monitoring."""
        rt = self._runtime()
        window = rt.engine.window
        assert self._connector is not None
        return ClientStats(
            pending_ops=self.pending_ops,
            connection_attempts=self._connector.attempts,
            batches_sent=window.batches_sent,
            batch_ops_peak=window.batch_ops_peak,
            inflight_ops_peak=window.inflight_peak,
            token_requests=self._tokens.calls,
        )

    def on_change(self, map_name: str, callback: ChangeListener) -> Callable[[], None]:
        """Call ``callback(change)`` for each change to ``map_name`` from the server."""
        return self._listeners.add_change(map_name, callback)

    def on_state_change(self, callback: StateChangeListener) -> Callable[[], None]:
        """Call ``callback(old, new)`` on every connection state change."""
        return self._listeners.add_state(callback)

    def on_error(self, callback: ErrorListener) -> Callable[[], None]:
        """Call ``callback(error)`` for problems handled in the background (refused
        records, invalid frames, rejected ops, auth failures, storage retries)."""
        return self._listeners.add_error(callback)

    async def go_offline(self) -> None:
        """Disconnect and stay offline; local reads and writes go on as usual."""
        self._runtime()
        assert self._connector is not None
        self._connector.set_online(False)
        await self._connector.drop()
        await self.wait_for_state(ConnectionState.DISCONNECTED)

    def go_online(self) -> None:
        """Allow connecting again (the default)."""
        self._runtime()
        assert self._connector is not None
        self._connector.set_online(True)
