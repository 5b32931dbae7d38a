"""The TopGun server: WebSocket endpoint, auth, persistence and cluster.

Will hold the server: Starlette app on uvicorn, WebSocket endpoint, auth, dispatch of
typed messages to small handlers, write-behind persistence, metrics, admin API, the
cluster and the `topgun` command-line tool. Built by issue 3; today this package is only
its skeleton.
"""

__all__: list[str] = []
