"""CEL checks at load (result types, estimated cost) and the run-time cost limits, with the
apiserver's messages (tests/realkube/test_cel_cost.py compares the same variants with a real
kube-apiserver)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import InputError
from shared.policy.crdvalidator import CRDValidator
from shared.policy.engine import PolicyEngine
from shared.policy.schema.celcheck import check_rules
from tests import cel_variants as v

PREFIX = "spec.validation.openAPIV3Schema"


def refusal(doc: dict[str, Any]) -> str:
    with pytest.raises(InputError) as err:
        CRDValidator.from_crd(doc)
    return str(err.value)


def test_our_crds_pass_type_and_cost_checks_and_need_no_meter() -> None:
    for validator in PolicyEngine.from_dir().validators:
        for version in validator.served_versions:
            problems, costs = check_rules(validator.schema_root(version))
            assert problems == []
            assert not costs.may_exceed_runtime_limits()


@pytest.mark.parametrize("name", sorted(v.ACCEPTED))
def test_accepted_variants_load(name: str) -> None:
    CRDValidator.from_crd(v.ACCEPTED[name])


def test_a_rule_must_yield_a_bool() -> None:
    assert (
        f"{PREFIX}.properties[spec].x-kubernetes-validations[0].rule: "
        'Invalid value: "self.name": cel expression must evaluate to a bool'
    ) in refusal(v.REFUSED["not-a-bool"])


def test_a_message_expression_must_yield_a_string() -> None:
    text = refusal(v.REFUSED["message-not-a-string"])
    assert f"{PREFIX}.properties[spec].x-kubernetes-validations[0].messageExpression: " in text
    assert "messageExpression must evaluate to a string" in text


def test_an_undeclared_field_is_a_compile_error() -> None:
    text = refusal(v.REFUSED["undeclared-field"])
    assert "compilation failed: ERROR: <input>:1:6: undefined field 'nmae'" in text


def test_metadata_at_the_root_declares_name_and_generate_name_only() -> None:
    assert "undefined field 'labels'" in refusal(v.REFUSED["undeclared-metadata-field"])


def test_a_quadratic_rule_over_an_unbounded_list_is_over_the_estimated_budget() -> None:
    text = refusal(v.REFUSED["quadratic-unbounded"])
    assert (
        f"{PREFIX}.properties[spec].x-kubernetes-validations[0].rule: Forbidden: estimated rule "
        "cost exceeds budget by factor of more than 100x (try simplifying the rule, or adding "
        "maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)"
    ) in text
    assert f"{PREFIX}: Forbidden: x-kubernetes-validations estimated rule" in text


def test_a_concatenated_number_in_a_message_expression_is_over_budget() -> None:
    assert (
        f"{PREFIX}.x-kubernetes-validations[0].messageExpression: Forbidden: estimated "
        "messageExpression cost exceeds budget by factor of more than 100x"
    ) in refusal(v.REFUSED["message-concatenates-a-number"])


def test_a_quadratic_rule_stops_past_the_call_limit() -> None:
    validator = CRDValidator.from_crd(v.QUADRATIC)
    assert validator.admit("v1", v.widget(v.QUADRATIC, v.distinct(200)))[1] == []
    _, errors = validator.admit("v1", v.widget(v.QUADRATIC, v.distinct(800)))
    assert [(e.path, e.detail) for e in errors] == [
        (
            "spec",
            "'operation cancelled: actual cost limit exceeded': no further validation rules "
            "will be run due to call cost exceeds limit for rule: "
            "self.l.all(x, self.l.exists(y, x == y))",
        )
    ]


def test_rules_together_stop_at_the_runtime_budget() -> None:
    validator = CRDValidator.from_crd(v.MANY)
    assert validator.admit("v1", v.widget(v.MANY, v.long_strings(1000, 2)))[1] == []
    _, errors = validator.admit("v1", v.widget(v.MANY, v.long_strings(1000)))
    assert [(e.path, e.detail) for e in errors] == [
        (
            "spec",
            "validation failed due to running out of cost budget, "
            "no further validation rules will be run",
        )
    ]


@pytest.mark.parametrize("accelerate", [True, False])
def test_metered_rules_decide_small_objects_as_plain_ones(accelerate: bool) -> None:
    validator = CRDValidator.from_crd(v.QUADRATIC, accelerate=accelerate)
    assert validator.admit("v1", v.widget(v.QUADRATIC, ["a", "b"]))[1] == []
    validator = CRDValidator.from_crd(v.MANY, accelerate=accelerate)
    _, errors = validator.admit("v1", v.widget(v.MANY, ["a", "z7"]))
    assert [e.detail for e in errors] == ["failed rule: self.l.all(x, !x.contains('z7'))"]
