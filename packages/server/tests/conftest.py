"""Fixtures for the server tests.

* ``server`` — a running in-process server on memory storage;
* every ``ProtocolClient`` a test opens is closed at teardown, pass or fail;
* ``FlakyStorage`` (via ``flaky_storage``) — a MemoryStorage whose writes can be
  held back (an event gate), failed, and whose loads are counted: fault injection
  without sleeps;
* ``pg_cluster`` / ``pg_dsn`` — a throwaway PostgreSQL (``topgun_adapters.testing``);
  skipped without the binaries unless ``TOPGUN_REQUIRE_POSTGRES=1``.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest

from topgun_adapters import MemoryStorage
from topgun_adapters.testing import PgCluster, find_pg_bin
from topgun_core.errors import StorageError
from topgun_core.storage import ORSnapshot, WriteBatch
from topgun_server.testing import ProtocolClient, RunningServer, running_server


@pytest.fixture(autouse=True)
async def _close_clients(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """Close every ProtocolClient a test opened, even when the test fails midway."""
    opened: list[ProtocolClient] = []
    original = ProtocolClient.connect.__func__  # type: ignore[attr-defined]

    async def tracking_connect(
        cls: type[ProtocolClient], url: str, **kwargs: object
    ) -> ProtocolClient:
        client: ProtocolClient = await original(cls, url, **kwargs)
        opened.append(client)
        return client

    monkeypatch.setattr(ProtocolClient, "connect", classmethod(tracking_connect))
    yield
    for client in opened:
        await client.close()


@pytest.fixture
async def server() -> AsyncIterator[RunningServer]:
    async with running_server() as running:
        yield running


class FlakyStorage(MemoryStorage):
    """MemoryStorage with a gate on writes, injectable failures, and load counting."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail_writes = 0
        self.fail_ping = False
        self.applied: list[WriteBatch] = []
        self.loads: dict[str, int] = {}
        self.load_gate = asyncio.Event()
        self.load_gate.set()
        self.write_waiting = asyncio.Event()

    async def apply(self, batch: WriteBatch) -> list[int]:
        self.write_waiting.set()
        await self.gate.wait()
        if self.fail_writes:
            self.fail_writes -= 1
            raise StorageError("injected failure")
        self.applied.append(batch)
        return await super().apply(batch)

    async def ping(self) -> None:
        if self.fail_ping:
            raise StorageError("injected: database down")
        await super().ping()

    async def load_lww(self, map_name: str):  # type: ignore[no-untyped-def]
        self.loads[map_name] = self.loads.get(map_name, 0) + 1
        await self.load_gate.wait()
        return await super().load_lww(map_name)

    async def load_or(self, map_name: str) -> ORSnapshot:
        self.loads[map_name] = self.loads.get(map_name, 0) + 1
        await self.load_gate.wait()
        return await super().load_or(map_name)


@pytest.fixture
def flaky_storage() -> FlakyStorage:
    return FlakyStorage()


# ---------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        if os.environ.get("TOPGUN_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL binaries not found and TOPGUN_REQUIRE_POSTGRES=1")
        pytest.skip("PostgreSQL binaries not found; set TOPGUN_REQUIRE_POSTGRES=1 to fail instead")
    cluster = PgCluster(bin_dir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


_DATABASES = itertools.count(1)


@pytest.fixture
def pg_dsn(pg_cluster: PgCluster) -> str:
    """A DSN of a fresh database of its own (TLS off: a loopback test server)."""
    name = f"server_test_{next(_DATABASES)}"
    pg_cluster.create_database(name)
    with psycopg.connect(pg_cluster.dsn(name), autocommit=True):
        pass
    return pg_cluster.dsn(name, sslmode="disable")
