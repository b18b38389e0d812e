"""The public view of a parsed CEL expression: what the interpreter, the type checker, the cost
estimator and the fast path all need to read lark's parse tree the same way.

The tree is cel-python's (`parse.parse`): pass-through nodes (``expr``, ``conditionalor``...)
with one child, operator nodes (``relation_eq``...) holding their left operand, and leaves
(``literal``, ``ident``). These helpers name the shapes rules use.
"""

from __future__ import annotations

from typing import Any, Final

from celpy.evaluation import celbytes, celstr
from lark import Token, Tree

from shared.policy.cel.parse import CelCompileError
from shared.policy.cel.values import UInt, check_int

MACROS: Final = frozenset({"all", "exists", "exists_one", "map", "filter"})
"""Member calls that are macros (their first argument is a variable, not a value)."""

ESCAPES: Final = (
    ("__underscores__", "__"),
    ("__dot__", "."),
    ("__dash__", "-"),
    ("__slash__", "/"),
)
RESERVED: Final = frozenset(
    {"true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function"}
    | {"if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"}
)


def unescape_property(name: str) -> str:
    """Kubernetes CEL property-name escaping: ``foo__dash__bar`` reads ``foo-bar``."""
    if name.startswith("__") and name.endswith("__") and name[2:-2] in RESERVED:
        return name[2:-2]
    for escaped, raw in ESCAPES:
        name = name.replace(escaped, raw)
    return name


def literal_value(token: Token) -> Any:
    """The value of a literal token (``INT_LIT``, ``STRING_LIT``...)."""
    kind, text = token.type, str(token)
    value: Any
    if kind == "INT_LIT":
        value = check_int(int(text, 16 if "x" in text.lower() else 10))
    elif kind == "UINT_LIT":
        body = text[:-1]
        value = UInt(int(body, 16 if "x" in body.lower() else 10))
    elif kind == "FLOAT_LIT":
        value = float(text)
    elif kind in ("STRING_LIT", "MLSTRING_LIT"):
        value = str(celstr(token))
    elif kind == "BYTES_LIT":
        value = bytes(celbytes(token))
    elif kind == "BOOL_LIT":
        value = text == "true"
    elif kind == "NULL_LIT":
        value = None
    else:
        raise CelCompileError(f"unsupported literal {text!r}")
    return value


def unwrap(node: Any, *kinds: str) -> Any:
    """Descend through single-child pass-through nodes until one of ``kinds``."""
    while isinstance(node, Tree):
        if node.data in kinds:
            return node
        children = [c for c in node.children if c is not None]
        if len(children) != 1:
            return None
        node = children[0]
    return None


def unwrap_select(node: Any) -> Any:
    """The ``member_dot`` (``x.f``) node under ``node``, or None (``has()``'s argument)."""
    return unwrap(node, "member_dot")


def ident_name(node: Any) -> str | None:
    """The identifier ``node`` is (a macro variable, a namespace like ``sets``), or None."""
    found = unwrap(node, "ident")
    return str(found.children[0]) if found is not None else None
