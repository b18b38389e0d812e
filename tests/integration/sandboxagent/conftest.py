"""SandboxAgent fixtures on the in-process stack (kube API stand-in + Substrate simulator)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from controller.config import ControllerConfig
from controller.sandboxagent.reconcile import SandboxAgentReconciler, SandboxDeps
from controller.sandboxagent.sessions import SessionActors
from controller.substrate.defaults import SubstrateDefaults
from controller.substrate.metrics import ObjectMetrics
from controller.substrate.router_probe import RouterProbe
from shared.api.keys import ObjectKey
from shared.errors import TerminalError
from shared.kube import errors as kerr
from shared.kube.resources import MODEL_CONFIG, SANDBOX_AGENT, SECRET, WORKER_POOL
from tests.integration.controller.conftest import Stack, eventually
from tests.integration.controller.conftest import stack as stack  # re-exported fixture

RUNTIME_IMAGE = "devstack.invalid/kagent/golang-adk@sha256:" + "0" * 64
CONFIG = ControllerConfig(
    sandbox_runtime_image=RUNTIME_IMAGE,
    not_ready_requeue=0.05,
    no_free_workers_requeue=0.05,
    defaults=SubstrateDefaults(worker_pool_namespace="team-a", worker_pool_name="pool"),
)


def sandbox_agent(name: str = "helper", **declarative: Any) -> dict[str, Any]:
    """A substrate SandboxAgent in team-a using ModelConfig ``model``."""
    decl: dict[str, Any] = {"modelConfig": "model", "systemMessage": "Be brief."}
    decl.update(declarative)
    return {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "SandboxAgent",
        "metadata": {"name": name, "namespace": "team-a"},
        "spec": {
            "platform": "substrate",
            "type": "Declarative",
            "description": "test agent",
            "declarative": decl,
            "substrate": {"workerPoolRef": {"name": "pool"}},
        },
    }


async def add_model(stack: Stack) -> None:
    await stack.kube.create(
        SECRET,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "llm-key", "namespace": "team-a"},
            "stringData": {"key": "sk-test"},
        },
    )
    await stack.kube.create(
        MODEL_CONFIG,
        {
            "apiVersion": "kagent.dev/v1alpha2",
            "kind": "ModelConfig",
            "metadata": {"name": "model", "namespace": "team-a"},
            "spec": {
                "provider": "Anthropic",
                "model": "claude-sonnet-4-5",
                "apiKeySecret": "llm-key",
                "apiKeySecretKey": "key",
            },
        },
    )


class Harness:
    """A reconciler, its session operations and helpers to converge objects."""

    def __init__(
        self, stack: Stack, config: ControllerConfig = CONFIG, metrics: ObjectMetrics | None = None
    ) -> None:
        self.stack = stack
        self.probe = RouterProbe(stack.ends.router, timeout=2)
        self.sessions = SessionActors(stack.ate, self.probe, ensure_timeout=15, poll=0.05)
        self.rec = SandboxAgentReconciler(
            SandboxDeps(
                kube=stack.kube,
                sessions=self.sessions,
                events=stack.record,
                config=config,
                metrics=metrics,
            )
        )

    async def get(self, name: str) -> dict[str, Any] | None:
        try:
            return await self.stack.kube.get(SANDBOX_AGENT, name, "team-a")
        except kerr.NotFound:
            return None

    async def converge(self, name: str, ok: Any, timeout: float = 20) -> Any:
        key = ObjectKey("team-a", name)

        async def step() -> Any:
            with contextlib.suppress(TerminalError):  # a pass like any other (the workers' view)
                await self.rec(key)
            return await self.get(name)

        return await eventually(step, ok, timeout)

    async def ready(self, name: str) -> dict[str, Any]:
        obj: dict[str, Any] = await self.converge(
            name, lambda o: condition(o, "Ready").get("status") == "True"
        )
        return obj


def condition(obj: dict[str, Any] | None, ctype: str) -> dict[str, Any]:
    return next(
        (c for c in ((obj or {}).get("status") or {}).get("conditions", []) if c["type"] == ctype),
        {},
    )


def decoded(secret: dict[str, Any], key: str) -> Any:
    import base64

    return json.loads(base64.b64decode(secret["data"][key]))


async def scale_pool(stack: Stack, replicas: int) -> None:
    """Set WorkerPool team-a/pool to ``replicas`` and wait for the simulator's workers."""
    await stack.kube.patch(WORKER_POOL, "pool", {"spec": {"replicas": replicas}}, "team-a")
    await eventually(stack.ate.list_workers, lambda ws: len(ws) == replicas)


@pytest.fixture
async def sa(stack: Stack) -> AsyncIterator[Harness]:
    await add_model(stack)
    await scale_pool(stack, 6)
    h = Harness(stack)
    try:
        yield h
    finally:
        await h.probe.close()
