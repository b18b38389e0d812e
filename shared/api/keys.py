"""Object keys: the only thing a reconcile request carries (level-based, never the event)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, order=True)
class ObjectKey:
    """A namespaced name; ``namespace`` is ``""`` for cluster-scoped objects."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> ObjectKey:
        """The key of a Kubernetes object (reads ``metadata.namespace`` and ``metadata.name``)."""
        meta = obj.get("metadata") or {}
        return cls(str(meta.get("namespace") or ""), str(meta.get("name") or ""))

    @classmethod
    def parse(cls, text: str) -> ObjectKey:
        """``ns/name`` or ``name`` (cluster-scoped) back into a key."""
        ns, sep, name = text.partition("/")
        return cls(ns, name) if sep else cls("", ns)
