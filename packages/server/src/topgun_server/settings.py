"""The server's configuration: one frozen settings object, read once.

:class:`ServerSettings` is a pydantic-settings model. Each field can be given as a
keyword argument (what the CLI does with its flags, so flags override the
environment), or as an environment variable with the ``TOPGUN_`` prefix
(``TOPGUN_PORT=9000``, ``TOPGUN_JWT_SECRET=…``, ``TOPGUN_CORS_ORIGINS='["https://a"]'``),
or falls back to its default. pydantic-settings does the environment reading, so
no other module of the server ever touches ``os.environ``.

Every limit is named with its unit. :meth:`ServerSettings.check_production` holds
the production rules of HARDENING.md §1 (no missing, known or short JWT secret).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from topgun_core.protocol import Limits

__all__ = ["KNOWN_DEV_SECRETS", "SECRET_BYTES_MIN", "ConfigError", "ServerSettings"]

SECRET_BYTES_MIN = 32
"""A production HS256 secret must have at least this many bytes."""

KNOWN_DEV_SECRETS = frozenset(
    {
        "secret",
        "changeme",
        "change-me",
        "dev",
        "development",
        "topgun",
        "topgun-secret",
        "password",
        "jwt-secret",
        "test",
    }
)
"""Secrets that appear in examples and tutorials; production refuses them."""

_MIB = 1024 * 1024


class ConfigError(Exception):
    """The configuration cannot be used; the message says what to change."""


class ServerSettings(BaseSettings):
    """Everything the server can be told; immutable once built."""

    model_config = SettingsConfigDict(
        env_prefix="TOPGUN_", frozen=True, extra="forbid", env_file=None, validate_default=True
    )

    # -------------------------------------------------------------- where and what
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    """TCP port; 0 picks a free one (the chosen port is logged)."""
    storage: str = "sqlite:///topgun-data/topgun.db"
    """Storage URL: ``memory``, ``sqlite:///relative.db``, ``sqlite:////abs.db``, ``postgresql://…``."""
    env: Literal["development", "production"] = "development"
    node_id: str | None = None
    """HLC node id of this server; a random one per run when unset."""
    log_level: Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"] = "INFO"
    debug: bool = False
    """Verbose logging of hot paths (HARDENING §14); checked once at start-up."""

    # -------------------------------------------------------------- auth
    jwt_secret: SecretStr | None = None
    """HS256 secret. In development a random one is generated per run when unset."""
    jwt_public_key_file: Path | None = None
    """PEM public key (RSA → RS256, EC P-256 → ES256); takes precedence over the secret."""
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_s: int = Field(default=0, ge=0, le=300)
    policies_file: Path | None = None
    """JSON list of ``{role, pattern, actions, allowedFields?}``; default: USER may do all."""
    cors_origins: tuple[str, ...] = ()
    """Origins allowed to call the HTTP API from a browser; empty: none."""

    # -------------------------------------------------------------- connections
    connections_max: int = Field(default=1000, ge=1)
    overload_retry_after_ms: int = Field(default=5000, ge=0)
    auth_timeout_ms: int = Field(default=10_000, ge=1)
    idle_timeout_ms: int = Field(default=20_000, ge=1)
    frame_bytes_max: int = Field(default=64 * _MIB, ge=1024)
    preauth_frame_bytes_max: int = Field(default=64 * 1024, ge=256)
    """Frames before AUTH succeeds can be no bigger than this (an AUTH is small)."""
    client_msgs_per_s: float = Field(default=2000.0, gt=0)
    client_msgs_burst: int = Field(default=4000, ge=1)
    invalid_msgs_burst: int = Field(default=10, ge=1)
    """Invalid messages tolerated in a burst before the connection is closed 4003."""
    invalid_msgs_per_s: float = Field(default=1.0, gt=0)
    outbound_bytes_max: int = Field(default=16 * _MIB, ge=1024)
    """Bytes queued for one slow reader before it is disconnected (close 4004)."""
    outbound_batch_bytes_max: int = Field(default=1 * _MIB, ge=1024)
    """Bytes coalesced into one BATCH envelope."""
    pending_acks_max: int = Field(default=1000, ge=1)
    """Durable (PERSISTED/REPLICATED) batches one connection may have in flight."""
    ws_compression: bool = False
    shutdown_retry_after_ms: int = Field(default=2000, ge=0)
    shutdown_drain_timeout_s: float = Field(default=30.0, gt=0)

    # -------------------------------------------------------------- writes and persistence
    max_drift_ms: int = Field(default=60_000, ge=0)
    write_timeout_ms: int = Field(default=5000, ge=1)
    persistence_queue_ops_max: int = Field(default=100_000, ge=1)
    persistence_batch_ops_max: int = Field(default=10_000, ge=1)
    persistence_retry_ms_max: int = Field(default=5000, ge=10)

    # -------------------------------------------------------------- maps, sync, GC
    maps_memory_bytes_max: int = Field(default=1024 * _MIB, ge=1)
    """Estimated memory of loaded maps above which idle maps are evicted."""
    sync_leaf_records_max: int = Field(default=1000, ge=1)
    """Records per SYNC_RESP_LEAF / ORMAP_SYNC_RESP_LEAF chunk."""
    gc_interval_ms: int = Field(default=60_000, ge=10)
    gc_tombstone_age_ms: int = Field(default=7 * 24 * 3600 * 1000, ge=1)
    metrics_map_labels_max: int = Field(default=500, ge=1)

    # -------------------------------------------------------------- locks, journal, sandbox
    lock_ttl_min_ms: int = Field(default=1000, ge=1, le=10_000)
    """Shortest lock lease; requested TTLs are clamped to [this, 300 s] (default 10 s)."""
    journal_capacity: int = Field(default=10_000, ge=1, le=10_000_000)
    """Events the journal retains (in memory and, when persisted, in storage)."""
    journal_ttl_ms: int | None = Field(default=None, ge=1)
    """Journal events older than this are dropped; None: kept until overwritten."""
    journal_persist: bool = False
    """Keep the journal in storage (bounded by ``journal_capacity``) across restarts."""
    sandbox_workers: int = Field(default=2, ge=1, le=64)
    """Worker processes running user code (started on first use)."""
    sandbox_timeout_ms: int = Field(default=100, ge=1, le=60_000)
    """Hard wall-clock limit of one user-code run; past it the worker is killed."""
    sandbox_memory_bytes: int = Field(default=256 * _MIB, ge=128 * _MIB)
    """Address space of a sandbox worker (RLIMIT_AS)."""
    sandbox_cpu_s: int = Field(default=1, ge=1, le=60)
    """CPU seconds one run may use (RLIMIT_CPU backstop of the wall-clock limit)."""
    sandbox_queue_timeout_ms: int = Field(default=5000, ge=1)
    """How long a run waits for a free worker before a 503."""
    sandbox_runs_per_s: float = Field(default=100.0, gt=0)
    sandbox_runs_burst: int = Field(default=200, ge=1)
    """Sandboxed entry-processor runs per connection (token bucket); over it: 429."""

    # -------------------------------------------------------------- queries and full text
    fulltext: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Full-text fields per map, ``{"articles": ["title", "body"]}``."""
    indexes: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Query indexes per map, ``{"users": ["hash:email", "navigable:age", "compound:a,b"]}``."""
    index_advisor_threshold: int = Field(default=0, ge=0)
    """Queries of one pattern on a map after which an index is created for it (0: never)."""
    query_subscriptions_per_client_max: int = Field(default=1000, ge=1)
    """Live queries, searches and hybrids one connection may hold; one more is a 429."""
    query_subscriptions_per_map_max: int = Field(default=10_000, ge=1)
    """Live queries, searches and hybrids on one map; one more is a 429."""
    query_results_max: int = Field(default=10_000, ge=1)
    """Rows in one query page (a larger ``limit`` is a 413)."""

    def limits(self) -> Limits:
        """The codec limits for authenticated connections."""
        return Limits(frame_bytes_max=self.frame_bytes_max)

    def check_production(self) -> None:
        """Refuse a production configuration without a strong key (HARDENING.md §1)."""
        if self.env != "production":
            return
        if self.jwt_public_key_file is not None:
            return
        if self.jwt_secret is None:
            raise ConfigError(
                "production needs a JWT secret (TOPGUN_JWT_SECRET, at least "
                f"{SECRET_BYTES_MIN} bytes) or a public key (TOPGUN_JWT_PUBLIC_KEY_FILE)"
            )
        secret = self.jwt_secret.get_secret_value()
        if secret.strip().lower() in KNOWN_DEV_SECRETS:
            raise ConfigError("the JWT secret is a well-known development value; set a random one")
        if len(secret.encode("utf-8")) < SECRET_BYTES_MIN:
            raise ConfigError(
                f"the JWT secret is shorter than {SECRET_BYTES_MIN} bytes; "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
