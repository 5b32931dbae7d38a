"""SQLiteStorage specifics: WAL on disk, commits that survive kill -9, one worker thread."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

import pytest

from topgun_adapters import SQLiteStorage
from topgun_core.hlc import Timestamp
from topgun_core.lww_map import LWWRecord
from topgun_core.storage import WriteBatch


def _record(i: int) -> LWWRecord:
    return LWWRecord({"i": i, "f": 1.0}, Timestamp(1000 + i, 0, "node-A"), 60_000)


async def test_file_is_in_wal_mode_and_parents_are_created(sqlite_path: Path) -> None:
    assert not sqlite_path.parent.exists()
    store = SQLiteStorage(sqlite_path)
    await store.open()
    await store.close()
    with closing(sqlite3.connect(sqlite_path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from topgun_adapters import SQLiteStorage
    from topgun_core.hlc import Timestamp
    from topgun_core.lww_map import LWWRecord
    from topgun_core.storage import WriteBatch

    async def main(path, synchronous):
        store = SQLiteStorage(path, synchronous=synchronous)
        await store.open()
        for i in range(20):
            record = LWWRecord(i, Timestamp(1000 + i, 0, "node-A"), 60_000)
            await store.apply(WriteBatch(lww_upserts=[("m", f"k{i}", record)]))
        await store.oplog_append([b"op"] * 5)
        print("committed", flush=True)
        sys.stdin.read()  # block, never close: the parent kills us

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


@pytest.mark.parametrize("synchronous", ["FULL", "NORMAL"])
async def test_committed_writes_survive_kill_9(tmp_path: Path, synchronous: str) -> None:
    path = tmp_path / "killed.db"
    with subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path), synchronous],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "committed"
        child.kill()  # SIGKILL: no close(), no checkpoint, no atexit
        child.wait()
    store = SQLiteStorage(path)
    await store.open()
    try:
        records = await store.load_lww("m")
        assert len(records) == 20
        assert await store.oplog_count() == 5
    finally:
        await store.close()


async def test_concurrent_calls_are_serialised_in_call_order() -> None:
    store = SQLiteStorage(":memory:")
    await store.open()
    try:
        appends = [store.oplog_append([f"{i}".encode()]) for i in range(50)]
        writes = [
            store.apply(WriteBatch(lww_upserts=[("m", f"k{i}", _record(i))])) for i in range(50)
        ]
        results = await asyncio.gather(*appends, *writes)
        ids = [r[0] for r in results[:50] if isinstance(r, list)]
        assert ids == sorted(ids)
        assert len(set(ids)) == 50
        assert len(await store.load_lww("m")) == 50
        entries = await store.oplog_read(0, 100)
        assert [e.payload for e in entries] == [f"{i}".encode() for i in range(50)]
    finally:
        await store.close()


async def test_the_event_loop_keeps_running_during_a_large_apply(tmp_path: Path) -> None:
    store = SQLiteStorage(tmp_path / "big.db")
    await store.open()
    loop = asyncio.get_running_loop()
    ticks = 0
    handle: asyncio.Handle | None = None

    def tick() -> None:  # a callback that reschedules itself for every loop iteration
        nonlocal ticks, handle
        ticks += 1
        handle = loop.call_soon(tick)

    batch = WriteBatch(lww_upserts=[("m", f"k{i}", _record(i)) for i in range(20_000)])
    try:
        tick()
        started = ticks
        await store.apply(batch)
        assert ticks > started + 1  # the loop ran other work while the worker wrote
    finally:
        assert handle is not None
        handle.cancel()
        await store.close()


async def test_close_finishes_pending_calls_first() -> None:
    store = SQLiteStorage(":memory:")
    await store.open()
    batch = WriteBatch(lww_upserts=[("m", f"k{i}", _record(i)) for i in range(1000)])
    pending = asyncio.create_task(store.apply(batch))
    closing_task = asyncio.create_task(store.close())  # runs after the apply queued its work
    await asyncio.gather(pending, closing_task)  # the apply completed instead of failing


async def test_reopen_after_close_on_the_same_object(sqlite_path: Path) -> None:
    store = SQLiteStorage(sqlite_path)
    await store.open()
    await store.apply(WriteBatch(kv_puts=[("ns", "k", b"v")]))
    await store.close()
    await store.open()
    try:
        assert await store.kv_get("ns", "k") == b"v"
    finally:
        await store.close()


def test_constructor_refuses_bad_settings(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="synchronous"):
        SQLiteStorage(tmp_path / "x.db", synchronous="OFF")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="busy_timeout_ms"):
        SQLiteStorage(tmp_path / "x.db", busy_timeout_ms=-1)
