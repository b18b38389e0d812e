"""The CEL fast path (`cel_codegen`) is exact: same value, or it defers to the closures.

Every rule of our CRDs and a set of expressions chosen for the places where Python and CEL
differ (``true == 1``, ``in`` on lists, errors absorbed by ``||``) run on generated
environments twice: with the fast path and with closures only. Outcomes (value and its type,
or the CEL error text) must be equal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.policy.accel.cel_codegen import compile_fast
from shared.policy.cel import SLOW, CelError, Program
from shared.policy.cel import compile_cel as compile_plain


def compile_cel(source: str, *, self_is_dict: bool = False) -> Program:
    """The accelerated program (what the engine builds by default)."""
    return compile_plain(source, self_is_dict=self_is_dict, fast_path=compile_fast)


CRDS = Path(__file__).resolve().parents[3] / "charts" / "kagent-substrate" / "crds"


def _crd_rules() -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for rule in node.get("x-kubernetes-validations") or ():
                found.append(rule["rule"])
                if rule.get("messageExpression"):
                    found.append(rule["messageExpression"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(CRDS.glob("*.yaml")):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return found


TRICKY = [
    "self.a == 'x'",
    "'x' == self.a",
    "self.a != 'x' || self.b == 1",
    "self.a == true",
    "self.n == 1",
    "has(self.a) && self.a.size() > 0",
    "has(self.a.b)",
    "self.a || self.b",
    "self.a && self.b",
    "!self.a",
    "self.a ? self.b : self.c",
    "self.l.all(x, x == 'x')",
    "self.l.exists(x, x.k == 'v')",
    "self.l.all(x, x)",
    "self.l.all(self, has(self.k))",
    "'x' in self.l",
    "self.l[0] == 'x'",
    "self.a + self.b == 'xy'",
    "size(self.l) > 1 || self.missing == 'x'",
    "self.missing == 'x' || true",
    "self.missing == 'x' && false",
    "[self.a, self.b] == ['x', 'y']",
    "self.a.startsWith('x')",
    "self.l.map(x, x)",
    "{'k': self.a}.k == 'x'",
    "int(self.n) == 1",
    "self == oldSelf",
    "oldSelf.a == self.a",
]
SOURCES = sorted(set(_crd_rules())) + TRICKY
KEYS = ["a", "b", "c", "k", "l", "n", "type", "value", "valueFrom", "runtime", "backend"]
KEYS += ["substrate", "platform", "slack", "telegram", "hermes", "openclaw", "channels"]
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, 1.0, 1.5]),
    st.sampled_from(["x", "y", "", "v", "slack", "telegram", "substrate", "hermes", "openclaw"]),
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)
    ),
    max_leaves=12,
)
OBJECT = st.dictionaries(st.sampled_from(KEYS), VALUE, max_size=8)
PROGRAMS = {
    src: (compile_plain(src), compile_cel(src), compile_cel(src, self_is_dict=True))
    for src in SOURCES
}


def outcome(program: Any, env: dict[str, Any]) -> tuple[Any, ...]:
    try:
        result = program(dict(env))
    except CelError as exc:
        return ("error", str(exc))
    except RecursionError:
        return ("recursion",)
    return ("value", type(result), repr(result))


@pytest.mark.parametrize("source", SOURCES)
def test_fast_path_matches_closures(source: str) -> None:
    closures, fast, fast_dict = PROGRAMS[source]

    @settings(
        max_examples=100,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.one_of(OBJECT, VALUE), st.one_of(st.none(), OBJECT))
    def check(self_value: Any, old: Any) -> None:
        env = {"self": self_value} if old is None else {"self": self_value, "oldSelf": old}
        expected = outcome(closures, env)
        assert outcome(fast, env) == expected
        if isinstance(self_value, dict):
            assert outcome(fast_dict, env) == expected

    check()


@pytest.mark.parametrize("source", sorted(set(_crd_rules())))
def test_every_crd_rule_has_a_fast_path(source: str) -> None:
    assert compile_cel(source, self_is_dict=True).fast is not None


def test_fast_path_defers_on_errors() -> None:
    program = compile_cel("self.missing == 'x' || true", self_is_dict=True)
    assert program.fast is not None
    assert program.fast({}) is SLOW
    assert program({"self": {}}) is True
    assert program.fast({"missing": "x"}) is True
    assert program.fast() is SLOW  # self unbound: the closures report the missing variable


def test_constructs_without_exact_rendering_keep_closures_only() -> None:
    assert compile_cel("self.l.map(x, x) == []").fast is None
    assert compile_cel("{'k': 1}.k == 1").fast is None
    assert compile_cel("type(self) == int").fast is None
    assert compile_cel("other == 1").fast is None  # only self and oldSelf are fast variables
