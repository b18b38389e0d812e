"""The admission mutation of SPEC §4: pin snapshots location and worker pool on substrate objects.

Pinning at admission means a later change of cluster defaults never moves an existing
harness's snapshots or pool. Idempotent: a second pass yields no patch. Nothing else changes.
"""

from __future__ import annotations

from typing import Any

from shared.naming import default_snapshots_location, is_dns_label
from shared.policy.schema.objectmeta import DNS1123_SUBDOMAIN

_SUBSTRATE_SELECTOR = {
    "AgentHarness": ("runtime", "substrate"),
    "SandboxAgent": ("platform", "substrate"),
}


def worker_pool_problem(value: str) -> str | None:
    """What is wrong with a default worker pool (``[NAMESPACE/]NAME``), or None: a namespace
    is a DNS-1123 label, a name a DNS-1123 subdomain, at most one ``/``."""
    parts = value.split("/")
    if len(parts) > 2:
        return f"expected [NAMESPACE/]NAME (one '/' at most), got {value!r}"
    *namespace, name = parts
    if namespace and not is_dns_label(namespace[0]):
        return (
            f"the namespace {namespace[0]!r} is not a DNS-1123 label (lower-case letters, "
            "digits and '-', at most 63); expected [NAMESPACE/]NAME"
        )
    if len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        return (
            f"the name {name!r} is not a DNS-1123 subdomain (lower-case letters, digits, '-' "
            "and '.'); expected [NAMESPACE/]NAME"
        )
    return None


def mutation_patch(
    kind: str, obj: dict[str, Any], namespace: str, default_worker_pool: str | None
) -> list[dict[str, Any]]:
    """JSON-patch operations that pin ``spec.substrate`` defaults (empty when nothing to pin)."""
    selector = _SUBSTRATE_SELECTOR.get(kind)
    spec = obj.get("spec")
    if selector is None or not isinstance(spec, dict) or spec.get(selector[0]) != selector[1]:
        return []
    substrate = spec.get("substrate")
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if not isinstance(substrate, dict) or not isinstance(name, str) or not name:
        return []
    ops: list[dict[str, Any]] = []
    location = default_snapshots_location(namespace, name)
    # Only an absent block is pinned: an explicit block without location stays a schema error.
    if substrate.get("snapshotsConfig") is None:
        ops.append(
            {
                "op": "add",
                "path": "/spec/substrate/snapshotsConfig",
                "value": {"location": location},
            }
        )
    pool_ns, _, pool_name = (default_worker_pool or "").rpartition("/")
    # workerPoolRef names a pool in the object's own namespace; a default pool elsewhere cannot
    # be pinned (the controller's namespace-aware default then applies).
    if pool_name and pool_ns in ("", namespace) and substrate.get("workerPoolRef") is None:
        ops.append(
            {
                "op": "add",
                "path": "/spec/substrate/workerPoolRef",
                "value": {"name": pool_name},
            }
        )
    return ops


def apply_patch(obj: dict[str, Any], ops: list[dict[str, Any]]) -> None:
    """Apply our own ``add`` operations in place (the only op the mutation emits)."""
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        target = obj
        for part in parts[:-1]:
            target = target[part]
        target[parts[-1]] = op["value"]
