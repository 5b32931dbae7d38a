"""A pool of sandbox worker processes, driven from asyncio.

:class:`SandboxPool` starts ``workers`` child processes (:mod:`._worker`) on first
use — a server that never runs user code never starts one — and hands each
execution to an idle worker over its stdin/stdout pipes. Every execution has a
hard wall-clock limit (``timeout_ms``, default 100 ms): past it the worker is
killed (SIGKILL) and a fresh one is started in the background, so an infinite loop
costs one process, never the server. A worker that dies on its own (CPU limit,
memory) or misbehaves on the pipe is replaced the same way, as is a worker whose
caller was cancelled mid-run, and each worker retires after
``runs_per_worker_max`` executions.

Waiting for an idle worker is bounded too (``queue_timeout_ms``: 503 when every
worker stays busy). Errors are :class:`SandboxError` subclasses carrying a wire
code: code errors 400, output errors 400, timeouts 408-as-400 (``SandboxTimeout``),
memory 413, busy 503. Nothing here ever runs user code in the server process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import struct
import sys
from dataclasses import dataclass
from typing import Final

import msgpack  # type: ignore[import-untyped]  # ships no type information

from topgun_core.errors import TopGunError
from topgun_core.processors import PROCESSOR_RESULT_BYTES_MAX
from topgun_core.values import JsonValue
from topgun_server.sandbox.policy import CodeKind

__all__ = [
    "SandboxBusy",
    "SandboxError",
    "SandboxLimits",
    "SandboxMemoryError",
    "SandboxPool",
    "SandboxTimeout",
]

_log = logging.getLogger(__name__)
_HEADER: Final = struct.Struct(">I")
_REPLY_SLACK_BYTES: Final = 64 * 1024
_START_TIMEOUT_S: Final = 30.0


class SandboxError(TopGunError):
    """User code failed in the sandbox (it did not compile, raised, or broke a limit)."""

    code = 400


class SandboxTimeout(SandboxError):
    """User code ran past the wall-clock limit; its worker was killed."""


class SandboxMemoryError(SandboxError):
    """User code ran past the memory limit."""

    code = 413


class SandboxBusy(SandboxError):
    """No worker became free in time, or workers cannot be started (retry later)."""

    code = 503
    retryable = True


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """Every limit of the pool, with its unit."""

    workers: int = 2
    timeout_ms: int = 100
    memory_bytes: int = 256 * 1024 * 1024
    cpu_s: int = 1
    queue_timeout_ms: int = 5_000
    runs_per_worker_max: int = 10_000
    result_bytes_max: int = PROCESSOR_RESULT_BYTES_MAX


class _Worker:
    """One child process and its pipes."""

    def __init__(self, process: asyncio.subprocess.Process, reply_bytes_max: int) -> None:
        self.process = process
        self.runs = 0
        self._reply_bytes_max = reply_bytes_max

    async def read(self) -> dict[str, object]:
        stdout = self.process.stdout
        assert stdout is not None
        (size,) = _HEADER.unpack(await stdout.readexactly(_HEADER.size))
        if size > self._reply_bytes_max:
            raise ConnectionError("sandbox reply over its size bound")
        reply = msgpack.unpackb(await stdout.readexactly(size), raw=False)
        if not isinstance(reply, dict):
            raise ConnectionError("malformed sandbox reply")
        return reply

    async def call(self, frame: bytes) -> dict[str, object]:
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(frame)
        await stdin.drain()
        self.runs += 1
        return await self.read()

    def kill(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()


class SandboxPool:
    """Worker processes for user code; see the module docstring."""

    def __init__(self, limits: SandboxLimits, task_group: asyncio.TaskGroup) -> None:
        self.limits = limits
        self._tg = task_group
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._workers: set[_Worker] = set()
        self._started: asyncio.Future[None] | None = None
        self._closed = False
        self.executions = 0
        self.timeouts = 0
        self.restarts = 0

    @property
    def alive(self) -> int:
        """Worker processes running now."""
        return sum(1 for w in self._workers if w.process.returncode is None)

    async def run(self, kind: CodeKind, code: str, payload: dict[str, JsonValue]) -> JsonValue:
        """Run ``code`` (a ``process`` or ``resolve`` body) on ``payload``; its raw result.

        Raises :class:`SandboxError` (code, runtime or output problem),
        :class:`SandboxTimeout`, :class:`SandboxMemoryError` or :class:`SandboxBusy`.
        """
        if self._closed:
            raise SandboxBusy("the sandbox is shut down")
        await self._ensure_started()
        frame = _frame({"kind": kind, "code": code, **payload})
        try:
            async with asyncio.timeout(self.limits.queue_timeout_ms / 1000):
                worker = await self._idle.get()
        except TimeoutError:
            raise SandboxBusy("every sandbox worker is busy; retry later") from None
        reusable = False
        try:
            reply = await self._call(worker, frame)
            reusable = reply.get("category") != "memory"
        finally:
            if reusable and worker.runs < self.limits.runs_per_worker_max and not self._closed:
                self._idle.put_nowait(worker)
            else:
                self._retire(worker)
        self.executions += 1
        return _result(reply)

    async def _call(self, worker: _Worker, frame: bytes) -> dict[str, object]:
        try:
            async with asyncio.timeout(self.limits.timeout_ms / 1000):
                return await worker.call(frame)
        except TimeoutError:
            self.timeouts += 1
            raise SandboxTimeout(
                f"user code ran longer than {self.limits.timeout_ms} ms and was stopped"
            ) from None
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            raise SandboxError("user code crashed its sandbox worker (limit reached)") from None

    async def _ensure_started(self) -> None:
        if self._started is None:
            self._started = asyncio.get_running_loop().create_future()
            try:
                await asyncio.gather(*(self._add_worker() for _ in range(self.limits.workers)))
            except BaseException as exc:
                self._started.set_exception(SandboxBusy("sandbox workers could not be started"))
                self._started.exception()  # retrieved here; waiters get their own copy
                self._started = None
                if isinstance(exc, OSError | TimeoutError | ConnectionError):
                    _log.error("starting sandbox workers failed: %r", exc)
                    raise SandboxBusy("sandbox workers could not be started") from None
                raise
            self._started.set_result(None)
        else:
            await asyncio.shield(self._started)

    async def _add_worker(self) -> None:
        config = {
            "cpu_s": self.limits.cpu_s,
            "memory_bytes": self.limits.memory_bytes,
            "result_bytes_max": self.limits.result_bytes_max,
        }
        # A fixed command (this interpreter, our module), an empty environment: no
        # secret of the server reaches the process that runs user code.
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            "-m",
            "topgun_server.sandbox._worker",
            json.dumps(config),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env={},
        )
        worker = _Worker(process, self.limits.result_bytes_max + _REPLY_SLACK_BYTES)
        self._workers.add(worker)
        try:
            async with asyncio.timeout(_START_TIMEOUT_S):
                ready = await worker.read()
        except BaseException:
            self._retire(worker, replace=False)
            raise
        if ready.get("ready") is not True or self._closed:
            self._retire(worker, replace=False)
            return
        self._idle.put_nowait(worker)

    def _retire(self, worker: _Worker, *, replace: bool = True) -> None:
        worker.kill()
        self._workers.discard(worker)
        if self._closed:
            return  # close() kills and waits for every worker itself
        self._tg.create_task(self._reap(worker))
        if replace:
            self.restarts += 1
            self._tg.create_task(self._replace())

    @staticmethod
    async def _reap(worker: _Worker) -> None:
        with contextlib.suppress(ProcessLookupError, OSError):
            await worker.process.wait()

    async def _replace(self) -> None:
        try:
            await self._add_worker()
        except (OSError, TimeoutError, ConnectionError, asyncio.IncompleteReadError) as exc:
            _log.error("restarting a sandbox worker failed: %r", exc)

    async def close(self) -> None:
        """Stop every worker (idempotent)."""
        self._closed = True
        workers = list(self._workers)
        self._workers.clear()
        while not self._idle.empty():
            self._idle.get_nowait()
        for worker in workers:
            worker.kill()
        for worker in workers:
            with contextlib.suppress(ProcessLookupError, OSError):
                await worker.process.wait()


def _frame(message: dict[str, object]) -> bytes:
    body: bytes = msgpack.packb(message, use_bin_type=True)
    return _HEADER.pack(len(body)) + body


def _result(reply: dict[str, object]) -> JsonValue:
    if reply.get("ok") is True:
        result: JsonValue = reply.get("result")  # type: ignore[assignment]  # checked in the worker
        return result
    error = str(reply.get("error", "user code failed"))
    category = reply.get("category")
    if category == "memory":
        raise SandboxMemoryError(f"user code ran out of memory: {error}")
    if category == "code":
        raise SandboxError(f"user code refused: {error}")
    raise SandboxError(f"user code failed: {error}")
