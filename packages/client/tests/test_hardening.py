"""HARDENING.md for the client: tokens, drift, and validation of every inbound frame.

- A ``token_provider`` is asked again after ``AUTH_FAIL`` and after the token's
  expiry, and never in a hot loop: attempts are spaced by capped exponential
  backoff with full jitter (the sleep and the clock are injected, nothing sleeps).
- A server event stamped beyond the drift bound is refused and reported.
- Every inbound frame is validated: garbage, wrong types and unknown types from the
  server are reported through ``on_error`` and dropped; the client keeps working.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random

import msgpack

from topgun_client import Backoff, ClientSettings, ConnectionState, TopGunClient
from topgun_core.errors import AuthError, ClockDriftError, ProtocolError
from topgun_core.protocol import encode
from topgun_core.testing import FakeClock

TIMEOUT_S = 5.0
NOW = 1_700_000_000_000


def _jwt(exp_ms: int, label: str) -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256'})}.{part({'exp': exp_ms / 1000, 'sub': label})}.sig"


class FakeSleep:
    """Records requested delays and advances the fake clock instead of sleeping."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.clock.advance(round(seconds * 1000))
        await asyncio.sleep(0)


async def test_provider_is_asked_again_after_auth_fail_with_backoff(fake_server):
    fake_server.accept = lambda token: token == "good"
    tokens = iter(["bad-1", "bad-2", "bad-3", "good"])
    calls = []

    async def provider() -> str:
        calls.append(1)
        return next(tokens)

    clock = FakeClock(NOW)
    sleep = FakeSleep(clock)
    errors = []
    client = TopGunClient(fake_server.url, token_provider=provider, clock=clock, sleep=sleep,
                          rng=random.Random(3))  # fmt: skip
    client.on_error(errors.append)
    async with client:
        await client.wait_for_state(ConnectionState.CONNECTED, timeout=TIMEOUT_S)
        assert len(calls) == 4 == client.stats.token_requests
        assert fake_server.auth_count == 4
        assert len(sleep.delays) == 3  # one backoff wait per refusal
        expected = Backoff(250, 30_000, random.Random(3))
        assert [round(d * 1000) for d in sleep.delays] == [
            expected.next_delay_ms() for _ in range(3)
        ]
        assert sum(isinstance(e, AuthError) for e in errors) == 3


async def test_a_refusing_server_is_never_hammered(fake_server):
    fake_server.accept = lambda token: False
    calls = []

    async def provider() -> str:
        calls.append(1)
        return "always-refused"

    clock = FakeClock(NOW)
    sleep = FakeSleep(clock)
    settings = ClientSettings(backoff_initial_ms=100, backoff_max_ms=10_000)
    client = TopGunClient(fake_server.url, token_provider=provider, clock=clock, sleep=sleep,
                          settings=settings, rng=random.Random(11))  # fmt: skip
    async with client:
        await fake_server.wait_for(lambda: fake_server.auth_count >= 15, timeout=TIMEOUT_S)
        await client.go_offline()
    attempts = len(calls)
    elapsed_ms = clock.now_ms() - NOW
    # One token request per attempt, and attempts spread out: the waits grow with the
    # attempt (full jitter under a doubling cap), so 15 attempts take simulated minutes.
    assert fake_server.auth_count <= attempts <= fake_server.auth_count + 1  # the last in flight
    caps = [min(10_000, 100 * 2**i) for i in range(len(sleep.delays))]
    assert all(0 <= d * 1000 <= cap + 1 for d, cap in zip(sleep.delays, caps, strict=True))
    assert elapsed_ms >= 20_000
    assert attempts / (elapsed_ms / 1000) < 1.0  # under one attempt per simulated second


async def test_provider_is_asked_again_when_the_token_expired(fake_server):
    clock = FakeClock(NOW)
    tokens = [_jwt(NOW + 60_000, "first"), _jwt(NOW + 3_600_000, "second")]
    calls = []

    async def provider() -> str:
        calls.append(1)
        return tokens[len(calls) - 1]

    async with TopGunClient(fake_server.url, token_provider=provider, clock=clock,
                            sleep=FakeSleep(clock)) as client:  # fmt: skip
        await client.wait_for_state(ConnectionState.CONNECTED, timeout=TIMEOUT_S)
        assert len(calls) == 1
        clock.advance(120_000)  # the first token has expired
        await client.go_offline()
        client.go_online()
        await client.wait_for_state(ConnectionState.CONNECTED, timeout=TIMEOUT_S)
        assert len(calls) == 2
        sent = [m["token"] for m in fake_server.received if m["type"] == "AUTH"]
        assert sent == tokens


async def test_a_server_event_beyond_the_drift_bound_is_refused_and_reported(fake_server):
    far = {"millis": NOW + 10**9, "counter": 0, "nodeId": "server"}
    event = {"mapName": "users", "key": "k", "eventType": "UPDATED",
             "record": {"value": "from-the-future", "timestamp": far}}  # fmt: skip
    fake_server.after_auth = [encode({"type": "SERVER_EVENT", "payload": event})]
    errors = []
    async with TopGunClient(fake_server.url, token="t", clock=FakeClock(NOW)) as client:
        client.on_error(errors.append)
        users = client.get_map("users")
        await client.wait_for_state(ConnectionState.CONNECTED, timeout=TIMEOUT_S)
        assert any(isinstance(e, ClockDriftError) for e in errors)
        assert users.get("k") is None
        users.set("ok", 1)  # still working
        await client.flush(timeout=TIMEOUT_S)
        assert fake_server.lww("users").get("ok") == 1


async def test_invalid_frames_from_the_server_are_reported_and_dropped(fake_server):
    fake_server.after_auth = [
        b"\xc1\xc1 not msgpack",
        msgpack.packb({"type": "OP_ACK", "payload": {"lastId": "x", "results": 5}}),
        msgpack.packb({"type": "SOMETHING_NEW", "payload": {}}),
        msgpack.packb({"no": "type"}),
    ]
    errors = []
    async with TopGunClient(fake_server.url, token="t") as client:
        client.on_error(errors.append)
        client.get_map("users").set("k", "v")
        await client.wait_for_state(ConnectionState.CONNECTED, timeout=TIMEOUT_S)
        await client.flush(timeout=TIMEOUT_S)
        assert sum(isinstance(e, ProtocolError) for e in errors) == 4
        assert fake_server.lww("users").get("k") == "v"
        assert client.state is ConnectionState.CONNECTED


async def test_a_failing_provider_is_reported_and_retried_not_fatal(fake_server):
    outcomes = iter([RuntimeError("identity service down"), "good"])

    async def provider() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    errors = []
    clock = FakeClock(NOW)
    client = TopGunClient(
        fake_server.url, token_provider=provider, clock=clock, sleep=FakeSleep(clock)
    )
    client.on_error(errors.append)
    async with client:
        await client.wait_for_state(ConnectionState.CONNECTED, timeout=TIMEOUT_S)
    assert any(isinstance(e, AuthError) and "identity service down" in e.message for e in errors)
