"""The simulator's template controller against the devstack Kubernetes API stand-in:
WorkerPool capacity, ActorTemplate phases to Ready (and Failed), status via the subresource."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_asyncio import client as aclient
from kubernetes_asyncio import config as aconfig
from kubernetes_asyncio.client.exceptions import ApiException

from devstack.kubeapi.config import KubeApiConfig
from devstack.kubeapi.server import KubeApiServer
from devstack.substrate.server import Simulator, SimulatorConfig
from shared.ateapi import ActorStatus, AteApiClient, AteApiConfig

ROOT = Path(__file__).resolve().parents[3]
DIGEST = "@sha256:" + "c" * 64
G, V = "ate.dev", "v1alpha1"


def template(name: str, pause: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{G}/{V}",
        "kind": "ActorTemplate",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "pauseImage": pause,
            "containers": [{"name": "app", "image": "registry/app" + DIGEST}],
            "snapshotsConfig": {"location": "gs://ate-snapshots/default/" + name},
            "workerPoolRef": {"name": "pool", "namespace": "default"},
            "runsc": {"amd64": {"sha256Hash": "d" * 64, "url": "https://example/runsc"}},
        },
    }


async def eventually(
    fetch: Callable[[], Awaitable[Any]], ok: Callable[[Any], bool], timeout: float = 20
) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    while loop.time() < deadline:
        try:
            last = await fetch()
            if ok(last):
                return last
        except ApiException as exc:
            last = exc
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout}s; last seen: {last!r}")


@pytest.fixture
async def kube(tmp_path: Path) -> AsyncIterator[tuple[KubeApiServer, aclient.ApiClient]]:
    server = KubeApiServer(KubeApiConfig(kubeconfig=tmp_path / "kubeconfig", bookmark_interval=0.5))
    await server.start()
    cfg = aclient.Configuration()
    await aconfig.load_kube_config(
        config_file=str(server.kubeconfig_path), client_configuration=cfg
    )
    api = aclient.ApiClient(cfg)
    try:
        ext = aclient.ApiextensionsV1Api(api)
        for name in ("ate.dev_actortemplates.yaml", "ate.dev_workerpools.yaml"):
            for doc in yaml.safe_load_all((ROOT / "devstack" / "crds" / name).read_text()):
                if doc:
                    await ext.create_custom_resource_definition(doc)
        yield server, api
    finally:
        await api.close()
        await server.stop()
        server.close()


async def test_templates_reach_ready_and_invalid_ones_fail(
    kube: tuple[KubeApiServer, aclient.ApiClient], tmp_path: Path
) -> None:
    server, api = kube
    custom = aclient.CustomObjectsApi(api)
    await eventually(
        lambda: custom.list_cluster_custom_object(G, V, "actortemplates"), lambda r: True
    )
    pool = {
        "apiVersion": f"{G}/{V}",
        "kind": "WorkerPool",
        "metadata": {"name": "pool", "namespace": "default"},
        "spec": {"replicas": 2, "ateomImage": "registry/ateom:1"},
    }
    await custom.create_namespaced_custom_object(G, V, "default", "workerpools", pool)
    await custom.create_namespaced_custom_object(
        G, V, "default", "actortemplates", template("good", "registry/pause" + DIGEST)
    )
    await custom.create_namespaced_custom_object(
        G, V, "default", "actortemplates", template("bad", "registry/pause@latest")
    )
    sim = Simulator(
        SimulatorConfig(
            kubeconfig=server.kubeconfig_path,
            serve_router=False,
            serve_debug=False,
            golden_warmup=0.1,
        )
    )
    ends = await sim.start()
    try:

        def get(name):
            return custom.get_namespaced_custom_object(G, V, "default", "actortemplates", name)

        good = await eventually(
            lambda: get("good"), lambda o: o.get("status", {}).get("phase") == "Ready"
        )
        status = good["status"]
        assert status["goldenActorID"] in sim.store.actors
        assert status["goldenSnapshot"].startswith("gs://ate-snapshots/default/good/")
        assert status["conditions"][0]["message"] == "Actor template is ready for use"
        bad = await eventually(
            lambda: get("bad"), lambda o: o.get("status", {}).get("phase") == "Failed"
        )
        assert (
            "spec.pauseImage 'registry/pause@latest' is not digest-pinned"
            in bad["status"]["conditions"][0]["message"]
        )
        pool_obj = await custom.get_namespaced_custom_object(G, V, "default", "workerpools", "pool")
        assert len(sim.store.workers) == 2
        await eventually(
            lambda: custom.get_namespaced_custom_object(G, V, "default", "workerpools", "pool"),
            lambda o: o.get("status", {}).get("replicas") == 2,
        )
        ca = tmp_path / "ca.pem"
        ca.write_bytes(ends.ca_pem)
        async with AteApiClient(AteApiConfig(endpoint=ends.grpc, ca_file=ca)) as ate:
            await ate.create_actor("session-1", "default", "good")
            actor = await ate.resume_actor("session-1")
            assert actor.status is ActorStatus.RUNNING
            assert (
                sim.store.actors["session-1"].restored_from == f"golden:{status['goldenSnapshot']}"
            )
        pool_obj["spec"]["replicas"] = 0
        await custom.replace_namespaced_custom_object(
            G, V, "default", "workerpools", "pool", pool_obj
        )
        await eventually(lambda: asyncio.sleep(0, sim.store.workers), lambda w: not w)
        assert sim.store.actors["session-1"].status == 4  # its worker went away: SUSPENDED
    finally:
        await sim.stop()
