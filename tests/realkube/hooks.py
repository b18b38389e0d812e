"""Our webhook as a real process, registered with the real apiserver through the chart's own
rendered webhook configurations, rewritten to the ``url:`` form (envtest does the same: there is
no cluster network to reach a Service)."""

from __future__ import annotations

import base64
import copy
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devstack.stack import Proc, start, webhook_command
from tests.chart.render import find, render
from tests.realkube.api import Api

HOOK_KINDS = ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")
HOOK_PLURALS = {
    "ValidatingWebhookConfiguration": "validatingwebhookconfigurations",
    "MutatingWebhookConfiguration": "mutatingwebhookconfigurations",
}
ADMISSION = "/apis/admissionregistration.k8s.io/v1"


def start_webhook(workdir: Path, *extra: str) -> Proc:
    """``kagent-substrate webhook --self-signed`` on 127.0.0.1 (READY line: its URL)."""
    workdir.mkdir(parents=True, exist_ok=True)
    return start("webhook", [*webhook_command(workdir / "certs"), *extra], workdir)


def url_form(config: dict[str, Any], url: str, ca_pem: bytes) -> dict[str, Any]:
    """A rendered webhook configuration with ``service:`` replaced by ``url:`` + ``caBundle``."""
    out = copy.deepcopy(config)
    out["metadata"] = {
        "name": config["metadata"]["name"],
        "labels": config["metadata"].get("labels", {}),
    }
    for hook in out["webhooks"]:
        path = hook["clientConfig"]["service"].get("path", "")
        hook["clientConfig"] = {
            "url": url.rstrip("/") + path,
            "caBundle": base64.b64encode(ca_pem).decode(),
        }
    return out


def chart_configurations(
    url: str, ca_pem: bytes, values: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The chart's two webhook configurations (``helm template``), in url form."""
    objs = render(values)
    return [url_form(o, url, ca_pem) for kind in HOOK_KINDS for o in find(objs, kind)]


def wait_until(what: str, check: Any, timeout: float = 30.0) -> Any:
    """Poll ``check()`` until truthy (the apiserver's informers pick up configurations)."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout:.0f}s (last: {value!r})")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


@contextmanager
def registered(api: Api, configs: list[dict[str, Any]]) -> Iterator[None]:
    """Create the configurations; delete them afterwards (before the webhook stops)."""
    for cfg in configs:
        answer = api.call("POST", f"{ADMISSION}/{HOOK_PLURALS[cfg['kind']]}", cfg)
        assert answer.allowed, (answer.status, answer.message)
    try:
        yield
    finally:
        for cfg in configs:
            api.call("DELETE", f"{ADMISSION}/{HOOK_PLURALS[cfg['kind']]}/{cfg['metadata']['name']}")
