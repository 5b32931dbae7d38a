"""What handling one inbound message asks the shell to do.

The sans-IO engine never performs I/O: each call fills an :class:`Effects` — frames
to send, errors to report, changes to announce, writes settled, an op-log trim
point, maps whose sync finished — and the shell carries them out in that order.
Record rows to store go straight into the replica's pending writes, which the local
writer commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from topgun_client._errors import WriteRejected
from topgun_client._outbox import WriteResult
from topgun_core.errors import TopGunError
from topgun_core.protocol import AuthAckMessage, ClientMessage
from topgun_core.values import JsonValue

__all__ = ["Effects", "MapChange"]


@dataclass(frozen=True, slots=True)
class MapChange:
    """A change to a map that came from the server (a live event or a sync merge).

    ``value`` is what a read now returns: for an LWW map the live value (None when
    removed), for an OR map the list of live values under ``key``.
    """

    map_name: str
    key: str
    value: JsonValue
    source: Literal["event", "sync"]


@dataclass(slots=True)
class Effects:
    """Everything the shell must do after the engine handled one message."""

    sends: list[ClientMessage] = field(default_factory=list)
    errors: list[TopGunError] = field(default_factory=list)
    changes: list[MapChange] = field(default_factory=list)
    done: list[WriteResult] = field(default_factory=list)
    failed: list[WriteRejected] = field(default_factory=list)
    trim_through: int | None = None
    synced: list[tuple[str, int]] = field(default_factory=list)
    """``(map, server millis)`` of maps whose sync just completed."""
    auth_ack: AuthAckMessage | None = None
    auth_failed: str | None = None
    retry_after_ms: int | None = None
    stored: bool = False
    """Rows were queued for the local store (wake the writer)."""

    def trim(self, through: int | None) -> None:
        """Raise the trim point to ``through``."""
        if through is not None and (self.trim_through is None or through > self.trim_through):
            self.trim_through = through
