"""PostgresStorage specifics: the pool under concurrency, close, settings."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest

from topgun_adapters import PostgresStorage
from topgun_core.errors import StorageError
from topgun_core.hlc import Timestamp
from topgun_core.lww_map import LWWRecord
from topgun_core.storage import WriteBatch


async def test_concurrent_appends_get_unique_ids_in_commit_order(pg_schema_dsn: str) -> None:
    store = PostgresStorage(pg_schema_dsn, pool_max=5)
    await store.open()
    try:
        results = await asyncio.gather(
            *(store.oplog_append([f"{i}-a".encode(), f"{i}-b".encode()]) for i in range(40))
        )
        ids = [i for pair in results for i in pair]
        assert len(set(ids)) == 80
        assert all(b == a + 1 for a, b in results)  # one append's ids are contiguous
        entries = await store.oplog_read(0, 1000)
        assert [e.id for e in entries] == sorted(ids)
    finally:
        await store.close()


async def test_concurrent_applies_all_land(pg_schema_dsn: str) -> None:
    store = PostgresStorage(pg_schema_dsn, pool_max=4)
    await store.open()
    try:
        await asyncio.gather(
            *(
                store.apply(
                    WriteBatch(
                        map_kinds={"m": "lww"},
                        lww_upserts=[("m", f"k{i}", LWWRecord(i, Timestamp(i, 0, "A")))],
                    )
                )
                for i in range(30)
            )
        )
        assert len(await store.load_lww("m")) == 30
        assert await store.map_kinds() == {"m": "lww"}
    finally:
        await store.close()


async def test_close_lets_calls_in_flight_finish(pg_schema_dsn: str) -> None:
    store = PostgresStorage(pg_schema_dsn)
    await store.open()
    batch = WriteBatch(
        lww_upserts=[("m", f"k{i}", LWWRecord(i, Timestamp(i, 0, "A"))) for i in range(2000)]
    )
    pending = asyncio.create_task(store.apply(batch))
    closing_task = asyncio.create_task(store.close())
    await asyncio.gather(pending, closing_task)
    await store.open()
    try:
        assert len(await store.load_lww("m")) == 2000
    finally:
        await store.close()


async def test_statement_timeout_ends_a_slow_statement(pg_schema_dsn: str) -> None:
    store = PostgresStorage(pg_schema_dsn, statement_timeout_s=0.2)
    await store.open()
    try:
        with psycopg.connect(pg_schema_dsn, autocommit=True) as conn:
            conn.execute(
                "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS"
                " $$ BEGIN PERFORM pg_sleep(30); RETURN NEW; END $$"
            )
            conn.execute(
                "CREATE TRIGGER slow BEFORE INSERT ON topgun_kv FOR EACH ROW"
                " EXECUTE FUNCTION slow()"
            )
        started = time.monotonic()
        with pytest.raises(StorageError, match="apply failed") as info:
            await store.apply(WriteBatch(kv_puts=[("ns", "k", b"v")]))
        assert time.monotonic() - started < 20  # generous; without the timeout: 30 s
        assert isinstance(info.value.__cause__, psycopg.errors.QueryCanceled)
        assert await store.kv_get("ns", "k") is None
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"pool_min": 3, "pool_max": 2}, "pool_min"),
        ({"pool_max": 0}, "pool_max"),
        ({"acquire_timeout_s": 0}, "timeouts"),
        ({"idle_timeout_s": -1}, "timeouts"),
        ({"statement_timeout_s": 0}, "timeouts"),
    ],
)
def test_constructor_refuses_bad_limits(kwargs: dict[str, float], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        PostgresStorage("postgresql://u@localhost/db", **kwargs)  # type: ignore[arg-type]
