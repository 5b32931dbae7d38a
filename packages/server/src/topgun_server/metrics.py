"""Prometheus metrics, in a registry of the app's own.

Each app owns a ``CollectorRegistry`` (several apps in one process — tests — never
share counters). Counters and gauges are updated on the paths they describe;
per-map sizes are read at scrape time from the map registry through a collector
callback, so the write path pays nothing for them. Map names are user input, so
the ``map`` label is bounded: past ``metrics_map_labels_max`` distinct names the
rest are counted under ``map="_other"``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["OTHER_MAPS_LABEL", "Metrics"]

OTHER_MAPS_LABEL = "_other"


class _MapSizes(Collector):
    """Reads ``(map, live items)`` pairs at scrape time."""

    def __init__(self, source: Callable[[], Iterable[tuple[str, int]]]) -> None:
        self._source = source

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "topgun_map_size_items", "Live entries of each loaded map.", labels=["map"]
        )
        for name, items in self._source():
            family.add_metric([name], items)
        yield family


class Metrics:
    """Every metric the server exports."""

    def __init__(self, map_labels_max: int) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._map_labels_max = map_labels_max
        self._map_labels: set[str] = set()
        r = self.registry
        self.connected_clients = Gauge(
            "topgun_connected_clients", "Open WebSocket connections.", registry=r
        )
        self.ops = Counter(
            "topgun_ops", "Ops applied, by op type and map.", ["type", "map"], registry=r
        )
        self.ops_rejected = Counter(
            "topgun_ops_rejected", "Ops rejected, by code.", ["code"], registry=r
        )
        self.messages = Counter(
            "topgun_messages", "Messages received, by type.", ["type"], registry=r
        )
        self.invalid_messages = Counter(
            "topgun_invalid_messages", "Frames that failed validation.", registry=r
        )
        self.rate_limited = Counter(
            "topgun_rate_limited", "Messages refused by the per-client rate limit.", registry=r
        )
        self.disconnects = Counter(
            "topgun_disconnects", "Connections closed by the server, by close code.", ["code"],
            registry=r,
        )  # fmt: skip
        self.persistence_queue_depth = Gauge(
            "topgun_persistence_queue_depth", "Ops waiting to be written to storage.", registry=r
        )
        self.persistence_batches = Counter(
            "topgun_persistence_batches", "Write batches applied to storage.", registry=r
        )
        self.persistence_failures = Counter(
            "topgun_persistence_failures", "Failed storage writes (retried).", registry=r
        )
        self.persistence_flush_seconds = Histogram(
            "topgun_persistence_flush_seconds", "Duration of one storage write batch.", registry=r
        )
        self.maps_loaded = Gauge("topgun_maps_loaded", "Maps held in memory.", registry=r)
        self.map_loads = Counter("topgun_map_loads", "Maps loaded from storage.", registry=r)
        self.map_evictions = Counter(
            "topgun_map_evictions", "Idle maps evicted under the memory ceiling.", registry=r
        )
        self.maps_memory_bytes = Gauge(
            "topgun_maps_memory_bytes", "Estimated memory of loaded maps.", registry=r
        )
        self.gc_pruned = Counter("topgun_gc_pruned", "Tombstones pruned by GC.", registry=r)

    def watch_map_sizes(self, source: Callable[[], Iterable[tuple[str, int]]]) -> None:
        """Export ``topgun_map_size_items`` from ``source`` at every scrape."""
        self.registry.register(_MapSizes(source))

    def map_label(self, map_name: str) -> str:
        """``map_name``, or ``_other`` once the label budget is spent."""
        if map_name in self._map_labels:
            return map_name
        if len(self._map_labels) < self._map_labels_max:
            self._map_labels.add(map_name)
            return map_name
        return OTHER_MAPS_LABEL

    def render(self) -> bytes:
        """The text exposition of every metric."""
        return generate_latest(self.registry)
