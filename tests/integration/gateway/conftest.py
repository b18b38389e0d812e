"""The gateway on the in-process stack: kube API stand-in with a static auth table (TokenReview,
SubjectAccessReview), Substrate simulator, SandboxAgent reconciler, gateway server on port 0."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from controller.config import ControllerConfig
from controller.gateway.access import Gateway, GatewaySettings
from controller.gateway.app import gateway_server
from controller.gateway.auth import Authenticator
from controller.gateway.metrics import GatewayMetrics
from controller.gateway.refcount import SessionTracker
from controller.runtime.health import HttpServer
from controller.sandboxagent.reconcile import SandboxAgentReconciler, SandboxDeps
from controller.sandboxagent.sessions import SessionActors
from controller.substrate.defaults import SubstrateDefaults
from controller.substrate.router_probe import RouterProbe
from devstack.kubeapi.auth import AuthTable, Rule, User
from shared.api.keys import ObjectKey
from shared.kube.resources import SANDBOX_AGENT
from shared.secrets import Secret
from shared.serving.limits import ListenerLimits
from tests.integration.controller.conftest import Stack, eventually, local_stack
from tests.integration.sandboxagent.conftest import (
    RUNTIME_IMAGE,
    add_model,
    condition,
    sandbox_agent,
)

ALICE, BOB = "alice-token", "bob-token"
AUTH = AuthTable(
    tokens=((Secret(ALICE), User("alice")), (Secret(BOB), User("bob"))),
    rules=(
        Rule(
            users=("alice",),
            verbs=("create",),
            api_groups=("kagent.dev",),
            resources=("sandboxagents/gateway", "agentharnesses/gateway"),
            namespaces=("team-a",),
        ),
    ),
)
CONFIG = ControllerConfig(
    sandbox_runtime_image=RUNTIME_IMAGE,
    not_ready_requeue=0.05,
    defaults=SubstrateDefaults(worker_pool_namespace="team-a", worker_pool_name="pool"),
)


class CountingSessions(SessionActors):
    """Counts ensures (one per session at a time is the contract)."""

    ensures = 0

    async def ensure(self, actor_id: str, template: tuple[str, str]) -> Any:
        self.ensures += 1
        return await super().ensure(actor_id, template)


@dataclass
class GatewayStack:
    stack: Stack
    gw: Gateway
    server: HttpServer
    client: aiohttp.ClientSession
    rec: SandboxAgentReconciler
    sessions: CountingSessions
    suspends: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    async def ready_agent(self, name: str, **declarative: Any) -> None:
        await self.stack.kube.create(SANDBOX_AGENT, sandbox_agent(name, **declarative))
        key = ObjectKey("team-a", name)

        async def step() -> Any:
            await self.rec(key)
            return await self.stack.kube.get(SANDBOX_AGENT, name, "team-a")

        await eventually(step, lambda o: condition(o, "Ready").get("status") == "True")

    async def delete_agent(self, name: str) -> None:
        await self.stack.kube.delete(SANDBOX_AGENT, name, "team-a")

        async def step() -> Any:
            await self.rec(ObjectKey("team-a", name))
            try:
                return await self.stack.kube.get(SANDBOX_AGENT, name, "team-a")
            except Exception:
                return None

        await eventually(step, lambda o: o is None, timeout=30)

    async def send(
        self,
        agent: str,
        context: str | None,
        *,
        token: str = ALICE,
        tail: str = "/",
        text: str = "hello",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        message: dict[str, Any] = {
            "role": "user",
            "messageId": "m1",
            "parts": [{"kind": "text", "text": text}],
        }
        if context is not None:
            message["contextId"] = context
        body = {"jsonrpc": "2.0", "id": 7, "method": "message/send", "params": {"message": message}}
        async with self.client.post(
            f"{self.url}/api/a2a-sandboxes/team-a/{agent}{tail}",
            json=body,
            headers={"Authorization": f"Bearer {token}", **(headers or {})},
        ) as resp:
            text_body = await resp.text()
            try:
                import json

                return resp.status, json.loads(text_body)
            except ValueError:
                return resp.status, text_body


LIMITS = ListenerLimits(header_timeout=1.0, idle_timeout=10.0, max_connections=64)
"""Short enough that tests/integration/gateway/test_connection_limits.py waits little."""


@pytest.fixture
async def gws(tmp_path: Path) -> AsyncIterator[GatewayStack]:
    async with local_stack(tmp_path, replicas=6, auth=AUTH) as stack:
        async for g in _gateway_stack(stack):
            yield g


async def _gateway_stack(stack: Stack) -> AsyncIterator[GatewayStack]:
    kube, ends, ate = stack.kube, stack.ends, stack.ate
    await add_model(stack)
    probe = RouterProbe(ends.router, timeout=2)
    sessions = CountingSessions(ate, probe, ensure_timeout=10, poll=0.05)
    metrics = GatewayMetrics()
    suspends: list[str] = []

    async def suspend(actor_id: str, template: tuple[str, str]) -> None:
        suspends.append(actor_id)
        await sessions.suspend(actor_id, template)

    tracker = SessionTracker(suspend, idle_delay=0.2, on_change=metrics.sessions_active.set)
    gw = Gateway(
        kube=kube,
        auth=Authenticator(kube, cache_ttl=0),
        metrics=metrics,
        settings=GatewaySettings(router_url=ends.router, allowed_origins=("https://ui.example",)),
        sessions=sessions,
        tracker=tracker,
    )
    http_server = gateway_server(gw, ("127.0.0.1", 0), LIMITS)
    await http_server.start()
    rec = SandboxAgentReconciler(
        SandboxDeps(kube=kube, sessions=sessions, events=stack.record, config=CONFIG)
    )
    client = aiohttp.ClientSession()
    g = GatewayStack(stack, gw, http_server, client, rec, sessions, suspends)
    try:
        yield g
    finally:
        await client.close()
        await http_server.stop()
        await probe.close()
