"""ActorTemplate and WorkerPool helpers both kinds use: the template skeleton, which WorkerPool,
whether a live template is ours, and the semantic compare/merge for updates. Pure except
`read_pool` and `owned_template` (one GET each)."""

from __future__ import annotations

from typing import Any

from controller.runtime.cache import Reader
from controller.substrate.defaults import SubstrateDefaults
from controller.substrate.objects import owner_reference
from controller.substrate.outcome import SpecError
from controller.substrate.references import read_reference
from shared.kube import errors as kerr
from shared.kube.client import KubeClient
from shared.kube.resources import ACTOR_TEMPLATE, WORKER_POOL
from shared.naming import MANAGED_BY_LABEL, default_snapshots_location

POOL_FIELD = "spec.substrate.workerPoolRef"


class TemplateError(SpecError):
    """The object cannot be turned into a template; the message becomes the condition text."""


def require_digest(image: str) -> str:
    """``image`` when it is pinned with a digest (Substrate snapshots a fixed image)."""
    if "@" not in image:
        raise TemplateError(f'workload image "{image}" must be pinned with a digest (@sha256:...)')
    return image


def resolve_pool(
    namespace: str, substrate: dict[str, Any], defaults: SubstrateDefaults
) -> tuple[str, str]:
    """(namespace, name) of the WorkerPool: the object's own (in its namespace) or the default."""
    ref = substrate.get("workerPoolRef") or {}
    name = str(ref.get("name") or "").strip()
    if name:
        return namespace, name
    if not defaults.worker_pool_name.strip():
        raise TemplateError(
            "substrate workerPoolRef is required when no default WorkerPool is configured"
        )
    return defaults.worker_pool_namespace.strip() or namespace, defaults.worker_pool_name.strip()


async def read_pool(
    reader: Reader,
    namespace: str,
    substrate: dict[str, Any],
    defaults: SubstrateDefaults,
    *,
    prefix: str = "",
) -> tuple[str, str]:
    """`resolve_pool`, checked to exist (`MissingReference` when not); ``prefix`` starts the
    condition message."""
    pool = resolve_pool(namespace, substrate, defaults)
    missing = f"get WorkerPool {pool[0]}/{pool[1]}: not found"
    await read_reference(
        reader,
        WORKER_POOL,
        pool[0],
        pool[1],
        field=f"{POOL_FIELD} (or the controller's default WorkerPool)",
        missing=f"{prefix}: {missing}" if prefix else missing,
    )
    return pool


def snapshots_location(namespace: str, name: str, substrate: dict[str, Any]) -> str:
    """The pinned snapshots location, or the default one."""
    location = str((substrate.get("snapshotsConfig") or {}).get("location") or "").strip()
    return location or default_snapshots_location(namespace, name)


def actor_template(
    owner: dict[str, Any],
    *,
    owner_kind: str,
    name: str,
    labels: dict[str, str],
    container: dict[str, Any],
    pool: tuple[str, str],
    defaults: SubstrateDefaults,
) -> dict[str, Any]:
    """An ActorTemplate owned by ``owner`` with one container (spec §4.1; nothing else in it)."""
    meta = owner["metadata"]
    namespace = meta["namespace"]
    substrate = (owner.get("spec") or {}).get("substrate") or {}
    return {
        "apiVersion": "ate.dev/v1alpha1",
        "kind": "ActorTemplate",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {MANAGED_BY_LABEL: "kagent", **labels},
            "ownerReferences": [owner_reference(owner, owner_kind)],
        },
        "spec": {
            "pauseImage": defaults.pause_image,
            "runsc": {
                "amd64": {
                    "url": defaults.runsc_amd64_url,
                    "sha256Hash": defaults.runsc_amd64_sha256,
                },
                "arm64": {
                    "url": defaults.runsc_arm64_url,
                    "sha256Hash": defaults.runsc_arm64_sha256,
                },
            },
            "containers": [container],
            "workerPoolRef": {"name": pool[1], "namespace": pool[0]},
            "snapshotsConfig": {"location": snapshots_location(namespace, meta["name"], substrate)},
        },
    }


def controller_uid(obj: dict[str, Any]) -> str | None:
    """The uid of the object's controller owner, if any."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


async def owned_template(
    kube: KubeClient, namespace: str, name: str, uid: str
) -> tuple[dict[str, Any] | None, bool]:
    """The live ActorTemplate ``namespace/name`` if the object ``uid`` controls it, and whether
    another object controls it: (template, False) ours; (None, True) someone else's; (None,
    False) absent or not provably ours (never delete it)."""
    try:
        template = await kube.get(ACTOR_TEMPLATE, name, namespace)
    except kerr.NotFound:
        return None, False
    owner = controller_uid(template)
    if owner is None:
        return None, False
    if owner != uid:
        return None, True
    return template, False


def needs_update(existing: dict[str, Any], desired: dict[str, Any]) -> bool:
    """Whether the live template differs semantically (spec, our labels, our owner)."""
    meta = existing.get("metadata") or {}
    labels = meta.get("labels") or {}
    wanted_labels = desired["metadata"]["labels"]
    if any(labels.get(k) != v for k, v in wanted_labels.items()):
        return True
    if controller_uid(existing) != controller_uid(desired):
        return True
    return bool(existing.get("spec") != desired["spec"])


def merged_template(existing: dict[str, Any], desired: dict[str, Any]) -> dict[str, Any]:
    """The object to PUT: existing metadata (resourceVersion, other labels) + ours, our spec."""
    meta = dict(existing.get("metadata") or {})
    meta["labels"] = {**(meta.get("labels") or {}), **desired["metadata"]["labels"]}
    others = [r for r in meta.get("ownerReferences") or [] if not r.get("controller")]
    meta["ownerReferences"] = [*desired["metadata"]["ownerReferences"], *others]
    return {**existing, "metadata": meta, "spec": desired["spec"]}
