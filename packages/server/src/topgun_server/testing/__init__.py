"""A testing kit: a real TopGun server on loopback, in-process or as a subprocess.

``running_server`` starts uvicorn with the app in the current event loop on
127.0.0.1 and a free port, and stops it (gracefully) on exit::

    async with running_server(storage="memory") as server:
        server.ws_url        # "ws://127.0.0.1:PORT/ws"
        server.http_url      # "http://127.0.0.1:PORT"
        server.token(sub="alice", roles=("USER",))
        server.settings

``ProtocolClient`` is a raw wire-protocol client (msgpack over ``websockets``).
``put`` / ``remove`` / ``or_add`` / ``or_remove`` build wire ops with fresh timestamps.
``ServerProcess`` runs ``python -m topgun_server serve`` in a child process, for
tests that kill the server (``kill()`` is SIGKILL) and restart it.
"""

from topgun_server.testing._client import ProtocolClient
from topgun_server.testing._ops import Stamper, or_add, or_remove, put, remove
from topgun_server.testing._process import ServerProcess
from topgun_server.testing._server import RunningServer, running_server, settings_for_tests

__all__ = [
    "ProtocolClient",
    "RunningServer",
    "ServerProcess",
    "Stamper",
    "or_add",
    "or_remove",
    "put",
    "remove",
    "running_server",
    "settings_for_tests",
]
