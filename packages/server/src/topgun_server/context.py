"""The one context every handler receives: settings and the services, nothing else.

:class:`ServerContext` is a plain record of collaborators built once by the app's
lifespan (:mod:`topgun_server.app`). It owns no behaviour of its own — the
behaviour lives in the services it points to — so it cannot grow into the
coordinator object STYLE.md warns about.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from topgun_core.clock import Clock
from topgun_core.hlc import HLC
from topgun_core.policies import PolicyEngine
from topgun_core.protocol import Limits
from topgun_core.storage import StorageAdapter
from topgun_server.auth.tokens import TokenVerifier
from topgun_server.interceptors import Interceptors
from topgun_server.metrics import Metrics
from topgun_server.sandbox import SandboxPool
from topgun_server.services.broadcast import Broadcast
from topgun_server.services.counters import Counters
from topgun_server.services.gc import TombstoneGC
from topgun_server.services.journal import Journal
from topgun_server.services.live import LiveQueries
from topgun_server.services.locks import Locks
from topgun_server.services.maps import Maps
from topgun_server.services.persistence import PersistenceQueue
from topgun_server.services.processors import Processors
from topgun_server.services.resolvers import Resolvers
from topgun_server.services.topics import Topics
from topgun_server.settings import ServerSettings
from topgun_server.ws.session import Session

__all__ = ["Lifecycle", "ServerContext"]


@dataclass(slots=True)
class Lifecycle:
    """Whether the server takes connections and writes (false while shutting down)."""

    ready: bool = False
    accepting_writes: bool = True
    shutting_down: bool = False
    started_s: float = field(default_factory=time.monotonic)


@dataclass(eq=False, slots=True)
class ServerContext:
    """Settings and services, handed to every handler."""

    settings: ServerSettings
    node_id: str
    clock: Clock
    hlc: HLC
    """The server's clock; non-strict, so loading stored records never fails on drift."""
    drift: HLC
    """A strict HLC used only for ``check_drift`` of inbound timestamps (SEMANTICS §2)."""
    storage: StorageAdapter
    verifier: TokenVerifier
    policies: PolicyEngine
    metrics: Metrics
    maps: Maps
    persistence: PersistenceQueue
    broadcast: Broadcast
    gc: TombstoneGC
    topics: Topics
    locks: Locks
    counters: Counters
    journal: Journal
    sandbox: SandboxPool
    processors: Processors
    resolvers: Resolvers
    interceptors: Interceptors
    """Topics, locks, counters, journal, processors, resolvers, sandbox, extensions (issue 5)."""
    live: LiveQueries
    """Live queries, searches and hybrid queries, full-text indexes (issue 4)."""
    limits: Limits
    preauth_limits: Limits
    sessions: set[Session] = field(default_factory=set)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
