"""SandboxAgent reconcile against the in-process stand-ins: Ready, objects, conditions, deletion."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from controller.sandboxagent.reconcile import FINALIZER
from controller.sandboxagent.template import CONTAINER_NAME
from controller.substrate.metrics import ObjectMetrics
from shared.api.keys import ObjectKey
from shared.ateapi.convert import ActorStatus
from shared.kube import errors as kerr
from shared.kube.resources import ACTOR_TEMPLATE, SANDBOX_AGENT, SECRET, WORKER_POOL
from shared.naming import sandbox_agent_prefix, sandbox_session_actor_id
from tests.integration.controller.conftest import Stack, eventually
from tests.integration.sandboxagent.conftest import Harness, condition, decoded, sandbox_agent

TEMPLATE = ("team-a", "asr-helper")


async def test_apply_ready_objects_and_steady_state(stack: Stack, sa: Harness) -> None:
    await stack.kube.create(SANDBOX_AGENT, sandbox_agent())
    obj = await sa.ready("helper")
    assert FINALIZER in obj["metadata"]["finalizers"]
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
    assert condition(obj, "Accepted") | {"lastTransitionTime": ""} == {
        "type": "Accepted",
        "status": "True",
        "reason": "Reconciled",
        "message": "SandboxAgent configuration accepted",
        "observedGeneration": obj["metadata"]["generation"],
        "lastTransitionTime": "",
    }
    assert condition(obj, "Ready")["reason"] == "WorkloadReady"
    assert not condition(obj, "UnsupportedFeatures")

    template = await stack.kube.get(ACTOR_TEMPLATE, "asr-helper", "team-a")
    (container,) = template["spec"]["containers"]
    assert container["name"] == CONTAINER_NAME
    assert container["command"] == ["/app", "--host", "0.0.0.0", "--port", "80"]
    assert "@sha256:" in container["image"]
    names = [e["name"] for e in container["env"]]
    assert names[:5] == [
        "KAGENT_NAME",
        "KAGENT_NAMESPACE",
        "KAGENT_CONFIG_JSON",
        "KAGENT_AGENT_CARD_JSON",
        "KAGENT_SRT_SETTINGS_JSON",
    ]
    api_key = next(e for e in container["env"] if e["name"] == "ANTHROPIC_API_KEY")
    assert api_key["valueFrom"]["secretKeyRef"] == {"name": "llm-key", "key": "key"}
    assert template["metadata"]["labels"]["kagent.dev/sandbox-agent"] == "helper"

    secret = await stack.kube.get(SECRET, "helper", "team-a")
    config = decoded(secret, "config.json")
    assert config["model"] == {
        "provider": "Anthropic",
        "model": "claude-sonnet-4-5",
        "apiKeyEnv": "ANTHROPIC_API_KEY",
        "baseUrl": "",
    }
    assert config["declarative"]["systemMessage"] == "Be brief."
    assert "sk-test" not in str(secret["data"])  # the key is referenced, never copied
    assert decoded(secret, "agent-card.json")["capabilities"]["streaming"] is True
    assert "srt-settings.json" not in secret["data"]

    # steady state: another pass writes nothing
    rv = {
        "agent": obj["metadata"]["resourceVersion"],
        "template": template["metadata"]["resourceVersion"],
        "secret": secret["metadata"]["resourceVersion"],
    }
    await sa.rec(ObjectKey("team-a", "helper"))
    again = await sa.get("helper")
    assert again is not None and again["metadata"]["resourceVersion"] == rv["agent"]
    t2 = await stack.kube.get(ACTOR_TEMPLATE, "asr-helper", "team-a")
    s2 = await stack.kube.get(SECRET, "helper", "team-a")
    assert t2["metadata"]["resourceVersion"] == rv["template"]
    assert s2["metadata"]["resourceVersion"] == rv["secret"]


async def test_template_not_ready_waits_for_the_template_watch_not_a_timer(
    stack: Stack, sa: Harness
) -> None:
    await stack.kube.create(SANDBOX_AGENT, sandbox_agent())
    # The first pass creates the template, which has no status yet.
    result = await sa.rec(ObjectKey("team-a", "helper"))
    assert condition(await sa.get("helper"), "Ready")["reason"] == "ActorTemplateNotReady"
    assert result.requeue_after is None


async def test_missing_pool_then_created_heals(stack: Stack, sa: Harness) -> None:
    agent = sandbox_agent("nopool")
    agent["spec"]["substrate"]["workerPoolRef"]["name"] = "later"
    await stack.kube.create(SANDBOX_AGENT, agent)
    obj = await sa.converge(
        "nopool", lambda o: condition(o, "Accepted").get("reason") == "ReconcileFailed"
    )
    assert "get WorkerPool team-a/later: not found" in condition(obj, "Accepted")["message"]
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
    await stack.kube.create(
        WORKER_POOL,
        {
            "apiVersion": "ate.dev/v1alpha1",
            "kind": "WorkerPool",
            "metadata": {"name": "later", "namespace": "team-a"},
            "spec": {"replicas": 1, "ateomImage": "registry/ateom@sha256:" + "a" * 64},
        },
    )
    await sa.ready("nopool")


async def test_code_execution_adds_srt_and_unsupported(stack: Stack, sa: Harness) -> None:
    agent = sandbox_agent("coder", executeCodeBlocks=True)
    agent["spec"]["sandbox"] = {"network": {"allowedDomains": ["pypi.org"]}}
    await stack.kube.create(SANDBOX_AGENT, agent)
    obj = await sa.ready("coder")
    assert condition(obj, "UnsupportedFeatures")["status"] == "True"
    secret = await stack.kube.get(SECRET, "coder", "team-a")
    assert decoded(secret, "srt-settings.json")["network"]["allowedDomains"] == ["pypi.org"]


async def test_foreign_secret_is_not_adopted(stack: Stack, sa: Harness) -> None:
    await stack.kube.create(
        SECRET,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "taken", "namespace": "team-a"},
            "stringData": {"x": "y"},
        },
    )
    await stack.kube.create(SANDBOX_AGENT, sandbox_agent("taken"))
    obj = await sa.converge(
        "taken", lambda o: condition(o, "Accepted").get("reason") == "ReconcileFailed"
    )
    assert "not owned by this SandboxAgent" in condition(obj, "Accepted")["message"]


async def _delete(stack: Stack, sa: Harness, name: str) -> None:
    await stack.kube.delete(SANDBOX_AGENT, name, "team-a")
    await sa.converge(name, lambda o: o is None, timeout=30)


async def test_delete_removes_sessions_by_template_including_hashed_never_foo_bar(
    stack: Stack, sa: Harness
) -> None:
    await stack.kube.create(SANDBOX_AGENT, sandbox_agent("foo"))
    await stack.kube.create(SANDBOX_AGENT, sandbox_agent("foo-bar"))
    await sa.ready("foo")
    await sa.ready("foo-bar")
    foo_t, foobar_t = ("team-a", "asr-foo"), ("team-a", "asr-foo-bar")
    # foo: a readable id, a hashed id (dots), a long id; foo-bar: "s1" whose id is foo's prefix + "-bar-s1"
    foo_ids = [sandbox_session_actor_id("team-a", "foo", sid) for sid in ("a1", "sess.1", "x" * 70)]
    assert foo_ids[1].startswith("asr-") and "foo" not in foo_ids[1]
    foobar_id = sandbox_session_actor_id("team-a", "foo-bar", "s1")
    assert foobar_id.startswith(sandbox_agent_prefix("team-a", "foo") + "-")
    for actor_id in foo_ids:
        await sa.sessions.ensure(actor_id, foo_t)
    await sa.sessions.ensure(foobar_id, foobar_t)
    await sa.sessions.suspend(foo_ids[0], foo_t)

    await _delete(stack, sa, "foo")
    left = {a.actor_id: a for a in await stack.ate.list_all_actors()}
    assert not [a for a in left.values() if a.template_name == "asr-foo"]
    assert left[foobar_id].status == ActorStatus.RUNNING  # untouched
    with pytest.raises(kerr.NotFound):
        await stack.kube.get(ACTOR_TEMPLATE, "asr-foo", "team-a")

    await _delete(stack, sa, "foo-bar")
    assert not [a for a in await stack.ate.list_all_actors() if a.template_namespace == "team-a"]


async def test_skip_cleanup_annotation_releases_finalizer(stack: Stack, sa: Harness) -> None:
    agent = sandbox_agent("keep")
    agent["metadata"]["annotations"] = {"kagent.dev/skip-substrate-cleanup": "true"}
    await stack.kube.create(SANDBOX_AGENT, agent)
    await sa.ready("keep")
    await _delete(stack, sa, "keep")
    assert any(e[1] == "CleanupSkipped" for e in stack.events)


async def test_concurrent_ensure_of_new_session_creates_one_actor(
    stack: Stack, sa: Harness
) -> None:
    await stack.kube.create(SANDBOX_AGENT, sandbox_agent())
    await sa.ready("helper")
    actor_id = sandbox_session_actor_id("team-a", "helper", "c1")
    results = await asyncio.gather(*(sa.sessions.ensure(actor_id, TEMPLATE) for _ in range(5)))
    assert {r.actor_id for r in results} == {actor_id}
    assert (await stack.ate.get_actor(actor_id)).status == ActorStatus.RUNNING
    assert await sa.sessions.delete(actor_id, TEMPLATE)
    await eventually(
        lambda: stack.ate.list_all_actors(),
        lambda actors: actor_id not in {a.actor_id for a in actors},
    )


async def test_time_to_ready_is_observed_once_per_turn_to_ready(stack: Stack, sa: Harness) -> None:
    registry = CollectorRegistry()
    timed = Harness(stack, metrics=ObjectMetrics(registry))
    count = "kagent_substrate_time_to_ready_seconds_count"
    kind = {"kind": "SandboxAgent"}
    try:
        await stack.kube.create(SANDBOX_AGENT, sandbox_agent())
        await timed.ready("helper")
        assert registry.get_sample_value(count, kind) == 1
        seconds = registry.get_sample_value("kagent_substrate_time_to_ready_seconds_sum", kind)
        assert seconds is not None and 0 <= seconds < 30
        assert [(t, r) for t, r, _ in stack.events] == [("Normal", "Ready")]
        await timed.rec(ObjectKey("team-a", "helper"))  # steady state: nothing new
        assert registry.get_sample_value(count, kind) == 1
        assert registry.get_sample_value(count, {"kind": "AgentHarness"}) is None
    finally:
        await timed.probe.close()
