"""The offline-first TopGun Python client SDK.

:class:`TopGunClient` keeps a local replica of the maps it uses — CRDTs in memory,
backed by a local store (SQLite file, memory, or any ``StorageAdapter``) — so reads
and writes never wait for the network. Writes go to an op log in the store that
survives crashes and is pushed to the server in bounded batches whenever a
connection is up; each map is kept in step with the server by Merkle-tree sync and
live events. :mod:`topgun_client.sync` offers the same for scripts without asyncio.

Design: the protocol logic is sans-IO (``_engine``, ``_outbox``, ``_sync``,
``_replica``: messages in, effects out); thin shells own the socket
(``_connection``) and the store (``_writer``). See ``docs/client.md``.
"""

from __future__ import annotations

import logging

from topgun_client._backoff import Backoff
from topgun_client._client import ClientStats, TopGunClient
from topgun_client._compute import MergeRejection, ProcessorFailed, ProcessorResult
from topgun_client._counters import CounterHandle
from topgun_client._effects import MapChange
from topgun_client._errors import ClientClosed, ServerError, WriteRejected, WriteTimeout
from topgun_client._journal import JournalPage, JournalStream
from topgun_client._locks import LockHandle
from topgun_client._maps import LWWMapHandle, ORMapHandle, WriteConcern
from topgun_client._outbox import WriteResult
from topgun_client._queries import LiveQuery, QueryChange, QueryPage
from topgun_client._search import RankedQuery, SearchChange, SearchResult
from topgun_client._settings import ClientSettings
from topgun_client._state import TRANSITIONS, ConnectionState, IllegalTransition
from topgun_client._tokens import TokenProvider
from topgun_client._topics import TopicHandle, TopicMessage, TopicQueueSettings, TopicSubscription

__version__ = "0.1.0"

__all__ = [
    "TRANSITIONS",
    "Backoff",
    "ClientClosed",
    "ClientSettings",
    "ClientStats",
    "ConnectionState",
    "CounterHandle",
    "IllegalTransition",
    "JournalPage",
    "JournalStream",
    "LWWMapHandle",
    "LiveQuery",
    "LockHandle",
    "MapChange",
    "MergeRejection",
    "ORMapHandle",
    "ProcessorFailed",
    "ProcessorResult",
    "QueryChange",
    "QueryPage",
    "RankedQuery",
    "SearchChange",
    "SearchResult",
    "ServerError",
    "TokenProvider",
    "TopGunClient",
    "TopicHandle",
    "TopicMessage",
    "TopicQueueSettings",
    "TopicSubscription",
    "WriteConcern",
    "WriteRejected",
    "WriteResult",
    "WriteTimeout",
    "__version__",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
