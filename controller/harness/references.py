"""Pure index functions: which Secrets, ConfigMaps, WorkerPools and ModelConfigs a harness uses.

The controller watches those kinds and maps each event back to the harnesses through these
indexes (the reference watches none of them, spec §11.19).
"""

from __future__ import annotations

from typing import Any

from controller.runtime.sources import ref_value
from controller.substrate.references import namespace_of as _ns
from controller.substrate.references import pool_refs as pool_refs


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _sources(obj: dict[str, Any], kind: str) -> list[str]:
    """Names of ``kind`` (Secret/ConfigMap) referenced by channel value sources."""
    names: list[str] = []
    for ch in _spec(obj).get("channels") or []:
        for block in (ch.get("telegram") or {}, ch.get("slack") or {}):
            for key in ("botToken", "appToken"):
                source = (block.get(key) or {}).get("valueFrom") or {}
                if source.get("type") == kind and source.get("name"):
                    names.append(str(source["name"]))
            allow = block.get("allowedUserIDsFrom") or {}
            if allow.get("type") == kind and allow.get("name"):
                names.append(str(allow["name"]))
    return names


def secret_refs(obj: dict[str, Any]) -> list[str]:
    """``ns/name`` of every Secret the harness reads or references."""
    spec = _spec(obj)
    names = _sources(obj, "Secret")
    gw = ((spec.get("substrate") or {}).get("gatewayTokenSecretRef") or {}).get("name")
    if gw:
        names.append(str(gw))
    for env in spec.get("env") or []:
        ref = ((env.get("valueFrom") or {}).get("secretKeyRef") or {}).get("name")
        if ref:
            names.append(str(ref))
    return sorted({ref_value(_ns(obj), n) for n in names})


def configmap_refs(obj: dict[str, Any]) -> list[str]:
    """``ns/name`` of ConfigMaps read for allowedUserIDsFrom."""
    return sorted({ref_value(_ns(obj), n) for n in _sources(obj, "ConfigMap")})


def modelconfig_refs(obj: dict[str, Any]) -> list[str]:
    """``ns/name`` of the ModelConfig."""
    ref = str(_spec(obj).get("modelConfigRef") or "").strip()
    if not ref:
        return []
    ns, _, name = ref.rpartition("/")
    return [ref_value(ns or _ns(obj), name)]
