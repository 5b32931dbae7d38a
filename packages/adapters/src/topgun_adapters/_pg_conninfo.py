"""The PostgreSQL connection string we actually connect with, and its TLS policy.

HARDENING §7: whenever TLS is used, the server's certificate must be verified. libpq's
default ``sslmode=prefer`` (and ``allow``/``require``/``verify-ca``) encrypts without
checking that the certificate names the host, so a man in the middle can read
everything. The policy:

* ``sslmode=verify-full`` or ``disable`` given explicitly: used as given.
* ``allow``/``prefer``/``require``/``verify-ca``: refused with ``ValueError`` unless
  the caller passes ``allow_unverified_tls=True``.
* no ``sslmode``: ``disable`` when every host is local (a Unix socket or loopback
  address, where TLS protects nothing), ``verify-full`` otherwise. Setting it
  explicitly also stops libpq from picking one up from ``PGSSLMODE``.

Errors never echo the connection string (it may hold a password).
"""

from __future__ import annotations

import ipaddress
import math

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

__all__ = ["SSL_MODES", "UNVERIFIED_SSL_MODES", "storage_conninfo"]

SSL_MODES = frozenset(("disable", "allow", "prefer", "require", "verify-ca", "verify-full"))
"""Every ``sslmode`` libpq knows."""

UNVERIFIED_SSL_MODES = frozenset(("allow", "prefer", "require", "verify-ca"))
"""Modes that may use TLS without checking the server's host name."""

CONNECT_TIMEOUT_MIN_S = 2
"""libpq ignores a ``connect_timeout`` below 2 seconds."""


def _is_local(host: str) -> bool:
    if host in ("", "localhost") or host.startswith(("/", "@")):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _all_local(params: dict[str, object]) -> bool:
    hosts = str(params.get("hostaddr") or params.get("host") or "")
    return all(_is_local(host.strip()) for host in hosts.split(","))


def storage_conninfo(
    dsn: str, *, allow_unverified_tls: bool, connect_timeout_s: float
) -> tuple[str, str]:
    """``(conninfo, sslmode)`` to connect with; raise ``ValueError`` for a refused DSN."""
    try:
        params: dict[str, object] = dict(conninfo_to_dict(dsn))
    except psycopg.Error:
        raise ValueError("invalid PostgreSQL connection string") from None
    sslmode = params.get("sslmode")
    if sslmode is None:
        sslmode = "disable" if _all_local(params) else "verify-full"
    elif sslmode not in SSL_MODES:
        raise ValueError(f"unknown sslmode {str(sslmode)[:20]!r}")
    elif sslmode in UNVERIFIED_SSL_MODES and not allow_unverified_tls:
        raise ValueError(
            f"sslmode={sslmode} may use TLS without verifying the server's certificate;"
            " use sslmode=verify-full (or disable, for a local server) or pass"
            " allow_unverified_tls=True"
        )
    extra: dict[str, str | int] = {"sslmode": str(sslmode)}
    if "connect_timeout" not in params:
        extra["connect_timeout"] = max(CONNECT_TIMEOUT_MIN_S, math.ceil(connect_timeout_s))
    if "application_name" not in params:
        extra["application_name"] = "topgun"
    return make_conninfo(dsn, **extra), str(sslmode)
