"""Just enough OpenAPI v3 for kubectl: one PATCH operation per kind declaring
``fieldValidation`` and ``dryRun``, so kubectl's query-parameter verifier lets the server
validate (kubectl apply/create default to ``--validate=strict``).

Schemas are not served: kubectl then computes client-side-apply patches from its built-in
types (strategic merge) or as JSON merge patches (custom resources), as for CRDs without
published schemas. /openapi/v2 answers 404, which kubectl tolerates.
"""

from __future__ import annotations

from typing import Any

from devstack.kubeapi.registry import Registry

_QUERY = ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")


def root(registry: Registry) -> dict[str, Any]:
    """/openapi/v3: one entry per group/version with a content hash."""
    paths = {}
    for group, versions in registry.group_versions().items():
        for version in versions:
            prefix = f"apis/{group}/{version}" if group else f"api/{version}"
            paths[prefix] = {
                "serverRelativeURL": f"/openapi/v3/{prefix}?hash={registry.hash(group, version)}"
            }
    return {"paths": paths}


def group_version(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    """/openapi/v3/api/v1 or /openapi/v3/apis/<group>/<version>."""
    types = registry.in_group_version(group, version)
    if not types:
        return None
    base = f"/apis/{group}/{version}" if group else f"/api/{version}"
    paths: dict[str, Any] = {}
    for rt in types:
        gvk = {"group": rt.group, "version": version, "kind": rt.kind}
        scope = f"/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"/{rt.plural}"
        op = {
            "operationId": f"patch{rt.kind}",
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": gvk,
            "parameters": [
                {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
                for name in _QUERY
            ],
            "requestBody": {
                "content": {
                    "application/json-patch+json": {"schema": {"type": "object"}},
                    "application/merge-patch+json": {"schema": {"type": "object"}},
                },
                "required": True,
            },
            "responses": {"200": {"description": "OK"}},
        }
        if "patch" in rt.verbs:
            paths[f"{base}{scope}/{{name}}"] = {"patch": op}
        else:
            paths[f"{base}/{rt.plural}"] = {
                "post": {
                    "operationId": f"create{rt.kind}",
                    "x-kubernetes-action": "post",
                    "x-kubernetes-group-version-kind": gvk,
                    "responses": {"201": {"description": "Created"}},
                }
            }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.36.0-kagent-devstack"},
        "paths": paths,
        "components": {"schemas": {}},
    }
