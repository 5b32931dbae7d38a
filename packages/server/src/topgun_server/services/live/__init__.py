"""Live queries, full-text search and hybrid queries on the server (issue 4).

- ``subscriptions`` — the bounded table of who subscribed to what;
- ``views`` — :class:`MapView`, the query side of one loaded map (values,
  indexes, full-text index, live state);
- ``ranking`` — hybrid predicates split into text and filter, ranking and
  ranked deltas;
- ``messages`` — wire rows and deltas, filtered to the readable fields;
- ``config`` — :class:`LiveConfig` and index specs;
- ``hub`` — :class:`LiveQueries`, the service in the server context.
"""

from topgun_server.services.live.config import LiveConfig, parse_index_spec
from topgun_server.services.live.hub import META_FULLTEXT, LiveQueries
from topgun_server.services.live.subscriptions import SearchRequest, Subscription, Subscriptions
from topgun_server.services.live.views import MapView

__all__ = [
    "META_FULLTEXT",
    "LiveConfig",
    "LiveQueries",
    "MapView",
    "SearchRequest",
    "Subscription",
    "Subscriptions",
    "parse_index_spec",
]
