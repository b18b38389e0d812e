"""CustomResourceDefinitions: turning a stored CRD into a served resource, and back.

A store listener keeps the registry in step with CRD objects (also after a snapshot
restore); deleting a CRD deletes its custom resources, as the apiserver does.
"""

from __future__ import annotations

import logging
from typing import Any

from devstack.kubeapi.crdschema import CRDSchema
from devstack.kubeapi.errors import ApiError
from devstack.kubeapi.registry import Registry
from devstack.kubeapi.resources import CRD_KEY
from devstack.kubeapi.storage import Change, RKey, Store

log = logging.getLogger(__name__)


def _key(crd: dict[str, Any]) -> RKey:
    spec = crd.get("spec") or {}
    return (spec.get("group", ""), (spec.get("names") or {}).get("plural", ""))


class CrdManager:
    """Owns the per-CRD admission schemas and the registry entries of custom resources."""

    def __init__(self, store: Store, registry: Registry) -> None:
        self._store = store
        self._registry = registry
        self.schemas: dict[RKey, CRDSchema] = {}
        store.listeners.append(self._on_change)

    def prepare(self, crd: dict[str, Any]) -> dict[str, Any]:
        """Check a CRD before it is stored and fill in its status (Established)."""
        name = (crd.get("metadata") or {}).get("name", "")
        schema = CRDSchema(crd)
        rt = schema.resource_type()
        if name != f"{rt.plural}.{rt.group}":
            raise ApiError(
                422,
                "Invalid",
                f'CustomResourceDefinition.apiextensions.k8s.io "{name}" is invalid: metadata.name: '
                f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group',
                details={
                    "name": name,
                    "group": "apiextensions.k8s.io",
                    "kind": "CustomResourceDefinition",
                    "causes": [
                        {
                            "reason": "FieldValueInvalid",
                            "field": "metadata.name",
                            "message": f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group',
                        }
                    ],
                },
            )
        names = (crd.get("spec") or {}).get("names") or {}
        accepted = {
            **names,
            "singular": rt.singular,
            "listKind": names.get("listKind") or rt.list_kind,
        }
        status = dict(crd.get("status") or {})
        status["acceptedNames"] = accepted
        status["storedVersions"] = sorted(
            {*(status.get("storedVersions") or []), rt.storage_version}
        )
        status["conditions"] = [
            {
                "type": "NamesAccepted",
                "status": "True",
                "reason": "NoConflicts",
                "message": "no conflicts found",
                "lastTransitionTime": crd["metadata"].get("creationTimestamp"),
            },
            {
                "type": "Established",
                "status": "True",
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
                "lastTransitionTime": crd["metadata"].get("creationTimestamp"),
            },
        ]
        crd["status"] = status
        return crd

    def _on_change(self, change: Change) -> None:
        if change.rkey != CRD_KEY:
            return
        if change.type == "DELETED":
            key = _key(change.obj)
            self.schemas.pop(key, None)
            self._registry.remove(key)
            self._store.drop_resource(key)
            return
        self.serve(change.obj)

    def serve(self, crd: dict[str, Any]) -> None:
        """Start (or keep) serving the resource of a stored CRD."""
        try:
            schema = CRDSchema(crd)
        except ApiError as exc:
            log.warning("CRD %s not served: %s", crd["metadata"].get("name"), exc.message)
            return
        rt = schema.resource_type()
        self.schemas[rt.key] = schema
        self._registry.add(rt)

    def load_all(self) -> None:
        """Serve every CRD in the store (after a snapshot restore)."""
        for crd in self._store.list(CRD_KEY):
            self.serve(crd)
