"""The offline-first TopGun Python client SDK.

Will hold the Python client SDK: `TopGunClient` with map, query, topic, counter, lock,
search and journal handles, the offline op log and reconnect with backoff. Built by
issue 3; today this package is only its skeleton.
"""

__all__: list[str] = []
