"""HTTP: health (store ping), ready, metrics and the admin API behind tokens, CORS."""

from __future__ import annotations

import asyncio
import json

from topgun_server.testing import ProtocolClient, put, running_server


async def _raw(server, request: str) -> bytes:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(request.encode())
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    return data


async def test_health_pings_the_store(flaky_storage) -> None:
    async with running_server(adapter=flaky_storage) as server:
        status, body = await server.get("/health")
        assert (status, json.loads(body)["status"]) == (200, "ok")
        flaky_storage.fail_ping = True
        status, body = await server.get("/health")
        assert status == 503
        assert json.loads(body) == {"status": "unavailable", "storage": "down"}
        assert b"injected" not in body  # no internals
        status, _ = await server.get("/ready")
        assert status == 200


async def test_metrics_need_a_token_and_report_the_server(server) -> None:
    assert (await server.get("/metrics"))[0] == 401
    assert (await server.get("/metrics", "not-a-token"))[0] == 401
    client = await ProtocolClient.connect(server.ws_url)
    await client.auth(server.token())
    await client.send(
        {"type": "OP_BATCH", "payload": {"ops": [put(1, "m", "a", 1), put(2, "m", "b", 2)]}}
    )
    await client.expect("OP_ACK")
    status, body = await server.get("/metrics", server.token(sub="monitor"))
    text = body.decode()
    assert status == 200
    assert "topgun_connected_clients 1.0" in text
    assert 'topgun_ops_total{map="m",type="PUT"} 2.0' in text
    assert 'topgun_map_size_items{map="m"} 2.0' in text
    assert "topgun_persistence_queue_depth" in text
    assert 'topgun_messages_total{type="OP_BATCH"} 1.0' in text
    await client.close()


async def test_admin_api_needs_the_admin_role(server) -> None:
    for path in ("/api/admin/maps", "/api/admin/status"):
        assert (await server.get(path))[0] == 401
        assert (await server.get(path, server.token(sub="u", roles=("USER",))))[0] == 403
        status, body = await server.get(path, server.token(sub="a", roles=("ADMIN",)))
        assert status == 200, body
    client = await ProtocolClient.connect(server.ws_url)
    await client.auth(server.token())
    await client.send({"type": "CLIENT_OP", "payload": put(1, "users", "u", {"n": 1})})
    await client.expect("OP_ACK")
    admin = server.token(sub="a", roles=("ADMIN",))
    maps = json.loads((await server.get("/api/admin/maps", admin))[1])["maps"]
    assert maps[0]["name"] == "users"
    assert (maps[0]["kind"], maps[0]["state"], maps[0]["items"]) == ("lww", "READY", 1)
    status = json.loads((await server.get("/api/admin/status", admin))[1])
    assert status["connections"] == 1
    assert status["mapsLoaded"] == 1
    assert status["ready"] is True
    await client.close()


async def test_cors_is_an_explicit_allow_list() -> None:
    request = (
        "GET /health HTTP/1.1\r\nHost: x\r\n"
        "Origin: https://app.example\r\nConnection: close\r\n\r\n"
    )
    async with running_server() as server:
        assert b"access-control-allow-origin" not in (await _raw(server, request)).lower()
    async with running_server(cors_origins=("https://app.example",)) as server:
        response = (await _raw(server, request)).lower()
        assert b"access-control-allow-origin: https://app.example" in response
        other = request.replace("https://app.example", "https://evil.example")
        assert b"access-control-allow-origin" not in (await _raw(server, other)).lower()


async def test_unknown_paths_are_404_without_internals(server) -> None:
    status, body = await server.get("/nope")
    assert status == 404
    assert b"Traceback" not in body


async def test_handler_crash_is_a_generic_500(flaky_storage) -> None:
    async def broken(map_name: str):
        raise RuntimeError("secret internal detail /etc/passwd")

    flaky_storage.load_lww = broken  # type: ignore[method-assign]
    await flaky_storage.open()
    from topgun_core.storage import WriteBatch

    await flaky_storage.apply(WriteBatch(map_kinds={"m": "lww"}))
    await flaky_storage.close()
    async with running_server(adapter=flaky_storage) as server:
        client = await ProtocolClient.connect(server.ws_url)
        await client.auth(server.token())
        await client.send({"type": "SYNC_INIT", "mapName": "m"})
        error = await client.expect("ERROR")
        assert error["payload"]["code"] == 503
        assert "secret" not in error["payload"]["message"]
        await client.send({"type": "PING", "timestamp": 1})
        assert (await client.expect("PONG"))["timestamp"] == 1
        await client.close()


async def test_ready_turns_503_and_writes_are_refused_while_shutting_down() -> None:
    from topgun_server.app import context_of
    from topgun_server.lifecycle import shutdown_gracefully

    async with running_server() as server:
        client = await ProtocolClient.connect(server.ws_url)
        await client.auth(server.token())
        ctx = context_of(server.app)
        assert ctx is not None
        await shutdown_gracefully(ctx)
        assert (await client.expect("SHUTDOWN_PENDING"))["type"] == "SHUTDOWN_PENDING"
        assert (await client.closed())[0] == 1001
        assert (await server.get("/ready"))[0] == 503
        late = await ProtocolClient.connect(server.ws_url)
        assert (await late.closed())[0] == 1001
