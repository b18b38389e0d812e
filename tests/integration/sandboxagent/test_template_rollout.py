"""Template rollout safety: only a template the agent controls is ever deleted and recreated."""

from __future__ import annotations

import contextlib
from typing import Any

from shared.api.keys import ObjectKey
from shared.kube import errors as kerr
from shared.kube.resources import ACTOR_TEMPLATE, SANDBOX_AGENT
from tests.integration.controller.conftest import Stack, eventually
from tests.integration.sandboxagent.conftest import Harness, condition, sandbox_agent


def template(name: str, owner: dict[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "team-a"}
    if owner is not None:
        meta["ownerReferences"] = [owner]
    return {
        "apiVersion": "ate.dev/v1alpha1",
        "kind": "ActorTemplate",
        "metadata": meta,
        "spec": {
            "pauseImage": "pause@sha256:" + "1" * 64,
            "runsc": {
                "amd64": {"url": "gs://b/runsc", "sha256Hash": "2" * 64},
                "arm64": {"url": "gs://b/runsc", "sha256Hash": "3" * 64},
            },
            "containers": [{"name": "other", "image": "other@sha256:" + "4" * 64}],
            "workerPoolRef": {"name": "pool", "namespace": "team-a"},
            "snapshotsConfig": {"location": "gs://somewhere/else"},
        },
    }


async def test_unowned_template_is_adopted_in_place_never_deleted(
    stack: Stack, sa: Harness
) -> None:
    before = await stack.kube.create(ACTOR_TEMPLATE, template("asr-adopt"))
    await stack.kube.create(SANDBOX_AGENT, sandbox_agent("adopt"))

    async def step() -> Any:
        # The simulator writes the template's status meanwhile: a Conflict is retried, as the
        # controller's workers do.
        with contextlib.suppress(kerr.Conflict):
            await sa.rec(ObjectKey("team-a", "adopt"))
        return await sa.get("adopt")

    await eventually(step, lambda o: condition(o, "Ready").get("status") == "True")
    after = await stack.kube.get(ACTOR_TEMPLATE, "asr-adopt", "team-a")
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert [c["name"] for c in after["spec"]["containers"]] == ["kagent"]


async def test_template_of_another_owner_is_refused_untouched(stack: Stack, sa: Harness) -> None:
    owner = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "someone",
        "uid": "00000000-0000-0000-0000-000000000001",
        "controller": True,
    }
    before = await stack.kube.create(ACTOR_TEMPLATE, template("asr-taken", owner))
    await stack.kube.create(SANDBOX_AGENT, sandbox_agent("taken"))
    obj = await sa.converge(
        "taken", lambda o: condition(o, "Accepted").get("reason") == "ReconcileFailed"
    )
    assert "is controlled by another object" in condition(obj, "Accepted")["message"]
    after = await stack.kube.get(ACTOR_TEMPLATE, "asr-taken", "team-a")
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["spec"] == before["spec"]
