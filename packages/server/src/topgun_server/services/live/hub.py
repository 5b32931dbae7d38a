"""``LiveQueries``: live queries, searches and hybrid queries of the whole node.

It keeps a :class:`~topgun_server.services.live.views.MapView` for every loaded
map someone queries, the :class:`Subscriptions` table, and the full-text
configuration (``TOPGUN_FULLTEXT`` plus what the admin API added, kept in the
storage meta table). It listens to :meth:`Maps.on_change
<topgun_server.services.maps.Maps.on_change>`: each change goes into the map's
view, live-query deltas are sent at once, and searches and hybrids are re-ranked
once per batch (a ``call_soon`` after the write). Every row and delta is filtered
to the fields its subscriber may read.

**Resuming.** A subscription outlives its map: when the map is evicted its view is
dropped and the subscription is dormant; when the map loads again
(:meth:`loaded`, called while the load completes, before any waiting reader or
writer runs) the view is rebuilt and every subscription on the map is answered
anew with a full ``QUERY_RESP`` / ``SEARCH_RESP`` / ``HYBRID_QUERY_RESP``. A
subscriber therefore never misses a change: the new snapshot covers everything
that happened while the map was away (a TTL that ran out, for instance) and the
deltas that follow continue from it. A client re-subscribing after a reconnect is
answered the same way. Clients turn a second snapshot into the ENTER / UPDATE /
LEAVE it implies by diffing it with what they hold.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping

from topgun_core import protocol as p
from topgun_core.clock import Clock
from topgun_core.errors import ValidationError
from topgun_core.query import IndexAdvisor, QueryLimits, QuerySpec
from topgun_core.search import SearchDelta
from topgun_core.storage import StorageAdapter
from topgun_server.services.live.config import LiveConfig, build_indexes
from topgun_server.services.live.messages import (
    query_rows,
    query_update,
    scored_rows,
    scored_update,
)
from topgun_server.services.live.ranking import split_hybrid
from topgun_server.services.live.subscriptions import Subscription, Subscriptions
from topgun_server.services.live.views import Hybrid, MapView
from topgun_server.services.maps import MapChange, Maps, MapSlot
from topgun_server.ws.session import Session

__all__ = ["META_FULLTEXT", "LiveQueries", "live_status"]

_log = logging.getLogger(__name__)

META_FULLTEXT = "fulltext_fields"
"""Meta key holding the full-text fields enabled through the admin API (JSON)."""


class LiveQueries:
    """Subscriptions, per-map views and full-text configuration of the node."""

    def __init__(
        self, maps: Maps, storage: StorageAdapter, clock: Clock, config: LiveConfig
    ) -> None:
        self._maps = maps
        self._storage = storage
        self._clock = clock
        for specs in config.indexes.values():
            build_indexes(specs)  # a malformed spec fails at start-up, not at first query
        self.config = config
        self.limits = QueryLimits(results_max=config.results_max)
        self.subs = Subscriptions(
            per_client_max=config.per_client_max, per_map_max=config.per_map_max
        )
        self._views: dict[str, MapView] = {}
        self._fulltext: dict[str, tuple[str, ...]] = dict(config.fulltext)
        self._advisors: dict[str, IndexAdvisor] = {}
        self._refresh_pending = False
        self._wake = asyncio.Event()
        maps.on_change(self._changed)

    async def start(self) -> None:
        """Read the full-text fields the admin API enabled before a restart."""
        stored = await self._storage.get_meta(META_FULLTEXT)
        if stored:
            for name, fields in json.loads(stored).items():
                self._fulltext[name] = tuple(fields)

    # ------------------------------------------------------------------ views

    def view(self, slot: MapSlot) -> MapView:
        """The view of a READY map, built on first use."""
        view = self._views.get(slot.name)
        if view is not None and view.slot is slot:
            return view
        if view is not None:
            view.closed = True
        advisor = None
        if self.config.advisor_threshold:
            advisor = self._advisors.setdefault(
                slot.name,
                IndexAdvisor(
                    auto_create_threshold=self.config.advisor_threshold, limits=self.limits
                ),
            )
        view = MapView(
            slot,
            self._clock.now_ms(),
            limits=self.limits,
            indexes=build_indexes(self.config.indexes.get(slot.name, ())),
            advisor=advisor,
        )
        self._views[slot.name] = view
        fields = self._fulltext.get(slot.name)
        if fields:
            self._start_build(view, fields)
        self._wake.set()
        return view

    def _start_build(self, view: MapView, fields: tuple[str, ...]) -> None:
        view.enable_fulltext(fields)
        self._maps.task_group.create_task(self._build(view))

    async def _build(self, view: MapView) -> None:
        await view.build_fulltext()
        if not view.closed:
            _log.info("full-text index of map %r built (%d documents)", view.name, view.total)

    async def fulltext_view(self, slot: MapSlot) -> MapView:
        """The view of ``slot`` with its full-text index built (``ValidationError`` if none)."""
        view = self.view(slot)
        if view.fulltext is None:
            raise ValidationError(
                "mapName",
                f"full-text search is not enabled for map {slot.name!r} "
                "(TOPGUN_FULLTEXT or POST /api/admin/maps/{mapName}/fulltext)",
            )
        await view.fulltext_ready.wait()
        return self.view(slot)

    def loaded(self, slot: MapSlot) -> None:
        """A map finished loading: resume every subscription on it with a fresh snapshot."""
        subs = self.subs.on_map(slot.name)
        if slot.kind != "lww" or not (subs or slot.name in self._fulltext):
            return
        view = self.view(slot)
        for sub in subs:
            if sub.kind == "query":
                self._start_query(view, sub)
            else:
                self._maps.task_group.create_task(self._resume_ranked(slot, sub))

    async def _resume_ranked(self, slot: MapSlot, sub: Subscription) -> None:
        view = await self.fulltext_view(slot) if sub.kind == "search" else self.view(slot)
        if self.subs.get(sub.ref) is sub and view.slot is slot:
            self._start_ranked(view, sub)

    def evicted(self, slot: MapSlot) -> None:
        """A map was evicted: drop its view (its subscriptions wait for the reload)."""
        view = self._views.get(slot.name)
        if view is not None and view.slot is slot:
            view.closed = True
            del self._views[slot.name]

    # ------------------------------------------------------------------ subscribing

    def _replace(self, session: Session, client_id: str, map_name: str) -> None:
        old = self.subs.find(session, client_id)
        if old is not None:
            self._drop(old)
        self.subs.check_room(session, map_name)

    def subscribe_query(self, slot: MapSlot, sub: Subscription) -> None:
        """Register a live query and answer its snapshot."""
        self._replace(sub.session, sub.client_id, sub.map_name)
        view = self.view(slot)
        assert sub.spec is not None
        if view.records.advisor is not None:
            view.records.advisor.record(sub.spec.predicate, view.records.indexes)
        self._start_query(view, sub, register=True)

    def _start_query(self, view: MapView, sub: Subscription, *, register: bool = False) -> None:
        assert sub.spec is not None
        view.queries.unsubscribe(sub.ref)
        live = view.queries.subscribe(
            sub.ref, sub.spec, view.records.records, indexes=view.records.indexes
        )
        if register:
            self.subs.add(sub)
        payload: p.QueryRespPayload = {
            "queryId": sub.client_id,
            "results": query_rows(live.results, sub.fields),
            "hasMore": live.has_more,
        }
        cursor = live.next_cursor(self._clock)
        if cursor is not None:
            payload["nextCursor"] = cursor
        sub.session.outbox.send({"type": "QUERY_RESP", "payload": payload})

    async def subscribe_ranked(self, slot: MapSlot, sub: Subscription) -> None:
        """Register a live search or hybrid query and answer its snapshot."""
        self._replace(sub.session, sub.client_id, sub.map_name)
        predicate = sub.spec.predicate if sub.spec is not None else None
        needs_text = sub.kind == "search" or bool(split_hybrid(predicate)[0])
        view = await self.fulltext_view(slot) if needs_text else self.view(slot)
        self._replace(sub.session, sub.client_id, sub.map_name)  # the build may have let another in
        self._start_ranked(view, sub, check=True)
        self.subs.add(sub)

    def _start_ranked(self, view: MapView, sub: Subscription, *, check: bool = False) -> None:
        view.drop(sub.ref)
        values = view.records.records
        if sub.kind == "search":
            assert sub.search is not None
            assert view.fulltext is not None
            live = view.add_search(sub.ref, sub.search)
            total = len(
                view.fulltext.search(
                    sub.search.text, min_score=sub.search.min_score, boost=sub.search.boost
                )
            )
            search_payload: p.SearchRespPayload = {
                "requestId": sub.client_id,
                "results": scored_rows(live.results, values, sub.fields),
                "totalCount": total,
            }
            sub.session.outbox.send({"type": "SEARCH_RESP", "payload": search_payload})
            return
        assert sub.spec is not None
        text, rest = split_hybrid(sub.spec.predicate)
        spec = QuerySpec(rest, sub.spec.sort, sub.spec.limit)
        ranked = view.add_hybrid(sub.ref, Hybrid(text, spec, sub.fields))
        payload: p.HybridQueryRespPayload = {
            "subscriptionId": sub.client_id,
            "results": scored_rows(ranked, values, sub.fields),
            "hasMore": False,
        }
        sub.session.outbox.send({"type": "HYBRID_QUERY_RESP", "payload": payload})

    def unsubscribe(self, session: Session, client_id: str) -> bool:
        """End ``session``'s subscription ``client_id``; False if there was none."""
        sub = self.subs.find(session, client_id)
        if sub is None:
            return False
        self._drop(sub)
        return True

    def _drop(self, sub: Subscription) -> None:
        self.subs.remove(sub)
        view = self._views.get(sub.map_name)
        if view is not None:
            view.drop(sub.ref)

    def release(self, session: Session) -> None:
        """The connection closed: end all its subscriptions."""
        for sub in self.subs.of_session(session):
            self._drop(sub)

    # ------------------------------------------------------------------ changes

    def _changed(self, change: MapChange) -> None:
        view = self._views.get(change.slot.name)
        if view is None or view.slot is not change.slot or change.slot.kind != "lww":
            return
        record = change.record
        now_ms = self._clock.now_ms()
        value = None
        if record is not None and record.value is not None and not record.is_expired(now_ms):
            value = record.value
            view.track(change.key, record, now_ms)  # type: ignore[arg-type]  # LWW map: an LWWRecord
            if record.ttl_ms is not None:
                self._wake.set()
        self._deliver(view, change.key, value)

    def _deliver(self, view: MapView, key: str, value: object) -> None:
        for ref, delta in view.change(key, value):  # type: ignore[arg-type]  # a live JSON value
            sub = self.subs.get(ref)
            if sub is not None and sub.session.authenticated:
                sub.session.outbox.send(query_update(sub, delta))
        if view.dirty and not self._refresh_pending:
            self._refresh_pending = True
            asyncio.get_running_loop().call_soon(self._refresh)

    def _refresh(self) -> None:
        self._refresh_pending = False
        for view in list(self._views.values()):
            if not view.dirty:
                continue
            values = view.records.records
            for ref, delta in view.refresh():
                sub = self.subs.get(ref)
                if sub is not None and sub.session.authenticated:
                    key = delta.doc_id if isinstance(delta, SearchDelta) else delta.key
                    sub.session.outbox.send(scored_update(sub, delta, values.get(key)))

    async def run(self) -> None:
        """Expire records with a TTL from the views when their time comes (LEAVE deltas)."""
        while True:
            self._wake.clear()
            now_ms = self._clock.now_ms()
            soonest: int | None = None
            for view in list(self._views.values()):
                for key in view.expired(now_ms):
                    self._deliver(view, key, None)
                due = view.next_expiry_ms()
                if due is not None and (soonest is None or due < soonest):
                    soonest = due
            wait_s = self.config.ttl_sweep_ms_max / 1000
            if soonest is not None:
                wait_s = min(wait_s, max(soonest - self._clock.now_ms(), 1) / 1000)
            try:
                async with asyncio.timeout(wait_s):
                    await self._wake.wait()
            except TimeoutError:
                pass

    # ------------------------------------------------------------------ full text admin

    def fulltext_fields(self) -> Mapping[str, tuple[str, ...]]:
        """Maps with full text enabled and their fields."""
        return dict(self._fulltext)

    async def enable_fulltext(self, map_name: str, fields: tuple[str, ...]) -> None:
        """Enable (or re-define) full text on a map and build it now in the background."""
        self._fulltext[map_name] = fields
        stored = {k: list(v) for k, v in self._fulltext.items() if k not in self.config.fulltext}
        stored[map_name] = list(fields)
        await self._storage.set_meta(META_FULLTEXT, json.dumps(stored, sort_keys=True))
        self._maps.task_group.create_task(self._build_now(map_name, fields))

    async def _build_now(self, map_name: str, fields: tuple[str, ...]) -> None:
        try:
            slot = await self._maps.acquire(map_name, "lww")
        except Exception as exc:  # noqa: BLE001 - reported in the log; status shows no index
            _log.warning("cannot build the full-text index of map %r: %s", map_name, exc)
            return
        view = self.view(slot)
        if view.fulltext is None or view.fulltext.fields != fields:
            self._start_build(view, fields)


def live_status(live: LiveQueries) -> dict[str, object]:
    """What ``/api/admin/status`` shows about queries and full text."""
    fulltext = []
    for name, fields in sorted(live._fulltext.items()):
        view = live._views.get(name)
        built = view is not None and view.fulltext is not None
        state = "unloaded"
        if built and view is not None:
            state = "ready" if view.fulltext_ready.is_set() else "building"
        fulltext.append(
            {
                "map": name,
                "fields": list(fields),
                "state": state,
                "indexed": view.indexed if built and view is not None else 0,
                "total": view.total if built and view is not None else 0,
            }
        )
    indexes = {
        name: [index.name for index in view.records.indexes]
        for name, view in sorted(live._views.items())
    }
    return {"subscriptions": len(live.subs), "fullText": fulltext, "indexes": indexes}
