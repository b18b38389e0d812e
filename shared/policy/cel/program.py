"""A compiled CEL expression: the closures, and optionally an accelerator's fast path.

The fast path (`shared.policy.accel.cel_codegen`) is injected by the caller (``fast_path=``):
this package never imports the accelerators, which build on its public API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol

from lark import Token, Tree

from shared.policy.cel.interpreter import Compiler, Env, Fn
from shared.policy.cel.parse import parse

SLOW: Final = object()
"""What a fast path returns when the closures must decide."""
UNBOUND: Final = object()
"""An absent variable, for a fast path's arguments."""

FastPath = Callable[[Any, Any], Any]
"""``fast(self, oldSelf)``: the rule's value, or `SLOW`; pass `UNBOUND` for an absent variable."""


class FastPathCompiler(Protocol):
    """Builds the fast path of a parsed expression, or None when it has none."""

    def __call__(self, tree: Tree[Token], *, self_is_dict: bool) -> FastPath | None: ...


@dataclass(frozen=True, slots=True)
class Program:
    """A compiled expression: call it with the variables (``self``, ``oldSelf``...)."""

    source: str
    fn: Fn
    identifiers: frozenset[str]
    """Free identifiers the expression reads (e.g. ``self``, ``oldSelf``)."""
    fast: FastPath | None = None
    """``fast(self, oldSelf)``: the same expression as one Python expression; exact, or `SLOW`
    when the closures must decide. None when the expression has none."""
    tree: Tree[Token] | None = None
    """The parse tree (for the type checker and the cost estimator)."""

    def __call__(self, env: Env) -> Any:
        fast = self.fast
        if fast is not None:
            result = fast(env.get("self", UNBOUND), env.get("oldSelf", UNBOUND))
            if result is not SLOW:
                return result
        return self.fn(env)


def compile_cel(
    source: str, *, self_is_dict: bool = False, fast_path: FastPathCompiler | None = None
) -> Program:
    """Parse and compile ``source``; raise `CelCompileError` with the parser's message.

    ``self_is_dict``: the rule sits on an object schema, so ``self`` is always a dict when it
    runs. ``fast_path`` (an accelerator) adds a fast path; without it only the closures run.
    """
    tree = parse(source)
    compiler = Compiler()
    fn = compiler.compile(tree)
    fast = fast_path(tree, self_is_dict=self_is_dict) if fast_path is not None else None
    return Program(source, fn, frozenset(compiler.identifiers), fast, tree)
