"""Run-time CEL cost: the closure interpreter with a meter, as cel-go tracks actual cost.

The apiserver stops one rule's evaluation past `cost.PER_CALL_LIMIT` ("operation cancelled:
actual cost limit exceeded") and all CEL validation of an object once its rules together spent
`cost.RUNTIME_BUDGET`. A CRD whose estimated costs cannot reach either limit (ours) never needs
the meter; for one that can, its rules are also compiled here and run metered. Costs follow
cel-go's: 1 per variable, selection, index, call and operator, a tenth of a unit per character
of string work, and per comprehension element the macro's loop overhead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from lark import Token, Tree

from shared.policy.cel import cost as units
from shared.policy.cel.interpreter import Compiler, Env, Fn, guard
from shared.policy.cel.operators import ARITH, RELATIONS

METER: Final = "@meter"
"""The environment key of the `Meter` (no CEL identifier can read it)."""


class CostLimitExceeded(Exception):
    """One evaluation spent more than its limit (never absorbed by ``||``, ``&&``, macros)."""


class Meter:
    """The cost spent so far by one evaluation."""

    __slots__ = ("limit", "spent")

    def __init__(self, limit: int = units.PER_CALL_LIMIT) -> None:
        self.spent = 0
        self.limit = limit

    def charge(self, cost: int) -> None:
        """Add ``cost``; raise `CostLimitExceeded` past the limit."""
        self.spent += cost
        if self.spent > self.limit:
            raise CostLimitExceeded


def compile_metered(tree: Tree[Token]) -> Fn:
    """Closures for ``tree`` that charge ``env[METER]`` as they run."""
    return _MeteredCompiler().compile(tree)


def _charging(fn: Fn, cost: int) -> Fn:
    def charged(env: Env) -> Any:
        env[METER].charge(cost)
        return fn(env)

    return charged


def _length(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | list | dict) else 1


def _string_work(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes) else 0


def _relation_cost(op: str, a: Any, b: Any) -> int:
    if op == "relation_in":
        return _length(b)
    if isinstance(a, str | bytes) and isinstance(b, str | bytes):
        return max(units.traversal(min(len(a), len(b))), 1)
    return 1


def _call_cost(name: str, args: tuple[Any, ...]) -> int:
    first = _string_work(args[0]) if args else 0
    if name in ("lowerAscii", "upperAscii", "substring", "trim", "url", "quantity"):
        return units.traversal(first)
    if name in ("isQuantity", "cidr", "isIP", "isCIDR", "isURL", "ip"):
        return units.traversal(first)
    if name in ("replace", "split"):
        return units.traversal(first, 2 * units.STRING_TRAVERSAL_FACTOR)
    if name in ("isSorted", "sum", "max", "min", "indexOf", "lastIndexOf") and args:
        return _length(args[0])
    if name in ("startsWith", "endsWith") and len(args) > 1:
        return units.traversal(_string_work(args[1]))
    if name == "contains" and len(args) > 1:
        return units.traversal(first) * units.traversal(_string_work(args[1]))
    if name in ("matches", "find", "findAll") and len(args) > 1:
        regex = units.traversal(_string_work(args[1]), units.REGEX_LENGTH_FACTOR)
        return units.traversal(first + 1) * regex
    return 1


class _MeteredCompiler(Compiler):
    def _ident(self, ch: list[Any]) -> Fn:
        return _charging(super()._ident(ch), 1)

    def _member_dot(self, ch: list[Any]) -> Fn:
        return _charging(super()._member_dot(ch), 1)

    def _member_index(self, ch: list[Any]) -> Fn:
        return _charging(super()._member_index(ch), 1)

    def _has(self, exprlist: Any) -> Fn:
        return _charging(super()._has(exprlist), 1)

    def _unary(self, ch: list[Any]) -> Fn:
        fn = super()._unary(ch)
        return fn if len(ch) == 1 else _charging(fn, 1)

    def _list_lit(self, ch: list[Any]) -> Fn:
        return _charging(super()._list_lit(ch), units.LIST_CREATE_COST)

    def _map_lit(self, ch: list[Any]) -> Fn:
        return _charging(super()._map_lit(ch), units.MAP_CREATE_COST)

    def _relation(self, ch: list[Any]) -> Fn:
        if len(ch) == 1 or ch[0] is None:
            return self.compile(ch[-1])
        op = str(ch[0].data)
        left, right, compare = self.compile(ch[0].children[0]), self.compile(ch[1]), RELATIONS[op]

        def relation(env: Env) -> bool:
            a, b = left(env), right(env)
            env[METER].charge(_relation_cost(op, a, b))
            return compare(a, b)

        return relation

    def _binary_chain(self, ch: list[Any]) -> Fn:
        if len(ch) == 1 or ch[0] is None:
            return self.compile(ch[-1])
        left, right = self.compile(ch[0].children[0]), self.compile(ch[1])
        arith = ARITH[str(ch[0].data)]

        def binary(env: Env) -> Any:
            a, b = left(env), right(env)
            work = _string_work(a) + _string_work(b)
            env[METER].charge(units.traversal(work) if work else 1)
            return arith(a, b)

        return binary

    def _call(self, fn: Callable[..., Any], args: list[Fn], name: str) -> Fn:
        def metered_call(env: Env) -> Any:
            values = tuple(f(env) for f in args)
            env[METER].charge(_call_cost(name, values))
            return guard(fn, name, *values)

        return metered_call

    def loop_step(self, name: str, body: Fn) -> Fn:
        return _charging(body, units.MACRO_STEP_COST[name])

    def loop(self, name: str, comprehension: Fn) -> Fn:
        return _charging(comprehension, units.MACRO_BASE_COST[name])
