"""The client against the fake server: durability, acks, offline writes, limits, reconnects."""

from __future__ import annotations

import asyncio

import pytest

from topgun_client import (
    ClientClosed,
    ClientSettings,
    ConnectionState,
    TopGunClient,
    WriteConcern,
    WriteRejected,
    WriteTimeout,
)
from topgun_core.errors import ConflictError, LimitExceeded, ValidationError
from topgun_core.protocol import encode
from topgun_core.testing import FakeClock

TIMEOUT_S = 5.0


async def test_local_writes_survive_a_restart_and_reach_the_server_later(fake_server, tmp_path):
    store = tmp_path / "local.db"
    async with TopGunClient(fake_server.url, token="t", store=store, online=False) as client:
        node_id = client.node_id
        users = client.get_map("users")
        users.set("u1", {"name": "Ada"})
        users.set("u2", "gone")
        users.remove("u2")
        client.get_or_map("tags").add("t", "x")
        await client.flush_local()
        assert client.pending_ops == 4
    async with TopGunClient(fake_server.url, token="t", store=store, online=False) as client:
        assert client.node_id == node_id
        assert client.get_map("users").get("u1") == {"name": "Ada"}
        assert client.get_map("users").get("u2") is None
        assert client.get_or_map("tags").get("t") == ["x"]
        assert client.pending_ops == 4
        client.go_online()
        await client.flush(timeout=TIMEOUT_S)
        assert client.pending_ops == 0
    assert fake_server.lww("users").get("u1") == {"name": "Ada"}
    assert fake_server.lww("users").get_record("u2").value is None
    assert fake_server.ormap("tags").get("t") == ["x"]
    async with TopGunClient(fake_server.url, token="t", store=store, online=False) as client:
        assert client.pending_ops == 0  # acknowledged ops were trimmed from the op log


async def test_a_store_keeps_its_identity(tmp_path):
    store = tmp_path / "id.db"
    async with TopGunClient("ws://127.0.0.1:9/ws", token="t", store=store, online=False) as c:
        first = c.node_id
    assert first.isascii()
    assert len(first) >= 16
    with pytest.raises(ValueError, match="belongs to node"):
        async with TopGunClient("ws://127.0.0.1:9/ws", token="t", store=store, node_id="other"):
            pass


async def test_write_returns_the_achieved_level(fake_server):
    async with TopGunClient(fake_server.url, token="t") as client:
        result = await client.get_map("m").write("k", 1, write_concern=WriteConcern.PERSISTED)
        assert result.achieved_level == "PERSISTED"
        assert result.success
        ops = [m for m in fake_server.received if m["type"] == "OP_BATCH"]
        assert ops[-1]["payload"]["ops"][-1]["writeConcern"] == "PERSISTED"
        removed = await client.get_map("m").write("k", None)
        assert removed.achieved_level == "MEMORY"
        assert client.get_map("m").get("k") is None


async def test_a_rejected_write_raises_and_leaves_the_op_log(fake_server):
    fake_server.reject = lambda op: (403, "not allowed") if op["key"] == "secret" else None
    errors = []
    async with TopGunClient(fake_server.url, token="t") as client:
        client.on_error(errors.append)
        with pytest.raises(WriteRejected, match="not allowed") as info:
            await client.get_map("m").write("secret", 1, timeout=TIMEOUT_S)
        assert info.value.code == 403
        await client.flush(timeout=TIMEOUT_S)
        assert client.pending_ops == 0
        assert any(isinstance(e, WriteRejected) for e in errors)


async def test_a_retryable_rejection_is_sent_again_after_a_delay(fake_server):
    refusals = {"left": 3}

    def busy(op):
        if refusals["left"] > 0:
            refusals["left"] -= 1
            return (429, "slow down")
        return None

    fake_server.reject = busy
    errors = []
    settings = ClientSettings(backoff_initial_ms=5, backoff_max_ms=20)
    async with TopGunClient(fake_server.url, token="t", settings=settings) as client:
        client.on_error(errors.append)
        result = await client.get_map("m").write("k", 1, timeout=TIMEOUT_S)
        assert result.success
        await client.flush(timeout=TIMEOUT_S)
    assert fake_server.lww("m").get("k") == 1
    assert sum(m["type"] == "OP_BATCH" for m in fake_server.received) == 4
    assert errors == []  # retryable refusals are not errors


async def test_no_ack_means_a_timeout_and_the_write_stays_queued(fake_server):
    fake_server.ack = False
    async with TopGunClient(fake_server.url, token="t") as client:
        with pytest.raises(WriteTimeout):
            await client.get_map("m").write("k", 1, timeout=0.2)
        assert client.pending_ops == 1
        assert client.get_map("m").get("k") == 1
        with pytest.raises(WriteTimeout):
            await client.flush(timeout=0.1)


async def test_an_offline_write_waits_for_the_connection(fake_server):
    async with TopGunClient(fake_server.url, token="t", online=False) as client:
        pending = asyncio.ensure_future(client.get_map("m").write("k", "v", timeout=TIMEOUT_S))
        await client.flush_local()
        assert not pending.done()
        client.go_online()
        result = await pending
        assert result.achieved_level == "MEMORY"


async def test_duplicate_acks_settle_once(fake_server):
    fake_server.duplicate_acks = True
    errors = []
    async with TopGunClient(fake_server.url, token="t") as client:
        client.on_error(errors.append)
        for i in range(20):
            client.get_map("m").set(f"k{i}", i)
        await client.flush(timeout=TIMEOUT_S)
        assert client.pending_ops == 0
        assert errors == []


async def test_remote_changes_reach_on_change_listeners(fake_server):
    async with (
        TopGunClient(fake_server.url, token="t") as a,
        TopGunClient(fake_server.url, token="t") as b,
    ):
        seen = []
        got = asyncio.Event()
        b.on_change("users", lambda change: (seen.append(change), got.set()))
        b.get_map("users")
        b.get_or_map("tags")
        await b.wait_for_state(ConnectionState.CONNECTED, timeout=TIMEOUT_S)
        a.get_map("users").set("u1", "hello")
        await a.flush(timeout=TIMEOUT_S)
        async with asyncio.timeout(TIMEOUT_S):
            await got.wait()
        assert seen[0].map_name == "users"
        assert seen[0].key == "u1"
        assert seen[0].value == "hello"
        assert seen[0].source == "event"
        assert b.get_map("users").get("u1") == "hello"


async def test_limits_are_enforced_with_clear_errors(fake_server):
    settings = ClientSettings(local_queue_ops_max=10, listeners_max=2)
    async with TopGunClient(fake_server.url, token="t", settings=settings, online=False) as client:
        users = client.get_map("users")
        for i in range(5):  # two queued entries each: the record and its op
            users.set(f"k{i}", i)
        with pytest.raises(LimitExceeded, match="local_queue_ops_max"):
            users.set("one-too-many", 1)
        await client.flush_local()
        users.set("more", 1)  # room again once committed
        client.on_error(lambda e: None)
        client.on_state_change(lambda old, new: None)
        with pytest.raises(LimitExceeded, match="listeners_max"):
            client.on_change("users", lambda change: None)
        with pytest.raises(LimitExceeded, match="key_chars_max"):
            users.set("k" * 2000, 1)
        with pytest.raises(ValidationError, match="unsupported value type"):
            users.set("k", {"when": object()})
        with pytest.raises(ConflictError):
            client.get_or_map("users")


async def test_a_closed_client_refuses_work(fake_server):
    client = TopGunClient(fake_server.url, token="t", online=False)
    async with client:
        users = client.get_map("users")
    assert client.state is ConnectionState.CLOSED
    with pytest.raises(ClientClosed):
        users.set("k", 1)
    with pytest.raises(ClientClosed):
        client.get_map("users")


async def test_a_silent_server_is_dropped_by_the_heartbeat(fake_server):
    fake_server.pong = False
    settings = ClientSettings(heartbeat_interval_ms=20, heartbeat_timeout_ms=100,
                              backoff_initial_ms=1, backoff_max_ms=5)  # fmt: skip
    async with TopGunClient(fake_server.url, token="t", settings=settings) as client:
        await fake_server.wait_for(lambda: fake_server.auth_count >= 2, timeout=TIMEOUT_S)
        assert "PING" in fake_server.types()
        assert client.stats.connection_attempts >= 2


class RecordingSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []
        self.called = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.called.set()
        await asyncio.sleep(0)


async def test_shutdown_pending_sets_the_reconnect_delay(fake_server):
    fake_server.after_auth = [encode({"type": "SHUTDOWN_PENDING", "retryAfter": 4_000})]
    fake_server.close_after_auth = (1001, "going away")
    sleep = RecordingSleep()
    async with TopGunClient(fake_server.url, token="t", sleep=sleep, clock=FakeClock(0)):
        async with asyncio.timeout(TIMEOUT_S):
            await sleep.called.wait()
    assert 4.0 <= sleep.delays[0] <= 4.25


async def test_an_overloaded_close_sets_the_reconnect_delay(fake_server):
    fake_server.close_after_auth = (1013, "overloaded; retryAfter=2500")
    sleep = RecordingSleep()
    async with TopGunClient(fake_server.url, token="t", sleep=sleep):
        async with asyncio.timeout(TIMEOUT_S):
            await sleep.called.wait()
    assert 2.5 <= sleep.delays[0] <= 2.75


async def test_an_encrypted_store_keeps_data_sealed_at_rest(fake_server, tmp_path):
    from topgun_adapters import EncryptedStorage, SQLiteStorage

    key = bytes(range(32))
    path = tmp_path / "sealed.db"

    def sealed() -> EncryptedStorage:
        return EncryptedStorage(SQLiteStorage(path), key=key)

    async with TopGunClient(fake_server.url, token="t", store=sealed(), online=False) as client:
        client.get_map("notes").set("n1", "the launch code is 0000")
        await client.flush_local()
    assert b"launch code" not in path.read_bytes()
    async with TopGunClient(fake_server.url, token="t", store=sealed()) as client:
        assert client.get_map("notes").get("n1") == "the launch code is 0000"
        await client.flush(timeout=TIMEOUT_S)
    assert fake_server.lww("notes").get("n1") == "the launch code is 0000"
