"""Wiring of the coordination and compute services (issue 5) into one server.

:func:`build_coordination` creates topics, locks, counters, the journal, the
sandbox pool, processors, resolvers and interceptors from the settings, restores
what is durable (fencing high-water marks, the persisted journal, admins'
resolvers), and returns them as the :class:`~topgun_server.context.ServerContext`
fields of the same names. :func:`release_session` is what a closed connection
leaves behind: its topic subscriptions, locks and waits (granting the next
waiters), counter and journal subscriptions, its non-persistent resolvers and
its sandbox budget; interceptors' ``on_disconnect`` runs in the background.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, TypedDict

from topgun_core.clock import Clock
from topgun_core.hlc import HLC
from topgun_core.journal import JournalConfig
from topgun_core.storage import StorageAdapter
from topgun_server.interceptors import Interceptors
from topgun_server.sandbox import SandboxLimits, SandboxPool
from topgun_server.services.counters import Counters
from topgun_server.services.journal import Journal
from topgun_server.services.locks import Locks
from topgun_server.services.persistence import PersistenceQueue
from topgun_server.services.processors import Processors
from topgun_server.services.resolvers import Resolvers
from topgun_server.services.topics import Topics
from topgun_server.settings import ServerSettings
from topgun_server.ws.session import Session

if TYPE_CHECKING:
    from topgun_server.context import ServerContext

__all__ = ["CoordinationServices", "build_coordination", "release_session"]

_log = logging.getLogger(__name__)


class CoordinationServices(TypedDict):
    """The context fields :func:`build_coordination` provides."""

    topics: Topics
    locks: Locks
    counters: Counters
    journal: Journal
    sandbox: SandboxPool
    processors: Processors
    resolvers: Resolvers
    interceptors: Interceptors


async def build_coordination(
    settings: ServerSettings,
    storage: StorageAdapter,
    clock: Clock,
    hlc: HLC,
    persistence: PersistenceQueue,
    task_group: asyncio.TaskGroup,
) -> CoordinationServices:
    """Create the services and restore their durable state."""
    node_id = hlc.node_id
    submit = persistence.submit_applied
    sandbox = SandboxPool(
        SandboxLimits(
            workers=settings.sandbox_workers,
            timeout_ms=settings.sandbox_timeout_ms,
            memory_bytes=settings.sandbox_memory_bytes,
            cpu_s=settings.sandbox_cpu_s,
            queue_timeout_ms=settings.sandbox_queue_timeout_ms,
        ),
        task_group,
    )
    locks = Locks(clock, submit, task_group, ttl_min_ms=settings.lock_ttl_min_ms)
    await locks.load(storage)
    journal = Journal(
        JournalConfig(capacity=settings.journal_capacity, ttl_ms=settings.journal_ttl_ms),
        clock,
        node_id,
        submit,
        persist=settings.journal_persist,
    )
    await journal.load(storage)
    resolvers = Resolvers(sandbox, submit)
    await resolvers.load(storage)
    return {
        "topics": Topics(),
        "locks": locks,
        "counters": Counters(storage, submit, node_id),
        "journal": journal,
        "sandbox": sandbox,
        "processors": Processors(
            sandbox, runs_per_s=settings.sandbox_runs_per_s, runs_burst=settings.sandbox_runs_burst
        ),
        "resolvers": resolvers,
        "interceptors": Interceptors(hlc.now),
    }


def release_session(ctx: ServerContext, session: Session) -> None:
    """Forget what a closed connection held (module docstring)."""
    ctx.topics.remove_session(session)
    ctx.locks.disconnected(session)
    ctx.counters.remove_session(session)
    ctx.journal.remove_session(session)
    ctx.resolvers.remove_client(session.id)
    ctx.processors.remove_session(session)
    if ctx.interceptors and session.principal is not None:
        task = ctx.maps.task_group.create_task(ctx.interceptors.disconnected(session))
        task.add_done_callback(_log_failure)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        _log.warning("an interceptor's on_disconnect failed: %r", task.exception())
