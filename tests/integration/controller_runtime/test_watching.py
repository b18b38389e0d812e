"""`shared/kube/watching.py` on the devstack API: resume after drops, 410 relist, restarts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from devstack.kubeapi.server import KubeApiServer
from shared.api.keys import ObjectKey
from shared.kube.backoff import Backoff
from shared.kube.client import KubeClient, RequestCounter
from shared.kube.resources import CONFIG_MAP, Resource
from shared.kube.watching import Store, Watcher, WatchEvent
from tests.integration.controller_runtime.conftest import wait_for


def widget(name: str, ns: str, secret: str = "") -> dict[str, Any]:
    return {
        "apiVersion": "test.kagent.dev/v1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"secretRef": secret} if secret else {},
    }


class Collected:
    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher
        self.events: list[WatchEvent] = []

    async def run(self) -> None:
        async for ev in self.watcher.events():
            self.events.append(ev)

    def seen(self, typ: str, name: str, *, from_list: bool | None = None) -> bool:
        return any(
            e.type == typ
            and e.object["metadata"]["name"] == name
            and (from_list is None or e.from_list == from_list)
            for e in self.events
        )


@pytest.fixture
async def watched(kube: KubeClient, widgets: Resource, namespace: str) -> AsyncIterator[Collected]:
    store = Store(
        {"secret": lambda o: [s] if (s := (o.get("spec") or {}).get("secretRef")) else []}
    )
    watcher = Watcher(kube, widgets, namespace=namespace, store=store, backoff=Backoff(0.05, 0.2))
    collected = Collected(watcher)
    task = asyncio.create_task(collected.run())
    await asyncio.wait_for(watcher.synced.wait(), 5)
    yield collected
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_events_store_and_indexes(
    kube: KubeClient, widgets: Resource, namespace: str, watched: Collected
) -> None:
    await kube.create(widgets, widget("a", namespace, secret="s1"))
    await kube.create(widgets, widget("b", namespace, secret="s1"))
    await wait_for(lambda: watched.seen("ADDED", "b", from_list=False), what="ADDED b")
    store = watched.watcher.store
    assert store.index_keys("secret", "s1") == [
        ObjectKey(namespace, "a"),
        ObjectKey(namespace, "b"),
    ]
    await kube.patch(widgets, "a", {"spec": {"secretRef": "s2"}}, namespace)
    await wait_for(lambda: watched.seen("MODIFIED", "a"), what="MODIFIED a")
    modified = next(e for e in watched.events if e.type == "MODIFIED")
    assert modified.old is not None and modified.old["spec"]["secretRef"] == "s1"
    assert store.index_keys("secret", "s1") == [ObjectKey(namespace, "b")]
    await kube.delete(widgets, "b", namespace)
    await wait_for(lambda: watched.seen("DELETED", "b"), what="DELETED b")
    assert store.index_keys("secret", "s1") == [] and ObjectKey(namespace, "b") not in store


async def test_resume_after_dropped_connection(
    kubeapi: KubeApiServer,
    kube: KubeClient,
    widgets: Resource,
    namespace: str,
    watched: Collected,
    counter: RequestCounter,
) -> None:
    assert kubeapi.state is not None
    await kube.create(widgets, widget("a", namespace))
    await wait_for(lambda: watched.seen("ADDED", "a"), what="ADDED a")
    watches = counter.by_verb["watch"]
    assert kubeapi.state.hub.drop_all() >= 1
    await kube.create(widgets, widget("b", namespace))
    await wait_for(lambda: watched.seen("ADDED", "b"), what="ADDED b after drop")
    await wait_for(lambda: counter.by_verb["watch"] > watches, what="a new watch request")
    assert watched.watcher.relists == 0  # resumed from the resourceVersion, no relist
    assert (
        sum(e.type == "ADDED" and e.object["metadata"]["name"] == "a" for e in watched.events) == 1
    )


async def test_bookmarks_advance_the_resource_version(
    kube: KubeClient, namespace: str, watched: Collected
) -> None:
    cm = await kube.create(CONFIG_MAP, {"metadata": {"name": "bump", "namespace": namespace}})
    rv = cm["metadata"]["resourceVersion"]
    await wait_for(lambda: int(watched.watcher.resource_version) >= int(rv), what="bookmark rv")


async def test_410_relists_and_reports_what_changed_while_away(
    kubeapi: KubeApiServer,
    kube: KubeClient,
    widgets: Resource,
    namespace: str,
    watched: Collected,
    counter: RequestCounter,
) -> None:
    state = kubeapi.state
    assert state is not None
    await kube.create(widgets, widget("gone", namespace))
    await kube.create(widgets, widget("kept", namespace))
    await wait_for(lambda: watched.seen("ADDED", "kept"), what="ADDED kept")
    errors_before = sum(n for (v, r), n in counter.by_resource.items() if v == "watch")
    state.faults.configure(
        {"errors": [{"verb": "watch", "resource": "widgets", "code": 503, "count": 100000}]}
    )
    state.hub.drop_all()
    await wait_for(
        lambda: (
            sum(n for (v, r), n in counter.by_resource.items() if v == "watch") >= errors_before + 2
        ),
        what="watch retries failing",
    )
    await kube.delete(widgets, "gone", namespace)
    await kube.patch(widgets, "kept", {"spec": {"x": 1}}, namespace)
    await kube.create(widgets, widget("new", namespace))
    state.store.compact()
    state.faults.clear()
    await wait_for(
        lambda: watched.seen("DELETED", "gone", from_list=True), what="synthetic DELETED"
    )
    assert watched.seen("MODIFIED", "kept", from_list=True)
    assert watched.seen("ADDED", "new", from_list=True)
    assert watched.watcher.relists >= 1
    assert sorted(k.name for k in watched.watcher.store) == ["kept", "new"]
    # and it keeps watching afterwards
    await kube.create(widgets, widget("after", namespace))
    await wait_for(lambda: watched.seen("ADDED", "after", from_list=False), what="ADDED after")


async def test_resume_after_apiserver_restart(
    kubeapi: KubeApiServer, kube: KubeClient, widgets: Resource, namespace: str, watched: Collected
) -> None:
    await kube.create(widgets, widget("a", namespace))
    await wait_for(lambda: watched.seen("ADDED", "a"), what="ADDED a")
    await kubeapi.restart()
    await kube.create(widgets, widget("b", namespace))
    await wait_for(lambda: watched.seen("ADDED", "b"), timeout=15, what="ADDED b after restart")
