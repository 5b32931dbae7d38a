"""One client connection's state: who it is, where it is in its life, what it holds.

The life of a connection is an explicit state machine. States and the moves
allowed between them are the table :data:`TRANSITIONS`; :meth:`Session.move`
refuses any other move (an ``AssertionError``: it would be a server bug)::

    AWAITING_AUTH ──AUTH ok──▶ AUTHENTICATED
         │                          │
         └────────▶ CLOSING ◀───────┘      (server decided to close)
                       │
    (any) ───────────▶ CLOSED              (socket gone)

A session also knows the maps it *holds* (synced on this connection), each with
the top-level fields its principal may read (``None``: all), so a broadcast needs
no policy evaluation per event.
"""

from __future__ import annotations

import asyncio
import enum
import secrets
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field

from topgun_core.policies import Principal
from topgun_server.ws.ratelimit import TokenBucket
from topgun_server.ws.transport import TransportControl
from topgun_server.ws.writer import Outbox

__all__ = ["TRANSITIONS", "IllegalTransition", "Session", "SessionState"]


class SessionState(enum.Enum):
    """Where a connection is in its life."""

    AWAITING_AUTH = "AWAITING_AUTH"
    AUTHENTICATED = "AUTHENTICATED"
    CLOSING = "CLOSING"
    CLOSED = "CLOSED"


TRANSITIONS: dict[SessionState, frozenset[SessionState]] = {
    SessionState.AWAITING_AUTH: frozenset(
        {SessionState.AUTHENTICATED, SessionState.CLOSING, SessionState.CLOSED}
    ),
    SessionState.AUTHENTICATED: frozenset({SessionState.CLOSING, SessionState.CLOSED}),
    SessionState.CLOSING: frozenset({SessionState.CLOSED}),
    SessionState.CLOSED: frozenset(),
}
"""Every legal move of the connection state machine."""


class IllegalTransition(AssertionError):
    """A move the table does not allow (a bug in the server)."""


@dataclass(eq=False, slots=True)
class Session:
    """One WebSocket connection."""

    outbox: Outbox
    messages: TokenBucket
    invalid: TokenBucket
    id: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    state: SessionState = SessionState.AWAITING_AUTH
    principal: Principal | None = None
    client_id: str | None = None
    protocol_version: int | None = None
    held_maps: dict[str, frozenset[str] | None] = field(default_factory=dict)
    """Maps synced on this connection → readable fields (None: all)."""
    last_frame_s: float = field(default_factory=time.monotonic)
    connected_s: float = field(default_factory=time.monotonic)
    transport: TransportControl | None = None
    """Transport hooks (frame limit, abort) when served by our uvicorn protocol."""
    ack_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1000))
    """Bounds the durable acks in flight (``pending_acks_max``)."""
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    """Durable-ack waiters; they belong to the connection's task group."""
    task_group: asyncio.TaskGroup | None = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the connection is fully closed."""

    def move(self, state: SessionState) -> None:
        """Move to ``state``; raise :class:`IllegalTransition` if the table forbids it."""
        if state not in TRANSITIONS[self.state]:
            raise IllegalTransition(f"session {self.state.value} -> {state.value} is not allowed")
        self.state = state

    @property
    def authenticated(self) -> bool:
        """Whether AUTH succeeded and the connection is still open for requests."""
        return self.state is SessionState.AUTHENTICATED

    def require_principal(self) -> Principal:
        """The authenticated principal (dispatch only routes authenticated requests here)."""
        assert self.principal is not None, "request handled before authentication"
        return self.principal

    def spawn(self, coroutine: Coroutine[None, None, None]) -> None:
        """Run ``coroutine`` in the connection's task group (cancelled when it closes)."""
        assert self.task_group is not None, "the connection is not running"
        task = self.task_group.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def close(self, code: int, reason: str) -> None:
        """Close after queued output is sent; no further requests are handled."""
        if self.state in (SessionState.AWAITING_AUTH, SessionState.AUTHENTICATED):
            self.move(SessionState.CLOSING)
        self.outbox.close(code, reason)
