"""The exception tree shared by every TopGun package.

Every error a TopGun component raises on purpose is a :class:`TopGunError`. The
families below let callers catch by kind (``except ProtocolError``) and carry two
facts a caller needs without parsing messages: ``code`` — the wire error code
(PROTOCOL.md: 400 invalid, 401 auth, 403 denied, 404 unknown, 409 conflict,
413 over a limit, 429 rate limited, 500 internal, 503 unavailable) — and
``retryable`` — whether the same request may succeed if simply sent again later.
Foreign exceptions (msgpack, pydantic, database drivers) are converted to these at
the boundary where they occur and never leak further.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ClockDriftError",
    "ClusterError",
    "ConflictError",
    "LimitExceeded",
    "NotFoundError",
    "PermissionDenied",
    "ProtocolError",
    "RateLimited",
    "StorageError",
    "TopGunError",
    "Unavailable",
    "ValidationError",
]


class TopGunError(Exception):
    """Base of every error TopGun raises on purpose."""

    code: int = 500
    retryable: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProtocolError(TopGunError):
    """A frame or message that does not follow the wire protocol."""

    code = 400


class ValidationError(ProtocolError):
    """A decodable message whose content breaks the schema.

    ``field`` is the dotted path of the offending field (``payload.ops.3.key``) and
    ``problem`` says what is wrong with it, so the error sent back to the client
    names both.
    """

    def __init__(self, field: str, problem: str) -> None:
        where = field or "<message>"
        super().__init__(f"invalid message: {where}: {problem}")
        self.field = field
        self.problem = problem


class LimitExceeded(ProtocolError):
    """Input over a named limit (frame size, batch length, string length, depth)."""

    code = 413

    def __init__(self, limit: str, actual: int, maximum: int) -> None:
        super().__init__(f"{limit} exceeded: {actual} > {maximum}")
        self.limit = limit
        self.actual = actual
        self.maximum = maximum


class ClockDriftError(TopGunError):
    """A remote HLC timestamp is further ahead of the local wall clock than allowed."""

    code = 400

    def __init__(self, drift_ms: int, max_drift_ms: int) -> None:
        super().__init__(f"clock drift of {drift_ms} ms exceeds the maximum of {max_drift_ms} ms")
        self.drift_ms = drift_ms
        self.max_drift_ms = max_drift_ms


class AuthError(TopGunError):
    """Missing, malformed, expired or otherwise unacceptable credentials."""

    code = 401


class PermissionDenied(TopGunError):
    """Authenticated, but the policy does not allow this action."""

    code = 403


class NotFoundError(TopGunError):
    """An unknown map, resource or subscription."""

    code = 404


class ConflictError(TopGunError):
    """The request conflicts with existing state (for example a map type mismatch)."""

    code = 409


class RateLimited(TopGunError):
    """Too many requests; try again after ``retry_after_ms``."""

    code = 429
    retryable = True

    def __init__(self, message: str, retry_after_ms: int = 1000) -> None:
        super().__init__(message)
        self.retry_after_ms = retry_after_ms


class StorageError(TopGunError):
    """The storage backend failed; the message is safe to show, details are logged."""

    code = 503
    retryable = True


class Unavailable(TopGunError):
    """The service (or the owner of a partition) cannot serve the request now."""

    code = 503
    retryable = True


class ClusterError(TopGunError):
    """A failure in node-to-node communication or cluster membership."""

    code = 503
    retryable = True
