"""The desired ActorTemplate of an AgentHarness (spec/agentharness.md §4), pure and byte-stable.

Same harness + same resolved inputs -> the same dict, so an unchanged harness never causes a
template update (and never a needless golden snapshot). `needs_update` compares semantically.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from controller.objects import owner_reference
from shared.naming import (
    HARNESS_LABEL,
    HARNESS_PREFIX,
    MANAGED_BY_LABEL,
    default_snapshots_location,
    harness_template_name,
    label_value,
)

DEFAULT_WORKLOAD_IMAGE: Final = (
    "ghcr.io/kagent-dev/nemoclaw/sandbox-base@sha256:"
    "d52bee415dc4c0dba7164f9eabe727574c056d4f211781f20af249707883a3b4"
)
CONTAINER_NAME: Final = "openclaw"


class TemplateError(ValueError):
    """The harness cannot be turned into a template; the message becomes the condition text."""


@dataclass(frozen=True, slots=True)
class SubstrateDefaults:
    """Cluster-wide settings for generated templates (controller flags)."""

    pause_image: str = "gcr.io/gke-release/pause@sha256:bcbd57ba5653580ec647b16d8163cdd1112df3609129b01f912a8032e48265da"
    """Pause image of every actor pod (digest-pinned)."""
    runsc_amd64_url: str = "gs://gvisor/releases/nightly/2026-05-19/x86_64/runsc"
    """gVisor runsc binary for amd64 workers."""
    runsc_amd64_sha256: str = "a397be1abc2420d26bce6c70e6e2ff96c73aaaab929756c56f5e2089ea842b63"
    """SHA-256 of the amd64 runsc binary."""
    runsc_arm64_url: str = "gs://gvisor/releases/nightly/2026-05-19/aarch64/runsc"
    """gVisor runsc binary for arm64 workers."""
    runsc_arm64_sha256: str = "1ba2366ae2efceba166046f51a4104f9261c9cb72c6db8f5b3fe2dc57dea86b9"
    """SHA-256 of the arm64 runsc binary."""
    worker_pool_namespace: str = "kagent"
    """Namespace of the default WorkerPool."""
    worker_pool_name: str = ""
    """Name of the default WorkerPool; empty means every harness must name one."""


def choose_image(spec_image: str | None) -> str:
    """The workload image: the harness's (trimmed) or the pinned default; must carry a digest."""
    image = (spec_image or "").strip() or DEFAULT_WORKLOAD_IMAGE
    if "@" not in image:
        raise TemplateError(f'workload image "{image}" must be pinned with a digest (@sha256:...)')
    return image


def resolve_pool(
    namespace: str, substrate: dict[str, Any], defaults: SubstrateDefaults
) -> tuple[str, str]:
    """(namespace, name) of the WorkerPool: the harness's own (in its namespace) or the default."""
    ref = substrate.get("workerPoolRef") or {}
    name = str(ref.get("name") or "").strip()
    if name:
        return namespace, name
    if not defaults.worker_pool_name.strip():
        raise TemplateError(
            "substrate workerPoolRef is required when no default WorkerPool is configured"
        )
    return defaults.worker_pool_namespace.strip() or namespace, defaults.worker_pool_name.strip()


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


def desired_template(
    harness: dict[str, Any],
    *,
    pool: tuple[str, str],
    image: str,
    script: str,
    env: list[dict[str, Any]],
    defaults: SubstrateDefaults,
) -> dict[str, Any]:
    """The ActorTemplate of a harness: one ``openclaw`` container running the startup script."""
    meta = harness["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    return actor_template(
        harness,
        owner_kind="AgentHarness",
        name=harness_template_name(namespace, name),
        labels={HARNESS_LABEL: label_value(name, HARNESS_PREFIX, namespace)},
        container={
            "name": CONTAINER_NAME,
            "image": image,
            "command": ["/bin/sh", "-c", script],
            "env": env,
        },
        pool=pool,
        defaults=defaults,
    )


def controller_uid(obj: dict[str, Any]) -> str | None:
    """The uid of the object's controller owner, if any."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


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
