"""EncryptedStorage: data at rest is sealed, bound to its row, and the key is checked.

The conformance suite (test_conformance.py) already runs every storage rule through
the wrapper over memory and SQLite; these tests cover what only encryption adds.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from topgun_adapters import EncryptedStorage, MemoryStorage, SQLiteStorage, derive_key
from topgun_core.errors import StorageError
from topgun_core.hlc import Timestamp
from topgun_core.lww_map import LWWRecord
from topgun_core.or_map import ORRecord
from topgun_core.storage import WriteBatch

KEY = bytes(range(32))
OTHER_KEY = bytes(reversed(range(32)))
SECRET = "TOP-SECRET-VALUE"


def _record(value: object, millis: int = 1) -> LWWRecord:
    return LWWRecord(value, Timestamp(millis, 0, "node"))  # type: ignore[arg-type]


async def _write_secret(store: EncryptedStorage) -> None:
    stamp = Timestamp(5, 0, "node")
    await store.apply(
        WriteBatch(
            map_kinds={"users": "lww", "tags": "or"},
            lww_upserts=[("users", "u1", _record({"name": SECRET}))],
            or_upserts=[("tags", "t", ORRecord(SECRET, stamp, str(stamp)))],
            kv_puts=[("ns", "doc", SECRET.encode())],
            oplog_appends=[SECRET.encode()],
        )
    )


async def test_nothing_secret_reaches_the_file(tmp_path: Path) -> None:
    path = tmp_path / "local.db"
    store = EncryptedStorage(SQLiteStorage(path), key=KEY)
    await store.open()
    await _write_secret(store)
    assert (await store.load_lww("users"))[0][1].value == {"name": SECRET}
    assert (await store.oplog_read(-1, 10))[0].payload == SECRET.encode()
    await store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert SECRET.encode() not in raw
    assert b"users" in raw  # names stay in clear, by design


async def test_wrong_key_is_refused_at_open() -> None:
    inner = MemoryStorage()
    store = EncryptedStorage(inner, key=KEY)
    await store.open()
    await _write_secret(store)
    await store.close()
    with pytest.raises(StorageError, match="wrong key or passphrase") as info:
        await EncryptedStorage(inner, key=OTHER_KEY).open()
    assert not info.value.retryable


async def test_passphrase_derives_the_same_key_after_reopen(tmp_path: Path) -> None:
    path = tmp_path / "local.db"
    store = EncryptedStorage(SQLiteStorage(path), passphrase="correct horse")
    await store.open()
    await _write_secret(store)
    await store.close()
    again = EncryptedStorage(SQLiteStorage(path), passphrase="correct horse")
    await again.open()
    assert (await again.kv_get("ns", "doc")) == SECRET.encode()
    await again.close()
    with pytest.raises(StorageError, match="wrong key"):
        await EncryptedStorage(SQLiteStorage(path), passphrase="wrong horse").open()


async def test_a_value_moved_to_another_row_fails_authentication(tmp_path: Path) -> None:
    path = tmp_path / "local.db"
    store = EncryptedStorage(SQLiteStorage(path), key=KEY)
    await store.open()
    await store.apply(
        WriteBatch(lww_upserts=[("users", "u1", _record("alice")), ("users", "u2", _record("bob"))])
    )
    await store.close()
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        lww_table = next(t for t in tables if "lww" in t)
        (blob,) = conn.execute(f"SELECT value FROM {lww_table} WHERE key = 'u1'").fetchone()
        conn.execute(f"UPDATE {lww_table} SET value = ? WHERE key = 'u2'", (blob,))
    reopened = EncryptedStorage(SQLiteStorage(path), key=KEY)
    await reopened.open()
    with pytest.raises(StorageError, match=r"map 'users' key 'u2'.*fails authentication"):
        await reopened.load_lww("users")
    await reopened.close()


async def test_tombstones_stay_visible_as_none() -> None:
    store = EncryptedStorage(MemoryStorage(), key=KEY)
    await store.open()
    await store.apply(WriteBatch(lww_upserts=[("m", "gone", _record(None))]))
    assert (await store.load_lww("m")) == [("gone", _record(None))]
    await store.close()


async def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        EncryptedStorage(MemoryStorage())
    with pytest.raises(ValueError, match="32 bytes"):
        EncryptedStorage(MemoryStorage(), key=b"short")
    with pytest.raises(ValueError, match="empty"):
        derive_key("", b"salt")
    store = EncryptedStorage(MemoryStorage(), key=KEY)
    with pytest.raises(StorageError, match="not open"):
        await store.kv_get("ns", "k")
    await store.open()
    with pytest.raises(StorageError, match="3-tuple"):
        await store.apply(WriteBatch(kv_puts=[("ns", "k")]))  # type: ignore[list-item]
    with pytest.raises(StorageError, match="must be bytes"):
        await store.apply(WriteBatch(oplog_appends=["text"]))  # type: ignore[list-item]
    await store.close()
