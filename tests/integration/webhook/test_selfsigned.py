"""``--self-signed``: CA + serving cert, caBundle patched through a real Kubernetes API (the
devstack stand-in), rotation keeps serving, and no cluster means a clear log line."""

from __future__ import annotations

import base64
import dataclasses
import logging
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from kubernetes_asyncio import client, config

from devstack.kubeapi.config import KubeApiConfig
from devstack.kubeapi.server import KubeApiServer
from shared.certs import KeyPair
from shared.policy.engine import PolicyEngine
from tests.integration.webhook.conftest import (
    admission_review,
    base_config,
    start_webhook,
    wait_for,
)
from tests.integration.webhook.test_hardening import harness


def _hook(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "clientConfig": {"url": "https://127.0.0.1:1/validate"},
        "rules": [
            {
                "apiGroups": ["kagent.dev"],
                "apiVersions": ["v1alpha2"],
                "operations": ["CREATE", "UPDATE"],
                "resources": ["agentharnesses"],
            }
        ],
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        "failurePolicy": "Fail",
        "timeoutSeconds": 10,
    }


@pytest.fixture
async def kube(tmp_path: Path) -> AsyncIterator[Path]:
    """A Kubernetes API stand-in holding our two webhook configurations; yields its kubeconfig."""
    server = KubeApiServer(
        KubeApiConfig(state_dir=tmp_path / "kube", kubeconfig=tmp_path / "kubeconfig")
    )
    await server.start()
    try:
        cfg = client.Configuration()
        await config.load_kube_config(
            config_file=str(server.kubeconfig_path), client_configuration=cfg
        )
        async with client.ApiClient(cfg) as api:
            adm = client.AdmissionregistrationV1Api(api)
            await adm.create_validating_webhook_configuration(
                {
                    "apiVersion": "admissionregistration.k8s.io/v1",
                    "kind": "ValidatingWebhookConfiguration",
                    "metadata": {"name": "ks-validating"},
                    "webhooks": [_hook("validate.kagent.dev"), _hook("validate2.kagent.dev")],
                },
                _request_timeout=10,
            )
            await adm.create_mutating_webhook_configuration(
                {
                    "apiVersion": "admissionregistration.k8s.io/v1",
                    "kind": "MutatingWebhookConfiguration",
                    "metadata": {"name": "ks-mutating"},
                    "webhooks": [_hook("mutate.kagent.dev")],
                },
                _request_timeout=10,
            )
        yield server.kubeconfig_path
    finally:
        await server.stop()
        server.close()


async def _bundles(kubeconfig: Path) -> list[str]:
    cfg = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
    async with client.ApiClient(cfg) as api:
        adm = client.AdmissionregistrationV1Api(api)
        v = await adm.read_validating_webhook_configuration("ks-validating", _request_timeout=10)
        m = await adm.read_mutating_webhook_configuration("ks-mutating", _request_timeout=10)
    return [h.client_config.ca_bundle or "" for h in [*v.webhooks, *m.webhooks]]


async def _allowed(url: str, bundle_b64: str) -> bool:
    ctx = ssl.create_default_context(cadata=base64.b64decode(bundle_b64).decode())
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            url + "/validate",
            json=admission_review(harness()),
            ssl=ctx,
            timeout=aiohttp.ClientTimeout(total=5),
        ) as resp,
    ):
        return bool((await resp.json())["response"]["allowed"])


def _self_signed(tmp_path: Path, ca: KeyPair, **overrides: Any) -> Any:
    cfg = base_config(tmp_path, ca)
    return dataclasses.replace(
        cfg,
        tls_cert_file=None,
        tls_private_key_file=None,
        self_signed=True,
        cert_dir=tmp_path / "certs",
        extra_hosts=("127.0.0.1",),
        validating_webhook_configuration="ks-validating",
        mutating_webhook_configuration="ks-mutating",
        **overrides,
    )


async def test_ca_bundle_is_patched_and_trusted(
    tmp_path: Path, ca: KeyPair, engine: PolicyEngine, kube: Path
) -> None:
    server = await start_webhook(_self_signed(tmp_path, ca, kubeconfig=kube), engine)
    try:
        assert server.issuer is not None
        want = base64.b64encode(server.issuer.ca_bundle()).decode()
        await wait_for(
            lambda: _all_equal(kube, want), timeout=10, what="caBundle patched in all webhooks"
        )
        assert await _allowed(server.url, want)
        key_mode = (tmp_path / "certs" / "tls.key").stat().st_mode & 0o777
        assert key_mode == 0o600
    finally:
        await server.stop()


async def _all_equal(kube: Path, want: str) -> bool:
    return all(b == want for b in await _bundles(kube))


async def test_rotation_keeps_serving_and_publishes_new_ca(
    tmp_path: Path, ca: KeyPair, engine: PolicyEngine, kube: Path
) -> None:
    # rotate_fraction 1.0: every certificate is always due, so each step renews CA and cert;
    # a long poll interval leaves the steps to the test after the first one.
    cfg = _self_signed(
        tmp_path, ca, kubeconfig=kube, rotate_fraction=1.0, cert_poll_interval=3600.0
    )
    server = await start_webhook(cfg, engine)
    try:
        await wait_for(lambda: server.cert.reloads >= 1, timeout=10, what="first renewal")
        old_bundle = (await _bundles(kube))[0]
        await server.rotate_now()
        assert server.cert.reloads == 2
        bundles = await _bundles(kube)
        assert len(set(bundles)) == 1 and bundles[0] != old_bundle
        # The new bundle holds the new CA and the previous one: both certificates are trusted.
        assert await _allowed(server.url, bundles[0])
        pem = base64.b64decode(bundles[0]).decode()
        assert pem.count("BEGIN CERTIFICATE") == 2
    finally:
        await server.stop()


async def test_without_a_cluster_patching_is_skipped_with_a_log_line(
    tmp_path: Path, ca: KeyPair, engine: PolicyEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="webhook")
    server = await start_webhook(_self_signed(tmp_path, ca), engine)
    try:
        await wait_for(lambda: "caBundle" in caplog.text, what="the skip log line")
        assert "is not patched" in caplog.text
        assert server.issuer is not None
        bundle = base64.b64encode(server.issuer.ca_bundle()).decode()
        assert await _allowed(server.url, bundle)
    finally:
        await server.stop()


async def test_unreachable_cluster_is_retried_not_fatal(
    tmp_path: Path, ca: KeyPair, engine: PolicyEngine, caplog: pytest.LogCaptureFixture
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
        "    server: https://127.0.0.1:1\n    insecure-skip-tls-verify: true\n"
        "users:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: x\n  context:\n"
        "    cluster: c\n    user: u\ncurrent-context: x\n"
    )
    server = await start_webhook(_self_signed(tmp_path, ca, kubeconfig=kubeconfig), engine)
    try:
        await wait_for(lambda: "caBundle not patched" in caplog.text, timeout=10, what="warning")
        assert "retry in" in caplog.text
        status, _ = await _health(server.metrics_url + "/readyz")
        assert status == 200
    finally:
        await server.stop()


async def _health(url: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as resp,
    ):
        return resp.status, await resp.text()
