"""Typed outcomes of an AgentHarness pass (issue 18 item 3, issue 20's events): a spec or a
reference the user must fix is terminal (condition + Warning event naming the reference and the
fix, no timed requeue); a reference the controller may not read is a wait (resync)."""

from __future__ import annotations

from typing import Any

import pytest

from controller.harness.reconcile import HarnessDeps, HarnessReconciler
from controller.runtime.result import Result
from controller.substrate.router_probe import RouterProbe
from shared.api.keys import ObjectKey
from shared.errors import TerminalError
from shared.kube import errors as kerr
from shared.kube.resources import AGENT_HARNESS, SECRET, WORKER_POOL, Resource
from tests.integration.controller.conftest import Stack
from tests.integration.controller.test_harness_reconcile import CONFIG, condition, harness

CANARY = "canary-value-never-in-events"


def reconciler(stack: Stack, reader: Any = None) -> tuple[HarnessReconciler, RouterProbe]:
    probe = RouterProbe(stack.ends.router, timeout=2)
    deps = HarnessDeps(
        kube=stack.kube,
        ate=stack.ate,
        probe=probe,
        events=stack.record,
        config=CONFIG,
        reader=reader,
    )
    return HarnessReconciler(deps), probe


async def refused(stack: Stack, obj: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """Create ``obj``, run one pass (it must end terminal); the Warning event and the object."""
    rec, probe = reconciler(stack)
    name = obj["metadata"]["name"]
    await stack.kube.create(AGENT_HARNESS, obj)
    try:
        with pytest.raises(TerminalError):
            await rec(ObjectKey("team-a", name))
    finally:
        await probe.close()
    warnings = [(reason, note) for type_, reason, note in stack.events if type_ == "Warning"]
    assert len(warnings) == 1, warnings
    return warnings[0][0], warnings[0][1], await stack.kube.get(AGENT_HARNESS, name, "team-a")


async def test_missing_worker_pool_is_terminal_with_an_event_and_recovers(stack: Stack) -> None:
    obj = harness("nopool", workerPoolRef={"name": "later"})
    reason, note, live = await refused(stack, obj)
    assert reason == "WorkerPoolNotFound"
    assert note == (
        "get WorkerPool team-a/later: not found: create WorkerPool team-a/later or change "
        "spec.substrate.workerPoolRef (or the controller's default WorkerPool)"
    )
    assert condition(live, "Accepted")["message"] == "get WorkerPool team-a/later: not found"
    # The fix (the WorkerPool appears) lets the next pass proceed: the watch on WorkerPools
    # enqueues it (tests/e2e/controller); here the pass is run by hand.
    await stack.kube.create(
        WORKER_POOL,
        {
            "apiVersion": "ate.dev/v1alpha1",
            "kind": "WorkerPool",
            "metadata": {"name": "later", "namespace": "team-a"},
            "spec": {"replicas": 1, "ateomImage": "ateom@sha256:" + "1" * 64},
        },
    )
    rec, probe = reconciler(stack)
    try:
        result = await rec(ObjectKey("team-a", "nopool"))
    finally:
        await probe.close()
    assert isinstance(result, Result)


async def test_missing_gateway_secret_names_the_reference_and_the_field(stack: Stack) -> None:
    reason, note, live = await refused(
        stack, harness("nogw", gatewayTokenSecretRef={"name": "absent"})
    )
    assert reason == "SecretNotFound"
    assert note == (
        "gateway token secret team-a/absent not found: create Secret team-a/absent or change "
        "spec.substrate.gatewayTokenSecretRef"
    )
    assert condition(live, "Ready")["reason"] == "SubstrateLifecycleFailed"


async def test_gateway_secret_without_the_key_never_shows_its_data(stack: Stack) -> None:
    await stack.kube.create(
        SECRET,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "wrongkey", "namespace": "team-a"},
            "stringData": {"tokn": CANARY},
        },
    )
    reason, note, live = await refused(
        stack, harness("wrongkey", gatewayTokenSecretRef={"name": "wrongkey"})
    )
    assert reason == "SecretKeyMissing"
    assert note == (
        'gateway token secret team-a/wrongkey missing key "token": put a non-empty "token" in '
        "Secret team-a/wrongkey"
    )
    assert CANARY not in str(live) and all(CANARY not in n for _, _, n in stack.events)


async def test_missing_model_config_is_reported(stack: Stack) -> None:
    obj = harness("nomodel")
    obj["spec"]["modelConfigRef"] = "gone"
    reason, note, _ = await refused(stack, obj)
    assert reason == "ModelConfigNotFound"
    assert note.endswith("create ModelConfig team-a/gone or change spec.modelConfigRef")


class ForbiddenSecrets:
    """A reader the API refuses Secrets to (RBAC), everything else read live."""

    def __init__(self, stack: Stack) -> None:
        self.kube = stack.kube

    async def get(self, res: Resource, name: str, namespace: str | None = None) -> Any:
        if res is SECRET:
            raise kerr.Forbidden(f"secrets {name} is forbidden", status=403)
        return await self.kube.get(res, name, namespace)


async def test_an_unreadable_reference_waits_for_the_resync(stack: Stack) -> None:
    rec, probe = reconciler(stack, ForbiddenSecrets(stack))
    await stack.kube.create(AGENT_HARNESS, harness("rbac"))
    try:
        result = await rec(ObjectKey("team-a", "rbac"))
    finally:
        await probe.close()
    assert result == Result(requeue_after=CONFIG.resync_period)
    [(type_, reason, note)] = stack.events
    assert (type_, reason) == ("Warning", "SecretUnreadable")
    assert "gateway token secret team-a/gw cannot be read" in note
    assert "grant the controller's ServiceAccount get, list and watch on secrets" in note
