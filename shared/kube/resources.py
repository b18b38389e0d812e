"""Resource identities (group, version, plural, scope) and the ones the product uses.

A `Resource` is all the dynamic client needs to build a URL; no discovery round trip.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Resource:
    """One REST resource: ``group`` is ``""`` for the core group."""

    group: str
    version: str
    plural: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        """``group/version`` (or ``v1`` for the core group)."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None, sub: str = "") -> str:
        """The REST path of the collection, one object, or one subresource."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name is not None:
            base += f"/{name}"
            if sub:
                base += f"/{sub}"
        return base

    def __str__(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


AGENT_HARNESS = Resource("kagent.dev", "v1alpha2", "agentharnesses")
SANDBOX_AGENT = Resource("kagent.dev", "v1alpha2", "sandboxagents")
MODEL_CONFIG = Resource("kagent.dev", "v1alpha2", "modelconfigs")
ACTOR_TEMPLATE = Resource("ate.dev", "v1alpha1", "actortemplates")
WORKER_POOL = Resource("ate.dev", "v1alpha1", "workerpools")
SECRET = Resource("", "v1", "secrets")
CONFIG_MAP = Resource("", "v1", "configmaps")
NAMESPACE = Resource("", "v1", "namespaces", namespaced=False)
EVENT = Resource("events.k8s.io", "v1", "events")
LEASE = Resource("coordination.k8s.io", "v1", "leases")
CRD = Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", namespaced=False)
TOKEN_REVIEW = Resource("authentication.k8s.io", "v1", "tokenreviews", namespaced=False)
SUBJECT_ACCESS_REVIEW = Resource(
    "authorization.k8s.io", "v1", "subjectaccessreviews", namespaced=False
)
