"""kubectl against the stand-in: apply/get/describe with CRD printer columns, and admission
webhooks called over HTTPS with caBundle verification (denial and warning shown by kubectl)."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from shared.certs import make_ca, make_serving_cert
from tests.integration.kubeapi.conftest import Kubectl, ensure_crd, sync_client

WIDGET = """apiVersion: test.kagent.dev/v1
kind: Widget
metadata:
  name: {name}
  namespace: {ns}
  labels: {{app: demo}}
spec:
  size: {size}
"""


def test_kubectl_apply_get_describe_custom_resource(api, client, kubectl: Kubectl, namespace):
    ensure_crd(client)
    out = kubectl("apply", "-f", "-", stdin=WIDGET.format(name="w1", ns=namespace, size=2))
    assert "widget.test.kagent.dev/w1 created" in out.stdout
    out = kubectl("apply", "-f", "-", stdin=WIDGET.format(name="w1", ns=namespace, size=4))
    assert "widget.test.kagent.dev/w1 configured" in out.stdout
    table = kubectl("get", "wd", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "SIZE", "READY", "AGE"]
    assert table[1].split()[:2] == ["w1", "4"]
    assert kubectl.json("get", "widget", "w1", "-n", namespace)["metadata"]["generation"] == 2
    described = kubectl("describe", "widget", "w1", "-n", namespace).stdout
    assert "Size:  4" in described and "Kind:         Widget" in described
    bad = kubectl(
        "apply", "-f", "-", stdin=WIDGET.format(name="w2", ns=namespace, size=11), check=False
    )
    assert bad.returncode == 1 and "size must be at most 10" in bad.stderr
    strict = kubectl(
        "apply",
        "-f",
        "-",
        stdin=WIDGET.format(name="w3", ns=namespace, size=1) + "  extra: 1\n",
        check=False,
    )
    assert strict.returncode == 1 and 'unknown field "spec.extra"' in strict.stderr
    kubectl("delete", "widget", "w1", "-n", namespace)
    assert "No resources found" in kubectl("get", "widgets", "-n", namespace).stderr


def test_kubectl_builtin_apply_and_label_selector(kubectl: Kubectl, namespace):
    cm = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: k1\n  namespace: {namespace}\n  labels: {{t: x}}\ndata:\n  a: '1'\n"
    kubectl("apply", "-f", "-", stdin=cm)
    kubectl("apply", "-f", "-", stdin=cm.replace("'1'", "'2'"))
    got = kubectl.json("get", "cm", "-n", namespace, "-l", "t=x")
    assert [i["data"]["a"] for i in got["items"]] == ["2"]


class Webhook:
    """A tiny HTTPS admission webhook: denies size 7, warns on size 5, labels on mutate."""

    def __init__(self, tmp: Path) -> None:
        self.ca = make_ca("webhook-test-ca")
        serving = make_serving_cert(self.ca, ["127.0.0.1"])
        serving.write(tmp / "wh.crt", tmp / "wh.key")
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ctx.load_cert_chain(tmp / "wh.crt", tmp / "wh.key")
        self.calls: list[dict[str, Any]] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> int:
        app = web.Application()
        app.router.add_post("/validate", self._validate)
        app.router.add_post("/mutate", self._mutate)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=self.ctx)
        await site.start()
        return site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _validate(self, request: web.Request) -> web.Response:
        review = await request.json()
        self.calls.append(review)
        req = review["request"]
        size = ((req.get("object") or {}).get("spec") or {}).get("size")
        resp: dict[str, Any] = {"uid": req["uid"], "allowed": size != 7}
        if size == 7:
            resp["status"] = {"code": 403, "reason": "Forbidden", "message": "size 7 is unlucky"}
        if size == 5:
            resp["warnings"] = ["size 5 is deprecated"]
        return web.json_response(
            {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": resp}
        )

    async def _mutate(self, request: web.Request) -> web.Response:
        review = await request.json()
        req = review["request"]
        patch = [{"op": "add", "path": "/metadata/labels/mutated", "value": "yes"}]
        resp = {
            "uid": req["uid"],
            "allowed": True,
            "patchType": "JSONPatch",
            "patch": base64.b64encode(json.dumps(patch).encode()).decode(),
        }
        return web.json_response(
            {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": resp}
        )

    def hook(self, path: str, ca_pem: bytes | None = None, **extra: Any) -> dict[str, Any]:
        return {
            "name": f"{path.strip('/')}.test.kagent.dev",
            "admissionReviewVersions": ["v1"],
            "sideEffects": "None",
            "clientConfig": {
                "url": f"https://127.0.0.1:{self.port}{path}",
                "caBundle": base64.b64encode(ca_pem or self.ca.cert_pem).decode(),
            },
            "rules": [
                {
                    "operations": ["CREATE", "UPDATE"],
                    "apiGroups": ["test.kagent.dev"],
                    "apiVersions": ["*"],
                    "resources": ["widgets"],
                }
            ],
            **extra,
        }

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def webhook(tmp_path: Path) -> Iterator[Webhook]:
    wh = Webhook(tmp_path)
    yield wh
    wh.close()


def _register(kubectl: Kubectl, kind: str, name: str, hooks: list[dict[str, Any]]) -> None:
    doc = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": name},
        "webhooks": hooks,
    }
    kubectl("apply", "-f", "-", stdin=json.dumps(doc))


def test_webhooks_deny_warn_and_mutate_through_kubectl(fresh_api, webhook: Webhook, tmp_path: Path):
    kubectl = Kubectl(fresh_api, tmp_path / "cache")
    c = sync_client(fresh_api)
    ensure_crd(c)
    c.close()
    sel = {
        "matchConditions": [
            {
                "name": "not-skipped",
                "expression": "!has(object.metadata.labels) || !('skip' in object.metadata.labels)",
            }
        ]
    }
    _register(kubectl, "ValidatingWebhookConfiguration", "v", [webhook.hook("/validate", **sel)])
    _register(
        kubectl,
        "MutatingWebhookConfiguration",
        "m",
        [webhook.hook("/mutate", reinvocationPolicy="IfNeeded")],
    )
    denied = kubectl(
        "apply", "-f", "-", stdin=WIDGET.format(name="w7", ns="default", size=7), check=False
    )
    assert denied.returncode == 1
    assert (
        'admission webhook "validate.test.kagent.dev" denied the request: size 7 is unlucky'
        in denied.stderr
    )
    assert "Error from server (Forbidden)" in denied.stderr
    warned = kubectl("apply", "-f", "-", stdin=WIDGET.format(name="w5", ns="default", size=5))
    assert "Warning: size 5 is deprecated" in warned.stderr
    obj = kubectl.json("get", "widget", "w5", "-n", "default")
    assert obj["metadata"]["labels"]["mutated"] == "yes"
    review = webhook.calls[-1]
    assert (
        review["request"]["operation"] == "CREATE" and review["request"]["kind"]["kind"] == "Widget"
    )
    assert review["request"]["object"]["metadata"]["labels"]["mutated"] == "yes", (
        "validating sees mutations"
    )
    n = len(webhook.calls)
    skipped = WIDGET.format(name="w7s", ns="default", size=7).replace(
        "app: demo", "app: demo, skip: 'y'"
    )
    kubectl("apply", "-f", "-", stdin=skipped)
    assert len(webhook.calls) == n, "matchConditions false: webhook not called"


def test_webhook_with_wrong_ca_fails_closed(fresh_api, webhook: Webhook, tmp_path: Path):
    kubectl = Kubectl(fresh_api, tmp_path / "cache")
    c = sync_client(fresh_api)
    ensure_crd(c)
    c.close()
    other_ca = make_ca("not-the-webhook-ca").cert_pem
    _register(
        kubectl, "ValidatingWebhookConfiguration", "v", [webhook.hook("/validate", ca_pem=other_ca)]
    )
    out = kubectl(
        "apply", "-f", "-", stdin=WIDGET.format(name="w1", ns="default", size=1), check=False
    )
    assert out.returncode == 1 and 'failed calling webhook "validate.test.kagent.dev"' in out.stderr
    assert "CERTIFICATE_VERIFY_FAILED" in out.stderr and not webhook.calls
    _register(
        kubectl,
        "ValidatingWebhookConfiguration",
        "v",
        [webhook.hook("/validate", ca_pem=other_ca, failurePolicy="Ignore")],
    )
    kubectl("apply", "-f", "-", stdin=WIDGET.format(name="w1", ns="default", size=1))
