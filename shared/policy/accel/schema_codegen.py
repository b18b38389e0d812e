"""The validation walk, specialised per CRD: Python source generated once from a `Node` tree.

`shared.policy.schema.validate` interprets a `Node` tree: each visited value pays for attribute loads and
checks of features its schema does not use, and each property costs a function call. For the
shapes that make up nearly all of an object (plain objects with known properties, arrays,
string/boolean/integer leaves) this module generates one function per node with the node's
facts baked in: required keys unrolled, a C-level subset test instead of the pruning scan, and
leaf checks inlined into the parent's loop.

Correctness rests on one rule: generated code only takes a fast path when it can tell that the
interpreter would record nothing there (no violation, no pruned key). Anything else (a wrong
type, a null, an enum miss, unknown keys, combinators, additional properties) is handed to
`shared.policy.schema.validate` or to the interpreter's own helpers for that node, so the result is the
interpreter's by construction. The one effect written out here is adding absent defaults when
nothing needs pruning, which is all the interpreter's pruning step does then. Tests compare
both walks on the corpus and on generated objects.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Final

from shared.policy import formats
from shared.policy.schema import ABSENT, Context, Node, join, prune_object, run_rules, validate
from shared.policy.schema.listtype import (
    check_item_counts,
    check_map_keys,
    check_set,
    map_key,
    old_items_by_key,
)
from shared.policy.verdict import REQUIRED, Violation

Walk = Callable[[Any, Any, str, Context], None]
"""``walk(value, old, path, ctx)``: the same effects as ``schema.validate(node, ...)``."""

_LEAF_TYPES: Final = {"string": "str", "boolean": "bool", "integer": "int"}


def compile_walk(root: Node) -> Walk:
    """The specialised walk for ``root`` (falls back to `shared.policy.schema.validate` where unspecialised)."""
    gen = _Generator()
    entry = gen.function_for(root)
    namespace: dict[str, Any] = {
        "ABSENT": ABSENT,
        "REQUIRED": REQUIRED,
        "Violation": Violation,
        "validate": validate,
        "prune_here": prune_object,
        "run_rules": run_rules,
        "old_items_by_key": old_items_by_key,
        "check_map_keys": check_map_keys,
        "check_set": check_set,
        "check_item_counts": check_item_counts,
        "map_key": map_key,
        "join": join,
        "format_check": formats.check,
        "deepcopy": copy.deepcopy,
        **gen.constants,
    }
    exec(compile("\n".join(gen.lines), f"<walk {id(root):x}>", "exec"), namespace)
    walk: Walk = namespace[entry]
    return walk


def _simple_object(node: Node) -> bool:
    return (
        node.type == "object"
        and node.properties is not None
        and node.additional is None
        and not node.preserve_unknown
        and not node.embedded
        and node.enum is None
        and not node.combinators
        and node.min_properties is None
        and node.max_properties is None
    )


def _simple_array(node: Node) -> bool:
    return (
        node.type == "array"
        and node.items is not None
        and node.enum is None
        and not node.combinators
    )


def _leaf(node: Node) -> bool:
    """A scalar without combinators: checked inline when it is plainly valid (its CEL rules,
    if any, then run as the interpreter would run them)."""
    if node.type not in _LEAF_TYPES or node.int_or_string or node.combinators:
        return False
    if node.number_checks:
        return False
    # Only all-string enums: a set test on a str then matches the interpreter's equality.
    return node.enum is None or (
        node.type == "string" and all(isinstance(e, str) for e in node.enum)
    )


class _Generator:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}
        self._names: dict[int, str] = {}

    def constant(self, prefix: str, value: Any) -> str:
        name = f"{prefix}{len(self.constants)}"
        self.constants[name] = value
        return name

    def literal(self, value: Any) -> str:
        """Source for a schema value: a string literal, else a named constant (CRD YAML may
        hold keys or formats of any type; only a ``str`` is written into the source)."""
        return repr(value) if type(value) is str else self.constant("C", value)

    def function_for(self, node: Node) -> str:
        """The name of a ``(value, old, path, ctx)`` function equivalent to validating ``node``."""
        if id(node) in self._names:
            return self._names[id(node)]
        if _simple_object(node):
            name = self._object(node)
        elif _simple_array(node):
            name = self._array(node)
        else:
            node_name = self.constant("N", node)
            name = f"v_{node_name}"
            self.lines += [
                f"def {name}(value, old, path, ctx):",
                f"    validate({node_name}, value, old, path, ctx)",
                "",
            ]
        self._names[id(node)] = name
        return name

    def leaf_test(self, node: Node, var: str) -> str:
        """A Python condition true only when validating ``var`` against ``node`` records nothing."""
        parts = [f"type({var}) is {_LEAF_TYPES[str(node.type)]}"]
        if node.enum is not None:
            parts.append(f"{var} in {self.constant('E', frozenset(node.enum))}")
        if node.max_length is not None:
            parts.append(f"len({var}) <= {self.constant('L', node.max_length)}")
        if node.min_length is not None:
            parts.append(f"len({var}) >= {self.constant('L', node.min_length)}")
        if node.pattern is not None:
            parts.append(f"{self.constant('P', node.pattern)}.search({var}) is not None")
        if node.format is not None:
            parts.append(f"format_check({self.literal(node.format)}, {var}) is None")
        return " and ".join(parts)

    def _rules_tail(self, node: Node, node_name: str, out: list[str]) -> None:
        if node.rules:
            out += ["    if ctx.run_cel:", f"        run_rules({node_name}, value, old, path, ctx)"]

    def _child(
        self, child: Node, sub: str, old_expr: str, path_expr: str, indent: str
    ) -> list[str]:
        """Lines that validate ``sub`` against ``child`` (fast leaf test, else a call)."""
        if child.plain_string:
            return [
                f"{indent}if type({sub}) is not str:",
                f"{indent}    validate({self.constant('N', child)}, {sub}, {old_expr}, {path_expr}, ctx)",
            ]
        if _leaf(child) and child.rules:
            name = self.constant("N", child)
            return [
                f"{indent}if {self.leaf_test(child, sub)}:",
                f"{indent}    if ctx.run_cel:",
                f"{indent}        run_rules({name}, {sub}, {old_expr}, {path_expr}, ctx)",
                f"{indent}else:",
                f"{indent}    validate({name}, {sub}, {old_expr}, {path_expr}, ctx)",
            ]
        if _leaf(child):
            return [
                f"{indent}if not ({self.leaf_test(child, sub)}):",
                f"{indent}    validate({self.constant('N', child)}, {sub}, {old_expr}, {path_expr}, ctx)",
            ]
        return [f"{indent}{self.function_for(child)}({sub}, {old_expr}, {path_expr}, ctx)"]

    def _object(self, node: Node) -> str:
        assert node.properties is not None
        node_name = self.constant("N", node)
        name = f"o_{node_name}"
        keys = self.constant("K", frozenset(node.properties))
        out = [
            f"def {name}(value, old, path, ctx):",
            "    if type(value) is not dict:",
            f"        validate({node_name}, value, old, path, ctx)",
            "        return",
            "    unknown = ctx.unknown",
        ]
        out += [
            f"    if unknown is not None and (not (value.keys() <= {keys}) or None in value.values()):",
            f"        prune_here({node_name}, value, path, unknown)",
        ]
        if node.defaults:
            # Nothing to prune: what remains of pruning is adding the absent defaults.
            out.append("    elif unknown is not None:")
            for key, default in node.defaults:
                made = self.constant("D", default)
                if not (default is None or isinstance(default, str | int | float | bool)):
                    made = f"deepcopy({made})"  # each object gets its own copy
                lit = self.literal(key)
                out += [f"        if {lit} not in value:", f"            value[{lit}] = {made}"]
        if node.required:
            out.append("    errors = ctx.errors")
            for req in node.required:
                lit = self.literal(req)
                where = (
                    f"join(path, {lit})"
                    if type(req) is not str
                    else f"(path + {'.' + req!r} if path else {req!r})"
                )
                out += [
                    f"    if {lit} not in value:",
                    f"        errors.append(Violation({where}, REQUIRED, '', 'schema:required'))",
                ]
        out += [
            "    old_map = old if isinstance(old, dict) else None",
            "    prefix = path + '.' if path else ''",
            "    for key, sub in value.items():",
        ]
        branch = "if"
        for key, child in node.properties.items():
            out.append(f"        {branch} key == {self.literal(key)}:")
            old_expr = "(old_map.get(key, ABSENT) if old_map is not None else ABSENT)"
            out += self._child(child, "sub", old_expr, "prefix + key", " " * 12)
            branch = "elif"
        self._rules_tail(node, node_name, out)
        self.lines += [*out, ""]
        return name

    def _array(self, node: Node) -> str:
        assert node.items is not None
        node_name = self.constant("N", node)
        name = f"a_{node_name}"
        out = [
            f"def {name}(value, old, path, ctx):",
            "    if type(value) is not list:",
            f"        validate({node_name}, value, old, path, ctx)",
            "        return",
        ]
        bounds = []
        if node.max_items is not None:
            bounds.append(f"len(value) > {self.constant('L', node.max_items)}")
        if node.min_items is not None:
            bounds.append(f"len(value) < {self.constant('L', node.min_items)}")
        if bounds:
            out += [
                f"    if {' or '.join(bounds)}:",
                f"        check_item_counts({node_name}, value, path, ctx.errors)",
            ]
        keyed = node.list_type == "map" and bool(node.map_keys)
        if keyed:
            out += [
                f"    old_by_key = old_items_by_key({node_name}, old)",
                f"    check_map_keys({node_name}, value, path, ctx.errors)",
            ]
        elif node.list_type == "set":
            out.append("    check_set(value, path, ctx.errors)")
        out.append("    for i, sub in enumerate(value):")
        if keyed:
            keys = self.constant("M", node.map_keys)
            old_expr = (
                f"(old_by_key.get(map_key({keys}, sub), ABSENT) "
                "if old_by_key is not None and isinstance(sub, dict) else ABSENT)"
            )
        else:
            old_expr = "ABSENT"
        out += self._child(node.items, "sub", old_expr, "f'{path}[{i}]'", " " * 8)
        self._rules_tail(node, node_name, out)
        self.lines += [*out, ""]
        return name
