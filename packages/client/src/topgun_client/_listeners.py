"""Callbacks registered by the application, bounded and isolated.

One :class:`Listeners` holds every change, state and error callback of a client,
at most ``listeners_max`` of them (one more raises ``LimitExceeded``). Each
registration returns an unsubscriber. A callback that raises is logged and does not
stop the others or the client: user code cannot break sync.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from topgun_client._effects import MapChange
from topgun_client._state import ConnectionState
from topgun_core.errors import LimitExceeded, TopGunError

__all__ = ["ChangeListener", "ErrorListener", "Listeners", "StateChangeListener"]

_log = logging.getLogger("topgun_client.listeners")

ChangeListener = Callable[[MapChange], None]
"""``callback(change)`` for a change that came from the server."""
StateChangeListener = Callable[[ConnectionState, ConnectionState], None]
"""``callback(old, new)`` after every connection state change."""
ErrorListener = Callable[[TopGunError], None]
"""``callback(error)`` for a problem the client handled on its own (nothing to raise it to)."""

_F = TypeVar("_F", bound=Callable[..., None])


class Listeners:
    """The application's callbacks, with a shared bound."""

    __slots__ = ("_changes", "_errors", "_max", "_next", "_states")

    def __init__(self, listeners_max: int) -> None:
        self._max = listeners_max
        self._next = 0
        self._changes: dict[int, tuple[str, ChangeListener]] = {}
        self._states: dict[int, StateChangeListener] = {}
        self._errors: dict[int, ErrorListener] = {}

    def __len__(self) -> int:
        return len(self._changes) + len(self._states) + len(self._errors)

    def _token(self) -> int:
        if len(self) >= self._max:
            raise LimitExceeded("listeners_max", len(self) + 1, self._max)
        self._next += 1
        return self._next

    def add_change(self, map_name: str, callback: ChangeListener) -> Callable[[], None]:
        """Call ``callback`` for every remote change to ``map_name``."""
        token = self._token()
        self._changes[token] = (map_name, callback)
        return lambda: self._changes.pop(token, None) and None

    def add_state(self, callback: StateChangeListener) -> Callable[[], None]:
        """Call ``callback(old, new)`` on every state change."""
        token = self._token()
        self._states[token] = callback
        return lambda: self._states.pop(token, None) and None

    def add_error(self, callback: ErrorListener) -> Callable[[], None]:
        """Call ``callback(error)`` for every reported error."""
        token = self._token()
        self._errors[token] = callback
        return lambda: self._errors.pop(token, None) and None

    def change(self, change: MapChange) -> None:
        """Announce a remote change."""
        for map_name, callback in tuple(self._changes.values()):
            if map_name == change.map_name:
                _call(callback, change)

    def state(self, old: ConnectionState, new: ConnectionState) -> None:
        """Announce a state change."""
        for callback in tuple(self._states.values()):
            _call(callback, old, new)

    def error(self, error: TopGunError) -> None:
        """Report an error (always logged as well)."""
        _log.warning("%s: %s", type(error).__name__, error.message)
        for callback in tuple(self._errors.values()):
            _call(callback, error)


def _call(callback: Callable[..., None], *args: object) -> None:
    try:
        callback(*args)
    except Exception:  # noqa: BLE001  # user code must not stop the client
        _log.exception("a TopGun client callback raised; it was ignored")
