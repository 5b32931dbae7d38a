"""Generated documentation is never stale: docs/protocol.md equals a fresh rendering."""

from __future__ import annotations

from pathlib import Path

from topgun_core.protocol import (
    CLIENT_MESSAGE_TYPES,
    CLUSTER_MESSAGE_TYPES,
    SERVER_MESSAGE_TYPES,
    render_protocol_docs,
)

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL_DOC = ROOT / "docs" / "protocol.md"
REGENERATE = "run `uv run python tools/gen_docs.py` and commit docs/protocol.md"


def test_protocol_doc_is_fresh() -> None:
    assert PROTOCOL_DOC.exists(), f"docs/protocol.md is missing: {REGENERATE}"
    committed = PROTOCOL_DOC.read_text(encoding="utf-8")
    assert committed == render_protocol_docs(), f"docs/protocol.md is stale: {REGENERATE}"


def test_protocol_doc_covers_every_message() -> None:
    text = render_protocol_docs()
    for name in (*CLIENT_MESSAGE_TYPES, *SERVER_MESSAGE_TYPES, *CLUSTER_MESSAGE_TYPES):
        assert f"\n### {name}\n" in text, name
