"""The synchronous facade (``topgun_client.sync``): the client on a background thread."""

from __future__ import annotations

import threading

import pytest

import topgun_client.sync
from topgun_client import ConnectionState, WriteConcern


def test_a_script_writes_reads_and_flushes(threaded_fake_server, tmp_path):
    server = threaded_fake_server
    store = tmp_path / "script.db"
    with topgun_client.sync.connect(server.url, token="t", store=store) as client:
        users = client.get_map("users")
        users.set("u1", {"name": "Ada"})
        assert users.get("u1") == {"name": "Ada"}
        assert dict(users.items()) == {"u1": {"name": "Ada"}}
        assert list(users) == ["u1"]
        assert len(users) == 1
        result = users.write("u2", "Bob", write_concern=WriteConcern.PERSISTED, timeout=5)
        assert result.achieved_level == "PERSISTED"
        tags = client.get_or_map("tags")
        tags.add("t", "x")
        assert tags.get("t") == ["x"]
        client.flush(timeout=5)
        client.wait_for_state(ConnectionState.CONNECTED, timeout=5)
        assert client.pending_ops == 0
        assert client.state is ConnectionState.CONNECTED
        node_id = client.node_id
    with topgun_client.sync.connect(server.url, token="t", store=store, online=False) as again:
        assert again.node_id == node_id
        assert again.get_map("users").get("u2") == "Bob"


def test_callbacks_run_on_the_client_thread(threaded_fake_server):
    server = threaded_fake_server
    seen = []
    got = threading.Event()
    with (
        topgun_client.sync.connect(server.url, token="t") as writer,
        topgun_client.sync.connect(server.url, token="t") as reader,
    ):
        reader.on_change("m", lambda change: (seen.append(threading.current_thread()), got.set()))
        reader.get_map("m")
        reader.wait_for_state(ConnectionState.CONNECTED, timeout=5)
        writer.get_map("m").set("k", 1)
        writer.flush(timeout=5)
        assert got.wait(5)
        assert reader.get_map("m").get("k") == 1
    assert seen[0] is not threading.main_thread()


def test_a_client_that_cannot_start_raises_in_the_caller():
    with pytest.raises(ValueError, match="ws://"):
        topgun_client.sync.connect("http://example.invalid", token="t")
