"""No value read from a Secret lands in a generated object (issue 15 item 2), on the local stack:
the ActorTemplate carries only ``secretKeyRef``s, and the scan also decodes base64 strings (the
startup script's embedded openclaw.json)."""

from __future__ import annotations

from typing import Any

from shared.api.keys import ObjectKey
from shared.kube.resources import ACTOR_TEMPLATE, AGENT_HARNESS, CONFIG_MAP, SECRET
from tests.integration.controller.conftest import Stack, eventually
from tests.integration.controller.test_harness_reconcile import harness, reconciler
from tests.integration.sandboxagent.conftest import add_model
from tests.leakscan import hits

CANARY = {"allowlist Secret": "CANARY-allow-4f1d9e2b7c"}


def _with_channels(allow_from: dict[str, Any]) -> dict[str, Any]:
    obj = harness()
    obj["spec"]["modelConfigRef"] = "model"
    obj["spec"]["channels"] = [
        {
            "name": "tg",
            "type": "telegram",
            "telegram": {
                "botToken": {"valueFrom": {"type": "Secret", "name": "bot", "key": "t"}},
                "allowedUserIDsFrom": allow_from,
            },
        }
    ]
    return obj


async def _template(stack: Stack) -> dict[str, Any]:
    rec, probe = reconciler(stack)
    try:

        async def step() -> Any:
            await rec(ObjectKey("team-a", "claw"))
            items = (await stack.kube.list(ACTOR_TEMPLATE, "team-a")).items
            return items[0] if items else None

        return await eventually(step, lambda t: t is not None, 20)
    finally:
        await probe.close()


async def _secrets(stack: Stack) -> None:
    await add_model(stack)
    for name, data in (("bot", {"t": "bot-token"}), ("allow", {"ids": CANARY["allowlist Secret"]})):
        await stack.kube.create(
            SECRET,
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": name, "namespace": "team-a"},
                "stringData": data,
            },
        )


async def test_allowlist_from_a_secret_is_a_reference_not_a_copy(stack: Stack) -> None:
    await _secrets(stack)
    await stack.kube.create(
        AGENT_HARNESS, _with_channels({"type": "Secret", "name": "allow", "key": "ids"})
    )
    template = await _template(stack)
    assert hits(template, CANARY) == []
    env = [e for c in template["spec"]["containers"] for e in c.get("env", [])]
    assert {"name": "KAGENT_SB_CH_TG_TELEGRAM_ALLOW_FROM",
            "valueFrom": {"secretKeyRef": {"name": "allow", "key": "ids"}}} in env  # fmt: skip


async def test_allowlist_from_a_configmap_is_still_written_into_the_config(stack: Stack) -> None:
    await _secrets(stack)
    await stack.kube.create(
        CONFIG_MAP,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "allow", "namespace": "team-a"},
            "data": {"ids": "101,202"},
        },
    )
    await stack.kube.create(
        AGENT_HARNESS, _with_channels({"type": "ConfigMap", "name": "allow", "key": "ids"})
    )
    template = await _template(stack)
    assert hits(template, {"ids": '"allowFrom":["101","202"]'}) == ["ids"]
