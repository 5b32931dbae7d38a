"""The sandbox worker: a child process that runs user code under resource limits.

Started by :class:`~topgun_server.sandbox.pool.SandboxPool` as
``python -I -m topgun_server.sandbox._worker '<limits json>'`` with an empty
environment (no secrets reach it). Before it reads any request it imports all it
needs and then lowers its own limits with ``resource.setrlimit``:

- ``RLIMIT_AS`` — address space (``memory_bytes``): a memory bomb ends in
  ``MemoryError``, after which the worker answers and exits (the pool replaces it);
- ``RLIMIT_CPU`` — before each run the soft limit is moved to the CPU time used so
  far plus ``cpu_s`` (+1, the unit is whole seconds): a run that burns CPU past it
  is killed by the kernel (SIGXCPU). The pool's wall-clock timeout (default
  100 ms) normally kills a runaway long before; this is the backstop;
- ``RLIMIT_FSIZE`` 0 (no file writes), ``RLIMIT_NOFILE`` small, ``RLIMIT_NPROC`` 0
  (no fork), ``RLIMIT_CORE`` 0.

Frames on stdin/stdout are a 4-byte big-endian length and one msgpack map. The
first frame out is ``{"ready": true}``. A request is ``{"kind": "process" |
"resolve", "code", "value", "key", "args"}`` or ``{"kind": "resolve", "code",
"ctx"}``; the answer is ``{"ok": true, "result"}`` (already checked as a JSON value
within ``result_bytes_max``) or ``{"ok": false, "error", "category"}``.
"""

from __future__ import annotations

import json
import resource
import struct
import sys
from collections import OrderedDict
from types import CodeType, SimpleNamespace
from typing import BinaryIO, Final

import msgpack  # type: ignore[import-untyped]  # ships no type information

from topgun_core.errors import TopGunError
from topgun_core.processors import check_json_value
from topgun_server.sandbox.policy import (
    CodeKind,
    SandboxCodeError,
    compile_user_code,
    restricted_globals,
)

__all__ = ["main"]

_HEADER: Final = struct.Struct(">I")
_CODE_CACHE_MAX: Final = 128
_REQUEST_BYTES_MAX: Final = 256 * 1024 * 1024
_RECURSION_LIMIT: Final = 400
_FILES_MAX: Final = 16


def _write(out: BinaryIO, message: dict[str, object]) -> None:
    body: bytes = msgpack.packb(message, use_bin_type=True)
    out.write(_HEADER.pack(len(body)) + body)
    out.flush()


def _read(source: BinaryIO) -> dict[str, object] | None:
    header = source.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    if size > _REQUEST_BYTES_MAX:
        return None
    body = source.read(size)
    if len(body) < size:
        return None
    request = msgpack.unpackb(body, raw=False)
    return request if isinstance(request, dict) else None


def _limit(which: int, value: int) -> None:
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, hard))


def _apply_limits(memory_bytes: int) -> None:
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_FSIZE, 0)
    _limit(resource.RLIMIT_NOFILE, _FILES_MAX)
    _limit(resource.RLIMIT_NPROC, 0)
    _limit(resource.RLIMIT_AS, memory_bytes)
    sys.setrecursionlimit(_RECURSION_LIMIT)


def _arm_cpu(cpu_s: int) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime)
    _limit(resource.RLIMIT_CPU, used + cpu_s + 1)


def _namespace(record: object) -> object:
    """The resolver context as attributes (``ctx.local_value``, ``ctx.auth.user_id``)."""
    if isinstance(record, dict) and all(isinstance(k, str) for k in record):
        fields = {
            k: _namespace(v) if k in _NESTED else v for k, v in record.items() if isinstance(k, str)
        }
        return SimpleNamespace(**fields)
    return record


_NESTED: Final = frozenset({"local_timestamp", "remote_timestamp", "auth"})


class _Runner:
    """Compiles (with a small cache) and runs one request at a time."""

    def __init__(self, cpu_s: int, result_bytes_max: int) -> None:
        self._cpu_s = cpu_s
        self._result_bytes_max = result_bytes_max
        self._cache: OrderedDict[tuple[str, str], CodeType] = OrderedDict()

    def _compiled(self, kind: CodeKind, code: str) -> CodeType:
        cached = self._cache.get((kind, code))
        if cached is not None:
            self._cache.move_to_end((kind, code))
            return cached
        compiled = compile_user_code(kind, code)
        self._cache[kind, code] = compiled
        if len(self._cache) > _CODE_CACHE_MAX:
            self._cache.popitem(last=False)
        return compiled

    def run(self, request: dict[str, object]) -> dict[str, object]:
        kind, code = request.get("kind"), request.get("code")
        if kind not in ("process", "resolve") or not isinstance(code, str):
            return {"ok": False, "error": "malformed request", "category": "internal"}
        try:
            compiled = self._compiled(kind, code)
        except SandboxCodeError as exc:
            return {"ok": False, "error": exc.problem, "category": "code"}
        return self._execute(kind, compiled, request)

    def _execute(
        self, kind: CodeKind, compiled: CodeType, request: dict[str, object]
    ) -> dict[str, object]:
        scope = restricted_globals()
        _arm_cpu(self._cpu_s)
        try:
            exec(compiled, scope)  # noqa: S102 - RestrictedPython bytecode with guarded globals
            function = scope[kind]
            assert callable(function)
            if kind == "process":
                raw = function(request.get("value"), request.get("key"), request.get("args"))
            else:
                raw = function(_namespace(request.get("ctx")))
            result = check_json_value(
                raw, "result", bytes_max=self._result_bytes_max, limit="sandbox_result_bytes_max"
            )
        except MemoryError:
            return {"ok": False, "error": "memory limit exceeded", "category": "memory"}
        except RecursionError:
            return {"ok": False, "error": "recursion too deep", "category": "runtime"}
        except TopGunError as exc:
            return {"ok": False, "error": exc.message, "category": "output"}
        except BaseException as exc:  # noqa: BLE001 - whatever user code raises is its error
            text = f"{type(exc).__name__}: {exc}"
            return {"ok": False, "error": text[:500], "category": "runtime"}
        return {"ok": True, "result": result}


def main(argv: list[str]) -> int:
    """Serve requests on stdin/stdout until stdin closes (or a memory error)."""
    limits = json.loads(argv[1])
    runner = _Runner(int(limits["cpu_s"]), int(limits["result_bytes_max"]))
    _apply_limits(int(limits["memory_bytes"]))
    source, out = sys.stdin.buffer, sys.stdout.buffer
    _write(out, {"ready": True})
    while True:
        request = _read(source)
        if request is None:
            return 0
        reply = runner.run(request)
        try:
            _write(out, reply)
        except MemoryError:
            return 3
        if reply.get("category") == "memory":
            return 3  # the heap may be fragmented past use: let the pool start a fresh one


if __name__ == "__main__":
    sys.exit(main(sys.argv))
