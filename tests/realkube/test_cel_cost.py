"""CEL result types and cost, engine vs kube-apiserver 1.37: CRD variants refused or accepted at
creation (a rule that is not a bool, a messageExpression that is not a string, an undeclared
field, rules over the estimated cost limits) with the same field errors, and objects with large
lists under ``all()``/``exists()`` rules (the per-call limit, the per-object budget) with the
same verdicts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.realkube.plane import ControlPlane
from shared.policy.crdvalidator import CRDInvalid, CRDValidator
from shared.policy.engine import PolicyEngine
from tests import cel_variants as v
from tests.realkube.api import Api
from tests.realkube.conftest import kubectl_as
from tests.realkube.parity import DRY_RUN, Outcome, engine_verdict, outcome_of

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
_REASONS = (
    "cel expression must evaluate to a bool",
    "messageExpression must evaluate to a string",
    "messageExpression compilation failed",
    "compilation failed",
)


def _reduce(cause: str) -> str:
    """A field error without what only Go prints (the rule struct as the invalid value, the
    source snippet and column of a compile error)."""
    path, _, rest = cause.partition(": ")
    if not rest.startswith("Invalid value: "):
        return cause
    for reason in _REASONS:
        at = rest.find(reason)
        if at >= 0:
            text = re.sub(r"<input>:\d+:\d+: ", "", rest[at:].split("\n")[0])
            return f"{path}: Invalid value: {text}"
    return cause


def _server_causes(admin: Api, doc: dict[str, Any]) -> tuple[int, set[str]]:
    answer = admin.call("POST", CRDS, doc, {"dryRun": "All"})
    return answer.status, {_reduce(c) for c in answer.violations()}


@pytest.mark.parametrize("name", sorted(v.REFUSED))
def test_refused_variants_have_the_apiservers_errors(admin: Api, name: str) -> None:
    status, theirs = _server_causes(admin, v.REFUSED[name])
    assert status == 422, (status, theirs)
    with pytest.raises(CRDInvalid) as err:
        CRDValidator.from_crd(v.REFUSED[name])
    assert {_reduce(c) for c in err.value.causes} == theirs


@pytest.mark.parametrize("name", sorted(v.ACCEPTED))
def test_accepted_variants_are_accepted_by_both(admin: Api, name: str) -> None:
    status, theirs = _server_causes(admin, v.ACCEPTED[name])
    assert status == 201, (status, theirs)
    CRDValidator.from_crd(v.ACCEPTED[name])


@pytest.fixture(scope="module")
def metered(plane: ControlPlane, admin: Api) -> Iterator[PolicyEngine]:
    """The QUADRATIC and MANY variants created for real, and an engine holding them."""
    names = []
    for doc in (v.QUADRATIC, v.MANY):
        answer = admin.call("POST", CRDS, doc)
        assert answer.status in (201, 409), answer.message
        names.append(doc["metadata"]["name"])
    kubectl_as(plane, "wait", "--for=condition=Established", "--timeout=60s", "crd", *names)
    yield PolicyEngine([CRDValidator.from_crd(v.QUADRATIC), CRDValidator.from_crd(v.MANY)])
    for name in names:
        admin.call("DELETE", f"{CRDS}/{name}")


def _server(admin: Api, obj: dict[str, Any], namespace: str) -> Outcome:
    plural = {"Quadratic": "quadratics", "Manie": "manies"}[obj["kind"]]
    obj = {**obj, "metadata": {**obj["metadata"], "namespace": namespace}}
    path = f"/apis/{v.GROUP}/v1/namespaces/{namespace}/{plural}"
    return outcome_of(admin.call("POST", path, obj, DRY_RUN))


OBJECTS = {
    "quadratic-200": (v.QUADRATIC, v.distinct(200)),
    "quadratic-800": (v.QUADRATIC, v.distinct(800)),
    "quadratic-failing": (v.QUADRATIC, ["a", "b"]),
    "many-short": (v.MANY, v.long_strings(1000, 2)),
    "many-long": (v.MANY, v.long_strings(1000)),
    "many-failing": (v.MANY, ["a", "z7"]),
}


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_large_lists_under_all_and_exists_get_the_same_verdict(
    admin: Api, metered: PolicyEngine, namespace: str, name: str
) -> None:
    kind_crd, values = OBJECTS[name]
    obj = v.widget(kind_crd, values)
    theirs = _server(admin, obj, namespace)
    ours = engine_verdict(metered, obj, None, namespace, webhook=False)
    assert ours == theirs, (ours.show(), theirs.show())
