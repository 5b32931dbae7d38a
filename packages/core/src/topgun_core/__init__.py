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
    "JsonValue",
    "LimitExceeded",
    "NotFoundError",
    "PermissionDenied",
    "ProtocolError",
    "RateLimited",
    "StorageError",
    "SystemClock",
    "Timestamp",
    "TopGunError",
    "Unavailable",
    "ValidationError",
    "__version__",
    "canonical_json",
    "combine_hashes",
    "hash32",
    "hash32_many",
    "hash_backend",
    "merkle_item_hash",
    "partition_for",
]
