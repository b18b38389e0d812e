"""Kubernetes CEL for CRD validation rules: parse, a public view of the tree (`ir`), operators,
the closure interpreter, the function library (one module per area), runtime values, and the
load-time checks (result types, estimated cost).

Public API: `compile_cel`, `Program`, `CelCompileError`, `CelError`, `load_grammar`, `SLOW`,
`UNBOUND`. Accelerators (`shared.policy.accel`) build on it; it never imports them.
"""

from shared.policy.cel.parse import CelCompileError, load_grammar
from shared.policy.cel.program import (
    SLOW,
    UNBOUND,
    FastPath,
    FastPathCompiler,
    Program,
    compile_cel,
)
from shared.policy.cel.values import CelError

__all__ = [
    "SLOW",
    "UNBOUND",
    "CelCompileError",
    "CelError",
    "FastPath",
    "FastPathCompiler",
    "Program",
    "compile_cel",
    "load_grammar",
]
