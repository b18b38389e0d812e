"""The whole runtime on the devstack API: manager, health, sources, workers, leader election."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from controller.runtime.health import HttpServer, make_app
from controller.runtime.leader import LeaderElectionConfig, LeaderElector, LeaderLost
from controller.runtime.manager import Manager
from controller.runtime.queue import WorkQueue
from controller.runtime.result import Result
from controller.runtime.sources import Source, enqueue_self, ignore_status_only
from controller.runtime.workers import ReconcileMetrics, WorkerConfig, Workers
from devstack.kubeapi.server import KubeApiServer
from shared.api.keys import ObjectKey
from shared.kube.client import KubeClient
from shared.kube.resources import Resource
from shared.kube.watching import Watcher
from tests.integration.controller_runtime.conftest import wait_for


class Recording:
    def __init__(self, kube: KubeClient, res: Resource) -> None:
        self.kube, self.res = kube, res
        self.keys: list[ObjectKey] = []

    async def __call__(self, key: ObjectKey) -> Result:
        self.keys.append(key)
        # A status write must not trigger another reconcile (status-only predicate).
        await self.kube.patch_status(self.res, key.name, {"status": {"seen": True}}, key.namespace)
        return Result()


def build(
    kube: KubeClient, res: Resource, ns: str, elector: LeaderElector | None
) -> tuple[Manager, Recording, HttpServer]:
    registry = CollectorRegistry()
    queue: WorkQueue[ObjectKey] = WorkQueue()
    watcher = Watcher(kube, res, namespace=ns)
    source = Source(watcher, queue, [enqueue_self], predicates=[ignore_status_only])
    rec = Recording(kube, res)
    workers = Workers(
        "widgets",
        rec,
        queue,
        ReconcileMetrics(registry),
        WorkerConfig(workers=2, shutdown_timeout=2),
    )
    mgr = Manager(elector=elector, stop_timeout=2)
    server = HttpServer(make_app(ready=mgr.ready, registry=registry))
    mgr.add_server("health", server.start, server.stop)
    mgr.add_cache("widgets", source.run, source.synced)
    mgr.add_leader("widgets", workers.run, workers.stop)
    return mgr, rec, server


async def get(url: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as s,
        s.get(url, timeout=aiohttp.ClientTimeout(total=5)) as r,
    ):
        return r.status, await r.text()


def widget(name: str, ns: str) -> dict[str, Any]:
    return {
        "apiVersion": "test.kagent.dev/v1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": ns},
        "spec": {},
    }


async def test_manager_runs_reconciles_and_serves_probes(
    kube: KubeClient, widgets: Resource, namespace: str
) -> None:
    await kube.create(widgets, widget("a", namespace))
    elector = LeaderElector(
        kube,
        LeaderElectionConfig(
            "m-lock", namespace, lease_duration=1.0, renew_deadline=0.6, retry_period=0.1
        ),
    )
    mgr, rec, server = build(kube, widgets, namespace, elector)
    stop = asyncio.Event()
    task = asyncio.create_task(mgr.run(stop))
    await wait_for(lambda: rec.keys == [ObjectKey(namespace, "a")], what="first reconcile")
    assert (await get(server.url + "/healthz"))[0] == 200
    assert await get(server.url + "/readyz") == (200, "ok\n")
    await kube.patch(widgets, "a", {"spec": {"size": 2}}, namespace)
    await kube.create(widgets, widget("b", namespace))
    await wait_for(lambda: len(rec.keys) == 3, what="reconciles of the update and of b")
    status, metrics = await get(server.url + "/metrics")
    assert status == 200
    assert 'kagent_substrate_reconcile_total{controller="widgets",result="success"} 3.0' in metrics
    assert "kagent_substrate_workqueue_depth" in metrics
    stop.set()
    await asyncio.wait_for(task, 10)
    lease = await kube.get(Resource("coordination.k8s.io", "v1", "leases"), "m-lock", namespace)
    assert lease["spec"]["holderIdentity"] == ""  # released on clean shutdown
    assert len(rec.keys) == 3  # status writes did not cause reconciles


async def test_standby_is_ready_but_does_not_reconcile_and_lease_loss_exits(
    kubeapi: KubeApiServer, kube: KubeClient, widgets: Resource, namespace: str
) -> None:
    await kube.create(widgets, widget("a", namespace))
    cfg = LeaderElectionConfig(
        "s-lock",
        namespace,
        identity="other",
        lease_duration=1.0,
        renew_deadline=0.6,
        retry_period=0.1,
    )
    holder = LeaderElector(kube, cfg)
    assert await holder.try_acquire_or_renew()
    keeper = asyncio.create_task(holder.run())
    mine = LeaderElector(
        kube,
        LeaderElectionConfig(
            "s-lock", namespace, lease_duration=1.0, renew_deadline=0.6, retry_period=0.1
        ),
    )
    mgr, rec, server = build(kube, widgets, namespace, mine)
    task = asyncio.create_task(mgr.run())
    await wait_for(lambda: mine.observed_holder == "other", what="standby observes the holder")
    await wait_for(lambda: get(server.url + "/readyz"), what="readyz answers")
    assert await get(server.url + "/readyz") == (200, "ok\n")  # ready while standing by
    assert rec.keys == [] and not mgr.started_leading.is_set()

    keeper.cancel()  # the other replica stops cleanly and releases
    with contextlib.suppress(asyncio.CancelledError):
        await keeper
    await wait_for(lambda: rec.keys == [ObjectKey(namespace, "a")], what="takeover reconciles")

    assert kubeapi.state is not None
    kubeapi.state.faults.configure(
        {"errors": [{"verb": "update", "resource": "leases", "code": 500, "count": 10000}]}
    )
    try:
        with pytest.raises(LeaderLost):
            await asyncio.wait_for(task, 10)
    finally:
        kubeapi.state.faults.clear()
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(server.url + "/healthz")  # everything stopped
