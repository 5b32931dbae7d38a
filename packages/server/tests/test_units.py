"""Units with no socket: persistence coalescing, the outbox, the token bucket, the
session state machine, settings and map-size accounting."""

from __future__ import annotations

import asyncio

import pytest

from topgun_core.hlc import Timestamp
from topgun_core.lww_map import LWWRecord
from topgun_core.or_map import ORRecord
from topgun_core.protocol import decode_server, unpack_batch
from topgun_core.storage import WriteBatch
from topgun_server.services.maps import RECORD_OVERHEAD_BYTES, estimate_record_bytes
from topgun_server.services.persistence import coalesce, maps_of
from topgun_server.settings import ServerSettings
from topgun_server.ws.ratelimit import TokenBucket
from topgun_server.ws.session import TRANSITIONS, IllegalTransition, Session, SessionState
from topgun_server.ws.writer import SLOW_CONSUMER, Outbox


def _rec(value: object, millis: int) -> LWWRecord:
    return LWWRecord(value, Timestamp(millis, 0, "n"))  # type: ignore[arg-type]


def test_coalesce_keeps_the_last_state_of_each_row() -> None:
    first = WriteBatch(map_kinds={"m": "lww"})
    first.lww_upserts.append(("m", "a", _rec(1, 1)))
    first.lww_deletes.append(("m", "b"))
    second = WriteBatch()
    second.lww_deletes.append(("m", "a"))  # GC after the write
    second.lww_upserts.append(("m", "b", _rec(2, 2)))  # a write after the GC delete
    tag = "5:0:n"
    second.or_upserts.append(("o", "k", ORRecord("x", Timestamp(5, 0, "n"), tag)))
    third = WriteBatch()
    third.or_deletes.append(("o", tag))
    third.or_tombstones.append(("o", "k", tag))
    third.kv_puts.append(("ns", "key", b"v"))
    merged = coalesce([first, second, third])
    assert merged.map_kinds == {"m": "lww"}
    assert merged.lww_deletes == [("m", "a")]
    assert merged.lww_upserts == [("m", "b", _rec(2, 2))]
    assert merged.or_upserts == []
    assert merged.or_deletes == [("o", tag)]
    assert merged.or_tombstones == [("o", "k", tag)]
    assert merged.kv_puts == [("ns", "key", b"v")]
    assert maps_of(merged) == frozenset({"m", "o"})
    assert coalesce([first]) is first


class _Port:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed: tuple[int, str] | None = None
        self.aborted: tuple[int, str] | None = None
        self.release = asyncio.Event()
        self.release.set()

    async def send(self, frame: bytes) -> None:
        await self.release.wait()
        self.sent.append(frame)

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    def abort(self, code: int, reason: str) -> None:
        self.aborted = (code, reason)


def _outbox(bytes_max: int = 1_000_000) -> Outbox:
    return Outbox(bytes_max=bytes_max, batch_bytes_max=10_000, batch_messages_max=100)


async def test_outbox_coalesces_waiting_messages_into_a_batch_then_closes() -> None:
    outbox, port = _outbox(), _Port()
    for i in range(5):
        outbox.send({"type": "PONG", "timestamp": i, "serverTime": 0})
    outbox.close(1001, "bye")
    await outbox.run(port)
    [frame] = port.sent
    batch = decode_server(frame)
    assert batch["type"] == "BATCH"
    inner = [decode_server(f) for f in unpack_batch(batch["data"], count=batch["count"])]
    assert [m["timestamp"] for m in inner] == [0, 1, 2, 3, 4]  # type: ignore[typeddict-item]
    assert port.closed == (1001, "bye")


async def test_outbox_cuts_off_a_slow_consumer() -> None:
    outbox, port = _outbox(bytes_max=200), _Port()
    port.release.clear()
    runner = asyncio.create_task(outbox.run(port))
    outbox.send({"type": "PONG", "timestamp": 1, "serverTime": 0})
    await asyncio.sleep(0)  # let the writer take the first frame and block on the peer
    for i in range(50):
        outbox.send({"type": "PONG", "timestamp": i, "serverTime": 0})
    assert port.aborted is not None
    assert port.aborted[0] == SLOW_CONSUMER
    assert port.aborted[1].startswith("slow consumer")
    assert outbox.queued_bytes == 0
    port.release.set()
    await runner


def test_token_bucket_refills_with_time() -> None:
    now = [0.0]
    bucket = TokenBucket(2.0, 3, now_s=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] += 1.0
    assert [bucket.take() for _ in range(3)] == [True, True, False]
    now[0] += 100
    assert sum(bucket.take() for _ in range(10)) == 3  # never more than the burst


def test_session_transitions_follow_the_table() -> None:
    session = Session(outbox=_outbox(), messages=TokenBucket(1, 1), invalid=TokenBucket(1, 1))
    assert TRANSITIONS[SessionState.CLOSED] == frozenset()
    session.move(SessionState.AUTHENTICATED)
    with pytest.raises(IllegalTransition):
        session.move(SessionState.AWAITING_AUTH)
    session.close(4002, "idle")
    assert session.state is SessionState.CLOSING
    assert session.outbox.closing
    session.move(SessionState.CLOSED)
    with pytest.raises(IllegalTransition):
        session.move(SessionState.AUTHENTICATED)


def test_settings_are_frozen_and_validated() -> None:
    settings = ServerSettings(port=9000)
    with pytest.raises(ValueError, match="frozen"):
        settings.port = 1  # type: ignore[misc]
    with pytest.raises(ValueError, match="port"):
        ServerSettings(port=-1)
    with pytest.raises(ValueError, match="extra"):
        ServerSettings(no_such_setting=1)  # type: ignore[call-arg]
    assert settings.limits().frame_bytes_max == settings.frame_bytes_max


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOPGUN_PORT", "9001")
    monkeypatch.setenv("TOPGUN_CORS_ORIGINS", '["https://a.example"]')
    settings = ServerSettings()
    assert (settings.port, settings.cors_origins) == (9001, ("https://a.example",))
    assert ServerSettings(port=9002).port == 9002  # explicit values (CLI flags) win


def test_record_size_estimate_is_shallow() -> None:
    assert estimate_record_bytes("k", "abc") == RECORD_OVERHEAD_BYTES + 1 + 3
    assert estimate_record_bytes("k", {"a": 1}) > estimate_record_bytes("k", 1)


def test_cli_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from topgun_server.cli import settings_from_flags

    monkeypatch.setenv("TOPGUN_PORT", "9100")
    monkeypatch.setenv("TOPGUN_STORAGE", "memory")
    settings = settings_from_flags(port=9200, host=None)
    assert (settings.port, settings.storage, settings.host) == (9200, "memory", "127.0.0.1")
