"""End to end against the real server (``topgun_server.testing.running_server``).

- Two clients edit while offline, reconnect, and converge to the same values and the
  same Merkle roots as the server (a fresh client that only pulls shows the
  server's state); LWW ties are broken by node id; OR adds win over concurrent
  removes.
- A client process is killed with SIGKILL in the middle of a write burst: every
  write it had confirmed as locally durable is in its store after restart and
  reaches the server.
- A 100 000-op offline queue syncs in bounded batches (slow).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import textwrap
import time

import pytest

from topgun_adapters import SQLiteStorage
from topgun_client import ClientSettings, ConnectionState, TopGunClient
from topgun_core.testing import FakeClock
from topgun_server.testing import running_server

TIMEOUT_S = 20.0


async def _synced(*clients: TopGunClient) -> None:
    for client in clients:
        client.go_online()
    for client in clients:
        await client.wait_for_state(ConnectionState.CONNECTED, timeout=TIMEOUT_S)
        await client.flush(timeout=TIMEOUT_S)


async def _resync(*clients: TopGunClient) -> None:
    """Reconnect so that each client's Merkle sync pulls what the others pushed."""
    for client in clients:
        await client.go_offline()
    await _synced(*clients)


async def _server_view(url: str, token: str, lww: list[str], ormaps: list[str]) -> TopGunClient:
    """A fresh in-memory client that pulled the server's state of the given maps."""
    fresh = TopGunClient(url, token=token, store=":memory:")
    await fresh.open()
    for name in lww:
        fresh.get_map(name)
    for name in ormaps:
        fresh.get_or_map(name)
    await fresh.wait_for_state(ConnectionState.CONNECTED, timeout=TIMEOUT_S)
    return fresh


async def test_two_clients_converge_with_the_server_after_offline_edits(tmp_path):
    async with running_server() as server:
        token = server.token()
        a = TopGunClient(server.ws_url, token=token, store=tmp_path / "a.db")
        b = TopGunClient(server.ws_url, token=token, store=tmp_path / "b.db")
        async with a, b:
            for client in (a, b):
                client.get_map("users")
                client.get_or_map("tags")
            await _synced(a, b)
            await a.go_offline()
            await b.go_offline()
            for i in range(50):  # concurrent offline edits, overlapping keys
                a.get_map("users").set(f"u{i}", f"a{i}")
                b.get_map("users").set(f"u{i + 25}", f"b{i}")
            a.get_map("users").remove("u3")
            a.get_or_map("tags").add("t", "x")
            b.get_or_map("tags").add("t", "y")
            b.get_or_map("tags").add("only-b", "z")
            await _synced(a, b)
            await _resync(a, b)
            fresh = await _server_view(server.ws_url, token, ["users"], ["tags"])
            try:
                for name in ("users",):
                    values = dict(fresh.get_map(name).items())
                    assert dict(a.get_map(name).items()) == values
                    assert dict(b.get_map(name).items()) == values
                    assert a.get_map(name).root_hash == fresh.get_map(name).root_hash
                    assert b.get_map(name).root_hash == fresh.get_map(name).root_hash
                assert len(fresh.get_map("users")) == 74  # u0..u74 less the removed u3
                assert fresh.get_map("users").get("u3") is None
                assert sorted(a.get_or_map("tags").get("t")) == ["x", "y"]
                assert dict(a.get_or_map("tags").items()) == dict(fresh.get_or_map("tags").items())
                assert dict(b.get_or_map("tags").items()) == dict(fresh.get_or_map("tags").items())
                assert a.get_or_map("tags").root_hash == fresh.get_or_map("tags").root_hash
                assert b.get_or_map("tags").root_hash == fresh.get_or_map("tags").root_hash
            finally:
                await fresh.close()


async def test_lww_ties_are_broken_by_node_id(tmp_path):
    frozen = FakeClock(time.time_ns() // 1_000_000)  # both stamp the very same (millis, counter)
    async with running_server() as server:
        token = server.token()
        a = TopGunClient(server.ws_url, token=token, store=tmp_path / "a.db", node_id="node-a",
                         clock=frozen, online=False)  # fmt: skip
        b = TopGunClient(server.ws_url, token=token, store=tmp_path / "b.db", node_id="node-b",
                         clock=frozen, online=False)  # fmt: skip
        async with a, b:
            a.get_map("m").set("k", "from-a")
            b.get_map("m").set("k", "from-b")
            ra, rb = a.get_map("m").record("k"), b.get_map("m").record("k")
            assert (ra.timestamp.millis, ra.timestamp.counter) == (
                rb.timestamp.millis,
                rb.timestamp.counter,
            )
            await _synced(b, a)
            await _resync(a, b)
            assert a.get_map("m").get("k") == "from-b"
            assert b.get_map("m").get("k") == "from-b"
            fresh = await _server_view(server.ws_url, token, ["m"], [])
            try:
                assert fresh.get_map("m").get("k") == "from-b"
            finally:
                await fresh.close()


async def test_or_map_add_wins_over_a_concurrent_remove(tmp_path):
    async with running_server() as server:
        token = server.token()
        a = TopGunClient(server.ws_url, token=token, store=tmp_path / "a.db")
        b = TopGunClient(server.ws_url, token=token, store=tmp_path / "b.db")
        async with a, b:
            a.get_or_map("tags").add("t", "work")
            b.get_or_map("tags")
            await _synced(a, b)
            await _resync(a, b)
            assert b.get_or_map("tags").get("t") == ["work"]
            await a.go_offline()
            await b.go_offline()
            a.get_or_map("tags").remove("t", "work")  # removes the tag a has seen
            b.get_or_map("tags").add("t", "work")  # a concurrent re-add: a new tag
            await _synced(a, b)
            await _resync(a, b)
            assert a.get_or_map("tags").get("t") == ["work"]
            assert b.get_or_map("tags").get("t") == ["work"]
            assert a.get_or_map("tags").root_hash == b.get_or_map("tags").root_hash


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from topgun_client import TopGunClient

    async def main(url, token, store):
        async with TopGunClient(url, token=token, store=store) as client:
            users = client.get_map("burst")
            i = 0
            while True:
                for _ in range(50):
                    users.set(f"k{i}", {"i": i, "pad": "x" * 64})
                    i += 1
                await client.flush_local()
                print(f"durable {i}", flush=True)

    asyncio.run(main(*sys.argv[1:4]))
    """
)


async def test_kill_9_mid_burst_loses_no_locally_confirmed_write(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    store = tmp_path / "client.db"
    async with running_server() as server:
        token = server.token()
        child = await asyncio.create_subprocess_exec(
            sys.executable, str(script), server.ws_url, token, str(store),
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        confirmed = 0
        try:
            async with asyncio.timeout(60):
                while confirmed < 2_000:
                    line = await child.stdout.readline()
                    assert line, "the writer exited early"
                    confirmed = int(line.split()[1])
        finally:
            child.kill()  # SIGKILL, mid-burst: the writer never stops on its own
            await child.wait()
        async with TopGunClient(server.ws_url, token=token, store=store, online=False) as client:
            burst = client.get_map("burst")
            missing = [i for i in range(confirmed) if burst.get(f"k{i}") is None]
            assert missing == []
            client.go_online()
            await client.wait_for_state(ConnectionState.CONNECTED, timeout=TIMEOUT_S)
            await client.flush(timeout=TIMEOUT_S)
            written = len(burst)
        fresh = await _server_view(server.ws_url, token, ["burst"], [])
        try:
            on_server = fresh.get_map("burst")
            assert [i for i in range(confirmed) if on_server.get(f"k{i}") is None] == []
            assert len(on_server) == written
        finally:
            await fresh.close()


@pytest.mark.slow
async def test_a_100k_offline_queue_syncs_in_bounded_batches(tmp_path):
    settings = ClientSettings(batch_ops_max=500, inflight_ops_max=2_000)
    async with running_server() as server:
        token = server.token()
        async with TopGunClient(server.ws_url, token=token, store=tmp_path / "big.db",
                                settings=settings, online=False) as client:  # fmt: skip
            big = client.get_map("big")
            for start in range(0, 100_000, 10_000):
                for i in range(start, start + 10_000):
                    big.set(f"k{i}", i)
                await client.flush_local()
            assert client.pending_ops == 100_000
            client.go_online()
            await client.flush(timeout=300)
            stats = client.stats
            assert stats.pending_ops == 0
            assert stats.batch_ops_peak <= 500  # never a bigger frame
            assert stats.inflight_ops_peak <= 2_000  # never more ops held in memory
            assert stats.batches_sent >= 200
            root = big.root_hash
        fresh = await _server_view(server.ws_url, token, ["big"], [])
        try:
            assert len(fresh.get_map("big")) == 100_000
            assert fresh.get_map("big").root_hash == root
        finally:
            await fresh.close()


async def test_a_map_the_user_may_not_read_does_not_block_the_others(tmp_path):
    policies = tmp_path / "policies.json"
    policies.write_text('[{"role": "USER", "pattern": "open*", "actions": ["ALL"]}]')
    async with running_server(policies_file=policies) as server:
        errors = []
        async with TopGunClient(server.ws_url, token=server.token()) as client:
            client.on_error(errors.append)
            client.get_map("open").set("k", 1)
            client.get_map("secret")
            try:
                await client.wait_for_state(ConnectionState.CONNECTED, timeout=3)
            finally:
                assert any(getattr(e, "code", None) == 403 for e in errors)


async def test_the_client_rides_out_a_server_restart(tmp_path):
    delays = []

    async def quick_sleep(seconds: float) -> None:
        delays.append(seconds)
        await asyncio.sleep(0.01)

    store = SQLiteStorage(tmp_path / "server.db")
    async with contextlib.AsyncExitStack() as stack:
        async with running_server(adapter=store) as server:
            port, token = server.port, server.token()
            client = TopGunClient(server.ws_url, token=token, store=tmp_path / "c.db",
                                  sleep=quick_sleep)  # fmt: skip
            await stack.enter_async_context(client)
            users = client.get_map("users")
            users.set("before", 1)
            await client.flush(timeout=TIMEOUT_S)
        await client.wait_for_state(ConnectionState.BACKOFF, timeout=TIMEOUT_S)
        users.set("while-down", 2)  # local writes go on
        restarted = SQLiteStorage(tmp_path / "server.db")
        async with running_server(server.settings, adapter=restarted, port=port):
            await client.wait_for_state(ConnectionState.CONNECTED, timeout=TIMEOUT_S)
            await client.flush(timeout=TIMEOUT_S)
            fresh = await _server_view(server.ws_url, token, ["users"], [])
            try:
                assert fresh.get_map("users").get("before") == 1
                assert fresh.get_map("users").get("while-down") == 2
            finally:
                await fresh.close()
    assert delays  # it backed off between attempts


class ClearWatchingStore(SQLiteStorage):
    """A SQLite store that remembers which maps were cleared (a sync reset)."""

    def __init__(self, path) -> None:
        super().__init__(path)
        self.cleared: list[str] = []

    async def clear_map(self, map_name: str) -> None:
        self.cleared.append(map_name)
        await super().clear_map(map_name)


async def _eventually(predicate, timeout: float = TIMEOUT_S) -> None:
    """Poll ``predicate`` until it holds (for effects of the server's GC timer)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_gc_prunes_client_tombstones_and_a_stale_client_resets(tmp_path):
    async with running_server(gc_interval_ms=20, gc_tombstone_age_ms=50) as server:
        token = server.token()
        store = tmp_path / "gc.db"
        async with TopGunClient(server.ws_url, token=token, store=store) as client:
            users = client.get_map("users")
            users.set("kept", 1)
            users.set("gone", 2)
            users.remove("gone")
            await client.wait_for_state(ConnectionState.CONNECTED, timeout=TIMEOUT_S)
            await client.flush(timeout=TIMEOUT_S)
            assert users.record("gone").value is None  # a tombstone, for now
            await _eventually(lambda: users.record("gone") is None)  # GC_PRUNE reached us
            await client.go_offline()
            offline_ms = time.time_ns() // 1_000_000  # the last sync was before this
        # The GC horizon (now - 50 ms, advanced every 20 ms) must pass the last sync.
        await _eventually(lambda: time.time_ns() // 1_000_000 > offline_ms + 50 + 2 * 20 + 30)
        # Reopened later: its last sync is older than the GC horizon, so the server
        # answers SYNC_RESET_REQUIRED; the client clears the map and syncs from scratch.
        watched = ClearWatchingStore(store)
        async with TopGunClient(server.ws_url, token=token, store=watched) as client:
            users = client.get_map("users")
            await client.wait_for_state(ConnectionState.CONNECTED, timeout=TIMEOUT_S)
            await client.flush_local()
            assert watched.cleared == ["users"]
            assert dict(users.items()) == {"kept": 1}
            assert users.record("gone") is None
