"""The connection state machine: explicit states and a transition table.

::

    DISCONNECTED → CONNECTING → AUTHENTICATING → SYNCING → CONNECTED
          ↑            │              │            │          │
          └── BACKOFF ←┴──────────────┴────────────┴──────────┘
    any state → CLOSED (final)

``DISCONNECTED`` is also where an explicitly offline client (``go_offline()``) rests.
A transition not in :data:`TRANSITIONS` raises :class:`IllegalTransition` — a
programmer error, never a network condition. Listeners hear ``(old, new)`` after
every change.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Final

__all__ = ["TRANSITIONS", "ConnectionState", "IllegalTransition", "StateMachine"]


class ConnectionState(enum.Enum):
    """Where the client's connection to the server is."""

    DISCONNECTED = "DISCONNECTED"
    """Not connected and not trying (before start, or offline on request)."""
    CONNECTING = "CONNECTING"
    """Opening the socket."""
    AUTHENTICATING = "AUTHENTICATING"
    """Socket open, ``AUTH`` sent, waiting for ``AUTH_ACK``."""
    SYNCING = "SYNCING"
    """Authenticated: pushing the op log and running the Merkle sync of every map."""
    CONNECTED = "CONNECTED"
    """Every held map has finished its initial sync; live events flow."""
    BACKOFF = "BACKOFF"
    """Waiting before the next connection attempt."""
    CLOSED = "CLOSED"
    """The client is closed; final."""


_S = ConnectionState
_LOST: Final = frozenset({_S.BACKOFF, _S.DISCONNECTED, _S.CLOSED})

TRANSITIONS: Final[Mapping[ConnectionState, frozenset[ConnectionState]]] = {
    _S.DISCONNECTED: frozenset({_S.CONNECTING, _S.CLOSED}),
    _S.CONNECTING: frozenset({_S.AUTHENTICATING}) | _LOST,
    _S.AUTHENTICATING: frozenset({_S.SYNCING}) | _LOST,
    _S.SYNCING: frozenset({_S.CONNECTED}) | _LOST,
    _S.CONNECTED: _LOST,
    _S.BACKOFF: frozenset({_S.CONNECTING, _S.DISCONNECTED, _S.CLOSED}),
    _S.CLOSED: frozenset(),
}
"""Every legal ``state → {next states}``."""


class IllegalTransition(RuntimeError):
    """A transition the table does not allow (a bug in the caller)."""

    def __init__(self, old: ConnectionState, new: ConnectionState) -> None:
        super().__init__(f"illegal connection state transition {old.name} -> {new.name}")
        self.old = old
        self.new = new


StateListener = Callable[[ConnectionState, ConnectionState], None]


class StateMachine:
    """Holds the current state and enforces :data:`TRANSITIONS`."""

    __slots__ = ("_listener", "_state")

    def __init__(self, listener: StateListener | None = None) -> None:
        self._state = ConnectionState.DISCONNECTED
        self._listener = listener

    @property
    def state(self) -> ConnectionState:
        """The current state."""
        return self._state

    def can(self, new: ConnectionState) -> bool:
        """Whether ``new`` is reachable from the current state in one step."""
        return new in TRANSITIONS[self._state]

    def to(self, new: ConnectionState) -> None:
        """Move to ``new``; raise :class:`IllegalTransition` if the table forbids it."""
        old = self._state
        if new not in TRANSITIONS[old]:
            raise IllegalTransition(old, new)
        self._state = new
        if self._listener is not None:
            self._listener(old, new)
