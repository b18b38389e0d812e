"""Crashes found by `test_fuzz.py`, pinned as plain tests."""

from __future__ import annotations

import pytest

from shared.policy.engine import EngineConfig, PolicyEngine
from webhook.review import review


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine.from_dir(None, EngineConfig(default_namespace="default"))


@pytest.mark.parametrize("metadata", ["0", 5, True, ["a"]])
def test_non_object_metadata_on_a_substrate_harness_is_a_denial_not_a_crash(
    engine: PolicyEngine, metadata: object
) -> None:
    # Found by the near-miss fuzzer: the pinning mutation read metadata.name with .get().
    obj = {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "AgentHarness",
        "metadata": metadata,
        "spec": {"backend": "openclaw", "runtime": "substrate", "substrate": {"gatewayToken": "t"}},
    }
    verdict = engine.admit(obj, old=None, operation="CREATE", namespace="team-a")
    assert not verdict.allowed
    assert any(v.path == "metadata" for v in verdict.violations)
    envelope = {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {"uid": "u-1", "operation": "CREATE", "namespace": "team-a", "object": obj},
    }
    answer = review(engine, envelope, mutate=True).body
    assert answer["response"] == {"uid": "u-1", "allowed": True}
