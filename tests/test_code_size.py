"""Size limits from STYLE.md, enforced by a test rather than by review.

Functions at most 70 lines, classes at most 300, modules at most 500, in every
package's source. Small pieces are what keeps a god object from growing back.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTION_LINES_MAX = 70
CLASS_LINES_MAX = 300
MODULE_LINES_MAX = 500


def _sources() -> list[Path]:
    return sorted(ROOT.glob("packages/*/src/**/*.py"))


def _span(node: ast.AST) -> int:
    start = getattr(node, "lineno", 0)
    end = getattr(node, "end_lineno", start) or start
    return end - start + 1


def test_sources_exist() -> None:
    assert _sources(), "no package sources found"


def test_size_limits() -> None:
    problems = []
    for path in _sources():
        text = path.read_text()
        rel = path.relative_to(ROOT)
        if text.count("\n") > MODULE_LINES_MAX:
            problems.append(f"{rel}: module has {text.count(chr(10))} lines > {MODULE_LINES_MAX}")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                limit = FUNCTION_LINES_MAX
            elif isinstance(node, ast.ClassDef):
                limit = CLASS_LINES_MAX
            else:
                continue
            if _span(node) > limit:
                problems.append(
                    f"{rel}:{node.lineno} {node.name} has {_span(node)} lines > {limit}"
                )
    assert problems == []
