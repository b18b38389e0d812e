"""Size bounds on the local stack (issue 15 item 4): the stand-in refuses what an apiserver
refuses, watches carry the largest object one stores, and the controller refuses to generate
an oversized ActorTemplate with a condition naming the field and the limit."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from controller.harness.inputs import MAX_ALLOWLIST_BYTES
from shared.api.keys import ObjectKey
from shared.kube import errors as kerr
from shared.kube.resources import ACTOR_TEMPLATE, AGENT_HARNESS, CONFIG_MAP
from tests.integration.controller.conftest import Stack
from tests.integration.controller.test_harness_reconcile import condition, converge, reconciler
from tests.integration.controller.test_secret_refs import _secrets, _with_channels

NS = "team-a"


def config_map(name: str, size: int) -> dict[str, Any]:
    ids = ",".join(str(10**9 + i) for i in range(size // 11 + 1))[:size]
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": NS},
        "data": {"ids": ids},
    }


async def test_stand_in_refuses_what_an_apiserver_refuses(stack: Stack) -> None:
    with pytest.raises(kerr.KubeError) as big_body:
        await stack.kube.create(CONFIG_MAP, config_map("huge", 4 * 1024 * 1024))
    assert "Request entity too large: limit is 3145728" in str(big_body.value)
    with pytest.raises(kerr.KubeError) as too_big:
        await stack.kube.create(CONFIG_MAP, config_map("big", 2 * 1024 * 1024))
    assert "etcdserver: request is too large" in str(too_big.value)


async def test_watch_carries_the_largest_storable_object(stack: Stack) -> None:
    listed = await stack.kube.list(CONFIG_MAP, NS)
    seen: list[str] = []

    async def watch() -> None:
        async for event in stack.kube.watch(
            CONFIG_MAP, NS, resource_version=listed.resource_version
        ):
            seen.append(event["object"]["metadata"]["name"])
            if "small" in seen:
                return

    task = asyncio.create_task(watch())
    await stack.kube.create(CONFIG_MAP, config_map("large", 1400 * 1024))
    await stack.kube.create(CONFIG_MAP, config_map("small", 10))
    await asyncio.wait_for(task, 30)
    assert seen == ["large", "small"]


async def test_oversized_allowlist_is_a_condition_naming_field_and_limit(stack: Stack) -> None:
    await _secrets(stack)
    await stack.kube.create(CONFIG_MAP, config_map("allow", 1024 * 1024))
    await stack.kube.create(
        AGENT_HARNESS, _with_channels({"type": "ConfigMap", "name": "allow", "key": "ids"})
    )
    rec, probe = reconciler(stack)
    try:
        obj = await converge(
            rec,
            stack,
            ObjectKey(NS, "claw"),
            lambda o: "allowedUserIDsFrom" in condition(o, "Ready").get("message", ""),
        )
    finally:
        await probe.close()
    message = condition(obj, "Ready")["message"]
    assert f"limited to {MAX_ALLOWLIST_BYTES} bytes" in message
    assert (await stack.kube.list(ACTOR_TEMPLATE, NS)).items == []
