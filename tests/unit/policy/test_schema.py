"""Structural-schema semantics on a small inline CRD: the apiserver behaviours we copy."""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import InputError
from shared.policy.crdvalidator import CRDValidator

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["mode"],
            "x-kubernetes-validations": [
                {
                    "rule": "self.mode != 'b' || has(self.extra)",
                    "message": "extra is required in mode b",
                },
                {
                    "rule": "self.count <= 10",
                    "messageExpression": "'count is over 10 in mode ' + self.mode",
                },
                {
                    "rule": "!has(self.forbidden)",
                    "message": "forbidden is not allowed",
                    "reason": "FieldValueForbidden",
                    "fieldPath": ".forbidden",
                },
            ],
            "properties": {
                "mode": {
                    "type": "string",
                    "enum": ["a", "b"],
                    "x-kubernetes-validations": [
                        {"rule": "self == oldSelf", "message": "mode is immutable"}
                    ],
                },
                "count": {"type": "integer", "default": 1, "minimum": 0},
                "ratio": {"type": "number", "maximum": 1, "exclusiveMaximum": True},
                "extra": {"type": "string", "maxLength": 3},
                "forbidden": {"type": "string"},
                "port": {"x-kubernetes-int-or-string": True},
                "when": {"type": "string", "format": "date-time"},
                "maybe": {"type": "string", "nullable": True},
                "tags": {
                    "type": "array",
                    "x-kubernetes-list-type": "set",
                    "items": {"type": "string"},
                },
                "items": {
                    "type": "array",
                    "maxItems": 2,
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string"},
                            "value": {
                                "type": "string",
                                "x-kubernetes-validations": [
                                    {"rule": "self == oldSelf", "message": "value is immutable"}
                                ],
                            },
                        },
                    },
                },
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "labels": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "minLength": 1},
                },
            },
        },
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
}

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"kind": "Widget", "plural": "widgets", "shortNames": ["wd"]},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": SCHEMA},
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Mode", "type": "string", "jsonPath": ".spec.mode"}
                ],
            }
        ],
    },
}


@pytest.fixture(scope="module")
def v() -> CRDValidator:
    return CRDValidator.from_crd(CRD)


def widget(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": spec,
    }


def messages(v: CRDValidator, obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[str]:
    v.default("v1", obj)
    if old is not None:
        v.default("v1", old)
    return [e.message for e in v.validate("v1", obj, old)]


def test_description(v: CRDValidator) -> None:
    assert (v.group, v.kind, v.plural, v.singular, v.list_kind) == (
        "example.com",
        "Widget",
        "widgets",
        "widget",
        "WidgetList",
    )
    assert v.short_names == ["wd"] and v.served_versions == ["v1"] and v.storage_version == "v1"
    assert v.has_status("v1") and not v.has_scale("v1") and v.namespaced
    assert v.printer_columns("v1")[0]["name"] == "Mode"


def test_valid_object_and_default_applied_before_cel(v: CRDValidator) -> None:
    obj = widget(mode="a")
    assert messages(v, obj) == []
    assert obj["spec"]["count"] == 1


def test_prune_reports_unknown_fields_but_keeps_preserved(v: CRDValidator) -> None:
    obj = widget(mode="a", bogus=1, free={"anything": {"goes": True}})
    obj["metadata"]["bogusMeta"] = 1
    assert sorted(v.prune("v1", obj)) == ["metadata.bogusMeta", "spec.bogus"]
    assert "bogus" not in obj["spec"] and obj["spec"]["free"] == {"anything": {"goes": True}}


def test_null_of_non_nullable_is_dropped_or_defaulted(v: CRDValidator) -> None:
    obj = widget(mode="a", extra=None, count=None, maybe=None)
    v.default("v1", obj)
    assert "extra" not in obj["spec"] and obj["spec"]["count"] == 1 and obj["spec"]["maybe"] is None


def test_null_under_non_nullable_additional_properties_is_dropped(v: CRDValidator) -> None:
    # The apiserver's PruneNonNullableNullsWithoutDefaults also covers additionalProperties.
    obj = widget(mode="a", labels={"gone": None, "kept": "x"})
    assert messages(v, obj) == []
    assert obj["spec"]["labels"] == {"kept": "x"}


def test_cel_message_expression_reason_and_field_path(v: CRDValidator) -> None:
    assert messages(v, widget(mode="b", count=11, forbidden="x")) == [
        "spec: Invalid value: extra is required in mode b",
        "spec: Invalid value: count is over 10 in mode b",
        "spec.forbidden: Forbidden: forbidden is not allowed",
    ]


def test_schema_constraints(v: CRDValidator) -> None:
    got = messages(
        v,
        widget(
            mode="a",
            count=-1,
            ratio=1,
            extra="toolong",
            port=True,
            when="yesterday",
            tags=["x", "x"],
            labels={"k": ""},
        ),
    )
    assert (
        "spec.count: Invalid value: -1: spec.count in body should be greater than or equal to 0"
        in got
    )
    assert "spec.ratio: Invalid value: 1: spec.ratio in body should be less than 1" in got
    assert "spec.extra: Too long: may not be more than 3 bytes" in got
    assert (
        'spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"'
        in got
    )
    assert (
        'spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"'
        in got
    )
    assert 'spec.tags[1]: Duplicate value: "x"' in got
    assert (
        'spec.labels.k: Invalid value: "": spec.labels.k in body should be at least 1 chars long'
        in got
    )


def test_blocking_errors_skip_cel_with_the_apiserver_note(v: CRDValidator) -> None:
    got = messages(v, widget(mode="c", count=11))
    assert got == [
        'spec.mode: Unsupported value: "c": supported values: "a", "b"',
        "<nil>: Invalid value: null: some validation rules were not checked because the object "
        "was invalid; correct the existing errors to complete validation",
    ]


def test_list_map_duplicates_and_max_items(v: CRDValidator) -> None:
    got = messages(v, widget(mode="a", items=[{"name": "a"}, {"name": "a"}, {"name": "b"}]))
    assert 'spec.items[1]: Duplicate value: {"name":"a"}' in got
    assert "spec.items: Too many: 3: must have at most 2 items" in got


def test_transition_rules_run_only_on_update_with_a_correlated_old_value(v: CRDValidator) -> None:
    assert messages(v, widget(mode="b", extra="x")) == []
    old = widget(mode="a", items=[{"name": "k", "value": "1"}])
    new = widget(
        mode="b", extra="x", items=[{"name": "k", "value": "2"}, {"name": "new", "value": "3"}]
    )
    assert messages(v, new, old) == [
        'spec.mode: Invalid value: "b": mode is immutable',
        'spec.items[0].value: Invalid value: "2": value is immutable',
    ]


def test_metadata_name_rules(v: CRDValidator) -> None:
    obj = widget(mode="a")
    obj["metadata"] = {"name": "Not_DNS", "labels": {"ok": "fine", "bad key!": "x"}}
    got = messages(v, obj)
    assert any(
        m.startswith('metadata.name: Invalid value: "Not_DNS": a lowercase RFC 1123 subdomain')
        for m in got
    )
    assert any(m.startswith("metadata.labels: Invalid value:") for m in got)
    obj["metadata"] = {}
    assert "metadata.name: Required value: name or generateName is required" in messages(v, obj)


def test_eval_error_is_reported_with_the_rule_message() -> None:
    crd = {**CRD, "spec": {**CRD["spec"], "versions": [dict(CRD["spec"]["versions"][0])]}}
    crd["spec"]["versions"][0]["schema"] = {
        "openAPIV3Schema": {
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {"a": {"type": "string"}},
                    "x-kubernetes-validations": [
                        {"rule": "self.a == 'x'", "message": "a must be x"}
                    ],
                }
            },
        }
    }
    got = messages(CRDValidator.from_crd(crd), {"metadata": {"name": "n"}, "spec": {}})
    assert got == ['spec: Invalid value: "object": no such key: a evaluating rule: a must be x']


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "ConfigMap"},
        {"kind": "CustomResourceDefinition", "spec": {}},
        {
            **CRD,
            "spec": {
                **CRD["spec"],
                "versions": [
                    {
                        "name": "v1",
                        "schema": {
                            "openAPIV3Schema": {"x-kubernetes-validations": [{"rule": "self.("}]}
                        },
                    }
                ],
            },
        },
        {
            **CRD,
            "spec": {
                **CRD["spec"],
                "versions": [
                    {
                        "name": "v1",
                        "schema": {"openAPIV3Schema": {"type": "string", "pattern": "("}},
                    }
                ],
            },
        },
    ],
)
def test_unusable_crds_are_input_errors(bad: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        CRDValidator.from_crd(bad)
