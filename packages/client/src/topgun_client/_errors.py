"""The client's own errors, all :class:`~topgun_core.errors.TopGunError` subclasses.

Core's tree (``ProtocolError``, ``AuthError``, ``ClockDriftError``, ``StorageError``,
``LimitExceeded``...) is used as is where it fits; these add what only a client sees:
a write the server refused, a write whose acknowledgement did not come in time, an
``ERROR`` message from the server, and a client that is closed.
"""

from __future__ import annotations

from topgun_core.errors import TopGunError

__all__ = ["ClientClosed", "ServerError", "WriteRejected", "WriteTimeout"]


class WriteRejected(TopGunError):
    """The server refused an op (``OP_REJECTED``, or an ``OP_ACK`` result with ``success`` false).

    ``op_id`` is the op's id, ``code`` the wire error code, ``reason`` the server's
    text and ``achieved_level`` how far the write got (``None`` for a rejection,
    which applied nothing). A rejected op is removed from the op log: resending it
    cannot succeed. Retryable rejections (429, 503) are not raised here; the op stays
    queued and is sent again after a growing delay.
    """

    def __init__(
        self, op_id: int, code: int, reason: str, achieved_level: str | None = None
    ) -> None:
        super().__init__(f"op {op_id} rejected by the server ({code}): {reason}")
        self.op_id = op_id
        self.code = code
        self.reason = reason
        self.achieved_level = achieved_level


class WriteTimeout(TopGunError):
    """``write()`` did not get its acknowledgement in time.

    The write is not lost: it is applied locally, durable in the local store and
    stays in the op log until the server acknowledges it.
    """

    code = 504
    retryable = True

    def __init__(self, timeout_ms: int) -> None:
        super().__init__(f"no acknowledgement within {timeout_ms} ms; the write stays queued")
        self.timeout_ms = timeout_ms


class ServerError(TopGunError):
    """An ``ERROR`` message from the server: its code and its (safe) text."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"server error {code}: {message}")
        self.code = code
        self.server_message = message


class ClientClosed(TopGunError):
    """The client is closed (or closing): no new writes or waits are accepted."""

    code = 503
