"""The values search hands back: a scored hit, and a live-search delta."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = ["SearchChange", "SearchDelta", "SearchHit"]

SearchChange: TypeAlias = Literal["ENTER", "UPDATE", "LEAVE"]
"""How one document's place in a live search changed (the wire's ``ChangeType``)."""


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One ranked document: its id, BM25 score and the query terms it contains.

    ``matched_terms`` are the query's stems (not the words as typed) that occur in
    the document, in query order.
    """

    doc_id: str
    score: float
    matched_terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SearchDelta:
    """One change to a live search's result window.

    ``ENTER`` and ``UPDATE`` carry the document's current score and matched terms.
    ``LEAVE`` carries ``score`` 0.0 and no terms: the document is no longer a result
    (it was deleted, stopped matching, fell under ``min_score`` or out of ``limit``).
    """

    change: SearchChange
    doc_id: str
    score: float
    matched_terms: tuple[str, ...]
