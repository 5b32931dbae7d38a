"""The sandbox for user code: RestrictedPython in resource-limited worker processes.

Entry processors and conflict resolvers written by users are Python function
bodies. :mod:`.policy` compiles them under RestrictedPython plus our refusals (no
imports, no dunder attributes, no classes, no I/O builtins); :mod:`.pool` runs
them in a pool of child processes (:mod:`._worker`) with ``RLIMIT_AS``,
``RLIMIT_CPU`` and a hard wall-clock timeout enforced by killing the worker.
There is no other way to execute user code in the server (HARDENING.md §4).
"""

from topgun_server.sandbox.policy import CodeKind, SandboxCodeError, compile_user_code
from topgun_server.sandbox.pool import (
    SandboxBusy,
    SandboxError,
    SandboxLimits,
    SandboxMemoryError,
    SandboxPool,
    SandboxTimeout,
)

__all__ = [
    "CodeKind",
    "SandboxBusy",
    "SandboxCodeError",
    "SandboxError",
    "SandboxLimits",
    "SandboxMemoryError",
    "SandboxPool",
    "SandboxTimeout",
    "compile_user_code",
]
