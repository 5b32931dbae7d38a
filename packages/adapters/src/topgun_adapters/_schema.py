"""The SQL schema both SQL adapters share, its migrations, and the open-time checks.

Tables carry a ``topgun_`` prefix so a PostgreSQL database can be shared with other
applications. One row per LWW ``(map, key)``, per OR ``(map, tag)`` and per OR
tombstone ``(map, tag)``, each with its key's partition (``part``) so that a future
partition-count change is a migration over an indexed column. Timestamps are three
columns (millis, counter, node id); values are msgpack blobs; TTLs are numbers.

**Migrations** (HARDENING §20): ``MIGRATIONS[n]`` takes a store from schema version
``n`` to ``n + 1``. ``open()`` creates the meta table if needed, reads
``schema_version`` (0 for a new store), refuses a store newer than this code, runs
the missing steps in the same transaction and records the new version — so a crash
mid-migration leaves the old version intact. A new schema version appends a step;
steps are never edited once released.

The statements are written once with ``?`` placeholders and three dialect type
names; :class:`Dialect` renders them for sqlite3 (``?``) or psycopg (``%s``).
"""

from __future__ import annotations

from dataclasses import dataclass

from topgun_core.errors import StorageError
from topgun_core.hashing import PARTITION_COUNT

__all__ = [
    "MIGRATIONS",
    "PARTITION_COUNT_TEXT",
    "POSTGRES",
    "SCHEMA_VERSION",
    "SQLITE",
    "Dialect",
    "check_partition_count",
    "check_schema_version",
    "kind_conflict",
]

PARTITION_COUNT_TEXT = str(PARTITION_COUNT)
"""The partition count as stored in meta."""

_CREATE_META = "CREATE TABLE IF NOT EXISTS topgun_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"

_TIMESTAMP_COLUMNS = (
    "ts_millis {bigint} NOT NULL, ts_counter {bigint} NOT NULL, ts_node TEXT NOT NULL"
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 0 -> 1: the first schema.
    (
        "CREATE TABLE topgun_map_kinds (map TEXT PRIMARY KEY, kind TEXT NOT NULL)",
        "CREATE TABLE topgun_lww (map TEXT NOT NULL, key TEXT NOT NULL, part INTEGER NOT NULL,"
        f" value {{blob}}, {_TIMESTAMP_COLUMNS}, ttl_ms {{ttl}}, PRIMARY KEY (map, key))",
        "CREATE INDEX topgun_lww_part ON topgun_lww (map, part)",
        "CREATE TABLE topgun_or (map TEXT NOT NULL, tag TEXT NOT NULL, key TEXT NOT NULL,"
        f" part INTEGER NOT NULL, value {{blob}} NOT NULL, {_TIMESTAMP_COLUMNS},"
        " ttl_ms {ttl}, PRIMARY KEY (map, tag))",
        "CREATE INDEX topgun_or_part ON topgun_or (map, part)",
        "CREATE TABLE topgun_or_tombstones (map TEXT NOT NULL, tag TEXT NOT NULL,"
        " key TEXT NOT NULL, part INTEGER NOT NULL, PRIMARY KEY (map, tag))",
        "CREATE TABLE topgun_kv (namespace TEXT NOT NULL, key TEXT NOT NULL,"
        " value {blob} NOT NULL, PRIMARY KEY (namespace, key))",
        "CREATE TABLE topgun_oplog (id {bigint} PRIMARY KEY, payload {blob} NOT NULL)",
        "CREATE TABLE topgun_counters (name TEXT PRIMARY KEY, value {bigint} NOT NULL)",
        "INSERT INTO topgun_counters (name, value) VALUES ('oplog', 0)",
    ),
)
"""``MIGRATIONS[n]`` upgrades schema version ``n`` to ``n + 1``; append, never edit."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this code writes."""


@dataclass(frozen=True, slots=True)
class Dialect:
    """Type names and placeholder style of one SQL backend; renders every statement."""

    blob: str
    bigint: str
    ttl: str
    placeholder: str

    def sql(self, text: str) -> str:
        """``text`` with its ``?`` placeholders in this dialect's style."""
        return text.replace("?", self.placeholder)

    def ddl(self, text: str) -> str:
        """A schema statement with this dialect's type names."""
        return text.format(blob=self.blob, bigint=self.bigint, ttl=self.ttl)

    @property
    def create_meta(self) -> str:
        """Bootstrap: the meta table, which holds the schema version itself."""
        return _CREATE_META

    @property
    def get_meta(self) -> str:
        """``(key,)`` -> ``value``."""
        return self.sql("SELECT value FROM topgun_meta WHERE key = ?")

    @property
    def set_meta(self) -> str:
        """``(key, value)``."""
        return self.sql(
            "INSERT INTO topgun_meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )

    def migration(self, version: int) -> list[str]:
        """The statements taking the schema from ``version`` to ``version + 1``."""
        return [self.ddl(text) for text in MIGRATIONS[version]]

    @property
    def select_kinds(self) -> str:
        """All ``(map, kind)`` rows."""
        return "SELECT map, kind FROM topgun_map_kinds"

    @property
    def select_kind(self) -> str:
        """``(map,)`` -> ``kind``."""
        return self.sql("SELECT kind FROM topgun_map_kinds WHERE map = ?")

    @property
    def load_lww(self) -> str:
        """``(map,)`` -> rows for ``decode_lww``."""
        return self.sql(
            "SELECT key, value, ts_millis, ts_counter, ts_node, ttl_ms"
            " FROM topgun_lww WHERE map = ? ORDER BY key"
        )

    @property
    def load_or(self) -> str:
        """``(map,)`` -> rows for ``decode_or``."""
        return self.sql(
            "SELECT key, tag, value, ts_millis, ts_counter, ts_node, ttl_ms"
            " FROM topgun_or WHERE map = ? ORDER BY key, tag"
        )

    @property
    def load_or_tombstones(self) -> str:
        """``(map,)`` -> rows for ``decode_tombstone``."""
        return self.sql("SELECT key, tag FROM topgun_or_tombstones WHERE map = ? ORDER BY key, tag")

    def apply_statements(self) -> tuple[str, ...]:
        """One statement per :class:`~topgun_adapters._codec.EncodedBatch` field, same order."""
        return tuple(self.sql(text) for text in _APPLY)

    def clear_map(self) -> tuple[str, ...]:
        """``(map,)`` for each: drop a map's records and tombstones."""
        return (
            self.sql("DELETE FROM topgun_lww WHERE map = ?"),
            self.sql("DELETE FROM topgun_or WHERE map = ?"),
            self.sql("DELETE FROM topgun_or_tombstones WHERE map = ?"),
        )

    @property
    def kv_get(self) -> str:
        """``(namespace, key)`` -> ``value``."""
        return self.sql("SELECT value FROM topgun_kv WHERE namespace = ? AND key = ?")

    @property
    def kv_scan(self) -> str:
        """``(namespace,)`` -> ``(key, value)`` rows."""
        return self.sql("SELECT key, value FROM topgun_kv WHERE namespace = ?")

    @property
    def oplog_reserve(self) -> str:
        """``(count,)``: advance the id counter; its row lock orders concurrent appends."""
        return self.sql("UPDATE topgun_counters SET value = value + ? WHERE name = 'oplog'")

    @property
    def oplog_last_id(self) -> str:
        """-> the highest op-log id ever issued (read after ``oplog_reserve``)."""
        return "SELECT value FROM topgun_counters WHERE name = 'oplog'"

    @property
    def oplog_insert(self) -> str:
        """``(id, payload)``."""
        return self.sql("INSERT INTO topgun_oplog (id, payload) VALUES (?, ?)")

    @property
    def oplog_read(self) -> str:
        """``(after_id, limit)`` -> ``(id, payload)`` rows in id order."""
        return self.sql("SELECT id, payload FROM topgun_oplog WHERE id > ? ORDER BY id LIMIT ?")

    @property
    def oplog_trim(self) -> str:
        """``(through_id,)``."""
        return self.sql("DELETE FROM topgun_oplog WHERE id <= ?")

    @property
    def oplog_count(self) -> str:
        """-> ``count``."""
        return "SELECT count(*) FROM topgun_oplog"


_APPLY = (
    "INSERT INTO topgun_map_kinds (map, kind) VALUES (?, ?) ON CONFLICT (map) DO NOTHING",
    "INSERT INTO topgun_lww (map, key, part, value, ts_millis, ts_counter, ts_node, ttl_ms)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (map, key) DO UPDATE SET part = excluded.part,"
    " value = excluded.value, ts_millis = excluded.ts_millis,"
    " ts_counter = excluded.ts_counter, ts_node = excluded.ts_node, ttl_ms = excluded.ttl_ms",
    "DELETE FROM topgun_lww WHERE map = ? AND key = ?",
    "INSERT INTO topgun_or (map, tag, key, part, value, ts_millis, ts_counter, ts_node, ttl_ms)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (map, tag) DO UPDATE SET"
    " key = excluded.key, part = excluded.part,"
    " value = excluded.value, ts_millis = excluded.ts_millis,"
    " ts_counter = excluded.ts_counter, ts_node = excluded.ts_node, ttl_ms = excluded.ttl_ms",
    "DELETE FROM topgun_or WHERE map = ? AND tag = ?",
    "INSERT INTO topgun_or_tombstones (map, tag, key, part) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (map, tag) DO UPDATE SET key = excluded.key, part = excluded.part",
    "DELETE FROM topgun_or_tombstones WHERE map = ? AND tag = ?",
    "INSERT INTO topgun_kv (namespace, key, value) VALUES (?, ?, ?)"
    " ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value",
    "DELETE FROM topgun_kv WHERE namespace = ? AND key = ?",
)

SQLITE = Dialect(blob="BLOB", bigint="INTEGER", ttl="NUMERIC", placeholder="?")
"""sqlite3: ``?`` placeholders; NUMERIC keeps an int TTL an int and a fractional one a float."""

POSTGRES = Dialect(blob="BYTEA", bigint="BIGINT", ttl="DOUBLE PRECISION", placeholder="%s")
"""psycopg 3: ``%s`` placeholders (client-side binding is never used)."""


def check_schema_version(stored: str | None) -> int:
    """The stored schema version (0 for a new store); refuse one newer than this code."""
    if stored is None:
        return 0
    if not (stored.isascii() and stored.isdigit()):
        raise StorageError("the store's schema version is not a number; refusing to open it")
    version = int(stored)
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"the store has schema version {version}, newer than this TopGun supports"
            f" ({SCHEMA_VERSION}); upgrade TopGun to open it"
        )
    return version


def check_partition_count(stored: str | None) -> None:
    """Refuse a store created with another partition count (HARDENING §23)."""
    if stored is not None and stored != PARTITION_COUNT_TEXT:
        raise StorageError(
            f"the store was created with partition count {stored[:20]!r}, this TopGun uses"
            f" {PARTITION_COUNT}; it needs a migration before it can be opened"
        )


def kind_conflict(map_name: str, stored: str | None, wanted: str) -> StorageError | None:
    """The error for giving a map a second kind (maps never change kind), or None."""
    if stored is None or stored == wanted:
        return None
    error = StorageError(f"map {map_name!r} is stored as {stored!r} and cannot become {wanted!r}")
    error.retryable = False
    return error
