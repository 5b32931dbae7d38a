"""Entry processors on the server: built-ins in-process, user code in the sandbox.

:class:`Processors` computes a processor's :class:`~topgun_core.processors.ProcessorOutcome`
for a key's current value — a built-in by calling it, user code by running it in
the :class:`~topgun_server.sandbox.SandboxPool` and validating what it returned
(:func:`~topgun_core.processors.validate_processor_result`). It also keeps the
per-key locks that make a processor atomic on its key (concurrent processors on
one key run one after the other; see ``handlers/compute.py`` for the re-check
against concurrent plain writes) and the per-connection budget of sandboxed
executions (``sandbox_runs_per_s`` / ``sandbox_runs_burst``, 429 past it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from topgun_core.errors import RateLimited
from topgun_core.processors import ProcessorOutcome, ProcessorRequest, validate_processor_result
from topgun_core.values import JsonValue
from topgun_server.sandbox import SandboxPool
from topgun_server.ws.ratelimit import TokenBucket
from topgun_server.ws.session import Session

__all__ = ["BATCH_KEYS_MAX", "Processors"]

BATCH_KEYS_MAX: Final = 1000
"""Keys one ``ENTRY_PROCESS_BATCH`` may name."""


class Processors:
    """Outcomes of processors, key locks and sandbox budgets."""

    def __init__(self, sandbox: SandboxPool, *, runs_per_s: float, runs_burst: int) -> None:
        self._sandbox = sandbox
        self._runs_per_s = runs_per_s
        self._runs_burst = runs_burst
        self._budgets: dict[str, TokenBucket] = {}
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}
        self.builtin_runs = 0
        self.sandboxed_runs = 0

    def charge(self, session: Session) -> None:
        """Spend one sandboxed execution of ``session``'s budget (429 when spent)."""
        bucket = self._budgets.get(session.id)
        if bucket is None:
            bucket = self._budgets[session.id] = TokenBucket(self._runs_per_s, self._runs_burst)
        if not bucket.take():
            raise RateLimited(
                f"sandboxed executions over {self._runs_per_s:g}/s for this client; slow down"
            )

    def remove_session(self, session: Session) -> None:
        """Forget a closed connection's budget."""
        self._budgets.pop(session.id, None)

    @asynccontextmanager
    async def key_lock(self, map_name: str, key: str) -> AsyncIterator[None]:
        """Hold the lock of one key (locks exist only while someone uses them)."""
        entry = self._locks.get((map_name, key))
        lock = asyncio.Lock() if entry is None else entry[0]
        self._locks[map_name, key] = (lock, (0 if entry is None else entry[1]) + 1)
        try:
            async with lock:
                yield
        finally:
            lock_now, users = self._locks[map_name, key]
            if users == 1:
                del self._locks[map_name, key]
            else:
                self._locks[map_name, key] = (lock_now, users - 1)

    async def outcome(
        self, request: ProcessorRequest, value: JsonValue, key: str
    ) -> ProcessorOutcome:
        """What ``request`` does to ``value`` (the key's live value; None: absent)."""
        if request.code is None:
            self.builtin_runs += 1
            return request.run_builtin(value, key)
        self.sandboxed_runs += 1
        raw = await self._sandbox.run(
            "process", request.code, {"value": value, "key": key, "args": request.args}
        )
        return validate_processor_result(raw, previous=value)
