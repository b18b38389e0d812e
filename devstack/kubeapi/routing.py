"""Parse a REST path into (resource type, version, namespace, name, subresource)."""

from __future__ import annotations

from dataclasses import dataclass

from devstack.kubeapi.errors import ApiError
from devstack.kubeapi.registry import Registry
from devstack.kubeapi.resources import ResourceType


@dataclass(frozen=True, slots=True)
class Target:
    """What a resource request addresses."""

    rt: ResourceType
    version: str
    namespace: str | None
    """None for cluster-scoped resources and for lists across all namespaces."""
    name: str | None
    subresource: str = ""


def not_served() -> ApiError:
    """404 the apiserver answers for unknown paths."""
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def parse(registry: Registry, group: str, version: str, segments: list[str]) -> Target:
    """Resolve ``[namespaces/<ns>/]<plural>[/<name>[/<sub>]]`` under one group/version."""
    if segments and segments[0] == "watch":
        segments = segments[1:]
    namespace: str | None = None
    if len(segments) >= 3 and segments[0] == "namespaces":
        rt = registry.lookup(group, version, segments[2])
        if rt is not None and rt.namespaced:
            namespace, segments = segments[1], segments[2:]
    if not segments:
        raise not_served()
    rt = registry.lookup(group, version, segments[0])
    if rt is None or len(segments) > 3:
        raise not_served()
    name = segments[1] if len(segments) > 1 else None
    sub = segments[2] if len(segments) > 2 else ""
    if sub and not (sub == "status" and rt.status_subresource):
        raise not_served()
    if rt.namespaced and name is not None and namespace is None:
        raise not_served()
    return Target(rt, version, namespace, name, sub)
