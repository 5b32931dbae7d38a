"""kill -9 of a server process under PERSISTED writes loses no acknowledged write
(SQLite and PostgreSQL), and a SIGTERM shuts down cleanly (exit 0, queue drained)."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from topgun_server.auth import mint_token
from topgun_server.testing import ProtocolClient, ServerProcess, put

pytestmark = pytest.mark.slow

BATCHES = 400
OPS_PER_BATCH = 25
WARM_UP_BATCHES = 10
CLEAN_EXIT = -signal.SIGTERM
"""uvicorn re-raises SIGTERM after its graceful shutdown, so a supervisor sees the signal."""


_STARTED: list[ServerProcess] = []


@pytest.fixture(autouse=True)
def _stop_children() -> Iterator[None]:
    """Whatever a test does, no server child outlives it."""
    yield
    while _STARTED:
        _STARTED.pop().stop()


def _process(tmp_path: Path, storage: str, secret: str) -> ServerProcess:
    env = {**os.environ, "TOPGUN_JWT_SECRET": secret, "TOPGUN_STORAGE": storage}
    server = ServerProcess(tmp_path / "server.log", env)
    _STARTED.append(server)
    return server


async def _collect_acks(
    client: ProtocolClient, acked: dict[str, int], first_ack: asyncio.Event
) -> None:
    """Record every acknowledged write until the connection dies."""
    try:
        while True:
            message = await client.recv(timeout=60)
            if message["type"] == "OP_ACK":
                for result in message["payload"]["results"]:
                    if result["success"]:
                        assert result["achievedLevel"] == "PERSISTED"
                        acked[f"k{result['opId']}"] = result["opId"]
                first_ack.set()
    except ConnectionClosed:
        return


async def _send_batches(client: ProtocolClient, batches: range) -> None:
    for b in batches:
        first = b * OPS_PER_BATCH + 1
        ops = [put(i, "durable", f"k{i}", i) for i in range(first, first + OPS_PER_BATCH)]
        await client.send(
            {"type": "OP_BATCH", "payload": {"ops": ops, "writeConcern": "PERSISTED"}}
        )


async def _kill_under_load_then_check(tmp_path: Path, storage: str) -> None:
    secret = secrets.token_urlsafe(48)
    server = _process(tmp_path, storage, secret)
    await server.start()
    client = await ProtocolClient.connect(server.ws_url)
    assert (await client.auth(mint_token(secret, sub="writer")))["type"] == "AUTH_ACK"
    acked: dict[str, int] = {}
    first_ack = asyncio.Event()
    collector = asyncio.create_task(_collect_acks(client, acked, first_ack))
    await _send_batches(client, range(WARM_UP_BATCHES))
    await asyncio.wait_for(first_ack.wait(), 60)
    await _send_batches(client, range(WARM_UP_BATCHES, BATCHES))
    server.kill()  # SIGKILL with most of the batches still queued in the server
    await asyncio.wait_for(collector, 60)
    snapshot = dict(acked)
    assert snapshot, "nothing was acknowledged before the kill"
    assert len(snapshot) < BATCHES * OPS_PER_BATCH, "everything was acked: the kill came too late"

    await server.start()
    reader = await ProtocolClient.connect(server.ws_url)
    assert (await reader.auth(mint_token(secret, sub="reader")))["type"] == "AUTH_ACK"
    stored = await reader.sync_lww("durable")
    missing = [key for key in snapshot if key not in stored]
    assert missing == []
    assert all(stored[key]["record"]["value"] == value for key, value in snapshot.items())
    await reader.close()
    assert await server.terminate() == CLEAN_EXIT


async def test_kill_9_loses_no_persisted_write_on_sqlite(tmp_path: Path) -> None:
    await _kill_under_load_then_check(tmp_path, f"sqlite:///{tmp_path / 'data' / 'topgun.db'}")


async def test_kill_9_loses_no_persisted_write_on_postgres(tmp_path: Path, pg_dsn: str) -> None:
    await _kill_under_load_then_check(tmp_path, pg_dsn)


async def test_sigterm_drains_and_exits_cleanly(tmp_path: Path) -> None:
    secret = secrets.token_urlsafe(48)
    storage = f"sqlite:///{tmp_path / 'topgun.db'}"
    server = _process(tmp_path, storage, secret)
    await server.start()
    client = await ProtocolClient.connect(server.ws_url)
    await client.auth(mint_token(secret, sub="w"))
    ops = [put(i, "m", f"k{i}", i) for i in range(1, 2001)]
    await client.send({"type": "OP_BATCH", "payload": {"ops": ops}})  # MEMORY: acked before durable
    await client.expect("OP_ACK")
    exit_code = await server.terminate()
    assert (await client.expect("SHUTDOWN_PENDING"))["type"] == "SHUTDOWN_PENDING"
    assert (await client.closed())[0] == 1001
    assert exit_code == CLEAN_EXIT
    await server.start()
    reader = await ProtocolClient.connect(server.ws_url)
    await reader.auth(mint_token(secret, sub="r"))
    assert len(await reader.sync_lww("m")) == 2000
    await reader.close()
    assert await server.terminate() == CLEAN_EXIT


async def test_dev_mode_logs_a_usable_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOPGUN_")}
    server = ServerProcess(tmp_path / "dev.log", {**env, "TOPGUN_STORAGE": "memory"})
    _STARTED.append(server)
    await server.start()
    log = server.log()
    assert "generated one for this run" in log
    token = log.split("valid 24 h):", 1)[1].split()[0]
    client = await ProtocolClient.connect(server.ws_url)
    ack = await client.auth(token)
    assert ack["type"] == "AUTH_ACK"
    await client.close()
    assert await server.terminate() == CLEAN_EXIT
