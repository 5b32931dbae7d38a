"""Message handlers: small functions ``(ctx, session, message) -> None``.

Each one handles one client message type (the table is in
:mod:`topgun_server.dispatch`). They validate what the codec cannot (permissions,
map kinds, drift), call services, and queue their answers on the session's outbox.
A :class:`~topgun_core.errors.TopGunError` they raise becomes an ``ERROR`` message
with its code; anything else is logged and answered with a generic 500.
"""
