"""The generated walk (`schema_codegen`) has exactly the interpreter's effects.

Both walks run on copies of the same object; everything they produce must be equal: the
violations in order, the CEL findings, the pruned paths, the type-error flag and the object left
behind (pruned and defaulted). Inputs: every corpus case (with its old object), generated
objects for our CRDs and near-misses of corpus cases, and a small schema that uses every feature
the generator specialises (defaults, item counts, list maps with transition rules, sets, enums,
patterns, formats, nullable, additional and preserved fields).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.policy.accel.schema_codegen import compile_walk
from shared.policy.crdvalidator import CRDValidator
from shared.policy.engine import PolicyEngine, split_api_version
from shared.policy.schema import ABSENT, Context, Node, compile_schema, validate
from tests.reliability.fuzz_strategies import (
    JSON,
    corpus_objects,
    from_schema,
    near_misses,
    schema_objects,
    substrate_harnesses,
)

FEATURES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["mode"],
            "properties": {
                "mode": {"type": "string", "enum": ["a", "b"]},
                "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 8, "minLength": 2},
                "when": {"type": "string", "format": "date-time"},
                "count": {"type": "integer", "default": 3},
                "ratio": {"type": "number", "maximum": 1.5},
                "flag": {"type": "boolean"},
                "level": {
                    "type": "string",
                    "enum": ["low", "high"],
                    "x-kubernetes-validations": [
                        {"rule": "self == oldSelf", "message": "level is immutable"}
                    ],
                },
                "size": {
                    "type": "integer",
                    "x-kubernetes-validations": [{"rule": "self < 10", "message": "too big"}],
                },
                "note": {"type": "string", "nullable": True},
                "opts": {
                    "type": "object",
                    "default": {"x": "y"},
                    "properties": {"x": {"type": "string"}},
                },
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "tags": {
                    "type": "array",
                    "maxItems": 3,
                    "minItems": 1,
                    "x-kubernetes-list-type": "set",
                    "items": {"type": "string"},
                },
                "ports": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string"},
                            "port": {"type": "integer", "minimum": 1},
                        },
                        "x-kubernetes-validations": [
                            {"rule": "self.port == oldSelf.port", "message": "port is immutable"}
                        ],
                    },
                },
                "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            },
            "x-kubernetes-validations": [
                {"rule": "self.mode != 'b' || has(self.name)", "message": "b needs a name"}
            ],
        }
    },
}
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "names": {"kind": "Widget", "plural": "widgets"},
        "scope": "Namespaced",
        "versions": [
            {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": FEATURES}}
        ],
    },
}
FUZZ = settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _roots(validator: CRDValidator) -> dict[str, Node]:
    return {v: validator.schema_root(v) for v in validator.served_versions}


ENGINE = PolicyEngine.from_dir()
WIDGET = CRDValidator.from_crd(CRD)
WALKS: dict[int, Any] = {}


def _walk_for(root: Node) -> Any:
    if id(root) not in WALKS:
        WALKS[id(root)] = (root, compile_walk(root))
    return WALKS[id(root)][1]


def _effects(run: Any, obj: Any, old: Any, prune: bool) -> tuple[Any, ...]:
    work = copy.deepcopy(obj)
    ctx = Context(unknown=[] if prune else None)
    run(work, copy.deepcopy(old) if old is not None else ABSENT, ctx)
    return ctx.errors, ctx.cel_errors, ctx.unknown, ctx.type_error, work


def assert_same(root: Node, obj: Any, old: Any = None) -> None:
    walk = _walk_for(root)
    for prune in (True, False):
        expected = _effects(lambda o, p, c: validate(root, o, p, "", c), obj, old, prune)
        got = _effects(lambda o, p, c: walk(o, p, "", c), obj, old, prune)
        assert got == expected


def _root_for(obj: Any) -> Node | None:
    if not isinstance(obj, dict):
        return None
    api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
    validator = ENGINE.validator_for(api_version, kind)
    if validator is None:
        return None
    return _roots(validator).get(split_api_version(api_version)[1])


@pytest.mark.parametrize("index", range(len(corpus_objects())))
def test_corpus_case(index: int) -> None:
    obj, old = corpus_objects()[index]
    root = _root_for(obj)
    if root is None:
        pytest.skip("not a governed kind/version")
    assert_same(root, obj, old)


@FUZZ
@given(st.one_of(schema_objects(), substrate_harnesses()))
def test_generated_objects(obj: dict[str, Any]) -> None:
    root = _root_for(obj)
    assert root is not None
    assert_same(root, obj)


@FUZZ
@given(near_misses())
def test_near_misses(case: tuple[dict[str, Any], dict[str, Any] | None]) -> None:
    obj, old = case
    root = _root_for(obj)
    if root is not None:
        assert_same(root, obj, old)


WIDGET_ROOT = _roots(WIDGET)["v1"]
SPECS = st.one_of(from_schema(FEATURES["properties"]["spec"]), JSON)


@FUZZ
@given(SPECS, st.one_of(st.none(), SPECS), st.booleans())
def test_feature_schema(spec: Any, old_spec: Any, with_old: bool) -> None:
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "spec": spec}
    old = {**obj, "spec": old_spec} if with_old else None
    assert_same(WIDGET_ROOT, obj, old)


@pytest.mark.parametrize(
    "spec",
    [
        {"mode": "a"},
        {"mode": "b", "name": "ok", "count": None, "extra": 1},
        {"mode": "c", "name": "NO", "tags": [], "ports": [{"name": "a"}, {"name": "a"}]},
        {"mode": "a", "tags": ["x", "x", "y", "z"], "ratio": 2, "note": None, "flag": "yes"},
        {"mode": "a", "labels": {"k": 1}, "free": {"any": {"thing": [1]}}, "either": 1.5},
        {"mode": "a", "when": "yesterday", "opts": None, "ports": "not a list"},
        {"mode": "a", "level": "high", "size": 12},
        {"mode": "a", "level": "mid", "size": "12"},
        None,
        "text",
    ],
)
def test_feature_schema_cases(spec: Any) -> None:
    old = {"spec": {"mode": "a", "level": "low", "ports": [{"name": "a", "port": 1}]}}
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "spec": spec}
    assert_same(WIDGET_ROOT, obj)
    assert_same(WIDGET_ROOT, obj, {**obj, **old})


def test_schema_values_of_any_type_are_never_written_as_source() -> None:
    """CRD YAML may hold keys, required names or formats that are not strings (a date, an int):
    they become named constants in the generated code, with the interpreter's effects."""
    odd = compile_schema(
        {
            "type": "object",
            "required": [1, "a"],
            "properties": {
                dt.date(2020, 1, 1): {"type": "string"},
                5: {"type": "string", "default": "x"},
                "a": {"type": "string", "format": dt.date(2020, 1, 2)},
            },
        }
    )
    for obj in ({"a": "x"}, {}, {"a": 1, "b": 2}):
        assert_same(odd, obj)
