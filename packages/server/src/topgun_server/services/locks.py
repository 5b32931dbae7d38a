"""Distributed locks on one node: the sans-IO :class:`~topgun_core.locks.LockTable`
driven by the server — persistence of fencing tokens, expiry timer, disconnects.

Fencing tokens must never repeat for a lock name, across releases *and restarts*.
So every new grant's token (the name's high-water mark) and the table's fencing
floor are written to storage — kv namespaces :data:`LOCKS_NAMESPACE` (one document
per name) and :data:`LOCKS_META_NAMESPACE` (``floor``) — through the persistence
queue, and ``LOCK_GRANTED`` is sent only **after** that write is durable. On start
:meth:`Locks.load` restores the marks and the floor, so the first grant after a
restart continues above every token ever handed out. If the write fails, the grant
is withdrawn (the lock is released again, the next waiter is tried) and the
requester gets ``ERROR 503`` naming its request.

Owners are connections (``Session.id``): a disconnect ends every lease and wait of
the connection (:meth:`Locks.disconnected`). Leases expire on time: :meth:`Locks.run`
sleeps until the table's next expiry (or until a grant changes it) and ends what
has lapsed, granting the next waiter. A waiter that gives up sends ``LOCK_RELEASE``
for the name while still queued; that cancels its wait (answered ``success: true``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from topgun_core.clock import Clock
from topgun_core.errors import StorageError
from topgun_core.locks import LOCK_TTL_MIN_MS, Granted, LockEffect, LockTable, Queued
from topgun_core.storage import StorageAdapter, WriteBatch
from topgun_server.ws.session import Session

__all__ = ["LOCKS_META_NAMESPACE", "LOCKS_NAMESPACE", "Locks", "Submit"]

_log = logging.getLogger(__name__)

LOCKS_NAMESPACE: Final = "topgun.locks.fencing"
"""kv namespace: lock name → the last fencing token issued for it (decimal)."""
LOCKS_META_NAMESPACE: Final = "topgun.locks.meta"
"""kv namespace holding ``floor``: every name's next token is above it."""

Submit = Callable[[WriteBatch], Awaitable["asyncio.Future[None]"]]
"""Queue a batch for persistence; the returned future resolves once it is durable."""


class Locks:
    """Every lock of this node, with durable fencing high-water marks."""

    def __init__(
        self,
        clock: Clock,
        submit: Submit,
        task_group: asyncio.TaskGroup,
        *,
        ttl_min_ms: int = LOCK_TTL_MIN_MS,
    ) -> None:
        self.table = LockTable(clock, ttl_min_ms=ttl_min_ms)
        self._clock = clock
        self._submit = submit
        self._tg = task_group
        self._sessions: dict[str, Session] = {}
        self._wake = asyncio.Event()
        self.granted = 0
        self.expired = 0

    async def load(self, storage: StorageAdapter) -> None:
        """Restore the persisted fencing marks and floor (call once, before serving)."""
        marks = {name: int(raw) for name, raw in (await storage.kv_scan(LOCKS_NAMESPACE)).items()}
        floor = await storage.kv_get(LOCKS_META_NAMESPACE, "floor")
        self.table.restore_high_water(marks, floor=int(floor) if floor is not None else 0)

    async def request(
        self, session: Session, name: str, request_id: str, ttl_ms: int | None
    ) -> Granted | Queued:
        """Acquire for ``session``: granted now (after persisting the token) or queued."""
        outcome = self.table.request(name, session.id, request_id, ttl_ms)
        self._sessions[session.id] = session
        if isinstance(outcome, Granted):
            await self._grant(outcome)
        self._wake.set()
        return outcome

    async def release(
        self, session: Session, name: str, fencing_token: int
    ) -> tuple[bool, str | None]:
        """Release (owner and token must match) or, for a queued client, cancel its wait."""
        holder = self.table.holder(name)
        if (
            holder is not None
            and holder.owner != session.id
            and self.table.cancel(name, session.id)
        ):
            return True, None
        result = self.table.release(name, session.id, fencing_token)
        await self._apply(result.effects)
        return result.ok, result.error

    def disconnected(self, session: Session) -> None:
        """End every lease and wait of a closed connection (grants go out in the background)."""
        effects = self.table.release_all(session.id)
        self._sessions.pop(session.id, None)
        if effects:
            self._tg.create_task(self._apply(effects))

    async def run(self) -> None:
        """The expiry timer: end lapsed leases at the table's next expiry."""
        while True:
            self._wake.clear()
            effects = self.table.expire()
            if effects:
                await self._apply(effects)
                continue
            next_ms = self.table.next_expiry_ms()
            timeout = None if next_ms is None else max(0, next_ms - self._clock.now_ms()) / 1000
            try:
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _apply(self, effects: tuple[LockEffect, ...] | list[LockEffect]) -> None:
        for effect in effects:
            if isinstance(effect, Granted):
                await self._grant(effect)
            else:
                if effect.reason == "expired":
                    self.expired += 1
                _log.debug("lock %r released (%s)", effect.name, effect.reason)
        self._wake.set()

    async def _grant(self, grant: Granted) -> None:
        if not grant.extended:
            try:
                await self._persist(grant)
            except StorageError as exc:
                await self._withdraw(grant, exc)
                return
        session = self._sessions.get(grant.owner)
        if session is None:
            return  # gone while its token was being persisted (its lease was ended)
        self.granted += 1
        session.outbox.send(
            {
                "type": "LOCK_GRANTED",
                "payload": {
                    "requestId": grant.request_id,
                    "name": grant.name,
                    "fencingToken": grant.fencing_token,
                },
            }
        )

    async def _persist(self, grant: Granted) -> None:
        batch = WriteBatch(
            kv_puts=[
                (LOCKS_NAMESPACE, grant.name, str(grant.fencing_token).encode()),
                (LOCKS_META_NAMESPACE, "floor", str(self.table.fencing_floor).encode()),
            ]
        )
        done = await self._submit(batch)
        await done

    async def _withdraw(self, grant: Granted, exc: StorageError) -> None:
        _log.warning("lock %r not granted: its fencing token could not be stored", grant.name)
        session = self._sessions.get(grant.owner)
        if session is not None:
            session.outbox.send(
                {
                    "type": "ERROR",
                    "payload": {
                        "code": exc.code,
                        "message": "the lock could not be granted: storage unavailable",
                        "details": {"requestId": grant.request_id, "name": grant.name},
                    },
                }
            )
        result = self.table.release(grant.name, grant.owner, grant.fencing_token)
        await self._apply(result.effects)
