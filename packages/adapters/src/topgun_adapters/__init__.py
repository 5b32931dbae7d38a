"""Storage adapters for TopGun (memory, SQLite, PostgreSQL).

Will hold the storage adapters behind the `StorageAdapter` protocol defined in core:
memory, SQLite (the embedded default, file + WAL), PostgreSQL (psycopg 3, pooled) and an
encrypting wrapper, each passing one conformance suite. Built by issue 3; today this
package is only its skeleton.
"""

__all__: list[str] = []
