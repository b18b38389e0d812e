"""The served resource table: built-ins plus one entry per established CRD.

One `Registry` per server instance (no module-level state); discovery, routing and
OpenAPI read it; the CRD handler adds and removes entries.
"""

from __future__ import annotations

import hashlib

from devstack.kubeapi.resources import BUILTINS, ResourceType


class Registry:
    """Resource types by (group, plural) and by (group, version, plural)."""

    def __init__(self) -> None:
        self._types: dict[tuple[str, str], ResourceType] = {rt.key: rt for rt in BUILTINS}
        self.generation = 0
        """Bumped on every change; discovery and OpenAPI hashes derive from it."""

    def add(self, rt: ResourceType) -> None:
        """Serve a resource (a CRD was created or updated)."""
        self._types[rt.key] = rt
        self.generation += 1

    def remove(self, key: tuple[str, str]) -> None:
        """Stop serving a resource (its CRD was deleted)."""
        if self._types.pop(key, None) is not None:
            self.generation += 1

    def by_key(self, key: tuple[str, str]) -> ResourceType | None:
        """The type stored under (group, plural)."""
        return self._types.get(key)

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        """The type served at /<group>/<version>/<plural>, if any."""
        rt = self._types.get((group, plural))
        if rt is None or version not in rt.versions:
            return None
        return rt

    def by_kind(self, group: str, kind: str) -> ResourceType | None:
        """The type of a (group, kind), for ownerReferences and admission."""
        for rt in self._types.values():
            if rt.group == group and rt.kind == kind:
                return rt
        return None

    def all(self) -> list[ResourceType]:
        """Every served type."""
        return list(self._types.values())

    def group_versions(self) -> dict[str, list[str]]:
        """Group -> served versions (preferred first); the core group is ``""``."""
        out: dict[str, list[str]] = {}
        for rt in self._types.values():
            versions = out.setdefault(rt.group, [])
            for v in (rt.preferred_version, *rt.versions):
                if v not in versions:
                    versions.append(v)
        return out

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        """Types served in one group/version."""
        return [rt for rt in self._types.values() if rt.group == group and version in rt.versions]

    def hash(self, group: str, version: str) -> str:
        """A content hash of one group/version (OpenAPI v3 cache key)."""
        names = sorted(
            f"{rt.kind}/{rt.plural}/{rt.namespaced}" for rt in self.in_group_version(group, version)
        )
        return hashlib.sha256("|".join(names).encode()).hexdigest()[:32].upper()
