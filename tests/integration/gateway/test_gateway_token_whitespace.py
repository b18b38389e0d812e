"""A gateway token Secret written with whitespace (``kubectl create secret --from-file`` leaves a
trailing newline) gives a working round trip: the proxy and the actor's openclaw.json use the
same trimmed token. The simulator runs the real startup script and its fake OpenClaw gateway
answers 401 to any other bearer token, so a mismatch fails here as it would on a real actor."""

from __future__ import annotations

from typing import Any

import aiohttp

from controller.harness.reconcile import HarnessDeps, HarnessReconciler
from controller.substrate.router_probe import RouterProbe
from shared.api.keys import ObjectKey
from shared.kube.resources import AGENT_HARNESS, SECRET
from tests.integration.controller.conftest import eventually
from tests.integration.gateway.conftest import ALICE, CONFIG, GatewayStack

TOKEN = "s3cret-from-file"


async def ready_harness(gws: GatewayStack, name: str, secret: str) -> None:
    probe = RouterProbe(gws.stack.ends.router, timeout=2)
    rec = HarnessReconciler(
        HarnessDeps(
            kube=gws.stack.kube,
            ate=gws.stack.ate,
            probe=probe,
            events=gws.stack.record,
            config=CONFIG,
        )
    )
    await gws.stack.kube.create(
        AGENT_HARNESS,
        {
            "apiVersion": "kagent.dev/v1alpha2",
            "kind": "AgentHarness",
            "metadata": {"name": name, "namespace": "team-a"},
            "spec": {
                "backend": "openclaw",
                "runtime": "substrate",
                "substrate": {
                    "workerPoolRef": {"name": "pool"},
                    "gatewayTokenSecretRef": {"name": secret},
                },
            },
        },
    )

    async def step() -> Any:
        await rec(ObjectKey("team-a", name))
        return await gws.stack.kube.get(AGENT_HARNESS, name, "team-a")

    def ready(o: Any) -> bool:
        conds = (o.get("status") or {}).get("conditions") or []
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)

    try:
        await eventually(step, ready)
    finally:
        await probe.close()


async def test_token_with_trailing_newline_round_trips(gws: GatewayStack) -> None:
    await gws.stack.kube.create(
        SECRET,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "gw-from-file", "namespace": "team-a"},
            "stringData": {"token": f"  {TOKEN}\n"},
        },
    )
    await ready_harness(gws, "filed", "gw-from-file")

    url = f"{gws.url}/api/agentharnesses/team-a/filed/gateway/"
    async with gws.client.get(url, headers={"Authorization": f"Bearer {ALICE}"}) as resp:
        assert resp.status == 200, await resp.text()
        echo = await resp.json()
    sent = {k.lower(): v for k, v in echo["headers"].items()}
    assert sent["authorization"] == f"Bearer {TOKEN}"

    # The actor's gateway really checks the token: anything else is refused.
    host = {"Host": "ahr-team-a-filed.actors.resources.substrate.ate.dev"}
    async with aiohttp.ClientSession() as direct:
        for wrong in (f"Bearer  {TOKEN}", f"Bearer {TOKEN}x", f"Bearer {TOKEN}\\n", ""):
            headers = {**host, "Authorization": wrong} if wrong else host
            async with direct.get(f"{gws.stack.ends.router}/", headers=headers) as resp:
                assert resp.status == 401, (wrong, await resp.text())
