"""The indexes of one map, bound to that map's records.

An :class:`IndexRegistry` is created over a read-only view of the map's records
(``Mapping[str, JsonValue]``: key to current value) and holds any number of
indexes. :meth:`~IndexRegistry.add_index` builds a new index from the records;
:meth:`~IndexRegistry.update` must then be called on every write with the key, the
value it had (None if absent) and the value it has now (None if removed), and
keeps every index current. A write that leaves all of an index's attributes
unchanged does not touch that index.

The planner reads the registry's indexes and uses the records' keys as the universe
of ``not``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from topgun_core.query._indexes import CompoundIndex, Index, IndexKind
from topgun_core.query._predicates import Predicate
from topgun_core.values import JsonValue

__all__ = ["IndexRegistry"]


class IndexRegistry:
    """Named indexes over ``records`` (see the module docstring)."""

    __slots__ = ("_indexes", "records")

    def __init__(self, records: Mapping[str, JsonValue]) -> None:
        self.records = records
        """The map's records, read (never written) by the registry and the planner."""
        self._indexes: dict[str, Index] = {}

    def add_index(self, index: Index) -> Index:
        """Build ``index`` from the current records and keep it current from now on.

        An index of the same kind on the same attributes already present is returned
        instead (adding is idempotent).
        """
        existing = self._indexes.get(index.name)
        if existing is not None:
            return existing
        index.build(self.records.items())
        self._indexes[index.name] = index
        return index

    def remove_index(self, name: str) -> bool:
        """Drop the index called ``name``; False if there was none."""
        return self._indexes.pop(name, None) is not None

    def get(self, name: str) -> Index | None:
        """The index called ``name`` (``hash(age)``), if any."""
        return self._indexes.get(name)

    def has(self, kind: IndexKind, attributes: tuple[str, ...]) -> bool:
        """Whether an index of ``kind`` over exactly ``attributes`` exists."""
        return f"{kind}({', '.join(attributes)})" in self._indexes

    def __iter__(self) -> Iterator[Index]:
        return iter(list(self._indexes.values()))

    def __len__(self) -> int:
        return len(self._indexes)

    def __contains__(self, name: object) -> bool:
        return name in self._indexes

    def supporting(self, predicate: Predicate) -> list[Index]:
        """The indexes that can answer ``predicate`` (a leaf, or an ``and`` for compounds)."""
        if predicate.op == "and":
            return [i for i in self._indexes.values() if isinstance(i, CompoundIndex)]
        return [
            i
            for i in self._indexes.values()
            if predicate.attribute in i.attributes and i.supports(predicate)
        ]

    def update(self, key: str, old_value: JsonValue | None, new_value: JsonValue | None) -> None:
        """Reflect one write: ``key`` went from ``old_value`` to ``new_value`` (None: absent)."""
        for index in self._indexes.values():
            if old_value is None or new_value is None or index.changed(old_value, new_value):
                index.update(key, new_value)
