"""Storage adapters for TopGun: memory, SQLite and PostgreSQL.

Each class implements :class:`topgun_core.storage.StorageAdapter` and passes the
conformance suite in :mod:`topgun_core.testing.storage`:

* :class:`MemoryStorage` — dicts; durable for the life of the object (tests, caches).
* :class:`SQLiteStorage` — the embedded default: a SQLite file in WAL mode, driven
  from one worker thread so the event loop never blocks.
* :class:`PostgresStorage` — PostgreSQL through a psycopg 3 async pool with acquire,
  idle and statement timeouts and verified TLS.
* :class:`EncryptedStorage` — wraps any of them and seals values, documents and op-log
  payloads with AES-256-GCM (a key, or a passphrase through scrypt).

:func:`open_storage` builds one from a URL (``memory``, ``sqlite:///path.db``,
``postgresql://…``). Every backend failure surfaces as
:class:`topgun_core.errors.StorageError` with a message safe to show; every stored
row is validated when read back.
"""

from __future__ import annotations

import logging

from topgun_adapters._encrypted import EncryptedStorage, derive_key
from topgun_adapters._memory import MemoryStorage
from topgun_adapters._postgres import PostgresStorage
from topgun_adapters._sqlite import SQLiteStorage
from topgun_adapters._url import open_storage

__all__ = [
    "EncryptedStorage",
    "MemoryStorage",
    "PostgresStorage",
    "SQLiteStorage",
    "derive_key",
    "open_storage",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
