"""Load-time checks of a CEL expression against the declared type of ``self``: its result type
and its estimated cost, in one walk of the parse tree (cel-go's checker and cost estimator).

The apiserver refuses a rule that does not yield a ``bool`` ("cel expression must evaluate to a
bool"), a messageExpression that does not yield a ``string``, a selection of a field the schema
does not declare, and a rule whose worst-case cost is over its limits (`cost`). This checker
knows the types of everything our rules use; where it cannot tell a type it says nothing (it
never refuses what cel-go would accept), and its cost estimate follows cel-go's formulas for
the same constructs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from lark import Token, Tree

from shared.policy.cel import cost as units
from shared.policy.cel.decltypes import (
    BOOL_TYPE,
    BYTES_TYPE,
    DOUBLE_TYPE,
    DURATION_TYPE,
    DYN_TYPE,
    INT_TYPE,
    LIST,
    MAP,
    NULL_TYPE,
    OBJECT,
    STRING,
    STRING_TYPE,
    TIMESTAMP_TYPE,
    TYPE_TYPE,
    UINT_TYPE,
    DeclType,
    list_of,
    map_of,
)
from shared.policy.cel.ir import MACROS, ident_name, literal_value, unescape_property, unwrap_select
from shared.policy.cel.parse import CelCompileError
from shared.policy.cel.values import UInt

_OPAQUE: Final = DeclType("opaque")
"""A library value (url, quantity, ip, cidr) with no fields."""

#: Result types of library functions by name (None: not known here, so never refused).
_RESULTS: Final[dict[str, DeclType]] = {
    **dict.fromkeys(("size", "int", "indexOf", "lastIndexOf", "sign", "asInteger"), INT_TYPE),
    **dict.fromkeys(("compareTo", "family", "prefixLength"), INT_TYPE),
    **dict.fromkeys(("getFullYear", "getMonth", "getDate", "getDayOfMonth"), INT_TYPE),
    **dict.fromkeys(("getDayOfWeek", "getDayOfYear", "getHours", "getMinutes"), INT_TYPE),
    **dict.fromkeys(("getSeconds", "getMilliseconds"), INT_TYPE),
    "uint": UINT_TYPE,
    **dict.fromkeys(("double", "asApproximateFloat"), DOUBLE_TYPE),
    **dict.fromkeys(("string", "charAt", "lowerAscii", "upperAscii", "replace"), STRING_TYPE),
    **dict.fromkeys(("substring", "trim", "join", "reverse", "strings.quote", "find"), STRING_TYPE),
    **dict.fromkeys(("getScheme", "getHost", "getHostname", "getPort"), STRING_TYPE),
    **dict.fromkeys(("getEscapedPath",), STRING_TYPE),
    "bytes": BYTES_TYPE,
    "type": TYPE_TYPE,
    "duration": DURATION_TYPE,
    "timestamp": TIMESTAMP_TYPE,
    **dict.fromkeys(("bool", "matches", "contains", "startsWith", "endsWith"), BOOL_TYPE),
    **dict.fromkeys(("isSorted", "isURL", "isQuantity", "isInteger", "isIP", "isCIDR"), BOOL_TYPE),
    **dict.fromkeys(("isGreaterThan", "isLessThan", "containsIP", "containsCIDR"), BOOL_TYPE),
    **dict.fromkeys(("isUnspecified", "isLoopback", "isLinkLocalMulticast"), BOOL_TYPE),
    **dict.fromkeys(("isLinkLocalUnicast", "isGlobalUnicast"), BOOL_TYPE),
    **dict.fromkeys(("sets.contains", "sets.equivalent", "sets.intersects"), BOOL_TYPE),
    **dict.fromkeys(("split", "findAll"), list_of(STRING_TYPE)),
    **dict.fromkeys(("url", "quantity", "ip", "cidr", "masked", "add", "sub"), _OPAQUE),
}
#: Library functions that traverse their target string once (Kubernetes' cost estimator).
_TRAVERSE_TARGET: Final = frozenset({"lowerAscii", "upperAscii", "substring", "trim"})
_TRAVERSE_TWICE: Final = frozenset({"replace", "split"})
_TRAVERSE_ARG: Final = frozenset(
    {"url", "quantity", "isQuantity", "isURL", "cidr", "isIP", "isCIDR"}
)
_LIST_SCANS: Final = frozenset({"isSorted", "sum", "max", "min", "indexOf", "lastIndexOf"})
_SCALAR_KINDS: Final = frozenset({"bool", "int", "uint", "double", "null_type"})


@dataclass(frozen=True, slots=True)
class Facts:
    """What the checker knows of one sub-expression."""

    type: DeclType | None
    """Its CEL type (`DYN_TYPE`: CEL's dyn); None when this checker cannot tell."""
    cost: int
    """cel-go's worst-case cost estimate."""
    size: int | None = None
    """Worst-case size (string length, items, entries); None: unknown."""
    path: tuple[str, ...] | None = None
    """The field path from ``self`` (cel-go sizes values reached from variables by path)."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """A checked expression: its result type (None: not known) and estimated worst cost."""

    type: DeclType | None
    cost: int


def check(tree: Tree[Token], self_type: DeclType) -> CheckResult:
    """Type-check and cost ``tree`` with ``self`` (and ``oldSelf``) of ``self_type``.

    Raise `CelCompileError` for what cel-go's checker refuses and this one can tell (a field
    the schema does not declare).
    """
    facts = _Checker(self_type).facts(tree)
    return CheckResult(facts.type, facts.cost)


def _size(f: Facts) -> int:
    return units.MAX_COST if f.size is None else f.size


def _elem(t: DeclType | None) -> DeclType | None:
    if t is None:
        return None
    if t.kind in (LIST, MAP):
        return t.elem or DYN_TYPE
    return DYN_TYPE if t.kind == "dyn" else None


class _Checker:
    def __init__(self, self_type: DeclType) -> None:
        self.vars: dict[str, list[DeclType]] = {"self": [self_type], "oldSelf": [self_type]}

    def facts(self, node: Any) -> Facts:
        if not isinstance(node, Tree):
            return Facts(None, 0)
        handler: Callable[[list[Any]], Facts] | None = getattr(self, "_" + str(node.data), None)
        if handler is None:
            return Facts(None, 0)
        return handler(node.children)

    # Pass-through and operators -----------------------------------------------------------

    def _expr(self, ch: list[Any]) -> Facts:
        if len(ch) == 1 or ch[1] is None:
            return self.facts(ch[0])
        cond, yes, no = self.facts(ch[0]), self.facts(ch[1]), self.facts(ch[2])
        same = yes.type is not None and no.type is not None and yes.type.kind == no.type.kind
        kind = yes.type if same else (DYN_TYPE if DYN_TYPE in (yes.type, no.type) else None)
        size = max(_size(yes), _size(no))
        return Facts(kind, units.add(cond.cost, max(yes.cost, no.cost)), size)

    def _logical(self, ch: list[Any]) -> Facts:
        if len(ch) == 1 or ch[0] is None:
            return self.facts(ch[-1])
        left, right = self.facts(ch[0]), self.facts(ch[1])
        return Facts(BOOL_TYPE, units.add(left.cost, right.cost), 1)

    _conditionalor = _logical
    _conditionaland = _logical

    def _relation(self, ch: list[Any]) -> Facts:
        if len(ch) == 1 or ch[0] is None:
            return self.facts(ch[-1])
        op = str(ch[0].data)
        left, right = self.facts(ch[0].children[0]), self.facts(ch[1])
        args = units.add(left.cost, right.cost)
        if op == "relation_in":
            return Facts(BOOL_TYPE, units.add(args, _size(right)), 1)
        smallest = min(_size(left), _size(right))
        return Facts(BOOL_TYPE, units.add(args, units.traversal(smallest)), 1)

    def _binary_chain(self, ch: list[Any]) -> Facts:
        if len(ch) == 1 or ch[0] is None:
            return self.facts(ch[-1])
        op = str(ch[0].data)
        left, right = self.facts(ch[0].children[0]), self.facts(ch[1])
        args = units.add(left.cost, right.cost)
        kind = left.type if left.type is not None and left.type.kind != "dyn" else right.type
        if op == "addition_add" and kind is not None and kind.kind in (STRING, "bytes", LIST):
            size = units.add(_size(left), _size(right))
            extra = 1 if kind.kind == LIST else units.traversal(size)
            return Facts(kind, units.add(args, extra), size)
        return Facts(kind, units.add(args, 1), 1)

    _addition = _binary_chain
    _multiplication = _binary_chain

    def _unary(self, ch: list[Any]) -> Facts:
        if len(ch) == 1:
            return self.facts(ch[0])
        operand = self.facts(ch[1])
        kind = BOOL_TYPE if ch[0].data == "unary_not" else operand.type
        return Facts(kind, units.add(operand.cost, 1), 1)

    def _member(self, ch: list[Any]) -> Facts:
        return self.facts(ch[0])

    _primary = _member
    _paren_expr = _member

    # Leaves --------------------------------------------------------------------------------

    def _literal(self, ch: list[Any]) -> Facts:
        value = literal_value(ch[0])
        if isinstance(value, bool):
            return Facts(BOOL_TYPE, 0, 1)
        if isinstance(value, UInt):
            return Facts(UINT_TYPE, 0, 1)
        if isinstance(value, int):
            return Facts(INT_TYPE, 0, 1)
        if isinstance(value, float):
            return Facts(DOUBLE_TYPE, 0, 1)
        if isinstance(value, str):
            return Facts(STRING_TYPE, 0, len(value))
        if isinstance(value, bytes):
            return Facts(BYTES_TYPE, 0, len(value))
        return Facts(NULL_TYPE, 0, 1)

    def _ident(self, ch: list[Any]) -> Facts:
        name = str(ch[0])
        stack = self.vars.get(name)
        if stack:
            t = stack[-1]
            return Facts(t, 1, _declared_size(t), (name,))
        if name in ("int", "uint", "double", "bool", "string", "bytes", "list", "map"):
            return Facts(TYPE_TYPE, 1, 1)
        return Facts(None, 1)

    _dot_ident = _ident

    def _list_lit(self, ch: list[Any]) -> Facts:
        items = [self.facts(c) for c in ch[0].children] if ch and ch[0] is not None else []
        kinds = {f.type.kind if f.type is not None else None for f in items}
        elem = items[0].type if len(kinds) == 1 and items else (DYN_TYPE if not items else None)
        total = 0
        for f in items:
            total = units.add(total, f.cost)
        t = list_of(elem or DYN_TYPE, len(items))
        return Facts(t, units.add(total, units.LIST_CREATE_COST), len(items))

    def _map_lit(self, ch: list[Any]) -> Facts:
        parts = [self.facts(c) for c in ch[0].children] if ch and ch[0] is not None else []
        total = 0
        for f in parts:
            total = units.add(total, f.cost)
        t = map_of(DYN_TYPE, len(parts) // 2)
        return Facts(t, units.add(total, units.MAP_CREATE_COST), len(parts) // 2)

    # Selection, calls, macros --------------------------------------------------------------

    def _member_dot(self, ch: list[Any]) -> Facts:
        target = self.facts(ch[0])
        name = unescape_property(str(ch[1]))
        path = (*target.path, name) if target.path is not None else None
        t = target.type
        if t is None:
            return Facts(None, units.add(target.cost, 1), path=path)
        if t.kind == OBJECT:
            field = (t.fields or {}).get(name)
            if field is None and not t.open_fields:
                raise _undefined_field(ch[1], name)
            ft = field if field is not None else DYN_TYPE
            return Facts(ft, units.add(target.cost, 1), _declared_size(ft), path)
        if t.kind == MAP:
            ft = t.elem or DYN_TYPE
            return Facts(ft, units.add(target.cost, 1), _declared_size(ft), path)
        if t.kind == "dyn":
            return Facts(DYN_TYPE, target.cost, path=path)
        return Facts(None, units.add(target.cost, 1))

    def _member_index(self, ch: list[Any]) -> Facts:
        target, key = self.facts(ch[0]), self.facts(ch[1])
        elem = _elem(target.type)
        cost = units.add(units.add(target.cost, key.cost), 1)
        return Facts(elem, cost, _declared_size(elem) if elem is not None else None)

    def _ident_arg(self, ch: list[Any]) -> Facts:
        name = str(ch[0])
        args = [self.facts(c) for c in ch[1].children] if len(ch) > 1 and ch[1] is not None else []
        if name == "has":
            inner = unwrap_select(ch[1].children[0]) if len(args) == 1 else None
            target = self.facts(inner.children[0]) if inner is not None else Facts(None, 0)
            if inner is not None:
                self._member_dot(inner.children)  # an undeclared field fails here too
            return Facts(BOOL_TYPE, units.add(target.cost, 1), 1)
        if name == "dyn" and len(args) == 1:
            return Facts(DYN_TYPE, units.add(args[0].cost, 1), args[0].size)
        return self._call(name, None, args)

    _dot_ident_arg = _ident_arg

    def _member_dot_arg(self, ch: list[Any]) -> Facts:
        target_node, name = ch[0], str(ch[1])
        exprlist = ch[2] if len(ch) > 2 else None
        namespace = ident_name(target_node)
        if namespace in ("sets", "strings") and namespace not in self.vars:
            args = [self.facts(c) for c in exprlist.children] if exprlist is not None else []
            return self._call(f"{namespace}.{name}", None, args)
        if name in MACROS:
            return self._macro(target_node, name, exprlist)
        target = self.facts(target_node)
        args = [self.facts(c) for c in exprlist.children] if exprlist is not None else []
        return self._call(name, target, args)

    def _call(self, name: str, target: Facts | None, args: list[Facts]) -> Facts:
        total = target.cost if target is not None else 0
        for a in args:
            total = units.add(total, a.cost)
        subject = target if target is not None else (args[0] if args else None)
        result = _RESULTS.get(name)
        if name in ("sum", "min", "max") and target is not None:
            result = _elem(target.type)
        size = 1 if result is not None and result.kind in _SCALAR_KINDS else None
        fn_cost, size = self._call_cost(name, target, args, size)
        if subject is not None and name in ("lowerAscii", "upperAscii", "trim", "substring"):
            size = subject.size
        return Facts(result, units.add(total, fn_cost), size)

    def _call_cost(
        self, name: str, target: Facts | None, args: list[Facts], size: int | None
    ) -> tuple[int, int | None]:
        if name in _TRAVERSE_TARGET and target is not None:
            return units.traversal(_size(target)), size
        if name in _TRAVERSE_TWICE and target is not None:
            return units.traversal(_size(target), 2 * units.STRING_TRAVERSAL_FACTOR), size
        if name in _TRAVERSE_ARG and args:
            return units.traversal(_size(args[0])), size
        if name in _LIST_SCANS and target is not None:
            elem = _elem(target.type)
            per = 1
            if elem is not None and elem.kind in (STRING, "bytes"):
                per = units.add(1, units.traversal(_declared_size(elem) or 0))
            return units.mul(_size(target), per), size
        if name in ("startsWith", "endsWith") and args:
            return units.traversal(_size(args[-1])), size
        if name == "contains" and target is not None and args:
            return units.mul(units.traversal(_size(target)), units.traversal(_size(args[0]))), size
        if name in ("matches", "find", "findAll"):
            subject = target if target is not None else (args[0] if args else None)
            pattern = args[-1] if args else None
            if subject is not None and pattern is not None:
                text = units.traversal(units.add(_size(subject), 1))
                regex = units.traversal(_size(pattern), units.REGEX_LENGTH_FACTOR)
                return units.mul(text, regex), size
        return 1, size

    def _macro(self, target_node: Any, name: str, exprlist: Any) -> Facts:
        args = exprlist.children if exprlist is not None else []
        var = ident_name(args[0]) if args else None
        target = self.facts(target_node)
        if var is None or len(args) < 2:
            return Facts(None, target.cost)
        elem = _elem(target.type) if target.type is None or target.type.kind != MAP else STRING_TYPE
        self.vars.setdefault(var, []).append(elem or DYN_TYPE)
        try:
            bodies = [self.facts(a) for a in args[1:]]
        finally:
            self.vars[var].pop()
        per_item = units.MACRO_STEP_COST[name]
        for body in bodies:
            per_item = units.add(per_item, body.cost)
        count = _size(target)
        cost = units.add(target.cost, units.MACRO_BASE_COST[name])
        cost = units.add(cost, units.mul(count, per_item))
        if name in ("all", "exists", "exists_one"):
            return Facts(BOOL_TYPE, cost, 1)
        out = bodies[-1].type if name == "map" else elem
        return Facts(list_of(out or DYN_TYPE, count), cost, count)


def _declared_size(t: DeclType | None) -> int | None:
    """The size cel-go's estimator gives a value reached by path: the schema's max_elements."""
    if t is None:
        return None
    if t.kind in _SCALAR_KINDS:
        return 1
    return t.max_elements


def _undefined_field(token: Any, name: str) -> CelCompileError:
    line = getattr(token, "line", 1) or 1
    column = getattr(token, "column", 1) or 1
    return CelCompileError(f"ERROR: <input>:{line}:{column}: undefined field '{name}'")
