"""A fast path for compiled CEL: one Python expression per rule, exact or it gives up.

`shared.policy.cel.interpreter` builds a closure per syntax node; a typical rule then costs a dozen Python calls.
Here the same parse tree becomes one Python expression (``'x' in self``, ``self['type'] ==
'slack'``, ``all(... for c in ...)``) compiled once with ``exec``.

It is a fast path, not a second evaluator. Each generated sub-expression either yields exactly
the closure's value or raises. When nothing raises, Python's ``and``/``or`` short-circuit over
booleans evaluates the same sub-expressions as the closures do, so the result is the same. When
anything raises (a missing key, a non-bool operand, a library error), the fast path answers
`SLOW` and `Program` runs the closures, which give CEL's own result: its error, or the value
CEL's error-absorbing ``&&``/``||`` produce. Constructs without an exact rendering here (map
literals, ``map``/``filter``/``exists_one``, type constants) get no fast path at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lark import Token, Tree

from shared.policy.cel import SLOW, UNBOUND, FastPath
from shared.policy.cel import library as lib
from shared.policy.cel import values as cel_values
from shared.policy.cel.ir import ident_name, literal_value, unescape_property, unwrap_select
from shared.policy.cel.operators import ARITH, RELATIONS, index, neg, truth

#: Kinds of generated expressions: ``bool`` (surely a bool), ``json`` (a value read from the
#: object: dict, list, str, number, bool or None), ``any`` (anything else).
BOOL, JSON, ANY = "bool", "json", "any"


class _GiveUp(Exception):
    """This construct has no exact fast rendering: the program keeps only its closures."""


#: The variables a fast path takes; a rule reading any other has none.
_VARIABLES = ("self", "oldSelf")


def compile_fast(tree: Tree[Token], *, self_is_dict: bool = False) -> FastPath | None:
    """The fast path for a parsed rule, or None when it has no exact rendering.

    ``self_is_dict``: ``self`` is always a ``dict`` when the rule runs (an object schema).
    """
    gen = _Generator(self_is_dict)
    try:
        expr, _ = gen.expr(tree)
    except _GiveUp:
        return None
    if not gen.identifiers <= set(_VARIABLES):
        return None
    unbound = " or ".join(f"i_{name} is UNBOUND" for name in sorted(gen.identifiers))
    source = "\n".join(
        [
            "def fast(i_self=UNBOUND, i_oldSelf=UNBOUND):",
            *([f"    if {unbound}:", "        return SLOW"] if unbound else []),
            "    try:",
            f"        return {expr}",
            "    except Exception:",
            "        return SLOW",
        ]
    )
    namespace: dict[str, Any] = {"SLOW": SLOW, "UNBOUND": UNBOUND, **gen.constants}
    exec(compile(source, "<cel fast path>", "exec"), namespace)
    fast: FastPath = namespace["fast"]
    return fast


def _has(obj: Any, name: str) -> bool:
    if isinstance(obj, dict):
        return name in obj
    raise cel_values.no_overload("has")


def _select(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj[name]
    raise cel_values.no_overload("field selection")


def _items(coll: Any) -> Any:
    if isinstance(coll, list | dict):
        return coll
    raise cel_values.no_overload("macro")


class _Generator:
    def __init__(self, self_is_dict: bool) -> None:
        self.self_is_dict = self_is_dict
        self.identifiers: set[str] = set()
        self.bound: list[str] = []
        self.bound_kinds: dict[str, str] = {}
        self.constants: dict[str, Any] = {
            "_has": _has,
            "_select": _select,
            "_items": _items,
            "_truth": truth,
            "_neg": neg,
            "_index": index,
        }

    def constant(self, value: Any) -> str:
        name = f"c{len(self.constants)}"
        self.constants[name] = value
        return name

    def boolean(self, node: Any) -> str:
        code, kind = self.expr(node)
        return code if kind == BOOL else f"_truth({code})"

    def expr(self, node: Any) -> tuple[str, str]:
        if not isinstance(node, Tree):
            raise _GiveUp
        handler = getattr(self, "_" + str(node.data), None)
        if handler is None:
            raise _GiveUp
        result: tuple[str, str] = handler(node.children)
        return result

    # Pass-through, operators ---------------------------------------------------------------

    def _expr(self, ch: list[Any]) -> tuple[str, str]:
        if len(ch) == 1 or ch[1] is None:
            return self.expr(ch[0])
        cond = self.boolean(ch[0])
        (yes, yes_kind), (no, no_kind) = self.expr(ch[1]), self.expr(ch[2])
        kind = yes_kind if yes_kind == no_kind else ANY
        return f"({yes} if {cond} else {no})", kind

    def _conditionalor(self, ch: list[Any]) -> tuple[str, str]:
        if len(ch) == 1 or ch[0] is None:
            return self.expr(ch[-1])
        return f"({self.boolean(ch[0])} or {self.boolean(ch[1])})", BOOL

    def _conditionaland(self, ch: list[Any]) -> tuple[str, str]:
        if len(ch) == 1 or ch[0] is None:
            return self.expr(ch[-1])
        return f"({self.boolean(ch[0])} and {self.boolean(ch[1])})", BOOL

    def _relation(self, ch: list[Any]) -> tuple[str, str]:
        if len(ch) == 1 or ch[0] is None:
            return self.expr(ch[-1])
        op = str(ch[0].data)
        if op not in RELATIONS:
            raise _GiveUp
        (left, left_kind), (right, right_kind) = self.expr(ch[0].children[0]), self.expr(ch[1])
        if op in ("relation_eq", "relation_ne"):
            # CEL equality of an object value with a string literal is Python's: a JSON value
            # equals a str only if it is that same str.
            python = "==" if op == "relation_eq" else "!="
            if left_kind == JSON and self._is_str_constant(right):
                return f"({left} {python} {right})", BOOL
            if right_kind == JSON and self._is_str_constant(left):
                return f"({left} {python} {right})", BOOL
        return f"{self.constant(RELATIONS[op])}({left}, {right})", BOOL

    def _is_str_constant(self, code: str) -> bool:
        return code in self.constants and type(self.constants[code]) is str

    def _binary_chain(self, ch: list[Any]) -> tuple[str, str]:
        if len(ch) == 1 or ch[0] is None:
            return self.expr(ch[-1])
        op = ARITH[str(ch[0].data)]
        left, _ = self.expr(ch[0].children[0])
        right, _ = self.expr(ch[1])
        return f"{self.constant(op)}({left}, {right})", ANY

    _addition = _binary_chain
    _multiplication = _binary_chain

    def _unary(self, ch: list[Any]) -> tuple[str, str]:
        if len(ch) == 1:
            return self.expr(ch[0])
        if ch[0].data == "unary_not":
            return f"(not {self.boolean(ch[1])})", BOOL
        operand, _ = self.expr(ch[1])
        return f"_neg({operand})", ANY

    def _member(self, ch: list[Any]) -> tuple[str, str]:
        return self.expr(ch[0])

    _primary = _member
    _paren_expr = _member

    # Leaves --------------------------------------------------------------------------------

    def _literal(self, ch: list[Any]) -> tuple[str, str]:
        value = literal_value(ch[0])  # the closures' own literal parsing
        kind = BOOL if isinstance(value, bool) else ANY
        return self.constant(value), kind

    def _ident(self, ch: list[Any]) -> tuple[str, str]:
        name = str(ch[0])
        if name in self.bound:
            return f"v_{name}", self.bound_kinds[name]
        if lib.type_constant(name) is not None:
            raise _GiveUp  # resolved at run time against the environment
        self.identifiers.add(name)
        return f"i_{name}", JSON

    _dot_ident = _ident

    def _list_lit(self, ch: list[Any]) -> tuple[str, str]:
        items = [self.expr(c)[0] for c in ch[0].children] if ch and ch[0] is not None else []
        return f"[{', '.join(items)}]", ANY

    # Selection, calls, macros --------------------------------------------------------------

    def _member_dot(self, ch: list[Any]) -> tuple[str, str]:
        target, kind = self.expr(ch[0])
        raw = unescape_property(str(ch[1]))
        if kind == JSON:
            return f"{target}[{raw!r}]", JSON  # KeyError / TypeError: the closures decide
        return f"_select({target}, {raw!r})", ANY

    def _member_index(self, ch: list[Any]) -> tuple[str, str]:
        (target, kind), (key, _) = self.expr(ch[0]), self.expr(ch[1])
        return f"_index({target}, {key})", JSON if kind == JSON else ANY

    def _ident_arg(self, ch: list[Any]) -> tuple[str, str]:
        name = str(ch[0])
        exprlist = ch[1] if len(ch) > 1 else None
        if name == "has":
            return self._has(exprlist)
        fn = lib.GLOBALS.get(name)
        if fn is None:
            raise _GiveUp
        return self._call(fn, self._args(exprlist)), ANY

    _dot_ident_arg = _ident_arg

    def _args(self, exprlist: Any) -> list[str]:
        if exprlist is None:
            return []
        return [self.expr(c)[0] for c in exprlist.children]

    def _call(self, fn: Callable[..., Any], args: list[str]) -> str:
        return f"{self.constant(fn)}({', '.join(args)})"

    def _has(self, exprlist: Any) -> tuple[str, str]:
        args = exprlist.children if exprlist is not None else []
        select = unwrap_select(args[0]) if len(args) == 1 else None
        if select is None:
            raise _GiveUp
        target, _ = self.expr(select.children[0])
        raw = unescape_property(str(select.children[1]))
        if target == "i_self" and self.self_is_dict and "self" not in self.bound:
            return f"({raw!r} in i_self)", BOOL
        return f"_has({target}, {raw!r})", BOOL

    def _member_dot_arg(self, ch: list[Any]) -> tuple[str, str]:
        target_node, name = ch[0], str(ch[1])
        exprlist = ch[2] if len(ch) > 2 else None
        namespaced = ident_name(target_node)
        if namespaced and f"{namespaced}.{name}" in lib.GLOBALS:
            return self._call(lib.GLOBALS[f"{namespaced}.{name}"], self._args(exprlist)), ANY
        if name in ("all", "exists"):
            return self._quantifier(target_node, name, exprlist)
        fn = lib.MEMBERS.get(name)
        if fn is None:
            raise _GiveUp
        target, _ = self.expr(target_node)
        return self._call(fn, [target, *self._args(exprlist)]), ANY

    def _quantifier(self, target_node: Any, name: str, exprlist: Any) -> tuple[str, str]:
        args = exprlist.children if exprlist is not None else []
        var = ident_name(args[0]) if args else None
        if var is None or len(args) != 2:
            raise _GiveUp
        target, kind = self.expr(target_node)
        saved = self.bound_kinds.get(var)
        self.bound.append(var)
        self.bound_kinds[var] = JSON if kind == JSON else ANY
        try:
            body = self.boolean(args[1])
        finally:
            self.bound.pop()
            if saved is None:
                del self.bound_kinds[var]
            else:
                self.bound_kinds[var] = saved
        python = "all" if name == "all" else "any"
        return f"{python}({body} for v_{var} in _items({target}))", BOOL
