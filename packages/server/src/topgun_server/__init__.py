"""The TopGun server: WebSocket endpoint, auth, persistence, metrics and admin API.

The request path is visible in the layout: :mod:`~topgun_server.ws.endpoint`
(connection shell) → :mod:`~topgun_server.ws.reader` (decode, validate, gate) →
:mod:`~topgun_server.dispatch` (one table) → ``handlers/`` (small functions) →
``services/`` (maps, writes, persistence, broadcast, sync, GC) → storage.
:func:`build_app` builds the Starlette app from one :class:`ServerSettings`;
``topgun serve`` (:mod:`~topgun_server.cli`) runs it on uvicorn.
"""

import logging

from topgun_server.app import build_app
from topgun_server.auth.tokens import mint_token
from topgun_server.settings import ConfigError, ServerSettings

__version__ = "0.1.0"

__all__ = ["ConfigError", "ServerSettings", "__version__", "build_app", "mint_token"]

logging.getLogger(__name__).addHandler(logging.NullHandler())
