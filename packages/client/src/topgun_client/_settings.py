"""Client settings: every timing and every bound, named with its unit, in one frozen object.

A :class:`ClientSettings` is passed to :class:`~topgun_client.TopGunClient` once and
never changes; library code reads no environment. Each ``*_max`` is a bound with a
stated behaviour when it is reached (see the field docs): back-pressure on the
caller, or a :class:`~topgun_core.errors.LimitExceeded` naming the limit — never a
silent drop.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from topgun_core.protocol import DEFAULT_LIMITS, Limits

__all__ = ["ClientSettings"]


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Timings and limits of one client. Every field is validated as a positive number.

    Local durability:

    - ``local_flush_interval_ms``: group-commit window. A write is durable in the
      local store at most this long (plus the commit itself) after ``set()`` returns.
    - ``local_queue_ops_max``: writes applied in memory but not yet committed locally.
      Reaching it makes ``set()`` raise ``LimitExceeded`` (await ``flush_local()``);
      remote changes wait for room instead (back-pressure on the socket).

    Sending the op log:

    - ``batch_ops_max``: ops per ``OP_BATCH`` frame (and per op-log page read).
    - ``inflight_ops_max``: ops sent and not yet acknowledged; the op log is read
      page by page and sending pauses at this bound, so a queue of any length never
      sits in memory at once.
    - ``pending_writes_max``: ``write()`` calls awaiting their ``OP_ACK``; the next one
      raises ``LimitExceeded``.
    - ``outbound_frames_max``: frames queued for the socket; senders wait when full.
    - ``write_timeout_ms``: default timeout of ``write()``.

    Connection:

    - ``connect_timeout_ms``: opening the socket and the handshake.
    - ``heartbeat_interval_ms`` / ``heartbeat_timeout_ms``: a ``PING`` every interval;
      no frame at all for the timeout closes the socket and reconnects.
    - ``backoff_initial_ms`` / ``backoff_max_ms``: reconnect delay, capped exponential
      with full jitter (``uniform(0, min(max, initial * 2**attempt))``).
    - ``max_drift_ms``: a server timestamp further ahead of the local clock than this
      is refused and reported (strict HLC, SEMANTICS.md §2).

    Callbacks:

    - ``listeners_max``: change, state and error callbacks registered at once; one
      more raises ``LimitExceeded``.

    Queries:

    - ``query_changes_max``: changes a live query or search keeps for a consumer of
      ``changes()`` that is behind; past it ``changes()`` raises ``LimitExceeded``.
    - ``query_index_auto_threshold``: local queries of one pattern (equality, range…
      on an attribute) after which the client indexes that attribute itself.

    ``limits`` bounds inbound frames (the protocol's :class:`Limits`); the websocket's
    ``max_size`` is ``limits.frame_bytes_max``.
    """

    local_flush_interval_ms: int = 5
    local_queue_ops_max: int = 50_000
    batch_ops_max: int = 500
    inflight_ops_max: int = 2_000
    pending_writes_max: int = 10_000
    outbound_frames_max: int = 64
    write_timeout_ms: int = 5_000
    connect_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 10_000
    heartbeat_timeout_ms: int = 30_000
    backoff_initial_ms: int = 250
    backoff_max_ms: int = 30_000
    max_drift_ms: int = 60_000
    listeners_max: int = 1_000
    query_changes_max: int = 10_000
    query_index_auto_threshold: int = 3
    limits: Limits = DEFAULT_LIMITS

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "limits":
                if not isinstance(value, Limits):
                    raise TypeError("ClientSettings.limits must be a topgun_core Limits")
                continue
            if type(value) is not int or value < 1:
                raise ValueError(f"ClientSettings.{f.name} must be a positive int, got {value!r}")
        if self.batch_ops_max > self.limits.batch_ops_max:
            raise ValueError("ClientSettings.batch_ops_max exceeds the protocol's batch_ops_max")
        if self.inflight_ops_max < self.batch_ops_max:
            raise ValueError("ClientSettings.inflight_ops_max must be >= batch_ops_max")
        if self.backoff_max_ms < self.backoff_initial_ms:
            raise ValueError("ClientSettings.backoff_max_ms must be >= backoff_initial_ms")
