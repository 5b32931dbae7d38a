"""Write docs/protocol.md from the message models in ``topgun_core.protocol``.

Usage: ``uv run python tools/gen_docs.py`` (``--check`` exits 1 when the file is
stale instead of writing it). tests/test_generated_docs.py runs the same check.
"""

from __future__ import annotations

import sys
from pathlib import Path

from topgun_core.protocol import render_protocol_docs

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL_DOC = ROOT / "docs" / "protocol.md"


def main(argv: list[str]) -> int:
    text = render_protocol_docs()
    if "--check" in argv:
        current = PROTOCOL_DOC.read_text(encoding="utf-8") if PROTOCOL_DOC.exists() else ""
        if current != text:
            where = PROTOCOL_DOC.relative_to(ROOT)
            print(f"{where} is stale: run `uv run python tools/gen_docs.py`")
            return 1
        return 0
    PROTOCOL_DOC.parent.mkdir(parents=True, exist_ok=True)
    PROTOCOL_DOC.write_text(text, encoding="utf-8")
    print(f"wrote {PROTOCOL_DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
