"""Turning backend failures into :class:`~topgun_core.errors.StorageError`.

A driver's exception text may quote SQL, file paths or a connection string, none of
which a client should see. Adapters therefore raise a StorageError whose message
names only the backend and the operation, chain the original (``raise ... from``)
and log it with its traceback on the adapter's logger, where an operator finds it.
"""

from __future__ import annotations

import logging

from topgun_core.errors import StorageError

__all__ = ["backend_failure", "not_open"]


def backend_failure(
    log: logging.Logger, backend: str, operation: str, exc: BaseException
) -> StorageError:
    """Log ``exc`` and return the safe StorageError to raise ``from`` it."""
    log.error("%s storage: %s failed (%s)", backend, operation, type(exc).__name__, exc_info=exc)
    return StorageError(f"{backend} storage: {operation} failed")


def not_open(backend: str) -> StorageError:
    """The error every method raises before ``open()`` and after ``close()``."""
    error = StorageError(f"{backend} storage is not open")
    error.retryable = False
    return error
