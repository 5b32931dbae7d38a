"""The pieces of one running client, gathered so that the shells can share them.

Not a coordinator: a plain record of the collaborators (settings, store, replica,
engine, writer, waiters, listeners, state machine) plus the two signals the shells
exchange — ``ops_ready`` (the op log grew or the send window opened) and
``progress`` (the op log shrank or grew; ``flush()`` waits on it).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from topgun_client._acks import AckWaiters
from topgun_client._engine import ClientEngine
from topgun_client._listeners import Listeners
from topgun_client._replica import Replica
from topgun_client._settings import ClientSettings
from topgun_client._state import StateMachine
from topgun_client._writer import LocalWriter
from topgun_core.clock import Clock
from topgun_core.storage import StorageAdapter

__all__ = ["Runtime"]


@dataclass(slots=True)
class Runtime:
    """Everything a running client is made of."""

    settings: ClientSettings
    clock: Clock
    storage: StorageAdapter
    replica: Replica
    engine: ClientEngine
    writer: LocalWriter
    acks: AckWaiters
    listeners: Listeners
    machine: StateMachine
    ops_ready: asyncio.Event
    progress: asyncio.Event
    """Set (and replaced) whenever the op log grows or shrinks: see :meth:`pulse`."""
    oplog_count: int = 0
    """Op-log entries in the store (unacknowledged ops already committed locally)."""

    def pulse(self) -> None:
        """Wake everyone waiting on ``progress`` and arm a fresh event for the next change."""
        self.progress.set()
        self.progress = asyncio.Event()
