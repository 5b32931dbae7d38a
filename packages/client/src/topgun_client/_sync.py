"""Merkle sync of every held map, one walk per map per connection (sans-IO).

LWW maps are pulled: ``SYNC_INIT`` → ``SYNC_RESP_ROOT``; on a root mismatch the walk
asks ``MERKLE_REQ_BUCKET`` for the root's buckets, then only for children whose hash
differs from the local one, down to the leaves, whose records it merges. Local-only
data needs no push: it is in the op log, which is sent before any ``SYNC_INIT``.

OR maps sync both ways: ``ORMAP_SYNC_INIT`` carries the local root and top buckets;
on a root mismatch the server follows its root with its top buckets unasked, and
the walk descends like the LWW one, merges each leaf's entries and pushes back
(``ORMAP_PUSH_DIFF``) every local entry of that leaf the server lacks or holds
differently (records or tombstones), and pushes whole local-only subtrees.

A walk is complete when no request is outstanding; the map's ``lastSyncTimestamp``
then becomes the millis of the server's root timestamp. A server record stamped
beyond the drift bound is refused and reported; the rest of its leaf is merged.
Leaves may arrive in several chunks: every chunk is merged whenever it comes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from topgun_client._effects import Effects, MapChange
from topgun_client._replica import Replica
from topgun_core.errors import ClockDriftError, TopGunError, ValidationError
from topgun_core.lww_map import LWWMap, LWWRecord
from topgun_core.or_map import ORMap, ORRecord, entry_hash
from topgun_core.protocol import (
    ORMapEntry,
    ORMapLeafPayload,
    ORMapSyncInitMessage,
    SyncBucketsPayload,
    SyncLeafPayload,
    SyncRootPayload,
)

__all__ = ["SyncWalks"]

_ROOT = "<root>"


@dataclass(slots=True)
class _Walk:
    kind: str
    outstanding: set[str] = field(default_factory=lambda: {_ROOT})
    server_millis: int = 0


class SyncWalks:
    """The sync walks of one connection."""

    __slots__ = ("_replica", "_walks", "entries_per_push")

    def __init__(self, replica: Replica, entries_per_push: int) -> None:
        self._replica = replica
        self._walks: dict[str, _Walk] = {}
        self.entries_per_push = entries_per_push

    @property
    def all_done(self) -> bool:
        """No walk has a request outstanding."""
        return all(not walk.outstanding for walk in self._walks.values())

    def started(self, name: str) -> bool:
        """Whether a walk for ``name`` was started on this connection."""
        return name in self._walks

    def start(self, name: str, last_sync_ms: int | None, out: Effects) -> None:
        """Start (or restart, after a reset) the walk of ``name``."""
        target = self._replica.get(name)
        assert target is not None, "only held maps are synced"
        if isinstance(target, LWWMap):
            self._walks[name] = _Walk("lww")
            if last_sync_ms is None:
                out.sends.append({"type": "SYNC_INIT", "mapName": name})
            else:
                out.sends.append(
                    {"type": "SYNC_INIT", "mapName": name, "lastSyncTimestamp": last_sync_ms}
                )
            return
        self._walks[name] = _Walk("or")
        init: ORMapSyncInitMessage = {
            "type": "ORMAP_SYNC_INIT",
            "mapName": name,
            "rootHash": target.merkle.root_hash,
            "bucketHashes": target.merkle.buckets(""),
        }
        if last_sync_ms is not None:
            init["lastSyncTimestamp"] = last_sync_ms
        out.sends.append(init)

    def abandon(self, name: str) -> bool:
        """The server refused this map's sync (an ``ERROR`` naming it): stop waiting for it.

        The map's ``lastSyncTimestamp`` is not advanced; the next connection tries again.
        """
        walk = self._walks.get(name)
        if walk is None or not walk.outstanding:
            return False
        walk.outstanding.clear()
        return True

    def _walk(self, name: str, kind: str) -> tuple[_Walk, LWWMap | ORMap] | None:
        walk = self._walks.get(name)
        target = self._replica.get(name)
        if walk is None or target is None or walk.kind != kind:
            return None
        return walk, target

    def _finish(self, name: str, walk: _Walk, path: str, out: Effects) -> None:
        if path not in walk.outstanding:
            return  # a further chunk of a leaf already counted
        walk.outstanding.discard(path)
        if not walk.outstanding:
            out.synced.append((name, walk.server_millis))

    def root(self, payload: SyncRootPayload, kind: str, out: Effects) -> None:
        """``SYNC_RESP_ROOT`` / ``ORMAP_SYNC_RESP_ROOT``: done if equal, else ask for buckets."""
        found = self._walk(payload["mapName"], kind)
        if found is None or _ROOT not in found[0].outstanding:
            return
        walk, target = found
        walk.server_millis = payload["timestamp"]["millis"]
        if payload["rootHash"] != target.merkle.root_hash:
            if kind == "lww":
                self._request(payload["mapName"], kind, "", walk, out)
            else:
                walk.outstanding.add("")  # the server sends its top buckets unasked
        self._finish(payload["mapName"], walk, _ROOT, out)

    def _request(self, name: str, kind: str, path: str, walk: _Walk, out: Effects) -> None:
        walk.outstanding.add(path)
        if kind == "lww":
            out.sends.append(
                {"type": "MERKLE_REQ_BUCKET", "payload": {"mapName": name, "path": path}}
            )
        else:
            out.sends.append(
                {"type": "ORMAP_MERKLE_REQ_BUCKET", "payload": {"mapName": name, "path": path}}
            )

    def buckets(self, payload: SyncBucketsPayload, kind: str, out: Effects) -> None:
        """Child hashes: descend into differing children; push local-only OR subtrees."""
        name, path = payload["mapName"], payload["path"]
        found = self._walk(name, kind)
        if found is None or path not in found[0].outstanding:
            return
        walk, target = found
        local = target.merkle.buckets(path) if len(path) < target.merkle.depth else {}
        remote = payload["buckets"]
        for digit, remote_hash in remote.items():
            child = path + digit
            if len(digit) == 1 and local.get(digit) != remote_hash and len(child) <= 8:
                self._request(name, kind, child, walk, out)
        if isinstance(target, ORMap):
            local_only = [path + digit for digit in local if digit not in remote]
            keys = [key for child in local_only for key in target.merkle.keys_in_bucket(child)]
            self._push(name, target, keys, out)
        self._finish(name, walk, path, out)

    def lww_leaf(self, payload: SyncLeafPayload, out: Effects) -> None:
        """Merge a leaf's records; refuse (and report) any beyond the drift bound."""
        name = payload["mapName"]
        found = self._walk(name, "lww")
        if found is None:
            return
        walk, target = found
        assert isinstance(target, LWWMap)
        for item in payload["records"]:
            key = item["key"]
            try:
                record = LWWRecord.from_wire(item["record"])
                changed = self._replica.merge_lww(target, name, key, record)
            except (ClockDriftError, ValueError) as exc:
                out.errors.append(_refused(name, key, exc))
                continue
            if changed:
                out.stored = True
                out.changes.append(MapChange(name, key, target.get(key), "sync"))
        self._finish(name, walk, payload["path"], out)

    def or_leaf(self, payload: ORMapLeafPayload, out: Effects) -> None:
        """Merge a leaf's entries, then push back what the server lacks in that leaf."""
        name, path = payload["mapName"], payload["path"]
        found = self._walk(name, "or")
        if found is None:
            return
        walk, target = found
        assert isinstance(target, ORMap)
        remote = {entry["key"]: entry for entry in payload["entries"]}
        self.merge_entries(name, target, payload["entries"], out)
        local_keys = target.merkle.keys_in_bucket(path) if len(path) <= target.merkle.depth else []
        local_keys += [key for key in remote if key not in local_keys]
        behind = [key for key in local_keys if _server_lacks(target, key, remote.get(key))]
        self._push(name, target, behind, out)
        self._finish(name, walk, path, out)

    def merge_entries(
        self, name: str, target: ORMap, entries: list[ORMapEntry], out: Effects
    ) -> None:
        """Merge OR entries (leaf or diff response), each all-or-nothing."""
        for entry in entries:
            key = entry["key"]
            try:
                records = [ORRecord.from_wire(wire) for wire in entry["records"]]
                changed = self._replica.merge_or(target, name, key, records, entry["tombstones"])
            except (ClockDriftError, ValueError, ValidationError) as exc:
                out.errors.append(_refused(name, key, exc))
                continue
            out.stored = True
            if changed:
                out.changes.append(MapChange(name, key, list(target.get(key)), "sync"))

    def _push(self, name: str, target: ORMap, keys: list[str], out: Effects) -> None:
        if not keys:
            return
        tombstones = target.tombstones_for(keys)
        entries: list[ORMapEntry] = [
            {
                "key": key,
                "records": [record.to_wire() for record in target.records(key)],
                "tombstones": tombstones[key],
            }
            for key in keys
        ]
        step = self.entries_per_push
        for start in range(0, len(entries), step):
            out.sends.append(
                {
                    "type": "ORMAP_PUSH_DIFF",
                    "payload": {"mapName": name, "entries": entries[start : start + step]},
                }
            )


def _server_lacks(target: ORMap, key: str, remote: ORMapEntry | None) -> bool:
    records = target.records(key)
    tombstones = target.tombstones_for([key])[key]
    if remote is None:
        return bool(records or tombstones)
    try:
        remote_records = [ORRecord.from_wire(wire) for wire in remote["records"]]
    except ValueError:
        return True
    if entry_hash(key, remote_records) != entry_hash(key, records):
        return True
    return not set(tombstones) <= set(remote["tombstones"])


def _refused(name: str, key: str, exc: Exception) -> TopGunError:
    if isinstance(exc, TopGunError):
        exc.message = f"map {name!r} key {key!r}: {exc.message}"
        exc.args = (exc.message,)
        return exc
    return ValidationError(f"{name}/{key}", str(exc))
