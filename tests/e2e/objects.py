"""Objects the e2e tests apply on the local stack: the default WorkerPool and a minimal harness."""

from __future__ import annotations

from typing import Any

from devstack.stack import DEFAULT_POOL

POOL = {
    "apiVersion": "ate.dev/v1alpha1",
    "kind": "WorkerPool",
    "metadata": {"name": DEFAULT_POOL},
    "spec": {"replicas": 20, "ateomImage": "registry/ateom@sha256:" + "a" * 64},
}


def harness(name: str, **spec: Any) -> dict[str, Any]:
    """An openclaw AgentHarness on substrate with an inline gateway token, plus ``spec``."""
    body = {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "AgentHarness",
        "metadata": {"name": name},
        "spec": {
            "backend": "openclaw",
            "runtime": "substrate",
            "substrate": {"gatewayToken": f"tok-{name}"},
        },
    }
    body["spec"].update(spec)
    return body
