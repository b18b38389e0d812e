"""`controller/runtime/informers.py`: one watch and one store per (resource, namespace,
selector) whatever the number of controllers; each controller's handlers, indexes and queue."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from controller.runtime.informers import InformerCache
from controller.runtime.queue import WorkQueue
from controller.runtime.sources import enqueue_self
from shared.api.keys import ObjectKey
from shared.kube.resources import AGENT_HARNESS, SANDBOX_AGENT, SECRET, Resource


def obj(name: str, ns: str, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": ns, "resourceVersion": "1"}, "spec": spec}


@dataclass
class Page:
    items: list[dict[str, Any]]
    resource_version: str = "1"


@dataclass
class FakeKube:
    """Lists what it holds per (resource, namespace); watches stream ``events`` then idle."""

    objects: dict[tuple[Resource, str | None], list[dict[str, Any]]] = field(default_factory=dict)
    events: dict[Resource, list[dict[str, Any]]] = field(default_factory=dict)
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)

    async def list_all(self, res: Resource, namespace: str | None, **_: Any) -> Page:
        self.calls["list", res.plural] += 1
        return Page(list(self.objects.get((res, namespace), [])))

    async def watch(self, res: Resource, namespace: str | None, **_: Any) -> AsyncIterator[Any]:
        self.calls["watch", res.plural] += 1
        for raw in self.events.get(res, []):
            if namespace in (None, raw["object"]["metadata"]["namespace"]):
                yield raw
        await asyncio.Event().wait()


async def until(check: Any, timeout: float = 2) -> None:
    """Yield to the loop until ``check()`` holds (fail after ``timeout``)."""

    async def poll() -> None:
        while not check():
            await asyncio.sleep(0.001)

    await asyncio.wait_for(poll(), timeout)


async def run_until_synced(cache: InformerCache) -> list[asyncio.Task[None]]:
    tasks = [asyncio.create_task(run()) for _, run, _ in cache.runnables()]
    for _, _, synced in cache.runnables():
        if synced is not None:
            await asyncio.wait_for(synced.wait(), 2)
    return tasks


async def test_two_controllers_share_one_watch_and_store_per_kind() -> None:
    kube = FakeKube(
        objects={
            (AGENT_HARNESS, None): [obj("h", "a", secret="s")],
            (SANDBOX_AGENT, None): [obj("g", "a", secret="s")],
            (SECRET, None): [obj("s", "a")],
        },
        events={SECRET: [{"type": "MODIFIED", "object": obj("s", "a") | {"data": {"k": "djI="}}}]},
    )
    cache = InformerCache(kube)  # type: ignore[arg-type]
    queues: dict[str, WorkQueue[ObjectKey]] = {"h": WorkQueue(), "g": WorkQueue()}
    for kind, res in (("h", AGENT_HARNESS), ("g", SANDBOX_AGENT)):
        # The same index name on two stores: each controller's own.
        cache.add_indexer(
            res, "secrets", lambda o: [f"{o['metadata']['namespace']}/{o['spec']['secret']}"]
        )
        cache.watch(res, queues[kind], [enqueue_self])
        cache.watch(SECRET, queues[kind], [cache.enqueue_referencing(res, "secrets")])
    assert cache.watches() == ["agentharnesses.kagent.dev", "sandboxagents.kagent.dev", "secrets"]
    tasks = await run_until_synced(cache)
    try:
        store = cache.informers(SECRET)[0].store
        await until(lambda: "data" in (store.get(ObjectKey("a", "s")) or {}))
        assert kube.calls["watch", "secrets"] == 1 and kube.calls["list", "secrets"] == 1
        assert {await queues["h"].get()} == {ObjectKey("a", "h")}
        assert {await queues["g"].get()} == {ObjectKey("a", "g")}
        # One reader over the shared stores: the Secret is served from the cache.
        got = await cache.reader.get(SECRET, "s", "a")
        assert got["data"] == {"k": "djI="} and cache.reader.hits == 1
    finally:
        for task in tasks:
            task.cancel()


async def test_per_namespace_informers_and_index_lookups_across_them() -> None:
    kube = FakeKube(
        objects={
            (AGENT_HARNESS, "a"): [obj("h1", "a", pool="p")],
            (AGENT_HARNESS, "b"): [obj("h2", "b", pool="p")],
        }
    )
    cache = InformerCache(kube, ["a", "b"])  # type: ignore[arg-type]
    cache.add_indexer(AGENT_HARNESS, "pools", lambda o: [f"shared/{o['spec']['pool']}"])
    assert len(cache.informers(AGENT_HARNESS)) == 2
    assert len(cache.informers(AGENT_HARNESS)) == 2  # created once
    tasks = await run_until_synced(cache)
    try:
        assert cache.index_keys(AGENT_HARNESS, "pools", "shared/p") == [
            ObjectKey("a", "h1"),
            ObjectKey("b", "h2"),
        ]
        assert kube.calls["watch", "agentharnesses"] == 2
    finally:
        for task in tasks:
            task.cancel()
