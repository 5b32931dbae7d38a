"""Small helpers for answering a client: ERROR and permission checks."""

from __future__ import annotations

from topgun_core.errors import PermissionDenied
from topgun_core.policies import Action
from topgun_core.protocol import ErrorPayload
from topgun_core.values import JsonValue
from topgun_server.context import ServerContext
from topgun_server.ws.session import Session

__all__ = ["require", "send_error"]


def send_error(session: Session, code: int, message: str, details: JsonValue | None = None) -> None:
    """Queue ``ERROR {code, message, details?}``; ``message`` must be safe to show."""
    payload: ErrorPayload = {"code": code, "message": message}
    if details is not None:
        payload["details"] = details
    session.outbox.send({"type": "ERROR", "payload": payload})


def require(ctx: ServerContext, session: Session, resource: str, action: Action) -> None:
    """Raise ``PermissionDenied`` (403) unless the session's principal may do ``action``."""
    if not ctx.policies.allowed(session.require_principal(), resource, action):
        raise PermissionDenied(f"{action} on {resource!r} is not allowed")
