"""The package is typed and exports exactly its public API."""

from __future__ import annotations

from importlib import resources

import topgun_adapters
from topgun_core.storage import StorageAdapter


def test_package_is_typed() -> None:
    assert resources.files(topgun_adapters).joinpath("py.typed").is_file()


def test_exports_are_pinned() -> None:
    assert topgun_adapters.__all__ == [
        "EncryptedStorage",
        "MemoryStorage",
        "PostgresStorage",
        "SQLiteStorage",
        "derive_key",
        "open_storage",
    ]
    for name in topgun_adapters.__all__:
        assert getattr(topgun_adapters, name).__doc__


def test_adapters_implement_the_protocol() -> None:
    for cls in (
        topgun_adapters.MemoryStorage,
        topgun_adapters.SQLiteStorage,
        topgun_adapters.PostgresStorage,
        topgun_adapters.EncryptedStorage,
    ):
        members = [n for n, v in vars(StorageAdapter).items() if callable(v) and n[0] != "_"]
        assert len(members) == 16
        assert [m for m in members if not hasattr(cls, m)] == [], cls
