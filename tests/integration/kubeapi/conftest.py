"""Fixtures: a stand-in API server in a background thread (so sync clients and kubectl can
call it from tests), official clients configured from its kubeconfig, and a kubectl runner."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import kubernetes
import pytest

from devstack.kubeapi.config import KubeApiConfig
from devstack.kubeapi.server import KubeApiServer

T = TypeVar("T")
KUBECTL = Path(sys.executable).parent / "kubectl"


class ServerThread:
    """A `KubeApiServer` running on its own event loop in a daemon thread."""

    def __init__(self, config: KubeApiConfig) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = KubeApiServer(config)
        self.call(self.server.start())

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run a coroutine on the server's loop and wait for it."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def run(self, fn: Callable[[], T]) -> T:
        """Run a plain function on the server's loop (to touch its state safely)."""

        async def wrapper() -> T:
            return fn()

        return self.call(wrapper())

    @property
    def kubeconfig(self) -> Path:
        """Path of the kubeconfig it wrote."""
        return self.server.kubeconfig_path

    def close(self) -> None:
        """Stop the server and its loop."""
        self.call(self.server.stop())
        self.server.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def make_server(tmp: Path, **kw: Any) -> ServerThread:
    """Start a server with its state under ``tmp``."""
    cfg = KubeApiConfig(
        state_dir=tmp / "state", kubeconfig=tmp / "kubeconfig", bookmark_interval=0.2, **kw
    )
    return ServerThread(cfg)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    srv = make_server(tmp_path_factory.mktemp("kubeapi"))
    yield srv
    srv.close()


@pytest.fixture
def fresh_api(tmp_path: Path) -> Iterator[ServerThread]:
    srv = make_server(tmp_path)
    yield srv
    srv.close()


def sync_client(srv: ServerThread) -> kubernetes.client.ApiClient:
    """An official (sync) client configured from the kubeconfig."""
    cfg = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=str(srv.kubeconfig), client_configuration=cfg)
    return kubernetes.client.ApiClient(cfg)


@pytest.fixture
def client(api: ServerThread) -> Iterator[kubernetes.client.ApiClient]:
    c = sync_client(api)
    yield c
    c.close()


@pytest.fixture
def namespace(client: kubernetes.client.ApiClient) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    kubernetes.client.CoreV1Api(client).create_namespace({"metadata": {"name": name}})
    return name


class Kubectl:
    """Runs the venv's kubectl against one server with a private discovery cache."""

    def __init__(self, srv: ServerThread, cache: Path) -> None:
        self.env = {**os.environ, "KUBECONFIG": str(srv.kubeconfig), "KUBECACHEDIR": str(cache)}

    def __call__(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(KUBECTL), *args],
            input=stdin,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}"
            )
        return proc

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "-o", "json").stdout)


@pytest.fixture
def kubectl(api: ServerThread, tmp_path: Path) -> Kubectl:
    return Kubectl(api, tmp_path / "kube-cache")


def wait_for(predicate: Callable[[], T], timeout: float = 10.0, what: str = "condition") -> T:
    """Poll ``predicate`` until it returns a truthy value; fail with the last value seen."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}; last value: {last!r}")


TEST_CRD: dict[str, Any] = {
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
            "shortNames": ["wd"],
            "listKind": "WidgetList",
        },
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                    {
                        "name": "Ready",
                        "type": "string",
                        "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
                    },
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "x-kubernetes-validations": [
                                    {
                                        "rule": "self.size <= 10",
                                        "message": "size must be at most 10",
                                    }
                                ],
                                "properties": {
                                    "size": {"type": "integer", "minimum": 0, "default": 1},
                                    "color": {"type": "string", "enum": ["red", "blue"]},
                                },
                            },
                            "status": {
                                "type": "object",
                                "properties": {
                                    "conditions": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "type": {"type": "string"},
                                                "status": {"type": "string"},
                                            },
                                        },
                                    }
                                },
                            },
                        },
                    }
                },
            }
        ],
    },
}


def ensure_crd(client: kubernetes.client.ApiClient) -> None:
    """Create the test Widget CRD once per server."""
    ext = kubernetes.client.ApiextensionsV1Api(client)
    try:
        ext.create_custom_resource_definition(TEST_CRD)
    except kubernetes.client.ApiException as exc:
        if exc.status != 409:
            raise


def raw(
    srv: ServerThread,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, Any]:
    """One HTTPS request with the admin token: (status, decoded JSON body, headers)."""
    import urllib3

    pool = urllib3.PoolManager(ca_certs=str(srv.server.state_dir / "ca.crt"))
    hdrs = {
        "Authorization": f"Bearer {srv.server.token.reveal()}",
        "Content-Type": "application/json",
        **(headers or {}),
    }
    data = (
        None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    )
    resp = pool.request(method, srv.server.url + path, body=data, headers=hdrs)
    try:
        decoded = json.loads(resp.data) if resp.data else None
    except ValueError:
        decoded = resp.data.decode()
    return resp.status, decoded, resp.headers
