"""The client side of topics, counters, locks, the journal, processors and resolvers.

:class:`Coordination` is the engine's hub for these features (``engine.coord``).
It is sans-IO toward the socket: messages to send are queued and handed to the
connection shell through :meth:`Coordination.sends` (the shell's push loop, woken
by ``wake``); inbound messages arrive through :meth:`Coordination.receive`. On
every authenticated connection :meth:`Coordination.on_authenticated` returns what
must be sent again — topic subscriptions, counter requests and states, journal
subscriptions (resuming after the last event seen), the client's resolvers — and
starts flushing the offline topic queue; :meth:`Coordination.disconnected` fails
the requests in flight (their outcome is unknown) and marks held locks lost.

Request/response calls (:meth:`Coordination.request`) wait for a connection, send,
and wait for the answer naming their ``requestId`` (an ``ERROR`` whose
``details.requestId`` names it fails the call with :class:`ServerError`).

Topics and counters live in :mod:`._topics` and :mod:`._counters` (their state is
kept in the local store), locks in :mod:`._locks`, journal streams in
:mod:`._journal`, processors and resolvers in :mod:`._compute`.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from topgun_client._effects import Effects
from topgun_client._errors import ServerError
from topgun_core.errors import Unavailable
from topgun_core.protocol import ClientMessage, ServerMessage

if TYPE_CHECKING:
    from topgun_client._compute import Compute
    from topgun_client._counters import Counters
    from topgun_client._journal import Journal
    from topgun_client._locks import Locks
    from topgun_client._topics import Topics

__all__ = ["ConnectionLost", "Coordination", "new_request_id"]

_IDS = itertools.count(1)
_RUN = secrets.token_hex(4)


def new_request_id(prefix: str) -> str:
    """A request id unique to this client process."""
    return f"{prefix}-{_RUN}-{next(_IDS)}"


class ConnectionLost(Unavailable):
    """The connection dropped before the answer came; the outcome is unknown (503)."""


class Coordination:
    """Topics, counters, locks, journal, processors and resolvers of one client."""

    def __init__(self) -> None:
        self.wake: Callable[[], None] = lambda: None
        """Wakes the connection's push loop (set by the client)."""
        self.store_wake: Callable[[], None] = lambda: None
        """Wakes the local writer after rows were queued for the store (set by the client)."""
        self.authenticated = False
        self._connected = asyncio.Event()
        self._outgoing: list[ClientMessage] = []
        self._requests: dict[str, asyncio.Future[ServerMessage]] = {}
        self.topics: Topics
        self.counters: Counters
        self.locks: Locks
        self.journal: Journal
        self.compute: Compute

    # ------------------------------------------------------------------ sending

    def send(self, message: ClientMessage) -> None:
        """Queue ``message`` for the current connection (dropped when there is none)."""
        if self.authenticated:
            self._outgoing.append(message)
            self.wake()

    def sends(self) -> Effects:
        """What is queued to send (the shell's push loop calls this)."""
        out = Effects()
        out.sends.extend(self._outgoing)
        self._outgoing.clear()
        return out

    async def wait_connected(self, timeout_s: float | None) -> None:
        """Wait until a connection is authenticated (``TimeoutError`` after ``timeout_s``)."""
        async with asyncio.timeout(timeout_s):
            await self._connected.wait()

    async def request(
        self, request_id: str, message: ClientMessage, timeout_s: float | None
    ) -> ServerMessage:
        """Send ``message`` once connected and return the answer naming ``request_id``.

        Raises ``TimeoutError``, :class:`ConnectionLost` or :class:`ServerError`.
        """
        async with asyncio.timeout(timeout_s):
            await self._connected.wait()
            future: asyncio.Future[ServerMessage] = asyncio.get_running_loop().create_future()
            self._requests[request_id] = future
            try:
                self.send(message)
                return await future
            finally:
                self._requests.pop(request_id, None)

    # ------------------------------------------------------------------ connection

    def on_authenticated(self) -> list[ClientMessage]:
        """A new authenticated connection: what to send again, and resume flushing."""
        self.authenticated = True
        self._connected.set()
        resend: list[ClientMessage] = []
        resend.extend(self.topics.on_authenticated())
        resend.extend(self.counters.on_authenticated())
        resend.extend(self.journal.on_authenticated())
        resend.extend(self.compute.on_authenticated())
        self.wake()
        return resend

    def disconnected(self) -> None:
        """The connection is gone: fail calls in flight, drop what was queued."""
        if not self.authenticated:
            return
        self.authenticated = False
        self._connected.clear()
        self._outgoing.clear()
        for future in self._requests.values():
            if not future.done():
                future.set_exception(ConnectionLost("the connection dropped; outcome unknown"))
        self._requests.clear()
        self.topics.disconnected()
        self.locks.disconnected()

    # ------------------------------------------------------------------ inbound

    def receive(self, message: ServerMessage) -> bool:
        """Handle a message of these features; False for anything else (or to share it)."""
        match message["type"]:
            case "TOPIC_MESSAGE":
                self.topics.deliver(message["payload"])
            case "COUNTER_RESPONSE" | "COUNTER_UPDATE":
                self.counters.merge(message["payload"]["name"], message["payload"]["state"])
            case "LOCK_GRANTED":
                self.locks.granted(message["payload"])
            case "LOCK_RELEASED":
                self._answer(message["payload"]["requestId"], message)
            case "JOURNAL_EVENT":
                self.journal.deliver(message)
            case (
                "ENTRY_PROCESS_RESPONSE" | "ENTRY_PROCESS_BATCH_RESPONSE"
                | "REGISTER_RESOLVER_RESPONSE" | "UNREGISTER_RESOLVER_RESPONSE"
                | "LIST_RESOLVERS_RESPONSE" | "JOURNAL_READ_RESPONSE"
            ):  # fmt: skip
                self._answer(message["requestId"], message)
            case "MERGE_REJECTED":
                self.compute.merge_rejected(message)
                return False  # the engine reports it as an error as well
            case "PONG":
                self.topics.pong(message["timestamp"])
                return False
            case "ERROR":
                self._error(message["payload"])
                return False
            case _:
                return False
        return True

    def _answer(self, request_id: str, message: ServerMessage) -> None:
        future = self._requests.get(request_id)
        if future is not None and not future.done():
            future.set_result(message)

    def _error(self, payload: Mapping[str, object]) -> None:
        details = payload.get("details")
        request_id = details.get("requestId") if isinstance(details, dict) else None
        if not isinstance(request_id, str):
            return
        code = payload.get("code")
        error = ServerError(code if isinstance(code, int) else 500, str(payload.get("message")))
        future = self._requests.get(request_id)
        if future is not None and not future.done():
            future.set_exception(error)
        self.locks.failed(request_id, error)
        self.journal.failed(request_id, error)
