"""The engine on our CRDs: operations, kinds, mutation (idempotent), secrets never quoted."""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import pytest

from shared.policy.engine import EngineConfig, PolicyEngine

DIGEST = "ghcr.io/kagent-dev/nemoclaw/sandbox-base@sha256:" + "d" * 64


def harness(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "backend": "openclaw",
        "runtime": "substrate",
        "substrate": {"gatewayTokenSecretRef": {"name": "tok"}, "workloadImage": DIGEST},
    }
    base.update(spec)
    return {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "AgentHarness",
        "metadata": {"name": "claw", "namespace": "team-a"},
        "spec": base,
    }


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine.from_dir(config=EngineConfig(default_worker_pool="pool-a"))


def test_valid_harness_is_allowed_and_input_untouched(engine: PolicyEngine) -> None:
    obj = harness()
    before = copy.deepcopy(obj)
    verdict = engine.admit(obj)
    assert verdict.allowed and verdict.violations == ()
    assert obj == before


def test_mutation_pins_snapshots_and_pool_and_is_idempotent(engine: PolicyEngine) -> None:
    obj = harness()
    verdict = engine.admit(obj)
    assert list(verdict.patch) == [
        {
            "op": "add",
            "path": "/spec/substrate/snapshotsConfig",
            "value": {"location": "gs://ate-snapshots/team-a/claw"},
        },
        {"op": "add", "path": "/spec/substrate/workerPoolRef", "value": {"name": "pool-a"}},
    ]
    patched = jsonpatch.apply_patch(obj, list(verdict.patch))
    assert engine.admit(patched).patch == ()


def test_no_mutation_off_substrate(engine: PolicyEngine) -> None:
    obj = harness(runtime="openshell")
    del obj["spec"]["substrate"]
    verdict = engine.admit(obj)
    assert verdict.allowed and verdict.patch == ()


def test_runtime_and_backend_are_immutable_on_update(engine: PolicyEngine) -> None:
    old = harness()
    new = harness(backend="nemoclaw")
    verdict = engine.admit(new, old=old, operation="UPDATE")
    assert not verdict.allowed
    assert [v.path for v in verdict.violations] == ["spec.backend"]
    assert "delete and recreate" in verdict.violations[0].message
    assert engine.admit(new).allowed  # the same object is fine on CREATE


def test_delete_and_connect_do_no_work(engine: PolicyEngine) -> None:
    assert engine.admit({"garbage": True}, operation="DELETE").allowed


def test_other_kinds_are_skipped_with_a_warning(engine: PolicyEngine) -> None:
    verdict = engine.admit({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}})
    assert verdict.allowed and verdict.skipped and "not governed" in verdict.warnings[0]


def test_unserved_version_is_denied(engine: PolicyEngine) -> None:
    obj = harness()
    obj["apiVersion"] = "kagent.dev/v1alpha1"
    verdict = engine.admit(obj)
    assert not verdict.allowed and verdict.violations[0].path == "apiVersion"


def test_status_is_ignored_on_create(engine: PolicyEngine) -> None:
    obj = harness()
    obj["status"] = {"conditions": "not even a list"}
    assert engine.admit(obj).allowed


def test_inline_secrets_are_never_quoted(engine: PolicyEngine) -> None:
    canary = "canary-7f3a9c-token"
    obj = harness(
        channels=[
            {
                "name": "tg",
                "type": "telegram",
                "telegram": {
                    "botToken": {
                        "value": canary,
                        "valueFrom": {"type": "ConfigMap", "name": "c", "key": "k"},
                    }
                },
            }
        ]
    )
    obj["spec"]["substrate"] = {"gatewayToken": canary, "gatewayTokenSecretRef": {"name": "t"}}
    verdict = engine.admit(obj)
    assert not verdict.allowed
    text = " ".join([v.message for v in verdict.violations] + list(verdict.warnings))
    assert canary not in text


def test_channel_env_collision_w2(engine: PolicyEngine) -> None:
    secret = {"valueFrom": {"type": "Secret", "name": "s", "key": "k"}}
    channels = [
        {"name": n, "type": "telegram", "telegram": {"botToken": secret}} for n in ("tg-1", "tg_1")
    ]
    verdict = engine.admit(harness(channels=channels))
    assert [v.rule for v in verdict.violations] == ["webhook:W2"]
    assert verdict.violations[0].path == "spec.channels[1].name"


def test_model_config_in_own_namespace_is_fine_w4(engine: PolicyEngine) -> None:
    assert engine.admit(harness(modelConfigRef="team-a/model")).allowed
    assert not engine.admit(harness(modelConfigRef="other/model")).allowed


def test_sandboxagent_substrate_mutation(engine: PolicyEngine) -> None:
    obj = {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "SandboxAgent",
        "metadata": {"name": "helper", "namespace": "team-a"},
        "spec": {
            "platform": "substrate",
            "type": "Declarative",
            "declarative": {"systemMessage": "hi"},
            "substrate": {},
        },
    }
    verdict = engine.admit(obj)
    assert verdict.allowed, verdict.violations
    assert verdict.patch[0]["value"] == {"location": "gs://ate-snapshots/team-a/helper"}


@pytest.mark.parametrize(
    ("pool", "pinned"), [("team-a/pool-b", True), ("other/pool-b", False), ("pool-b", True)]
)
def test_default_pool_is_pinned_only_in_its_namespace(pool: str, pinned: bool) -> None:
    engine = PolicyEngine.from_dir(config=EngineConfig(default_worker_pool=pool))
    paths = [op["path"] for op in engine.admit(harness()).patch]
    assert ("/spec/substrate/workerPoolRef" in paths) is pinned
