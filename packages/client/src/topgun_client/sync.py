"""A synchronous facade for scripts: the asyncio client on a background thread.

::

    import topgun_client.sync

    with topgun_client.sync.connect(url, token=jwt, store="./local.db") as client:
        users = client.get_map("users")
        users.set("u1", {"name": "Ada"})
        client.flush(timeout=5)

:func:`connect` starts one thread running its own event loop with a
:class:`~topgun_client.TopGunClient` inside; every call is carried to that loop and
waits for its result (``asyncio.run_coroutine_threadsafe``), so the client's state
is only ever touched by its loop. Callbacks (``on_change``...) run on that thread.
Leaving the ``with`` block closes the client (committing queued local writes) and
joins the thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from types import TracebackType
from typing import Self, TypeVar

from topgun_client._client import TopGunClient
from topgun_client._effects import MapChange
from topgun_client._maps import LWWMapHandle, ORMapHandle, WriteConcern
from topgun_client._outbox import WriteResult
from topgun_client._state import ConnectionState
from topgun_core.values import JsonValue

__all__ = ["SyncClient", "SyncLWWMap", "SyncORMap", "connect"]

_T = TypeVar("_T")

_START_TIMEOUT_S = 60.0


class _Portal:
    """Runs callables on the client's loop thread and waits for their results."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def run(self, awaitable: Callable[[], Awaitable[_T]]) -> _T:
        async def call() -> _T:
            return await awaitable()

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result()

    def call(self, function: Callable[[], _T]) -> _T:
        async def call() -> _T:
            return function()

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result()


class SyncLWWMap:
    """The blocking form of :class:`~topgun_client.LWWMapHandle`."""

    def __init__(self, portal: _Portal, handle: LWWMapHandle) -> None:
        self._portal = portal
        self._handle = handle
        self.name = handle.name

    def set(self, key: str, value: JsonValue, *, ttl_ms: float | None = None) -> None:
        """See :meth:`LWWMapHandle.set`."""
        self._portal.call(lambda: self._handle.set(key, value, ttl_ms=ttl_ms))

    def remove(self, key: str) -> None:
        """See :meth:`LWWMapHandle.remove`."""
        self._portal.call(lambda: self._handle.remove(key))

    def get(self, key: str) -> JsonValue:
        """See :meth:`LWWMapHandle.get`."""
        return self._portal.call(lambda: self._handle.get(key))

    def items(self) -> list[tuple[str, JsonValue]]:
        """A snapshot of ``(key, value)`` for every live entry."""
        return self._portal.call(lambda: list(self._handle.items()))

    def __len__(self) -> int:
        return self._portal.call(lambda: len(self._handle))

    def __iter__(self) -> Iterator[str]:
        return iter(self._portal.call(lambda: list(self._handle.keys())))

    def write(
        self,
        key: str,
        value: JsonValue,
        *,
        write_concern: WriteConcern = WriteConcern.MEMORY,
        timeout: float | None = None,
    ) -> WriteResult:
        """See :meth:`LWWMapHandle.write`."""
        return self._portal.run(
            lambda: self._handle.write(key, value, write_concern=write_concern, timeout=timeout)
        )


class SyncORMap:
    """The blocking form of :class:`~topgun_client.ORMapHandle`."""

    def __init__(self, portal: _Portal, handle: ORMapHandle) -> None:
        self._portal = portal
        self._handle = handle
        self.name = handle.name

    def add(self, key: str, value: JsonValue, *, ttl_ms: float | None = None) -> None:
        """See :meth:`ORMapHandle.add`."""
        self._portal.call(lambda: self._handle.add(key, value, ttl_ms=ttl_ms))

    def remove(self, key: str, value: JsonValue) -> None:
        """See :meth:`ORMapHandle.remove`."""
        self._portal.call(lambda: self._handle.remove(key, value))

    def get(self, key: str) -> list[JsonValue]:
        """See :meth:`ORMapHandle.get`."""
        return self._portal.call(lambda: self._handle.get(key))

    def items(self) -> list[tuple[str, list[JsonValue]]]:
        """A snapshot of ``(key, values)``."""
        return self._portal.call(lambda: list(self._handle.items()))


class SyncClient:
    """A :class:`~topgun_client.TopGunClient` driven from synchronous code."""

    def __init__(self, url: str, **options: object) -> None:
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._client: TopGunClient | None = None
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._main(url, options),), name="topgun-client", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT_S):
            raise TimeoutError("the TopGun client did not start")
        self._portal: _Portal = self._started()

    def _started(self) -> _Portal:
        if self._error is not None:
            self._thread.join()
            raise self._error
        assert self._loop is not None
        return _Portal(self._loop)

    async def _main(self, url: str, options: dict[str, object]) -> None:
        try:
            client = TopGunClient(url, **options)  # type: ignore[arg-type]  # checked by the constructor
            await client.open()
        except Exception as exc:  # noqa: BLE001  # raised again in the caller's thread
            self._error = exc
            self._ready.set()
            return
        self._client = client
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await client.close()

    def _c(self) -> TopGunClient:
        assert self._client is not None
        return self._client

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the client (queued local writes are committed) and stop its thread."""
        if self._thread.is_alive() and self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()

    def get_map(self, name: str) -> SyncLWWMap:
        """The LWW map ``name``."""
        return SyncLWWMap(self._portal, self._portal.call(lambda: self._c().get_map(name)))

    def get_or_map(self, name: str) -> SyncORMap:
        """The OR map ``name``."""
        return SyncORMap(self._portal, self._portal.call(lambda: self._c().get_or_map(name)))

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every write is acknowledged by the server."""
        self._portal.run(lambda: self._c().flush(timeout))

    def flush_local(self) -> None:
        """Wait until every write so far is durable in the local store."""
        self._portal.run(self._c().flush_local)

    def wait_for_state(self, state: ConnectionState, timeout: float | None = None) -> None:
        """Wait until the connection is in ``state``."""
        self._portal.run(lambda: self._c().wait_for_state(state, timeout))

    def on_change(self, map_name: str, callback: Callable[[MapChange], None]) -> Callable[[], None]:
        """Register a change callback (it runs on the client's thread)."""
        return self._portal.call(lambda: self._c().on_change(map_name, callback))

    @property
    def pending_ops(self) -> int:
        """Writes not yet acknowledged by the server."""
        return self._portal.call(lambda: self._c().pending_ops)

    @property
    def state(self) -> ConnectionState:
        """The connection state."""
        return self._portal.call(lambda: self._c().state)

    @property
    def node_id(self) -> str:
        """This replica's node id."""
        return self._portal.call(lambda: self._c().node_id)


def connect(url: str, **options: object) -> SyncClient:
    """Start a client on a background thread; use it as a context manager.

    ``options`` are :class:`~topgun_client.TopGunClient`'s keyword arguments.
    """
    return SyncClient(url, **options)
