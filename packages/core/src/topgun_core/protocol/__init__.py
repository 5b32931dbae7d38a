"""The TopGun wire protocol: every message as a typed model, and the codec.

Messages are TypedDicts keyed by their camelCase wire names, grouped into one
discriminated union per direction — :data:`ClientMessage`, :data:`ServerMessage`,
:data:`ClusterMessage`, and :data:`Message` for the whole client ↔ server wire —
all discriminated by ``type``. A decoded message is a tree of plain dicts that mypy
types precisely; dispatch with ``match message["type"]`` and end in
``assert_never``.

:func:`decode_client` (and its siblings) turn one frame into a validated message or
raise a :class:`~topgun_core.errors.ProtocolError` subclass naming the wire field and
the problem: ``ProtocolError`` for an undecodable frame, ``ValidationError`` for a
schema violation, ``LimitExceeded`` / :class:`FieldLimitExceeded` for anything over
one of the named :class:`Limits`. :func:`encode` is the inverse. JSON text frames
(a debugging fallback) have their own ``*_json`` functions. ``BATCH.data`` is packed
and unpacked by :func:`pack_batch` / :func:`unpack_batch`. ``docs/protocol.md`` is
rendered from these models by :func:`render_protocol_docs`.
"""

# The private modules each declare their public names in ``__all__``; this package
# re-exports exactly those (a test pins the list).
from topgun_core.protocol import (
    _batch,
    _client,
    _client_services,
    _cluster,
    _cluster_services,
    _cluster_sync,
    _codec,
    _common,
    _docs,
    _examples,
    _examples_cluster,
    _limits,
    _server,
    _server_services,
    _unions,
)
from topgun_core.protocol._batch import *  # noqa: F403
from topgun_core.protocol._client import *  # noqa: F403
from topgun_core.protocol._client_services import *  # noqa: F403
from topgun_core.protocol._cluster import *  # noqa: F403
from topgun_core.protocol._cluster_services import *  # noqa: F403
from topgun_core.protocol._cluster_sync import *  # noqa: F403
from topgun_core.protocol._codec import *  # noqa: F403
from topgun_core.protocol._common import *  # noqa: F403
from topgun_core.protocol._docs import *  # noqa: F403
from topgun_core.protocol._examples import *  # noqa: F403
from topgun_core.protocol._examples_cluster import *  # noqa: F403
from topgun_core.protocol._limits import *  # noqa: F403
from topgun_core.protocol._server import *  # noqa: F403
from topgun_core.protocol._server_services import *  # noqa: F403
from topgun_core.protocol._unions import *  # noqa: F403

__all__ = [  # noqa: PLE0604
    *_limits.__all__,
    *_codec.__all__,
    *_batch.__all__,
    *_unions.__all__,
    *_common.__all__,
    *_client.__all__,
    *_client_services.__all__,
    *_server.__all__,
    *_server_services.__all__,
    *_cluster.__all__,
    *_cluster_services.__all__,
    *_cluster_sync.__all__,
    *_examples.__all__,
    *_examples_cluster.__all__,
    *_docs.__all__,
]
