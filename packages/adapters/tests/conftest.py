"""Fixtures for the adapter tests: a throwaway PostgreSQL server and storage fixtures.

The PostgreSQL server is a real one: ``initdb`` + ``pg_ctl`` in a temporary
directory, listening on 127.0.0.1 on a free port with its Unix socket in that
directory (fsync off: the cluster is thrown away). PostgreSQL refuses to run as
root, so when the tests run as root (CI does) the server runs as the ``postgres``
system user through ``runuser``, with the directory handed to that user.

When the binaries are missing the PostgreSQL tests are skipped — unless
``TOPGUN_REQUIRE_POSTGRES=1`` (set by CI), which turns that into a failure.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from topgun_adapters import EncryptedStorage, MemoryStorage, PostgresStorage, SQLiteStorage
from topgun_adapters.testing import PgCluster, find_pg_bin
from topgun_core.storage import StorageAdapter
from topgun_core.testing.storage import StorageFixture


def _require_pg_bin() -> Path:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        message = "PostgreSQL binaries (initdb, pg_ctl) not found"
        if os.environ.get("TOPGUN_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{message} and TOPGUN_REQUIRE_POSTGRES=1")
        hint = "install postgresql, or set TOPGUN_REQUIRE_POSTGRES=1 to fail instead"
        pytest.skip(f"{message}; {hint}")  # only without TOPGUN_REQUIRE_POSTGRES=1
    return bin_dir


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A running PostgreSQL server for the whole session."""
    cluster = PgCluster(_require_pg_bin())
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="session")
def postgres_dsn(pg_cluster: PgCluster) -> str:
    """A DSN of a database of its own on the session server."""
    return pg_cluster.create_database("topgun_test")


@pytest.fixture
def dying_postgres() -> Iterator[PgCluster]:
    """A server of its own that a test may stop (to play a dead database)."""
    cluster = PgCluster(_require_pg_bin())
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


# ---------------------------------------------------------------- storage fixtures


class MemoryFixture:
    """Each ``new()`` is a new MemoryStorage; ``reopen()`` hands back the same object."""

    durable = True

    def __init__(self) -> None:
        self._last: MemoryStorage | None = None

    async def new(self) -> StorageAdapter:
        self._last = MemoryStorage()
        return self._last

    async def reopen(self) -> StorageAdapter:
        assert self._last is not None
        return self._last


class SQLiteFileFixture:
    """Each ``new()`` is a new file; ``reopen()`` a new adapter on the same file."""

    durable = True

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._count = 0

    async def new(self) -> StorageAdapter:
        self._count += 1
        return SQLiteStorage(self._directory / f"store-{self._count}" / "topgun.db")

    async def reopen(self) -> StorageAdapter:
        return SQLiteStorage(self._directory / f"store-{self._count}" / "topgun.db")


class SQLiteMemoryFixture:
    """A private ``:memory:`` database per adapter: nothing survives a close."""

    durable = False

    async def new(self) -> StorageAdapter:
        return SQLiteStorage(":memory:")

    async def reopen(self) -> StorageAdapter:
        raise AssertionError("a :memory: database cannot be reopened")


_SCHEMA_NUMBERS = itertools.count(1)


class PostgresFixture:
    """Each ``new()`` gets a schema of its own (via ``search_path``) in the test database."""

    durable = True

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._schema = ""

    def _schema_dsn(self) -> str:
        return f"{self._dsn}?options=-csearch_path%3D{self._schema}"

    async def new(self) -> StorageAdapter:
        self._schema = f"store_{next(_SCHEMA_NUMBERS)}"
        async with await psycopg.AsyncConnection.connect(self._dsn, autocommit=True) as conn:
            await conn.execute(f"CREATE SCHEMA {self._schema}")
        return PostgresStorage(self._schema_dsn(), pool_max=2, acquire_timeout_s=10.0)

    async def reopen(self) -> StorageAdapter:
        return PostgresStorage(self._schema_dsn(), pool_max=2, acquire_timeout_s=10.0)


TEST_KEY = bytes(range(32))
"""A fixed AES-256 key for the encrypted-storage fixtures."""


class EncryptedFixture:
    """Wraps every adapter another fixture makes in an EncryptedStorage with one key."""

    def __init__(self, inner: StorageFixture) -> None:
        self._inner = inner
        self.durable = inner.durable

    async def new(self) -> StorageAdapter:
        return EncryptedStorage(await self._inner.new(), key=TEST_KEY)

    async def reopen(self) -> StorageAdapter:
        return EncryptedStorage(await self._inner.reopen(), key=TEST_KEY)


@pytest.fixture
def storage_fixture_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[str], StorageFixture]:
    """``factory(kind)`` -> a storage fixture; starts PostgreSQL only when asked for."""

    def make(kind: str) -> StorageFixture:
        if kind == "memory":
            return MemoryFixture()
        if kind == "sqlite_file":
            return SQLiteFileFixture(tmp_path)
        if kind == "sqlite_memory":
            return SQLiteMemoryFixture()
        if kind.startswith("encrypted_"):
            return EncryptedFixture(make(kind.removeprefix("encrypted_")))
        assert kind == "postgres"
        return PostgresFixture(request.getfixturevalue("postgres_dsn"))

    return make


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    """A path for a SQLite file in a directory that does not exist yet."""
    return tmp_path / "nested" / "dir" / "topgun.db"


@pytest.fixture
def pg_schema_dsn(postgres_dsn: str) -> str:
    """A DSN whose ``search_path`` is a new, empty schema (a store of its own)."""
    schema = f"store_{next(_SCHEMA_NUMBERS)}"
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{postgres_dsn}?options=-csearch_path%3D{schema}"
