"""Fixtures for the server tests: a running in-process server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from topgun_server.testing import RunningServer, running_server


@pytest.fixture
async def server() -> AsyncIterator[RunningServer]:
    async with running_server() as running:
        yield running
