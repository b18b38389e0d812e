"""The closure interpreter: each CEL rule compiled once into nested closures ``env -> value``.

cel-python parses (its lark grammar is the CEL grammar); its tree-walking interpreter is too
slow for admission (~0.3 ms for a one-line rule, ~2.7 ms for a ``channels.all(...)`` rule), so
we walk the parse tree once per rule and build nested closures. Semantics are Kubernetes CEL's:
a missing field is ``no such key``; ``has()`` tests presence; ``&&``, ``||`` and the
``all``/``exists`` macros are commutative over errors (``error || true`` is true); equality is
heterogeneous (``1 == 1.0``, ``true != 1``); int arithmetic is checked for int64 overflow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from lark import Token, Tree

from shared.policy.cel import library as lib
from shared.policy.cel.ir import (
    MACROS,
    ident_name,
    literal_value,
    unescape_property,
    unwrap_select,
)
from shared.policy.cel.operators import ARITH, RELATIONS, index, neg, truth
from shared.policy.cel.parse import CelCompileError
from shared.policy.cel.values import CelError, no_overload

Env = dict[str, Any]
Fn = Callable[[Env], Any]

_MISSING: Final = object()


class Compiler:
    """Builds one closure ``env -> value`` per syntax node; `identifiers` collects free names."""

    def __init__(self) -> None:
        self.identifiers: set[str] = set()
        self.bound: list[str] = []

    def compile(self, node: Tree[Token] | Token) -> Fn:
        if isinstance(node, Token):
            raise CelCompileError(f"unexpected token {node!r}")
        handler = getattr(self, "_" + str(node.data), None)
        if handler is None:
            raise CelCompileError(f"unsupported CEL construct {node.data!r}")
        fn: Fn = handler(node.children)
        return fn

    # Pass-through and binary-chain nodes -------------------------------------------------

    def _expr(self, ch: list[Any]) -> Fn:
        if len(ch) == 1 or ch[1] is None:
            return self.compile(ch[0])
        cond, yes, no = self.compile(ch[0]), self.compile(ch[1]), self.compile(ch[2])

        def ternary(env: Env) -> Any:
            return yes(env) if truth(cond(env)) else no(env)

        return ternary

    def _conditionalor(self, ch: list[Any]) -> Fn:
        if len(ch) == 1 or ch[0] is None:
            return self.compile(ch[-1])
        left, right = self.compile(ch[0]), self.compile(ch[1])

        def or_(env: Env) -> Any:
            try:
                a = left(env)
            except CelError as err:
                if right(env) is True:
                    return True
                raise err from None
            if a is True:
                return True
            b = right(env)
            if a is not False:
                if b is True:
                    return True
                raise no_overload("_||_")
            return truth(b)

        return or_

    def _conditionaland(self, ch: list[Any]) -> Fn:
        if len(ch) == 1 or ch[0] is None:
            return self.compile(ch[-1])
        left, right = self.compile(ch[0]), self.compile(ch[1])

        def and_(env: Env) -> Any:
            try:
                a = left(env)
            except CelError as err:
                if right(env) is False:
                    return False
                raise err from None
            if a is False:
                return False
            b = right(env)
            if a is not True:
                if b is False:
                    return False
                raise no_overload("_&&_")
            return truth(b)

        return and_

    def _relation(self, ch: list[Any]) -> Fn:
        if len(ch) == 1 or ch[0] is None:
            return self.compile(ch[-1])
        op_node, right_node = ch[0], ch[1]
        left, right = self.compile(op_node.children[0]), self.compile(right_node)
        op = RELATIONS[str(op_node.data)]

        def relation(env: Env) -> bool:
            return op(left(env), right(env))

        return relation

    def _binary_chain(self, ch: list[Any]) -> Fn:
        if len(ch) == 1 or ch[0] is None:
            return self.compile(ch[-1])
        op_node, right_node = ch[0], ch[1]
        left, right = self.compile(op_node.children[0]), self.compile(right_node)
        op = ARITH[str(op_node.data)]

        def arith(env: Env) -> Any:
            return op(left(env), right(env))

        return arith

    _addition = _binary_chain
    _multiplication = _binary_chain

    def _unary(self, ch: list[Any]) -> Fn:
        if len(ch) == 1:
            return self.compile(ch[0])
        operand = self.compile(ch[1])
        if ch[0].data == "unary_not":

            def not_(env: Env) -> bool:
                return not truth(operand(env))

            return not_

        def negate(env: Env) -> Any:
            return neg(operand(env))

        return negate

    def _member(self, ch: list[Any]) -> Fn:
        return self.compile(ch[0])

    def _primary(self, ch: list[Any]) -> Fn:
        return self.compile(ch[0])

    def _paren_expr(self, ch: list[Any]) -> Fn:
        return self.compile(ch[0])

    # Leaves --------------------------------------------------------------------------------

    def _literal(self, ch: list[Any]) -> Fn:
        value = literal_value(ch[0])
        return lambda env: value

    def _ident(self, ch: list[Any]) -> Fn:
        name = str(ch[0])
        if name not in self.bound:
            self.identifiers.add(name)
        constant = lib.type_constant(name)

        def lookup(env: Env) -> Any:
            value = env.get(name, _MISSING)
            if value is _MISSING:
                if constant is not None:
                    return constant
                raise CelError(f"undeclared reference to '{name}'")
            return value

        return lookup

    def _list_lit(self, ch: list[Any]) -> Fn:
        items = self._args(ch[0] if ch else None)

        def make_list(env: Env) -> list[Any]:
            return [f(env) for f in items]

        return make_list

    def _map_lit(self, ch: list[Any]) -> Fn:
        node = ch[0] if ch else None
        parts = [self.compile(c) for c in node.children] if node is not None else []
        pairs = list(zip(parts[0::2], parts[1::2], strict=True))

        def make_map(env: Env) -> dict[Any, Any]:
            out: dict[Any, Any] = {}
            for k, v in pairs:
                key = k(env)
                if not isinstance(key, str | int | bool):
                    raise CelError(f"unsupported key type: {key!r}")
                if key in out:
                    raise CelError(f"Failed with repeated key: {key}")
                out[key] = v(env)
            return out

        return make_map

    def _args(self, exprlist: Any) -> list[Fn]:
        if exprlist is None:
            return []
        return [self.compile(c) for c in exprlist.children]

    # Selection, calls, macros ----------------------------------------------------------------

    def _member_dot(self, ch: list[Any]) -> Fn:
        target = self.compile(ch[0])
        name = str(ch[1])
        raw = unescape_property(name)

        def select(env: Env) -> Any:
            obj = target(env)
            if isinstance(obj, dict):
                value = obj.get(raw, _MISSING)
                if value is _MISSING:
                    raise CelError(f"no such key: {name}")
                return value
            raise no_overload(f"field selection of {name}")

        return select

    def _member_index(self, ch: list[Any]) -> Fn:
        target, key = self.compile(ch[0]), self.compile(ch[1])

        def subscript(env: Env) -> Any:
            return index(target(env), key(env))

        return subscript

    def _member_object(self, ch: list[Any]) -> Fn:
        raise CelCompileError("message construction is not supported in CRD rules")

    def _ident_arg(self, ch: list[Any]) -> Fn:
        name = str(ch[0])
        exprlist = ch[1] if len(ch) > 1 else None
        if name == "has":
            return self._has(exprlist)
        fn = lib.GLOBALS.get(name)
        if fn is None:
            raise CelCompileError(f"undeclared reference to function '{name}'")
        return self._call(fn, self._args(exprlist), name)

    def _dot_ident_arg(self, ch: list[Any]) -> Fn:
        return self._ident_arg(ch)

    def _dot_ident(self, ch: list[Any]) -> Fn:
        return self._ident(ch)

    def _call(self, fn: Callable[..., Any], args: list[Fn], name: str) -> Fn:
        if len(args) == 1:
            (a,) = args

            def call1(env: Env) -> Any:
                return guard(fn, name, a(env))

            return call1

        def call(env: Env) -> Any:
            return guard(fn, name, *[f(env) for f in args])

        return call

    def _member_dot_arg(self, ch: list[Any]) -> Fn:
        target_node, name = ch[0], str(ch[1])
        exprlist = ch[2] if len(ch) > 2 else None
        namespaced = ident_name(target_node)
        if namespaced and f"{namespaced}.{name}" in lib.GLOBALS:
            return self._call(lib.GLOBALS[f"{namespaced}.{name}"], self._args(exprlist), name)
        if name in MACROS:
            return self._macro(target_node, name, exprlist)
        fn = lib.MEMBERS.get(name)
        if fn is None:
            raise CelCompileError(f"undeclared reference to function '{name}'")
        return self._call(fn, [self.compile(target_node), *self._args(exprlist)], name)

    def _has(self, exprlist: Any) -> Fn:
        args = exprlist.children if exprlist is not None else []
        select = unwrap_select(args[0]) if len(args) == 1 else None
        if select is None:
            raise CelCompileError("invalid argument to has() macro: must be a field selection")
        target = self.compile(select.children[0])
        raw = unescape_property(str(select.children[1]))

        def has(env: Env) -> bool:
            obj = target(env)
            if isinstance(obj, dict):
                return raw in obj
            raise no_overload("has")

        return has

    def _macro(self, target_node: Any, name: str, exprlist: Any) -> Fn:
        args = exprlist.children if exprlist is not None else []
        var = ident_name(args[0]) if args else None
        if var is None or len(args) not in (2, 3) or (len(args) == 3 and name != "map"):
            raise CelCompileError(f"invalid arguments to the {name}() macro")
        target = self.compile(target_node)
        self.bound.append(var)
        try:
            bodies = [self.compile(a) for a in args[1:]]
        finally:
            self.bound.pop()
        bodies = [self.loop_step(name, b) for b in bodies]
        return self.loop(name, _MACRO_BUILDERS[name](target, var, bodies))

    # Extension points (the cost meter charges here) ------------------------------------------

    def loop_step(self, name: str, body: Fn) -> Fn:
        """A comprehension's per-element function (``name`` is the macro)."""
        return body

    def loop(self, name: str, comprehension: Fn) -> Fn:
        """A whole comprehension (``name`` is the macro)."""
        return comprehension


def guard(fn: Callable[..., Any], name: str, *args: Any) -> Any:
    """Call a library function; its Python errors become CEL errors."""
    try:
        return fn(*args)
    except CelError:
        raise
    except (TypeError, AttributeError) as exc:
        raise no_overload(name) from exc
    except (ValueError, OverflowError, ZeroDivisionError) as exc:
        raise CelError(f"{name}: {exc}") from exc


def _iterate(coll: Any, name: str) -> list[Any]:
    if isinstance(coll, list):
        return coll
    if isinstance(coll, dict):
        return list(coll)
    raise no_overload(name)


def _bind(env: Env, var: str) -> Any:
    return env.get(var, _MISSING)


def _restore(env: Env, var: str, saved: Any) -> None:
    if saved is _MISSING:
        env.pop(var, None)
    else:
        env[var] = saved


def _quantifier(name: str, short_circuit: bool) -> Callable[[Fn, str, list[Fn]], Fn]:
    """``all`` (stops at false) and ``exists`` (stops at true), commutative over errors:
    a decisive element wins over an error met earlier; otherwise the first error is raised."""

    def build(target: Fn, var: str, bodies: list[Fn]) -> Fn:
        (pred,) = bodies

        def quantify(env: Env) -> bool:
            items = _iterate(target(env), name)
            saved, err = _bind(env, var), None
            try:
                for item in items:
                    env[var] = item
                    try:
                        result = pred(env)
                    except CelError as exc:
                        err = err or exc
                        continue
                    if result is short_circuit:
                        return bool(result)
                    if result is not (not short_circuit):
                        err = err or no_overload(name)
            finally:
                _restore(env, var, saved)
            if err is not None:
                raise err
            return not short_circuit

        return quantify

    return build


def _exists_one_builder(target: Fn, var: str, bodies: list[Fn]) -> Fn:
    (pred,) = bodies

    def exists_one(env: Env) -> bool:
        items = _iterate(target(env), "exists_one")
        saved, count = _bind(env, var), 0
        try:
            for item in items:
                env[var] = item
                if truth(pred(env)):
                    count += 1
        finally:
            _restore(env, var, saved)
        return count == 1

    return exists_one


def _map_builder(target: Fn, var: str, bodies: list[Fn]) -> Fn:
    transform = bodies[-1]
    keep = bodies[0] if len(bodies) == 2 else None

    def map_(env: Env) -> list[Any]:
        items = _iterate(target(env), "map")
        saved, out = _bind(env, var), []
        try:
            for item in items:
                env[var] = item
                if keep is None or truth(keep(env)):
                    out.append(transform(env))
        finally:
            _restore(env, var, saved)
        return out

    return map_


def _filter_builder(target: Fn, var: str, bodies: list[Fn]) -> Fn:
    (pred,) = bodies

    def filter_(env: Env) -> list[Any]:
        items = _iterate(target(env), "filter")
        saved, out = _bind(env, var), []
        try:
            for item in items:
                env[var] = item
                if truth(pred(env)):
                    out.append(item)
        finally:
            _restore(env, var, saved)
        return out

    return filter_


_MACRO_BUILDERS: Final[dict[str, Callable[[Fn, str, list[Fn]], Fn]]] = {
    "all": _quantifier("all", short_circuit=False),
    "exists": _quantifier("exists", short_circuit=True),
    "exists_one": _exists_one_builder,
    "map": _map_builder,
    "filter": _filter_builder,
}
