"""The client's protocol engine: decoded server messages in, effects out (sans-IO).

:class:`ClientEngine` lives for the client's lifetime and is told about each new
connection (:meth:`ClientEngine.connected`). Per connection it pushes the op log
(:class:`~topgun_client._outbox.OpWindow`), then — once the whole log has been
sent, so that a server reset cannot lose a local write — starts the Merkle sync
of every held map (:class:`~topgun_client._sync.SyncWalks`), and applies live
events. Every inbound frame goes through :meth:`ClientEngine.receive_frame`, which
validates it with :func:`~topgun_core.protocol.decode_server` (unpacking ``BATCH``
envelopes): an invalid frame is reported and dropped, nothing else changes.

Dispatch is one ``match`` over the whole server union ending in ``assert_never``,
so a new message type cannot be forgotten. Query, search and hybrid-query messages
go to the :class:`~topgun_client._live.LiveRegistry` (``engine.live``), which also
re-subscribes every live handle once a new connection is authenticated. Topic,
counter, lock, journal, processor and resolver messages go first to the
:class:`~topgun_client._coordination.Coordination` hub (``engine.coord``), which
sends its own subscriptions again on each authenticated connection. Messages of
features this client does not use yet (the partition map) are ignored with a
debug log.
"""

from __future__ import annotations

import logging
from typing import Final, assert_never

from topgun_client._coordination_api import new_coordination
from topgun_client._effects import Effects, MapChange
from topgun_client._errors import ServerError
from topgun_client._live import LiveRegistry
from topgun_client._local import LocalIndexes
from topgun_client._outbox import AckOutcome, OpWindow, ReadRequest
from topgun_client._replica import Replica
from topgun_client._settings import ClientSettings
from topgun_client._sync import SyncWalks
from topgun_core.errors import ClockDriftError, ProtocolError, TopGunError, ValidationError
from topgun_core.hlc import Timestamp
from topgun_core.lww_map import LWWMap, LWWRecord
from topgun_core.or_map import ORMap, ORRecord
from topgun_core.protocol import (
    PROTOCOL_VERSION,
    AuthMessage,
    ErrorPayload,
    ORMapEntry,
    ServerEvent,
    ServerMessage,
    decode_server,
    unpack_batch,
)
from topgun_core.query import QueryLimits
from topgun_core.storage import OpLogEntry

__all__ = ["SYNC_NAMESPACE", "ClientEngine"]

_log = logging.getLogger("topgun_client.engine")

SYNC_NAMESPACE: Final = "topgun_client.sync"
"""kv namespace holding each map's ``lastSyncTimestamp`` (decimal millis)."""


class ClientEngine:
    """Protocol logic of one client across its connections."""

    __slots__ = (
        "_replica",
        "_settings",
        "_syncing",
        "coord",
        "last_sync",
        "live",
        "walks",
        "window",
    )

    def __init__(
        self, replica: Replica, settings: ClientSettings, last_sync: dict[str, int]
    ) -> None:
        self._replica = replica
        self._settings = settings
        self.last_sync = last_sync
        self.coord = new_coordination(replica, settings)
        """Topics, counters, locks, journal, processors, resolvers (``_coordination``)."""
        self.live = LiveRegistry(
            lambda registry: LocalIndexes(
                replica.hlc.clock,
                registry.local_deltas,
                limits=QueryLimits(),
                auto_index_threshold=settings.query_index_auto_threshold,
            )
        )
        """Live queries, searches and hybrids, and the local indexes (``_live``)."""
        self.window = OpWindow(settings.batch_ops_max, settings.inflight_ops_max)
        self.walks = SyncWalks(replica, settings.batch_ops_max)
        self._syncing = False

    # ------------------------------------------------------------------ connection

    def connected(self) -> None:
        """A new socket: resend the whole op log, sync every map again."""
        self.window.reset()
        self.walks = SyncWalks(self._replica, self._settings.batch_ops_max)
        self._syncing = False
        self.live.connected()

    def live_sends(self) -> Effects:
        """Subscriptions and requests queued by live handles since the last call."""
        out = Effects()
        out.sends.extend(self.live.drain())
        return out

    def auth(self, token: str, client_id: str) -> AuthMessage:
        """The ``AUTH`` message to send first."""
        return {
            "type": "AUTH",
            "token": token,
            "protocolVersion": PROTOCOL_VERSION,
            "clientId": client_id,
        }

    @property
    def synced(self) -> bool:
        """Every held map finished its sync on this connection."""
        return self._syncing and self.walks.all_done

    def want_ops(self) -> ReadRequest | None:
        """The next op-log page to read (None when nothing is to be sent now)."""
        return self.window.want()

    def ops_loaded(self, request: ReadRequest, entries: list[OpLogEntry]) -> Effects:
        """A page of the op log was read: send it; once all is sent, start syncing."""
        out = Effects()
        batch, errors, trim = self.window.loaded(request, entries)
        if batch is not None:
            out.sends.append(batch)
        out.errors.extend(errors)
        out.trim(trim)
        if self.window.drained and not self._syncing:
            self._start_sync(out)
        return out

    def _start_sync(self, out: Effects) -> None:
        self._syncing = True
        for name in self._replica.kinds():
            self.walks.start(name, self.last_sync.get(name), out)

    def retry_ops(self) -> Effects:
        """Send again the ops refused with a retryable code (the shell waits first)."""
        out = Effects()
        batch = self.window.retry_batch()
        if batch is not None:
            out.sends.append(batch)
        return out

    def start_new_walks(self) -> Effects:
        """Start the sync of maps created since this connection began syncing."""
        out = Effects()
        if self._syncing:
            for name in self._replica.kinds():
                if not self.walks.started(name):
                    self.walks.start(name, self.last_sync.get(name), out)
        return out

    # ------------------------------------------------------------------ inbound

    def receive_frame(self, frame: bytes) -> Effects:
        """Validate and handle one frame; an invalid one is reported and dropped."""
        out = Effects()
        try:
            message = decode_server(frame, limits=self._settings.limits)
        except ProtocolError as exc:
            out.errors.append(exc)
            return out
        if message["type"] != "BATCH":
            self._handle(message, out)
        else:
            self._batch(message["data"], message["count"], out)
        for name, millis in out.synced:
            self.record_synced(name, millis)
        return out

    def _batch(self, data: bytes, count: int, out: Effects) -> None:
        try:
            frames = unpack_batch(data, limits=self._settings.limits, count=count)
        except ProtocolError as exc:
            out.errors.append(exc)
            return
        for item in frames:
            try:
                inner = decode_server(item, limits=self._settings.limits)
            except ProtocolError as exc:
                out.errors.append(exc)
                continue
            self._handle(inner, out)

    def _handle(self, message: ServerMessage, out: Effects) -> None:  # noqa: C901, PLR0912, PLR0915
        if self.coord.receive(message):
            return  # topics, counters, locks, journal, processors
        match message["type"]:
            case "AUTH_REQUIRED" | "PONG":
                pass  # AUTH is sent on connect; any frame counts as liveness
            case "AUTH_ACK":
                out.auth_ack = message
                out.sends.extend(self.coord.on_authenticated())
                out.sends.extend(self.live.on_authenticated())
            case "AUTH_FAIL":
                out.auth_failed = message["error"]
            case "OP_ACK":
                self._settle(self.window.acked(message["payload"]), out)
            case "OP_REJECTED":
                self._settle(self.window.rejected(message["payload"]), out)
            case "SERVER_EVENT":
                self._event(message["payload"], out)
            case "SERVER_BATCH_EVENT":
                for event in message["payload"]["events"]:
                    self._event(event, out)
            case "SYNC_RESP_ROOT":
                self.walks.root(message["payload"], "lww", out)
            case "ORMAP_SYNC_RESP_ROOT":
                self.walks.root(message["payload"], "or", out)
            case "SYNC_RESP_BUCKETS":
                self.walks.buckets(message["payload"], "lww", out)
            case "ORMAP_SYNC_RESP_BUCKETS":
                self.walks.buckets(message["payload"], "or", out)
            case "SYNC_RESP_LEAF":
                self.walks.lww_leaf(message["payload"], out)
            case "ORMAP_SYNC_RESP_LEAF":
                self.walks.or_leaf(message["payload"], out)
            case "ORMAP_DIFF_RESPONSE":
                self._diff(message["payload"]["mapName"], message["payload"]["entries"], out)
            case "SYNC_RESET_REQUIRED":
                self._reset(message["payload"]["mapName"], out)
            case "GC_PRUNE":
                self._replica.prune(Timestamp.from_wire(message["payload"]["olderThan"]))
                out.stored = True
            case "ERROR":
                self._error(message["payload"], out)
            case (
                "QUERY_RESP" | "QUERY_UPDATE" | "HYBRID_QUERY_RESP" | "HYBRID_QUERY_UPDATE"
                | "SEARCH_RESP" | "SEARCH_UPDATE"
            ):  # fmt: skip
                self.live.receive(message)
            case "MERGE_REJECTED":
                text = f"map {message['mapName']!r} key {message['key']!r}: {message['reason']}"
                out.errors.append(ServerError(409, f"merge rejected: {text}"))
            case "SHUTDOWN_PENDING":
                out.retry_after_ms = message["retryAfter"]
            case "BATCH":
                out.errors.append(ValidationError("type", "a BATCH inside a BATCH is not allowed"))
            case (
                "LOCK_GRANTED" | "LOCK_RELEASED"
                | "TOPIC_MESSAGE" | "COUNTER_RESPONSE" | "COUNTER_UPDATE"
                | "ENTRY_PROCESS_RESPONSE" | "ENTRY_PROCESS_BATCH_RESPONSE"
                | "REGISTER_RESOLVER_RESPONSE" | "UNREGISTER_RESOLVER_RESPONSE"
                | "LIST_RESOLVERS_RESPONSE" | "JOURNAL_EVENT" | "JOURNAL_READ_RESPONSE"
                | "PARTITION_MAP"
            ):  # fmt: skip
                _log.debug("ignoring %s: not used by this client", message["type"])
            case _:
                assert_never(message["type"])

    def _error(self, payload: ErrorPayload, out: Effects) -> None:
        out.errors.append(ServerError(payload["code"], payload["message"]))
        self.live.error(payload)  # it may answer a query or search on that map
        # An ERROR whose details name a map we are syncing ends that walk (refused sync).
        details = payload.get("details")
        name = details.get("mapName") if isinstance(details, dict) else None
        if isinstance(name, str) and self.walks.abandon(name):
            _log.info("the server refused to sync map %r: %s", name, payload["message"])

    def _settle(self, outcome: AckOutcome, out: Effects) -> None:
        out.done.extend(outcome.done)
        out.failed.extend(outcome.failed)
        out.errors.extend(error for error in outcome.failed if not error.retryable)
        out.trim(outcome.trim_through)

    def _event(self, event: ServerEvent, out: Effects) -> None:
        name, key = event["mapName"], event["key"]
        target = self._replica.get(name)
        try:
            if event["eventType"] == "UPDATED":
                if not isinstance(target, LWWMap):
                    return
                record = LWWRecord.from_wire(event["record"])
                changed = self._replica.merge_lww(target, name, key, record)
                value = target.get(key)
            else:
                if not isinstance(target, ORMap):
                    return
                if event["eventType"] == "OR_ADD":
                    adds, tombstones = [ORRecord.from_wire(event["orRecord"])], []
                else:
                    adds, tombstones = [], [event["orTag"]]
                changed = self._replica.merge_or(target, name, key, adds, tombstones)
                value = list(target.get(key))
        except (ClockDriftError, ValueError, ValidationError) as exc:
            out.errors.append(_refused_event(name, key, exc))
            return
        out.stored = True
        if changed:
            out.changes.append(MapChange(name, key, value, "event"))

    def _diff(self, name: str, entries: list[ORMapEntry], out: Effects) -> None:
        target = self._replica.get(name)
        if isinstance(target, ORMap):
            self.walks.merge_entries(name, target, entries, out)

    def _reset(self, name: str, out: Effects) -> None:
        if self._replica.get(name) is None:
            return
        self._replica.reset(name)
        local = self.live.local.find(name)
        if local is not None:
            local.rebuild()
        self.last_sync.pop(name, None)
        self._replica.pending.kv_put(SYNC_NAMESPACE, name, None)
        out.stored = True
        self.walks.start(name, None, out)

    def record_synced(self, name: str, millis: int) -> None:
        """Remember (and queue for the store) a completed sync's server time."""
        self.last_sync[name] = millis
        self._replica.pending.kv_put(SYNC_NAMESPACE, name, str(millis).encode())


def _refused_event(name: str, key: str, exc: Exception) -> TopGunError:
    if isinstance(exc, TopGunError):
        exc.message = f"refused server record for map {name!r} key {key!r}: {exc.message}"
        exc.args = (exc.message,)
        return exc
    return ValidationError(f"{name}/{key}", str(exc))
