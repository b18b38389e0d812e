"""The AgentHarness reconciler against the in-process stand-ins (real TLS gRPC, real HTTPS API)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from controller.config import ControllerConfig
from controller.harness.reconcile import FINALIZER, HarnessDeps, HarnessReconciler
from controller.substrate.defaults import SubstrateDefaults
from controller.substrate.router_probe import RouterProbe
from shared.api.keys import ObjectKey
from shared.ateapi import errors as ate
from shared.ateapi.convert import ActorStatus
from shared.errors import TerminalError
from shared.kube import errors as kerr
from shared.kube.resources import ACTOR_TEMPLATE, AGENT_HARNESS, SECRET
from tests.integration.controller.conftest import Stack, eventually, local_stack

CONFIG = ControllerConfig(not_ready_requeue=0.05, no_free_workers_requeue=0.05)


def harness(name: str = "claw", **substrate: Any) -> dict[str, Any]:
    sub = {"workerPoolRef": {"name": "pool"}, "gatewayTokenSecretRef": {"name": "gw"}}
    sub.update(substrate)
    return {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "AgentHarness",
        "metadata": {"name": name, "namespace": "team-a"},
        "spec": {"backend": "openclaw", "runtime": "substrate", "substrate": sub},
    }


def reconciler(
    stack: Stack, config: ControllerConfig = CONFIG
) -> tuple[HarnessReconciler, RouterProbe]:
    probe = RouterProbe(stack.ends.router, timeout=2)
    deps = HarnessDeps(
        kube=stack.kube, ate=stack.ate, probe=probe, events=stack.record, config=config
    )
    return HarnessReconciler(deps), probe


async def converge(
    rec: HarnessReconciler, stack: Stack, key: ObjectKey, ok: Any, timeout: float = 20
) -> dict[str, Any]:
    async def step() -> Any:
        with contextlib.suppress(TerminalError):  # a pass like any other (the workers' view)
            await rec(key)
        try:
            return await stack.kube.get(AGENT_HARNESS, key.name, key.namespace)
        except kerr.NotFound:
            return None

    return await eventually(step, ok, timeout)


def condition(obj: dict[str, Any] | None, ctype: str) -> dict[str, Any]:
    return next(
        (c for c in ((obj or {}).get("status") or {}).get("conditions", []) if c["type"] == ctype),
        {},
    )


async def test_apply_ready_steady_state_and_delete(stack: Stack) -> None:
    rec, probe = reconciler(stack)
    key = ObjectKey("team-a", "claw")
    await stack.kube.create(AGENT_HARNESS, harness())
    try:
        obj = await converge(
            rec, stack, key, lambda o: condition(o, "Ready").get("status") == "True"
        )
        status = obj["status"]
        assert status["backendRef"] == {"backend": "openclaw", "id": "ahr-team-a-claw"}
        assert status["connection"]["endpoint"].startswith(
            "atenet-router Host ahr-team-a-claw.actors"
        )
        assert status["observedGeneration"] == obj["metadata"]["generation"]
        assert FINALIZER in obj["metadata"]["finalizers"]
        assert {c["type"] for c in status["conditions"]} == {
            "Accepted",
            "ActorTemplateReady",
            "ActorReady",
            "BootstrapReady",
            "Ready",
        }
        template = await stack.kube.get(ACTOR_TEMPLATE, "claw", "team-a")
        assert template["metadata"]["ownerReferences"][0]["uid"] == obj["metadata"]["uid"]
        assert "s3cret-gw" not in json.dumps(template)
        env = template["spec"]["containers"][0]["env"]
        assert {
            "name": "KAGENT_GATEWAY_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": "gw", "key": "token"}},
        } in env
        actor = await stack.ate.get_actor("ahr-team-a-claw")
        assert actor.status_label == "Running"
        # One Normal event when Ready turns True (what `kubectl describe` shows), not per pass.
        assert [(t, r) for t, r, _ in stack.events] == [("Normal", "Ready")]

        # Steady state: another pass writes nothing.
        before = (obj["metadata"]["resourceVersion"], template["metadata"]["resourceVersion"])
        await rec(key)
        again = await stack.kube.get(AGENT_HARNESS, "claw", "team-a")
        template = await stack.kube.get(ACTOR_TEMPLATE, "claw", "team-a")
        assert (
            again["metadata"]["resourceVersion"],
            template["metadata"]["resourceVersion"],
        ) == before
        assert len(stack.events) == 1
        golden = template["status"]["goldenActorID"]

        await stack.kube.delete(AGENT_HARNESS, "claw", "team-a")
        await converge(rec, stack, key, lambda o: o is None)
        for actor_id in ("ahr-team-a-claw", golden):
            with pytest.raises(ate.NotFound):
                await stack.ate.get_actor(actor_id)
        with pytest.raises(kerr.NotFound):
            await stack.kube.get(ACTOR_TEMPLATE, "claw", "team-a")
    finally:
        await probe.close()


async def test_inline_token_goes_to_an_owned_secret_never_the_template(stack: Stack) -> None:
    rec, probe = reconciler(stack)
    body = harness("inline")
    body["spec"]["substrate"] = {
        "workerPoolRef": {"name": "pool"},
        "gatewayToken": "inline-canary-123",
    }
    await stack.kube.create(AGENT_HARNESS, body)
    try:
        await converge(
            rec,
            stack,
            ObjectKey("team-a", "inline"),
            lambda o: condition(o, "Ready").get("status") == "True",
        )
        template = await stack.kube.get(ACTOR_TEMPLATE, "inline", "team-a")
        assert "inline-canary-123" not in json.dumps(template)
        owned = await stack.kube.get(SECRET, "inline-substrate-credentials", "team-a")
        assert owned["metadata"]["ownerReferences"][0]["kind"] == "AgentHarness"
    finally:
        await probe.close()


async def test_missing_pool_and_secret_are_reported_then_recover(stack: Stack) -> None:
    rec, probe = reconciler(stack)
    key = ObjectKey("team-a", "nopool")
    await stack.kube.create(AGENT_HARNESS, harness("nopool", workerPoolRef={"name": "missing"}))
    try:
        obj = await converge(
            rec,
            stack,
            key,
            lambda o: condition(o, "Accepted").get("reason") == "SubstrateLifecycleFailed",
        )
        assert condition(obj, "Accepted")["message"] == "get WorkerPool team-a/missing: not found"
        assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
    finally:
        await probe.close()


async def test_template_failed_is_surfaced(stack: Stack) -> None:
    config = dataclasses.replace(CONFIG, defaults=SubstrateDefaults(runsc_amd64_sha256="abc123"))
    rec, probe = reconciler(stack, config)
    await stack.kube.create(AGENT_HARNESS, harness("failing"))
    try:
        obj = await converge(
            rec,
            stack,
            ObjectKey("team-a", "failing"),
            lambda o: condition(o, "Ready").get("reason") == "TemplateFailed",
        )
        assert condition(obj, "Ready")["status"] == "False" and condition(obj, "Ready")["message"]
    finally:
        await probe.close()


async def test_no_free_workers_then_ready_when_a_worker_frees(stack: Stack) -> None:
    """w1's actor is suspended and its worker taken: resuming it reports NoFreeWorkers."""
    rec, probe = reconciler(stack)
    ready = lambda o: condition(o, "Ready").get("status") == "True"  # noqa: E731
    try:
        for n in ("w1", "w2"):
            await stack.kube.create(AGENT_HARNESS, harness(n))
            await converge(rec, stack, ObjectKey("team-a", n), ready)
        await stack.ate.suspend_actor("ahr-team-a-w1")
        await stack.kube.create(AGENT_HARNESS, harness("w3"))
        await converge(rec, stack, ObjectKey("team-a", "w3"), ready)
        w1 = await converge(
            rec,
            stack,
            ObjectKey("team-a", "w1"),
            lambda o: condition(o, "Ready").get("reason") == "NoFreeWorkers",
        )
        assert condition(w1, "ActorReady")["reason"] == "NoFreeWorkers"
        await stack.kube.delete(AGENT_HARNESS, "w3", "team-a")
        await converge(rec, stack, ObjectKey("team-a", "w3"), lambda o: o is None)
        await converge(rec, stack, ObjectKey("team-a", "w1"), ready)
    finally:
        await probe.close()


async def test_skip_cleanup_annotation_releases_without_deleting_actors(stack: Stack) -> None:
    rec, probe = reconciler(stack)
    key = ObjectKey("team-a", "keep")
    await stack.kube.create(AGENT_HARNESS, harness("keep"))
    try:
        await converge(rec, stack, key, lambda o: condition(o, "Ready").get("status") == "True")
        await stack.kube.patch(
            AGENT_HARNESS,
            "keep",
            {"metadata": {"annotations": {"kagent.dev/skip-substrate-cleanup": "true"}}},
            "team-a",
        )
        await stack.kube.delete(AGENT_HARNESS, "keep", "team-a")
        await converge(rec, stack, key, lambda o: o is None)
        assert (await stack.ate.get_actor("ahr-team-a-keep")).actor_id == "ahr-team-a-keep"
        assert any(reason == "CleanupSkipped" for _, reason, _ in stack.events)
    finally:
        await probe.close()


async def test_ate_api_down_is_reported_and_recovers(stack: Stack) -> None:
    """ate-api unreachable: SubstrateUnavailable (no crash), then Ready once it is back."""
    from shared.ateapi import AteApiClient, AteApiConfig, RetryPolicy

    dead = AteApiClient(
        AteApiConfig(
            endpoint="127.0.0.1:1",
            ca_file=None,
            dial_timeout=0.5,
            call_timeout=0.5,
            retry=RetryPolicy(max_attempts=1),
        )
    )
    probe = RouterProbe(stack.ends.router, timeout=2)
    down = HarnessReconciler(
        HarnessDeps(kube=stack.kube, ate=dead, probe=probe, events=stack.record, config=CONFIG)
    )
    key = ObjectKey("team-a", "outage")
    await stack.kube.create(AGENT_HARNESS, harness("outage"))
    try:
        obj = await converge(
            down,
            stack,
            key,
            lambda o: condition(o, "Ready").get("reason") == "SubstrateUnavailable",
        )
        assert condition(obj, "ActorTemplateReady")["status"] == "True"
        rec, probe2 = reconciler(stack)
        await converge(rec, stack, key, lambda o: condition(o, "Ready").get("status") == "True")
        await probe2.close()
    finally:
        await dead.close()
        await probe.close()


async def test_delete_before_ready_suspends_the_booting_golden_actor_before_its_template(
    tmp_path: Path,
) -> None:
    """A harness deleted while its template's golden actor is still warming up (RUNNING):
    the golden actor is suspended while the ActorTemplate exists (ate-api's SuspendActor needs
    it), then the template and the actor go, and the harness with them."""
    async with local_stack(tmp_path, golden_warmup=120) as stack:
        rec, probe = reconciler(stack)
        key = ObjectKey("team-a", "claw")
        await stack.kube.create(AGENT_HARNESS, harness())
        try:

            async def golden_actor() -> Any:
                with contextlib.suppress(TerminalError):
                    await rec(key)
                try:
                    template = await stack.kube.get(ACTOR_TEMPLATE, "claw", "team-a")
                    golden = str((template.get("status") or {}).get("goldenActorID") or "")
                    return await stack.ate.get_actor(golden) if golden else None
                except (kerr.NotFound, ate.NotFound):
                    return None

            actor = await eventually(
                golden_actor, lambda a: a is not None and a.status == ActorStatus.RUNNING
            )
            await stack.kube.delete(AGENT_HARNESS, "claw", "team-a")
            await converge(rec, stack, key, lambda o: o is None, timeout=30)
            with pytest.raises(ate.NotFound):
                await stack.ate.get_actor(actor.actor_id)
            with pytest.raises(kerr.NotFound):
                await stack.kube.get(ACTOR_TEMPLATE, "claw", "team-a")
        finally:
            await probe.close()
