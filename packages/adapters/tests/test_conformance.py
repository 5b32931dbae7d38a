"""Every adapter passes every check of the storage conformance suite.

Each (adapter, check) pair is its own test case, so a failure names both. The
checks that need a restart on the same store are left out for SQLite ``:memory:``,
which forgets everything on close. PostgreSQL cases start the session's server.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from topgun_adapters import MemoryStorage
from topgun_core.lww_map import LWWRecord
from topgun_core.storage import StorageAdapter
from topgun_core.testing.storage import (
    STORAGE_CHECKS,
    StorageCheck,
    StorageFixture,
    check_storage_adapter,
    checks_for,
)

DURABLE = {
    "memory": True,
    "sqlite_file": True,
    "sqlite_memory": False,
    "postgres": True,
    "encrypted_memory": True,
    "encrypted_sqlite_file": True,
}

CASES = [
    pytest.param(kind, check, id=f"{kind}-{check.name}")
    for kind, durable in DURABLE.items()
    for check in checks_for(durable=durable)
]


@pytest.mark.parametrize(("kind", "check"), CASES)
async def test_storage_check(
    kind: str, check: StorageCheck, storage_fixture_factory: Callable[[str], StorageFixture]
) -> None:
    await check.run(storage_fixture_factory(kind))


def test_check_names_are_unique_and_restart_checks_are_marked() -> None:
    names = [c.name for c in STORAGE_CHECKS]
    assert len(names) == len(set(names))
    restart = {c.name for c in STORAGE_CHECKS if c.needs_reopen}
    assert restart == {
        "partition_count_mismatch_refused",
        "oplog_ids_survive_reopen",
        "durable_after_reopen",
    }
    assert len(checks_for(durable=False)) == len(STORAGE_CHECKS) - len(restart)


async def test_runner_passes_a_conforming_adapter(
    storage_fixture_factory: Callable[[str], StorageFixture],
) -> None:
    await check_storage_adapter(storage_fixture_factory("memory"))


class _TtlDroppingStorage(MemoryStorage):
    """A broken adapter: it loses LWW TTLs (the reference system's bug)."""

    async def load_lww(self, map_name: str) -> list[tuple[str, LWWRecord]]:
        return [(k, r._replace(ttl_ms=None)) for k, r in await super().load_lww(map_name)]


class _BrokenFixture:
    durable = True

    def __init__(self) -> None:
        self._last = _TtlDroppingStorage()

    async def new(self) -> StorageAdapter:
        self._last = _TtlDroppingStorage()
        return self._last

    async def reopen(self) -> StorageAdapter:
        return self._last


async def test_runner_names_the_broken_rule() -> None:
    with pytest.raises(AssertionError, match="storage check 'lww_upsert_replace_delete' failed"):
        await check_storage_adapter(_BrokenFixture())
