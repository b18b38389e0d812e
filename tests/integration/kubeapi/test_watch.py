"""Watches through kubernetes_asyncio: initial state, resume from a resourceVersion, 410 relist,
bookmarks, selectors, and injected drops."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from kubernetes_asyncio import client as aclient
from kubernetes_asyncio import config as aconfig
from kubernetes_asyncio import watch as awatch
from kubernetes_asyncio.client.exceptions import ApiException

from tests.integration.kubeapi.conftest import raw


@pytest.fixture
async def aapi(api):
    cfg = aclient.Configuration()
    await aconfig.load_kube_config(config_file=str(api.kubeconfig), client_configuration=cfg)
    async with aclient.ApiClient(cfg) as c:
        yield c


async def _collect(stream, count: int, timeout: float = 10.0) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []

    async def run() -> None:
        async for ev in stream:
            obj = ev["object"]
            seen.append(
                (
                    ev["type"],
                    obj.metadata.name if hasattr(obj, "metadata") else obj["metadata"]["name"],
                )
            )
            if len(seen) >= count:
                return

    await asyncio.wait_for(run(), timeout)
    return seen


async def test_watch_streams_changes_with_selector(aapi, namespace):
    core = aclient.CoreV1Api(aapi)
    rv = (await core.list_namespaced_config_map(namespace)).metadata.resource_version
    await core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "pre", "labels": {"w": "1"}}}
    )
    w = awatch.Watch()
    stream = w.stream(
        core.list_namespaced_config_map,
        namespace,
        label_selector="w=1",
        resource_version=rv,
        timeout_seconds=10,
    )
    task = asyncio.create_task(_collect(stream, 4))
    await core.create_namespaced_config_map(namespace, {"metadata": {"name": "other"}})
    await core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "new", "labels": {"w": "1"}}}
    )
    await core.patch_namespaced_config_map("new", namespace, {"data": {"a": "b"}})
    await core.patch_namespaced_config_map("pre", namespace, {"metadata": {"labels": {"w": None}}})
    events = await task
    w.stop()
    assert events == [("ADDED", "pre"), ("ADDED", "new"), ("MODIFIED", "new"), ("DELETED", "pre")]


async def test_watch_resumes_from_resource_version(aapi, namespace):
    core = aclient.CoreV1Api(aapi)
    listed = await core.list_namespaced_config_map(namespace)
    rv = listed.metadata.resource_version
    await core.create_namespaced_config_map(namespace, {"metadata": {"name": "a"}})
    await core.delete_namespaced_config_map("a", namespace)
    w = awatch.Watch()
    events = await _collect(
        w.stream(
            core.list_namespaced_config_map, namespace, resource_version=rv, timeout_seconds=10
        ),
        2,
    )
    w.stop()
    assert events == [("ADDED", "a"), ("DELETED", "a")]


async def test_too_old_resource_version_is_410_then_relist(api, aapi, namespace):
    core = aclient.CoreV1Api(aapi)
    await core.create_namespaced_config_map(namespace, {"metadata": {"name": "old"}})
    rv = (await core.list_namespaced_config_map(namespace)).metadata.resource_version
    await core.create_namespaced_config_map(namespace, {"metadata": {"name": "later"}})
    status, _, _ = raw(api, "POST", "/devstack/faults", {"compact": True})
    assert status == 200
    w = awatch.Watch()
    with pytest.raises(ApiException) as err:
        async for _ in w.stream(
            core.list_namespaced_config_map, namespace, resource_version=rv, timeout_seconds=5
        ):
            pass
    assert err.value.status == 410
    relisted = await core.list_namespaced_config_map(namespace)
    assert sorted(c.metadata.name for c in relisted.items) == ["later", "old"]
    fresh = relisted.metadata.resource_version
    task = asyncio.create_task(
        _collect(
            w.stream(
                core.list_namespaced_config_map,
                namespace,
                resource_version=fresh,
                timeout_seconds=10,
            ),
            1,
        )
    )
    await core.create_namespaced_config_map(namespace, {"metadata": {"name": "after"}})
    assert await task == [("ADDED", "after")]


async def test_bookmarks_carry_the_current_resource_version(api, aapi, namespace):
    core = aclient.CoreV1Api(aapi)
    rv = (await core.list_namespaced_config_map(namespace)).metadata.resource_version
    # raw stream: bookmarks are filtered by the Watch helper
    resp = await core.list_namespaced_config_map(
        namespace,
        watch=True,
        allow_watch_bookmarks=True,
        resource_version=rv,
        timeout_seconds=5,
        _preload_content=False,
    )
    async with resp:
        line = await asyncio.wait_for(resp.content.readline(), 5)
    import json

    ev = json.loads(line)
    assert ev["type"] == "BOOKMARK" and int(ev["object"]["metadata"]["resourceVersion"]) >= int(rv)
    assert ev["object"]["kind"] == "ConfigMap"


async def test_dropped_watch_ends_the_stream(fresh_api):
    api = fresh_api
    cfg = aclient.Configuration()
    await aconfig.load_kube_config(config_file=str(api.kubeconfig), client_configuration=cfg)
    async with aclient.ApiClient(cfg) as c:
        await _drop_and_see_end(api, aclient.CoreV1Api(c), "default")


async def _drop_and_see_end(api, core, namespace):
    w = awatch.Watch()
    ended = asyncio.Event()

    async def consume() -> None:
        async for _ in w.stream(core.list_namespaced_config_map, namespace, timeout_seconds=30):
            pass
        ended.set()

    task = asyncio.create_task(consume())
    deadline = asyncio.get_running_loop().time() + 5
    while True:
        _, state, _ = raw(api, "GET", "/devstack/faults")
        if state["openWatches"] >= 1 or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.02)
    _, dropped, _ = raw(api, "POST", "/devstack/faults", {"dropWatches": True})
    assert dropped["droppedWatches"] >= 1
    await asyncio.wait_for(ended.wait(), 5)
    with contextlib.suppress(asyncio.CancelledError):
        await task
