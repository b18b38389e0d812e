"""A real webhook server on 127.0.0.1 (HTTPS, port 0) and a client that trusts its CA."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from shared.certs import KeyPair, make_ca, make_serving_cert
from shared.policy.engine import EngineConfig, PolicyEngine
from webhook.config import WebhookConfig
from webhook.server import WebhookServer

_UIDS = itertools.count(1)


def admission_review(
    obj: dict[str, Any] | None,
    *,
    old: dict[str, Any] | None = None,
    operation: str = "CREATE",
    dry_run: bool = False,
) -> dict[str, Any]:
    """An AdmissionReview shaped as the kube-apiserver sends it."""
    src = obj if obj is not None else (old or {})
    api_version = str(src.get("apiVersion", ""))
    group, _, version = api_version.rpartition("/")
    meta = src.get("metadata") or {}
    kind = str(src.get("kind", ""))
    resource = kind.lower() + "s" if kind else ""
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": f"uid-{next(_UIDS)}",
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": resource},
            "requestKind": {"group": group, "version": version, "kind": kind},
            "requestResource": {"group": group, "version": version, "resource": resource},
            "name": meta.get("name", ""),
            "namespace": meta.get("namespace") or "default",
            "operation": operation,
            "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters"]},
            "object": obj,
            "oldObject": old,
            "dryRun": dry_run,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        },
    }


@dataclass
class Webhook:
    server: WebhookServer
    ca: KeyPair
    session: aiohttp.ClientSession
    ssl: ssl.SSLContext

    @property
    def url(self) -> str:
        return self.server.url

    async def post(
        self, path: str, body: Any, *, content_type: str = "application/json"
    ) -> tuple[int, Any]:
        """POST raw bytes or a JSON document; return (HTTP status, decoded JSON or text)."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with self.session.post(
            self.url + path,
            data=data,
            headers={"Content-Type": content_type},
            ssl=self.ssl,
            timeout=aiohttp.ClientTimeout(total=10),
        ) as resp:
            text = await resp.text()
            try:
                return resp.status, json.loads(text)
            except ValueError:
                return resp.status, text

    async def review(self, path: str, review: dict[str, Any]) -> dict[str, Any]:
        status, doc = await self.post(path, review)
        assert status == 200, doc
        assert doc["apiVersion"] == review["apiVersion"]
        assert doc["kind"] == "AdmissionReview"
        assert doc["response"]["uid"] == review["request"]["uid"]
        return dict(doc["response"])

    async def get(self, path: str) -> tuple[int, str]:
        async with self.session.get(
            self.server.metrics_url + path, timeout=aiohttp.ClientTimeout(total=10)
        ) as resp:
            return resp.status, await resp.text()


def write_pair(tmp: Path, ca: KeyPair, hosts: list[str] | None = None) -> tuple[Path, Path]:
    """A serving cert for 127.0.0.1 signed by ``ca``, written to tmp/tls.crt and tmp/tls.key."""
    pair = make_serving_cert(ca, hosts or ["127.0.0.1", "localhost"])
    cert, key = tmp / "tls.crt", tmp / "tls.key"
    pair.write(cert, key)
    return cert, key


def client_context(ca: KeyPair) -> ssl.SSLContext:
    return ssl.create_default_context(cadata=ca.cert_pem.decode())


@pytest.fixture(scope="session")
def engine() -> PolicyEngine:
    return PolicyEngine.from_dir(None, EngineConfig(default_namespace="default"))


@pytest.fixture(scope="session")
def ca() -> KeyPair:
    return make_ca("webhook-test-ca")


async def start_webhook(config: WebhookConfig, engine: PolicyEngine | None = None) -> WebhookServer:
    server = WebhookServer(config, engine=engine)
    await server.start()
    return server


def base_config(tmp_path: Path, ca: KeyPair, **overrides: Any) -> WebhookConfig:
    cert, key = write_pair(tmp_path, ca)
    cfg = WebhookConfig(
        port=0,
        metrics_port=0,
        bind_address="127.0.0.1",
        tls_cert_file=cert,
        tls_private_key_file=key,
        cert_poll_interval=0.05,
        shutdown_timeout=5.0,
    )
    return dataclasses.replace(cfg, **overrides)


@pytest.fixture
async def webhook(tmp_path: Path, ca: KeyPair, engine: PolicyEngine) -> AsyncIterator[Webhook]:
    server = await start_webhook(base_config(tmp_path, ca), engine)
    session = aiohttp.ClientSession()
    try:
        yield Webhook(server, ca, session, client_context(ca))
    finally:
        await session.close()
        await server.stop()


@pytest.fixture
def captured_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every record of every logger at DEBUG and above."""
    caplog.set_level(logging.DEBUG)
    return caplog


async def wait_for(
    predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition"
) -> None:
    """Poll ``predicate`` (sync or async) until truthy, failing after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    while loop.time() < deadline:
        last = predicate()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}; last value {last!r}")
