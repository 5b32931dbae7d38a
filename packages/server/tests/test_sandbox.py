"""The sandbox on its own: policy refusals, limits, kills and replacement (one pool per module).

The escape table lists what hostile user code tries — imports, dunder walks,
builtins that reach outside, frames and tracebacks, infinite loops, memory bombs,
huge outputs, deep recursion — and what must happen: refused at compile time, or
stopped at run time (killed past the wall-clock limit, memory error), with the pool
still answering afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from topgun_server.sandbox import (
    SandboxBusy,
    SandboxCodeError,
    SandboxError,
    SandboxLimits,
    SandboxMemoryError,
    SandboxPool,
    SandboxTimeout,
    compile_user_code,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def pool() -> AsyncIterator[SandboxPool]:
    async with asyncio.TaskGroup() as tg:
        sandbox = SandboxPool(SandboxLimits(workers=2, timeout_ms=300), tg)
        try:
            yield sandbox
        finally:
            await sandbox.close()


async def process(pool: SandboxPool, code: str, value: object = None, args: object = None):
    return await pool.run("process", code, {"value": value, "key": "k", "args": args})  # type: ignore[dict-item]


async def test_a_processor_runs_and_returns_its_value(pool: SandboxPool) -> None:
    code = "n = (value or 0) + args['delta']\nreturn {'value': n, 'result': [key, n]}"
    assert await process(pool, code, 4, {"delta": 3}) == {"value": 7, "result": ["k", 7]}


async def test_plain_python_works(pool: SandboxPool) -> None:
    code = """
items = sorted(set(value) | {'z'})
total = 0
for i, item in enumerate(items):
    total += i
counts = {}
for item in items:
    counts[item] = len(item)
return {'value': items, 'result': {'total': total, 'counts': counts, 'max': max(items),
        'f': f'{total}!', 'pi': round(math.pi, 2)}}
"""
    result = await process(pool, code, ["b", "a"])
    assert result == {
        "value": ["a", "b", "z"],
        "result": {
            "total": 3,
            "counts": {"a": 1, "b": 1, "z": 1},
            "max": "z",
            "f": "3!",
            "pi": 3.14,
        },
    }


async def test_a_resolver_sees_the_context_as_attributes(pool: SandboxPool) -> None:
    ctx = {
        "map_name": "m",
        "key": "k",
        "local_value": 1,
        "remote_value": 2,
        "local_timestamp": {"millis": 1, "counter": 0, "node_id": "a"},
        "remote_timestamp": {"millis": 2, "counter": 0, "node_id": "b"},
        "remote_node_id": "b",
        "auth": {"user_id": "ada", "roles": ["USER"]},
    }
    code = (
        "if ctx.remote_value < ctx.local_value:\n"
        "    return {'action': 'reject', 'reason': 'down'}\n"
        "return {'action': 'merge', 'value': [ctx.auth.user_id, ctx.remote_timestamp.millis]}"
    )
    assert await pool.run("resolve", code, {"ctx": ctx}) == {"action": "merge", "value": ["ada", 2]}


# ---------------------------------------------------------------- the escape table

REFUSED_AT_COMPILE = [
    ("import os\nreturn {'value': 1}", "imports are not allowed"),
    ("from os import path\nreturn {'value': 1}", "imports are not allowed"),
    ("return {'value': __import__('os')}", 'starts with "_"'),
    ("return {'value': value.__class__.__mro__}", 'starts with "_"'),
    ("return {'value': ().__class__.__bases__[0].__subclasses__()}", 'starts with "_"'),
    ("g = (x for x in [1])\nreturn {'value': g.gi_frame}", "restricted name"),
    ("g = (x for x in [1])\nreturn {'value': g.gi_frame.f_back.f_globals}", "restricted name"),
    ("try:\n    1/0\nexcept Exception as e:\n    return {'value': e.__traceback__}", "starts with"),
    ("class A:\n    pass\nreturn {'value': 1}", "class definitions"),
    ("global x\nreturn {'value': 1}", "global statements"),
    ("exec('x = 1')\nreturn {'value': 1}", "Exec calls are not allowed"),
    ("return {'value': eval('1')}", "Eval calls are not allowed"),
    ("with x:\n    pass", "with statements"),
    ("return {'value': 1", "SyntaxError"),
]


@pytest.mark.parametrize(("code", "problem"), REFUSED_AT_COMPILE)
async def test_escape_refused_at_compile_time(pool: SandboxPool, code: str, problem: str) -> None:
    with pytest.raises(SandboxCodeError) as caught:
        compile_user_code("process", code)
    assert problem.lower() in caught.value.problem.lower()
    with pytest.raises(SandboxError, match="refused"):
        await process(pool, code)


REFUSED_AT_RUN_TIME = [
    ("return {'value': open('/etc/passwd').read()}", "name 'open' is not defined"),
    ("return {'value': getattr(value, 'x')}", "name 'getattr' is not defined"),
    ("return {'value': type(value)}", "name 'type' is not defined"),
    ("return {'value': vars()}", "name 'vars' is not defined"),
    ("return {'value': globals()}", "name 'globals' is not defined"),
    ("return {'value': '{0.__class__}'.format(value)}", "format"),
    ("print('hi')\nreturn {'value': 1}", "print"),
    ("setattr(args, 'x', 1)\nreturn {'value': 1}", "setattr"),
    ("args.x = 1\nreturn {'value': 1}", "attribute"),
    ("def f(n):\n    return f(n + 1)\nreturn {'value': f(0)}", "recursion too deep"),
    ("return {'value': {1, 2}}", "set"),
    ("return {'value': 'x' * (2 * 1024 * 1024)}", "sandbox_result_bytes_max"),
    ("return {'value': 'x' * (10 ** 10)}", "out of memory"),
]


@pytest.mark.parametrize(("code", "problem"), REFUSED_AT_RUN_TIME)
async def test_escape_refused_at_run_time(pool: SandboxPool, code: str, problem: str) -> None:
    with pytest.raises(SandboxError) as caught:
        await process(pool, code, None, {})
    assert problem.lower() in caught.value.message.lower()
    assert await process(pool, "return {'value': 1}") == {"value": 1}


KILLED = [
    "while True:\n    pass",
    "x = 9 ** 9 ** 9\nreturn {'value': 1}",
    "n = 0\nwhile True:\n    n += 1",
]


@pytest.mark.parametrize("code", KILLED)
async def test_runaway_code_is_killed_and_replaced(pool: SandboxPool, code: str) -> None:
    restarts = pool.restarts
    with pytest.raises(SandboxTimeout, match="longer than 300 ms"):
        await process(pool, code)
    assert pool.restarts == restarts + 1
    assert await process(pool, "return {'value': 'alive'}") == {"value": "alive"}


async def test_a_memory_bomb_that_grows_is_stopped(pool: SandboxPool) -> None:
    code = "chunks = []\nwhile True:\n    chunks.append('x' * 1000000)"
    with pytest.raises((SandboxMemoryError, SandboxTimeout)):
        await process(pool, code)
    assert await process(pool, "return {'value': 2}") == {"value": 2}


async def test_the_worker_has_no_environment(pool: SandboxPool) -> None:
    # Nothing reachable names the environment; the worker was started with env={}.
    with pytest.raises(SandboxError, match="not defined"):
        await process(pool, "return {'value': environ}")


async def test_concurrent_runs_share_the_pool(pool: SandboxPool) -> None:
    results = await asyncio.gather(
        *(process(pool, "return {'value': args}", None, i) for i in range(20))
    )
    assert [r["value"] for r in results] == list(range(20))  # type: ignore[index]


async def test_a_cancelled_caller_costs_its_worker_not_the_pool(pool: SandboxPool) -> None:
    task = asyncio.ensure_future(process(pool, "while True:\n    pass"))
    await asyncio.sleep(0.05)  # let the run start; the worker is then killed, not reused
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await process(pool, "return {'value': 3}") == {"value": 3}


async def test_a_closed_pool_refuses() -> None:
    async with asyncio.TaskGroup() as tg:
        sandbox = SandboxPool(SandboxLimits(workers=1), tg)
        await sandbox.close()
        with pytest.raises(SandboxBusy):
            await sandbox.run("process", "return {'value': 1}", {})
