"""The pure review step: envelope checks, denial shape, mutation, bounded labels."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from shared.policy.engine import EngineConfig, PolicyEngine
from webhook.review import ReviewError, errored, parse_request, review


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine.from_dir(None, EngineConfig(default_worker_pool="pool-a"))


def _review(obj: dict[str, Any] | None, operation: str = "CREATE", **req: Any) -> dict[str, Any]:
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {"uid": "u-1", "operation": operation, "object": obj, **req},
    }


def _harness(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "AgentHarness",
        "metadata": {"name": "h"},
        "spec": {
            "backend": "openclaw",
            "runtime": "substrate",
            "substrate": {"gatewayTokenSecretRef": {"name": "g"}},
            **spec,
        },
    }


def test_allowed_echoes_uid_and_api_version(engine: PolicyEngine) -> None:
    data = _review(_harness())
    data["apiVersion"] = "admission.k8s.io/v1beta1"
    out = review(engine, data, mutate=False)
    assert out.body == {
        "apiVersion": "admission.k8s.io/v1beta1",
        "kind": "AdmissionReview",
        "response": {"uid": "u-1", "allowed": True},
    }
    assert (out.kind, out.operation, out.allowed) == ("AgentHarness", "CREATE", True)


def test_denial_is_apiserver_shaped(engine: PolicyEngine) -> None:
    out = review(engine, _review(_harness(backend="hermes")), mutate=False)
    status = out.body["response"]["status"]
    assert out.allowed is False
    assert status["code"] == 422 and status["reason"] == "Invalid"
    assert status["details"]["kind"] == "AgentHarness"
    assert status["details"]["group"] == "kagent.dev"
    cause = status["details"]["causes"][0]
    assert cause["reason"].startswith("FieldValue")
    assert cause["field"] and not cause["message"].startswith(cause["field"])


def test_mutation_uses_request_namespace(engine: PolicyEngine) -> None:
    out = review(engine, _review(_harness(), namespace="team-b"), mutate=True)
    ops = json.loads(base64.b64decode(out.body["response"]["patch"]))
    assert out.body["response"]["patchType"] == "JSONPatch"
    assert ops[0]["value"] == {"location": "gs://ate-snapshots/team-b/h"}
    assert ops[1] == {
        "op": "add",
        "path": "/spec/substrate/workerPoolRef",
        "value": {"name": "pool-a"},
    }
    assert "warnings" not in out.body["response"]


def test_kind_from_request_when_object_lacks_it(engine: PolicyEngine) -> None:
    obj = _harness(backend="hermes")
    del obj["apiVersion"], obj["kind"]
    data = _review(obj, kind={"group": "kagent.dev", "version": "v1alpha2", "kind": "AgentHarness"})
    assert review(engine, data, mutate=False).allowed is False


def test_unknown_kind_is_bounded_label(engine: PolicyEngine) -> None:
    out = review(engine, _review({"apiVersion": "v1", "kind": "Secret"}), mutate=False)
    assert out.kind == "other" and out.allowed
    assert out.body["response"]["warnings"]


def test_delete_without_object(engine: PolicyEngine) -> None:
    out = review(engine, _review(None, "DELETE", oldObject=_harness()), mutate=False)
    assert out.body["response"] == {"uid": "u-1", "allowed": True}


@pytest.mark.parametrize(
    "data",
    [None, [], {"kind": "AdmissionReview"}, _review(None), _review(_harness(), "GET")],
)
def test_bad_envelopes_raise(data: Any) -> None:
    with pytest.raises(ReviewError):
        parse_request(data)


def test_errored_keeps_uid() -> None:
    doc = errored(_review(_harness()), 504, "late")
    assert doc["response"]["uid"] == "u-1"
    assert doc["response"]["status"]["code"] == 504
    assert errored(None, 500, "x")["response"]["uid"] == ""
