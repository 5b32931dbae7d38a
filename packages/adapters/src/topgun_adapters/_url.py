"""``open_storage(url)``: one string in settings picks the storage adapter.

Accepted forms (the SQLite ones follow SQLAlchemy's convention):

* ``memory`` (or ``memory://``) — :class:`MemoryStorage`;
* ``sqlite:///relative/path.db`` — a file relative to the working directory;
* ``sqlite:////absolute/path.db`` — an absolute path (four slashes);
* ``sqlite:///:memory:`` — a private in-memory SQLite database;
* ``postgresql://…`` or ``postgres://…`` — :class:`PostgresStorage` with the URL as
  its DSN (libpq accepts both schemes).

The adapter is created, not opened: ``await adapter.open()`` connects. Errors name
the scheme but never echo the URL, which may carry a password.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from topgun_adapters._memory import MemoryStorage
from topgun_adapters._postgres import PostgresStorage
from topgun_adapters._sqlite import SQLiteStorage
from topgun_core.storage import StorageAdapter

__all__ = ["open_storage"]

_EXPECTED = "expected memory, sqlite:///path.db, sqlite:///:memory: or postgresql://..."


def _sqlite_path(url: str) -> str:
    parts = urlsplit(url)
    if parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"a sqlite URL has no host, query or fragment; {_EXPECTED}")
    path = unquote(parts.path)
    if not path.startswith("/") or len(path) < 2:
        raise ValueError(f"a sqlite URL needs a path after 'sqlite:///'; {_EXPECTED}")
    # sqlite:///x -> path "/x" -> relative "x"; sqlite:////x -> "//x" -> absolute "/x".
    return path[1:]


def open_storage(url: str) -> StorageAdapter:
    """The (unopened) storage adapter a storage URL names; ``ValueError`` if it names none."""
    if not isinstance(url, str):
        raise TypeError("a storage URL is a str")
    scheme, sep, _ = url.partition(":")
    scheme = scheme.lower() if sep else url.strip().lower()
    if url.strip().lower() in ("memory", "memory://"):
        return MemoryStorage()
    if scheme == "sqlite":
        return SQLiteStorage(_sqlite_path(url))
    if scheme in ("postgresql", "postgres"):
        return PostgresStorage(url)
    shown = scheme if scheme.isascii() and scheme.isalnum() and len(scheme) <= 20 else "?"
    raise ValueError(f"unsupported storage URL scheme {shown!r}; {_EXPECTED}")
