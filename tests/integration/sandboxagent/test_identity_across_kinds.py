"""AgentHarness and SandboxAgent never share a template, and deleting one never touches the
other's actors (issue 15 item 3, SPEC principle 4), on the local stack."""

from __future__ import annotations

from typing import Any

from shared.api.keys import ObjectKey
from shared.ateapi import errors as ate
from shared.kube import errors as kerr
from shared.kube.resources import ACTOR_TEMPLATE, AGENT_HARNESS, SANDBOX_AGENT
from shared.naming import harness_template_name
from tests.integration.controller.conftest import Stack, eventually
from tests.integration.controller.test_harness_reconcile import converge, harness, reconciler
from tests.integration.sandboxagent.conftest import Harness, condition, sandbox_agent

NS = "team-a"


def _ready(obj: dict[str, Any] | None) -> bool:
    return condition(obj, "Ready").get("status") == "True"


async def _golden(stack: Stack, template: str) -> str:
    async def read() -> str:
        tpl = await stack.kube.get(ACTOR_TEMPLATE, template, NS)
        return str((tpl.get("status") or {}).get("goldenActorID") or "")

    return str(await eventually(read, bool, 20))


async def _exists(stack: Stack, actor_id: str) -> bool:
    try:
        await stack.ate.get_actor(actor_id)
    except ate.NotFound:
        return False
    return True


async def _delete_harness(stack: Stack, name: str) -> None:
    rec, probe = reconciler(stack)
    try:
        await stack.kube.delete(AGENT_HARNESS, name, NS)
        await converge(rec, stack, ObjectKey(NS, name), lambda o: o is None)
    finally:
        await probe.close()


async def test_harness_asr_x_and_sandboxagent_x_get_their_own_templates(
    stack: Stack, sa: Harness
) -> None:
    rec, probe = reconciler(stack)
    try:
        await stack.kube.create(AGENT_HARNESS, harness("asr-helper"))
        hobj = await converge(rec, stack, ObjectKey(NS, "asr-helper"), _ready)
    finally:
        await probe.close()
    await stack.kube.create(SANDBOX_AGENT, sandbox_agent("helper"))
    sobj = await sa.ready("helper")
    htpl = harness_template_name(NS, "asr-helper")
    assert htpl != "asr-helper"
    owners = {
        (await stack.kube.get(ACTOR_TEMPLATE, t, NS))["metadata"]["ownerReferences"][0]["uid"]
        for t in (htpl, "asr-helper")
    }
    assert owners == {hobj["metadata"]["uid"], sobj["metadata"]["uid"]}
    actor, golden = hobj["status"]["backendRef"]["id"], await _golden(stack, htpl)

    # Deleting the SandboxAgent leaves the harness's actor and golden actor alone.
    await stack.kube.delete(SANDBOX_AGENT, "helper", NS)
    await sa.converge("helper", lambda o: o is None)
    assert await _exists(stack, actor)
    assert await _exists(stack, golden)
    await stack.kube.get(ACTOR_TEMPLATE, htpl, NS)


async def test_golden_annotation_naming_another_kinds_actor_is_not_deleted(
    stack: Stack, sa: Harness
) -> None:
    await stack.kube.create(SANDBOX_AGENT, sandbox_agent("helper"))
    await sa.ready("helper")
    golden = await _golden(stack, "asr-helper")
    obj = harness("asr-helper")
    obj["metadata"]["annotations"] = {"kagent.dev/golden-actor-id": golden}
    await stack.kube.create(AGENT_HARNESS, obj)
    rec, probe = reconciler(stack)
    try:
        await converge(rec, stack, ObjectKey(NS, "asr-helper"), _ready)
    finally:
        await probe.close()
    await _delete_harness(stack, "asr-helper")
    assert await _exists(stack, golden)
    with_template = await stack.kube.get(ACTOR_TEMPLATE, "asr-helper", NS)
    assert with_template["metadata"]["ownerReferences"][0]["name"] == "helper"
    agent = await sa.get("helper")
    assert agent is not None and _ready(agent)


async def test_deleting_an_object_whose_template_is_anothers_touches_nothing(
    stack: Stack, sa: Harness
) -> None:
    """Defence in depth: even if a template name were shared, deletion proves ownership first."""
    await stack.kube.create(SANDBOX_AGENT, sandbox_agent("helper"))
    await sa.ready("helper")
    golden = await _golden(stack, "asr-helper")
    other = await stack.kube.create(AGENT_HARNESS, harness("other"))
    # As if a harness's template were named asr-helper: hand the template to that harness.
    tpl = await stack.kube.get(ACTOR_TEMPLATE, "asr-helper", NS)
    ref = tpl["metadata"]["ownerReferences"][0]
    ref.update(kind="AgentHarness", name="other", uid=other["metadata"]["uid"])
    await stack.kube.replace(ACTOR_TEMPLATE, tpl, NS)
    await stack.kube.delete(SANDBOX_AGENT, "helper", NS)
    await sa.converge("helper", lambda o: o is None)
    assert await _exists(stack, golden)
    try:
        await stack.kube.get(ACTOR_TEMPLATE, "asr-helper", NS)
    except kerr.NotFound as exc:  # pragma: no cover - the failure being tested
        raise AssertionError("another object's template was deleted") from exc
