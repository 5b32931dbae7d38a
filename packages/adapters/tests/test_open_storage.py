"""``open_storage(url)`` picks and configures the adapter a storage URL names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from topgun_adapters import MemoryStorage, PostgresStorage, SQLiteStorage, open_storage


def test_memory() -> None:
    assert isinstance(open_storage("memory"), MemoryStorage)
    assert isinstance(open_storage("memory://"), MemoryStorage)


def test_sqlite_relative_path_is_relative_to_the_working_directory() -> None:
    store = open_storage("sqlite:///data/topgun.db")
    assert isinstance(store, SQLiteStorage)
    assert store.path == os.path.abspath("data/topgun.db")


def test_sqlite_absolute_path_has_four_slashes(tmp_path: Path) -> None:
    store = open_storage(f"sqlite:///{tmp_path}/x.db")
    assert isinstance(store, SQLiteStorage)
    assert store.path == str(tmp_path / "x.db")


def test_sqlite_percent_escapes_are_decoded() -> None:
    store = open_storage("sqlite:///my%20data/t.db")
    assert isinstance(store, SQLiteStorage)
    assert store.path == os.path.abspath("my data/t.db")


def test_sqlite_memory() -> None:
    store = open_storage("sqlite:///:memory:")
    assert isinstance(store, SQLiteStorage)
    assert store.path == ":memory:"


async def test_an_opened_sqlite_url_works(tmp_path: Path) -> None:
    store = open_storage(f"sqlite:///{tmp_path}/new/dir/t.db")
    await store.open()
    try:
        await store.ping()
    finally:
        await store.close()
    assert (tmp_path / "new" / "dir" / "t.db").is_file()


@pytest.mark.parametrize(
    "url", ["postgresql://u@db.example/topgun", "postgres://u@127.0.0.1:5432/topgun"]
)
def test_postgres_schemes(url: str) -> None:
    assert isinstance(open_storage(url), PostgresStorage)


def test_postgres_url_goes_through_the_tls_policy() -> None:
    with pytest.raises(ValueError, match="sslmode=require"):
        open_storage("postgresql://u@db.example/topgun?sslmode=require")


@pytest.mark.parametrize(
    "url",
    ["sqlite://", "sqlite:///", "sqlite://host/x.db", "sqlite:///x.db?mode=ro", "sqlite:///x#f"],
)
def test_malformed_sqlite_urls(url: str) -> None:
    with pytest.raises(ValueError, match="sqlite"):
        open_storage(url)


@pytest.mark.parametrize("url", ["mysql://u:secret@h/db", "redis://h", "", "nonsense", "file:///x"])
def test_unknown_schemes_are_refused_without_echoing_the_url(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported storage URL scheme") as info:
        open_storage(url)
    assert "secret" not in str(info.value)
    assert "expected memory, sqlite:///path.db" in str(info.value)
