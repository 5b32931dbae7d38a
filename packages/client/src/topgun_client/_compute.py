"""Entry processors and conflict resolvers from the client.

``await client.execute_on_key(map, key, "builtin:increment", args=…)`` or
``execute_on_key(map, key, code=src, args=…)`` runs a processor on the server,
atomically on the key, and returns a :class:`ProcessorResult`; the server writes
the new value and broadcasts it (the client does not write it itself — its
replica of the map, if it holds one, receives the change like any other). A
failure raises :class:`ProcessorFailed`.

``client.resolvers.register(map, name, code=…, priority=…, key_pattern=…)``
registers a resolver (a built-in when ``code`` is omitted). Resolvers registered
by a client live as long as its connection, so the client registers them again on
every new connection. ``client.on_merge_rejected(callback)`` is told about every
write of this client a resolver refused (:class:`MergeRejection`).
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable
from dataclasses import dataclass

from topgun_client._coordination import Coordination, new_request_id
from topgun_client._errors import ServerError
from topgun_core.errors import TopGunError
from topgun_core.hlc import Timestamp
from topgun_core.protocol import (
    ClientMessage,
    EntryProcessor,
    EntryProcessResult,
    MergeRejectedMessage,
    ResolverSpec,
)
from topgun_core.values import JsonValue

__all__ = [
    "Compute",
    "MergeRejection",
    "ProcessorFailed",
    "ProcessorResult",
    "Resolvers",
]

_log = logging.getLogger("topgun_client.compute")


@dataclass(frozen=True, slots=True)
class ProcessorResult:
    """What an entry processor answered: its ``result`` and the key's ``new_value``."""

    result: JsonValue
    new_value: JsonValue


class ProcessorFailed(TopGunError):
    """The processor did not run or its outcome was refused; ``message`` says why."""

    code = 400


@dataclass(frozen=True, slots=True)
class MergeRejection:
    """A write of this client that a conflict resolver refused."""

    map_name: str
    key: str
    attempted_value: JsonValue
    reason: str
    timestamp: Timestamp


MergeRejectedListener = Callable[[MergeRejection], None]


def _outcome(result: EntryProcessResult) -> ProcessorResult:
    if not result["success"]:
        raise ProcessorFailed(result.get("error", "the processor failed"))
    return ProcessorResult(result.get("result"), result.get("newValue"))


class Resolvers:
    """``client.resolvers``: register, unregister and list conflict resolvers."""

    def __init__(self, hub: Coordination, timeout_s: float) -> None:
        self._hub = hub
        self._timeout_s = timeout_s
        self._registered: dict[tuple[str, str], ResolverSpec] = {}

    async def register(
        self,
        map_name: str,
        name: str,
        *,
        code: str | None = None,
        priority: int | None = None,
        key_pattern: str | None = None,
    ) -> None:
        """Register (replacing ``name``); raises :class:`ServerError` when refused."""
        spec: ResolverSpec = {"name": name}
        if code is not None:
            spec["code"] = code
        if priority is not None:
            spec["priority"] = priority
        if key_pattern is not None:
            spec["keyPattern"] = key_pattern
        request_id = new_request_id("resolver")
        message: ClientMessage = {
            "type": "REGISTER_RESOLVER",
            "requestId": request_id,
            "mapName": map_name,
            "resolver": spec,
        }
        answer = await self._hub.request(request_id, message, self._timeout_s)
        assert answer["type"] == "REGISTER_RESOLVER_RESPONSE"
        if not answer["success"]:
            raise ServerError(400, answer.get("error", "resolver refused"))
        self._registered[map_name, name] = spec

    async def unregister(self, map_name: str, name: str) -> bool:
        """Remove a resolver this client registered; whether the server had it."""
        self._registered.pop((map_name, name), None)
        request_id = new_request_id("unresolver")
        message: ClientMessage = {
            "type": "UNREGISTER_RESOLVER",
            "requestId": request_id,
            "mapName": map_name,
            "resolverName": name,
        }
        answer = await self._hub.request(request_id, message, self._timeout_s)
        assert answer["type"] == "UNREGISTER_RESOLVER_RESPONSE"
        return answer["success"]

    async def list(self, map_name: str | None = None) -> builtins.list[dict[str, object]]:
        """The resolvers registered on ``map_name`` (or every map): name, priority, pattern."""
        request_id = new_request_id("lsresolver")
        message: dict[str, object] = {"type": "LIST_RESOLVERS", "requestId": request_id}
        if map_name is not None:
            message["mapName"] = map_name
        answer = await self._hub.request(request_id, message, self._timeout_s)  # type: ignore[arg-type]  # a LIST_RESOLVERS
        assert answer["type"] == "LIST_RESOLVERS_RESPONSE"
        return [dict(info) for info in answer["resolvers"]]

    def again(self) -> builtins.list[ClientMessage]:
        """REGISTER_RESOLVER for every resolver of this client (a new connection)."""
        return [
            {
                "type": "REGISTER_RESOLVER",
                "requestId": new_request_id("resolver"),
                "mapName": map_name,
                "resolver": spec,
            }
            for (map_name, _), spec in self._registered.items()
        ]


class Compute:
    """Entry processors and resolvers of one client."""

    def __init__(self, hub: Coordination, timeout_s: float) -> None:
        self._hub = hub
        self._timeout_s = timeout_s
        self.resolvers = Resolvers(hub, timeout_s)
        self._listeners: list[MergeRejectedListener] = []

    def _processor(
        self, processor: str | None, code: str | None, args: JsonValue
    ) -> EntryProcessor:
        if (processor is None) == (code is None) and processor is None:
            raise ValueError("name a built-in processor or pass code=")
        wire: EntryProcessor = {"name": processor or "code"}
        if code is not None:
            wire["code"] = code
        if args is not None:
            wire["args"] = args
        return wire

    async def execute_on_key(
        self,
        map_name: str,
        key: str,
        processor: str | None = None,
        *,
        code: str | None = None,
        args: JsonValue = None,
    ) -> ProcessorResult:
        """Run a processor on one key (module docstring)."""
        request_id = new_request_id("process")
        message: ClientMessage = {
            "type": "ENTRY_PROCESS",
            "requestId": request_id,
            "mapName": map_name,
            "key": key,
            "processor": self._processor(processor, code, args),
        }
        answer = await self._hub.request(request_id, message, self._timeout_s)
        assert answer["type"] == "ENTRY_PROCESS_RESPONSE"
        result: EntryProcessResult = {"success": answer["success"]}
        if "result" in answer:
            result["result"] = answer["result"]
        if "newValue" in answer:
            result["newValue"] = answer["newValue"]
        if "error" in answer:
            result["error"] = answer["error"]
        return _outcome(result)

    async def execute_on_keys(
        self,
        map_name: str,
        keys: list[str],
        processor: str | None = None,
        *,
        code: str | None = None,
        args: JsonValue = None,
    ) -> dict[str, ProcessorResult | ProcessorFailed]:
        """Run a processor on each key; each key's result or failure."""
        request_id = new_request_id("process")
        message: ClientMessage = {
            "type": "ENTRY_PROCESS_BATCH",
            "requestId": request_id,
            "mapName": map_name,
            "keys": keys,
            "processor": self._processor(processor, code, args),
        }
        answer = await self._hub.request(request_id, message, self._timeout_s)
        assert answer["type"] == "ENTRY_PROCESS_BATCH_RESPONSE"
        outcomes: dict[str, ProcessorResult | ProcessorFailed] = {}
        for key, result in answer["results"].items():
            try:
                outcomes[key] = _outcome(result)
            except ProcessorFailed as exc:
                outcomes[key] = exc
        return outcomes

    def on_merge_rejected(self, callback: MergeRejectedListener) -> Callable[[], None]:
        """Call ``callback(rejection)`` for every write of this client a resolver refused."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)

    def merge_rejected(self, message: MergeRejectedMessage) -> None:
        """A MERGE_REJECTED: tell the listeners."""
        rejection = MergeRejection(
            message["mapName"],
            message["key"],
            message["attemptedValue"],
            message["reason"],
            Timestamp.from_wire(message["timestamp"]),
        )
        for listener in tuple(self._listeners):
            try:
                listener(rejection)
            except Exception:  # noqa: BLE001 - user code must not stop the client
                _log.exception("an on_merge_rejected callback raised; it was ignored")

    def on_authenticated(self) -> list[ClientMessage]:
        """Register this client's resolvers again."""
        return self.resolvers.again()
