"""One answer for the messages of features later versions add (501).

The dispatch table lists each such message type explicitly with
:func:`not_supported` — there is no catch-all default — so each feature replaces its
own entries when it lands.
"""

from __future__ import annotations

from topgun_core.protocol import ClientMessage
from topgun_server.context import ServerContext
from topgun_server.handlers.replies import send_error
from topgun_server.ws.session import Session

__all__ = ["NOT_IMPLEMENTED", "not_supported"]

NOT_IMPLEMENTED = 501


async def not_supported(ctx: ServerContext, session: Session, message: ClientMessage) -> None:
    """``ERROR {501, "<TYPE> is not supported by this server version yet"}``."""
    send_error(
        session,
        NOT_IMPLEMENTED,
        f"{message['type']} is not supported by this server version yet",
    )
