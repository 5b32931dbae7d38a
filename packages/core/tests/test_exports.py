"""The public API of topgun_core is exactly what is pinned here.

Adding a name is a decision (update this list); removing one breaks users.
"""

from __future__ import annotations

import topgun_core
import topgun_native

CORE_API = {
    "HLC", "PARTITION_COUNT", "AuthError", "Clock", "ClockDriftError", "ClusterError",
    "ConflictError", "EventJournal", "JournalConfig", "JournalEvent", "JournalPage",
    "JournalSubscription", "JsonValue", "LWWMap", "LWWRecord", "LimitExceeded", "MapKind",
    "MerkleTree", "NotFoundError", "ORMap", "ORRecord", "PNCounter", "PNCounterState",
    "PermissionDenied", "ProtocolError", "RateLimited", "Ringbuffer", "SequenceOutOfRange",
    "StorageAdapter", "StorageError", "SystemClock", "Timestamp", "TopGunError", "Unavailable",
    "ValidationError", "WriteBatch", "__version__", "canonical_json", "combine_hashes",
    "hash32", "hash32_many", "hash_backend", "merkle_item_hash", "partition_for",
}  # fmt: skip


def test_core_exports_are_pinned() -> None:
    assert set(topgun_core.__all__) == CORE_API
    assert len(topgun_core.__all__) == len(CORE_API)


def test_every_export_resolves() -> None:
    for name in topgun_core.__all__:
        assert hasattr(topgun_core, name), name


def test_every_error_is_a_topgun_error() -> None:
    errors = [getattr(topgun_core, n) for n in CORE_API if n.endswith(("Error", "Exceeded"))]
    errors += [topgun_core.PermissionDenied, topgun_core.RateLimited, topgun_core.Unavailable]
    for error in errors:
        assert issubclass(error, topgun_core.TopGunError), error
        assert 400 <= error.code <= 503


def test_native_exports_are_pinned() -> None:
    assert set(topgun_native.__all__) == {
        "__version__",
        "hash32",
        "hash32_many",
        "merkle_item_hash",
    }
