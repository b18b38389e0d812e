"""Fixtures: the devstack Kubernetes API stand-in on the test's own loop, and our client."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from devstack.kubeapi.config import KubeApiConfig
from devstack.kubeapi.server import KubeApiServer
from shared.kube import errors
from shared.kube.client import KubeClient, KubeClientConfig, RequestCounter, connect
from shared.kube.resources import CRD, NAMESPACE, Resource

T = TypeVar("T")

WIDGET = Resource("test.kagent.dev", "v1", "widgets")

WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.test.kagent.dev"},
    "spec": {
        "group": "test.kagent.dev",
        "scope": "Namespaced",
        "names": {
            "kind": "Widget",
            "plural": "widgets",
            "singular": "widget",
            "listKind": "WidgetList",
        },
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            },
                            "status": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            },
                        },
                    }
                },
            }
        ],
    },
}


@pytest.fixture
async def kubeapi(tmp_path: Path) -> AsyncIterator[KubeApiServer]:
    server = KubeApiServer(
        KubeApiConfig(
            state_dir=tmp_path / "state", kubeconfig=tmp_path / "kubeconfig", bookmark_interval=0.2
        )
    )
    await server.start()
    yield server
    await server.stop()
    server.close()


@pytest.fixture
def counter() -> RequestCounter:
    return RequestCounter()


@pytest.fixture
async def kube(kubeapi: KubeApiServer, counter: RequestCounter) -> AsyncIterator[KubeClient]:
    client = await connect(
        KubeClientConfig(
            kubeconfig=str(kubeapi.kubeconfig_path), request_timeout=5.0, watch_timeout=30.0
        ),
        observer=counter,
    )
    yield client
    await client.close()


@pytest.fixture
async def widgets(kube: KubeClient) -> Resource:
    """The Widget CRD (with a status subresource) is served."""
    with contextlib.suppress(errors.AlreadyExists):
        await kube.create(CRD, WIDGET_CRD)
    await wait_for(lambda: _served(kube), what="widgets served")
    return WIDGET


async def _served(kube: KubeClient) -> bool:
    try:
        await kube.list(WIDGET, "default", limit=1)
        return True
    except errors.NotFound:
        return False


@pytest.fixture
async def namespace(kube: KubeClient) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    await kube.create(NAMESPACE, {"metadata": {"name": name}})
    return name


async def wait_for(
    predicate: Callable[[], Awaitable[T] | T], timeout: float = 10.0, what: str = "condition"
) -> T:
    """Await ``predicate`` until truthy; fail with the last value seen."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if asyncio.iscoroutine(last) or isinstance(last, asyncio.Future):
            last = await last
        if last:
            return last  # type: ignore[no-any-return]
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}; last value: {last!r}")
