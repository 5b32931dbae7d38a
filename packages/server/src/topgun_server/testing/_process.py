"""``ServerProcess``: ``python -m topgun_server serve`` as a child process.

The child's log goes to a file (never a pipe that could fill up and block it);
``start()`` waits until the log says where it listens and ``/ready`` answers.
``kill()`` sends SIGKILL — no shutdown, no drain — for durability tests.
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["ServerProcess"]

START_TIMEOUT_S = 60.0
_POLL_S = 0.02
_LISTENING = re.compile(r"listening on http://([\d.]+):(\d+)")


class ServerProcess:
    """One server child process; ``start()`` / ``kill()`` / ``terminate()``."""

    def __init__(self, log_path: Path, env: Mapping[str, str], args: tuple[str, ...] = ()) -> None:
        """``env`` is the child's whole environment (pass the parent's plus TOPGUN_*)."""
        self.log_path = log_path
        self._env = {**env, "PYTHONUNBUFFERED": "1"}
        self._args = args
        self._process: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self._log_offset = 0

    @property
    def pid(self) -> int:
        """The child's process id."""
        assert self._process is not None
        return self._process.pid

    @property
    def ws_url(self) -> str:
        """The WebSocket endpoint of the running child."""
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def http_url(self) -> str:
        """The HTTP base URL of the running child."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start the child (on the last port, or a free one) and wait until it is ready."""
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        port = str(self.port or 0)
        command = [sys.executable, "-m", "topgun_server", "serve", "--host", "127.0.0.1"]
        command += ["--port", port, *self._args]
        with self.log_path.open("ab") as log:
            # The command is this interpreter with fixed arguments, not user input.
            self._process = subprocess.Popen(  # noqa: S603
                command, stdout=log, stderr=subprocess.STDOUT, env=self._env
            )
        async with asyncio.timeout(START_TIMEOUT_S):
            self.port = await self._listening_port()
            await self._ready()

    async def _listening_port(self) -> int:
        while True:
            self._check_alive()
            text = self.log_path.read_text(errors="replace")[self._log_offset :]
            found = _LISTENING.search(text)
            if found:
                return int(found.group(2))
            await asyncio.sleep(_POLL_S)

    async def _ready(self) -> None:
        while True:
            self._check_alive()
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(_POLL_S)
                continue
            writer.write(b"GET /ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            status = await reader.readline()
            writer.close()
            await writer.wait_closed()
            if b" 200 " in status:
                return
            await asyncio.sleep(_POLL_S)

    def _check_alive(self) -> None:
        assert self._process is not None
        if self._process.poll() is not None:
            raise RuntimeError(
                f"the server exited with {self._process.returncode}; log: {self.log_path}"
            )

    def kill(self) -> None:
        """SIGKILL: the process dies at once, nothing is flushed or drained."""
        assert self._process is not None
        self._process.kill()
        self._process.wait()

    def stop(self) -> None:
        """Kill the child if it still runs (test teardown: never leave one behind)."""
        if self._process is not None and self._process.poll() is None:
            self.kill()

    async def terminate(self) -> int:
        """SIGTERM and wait for a clean exit; returns the exit code."""
        assert self._process is not None
        self._process.send_signal(signal.SIGTERM)
        while self._process.poll() is None:
            await asyncio.sleep(_POLL_S)
        return self._process.returncode

    def log(self) -> str:
        """Everything the child has logged so far."""
        return self.log_path.read_text(errors="replace")
