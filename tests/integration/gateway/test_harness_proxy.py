"""The AgentHarness gateway proxy on the in-process stack: path table, redirects, header
rewriting, WebSocket tunnelling, TokenReview/SubjectAccessReview, Origin."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from controller.harness.reconcile import HarnessDeps, HarnessReconciler
from controller.substrate.router_probe import RouterProbe
from shared.api.keys import ObjectKey
from shared.kube.resources import AGENT_HARNESS
from tests.integration.controller.conftest import eventually
from tests.integration.gateway.conftest import ALICE, BOB, CONFIG, GatewayStack

BASE = "/api/agentharnesses/team-a/claw"


@pytest.fixture
async def claw(gws: GatewayStack) -> GatewayStack:
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
            "metadata": {"name": "claw", "namespace": "team-a"},
            "spec": {
                "backend": "openclaw",
                "runtime": "substrate",
                "substrate": {
                    "workerPoolRef": {"name": "pool"},
                    "gatewayTokenSecretRef": {"name": "gw"},
                },
            },
        },
    )

    async def step() -> Any:
        await rec(ObjectKey("team-a", "claw"))
        return await gws.stack.kube.get(AGENT_HARNESS, "claw", "team-a")

    def ready(o: Any) -> bool:
        conds = (o.get("status") or {}).get("conditions") or []
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)

    await eventually(step, ready)
    await probe.close()
    return gws


def auth(token: str = ALICE) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_proxy_rewrites_headers_and_strips_token_query(claw: GatewayStack) -> None:
    url = f"{claw.url}{BASE}/gateway/app.js?x=1&token={ALICE}&y=two"
    headers = {"Origin": "https://ui.example", "Referer": "https://ui.example/p", "Cookie": "c=1"}
    async with claw.client.get(url, headers=headers) as resp:  # token only in the query
        assert resp.status == 200, await resp.text()
        echo = await resp.json()
    assert echo["actor"] == "ahr-team-a-claw"
    assert echo["path"] == f"{BASE}/gateway/app.js"
    assert echo["query"] == "x=1&y=two"
    h = {k.lower(): v for k, v in echo["headers"].items()}
    assert h["authorization"] == "Bearer s3cret-gw"
    assert h["x-openclaw-scopes"] == "operator.admin"
    assert h["origin"] == "http://127.0.0.1:80"
    assert h["referer"] == "http://127.0.0.1:80/"
    assert h["cookie"] == "c=1"
    assert ALICE not in str(echo)


async def test_path_table_and_redirects(claw: GatewayStack) -> None:
    for path, want in (
        (BASE, f"{BASE}/gateway/?a=b"),
        (f"{BASE}/gateway", f"{BASE}/gateway/?a=b"),
    ):
        async with claw.client.get(
            f"{claw.url}{path}?a=b", headers=auth(), allow_redirects=False
        ) as resp:
            assert resp.status == 308 and resp.headers["Location"] == want
    for path in (f"{BASE}/", f"{BASE}/api/v1/foo"):
        async with claw.client.get(f"{claw.url}{path}", headers=auth()) as resp:
            assert resp.status == 404
    async with claw.client.post(
        f"{claw.url}{BASE}/gateway/rpc", headers=auth(), data=b'{"a":1}'
    ) as resp:
        echo = await resp.json()
        assert echo["method"] == "POST" and echo["body"] == '{"a":1}'
    async with claw.client.get(
        f"{claw.url}/api/agentharnesses/team-a/nope/gateway/", headers=auth()
    ) as resp:
        assert resp.status == 404 and (await resp.json())["error"] == "AgentHarness not found"


async def test_auth_and_origin(claw: GatewayStack) -> None:
    url = f"{claw.url}{BASE}/gateway/"
    async with claw.client.get(url) as resp:
        assert resp.status == 401
    async with claw.client.get(url, headers=auth("wrong")) as resp:
        assert resp.status == 401
    async with claw.client.get(url, headers=auth(BOB)) as resp:
        assert resp.status == 403
        assert "agentharnesses/gateway" in (await resp.json())["error"]
    async with claw.client.get(url, headers={**auth(), "Origin": "https://evil.example"}) as resp:
        assert resp.status == 403
    async with claw.client.get(url, headers={**auth(), "Origin": claw.url}) as resp:
        assert resp.status == 200  # same origin


async def test_websocket_tunnel(claw: GatewayStack) -> None:
    url = f"{claw.url}{BASE}/gateway?token={ALICE}"
    async with claw.client.ws_connect(url, headers={"Origin": "https://ui.example"}) as ws:
        await ws.send_str("hello")
        assert (await ws.receive(timeout=5)).data == "hello"
        await ws.send_bytes(b"\x00\x01")
        assert (await ws.receive(timeout=5)).data == b"\x00\x01"
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await claw.client.ws_connect(f"{claw.url}{BASE}/gateway?token={BOB}")
    assert refused.value.status == 403
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await claw.client.ws_connect(
            f"{claw.url}{BASE}/gateway?token={ALICE}", headers={"Origin": "https://evil.example"}
        )
    assert refused.value.status == 403
