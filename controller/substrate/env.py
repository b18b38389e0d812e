"""Container env entries of an ActorTemplate: literal values and Secret references only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def sanitize_env(entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep literal values (even empty) and secretKeyRefs; first kept entry per name wins."""
    kept: list[dict[str, Any]] = []
    seen: set[str] = set()
    for entry in entries:
        name = entry.get("name") or ""
        if not name or name in seen:
            continue
        ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
        if "value" in entry and not ref:
            out: dict[str, Any] = {"name": name, "value": str(entry.get("value") or "")}
        elif isinstance(ref, dict) and ref.get("name") and ref.get("key"):
            secret_ref = {"name": ref["name"], "key": ref["key"]}
            if "optional" in ref:
                secret_ref["optional"] = bool(ref["optional"])
            out = {"name": name, "valueFrom": {"secretKeyRef": secret_ref}}
        else:
            continue
        kept.append(out)
        seen.add(name)
    return kept


def secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    """``{name, valueFrom: {secretKeyRef: {name, key}}}``."""
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
