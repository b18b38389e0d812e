"""A local stack in-process: Kubernetes API stand-in (with our CRDs and the test CRDs) and the
Substrate simulator (ate-api over TLS, template controller watching the stand-in, router)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from devstack.kubeapi.config import KubeApiConfig
from devstack.kubeapi.server import KubeApiServer
from devstack.substrate.server import Endpoints, Simulator, SimulatorConfig
from shared.ateapi import AteApiClient, AteApiConfig, RetryPolicy
from shared.kube.client import KubeClient, KubeClientConfig, connect
from shared.kube.resources import CRD, NAMESPACE, SECRET, WORKER_POOL

ROOT = Path(__file__).resolve().parents[3]
T = TypeVar("T")


@dataclass
class Stack:
    kube_server: KubeApiServer
    kube: KubeClient
    sim: Simulator
    ends: Endpoints
    ate: AteApiClient
    events: list[tuple[str, str, str]] = field(default_factory=list)

    async def record(
        self, obj: dict[str, Any], type_: str, reason: str, action: str, note: str
    ) -> None:
        self.events.append((type_, reason, note))


async def eventually(
    fetch: Callable[[], Awaitable[T]], ok: Callable[[T], bool], timeout: float = 20
) -> T:
    """Poll ``fetch`` until ``ok``; fail with the last value seen."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    while loop.time() < deadline:
        last = await fetch()
        if ok(last):
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached within {timeout}s; last seen: {last!r}")


async def apply_crds(kube: KubeClient) -> None:
    for folder in (ROOT / "charts" / "kagent-substrate" / "crds", ROOT / "devstack" / "crds"):
        for path in sorted(folder.glob("*.yaml")):
            for doc in yaml.safe_load_all(path.read_text()):
                if doc:
                    await kube.create(CRD, doc)


@contextlib.asynccontextmanager
async def local_stack(
    tmp_path: Path, *, replicas: int = 2, auth: Any = None, golden_warmup: float = 0.05
) -> AsyncIterator[Stack]:
    """Kube stand-in (our CRDs, namespace team-a, pool of ``replicas``, Secret gw) + simulator."""
    extra = {"auth": auth} if auth is not None else {}
    server = KubeApiServer(
        KubeApiConfig(
            state_dir=tmp_path / "state",
            kubeconfig=tmp_path / "kubeconfig",
            bookmark_interval=0.5,
            **extra,
        )
    )
    await server.start()
    kube = await connect(KubeClientConfig(kubeconfig=str(server.kubeconfig_path)))
    sim: Simulator | None = None
    ate: AteApiClient | None = None
    try:
        await apply_crds(kube)
        await kube.create(
            NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}
        )
        await kube.create(
            WORKER_POOL,
            {
                "apiVersion": "ate.dev/v1alpha1",
                "kind": "WorkerPool",
                "metadata": {"name": "pool", "namespace": "team-a"},
                "spec": {"replicas": replicas, "ateomImage": "registry/ateom@sha256:" + "a" * 64},
            },
        )
        await kube.create(
            SECRET,
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "gw", "namespace": "team-a"},
                "stringData": {"token": "s3cret-gw"},
            },
        )
        sim = Simulator(
            SimulatorConfig(
                kubeconfig=server.kubeconfig_path,
                serve_debug=False,
                golden_warmup=golden_warmup,
            )
        )
        ends = await sim.start()
        ca = tmp_path / "ca.pem"
        ca.write_bytes(ends.ca_pem)
        ate = AteApiClient(
            AteApiConfig(
                endpoint=ends.grpc,
                ca_file=ca,
                dial_timeout=5,
                call_timeout=5,
                retry=RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.05),
            )
        )
        yield Stack(server, kube, sim, ends, ate)
    finally:
        if ate is not None:
            await ate.close()
        if sim is not None:
            await sim.stop()
        await kube.close()
        await server.stop()
        server.close()


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with local_stack(tmp_path) as s:
        yield s
