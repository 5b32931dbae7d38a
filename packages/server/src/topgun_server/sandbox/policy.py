"""What user code may be: RestrictedPython plus our own refusals, and what it may touch.

User code is the *body* of a function — ``def process(value, key, args)`` for entry
processors, ``def resolve(ctx)`` for conflict resolvers. :func:`wrap_source` indents
it under that header; :func:`compile_user_code` compiles the result with
RestrictedPython's :class:`~RestrictedPython.transformer.RestrictingNodeTransformer`
extended by :class:`_TopGunPolicy`, which also refuses at compile time:

- ``import`` / ``from … import`` (there is no ``__import__`` at run time either);
- ``class`` definitions, ``global`` / ``nonlocal``, ``async`` / ``await``, ``with``;
- any name or attribute starting with ``_`` (RestrictedPython: no dunders, so no
  ``__class__.__mro__`` walks), and ``print`` / ``exec`` / ``eval`` / ``open`` are
  simply not defined.

Compiling never runs anything, so the server compiles in-process to report errors
early; *running* happens only in a worker process (:mod:`._worker`), which builds
its globals with :func:`restricted_globals`: a small allow-list of builtins, the
RestrictedPython guards (attribute reads through ``safer_getattr``, writes only to
plain containers, guarded unpacking) and ``math``. There is no path that executes
user code without these globals, in this process or any other.
"""

from __future__ import annotations

import ast
import math
import operator
import re
import textwrap
from collections.abc import Callable
from types import CodeType, MappingProxyType
from typing import Final, Literal

from RestrictedPython.compile import compile_restricted
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from RestrictedPython.transformer import RestrictingNodeTransformer

from topgun_core.errors import ValidationError

__all__ = [
    "ENTRY_POINTS",
    "CodeKind",
    "SandboxCodeError",
    "compile_user_code",
    "restricted_globals",
    "wrap_source",
]

CodeKind = Literal["process", "resolve"]
"""Which contract the code fulfils: an entry processor or a conflict resolver."""

ENTRY_POINTS: Final[dict[CodeKind, str]] = {
    "process": "def process(value, key, args):\n",
    "resolve": "def resolve(ctx):\n",
}

_LINE: Final = re.compile(r"Line (\d+)")
_REMOVED_BUILTINS: Final = frozenset({"__build_class__", "setattr", "delattr", "id", "_getattr_"})
_EXTRA_BUILTINS: Final[dict[str, object]] = {
    "list": list,
    "tuple": tuple,
    "range": range,
    "dict": dict,
    "set": set,
    "frozenset": frozenset,
    "min": min,
    "max": max,
    "sum": sum,
    "sorted": sorted,
    "reversed": reversed,
    "enumerate": enumerate,
    "zip": zip,
    "any": any,
    "all": all,
    "map": map,
    "filter": filter,
}


class SandboxCodeError(ValidationError):
    """User code that does not compile or breaks the sandbox policy (400)."""


class _TopGunPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy plus the constructs we refuse outright."""

    def _refuse(self, node: ast.AST, what: str) -> ast.AST:
        self.error(node, f"{what} are not allowed in sandboxed code")
        return node

    def visit_Import(self, node: ast.Import) -> ast.AST:  # noqa: N802 - ast visitor name
        return self._refuse(node, "imports")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:  # noqa: N802
        return self._refuse(node, "imports")

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:  # noqa: N802
        return self._refuse(node, "class definitions")

    def visit_Global(self, node: ast.Global) -> ast.AST:  # noqa: N802
        return self._refuse(node, "global statements")

    def visit_Nonlocal(self, node: ast.Nonlocal) -> ast.AST:  # noqa: N802
        return self._refuse(node, "nonlocal statements")

    def visit_With(self, node: ast.With) -> ast.AST:  # noqa: N802
        return self._refuse(node, "with statements")

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:  # noqa: N802
        return self._refuse(node, "async functions")


def wrap_source(kind: CodeKind, body: str) -> str:
    """The full source: the entry point's header with ``body`` indented under it."""
    text = textwrap.dedent(body).strip("\n")
    if not text.strip():
        raise SandboxCodeError("code", "must be a non-empty function body")
    return ENTRY_POINTS[kind] + textwrap.indent(text, "    ") + "\n"


def compile_user_code(kind: CodeKind, body: str) -> CodeType:
    """Compile ``body`` under the policy; raise :class:`SandboxCodeError` naming the problem."""
    source = wrap_source(kind, body)
    try:
        result = compile_restricted(
            source, filename="<user code>", mode="exec", policy=_TopGunPolicy
        )
    except SyntaxError as exc:
        # compile_restricted raises SyntaxError with the policy's messages as args.
        raise SandboxCodeError("code", _describe(exc)) from None
    code: CodeType = result
    return code


def _describe(exc: SyntaxError) -> str:
    first = exc.args[0] if exc.args else "invalid code"
    if isinstance(first, tuple | list):
        first = first[0] if first else "invalid code"
    text = str(first).strip().splitlines()[0] if str(first).strip() else "invalid code"
    # Line numbers count the header we added: report them as lines of the body.
    return _LINE.sub(lambda m: f"Line {max(1, int(m.group(1)) - 1)}", text)[:300]


def _inplace(op: str, x: object, y: object) -> object:
    function = _INPLACE.get(op)
    if function is None:
        raise TypeError(f"operator {op} is not allowed")
    return function(x, y)


_INPLACE: Final[dict[str, Callable[[object, object], object]]] = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "|=": operator.ior,
    "&=": operator.iand,
    "^=": operator.ixor,
}


def _getitem(obj: object, key: object) -> object:
    return obj[key]  # type: ignore[index]  # guarded by the types user code can reach


def _builtins() -> MappingProxyType[str, object]:
    allowed = {k: v for k, v in safe_builtins.items() if k not in _REMOVED_BUILTINS}
    allowed.update(_EXTRA_BUILTINS)
    return MappingProxyType(allowed)


_BUILTINS: Final = _builtins()


def restricted_globals() -> dict[str, object]:
    """Fresh globals for one execution: allow-listed builtins, guards, ``math``."""
    return {
        "__builtins__": _BUILTINS,
        "__name__": "topgun_user_code",
        "_getattr_": safer_getattr,
        "_getitem_": _getitem,
        "_getiter_": iter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": _inplace,
        "math": math,
    }
