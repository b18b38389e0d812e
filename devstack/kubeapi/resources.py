"""Resource types the stand-in serves: the built-in set and the ones every CRD adds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
CREATE_ONLY = ("create",)


@dataclass(frozen=True, slots=True)
class ResourceType:
    """One served resource (group, versions, names, scope, verbs)."""

    group: str
    versions: tuple[str, ...]
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    status_subresource: bool = False
    custom: bool = False
    """True for resources added by a CustomResourceDefinition."""
    storage_version: str = ""
    printer_columns: dict[str, tuple[dict[str, Any], ...]] = field(default_factory=dict)
    """CRD additionalPrinterColumns per version."""
    stored_in: tuple[str, str] | None = None
    """(group, plural) of another resource whose storage this one shares (events.k8s.io)."""

    @property
    def key(self) -> tuple[str, str]:
        """(group, plural): the storage identity of the resource."""
        return (self.group, self.plural)

    @property
    def store_key(self) -> tuple[str, str]:
        """(group, plural) the objects are stored under (`key` unless storage is shared)."""
        return self.stored_in or self.key

    @property
    def list_kind(self) -> str:
        """``<Kind>List``."""
        return f"{self.kind}List"

    def api_version(self, version: str) -> str:
        """``v1`` or ``<group>/<version>``."""
        return f"{self.group}/{version}" if self.group else version

    @property
    def preferred_version(self) -> str:
        """The storage version, else the first served one."""
        return self.storage_version or self.versions[0]


def _b(
    group: str,
    version: str,
    kind: str,
    plural: str,
    *,
    namespaced: bool = True,
    short: tuple[str, ...] = (),
    verbs: tuple[str, ...] = ALL_VERBS,
    status: bool = False,
    categories: tuple[str, ...] = (),
    stored_in: tuple[str, str] | None = None,
) -> ResourceType:
    return ResourceType(
        group=group,
        versions=(version,),
        kind=kind,
        plural=plural,
        singular=kind.lower(),
        namespaced=namespaced,
        short_names=short,
        verbs=verbs,
        status_subresource=status,
        categories=categories,
        storage_version=version,
        stored_in=stored_in,
    )


BUILTINS: tuple[ResourceType, ...] = (
    _b("", "v1", "Namespace", "namespaces", namespaced=False, short=("ns",), status=True),
    _b("", "v1", "Secret", "secrets", categories=("all",)),
    _b("", "v1", "ConfigMap", "configmaps", short=("cm",)),
    _b("", "v1", "ServiceAccount", "serviceaccounts", short=("sa",)),
    _b("", "v1", "Event", "events", short=("ev",)),
    _b("events.k8s.io", "v1", "Event", "events", short=("ev",), stored_in=("", "events")),
    _b("coordination.k8s.io", "v1", "Lease", "leases"),
    _b(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        namespaced=False,
        short=("crd", "crds"),
        status=True,
        categories=("api-extensions",),
    ),
    _b(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        namespaced=False,
        categories=("api-extensions",),
    ),
    _b(
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        namespaced=False,
        categories=("api-extensions",),
    ),
    _b(
        "authentication.k8s.io",
        "v1",
        "TokenReview",
        "tokenreviews",
        namespaced=False,
        verbs=CREATE_ONLY,
    ),
    _b(
        "authorization.k8s.io",
        "v1",
        "SubjectAccessReview",
        "subjectaccessreviews",
        namespaced=False,
        verbs=CREATE_ONLY,
    ),
)

CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")
NAMESPACE_KEY = ("", "namespaces")
MUTATING_KEY = ("admissionregistration.k8s.io", "mutatingwebhookconfigurations")
VALIDATING_KEY = ("admissionregistration.k8s.io", "validatingwebhookconfigurations")
REVIEW_KEYS = {
    ("authentication.k8s.io", "tokenreviews"),
    ("authorization.k8s.io", "subjectaccessreviews"),
}
