"""``running_server``: the app on uvicorn, in this event loop, on a free loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass

from starlette.applications import Starlette

from topgun_core.clock import Clock
from topgun_core.storage import StorageAdapter
from topgun_server.app import build_app
from topgun_server.auth.tokens import mint_token
from topgun_server.runner import TopGunServer, bind, uvicorn_config
from topgun_server.settings import ServerSettings
from topgun_server.testing._client import ProtocolClient

__all__ = ["RunningServer", "http_get", "running_server", "settings_for_tests"]

START_TIMEOUT_S = 30.0
_POLL_S = 0.005


def settings_for_tests(**overrides: object) -> ServerSettings:
    """Settings for tests: memory storage, a random strong secret, a free port."""
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": 0,
        "storage": "memory",
        "env": "development",
        "jwt_secret": secrets.token_urlsafe(48),
    }
    values.update(overrides)
    return ServerSettings(**values)  # type: ignore[arg-type]  # keyword values validated by pydantic


@dataclass(frozen=True)
class RunningServer:
    """A server started by :func:`running_server`."""

    settings: ServerSettings
    app: Starlette
    host: str
    port: int

    @property
    def ws_url(self) -> str:
        """The WebSocket endpoint."""
        return f"ws://{self.host}:{self.port}/ws"

    @property
    def http_url(self) -> str:
        """The HTTP base URL (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    async def get(self, path: str, token: str | None = None) -> tuple[int, bytes]:
        """``GET path`` over a fresh HTTP/1.1 connection: ``(status, body)``."""
        return await http_get(self.host, self.port, path, token)

    async def post(self, path: str, body: object, token: str | None = None) -> tuple[int, bytes]:
        """``POST path`` with a JSON body over a fresh HTTP/1.1 connection: ``(status, body)``."""
        return await http_request(self.host, self.port, "POST", path, token, body)

    async def client(self, sub: str = "alice", roles: Sequence[str] = ("USER",)) -> ProtocolClient:
        """A :class:`ProtocolClient` connected and authenticated as ``sub`` (AUTH_ACK checked)."""
        client = await ProtocolClient.connect(self.ws_url)
        answer = await client.auth(self.token(sub, roles))
        if answer["type"] != "AUTH_ACK":
            await client.close()
            raise RuntimeError(f"authentication as {sub!r} failed: {answer}")
        return client

    def token(
        self, sub: str = "alice", roles: Sequence[str] = ("USER",), *, ttl_s: int | None = 3600
    ) -> str:
        """A token this server accepts (HS256 with its secret)."""
        secret = self.settings.jwt_secret
        if secret is None:
            raise RuntimeError("the server verifies with a public key: it cannot mint tokens")
        return mint_token(
            secret.get_secret_value(),
            sub=sub,
            roles=roles,
            ttl_s=ttl_s,
            issuer=self.settings.jwt_issuer,
            audience=self.settings.jwt_audience,
        )


async def http_get(host: str, port: int, path: str, token: str | None = None) -> tuple[int, bytes]:
    """A minimal HTTP GET (no client library needed): ``(status, body)``."""
    return await http_request(host, port, "GET", path, token)


async def http_request(
    host: str, port: int, method: str, path: str, token: str | None = None, body: object = None
) -> tuple[int, bytes]:
    """A minimal HTTP request, with a JSON body when ``body`` is not None: ``(status, body)``."""
    reader, writer = await asyncio.open_connection(host, port)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    content = b"" if body is None else json.dumps(body).encode()
    length = (
        f"Content-Type: application/json\r\nContent-Length: {len(content)}\r\n" if content else ""
    )
    request = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}{length}Connection: close\r\n\r\n"
    writer.write(request.encode("ascii") + content)
    try:
        response = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        body = _unchunk(body)
    return status, body


def _unchunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return bytes(out)


class _QuietServer(TopGunServer):
    """No signal handlers: the test runner owns the process's signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def running_server(
    settings: ServerSettings | None = None,
    *,
    adapter: StorageAdapter | None = None,
    clock: Clock | None = None,
    **overrides: object,
) -> AsyncIterator[RunningServer]:
    """Run a server until the block exits; ``overrides`` replace settings fields.

    ``adapter`` serves from a given (unopened) storage adapter instead of
    ``settings.storage`` — reuse one across two ``running_server`` blocks to test a
    restart. ``clock`` injects wall time (a ``FakeClock``).
    """
    base = settings if settings is not None else settings_for_tests()
    if overrides:
        base = ServerSettings(**{**_fields(base), **overrides})  # type: ignore[arg-type]  # validated
    app = build_app(base, storage=adapter, clock=clock)
    sock = bind(base.host, base.port)
    port: int = sock.getsockname()[1]
    server = _QuietServer(uvicorn_config(app, base))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await _wait_started(server, serving)
        yield RunningServer(settings=base, app=app, host=base.host, port=port)
    finally:
        server.should_exit = True
        await serving
        sock.close()


def _fields(settings: ServerSettings) -> dict[str, object]:
    return {name: getattr(settings, name) for name in type(settings).model_fields}


async def _wait_started(server: TopGunServer, serving: asyncio.Task[None]) -> None:
    async with asyncio.timeout(START_TIMEOUT_S):
        while not server.started:
            if serving.done():
                serving.result()
                raise RuntimeError("the server stopped during start-up (see its log)")
            await asyncio.sleep(_POLL_S)
