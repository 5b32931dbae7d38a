"""Distributed locks on the client: ``async with client.lock(name) as lock``.

A :class:`LockHandle` acquires by sending ``LOCK_REQUEST`` and waiting for the
``LOCK_GRANTED`` naming its request; its ``fencing_token`` (strictly increasing per
name for the life of the data) is what to hand to the resource the lock guards.
``acquire(timeout=…)`` returns False when the grant did not come in time; the
client then withdraws its wait (``LOCK_RELEASE`` for a lock it does not hold
cancels its place in the queue), and a grant that still arrives for the abandoned
request is released at once. A connection lost while waiting sends the request
again on the next connection (within the timeout); a lock *held* when the
connection drops is released by the server — the handle's ``lost`` turns true.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

from topgun_client._coordination import ConnectionLost, Coordination, new_request_id
from topgun_client._errors import ServerError
from topgun_core.protocol import LockGrantedPayload, LockRequestPayload

__all__ = ["LockHandle", "Locks"]


class LockHandle:
    """One client's claim on lock ``name`` (module docstring)."""

    def __init__(self, locks: Locks, name: str, ttl_ms: int | None) -> None:
        self.name = name
        self.ttl_ms = ttl_ms
        self._locks = locks
        self.fencing_token: int | None = None
        """The token of the current grant (None while not held)."""
        self.lost = False
        """True when a held lock ended because the connection dropped."""

    @property
    def held(self) -> bool:
        """Whether this handle holds the lock (as far as this client knows)."""
        return self.fencing_token is not None and not self.lost

    async def acquire(self, timeout: float | None = None) -> bool:
        """Wait for the lock; False if it was not granted within ``timeout`` seconds."""
        return await self._locks.acquire(self, timeout)

    async def release(self, timeout: float | None = 5.0) -> bool:
        """Release a held lock; whether the server accepted it (owner and token matched)."""
        return await self._locks.release(self, timeout)

    async def __aenter__(self) -> Self:
        await self.acquire()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.held:
            await self.release()


class Locks:
    """Lock requests in flight and locks held by one client."""

    def __init__(self, hub: Coordination) -> None:
        self._hub = hub
        self._waiting: dict[str, tuple[LockHandle, asyncio.Future[int]]] = {}
        self._abandoned: dict[str, str] = {}  # request id -> lock name
        self._held: dict[str, LockHandle] = {}

    async def acquire(self, handle: LockHandle, timeout: float | None) -> bool:
        """See :meth:`LockHandle.acquire`."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - loop.time())
            request_id = new_request_id("lock")
            try:
                async with asyncio.timeout(remaining):
                    await self._hub.wait_connected(None)
                    future: asyncio.Future[int] = loop.create_future()
                    self._waiting[request_id] = (handle, future)
                    payload: LockRequestPayload = {"requestId": request_id, "name": handle.name}
                    if handle.ttl_ms is not None:
                        payload["ttl"] = handle.ttl_ms
                    self._hub.send({"type": "LOCK_REQUEST", "payload": payload})
                    token = await future
            except ConnectionLost:
                continue  # ask again on the next connection
            except TimeoutError:
                self._abandon(request_id, handle.name)
                return False
            finally:
                self._waiting.pop(request_id, None)
            handle.fencing_token = token
            handle.lost = False
            self._held[handle.name] = handle
            return True

    def _abandon(self, request_id: str, name: str) -> None:
        self._abandoned[request_id] = name
        # Withdraw from the queue; a grant that crosses this is released on arrival.
        self._hub.send(
            {
                "type": "LOCK_RELEASE",
                "payload": {"requestId": new_request_id("cancel"), "name": name, "fencingToken": 0},
            }
        )

    async def release(self, handle: LockHandle, timeout: float | None) -> bool:
        """See :meth:`LockHandle.release`."""
        token = handle.fencing_token
        if token is None or handle.lost:
            return False
        handle.fencing_token = None
        self._held.pop(handle.name, None)
        request_id = new_request_id("release")
        message = {
            "type": "LOCK_RELEASE",
            "payload": {"requestId": request_id, "name": handle.name, "fencingToken": token},
        }
        answer = await self._hub.request(request_id, message, timeout)  # type: ignore[arg-type]  # a LOCK_RELEASE
        return bool(answer["type"] == "LOCK_RELEASED" and answer["payload"]["success"])

    def granted(self, payload: LockGrantedPayload) -> None:
        """A LOCK_GRANTED: complete its request, or release an abandoned one at once."""
        request_id = payload["requestId"]
        waiting = self._waiting.get(request_id)
        if waiting is not None and not waiting[1].done():
            waiting[1].set_result(payload["fencingToken"])
            return
        name = self._abandoned.pop(request_id, None)
        if name is not None:
            self._hub.send(
                {
                    "type": "LOCK_RELEASE",
                    "payload": {
                        "requestId": new_request_id("release"),
                        "name": name,
                        "fencingToken": payload["fencingToken"],
                    },
                }
            )

    def failed(self, request_id: str, error: ServerError) -> None:
        """An ERROR naming a lock request."""
        waiting = self._waiting.get(request_id)
        if waiting is not None and not waiting[1].done():
            waiting[1].set_exception(error)

    def disconnected(self) -> None:
        """Requests in flight are asked again; held locks are gone (the server released them)."""
        for _, future in self._waiting.values():
            if not future.done():
                future.set_exception(ConnectionLost("the connection dropped while waiting"))
        self._abandoned.clear()
        for handle in self._held.values():
            handle.lost = True
        self._held.clear()
