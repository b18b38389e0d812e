"""Typed outcomes of a SandboxAgent pass (issue 18 item 3, issue 20's events): a missing
reference is terminal, with a Warning event naming the reference and the fix."""

from __future__ import annotations

from typing import Any

import pytest

from shared.api.keys import ObjectKey
from shared.errors import TerminalError
from shared.kube.resources import SANDBOX_AGENT, SECRET
from tests.integration.controller.conftest import Stack
from tests.integration.sandboxagent.conftest import Harness, condition, sandbox_agent


async def refused(stack: Stack, sa: Harness, agent: dict[str, Any]) -> tuple[str, str, str]:
    """One pass over a new agent ends terminal: its Warning (reason, note) and condition text."""
    await stack.kube.create(SANDBOX_AGENT, agent)
    name = agent["metadata"]["name"]
    with pytest.raises(TerminalError):
        await sa.rec(ObjectKey("team-a", name))
    warnings = [(reason, note) for type_, reason, note in stack.events if type_ == "Warning"]
    assert len(warnings) == 1, warnings
    live = await sa.get(name)
    return warnings[0][0], warnings[0][1], condition(live, "Accepted")["message"]


async def test_missing_model_config(stack: Stack, sa: Harness) -> None:
    reason, note, message = await refused(stack, sa, sandbox_agent("m", modelConfig="gone"))
    assert reason == "ModelConfigNotFound"
    assert message == "ModelConfig team-a/gone not found"
    assert note == (
        "ModelConfig team-a/gone not found: create ModelConfig team-a/gone or change "
        "spec.declarative.modelConfig"
    )


async def test_missing_worker_pool(stack: Stack, sa: Harness) -> None:
    agent = sandbox_agent("p")
    agent["spec"]["substrate"] = {"workerPoolRef": {"name": "nope"}}
    reason, note, message = await refused(stack, sa, agent)
    assert reason == "WorkerPoolNotFound"
    assert message.endswith("get WorkerPool team-a/nope: not found")
    assert note.endswith(
        "create WorkerPool team-a/nope or change spec.substrate.workerPoolRef "
        "(or the controller's default WorkerPool)"
    )


async def test_missing_system_message_configmap(stack: Stack, sa: Harness) -> None:
    source = {"type": "ConfigMap", "name": "prompt", "key": "text"}
    reason, note, message = await refused(
        stack, sa, sandbox_agent("c", systemMessage=None, systemMessageFrom=source)
    )
    assert reason == "ConfigMapNotFound"
    assert message == "systemMessageFrom: ConfigMap team-a/prompt not found"
    assert note.endswith(
        "create ConfigMap team-a/prompt or change spec.declarative.systemMessageFrom"
    )


async def test_system_message_secret_without_the_key(stack: Stack, sa: Harness) -> None:
    await stack.kube.create(
        SECRET,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "prompt", "namespace": "team-a"},
            "stringData": {"other": "never-in-an-event"},
        },
    )
    source = {"type": "Secret", "name": "prompt", "key": "text"}
    reason, note, _ = await refused(
        stack, sa, sandbox_agent("s", systemMessage=None, systemMessageFrom=source)
    )
    assert reason == "SecretKeyMissing"
    assert note == (
        'systemMessageFrom: Secret team-a/prompt has no key "text": put a non-empty "text" in '
        "Secret team-a/prompt"
    )
