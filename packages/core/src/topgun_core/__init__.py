"""TopGun core: the pure, sans-IO logic shared by server and client."""

from topgun_core.clock import Clock, SystemClock
from topgun_core.errors import (
    AuthError,
    ClockDriftError,
    ClusterError,
    ConflictError,
    LimitExceeded,
    NotFoundError,
    PermissionDenied,
    ProtocolError,
    RateLimited,
    StorageError,
    TopGunError,
    Unavailable,
    ValidationError,
)
from topgun_core.hashing import (
    PARTITION_COUNT,
    combine_hashes,
    hash32,
    hash32_many,
    hash_backend,
    merkle_item_hash,
    partition_for,
)
from topgun_core.hlc import HLC, Timestamp
from topgun_core.journal import (
    EventJournal,
    JournalConfig,
    JournalEvent,
    JournalPage,
    JournalSubscription,
)
from topgun_core.lww_map import LWWMap, LWWRecord
from topgun_core.merkle import MerkleTree
from topgun_core.or_map import ORMap, ORRecord
from topgun_core.pn_counter import PNCounter, PNCounterState
from topgun_core.ringbuffer import Ringbuffer, SequenceOutOfRange
from topgun_core.storage import MapKind, StorageAdapter, WriteBatch
from topgun_core.values import JsonValue, canonical_json

__version__ = "0.1.0"

__all__ = [
    "HLC",
    "PARTITION_COUNT",
    "AuthError",
    "Clock",
    "ClockDriftError",
    "ClusterError",
    "ConflictError",
    "EventJournal",
    "JournalConfig",
    "JournalEvent",
    "JournalPage",
    "JournalSubscription",
    "JsonValue",
    "LWWMap",
    "LWWRecord",
    "LimitExceeded",
    "MapKind",
    "MerkleTree",
    "NotFoundError",
    "ORMap",
    "ORRecord",
    "PNCounter",
    "PNCounterState",
    "PermissionDenied",
    "ProtocolError",
    "RateLimited",
    "Ringbuffer",
    "SequenceOutOfRange",
    "StorageAdapter",
    "StorageError",
    "SystemClock",
    "Timestamp",
    "TopGunError",
    "Unavailable",
    "ValidationError",
    "WriteBatch",
    "__version__",
    "canonical_json",
    "combine_hashes",
    "hash32",
    "hash32_many",
    "hash_backend",
    "merkle_item_hash",
    "partition_for",
]
