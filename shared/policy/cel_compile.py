"""Compile CEL expressions once into Python closures.

cel-python parses (its lark grammar is the CEL grammar); its tree-walking interpreter is too
slow for admission (~0.3 ms for a one-line rule, ~2.7 ms for a ``channels.all(...)`` rule), so
we walk the parse tree once per rule and build nested closures ``env -> value``. Semantics are
Kubernetes CEL's: a missing field is ``no such key``; ``has()`` tests presence; ``&&``, ``||``
and the ``all``/``exists`` macros are commutative over errors (``error || true`` is true);
equality is heterogeneous (``1 == 1.0``, ``true != 1``); int arithmetic is checked for int64
overflow.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from celpy import celparser
from celpy.evaluation import celbytes, celstr
from lark import Lark, Token, Tree

from shared.policy import cel_library as lib
from shared.policy.cel_values import (
    CelError,
    UInt,
    cel_eq,
    cel_in,
    cel_lt,
    check_int,
    check_uint,
    is_number,
    no_overload,
)

Env = dict[str, Any]
Fn = Callable[[Env], Any]

_MISSING: Final = object()
_MACROS: Final = frozenset({"all", "exists", "exists_one", "map", "filter"})
_ESCAPES: Final = (
    ("__underscores__", "__"),
    ("__dot__", "."),
    ("__dash__", "-"),
    ("__slash__", "/"),
)
_RESERVED: Final = frozenset(
    {"true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function"}
    | {"if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"}
)


class CelCompileError(ValueError):
    """A rule that does not parse or uses something we cannot compile."""


SLOW: Final = object()
"""What a fast path (`cel_codegen`) returns when the closures must decide."""
UNBOUND: Final = object()
"""An absent variable, for a fast path's arguments."""


@dataclass(frozen=True, slots=True)
class Program:
    """A compiled expression: call it with the variables (``self``, ``oldSelf``...)."""

    source: str
    fn: Fn
    identifiers: frozenset[str]
    """Free identifiers the expression reads (e.g. ``self``, ``oldSelf``)."""
    fast: Callable[[Any, Any], Any] | None = None
    """``fast(self, oldSelf)``: the same expression as one Python expression (`cel_codegen`);
    exact, or `SLOW` when the closures must decide. None when the expression has none."""

    def __call__(self, env: Env) -> Any:
        fast = self.fast
        if fast is not None:
            result = fast(env.get("self", UNBOUND), env.get("oldSelf", UNBOUND))
            if result is not SLOW:
                return result
        return self.fn(env)


@functools.lru_cache(maxsize=1)
def _parser() -> celparser.CELParser:
    return celparser.CELParser()


def load_grammar(cache_file: Path) -> None:
    """Build cel-python's CEL parser through lark's grammar cache at ``cache_file``.

    Analysing the CEL grammar takes about 0.3-0.4 s at every start; lark can store the
    analysed tables (a pickle: keep the file in a folder only the user can write) and load
    them in a fraction of that. The options are cel-python 0.5.0's own (``CELParser``); a
    cache that does not match the grammar, options or lark version is rebuilt by lark. Call
    it before the first rule is compiled; without it the parser is built without a cache.
    """
    if celparser.CELParser.CEL_PARSER is not None:
        return
    grammar = (Path(celparser.__file__).parent / "cel.lark").read_text()
    celparser.CELParser.CEL_PARSER = Lark(
        grammar,
        parser="lalr",
        start="expr",
        debug=True,
        g_regex_flags=re.M,
        lexer_callbacks={"IDENT": celparser.CELParser.ambiguous_literals},
        propagate_positions=True,
        maybe_placeholders=False,
        priority="invert",
        tree_class=Tree,
        cache=str(cache_file),
    )


def compile_cel(source: str, *, self_is_dict: bool = False, fast: bool = True) -> Program:
    """Parse and compile ``source``; raise `CelCompileError` with the parser's message.

    ``self_is_dict``: the rule sits on an object schema, so ``self`` is always a dict when it
    runs. ``fast=False`` keeps only the closures (tests compare both).
    """
    from shared.policy.cel_codegen import compile_fast  # it builds on this module

    try:
        tree = _parser().parse(source)
    except Exception as exc:  # celpy raises its own and lark's errors
        raise CelCompileError(f"syntax error: {str(exc).strip()}") from exc
    compiler = _Compiler()
    fn = compiler.compile(tree)
    fast_fn = compile_fast(tree, self_is_dict=self_is_dict) if fast else None
    return Program(source, fn, frozenset(compiler.identifiers), fast_fn)


def unescape_property(name: str) -> str:
    """Kubernetes CEL property-name escaping: ``foo__dash__bar`` reads ``foo-bar``."""
    if name.startswith("__") and name.endswith("__") and name[2:-2] in _RESERVED:
        return name[2:-2]
    for escaped, raw in _ESCAPES:
        name = name.replace(escaped, raw)
    return name


# --- operators --------------------------------------------------------------------------------


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, bool) or isinstance(b, bool):
        raise no_overload("_+_")
    if isinstance(a, int) and isinstance(b, int):
        if isinstance(a, UInt) != isinstance(b, UInt):
            raise no_overload("_+_")
        return check_uint(a + b) if isinstance(a, UInt) else check_int(a + b)
    if isinstance(a, float) and isinstance(b, float):
        return a + b
    if type(a) is type(b) and isinstance(a, str | bytes | list):
        return a + b
    if hasattr(a, "__add__") and not is_number(a) and not is_number(b):
        try:
            return a + b
        except TypeError:
            pass
    raise no_overload("_+_")


def _sub(a: Any, b: Any) -> Any:
    if isinstance(a, bool) or isinstance(b, bool):
        raise no_overload("_-_")
    if isinstance(a, int) and isinstance(b, int):
        if isinstance(a, UInt) != isinstance(b, UInt):
            raise no_overload("_-_")
        return check_uint(a - b) if isinstance(a, UInt) else check_int(a - b)
    if isinstance(a, float) and isinstance(b, float):
        return a - b
    if not is_number(a) and not is_number(b) and not isinstance(a, str | bytes | list):
        try:
            return a - b
        except TypeError:
            pass
    raise no_overload("_-_")


def _mul(a: Any, b: Any) -> Any:
    if isinstance(a, bool) or isinstance(b, bool):
        raise no_overload("_*_")
    if isinstance(a, int) and isinstance(b, int):
        if isinstance(a, UInt) != isinstance(b, UInt):
            raise no_overload("_*_")
        return check_uint(a * b) if isinstance(a, UInt) else check_int(a * b)
    if isinstance(a, float) and isinstance(b, float):
        return a * b
    raise no_overload("_*_")


def _int_divmod(a: int, b: int) -> tuple[int, int]:
    if b == 0:
        raise CelError("division by zero")
    q = abs(a) // abs(b)
    if (a < 0) != (b < 0):
        q = -q
    return q, a - b * q


def _div(a: Any, b: Any) -> Any:
    if isinstance(a, bool) or isinstance(b, bool):
        raise no_overload("_/_")
    if isinstance(a, int) and isinstance(b, int):
        if isinstance(a, UInt) != isinstance(b, UInt):
            raise no_overload("_/_")
        q = _int_divmod(a, b)[0]
        return check_uint(q) if isinstance(a, UInt) else check_int(q)
    if isinstance(a, float) and isinstance(b, float):
        if b == 0.0:
            return float("nan") if a == 0.0 or a != a else float("inf") if a > 0 else float("-inf")
        return a / b
    raise no_overload("_/_")


def _mod(a: Any, b: Any) -> Any:
    if (
        isinstance(a, int)
        and isinstance(b, int)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        if b == 0:
            raise CelError("modulus by zero")
        return _int_divmod(a, b)[1]
    raise no_overload("_%_")


def _neg(a: Any) -> Any:
    if isinstance(a, bool | UInt):
        raise no_overload("-_")
    if isinstance(a, int):
        return check_int(-a)
    if isinstance(a, float):
        return -a
    raise no_overload("-_")


def _index(container: Any, key: Any) -> Any:
    if isinstance(container, list):
        if (
            isinstance(key, bool)
            or not is_number(key)
            or (isinstance(key, float) and key != int(key))
        ):
            raise no_overload("_[_]")
        i = int(key)
        if i < 0 or i >= len(container):
            raise CelError(f"index out of bounds: {i}")
        return container[i]
    if isinstance(container, dict):
        if key in container and not isinstance(key, float):
            return container[key]
        raise CelError(f"no such key: {key}")
    raise no_overload("_[_]")


_RELATIONS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "relation_eq": cel_eq,
    "relation_ne": lambda a, b: not cel_eq(a, b),
    "relation_lt": cel_lt,
    "relation_gt": lambda a, b: cel_lt(b, a),
    "relation_le": lambda a, b: not cel_lt(b, a),
    "relation_ge": lambda a, b: not cel_lt(a, b),
    "relation_in": cel_in,
}
_ARITH: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "addition_add": _add,
    "addition_sub": _sub,
    "multiplication_mul": _mul,
    "multiplication_div": _div,
    "multiplication_mod": _mod,
}


def _truth(value: Any) -> bool:
    if value is True or value is False:
        return value
    raise no_overload("bool expected")


# --- the compiler ------------------------------------------------------------------------------


class _Compiler:
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
            return yes(env) if _truth(cond(env)) else no(env)

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
            return _truth(b)

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
            return _truth(b)

        return and_

    def _relation(self, ch: list[Any]) -> Fn:
        if len(ch) == 1 or ch[0] is None:
            return self.compile(ch[-1])
        op_node, right_node = ch[0], ch[1]
        left, right = self.compile(op_node.children[0]), self.compile(right_node)
        op = _RELATIONS[str(op_node.data)]

        def relation(env: Env) -> bool:
            return op(left(env), right(env))

        return relation

    def _binary_chain(self, ch: list[Any]) -> Fn:
        if len(ch) == 1 or ch[0] is None:
            return self.compile(ch[-1])
        op_node, right_node = ch[0], ch[1]
        left, right = self.compile(op_node.children[0]), self.compile(right_node)
        op = _ARITH[str(op_node.data)]

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
                return not _truth(operand(env))

            return not_

        def neg(env: Env) -> Any:
            return _neg(operand(env))

        return neg

    def _member(self, ch: list[Any]) -> Fn:
        return self.compile(ch[0])

    def _primary(self, ch: list[Any]) -> Fn:
        return self.compile(ch[0])

    def _paren_expr(self, ch: list[Any]) -> Fn:
        return self.compile(ch[0])

    # Leaves --------------------------------------------------------------------------------

    def _literal(self, ch: list[Any]) -> Fn:
        token: Token = ch[0]
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

        def index(env: Env) -> Any:
            return _index(target(env), key(env))

        return index

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
                return _guard(fn, name, a(env))

            return call1

        def call(env: Env) -> Any:
            return _guard(fn, name, *[f(env) for f in args])

        return call

    def _member_dot_arg(self, ch: list[Any]) -> Fn:
        target_node, name = ch[0], str(ch[1])
        exprlist = ch[2] if len(ch) > 2 else None
        namespaced = _namespace_of(target_node)
        if namespaced and f"{namespaced}.{name}" in lib.GLOBALS:
            return self._call(lib.GLOBALS[f"{namespaced}.{name}"], self._args(exprlist), name)
        if name in _MACROS:
            return self._macro(target_node, name, exprlist)
        fn = lib.MEMBERS.get(name)
        if fn is None:
            raise CelCompileError(f"undeclared reference to function '{name}'")
        return self._call(fn, [self.compile(target_node), *self._args(exprlist)], name)

    def _has(self, exprlist: Any) -> Fn:
        args = exprlist.children if exprlist is not None else []
        select = _unwrap_select(args[0]) if len(args) == 1 else None
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
        var = _ident_name(args[0]) if args else None
        if var is None or len(args) not in (2, 3) or (len(args) == 3 and name != "map"):
            raise CelCompileError(f"invalid arguments to the {name}() macro")
        target = self.compile(target_node)
        self.bound.append(var)
        try:
            bodies = [self.compile(a) for a in args[1:]]
        finally:
            self.bound.pop()
        return _MACRO_BUILDERS[name](target, var, bodies)


def _guard(fn: Callable[..., Any], name: str, *args: Any) -> Any:
    try:
        return fn(*args)
    except CelError:
        raise
    except (TypeError, AttributeError) as exc:
        raise no_overload(name) from exc
    except (ValueError, OverflowError, ZeroDivisionError) as exc:
        raise CelError(f"{name}: {exc}") from exc


def _unwrap(node: Any, *kinds: str) -> Any:
    """Descend through single-child pass-through nodes until one of ``kinds``."""
    while isinstance(node, Tree):
        if node.data in kinds:
            return node
        children = [c for c in node.children if c is not None]
        if len(children) != 1:
            return None
        node = children[0]
    return None


def _unwrap_select(node: Any) -> Any:
    return _unwrap(node, "member_dot")


def _ident_name(node: Any) -> str | None:
    found = _unwrap(node, "ident")
    return str(found.children[0]) if found is not None else None


def _namespace_of(node: Any) -> str | None:
    found = _unwrap(node, "ident")
    return str(found.children[0]) if found is not None else None


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
                if _truth(pred(env)):
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
                if keep is None or _truth(keep(env)):
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
                if _truth(pred(env)):
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
