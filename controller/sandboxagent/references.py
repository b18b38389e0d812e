"""Pure index functions: which Secrets, ConfigMaps, WorkerPools and ModelConfigs an agent uses.

The controller watches those kinds and maps each event back to the agents through these
indexes (the reference watches neither WorkerPools nor Secrets, sandboxagent §9 #18).
"""

from __future__ import annotations

from typing import Any

from controller.runtime.sources import ref_value
from controller.sandboxagent.config import DEFAULT_MODEL_CONFIG
from controller.substrate.references import namespace_of as _ns
from controller.substrate.references import pool_refs as pool_refs


def _declarative(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    decl = (spec or {}).get("declarative")
    return decl if isinstance(decl, dict) else {}


def secret_refs(obj: dict[str, Any]) -> list[str]:
    """``ns/name`` of Secrets read (systemMessageFrom) or referenced by env."""
    decl = _declarative(obj)
    names: list[str] = []
    source = decl.get("systemMessageFrom") or {}
    if source.get("type") == "Secret" and source.get("name"):
        names.append(str(source["name"]))
    for env in (decl.get("deployment") or {}).get("env") or []:
        ref = ((env.get("valueFrom") or {}).get("secretKeyRef") or {}).get("name")
        if ref:
            names.append(str(ref))
    return sorted({ref_value(_ns(obj), n) for n in names})


def configmap_refs(obj: dict[str, Any]) -> list[str]:
    """``ns/name`` of the ConfigMap of systemMessageFrom."""
    source = _declarative(obj).get("systemMessageFrom") or {}
    if source.get("type") == "ConfigMap" and source.get("name"):
        return [ref_value(_ns(obj), str(source["name"]))]
    return []


def modelconfig_refs(obj: dict[str, Any]) -> list[str]:
    """``ns/name`` of the ModelConfig (the default one when unset)."""
    ref = str(_declarative(obj).get("modelConfig") or "").strip() or DEFAULT_MODEL_CONFIG
    ns, _, name = ref.rpartition("/")
    return [ref_value(ns or _ns(obj), name)]
