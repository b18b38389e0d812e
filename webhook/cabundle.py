"""Publish our CA: patch ``caBundle`` into our Validating/MutatingWebhookConfiguration.

Used by ``--self-signed`` only (with cert-manager, its CA injector does this). Every call has a
deadline; a failed publish is retried by the caller with capped, jittered backoff. The API
client is created per publish (rare) and closed after, so no client outlives its use.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException

log = logging.getLogger(__name__)


class PublishError(Exception):
    """The caBundle could not be patched; the message says which object and why."""


@dataclass(frozen=True, slots=True)
class KubeTarget:
    """How to reach the API server: a kubeconfig file, or the pod's service account."""

    kubeconfig: Path | None = None
    in_cluster: bool = False
    timeout: float = 10.0
    """Seconds each API call may take."""


async def _api_client(target: KubeTarget) -> client.ApiClient:
    cfg = client.Configuration()
    if target.in_cluster:
        config.load_incluster_config(client_configuration=cfg)
    else:
        await config.load_kube_config(
            config_file=str(target.kubeconfig), client_configuration=cfg, persist_config=False
        )
    return client.ApiClient(cfg)


def _ops(webhooks: list[Any], bundle_b64: str) -> list[dict[str, Any]]:
    ops = []
    for i, hook in enumerate(webhooks or []):
        current = getattr(hook.client_config, "ca_bundle", None) if hook.client_config else None
        if current != bundle_b64:
            ops.append(
                {"op": "add", "path": f"/webhooks/{i}/clientConfig/caBundle", "value": bundle_b64}
            )
    return ops


async def publish_ca_bundle(
    target: KubeTarget, bundle_pem: bytes, *, validating: str, mutating: str
) -> int:
    """Patch ``bundle_pem`` into every webhook of both configurations; return entries changed."""
    bundle_b64 = base64.b64encode(bundle_pem).decode("ascii")
    changed = 0
    try:
        async with asyncio.timeout(target.timeout * 4):
            api = await _api_client(target)
            async with api:
                adm = client.AdmissionregistrationV1Api(api)
                pairs = (
                    ("ValidatingWebhookConfiguration", validating,
                     adm.read_validating_webhook_configuration,
                     adm.patch_validating_webhook_configuration),
                    ("MutatingWebhookConfiguration", mutating,
                     adm.read_mutating_webhook_configuration,
                     adm.patch_mutating_webhook_configuration),
                )  # fmt: skip
                for kind, name, read, patch in pairs:
                    obj = await read(name, _request_timeout=target.timeout)
                    ops = _ops(obj.webhooks, bundle_b64)
                    if ops:
                        await patch(name, ops, _request_timeout=target.timeout)
                        log.info("patched caBundle of %s %s (%d webhooks)", kind, name, len(ops))
                    changed += len(ops)
    except ApiException as exc:
        raise PublishError(f"caBundle not patched: HTTP {exc.status} {exc.reason}") from exc
    except TimeoutError as exc:
        raise PublishError("caBundle not patched: the API server did not answer in time") from exc
    except (OSError, ValueError, config.ConfigException) as exc:
        raise PublishError(f"caBundle not patched: {type(exc).__name__}: {exc}") from exc
    return changed
