"""In-memory object store with one global resourceVersion and a bounded change history.

Stored objects are treated as immutable: every write stores a new dict, so readers, watch
events and snapshots can share references without copying. The history feeds watches that
resume from a resourceVersion; events older than the horizon answer 410 Gone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devstack.kubeapi.errors import gone

RKey = tuple[str, str]
"""(group, plural) of a resource type."""
OKey = tuple[str, str]
"""(namespace, name) of an object; namespace is "" for cluster-scoped objects."""


@dataclass(frozen=True, slots=True)
class Change:
    """One committed write, as a watch sees it."""

    rv: int
    type: str
    """ADDED, MODIFIED or DELETED."""
    rkey: RKey
    obj: dict[str, Any]
    old: dict[str, Any] | None


def okey(obj: dict[str, Any]) -> OKey:
    """(namespace, name) of an object."""
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


class Store:
    """Objects by resource and key, the resourceVersion counter and per-resource history."""

    def __init__(self, *, history_size: int = 20_000) -> None:
        self.rv = 0
        self._objects: dict[RKey, dict[OKey, dict[str, Any]]] = {}
        self._uids: dict[str, tuple[RKey, OKey]] = {}
        self._history: dict[RKey, deque[Change]] = {}
        self._horizon: dict[RKey, int] = {}
        self._history_size = history_size
        self.listeners: list[Callable[[Change], None]] = []
        self.dirty = False

    # reads
    def get(self, rkey: RKey, key: OKey) -> dict[str, Any] | None:
        """One object or None."""
        return self._objects.get(rkey, {}).get(key)

    def list(self, rkey: RKey, namespace: str | None = None) -> list[dict[str, Any]]:
        """Objects of a resource sorted by (namespace, name), optionally in one namespace."""
        items = self._objects.get(rkey, {})
        keys = sorted(items) if namespace is None else sorted(k for k in items if k[0] == namespace)
        return [items[k] for k in keys]

    def by_uid(self, uid: str) -> tuple[RKey, dict[str, Any]] | None:
        """The object with this uid (for garbage collection)."""
        found = self._uids.get(uid)
        if found is None:
            return None
        obj = self.get(*found)
        return None if obj is None else (found[0], obj)

    def resources(self) -> list[RKey]:
        """Resource keys that hold objects."""
        return [rk for rk, items in self._objects.items() if items]

    # writes
    def _commit(
        self, rkey: RKey, typ: str, obj: dict[str, Any], old: dict[str, Any] | None
    ) -> None:
        change = Change(self.rv, typ, rkey, obj, old)
        hist = self._history.setdefault(rkey, deque())
        hist.append(change)
        if len(hist) > self._history_size:
            self._horizon[rkey] = hist.popleft().rv
        self.dirty = True
        for listener in self.listeners:
            listener(change)

    def put(self, rkey: RKey, obj: dict[str, Any]) -> dict[str, Any]:
        """Store a new version of an object, stamping the next resourceVersion."""
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        key = okey(obj)
        items = self._objects.setdefault(rkey, {})
        old = items.get(key)
        items[key] = obj
        uid = obj["metadata"].get("uid")
        if uid:
            self._uids[uid] = (rkey, key)
        self._commit(rkey, "MODIFIED" if old is not None else "ADDED", obj, old)
        return obj

    def remove(self, rkey: RKey, key: OKey) -> dict[str, Any] | None:
        """Delete an object; the DELETED event carries a fresh resourceVersion."""
        items = self._objects.get(rkey, {})
        old = items.pop(key, None)
        if old is None:
            return None
        self.rv += 1
        self._uids.pop(old["metadata"].get("uid", ""), None)
        final = {**old, "metadata": {**old["metadata"], "resourceVersion": str(self.rv)}}
        self._commit(rkey, "DELETED", final, old)
        return final

    def drop_resource(self, rkey: RKey) -> list[dict[str, Any]]:
        """Remove every object of a resource (its CRD was deleted)."""
        return [r for k in list(self._objects.get(rkey, {})) if (r := self.remove(rkey, k))]

    # history
    def horizon(self, rkey: RKey) -> int:
        """The newest resourceVersion whose change was forgotten (0: none)."""
        return self._horizon.get(rkey, 0)

    def changes_since(self, rkey: RKey, rv: int) -> list[Change]:
        """Changes of a resource after ``rv``; 410 Gone when they were compacted away."""
        horizon = self._horizon.get(rkey, 0)
        if rv < horizon:
            raise gone(f"too old resource version: {rv} ({horizon + 1})")
        return [c for c in self._history.get(rkey, ()) if c.rv > rv]

    def compact(self) -> None:
        """Forget all history (fault injection: every older resourceVersion becomes 410)."""
        for rkey in set(self._history) | set(self._objects):
            self._history[rkey] = deque()
            self._horizon[rkey] = self.rv

    # snapshot
    def dump(self) -> dict[str, Any]:
        """A JSON-ready snapshot of every object and the counter."""
        return {
            "resourceVersion": self.rv,
            "resources": [
                {"group": g, "plural": p, "items": list(items.values())}
                for (g, p), items in self._objects.items()
                if items
            ],
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Load a snapshot; history starts empty, so older resourceVersions answer 410."""
        self.rv = int(data.get("resourceVersion", 0))
        for res in data.get("resources", []):
            rkey = (res["group"], res["plural"])
            items = self._objects.setdefault(rkey, {})
            for obj in res["items"]:
                items[okey(obj)] = obj
                uid = obj["metadata"].get("uid")
                if uid:
                    self._uids[uid] = (rkey, okey(obj))
        self.compact()
        self.dirty = False
