"""Config drift (reference §9 #10): an edited SandboxAgent answers new sessions with the new
configuration; a session that already exists keeps the configuration it started with.

The simulator's actors resolve their env when they boot and snapshots keep the booted process, as
on Substrate; the fake workload echoes the SHA-256 of each env value it booted with, so a session
shows which ``config.json`` it runs without the test reading any value from the actor.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from controller.sandboxagent.rollout import RETIRED_GOLDEN
from shared.api.keys import ObjectKey
from shared.kube.resources import ACTOR_TEMPLATE, SANDBOX_AGENT, SECRET
from tests.integration.controller.conftest import eventually
from tests.integration.gateway.conftest import CONFIG, GatewayStack
from tests.integration.sandboxagent.conftest import condition


async def config_sha256(g: GatewayStack, name: str) -> str:
    """SHA-256 of the config.json the agent's Secret holds now."""
    secret = await g.stack.kube.get(SECRET, name, "team-a")
    return hashlib.sha256(base64.b64decode(secret["data"]["config.json"])).hexdigest()


async def booted_with(g: GatewayStack, agent: str, session: str) -> str:
    """SHA-256 of the config.json the session's actor booted with."""
    status, body = await g.send(agent, session)
    assert status == 200, body
    digest: str = body["env_sha256"]["KAGENT_CONFIG_JSON"]
    return digest


async def test_edited_agent_answers_new_session_with_new_config(gws: GatewayStack) -> None:
    await gws.ready_agent("drift")
    before = await config_sha256(gws, "drift")
    assert await booted_with(gws, "drift", "early") == before
    old_template = await gws.stack.kube.get(ACTOR_TEMPLATE, "asr-drift", "team-a")

    await gws.stack.kube.patch(
        SANDBOX_AGENT,
        "drift",
        {"spec": {"declarative": {"systemMessage": "Answer in French."}}},
        "team-a",
    )

    async def step() -> Any:
        await gws.rec(ObjectKey("team-a", "drift"))
        return await gws.stack.kube.get(SANDBOX_AGENT, "drift", "team-a")

    def ready_for_edit(o: Any) -> bool:
        ready = condition(o, "Ready")
        return bool(
            ready.get("status") == "True"
            and ready.get("observedGeneration") == o["metadata"]["generation"]
        )

    await eventually(step, ready_for_edit, timeout=30)
    after = await config_sha256(gws, "drift")
    assert after != before
    # a new session starts from the rebuilt golden snapshot: the new configuration
    assert await booted_with(gws, "drift", "late") == after
    # the session that existed keeps the configuration it started with (its own snapshot)
    assert await booted_with(gws, "drift", "early") == before

    template = await gws.stack.kube.get(ACTOR_TEMPLATE, "asr-drift", "team-a")
    # Substrate never re-snapshots an edited template: the controller recreated it
    assert template["metadata"]["uid"] != old_template["metadata"]["uid"]
    old_golden = old_template["status"]["goldenActorID"]
    assert template["status"]["goldenActorID"] != old_golden

    # the previous golden actor is deleted on later passes, and then forgotten
    async def retired() -> Any:
        result = await gws.rec(ObjectKey("team-a", "drift"))
        agent = await gws.stack.kube.get(SANDBOX_AGENT, "drift", "team-a")
        if (agent["metadata"].get("annotations") or {}).get(RETIRED_GOLDEN):
            # still stepping: a short requeue, not the resync period
            assert result.requeue_after == CONFIG.not_ready_requeue
        ids = {a.actor_id for a in await gws.stack.ate.list_all_actors()}
        return old_golden in ids, (agent["metadata"].get("annotations") or {}).get(RETIRED_GOLDEN)

    assert await eventually(retired, lambda r: r == (False, None))
