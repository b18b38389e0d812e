"""Agents the controller refuses to build, with a condition naming the fix (and no objects)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from controller.sandboxagent import template as tpl
from shared.kube import errors as kerr
from shared.kube.resources import ACTOR_TEMPLATE, SANDBOX_AGENT, SECRET
from tests.integration.controller.conftest import Stack
from tests.integration.sandboxagent.conftest import CONFIG, Harness, condition, sandbox_agent


async def absent(stack: Stack, res: Any, name: str) -> bool:
    try:
        await stack.kube.get(res, name, "team-a")
    except kerr.NotFound:
        return True
    return False


async def test_no_runtime_image_configured_names_the_flag(stack: Stack, sa: Harness) -> None:
    unset = Harness(stack, dataclasses.replace(CONFIG, sandbox_runtime_image=""))
    try:
        await stack.kube.create(SANDBOX_AGENT, sandbox_agent("noimage"))
        obj = await unset.converge(
            "noimage", lambda o: condition(o, "Accepted").get("reason") == "ReconcileFailed"
        )
    finally:
        await unset.probe.close()
    message = condition(obj, "Accepted")["message"]
    assert message == tpl.RUNTIME_IMAGE_MISSING
    assert "--sandbox-runtime-image" in message and "controller.sandboxRuntimeImage" in message
    assert condition(obj, "Ready")["status"] == "False"
    assert await absent(stack, ACTOR_TEMPLATE, "asr-noimage")
    assert await absent(stack, SECRET, "noimage")


async def test_pod_template_without_kagent_container_is_refused(
    stack: Stack, sa: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = tpl.workload_pod

    def without_agent(agent: dict[str, Any], **kw: Any) -> dict[str, Any]:
        pod = built(agent, **kw)
        return {"containers": [c for c in pod["containers"] if c["name"] != "kagent"]}

    monkeypatch.setattr(tpl, "workload_pod", without_agent)
    agent = sandbox_agent("nocontainer")
    agent["spec"]["declarative"]["deployment"] = {
        "extraContainers": [{"name": "proxy", "image": "proxy@sha256:" + "1" * 64}]
    }
    await stack.kube.create(SANDBOX_AGENT, agent)
    obj = await sa.converge(
        "nocontainer", lambda o: condition(o, "Accepted").get("reason") == "ReconcileFailed"
    )
    message = condition(obj, "Accepted")["message"]
    assert message == (
        "failed to build manifest for sandboxagent team-a/nocontainer: build sandbox workload: "
        + tpl.MISSING_CONTAINER
    )
    assert ("Warning", "MissingAgentContainer", message) in stack.events
    assert await absent(stack, ACTOR_TEMPLATE, "asr-nocontainer")
