"""The client's side of live queries, searches and hybrid queries over the wire.

:class:`LiveRegistry` is sans-IO like the engine that owns it: handles register
here; the registry queues their ``*_SUB`` / ``*_UNSUB`` messages for the
connection (:meth:`LiveRegistry.drain`), and routes the server's answers —
``QUERY_RESP`` / ``QUERY_UPDATE``, ``SEARCH_RESP`` / ``SEARCH_UPDATE``,
``HYBRID_QUERY_RESP`` / ``HYBRID_QUERY_UPDATE`` — to the handle or one-shot
request they name.

**Resuming.** On every new connection, as soon as it is authenticated, every
registered handle subscribes again (:meth:`LiveRegistry.authenticated`). The
server answers with a full snapshot, as it does when a map reloads on its side,
and each handle diffs that snapshot with what it shows, so its ``changes()``
yield exactly the ENTER / UPDATE / LEAVE that happened meanwhile — no change
twice, none lost (a key changed several times while away shows its net change).

One-shot requests (``SEARCH``, a query page) are futures keyed by their request
id; a dropped connection fails every request in flight (retry on the next one).
The server answers requests on one connection in order, so an ``ERROR`` naming a
map (a 403, a 429 over a subscription limit, a 400) belongs to the oldest
request or subscription on that map still waiting for its first answer: that
one fails (a handle's ``changes()`` raises it).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Generic, Protocol, TypeVar

from topgun_client._errors import ServerError
from topgun_client._local import LocalIndexes
from topgun_core.errors import LimitExceeded, TopGunError, Unavailable
from topgun_core.protocol import ClientMessage, ErrorPayload, ServerMessage
from topgun_core.query import Delta

__all__ = ["ChangeFeed", "LiveHandle", "LiveRegistry", "new_id"]

T = TypeVar("T")


def new_id(prefix: str) -> str:
    """A fresh subscription or request id."""
    return f"{prefix}-{secrets.token_urlsafe(9)}"


class ChangeFeed(Generic[T]):
    """The bounded queue behind a live handle's ``changes()``.

    At most ``changes_max`` unconsumed changes; one more fails the feed with
    ``LimitExceeded("query_changes_max")`` rather than dropping a change silently.
    After a failure nothing more is queued and the reader gets the error raised;
    :meth:`end` finishes the stream normally.
    """

    def __init__(self, changes_max: int) -> None:
        self._queue: asyncio.Queue[T | None] = asyncio.Queue(changes_max)
        self._failure: TopGunError | None = None

    def push(self, change: T) -> None:
        """Queue one change (ignored once the feed has failed)."""
        if self._failure is not None:
            return
        try:
            self._queue.put_nowait(change)
        except asyncio.QueueFull:
            limit = self._queue.maxsize
            self.fail(LimitExceeded("query_changes_max", limit + 1, limit))

    def end(self) -> None:
        """Finish the stream: the reader's loop ends after what is queued."""
        try:
            self._queue.put_nowait(None)
        except asyncio.QueueFull:
            limit = self._queue.maxsize
            self.fail(LimitExceeded("query_changes_max", limit + 1, limit))

    def fail(self, error: TopGunError) -> None:
        """Drop what is queued and make the reader raise ``error``."""
        self._failure = error
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)  # wakes the consumer

    async def changes(self) -> AsyncIterator[T]:
        """Each queued change, in order, until the end or a failure (raised)."""
        while True:
            if self._failure is not None:
                raise self._failure
            change = await self._queue.get()
            if change is None:  # the end marker
                if self._failure is not None:
                    raise self._failure
                return
            yield change


class LiveHandle(Protocol):
    """What the registry needs from a live query, search or hybrid query handle."""

    @property
    def id(self) -> str: ...

    @property
    def map_name(self) -> str: ...

    def subscribe_message(self) -> ClientMessage: ...
    def unsubscribe_message(self) -> ClientMessage: ...
    def on_server(self, message: ServerMessage) -> None: ...
    def on_local(self, deltas: list[Delta]) -> None: ...
    def on_error(self, error: TopGunError) -> None: ...


class LiveRegistry:
    """Live handles and one-shot requests of one client (module docstring)."""

    __slots__ = (
        "_awaiting", "_handles", "_outgoing", "_requests", "authenticated", "local", "wake"
    )  # fmt: skip

    def __init__(self, local_factory: Callable[[LiveRegistry], LocalIndexes]) -> None:
        self._handles: dict[str, LiveHandle] = {}
        self._requests: dict[str, tuple[str, asyncio.Future[ServerMessage]]] = {}
        self._outgoing: list[ClientMessage] = []
        self._awaiting: list[tuple[str, str]] = []  # (map, id) sent, first answer pending
        self.authenticated = False
        self.wake: Callable[[], None] = lambda: None
        """Called when messages are queued (the client wakes its sender)."""
        self.local = local_factory(self)

    def __len__(self) -> int:
        return len(self._handles)

    # ------------------------------------------------------------------ connection

    def disconnected(self) -> None:
        """The socket is gone: requests in flight fail, new ones are answered locally."""
        self.connected()

    def connected(self) -> None:
        """A new socket: nothing is subscribed on it yet; requests in flight are lost."""
        self.authenticated = False
        self._outgoing.clear()
        self._awaiting.clear()
        for _, future in self._requests.values():
            if not future.done():
                future.set_exception(Unavailable("the connection dropped; try again"))
        self._requests.clear()

    def on_authenticated(self) -> list[ClientMessage]:
        """The socket is authenticated: subscribe every handle again."""
        self.authenticated = True
        self._awaiting = [(h.map_name, h.id) for h in self._handles.values()]
        return [handle.subscribe_message() for handle in self._handles.values()]

    def drain(self) -> list[ClientMessage]:
        """The messages queued since the last call."""
        out, self._outgoing = self._outgoing, []
        return out

    def _queue(self, message: ClientMessage) -> None:
        if self.authenticated:
            self._outgoing.append(message)
            self.wake()

    # ------------------------------------------------------------------ handles

    def add(self, handle: LiveHandle) -> None:
        """Register ``handle`` and subscribe it (now if online, else on connecting)."""
        self._handles[handle.id] = handle
        if self.authenticated:
            self._awaiting.append((handle.map_name, handle.id))
        self._queue(handle.subscribe_message())

    def remove(self, handle: LiveHandle) -> None:
        """Unregister ``handle`` and unsubscribe it on the server."""
        if self._handles.pop(handle.id, None) is not None:
            self._answered(handle.id)
            self._queue(handle.unsubscribe_message())

    def request(
        self, request_id: str, map_name: str, message: ClientMessage
    ) -> asyncio.Future[ServerMessage]:
        """Send a one-shot request; the future gets its answer (``Unavailable`` offline)."""
        future: asyncio.Future[ServerMessage] = asyncio.get_running_loop().create_future()
        if not self.authenticated:
            future.set_exception(Unavailable("not connected"))
            return future
        self._requests[request_id] = (map_name, future)
        self._awaiting.append((map_name, request_id))
        self._queue(message)
        return future

    def send(self, message: ClientMessage) -> None:
        """Send a message that expects no answer (dropped when offline)."""
        self._queue(message)

    def forget(self, request_id: str) -> None:
        """Stop waiting for ``request_id`` (it timed out)."""
        self._requests.pop(request_id, None)
        self._answered(request_id)

    # ------------------------------------------------------------------ inbound

    def local_deltas(self, map_name: str, deltas: list[tuple[str, Delta]]) -> None:
        """Deltas of local live queries (from :class:`LocalIndexes`)."""
        grouped: dict[str, list[Delta]] = {}
        for query_id, delta in deltas:
            grouped.setdefault(query_id, []).append(delta)
        for query_id, mine in grouped.items():
            handle = self._handles.get(query_id)
            if handle is not None:
                handle.on_local(mine)

    def receive(self, message: ServerMessage) -> None:
        """Route one query, search or hybrid message to whoever waits for it."""
        payload = message.get("payload")
        assert isinstance(payload, dict)
        ident = payload.get("queryId") or payload.get("subscriptionId") or payload.get("requestId")
        if not isinstance(ident, str):
            return
        self._answered(ident)
        pending = self._requests.pop(ident, None)
        if pending is not None:
            if not pending[1].done():
                pending[1].set_result(message)
            return
        handle = self._handles.get(ident)
        if handle is not None:
            handle.on_server(message)

    def error(self, payload: ErrorPayload) -> None:
        """An ``ERROR``: fail the oldest request on its map, and tell that map's handles."""
        details = payload.get("details")
        name = details.get("mapName") if isinstance(details, dict) else None
        if not isinstance(name, str):
            return
        ident = next((i for m, i in self._awaiting if m == name), None)
        if ident is None:
            return
        self._answered(ident)
        error = ServerError(payload["code"], payload["message"])
        pending = self._requests.pop(ident, None)
        if pending is not None:
            if not pending[1].done():
                pending[1].set_exception(error)
            return
        handle = self._handles.get(ident)
        if handle is not None:
            handle.on_error(error)

    def _answered(self, ident: str) -> None:
        for position, (_, waiting) in enumerate(self._awaiting):
            if waiting == ident:
                del self._awaiting[position]
                return
