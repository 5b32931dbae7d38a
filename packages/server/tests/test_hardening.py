"""HARDENING.md over the real server: JWT strictness, production refusal, drift,
validation of every inbound frame, limits, and a malformed-input table over a real
socket — each case gets the right ERROR or close code while another client on the
same server keeps being served."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import jwt
import msgpack
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from typer.testing import CliRunner

from topgun_core.errors import AuthError
from topgun_core.protocol import PROTOCOL_VERSION
from topgun_server.auth import TokenVerifier, load_keys, mint_token
from topgun_server.cli import CONFIG_ERROR_EXIT, app
from topgun_server.settings import ConfigError, ServerSettings
from topgun_server.testing import ProtocolClient, put, running_server, settings_for_tests

SECRET = "s" * 40 + "0123456789abcdefghijklmnopqrstuvwxyz"  # 76 bytes, not a known dev value
OTHER_SECRET = "o" * 40


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, object], claims: dict[str, object], signature: bytes = b"") -> str:
    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(claims).encode())
    return f"{head}.{body}.{_b64(signature)}"


def _claims(**extra: object) -> dict[str, object]:
    return {"sub": "alice", "roles": ["USER"], "exp": int(time.time()) + 600, **extra}


def _rsa_key(tmp_path: Path) -> tuple[rsa.RSAPrivateKey, Path, bytes]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path = tmp_path / "public.pem"
    path.write_bytes(pem)
    return private, path, pem


def _verifier(**settings: object) -> TokenVerifier:
    s = ServerSettings(**{"jwt_secret": SECRET, **settings})
    return TokenVerifier(load_keys(s), issuer=s.jwt_issuer, audience=s.jwt_audience)


# ---------------------------------------------------------------- JWT table (HARDENING §1)


def test_valid_hs256_token_yields_principal_with_default_roles() -> None:
    token = jwt.encode({"sub": "bob"}, SECRET, algorithm="HS256")
    principal = _verifier().verify(token)
    assert principal.user_id == "bob"
    assert principal.roles == frozenset({"USER"})


def test_user_id_claim_and_roles_are_read() -> None:
    token = jwt.encode({"userId": "carol", "roles": ["ADMIN"]}, SECRET, algorithm="HS256")
    principal = _verifier().verify(token)
    assert (principal.user_id, principal.is_admin) == ("carol", True)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (_unsigned({"alg": "none", "typ": "JWT"}, _claims()), "algorithm"),
        (jwt.encode(_claims(exp=int(time.time()) - 10), SECRET, algorithm="HS256"), "expired"),
        (jwt.encode(_claims(nbf=int(time.time()) + 600), SECRET, algorithm="HS256"), "not yet"),
        (jwt.encode(_claims(), OTHER_SECRET, algorithm="HS256"), "signature"),
        (jwt.encode(_claims(), SECRET, algorithm="HS512"), "algorithm"),
        ("not.a.token", "malformed"),
        ("", "missing"),
        (jwt.encode({"roles": ["USER"]}, SECRET, algorithm="HS256"), "sub"),
        (jwt.encode({"sub": "a", "roles": "ADMIN"}, SECRET, algorithm="HS256"), "roles"),
    ],
    ids=["alg-none", "expired", "nbf-future", "wrong-secret", "hs512", "malformed", "empty",
         "no-sub", "roles-not-list"],
)  # fmt: skip
def test_bad_tokens_are_rejected(token: str, reason: str) -> None:
    with pytest.raises(AuthError, match=reason):
        _verifier().verify(token)


def test_issuer_and_audience_are_checked_when_configured() -> None:
    verifier = _verifier(jwt_issuer="https://issuer", jwt_audience="topgun")
    good = jwt.encode(_claims(iss="https://issuer", aud="topgun"), SECRET, algorithm="HS256")
    assert verifier.verify(good).user_id == "alice"
    wrong_iss = jwt.encode(_claims(iss="https://evil", aud="topgun"), SECRET, algorithm="HS256")
    wrong_aud = jwt.encode(_claims(iss="https://issuer", aud="other"), SECRET, algorithm="HS256")
    missing = jwt.encode(_claims(), SECRET, algorithm="HS256")
    for token, reason in [(wrong_iss, "issuer"), (wrong_aud, "audience"), (missing, "claim")]:
        with pytest.raises(AuthError, match=reason):
            verifier.verify(token)


def test_rs256_public_key_and_algorithm_confusion(tmp_path: Path) -> None:
    private, path, pem = _rsa_key(tmp_path)
    verifier = _verifier(jwt_secret=None, jwt_public_key_file=path)
    assert verifier.keys.algorithm == "RS256"
    assert verifier.verify(jwt.encode(_claims(), private, algorithm="RS256")).user_id == "alice"
    # The classic confusion attack: HS256 "signed" with the public key's PEM as the secret.
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_claims()).encode())}"
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{_b64(signature)}"
    with pytest.raises(AuthError, match="algorithm"):
        verifier.verify(forged)
    with pytest.raises(AuthError):
        verifier.verify(_unsigned({"alg": "none"}, _claims()))


def test_es256_public_key(tmp_path: Path) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "ec.pem"
    path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    verifier = _verifier(jwt_secret=None, jwt_public_key_file=path)
    assert verifier.keys.algorithm == "ES256"
    assert verifier.verify(jwt.encode(_claims(), private, algorithm="ES256")).user_id == "alice"
    with pytest.raises(AuthError):
        verifier.verify(jwt.encode(_claims(), SECRET, algorithm="HS256"))


def test_unusable_key_files_are_configuration_errors(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    for path in (garbage, tmp_path / "missing.pem"):
        with pytest.raises(ConfigError):
            load_keys(ServerSettings(jwt_public_key_file=path))


# ---------------------------------------------------------------- production refusal


@pytest.mark.parametrize(
    ("secret", "problem"),
    [(None, "needs a JWT secret"), ("changeme", "well-known"), ("secret", "well-known"),
     ("topgun", "well-known"), ("x" * 31, "shorter than 32")],
)  # fmt: skip
def test_production_refuses_weak_or_missing_secrets(secret: str | None, problem: str) -> None:
    settings = ServerSettings(env="production", jwt_secret=secret)
    with pytest.raises(ConfigError, match=problem):
        load_keys(settings)


def test_production_accepts_a_strong_secret_or_a_public_key(tmp_path: Path) -> None:
    keys = load_keys(ServerSettings(env="production", jwt_secret="k" * 32))
    assert (keys.algorithm, keys.generated) == ("HS256", False)
    _, path, _ = _rsa_key(tmp_path)
    assert (
        load_keys(ServerSettings(env="production", jwt_public_key_file=path)).algorithm == "RS256"
    )


def test_development_generates_a_random_secret_per_run() -> None:
    first, second = load_keys(ServerSettings()), load_keys(ServerSettings())
    assert first.generated
    assert second.generated
    assert first.signing_secret != second.signing_secret
    assert len(first.signing_secret or "") >= 32


@pytest.mark.parametrize("secret", [None, "dev", "short-but-unknown"])
def test_cli_refuses_to_start_in_production_with_exit_code(secret: str | None) -> None:
    args = ["serve", "--env", "production", "--storage", "memory", "--port", "0"]
    if secret is not None:
        args += ["--jwt-secret", secret]
    result = CliRunner().invoke(app, args, env={"TOPGUN_JWT_SECRET": ""} if secret else {})
    assert result.exit_code == CONFIG_ERROR_EXIT
    assert "configuration error" in result.output


def test_cli_token_command_mints_a_verifiable_token() -> None:
    result = CliRunner().invoke(
        app, ["token", "--sub", "ops", "--roles", "ADMIN,USER"], env={"TOPGUN_JWT_SECRET": SECRET}
    )
    assert result.exit_code == 0, result.output
    principal = _verifier().verify(result.output.strip())
    assert principal.user_id == "ops"
    assert principal.roles == frozenset({"ADMIN", "USER"})


# ---------------------------------------------------------------- over the socket


async def _bystander(server) -> ProtocolClient:
    client = await ProtocolClient.connect(server.ws_url)
    assert (await client.auth(server.token(sub="bystander")))["type"] == "AUTH_ACK"
    return client


async def _still_served(client: ProtocolClient) -> None:
    await client.send({"type": "PING", "timestamp": 42})
    assert (await client.expect("PONG"))["timestamp"] == 42


BAD_TOKENS = {
    "expired": lambda s: mint_token(s, sub="a", ttl_s=-10),
    "alg-none": lambda s: _unsigned({"alg": "none"}, _claims()),
    "wrong-secret": lambda s: mint_token("z" * 40, sub="a"),
    "garbage": lambda s: "garbage",
    "nbf-future": lambda s: jwt.encode(_claims(nbf=int(time.time()) + 600), s, algorithm="HS256"),
}


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
async def test_bad_tokens_over_the_socket_get_auth_fail_and_4001(server, kind: str) -> None:
    bystander = await _bystander(server)
    secret = server.settings.jwt_secret.get_secret_value()
    client = await ProtocolClient.connect(server.ws_url)
    answer = await client.auth(BAD_TOKENS[kind](secret))
    assert answer["type"] == "AUTH_FAIL"
    assert (await client.closed())[0] == 4001
    await _still_served(bystander)
    await bystander.close()


async def test_version_negotiation(server) -> None:
    client = await ProtocolClient.connect(server.ws_url)
    ack = await client.auth(server.token(), protocolVersion=PROTOCOL_VERSION)
    assert ack["type"] == "AUTH_ACK"
    assert ack["protocolVersion"] == PROTOCOL_VERSION
    old = await ProtocolClient.connect(server.ws_url)
    fail = await old.auth(server.token(), protocolVersion=99)
    assert fail["type"] == "AUTH_FAIL"
    assert "99" in fail["error"]
    assert str(PROTOCOL_VERSION) in fail["error"]
    assert (await old.closed())[0] == 4001
    await client.close()


def _deep(levels: int) -> object:
    value: object = 1
    for _ in range(levels):
        value = [value]
    return value


AUTHED_CASES = {
    # name: (frame, expected ("close", code) or ("error", code, field))
    "bad-msgpack": (b"\xc1\xc1\xc1", ("close", 1002)),
    "truncated-msgpack": (msgpack.packb({"type": "PING", "timestamp": 1})[:-1], ("close", 1002)),
    "not-a-map": (msgpack.packb([1, 2, 3]), ("error", 400, "type")),
    "unknown-type": (msgpack.packb({"type": "HACK"}), ("error", 400, "type")),
    "wrong-field-type": (
        msgpack.packb({"type": "PING", "timestamp": "x"}), ("error", 400, "timestamp")
    ),
    "missing-field": (msgpack.packb({"type": "SYNC_INIT"}), ("error", 400, "mapName")),
    "unknown-field": (msgpack.packb({"type": "PING", "timestamp": 1, "x": 1}), ("error", 400, "x")),
    "bad-op-type": (
        msgpack.packb({"type": "CLIENT_OP", "payload": {"id": 1, "mapName": "m", "key": "k",
                                                          "opType": "DROP"}}),
        ("error", 400, "payload.opType"),
    ),
    "too-deep": (
        msgpack.packb({"type": "PING", "timestamp": 1, "x": _deep(40)}), ("error", 413, None)
    ),
    "oversize-frame": (
        msgpack.packb({"type": "PING", "timestamp": 1, "x": "y" * 200_000}), ("close", 1009)
    ),
    "bad-json": ('{"type": "PING", ', ("close", 1002)),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(AUTHED_CASES))
async def test_malformed_input_table(case: str) -> None:
    frame, expected = AUTHED_CASES[case]
    async with running_server(frame_bytes_max=100_000) as server:
        bystander = await _bystander(server)
        client = await ProtocolClient.connect(server.ws_url)
        assert (await client.auth(server.token()))["type"] == "AUTH_ACK"
        await client.send_raw(frame)
        if expected[0] == "close":
            assert (await client.closed())[0] == expected[1]
        else:
            error = await client.expect("ERROR")
            assert error["payload"]["code"] == expected[1]
            if expected[2] is not None:
                assert error["payload"]["details"]["field"] == expected[2]
            await _still_served(client)  # the connection stays open
            await client.close()
        await _still_served(bystander)
        await bystander.close()


async def test_json_text_frames_are_accepted(server) -> None:
    client = await ProtocolClient.connect(server.ws_url)
    await client.auth(server.token())
    await client.send_raw('{"type": "PING", "timestamp": 7}')
    assert (await client.expect("PONG"))["timestamp"] == 7
    await client.close()


@pytest.mark.parametrize(
    "message",
    [
        {"type": "CLIENT_OP", "payload": put(1, "m", "k", 1)},
        {"type": "SYNC_INIT", "mapName": "m"},
        {"type": "QUERY_SUB", "payload": {"queryId": "q", "mapName": "m", "query": {}}},
    ],
    ids=["op", "sync", "query"],
)
async def test_anything_but_auth_or_ping_before_auth_closes_4001(server, message) -> None:
    bystander = await _bystander(server)
    client = await ProtocolClient.connect(server.ws_url)
    await client.expect("AUTH_REQUIRED")
    await client.send({"type": "PING", "timestamp": 1})
    assert (await client.expect("PONG"))["timestamp"] == 1
    await client.send(message)
    assert (await client.closed())[0] == 4001
    await _still_served(bystander)
    await bystander.close()


async def test_invalid_message_before_auth_is_answered_then_closed(server) -> None:
    client = await ProtocolClient.connect(server.ws_url)
    await client.expect("AUTH_REQUIRED")
    await client.send({"type": "AUTH", "token": 5})
    error = await client.expect("ERROR")
    assert error["payload"]["details"]["field"] == "token"
    assert (await client.closed())[0] == 4001


async def test_preauth_frames_are_capped_below_the_authenticated_limit() -> None:
    async with running_server(preauth_frame_bytes_max=1024) as server:
        client = await ProtocolClient.connect(server.ws_url)
        await client.expect("AUTH_REQUIRED")
        await client.send({"type": "AUTH", "token": "x" * 5000})
        assert (await client.closed())[0] == 1009
        # After AUTH the same frame size is fine.
        authed = await ProtocolClient.connect(server.ws_url)
        await authed.auth(server.token())
        await authed.send({"type": "PING", "timestamp": 1, "pad": "x" * 5000})
        assert (await authed.expect("ERROR"))["payload"]["details"]["field"] == "pad"
        await authed.close()


async def test_repeated_invalid_messages_close_4003() -> None:
    async with running_server(invalid_msgs_burst=3, invalid_msgs_per_s=0.001) as server:
        client = await ProtocolClient.connect(server.ws_url)
        await client.auth(server.token())
        for _ in range(4):
            await client.send({"type": "PING", "timestamp": "bad"})
        errors = [await client.expect("ERROR") for _ in range(3)]
        assert all(e["payload"]["code"] == 400 for e in errors)
        assert (await client.closed())[0] == 4003


async def test_rate_limit_answers_429_and_rejects_ops() -> None:
    async with running_server(client_msgs_burst=2, client_msgs_per_s=0.001) as server:
        client = await ProtocolClient.connect(server.ws_url)
        await client.auth(server.token())  # AUTH spends one token
        await client.send({"type": "PING", "timestamp": 1})
        assert (await client.expect("PONG"))["timestamp"] == 1
        await client.send({"type": "PING", "timestamp": 2})
        assert (await client.expect("ERROR"))["payload"]["code"] == 429
        await client.send(
            {"type": "OP_BATCH", "payload": {"ops": [put(7, "m", "a", 1), put(8, "m", "b", 2)]}}
        )
        rejected = [await client.expect("OP_REJECTED") for _ in range(2)]
        assert [(r["payload"]["opId"], r["payload"]["code"]) for r in rejected] == [
            (7, 429),
            (8, 429),
        ]
        await client.close()


async def test_connection_limit_closes_1013_with_retry_after() -> None:
    async with running_server(connections_max=2, overload_retry_after_ms=1234) as server:
        first = await ProtocolClient.connect(server.ws_url)
        second = await ProtocolClient.connect(server.ws_url)
        await first.expect("AUTH_REQUIRED")
        await second.expect("AUTH_REQUIRED")
        third = await ProtocolClient.connect(server.ws_url)
        code, reason = await third.closed()
        assert code == 1013
        assert json.loads(reason)["retryAfter"] == 1234
        await first.close()
        await second.close()


async def test_idle_connection_closes_4002_and_auth_timeout_4001() -> None:
    async with running_server(idle_timeout_ms=300, auth_timeout_ms=200) as server:
        silent = await ProtocolClient.connect(server.ws_url)
        assert (await silent.closed(timeout=5))[0] == 4001
        authed = await ProtocolClient.connect(server.ws_url)
        await authed.auth(server.token())
        code, reason = await authed.closed(timeout=5)
        assert code == 4002
        assert "heartbeat" in reason


async def test_pong_time_never_feeds_the_hlc(server) -> None:
    client = await ProtocolClient.connect(server.ws_url)
    await client.auth(server.token())
    far_future = int(time.time() * 1000) + 10 * 365 * 24 * 3600 * 1000
    await client.send({"type": "PING", "timestamp": far_future})
    pong = await client.expect("PONG")
    assert pong["timestamp"] == far_future
    assert abs(pong["serverTime"] - time.time() * 1000) < 60_000
    await client.send({"type": "SYNC_INIT", "mapName": "m"})
    root = await client.expect("SYNC_RESP_ROOT")
    assert root["payload"]["timestamp"]["millis"] < time.time() * 1000 + 60_000
    await client.close()


async def test_drift_rejects_only_the_drifting_op(server) -> None:
    client = await ProtocolClient.connect(server.ws_url)
    await client.auth(server.token())
    ahead = int(time.time() * 1000) + 120_000
    ops = [
        put(1, "drift", "ok", 1),
        put(2, "drift", "future", 2, millis=ahead),
        put(3, "drift", "ok2", 3),
    ]
    await client.send({"type": "OP_BATCH", "payload": {"ops": ops}})
    rejected = await client.expect("OP_REJECTED")
    assert rejected["payload"]["opId"] == 2
    assert rejected["payload"]["code"] == 400
    assert "drift" in rejected["payload"]["reason"]
    ack = await client.expect("OP_ACK")
    assert sorted(r["opId"] for r in ack["payload"]["results"]) == [1, 3]
    records = await client.sync_lww("drift")
    assert sorted(records) == ["ok", "ok2"]
    await client.close()


async def test_admin_only_system_maps(server) -> None:
    client = await ProtocolClient.connect(server.ws_url)
    await client.auth(server.token())
    await client.send({"type": "CLIENT_OP", "payload": put(1, "$sys/users", "k", 1)})
    rejected = await client.expect("OP_REJECTED")
    assert rejected["payload"]["code"] == 403
    await client.send({"type": "SYNC_INIT", "mapName": "$sys/users"})
    error = await client.expect("ERROR")
    assert error["payload"]["code"] == 403
    assert error["payload"]["details"] == {"mapName": "$sys/users"}  # which sync was refused
    admin = await ProtocolClient.connect(server.ws_url)
    await admin.auth(server.token(sub="root", roles=("ADMIN",)))
    await admin.send({"type": "CLIENT_OP", "payload": put(1, "$sys/users", "k", 1)})
    assert (await admin.expect("OP_ACK"))["payload"]["results"][0]["success"] is True
    await client.close()
    await admin.close()


async def test_unsupported_features_answer_501(server) -> None:
    client = await ProtocolClient.connect(server.ws_url)
    await client.auth(server.token())
    await client.send({"type": "PARTITION_MAP_REQUEST", "payload": {}})
    error = await client.expect("ERROR")
    assert error["payload"] == {
        "code": 501,
        "message": "PARTITION_MAP_REQUEST is not supported by this server version yet",
    }
    await _still_served(client)
    await client.close()


def test_settings_for_tests_are_valid() -> None:
    assert settings_for_tests().storage == "memory"


# ---------------------------------------------------------------- §4 user code is sandboxed

SANDBOX_ESCAPES = [
    ("import os\nreturn {'value': os.getcwd()}", "imports are not allowed"),
    ("return {'value': value.__class__.__mro__[-1].__subclasses__()}", 'starts with "_"'),
    ("return {'value': open('/etc/passwd').read()}", "'open' is not defined"),
    ("return {'value': eval('1 + 1')}", "Eval calls are not allowed"),
    ("exec('x = 1')\nreturn {'value': 1}", "Exec calls are not allowed"),
    ("while True:\n    pass", "longer than 100 ms"),
    ("return {'value': 'x' * (10 ** 10)}", "out of memory"),
    ("return {'value': 'x' * (4 * 1024 * 1024)}", "result_bytes_max"),
    ("def f(n):\n    return f(n + 1)\nreturn {'value': f(0)}", "recursion too deep"),
]


async def test_sandbox_escapes_are_refused_or_killed_and_the_server_stays_healthy(server) -> None:
    client = await ProtocolClient.connect(server.ws_url)
    await client.auth(server.token())
    for i, (code, problem) in enumerate(SANDBOX_ESCAPES):
        await client.send(
            {
                "type": "ENTRY_PROCESS",
                "requestId": f"e{i}",
                "mapName": "m",
                "key": "k",
                "processor": {"name": "escape", "code": code},
            }
        )
        response = await client.expect("ENTRY_PROCESS_RESPONSE")
        assert not response["success"], code
        assert problem in response["error"], (code, response["error"])
    status, _ = await server.get("/health")
    assert status == 200
    await _still_served(client)
    await client.send(
        {
            "type": "ENTRY_PROCESS",
            "requestId": "ok",
            "mapName": "m",
            "key": "k",
            "processor": {"name": "fine", "code": "return {'value': 1, 'result': 'ok'}"},
        }
    )
    assert (await client.expect("ENTRY_PROCESS_RESPONSE"))["result"] == "ok"
    await client.close()
