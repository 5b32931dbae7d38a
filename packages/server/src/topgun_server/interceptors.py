"""Interceptors: a small, typed extension point around connections and write ops.

Subclass :class:`Interceptor` and override what you need; register instances on
the running server's :class:`Interceptors` (``build_app(..., interceptors=[...])``
or ``context_of(app).interceptors.add(...)``). Hooks run in registration order:

- ``on_connect(conn)`` once a connection has authenticated, ``on_disconnect(conn)``
  when it is gone (both awaited in the background; an exception is logged);
- ``before_op(conn, op)`` for every write op (``CLIENT_OP`` and each op of an
  ``OP_BATCH``) before it is validated: return the op — possibly a changed copy —
  or raise a :class:`~topgun_core.errors.TopGunError` to refuse it (the op alone is
  answered ``OP_REJECTED`` with the error's code; nothing of it is applied);
- ``after_op(conn, op)`` after the op was applied in memory (not for refused ops).

A hook that raises anything else refuses the op with a generic 500 and is logged:
an extension cannot crash the server. :class:`Connection` is the view a hook gets:
ids, principal, ``send`` (queue a message to that client) and ``server_timestamp``
(a fresh timestamp from the server's clock).

Two examples ship: :class:`RateLimitInterceptor` (ops per second per connection,
429 past it — clients retry those) and :class:`ServerTimestampInterceptor`
(server-authoritative ordering: each LWW op is re-stamped with the server's clock
on arrival, and the origin is sent the re-stamped record so its replica agrees).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import cast

from topgun_core.errors import RateLimited, TopGunError
from topgun_core.hlc import Timestamp
from topgun_core.lww_map import LWWRecord
from topgun_core.policies import Principal
from topgun_core.protocol import ClientOp, ServerMessage
from topgun_server.ws.ratelimit import TokenBucket
from topgun_server.ws.session import Session

__all__ = [
    "Connection",
    "Interceptor",
    "Interceptors",
    "RateLimitInterceptor",
    "ServerTimestampInterceptor",
]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, eq=False)
class Connection:
    """What an interceptor may know and do about one client connection."""

    id: str
    principal: Principal | None
    client_id: str | None
    send: Callable[[ServerMessage], None]
    """Queue a message to this client (never blocks)."""
    server_timestamp: Callable[[], Timestamp]
    """A fresh timestamp from the server's HLC."""


class Interceptor:
    """Base class: every hook does nothing until overridden."""

    name: str = "interceptor"

    async def on_connect(self, conn: Connection) -> None:
        """A connection authenticated."""

    async def on_disconnect(self, conn: Connection) -> None:
        """A connection is gone."""

    async def before_op(self, conn: Connection, op: ClientOp) -> ClientOp:
        """Return ``op`` (or a changed copy), or raise ``TopGunError`` to refuse it."""
        return op

    async def after_op(self, conn: Connection, op: ClientOp) -> None:
        """``op`` was applied in memory."""


class Interceptors:
    """The registered interceptors and the connection views they are given."""

    def __init__(self, server_timestamp: Callable[[], Timestamp]) -> None:
        self._items: list[Interceptor] = []
        self._server_timestamp = server_timestamp
        self._views: dict[str, Connection] = {}

    def __bool__(self) -> bool:
        return bool(self._items)

    def add(self, interceptor: Interceptor) -> None:
        """Register ``interceptor`` after those already registered."""
        self._items.append(interceptor)

    def extend(self, interceptors: Iterable[Interceptor]) -> None:
        """Register several."""
        for interceptor in interceptors:
            self.add(interceptor)

    def view(self, session: Session) -> Connection:
        """The :class:`Connection` for ``session`` (one per connection)."""
        view = self._views.get(session.id)
        if view is None:
            view = self._views[session.id] = Connection(
                session.id,
                session.principal,
                session.client_id,
                session.outbox.send,
                self._server_timestamp,
            )
        return view

    async def connected(self, session: Session) -> None:
        """Run every ``on_connect``."""
        for item in list(self._items):
            await _guarded(item, "on_connect", item.on_connect(self.view(session)))

    async def disconnected(self, session: Session) -> None:
        """Run every ``on_disconnect``, then forget the connection."""
        view = self.view(session)
        self._views.pop(session.id, None)
        for item in list(self._items):
            await _guarded(item, "on_disconnect", item.on_disconnect(view))

    async def before_op(self, session: Session, op: ClientOp) -> ClientOp:
        """Pass ``op`` through every ``before_op``; a refusal raises ``TopGunError``."""
        view = self.view(session)
        for item in list(self._items):
            try:
                op = await item.before_op(view, op)
            except TopGunError:
                raise
            except Exception:  # noqa: BLE001 - an extension's bug refuses the op, nothing more
                _log.exception("interceptor %s failed in before_op", item.name)
                error = TopGunError("internal error in a server extension")
                raise error from None
        return op

    async def screen(
        self, session: Session, ops: list[ClientOp]
    ) -> tuple[list[ClientOp], list[tuple[int, int, str]]]:
        """Each op through :meth:`before_op`: kept ops, and ``(op id, code, reason)`` refusals."""
        kept: list[ClientOp] = []
        refused: list[tuple[int, int, str]] = []
        for op in ops:
            try:
                kept.append(await self.before_op(session, op))
            except TopGunError as exc:
                refused.append((op["id"], exc.code, exc.message))
        return kept, refused

    async def after_op(self, session: Session, op: ClientOp) -> None:
        """Run every ``after_op``."""
        view = self.view(session)
        for item in list(self._items):
            await _guarded(item, "after_op", item.after_op(view, op))


async def _guarded(item: Interceptor, hook: str, call: object) -> None:
    try:
        await call  # type: ignore[misc]  # a coroutine of one of the hooks above
    except Exception:  # noqa: BLE001 - logged; an extension cannot break the connection
        _log.exception("interceptor %s failed in %s", item.name, hook)


class RateLimitInterceptor(Interceptor):
    """At most ``ops_per_s`` write ops per connection (bursts up to ``burst``); 429 beyond."""

    name = "rate-limit"

    def __init__(self, ops_per_s: float, burst: int) -> None:
        self.ops_per_s = ops_per_s
        self.burst = burst
        self._buckets: dict[str, TokenBucket] = {}
        self.refused = 0

    async def before_op(self, conn: Connection, op: ClientOp) -> ClientOp:
        bucket = self._buckets.get(conn.id)
        if bucket is None:
            bucket = self._buckets[conn.id] = TokenBucket(self.ops_per_s, self.burst)
        if not bucket.take():
            self.refused += 1
            raise RateLimited(f"more than {self.ops_per_s:g} ops/s on this connection; retry")
        return op

    async def on_disconnect(self, conn: Connection) -> None:
        self._buckets.pop(conn.id, None)


class ServerTimestampInterceptor(Interceptor):
    """Server-authoritative order: LWW ops are re-stamped with the server's clock.

    Clients' clocks then no longer decide which write wins — arrival at the server
    does. The origin is sent the re-stamped record (``SERVER_EVENT``) so its local
    replica adopts the server's stamp and stays in step (OR ops keep their tags,
    which are identities, and pass unchanged).
    """

    name = "server-timestamp"

    async def before_op(self, conn: Connection, op: ClientOp) -> ClientOp:
        if op["opType"] not in ("PUT", "REMOVE"):
            return op
        record = LWWRecord.from_wire(op["record"])
        stamped = LWWRecord(record.value, conn.server_timestamp(), record.ttl_ms)
        changed = dict(op)
        changed["record"] = stamped.to_wire()
        return cast("ClientOp", changed)  # the same op with a new record

    async def after_op(self, conn: Connection, op: ClientOp) -> None:
        if op["opType"] in ("PUT", "REMOVE"):
            conn.send(
                {
                    "type": "SERVER_EVENT",
                    "payload": {
                        "mapName": op["mapName"],
                        "key": op["key"],
                        "eventType": "UPDATED",
                        "record": op["record"],
                    },
                }
            )
