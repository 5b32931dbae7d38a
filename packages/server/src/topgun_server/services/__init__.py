"""Services the handlers use: maps, writes, persistence, broadcast, sync and GC.

Each is a small object with one job; :class:`~topgun_server.context.ServerContext`
hands them to handlers. None of them knows about sockets.
"""
