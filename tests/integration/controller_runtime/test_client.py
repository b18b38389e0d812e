"""`shared/kube/client.py` against the devstack API stand-in: CRUD, status, paging, errors."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from devstack.kubeapi.server import KubeApiServer
from shared.kube import errors
from shared.kube.client import KubeClient, KubeClientConfig, RequestCounter, connect
from shared.kube.resources import CONFIG_MAP, SECRET, Resource
from shared.kube.retry import patch_status


def widget(name: str, ns: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "test.kagent.dev/v1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": "w"}},
        "spec": spec,
    }


async def test_crud_roundtrip(kube: KubeClient, widgets: Resource, namespace: str) -> None:
    created = await kube.create(widgets, widget("a", namespace, size=1))
    assert created["metadata"]["uid"]
    got = await kube.get(widgets, "a", namespace)
    assert got["spec"] == {"size": 1}

    got["spec"]["size"] = 2
    replaced = await kube.replace(widgets, got)
    assert replaced["spec"]["size"] == 2
    with pytest.raises(errors.Conflict):
        await kube.replace(widgets, got)  # stale resourceVersion

    merged = await kube.patch(widgets, "a", {"spec": {"color": "red"}}, namespace)
    assert merged["spec"] == {"size": 2, "color": "red"}
    jsonp = await kube.patch(
        widgets,
        "a",
        [{"op": "replace", "path": "/spec/size", "value": 3}],
        namespace,
        patch_type="json",
    )
    assert jsonp["spec"]["size"] == 3

    with pytest.raises(errors.AlreadyExists):
        await kube.create(widgets, widget("a", namespace))

    await kube.delete(widgets, "a", namespace, propagation_policy="Background")
    with pytest.raises(errors.NotFound):
        await kube.get(widgets, "a", namespace)


async def test_status_subresource_and_conflict_retry(
    kube: KubeClient, widgets: Resource, namespace: str
) -> None:
    await kube.create(widgets, widget("s", namespace, size=1))
    out = await kube.patch_status(widgets, "s", {"status": {"phase": "A"}}, namespace)
    assert out["status"] == {"phase": "A"}
    # The main resource ignores status; the status subresource ignores spec.
    spec_write = await kube.patch(widgets, "s", {"status": {"phase": "B"}}, namespace)
    assert spec_write["status"] == {"phase": "A"}

    # A concurrent writer bumps the resourceVersion between our read and our write, once.
    calls = 0

    def compute(live: dict[str, Any]) -> dict[str, Any] | None:
        nonlocal calls
        calls += 1
        return {"seen": live["spec"]["size"]}

    original_get = kube.get

    async def racing_get(*a: Any, **kw: Any) -> dict[str, Any]:
        obj = await original_get(*a, **kw)
        if calls == 0:
            await kube.patch(widgets, "s", {"spec": {"size": 5}}, namespace)
        return obj

    kube.get = racing_get  # type: ignore[method-assign]
    written = await patch_status(kube, widgets, "s", namespace, compute)
    assert written is not None and written["status"]["seen"] == 5
    assert calls == 2
    assert await patch_status(kube, widgets, "s", namespace, lambda live: None) is None

    # update_status with a stale resourceVersion is a Conflict.
    stale = await kube.get(widgets, "s", namespace)
    await kube.patch_status(widgets, "s", {"status": {"phase": "C"}}, namespace)
    stale["status"] = {"phase": "D"}
    with pytest.raises(errors.Conflict):
        await kube.update_status(widgets, stale)


async def test_list_paging_selectors_and_counts(
    kube: KubeClient, widgets: Resource, namespace: str, counter: RequestCounter
) -> None:
    for i in range(7):
        w = widget(f"p{i}", namespace)
        w["metadata"]["labels"] = {"parity": "even" if i % 2 == 0 else "odd"}
        await kube.create(widgets, w)
    page = await kube.list(widgets, namespace, limit=3)
    assert len(page.items) == 3 and page.continue_token and page.resource_version
    assert page.items[0]["kind"] == "Widget"
    before = counter.by_verb["list"]
    everything = await kube.list_all(widgets, namespace, page_size=3)
    assert sorted(o["metadata"]["name"] for o in everything.items) == [f"p{i}" for i in range(7)]
    assert counter.by_verb["list"] - before == 3
    even = await kube.list_all(widgets, namespace, label_selector="parity=even")
    assert len(even.items) == 4
    named = await kube.list(widgets, namespace, field_selector="metadata.name=p3")
    assert [o["metadata"]["name"] for o in named.items] == ["p3"]
    assert counter.by_verb["create"] >= 7
    assert counter.writes >= 7


async def test_core_resources_and_delete_preconditions(kube: KubeClient, namespace: str) -> None:
    sec = await kube.create(
        SECRET, {"metadata": {"name": "tok", "namespace": namespace}, "stringData": {"token": "x"}}
    )
    with pytest.raises(errors.Conflict):
        await kube.delete(SECRET, "tok", namespace, uid="00000000-0000-0000-0000-000000000000")
    await kube.delete(SECRET, "tok", namespace, uid=sec["metadata"]["uid"])
    with pytest.raises(errors.NotFound):
        await kube.get(SECRET, "tok", namespace)
    with pytest.raises(errors.Invalid) as exc:
        await kube.create(CONFIG_MAP, {"metadata": {"name": "Not_Valid", "namespace": namespace}})
    assert "Not_Valid" in exc.value.message
    with pytest.raises(ValueError, match="namespaced"):
        await kube.get(SECRET, "tok")


async def test_injected_faults_map_to_typed_errors(
    kubeapi: KubeApiServer, kube: KubeClient, namespace: str
) -> None:
    assert kubeapi.state is not None
    kubeapi.state.faults.configure(
        {
            "errors": [
                {"verb": "get", "resource": "configmaps", "code": c} for c in (429, 503, 500, 403)
            ]
        }
    )
    with pytest.raises(errors.TooManyRequests) as tmr:
        await kube.get(CONFIG_MAP, "x", namespace)
    assert tmr.value.retry_after == 1.0 and tmr.value.retryable
    with pytest.raises(errors.Unavailable):
        await kube.get(CONFIG_MAP, "x", namespace)
    with pytest.raises(errors.ServerError):
        await kube.get(CONFIG_MAP, "x", namespace)
    with pytest.raises(errors.Forbidden):
        await kube.get(CONFIG_MAP, "x", namespace)


async def test_every_call_has_a_deadline(kubeapi: KubeApiServer) -> None:
    assert kubeapi.state is not None
    kubeapi.state.faults.configure({"latency": {"get": 5.0}})
    client = await connect(
        KubeClientConfig(kubeconfig=str(kubeapi.kubeconfig_path), request_timeout=0.3)
    )
    try:
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(errors.Timeout) as exc:
            await client.get(CONFIG_MAP, "x", "default")
        assert loop.time() - start < 2.0
        assert isinstance(exc.value, TimeoutError)
    finally:
        kubeapi.state.faults.clear()
        await client.close()


async def test_connection_refused_is_unavailable(tmp_path: Any) -> None:
    cfg = tmp_path / "kubeconfig"
    cfg.write_text(
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}]\n"
        "users: [{name: u, user: {token: abc}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n"
    )
    client = await connect(KubeClientConfig(kubeconfig=str(cfg), request_timeout=2.0))
    try:
        with pytest.raises(errors.Unavailable) as exc:
            await client.get(SECRET, "x", "default")
        assert isinstance(exc.value, ConnectionError)
        assert "abc" not in str(exc.value)
    finally:
        await client.close()
