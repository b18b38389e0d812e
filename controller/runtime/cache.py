"""Reads through the watch caches (controller-runtime's cache-backed client reader).

The controller already watches the objects it reconciles and everything they reference, with a
full copy of each in a `Store`. `CachedReader.get` answers from the store of a synced,
unfiltered watcher that covers the namespace (a deep copy, so a reconciler never edits the
cache), and from a live GET otherwise. An object absent from a covering store is `NotFound`:
its ADDED event will enqueue the reconcile again.

A cache may lag the server by an event or more under load. So it serves only objects the
controller reads and never writes (WorkerPools, referenced Secrets, ConfigMaps, ModelConfigs):
a lagging read there is corrected by the watch event that follows, which maps back to the
referencing object. The reconciled object itself, its ActorTemplate and its own Secrets are
read live: they are written and compared, and a stale copy would mean resourceVersion conflicts
and skipped status writes.
"""

from __future__ import annotations

import copy
from typing import Any, Protocol

from shared.api.keys import ObjectKey
from shared.kube import errors as kerr
from shared.kube.client import KubeClient
from shared.kube.resources import Resource
from shared.kube.watching import Watcher

Obj = dict[str, Any]


class Reader(Protocol):
    """The read half of `KubeClient`: GET one object or raise `NotFound`."""

    async def get(self, res: Resource, name: str, namespace: str | None = None) -> Obj: ...


class CachedReader:
    """GET from the watch caches where they cover the object, else from the API server."""

    def __init__(self, kube: KubeClient) -> None:
        self._kube = kube
        self._watchers: dict[str, list[Watcher]] = {}
        self.hits = 0
        self.misses = 0
        """Reads answered from a cache / by a live GET (for tests and debugging)."""

    def register(self, watcher: Watcher) -> None:
        """Serve reads of ``watcher``'s kind and namespace from its store once it has synced.

        Filtered watchers (label or field selector) hold a partial view and are ignored.
        """
        if watcher.label_selector or watcher.field_selector:
            return
        self._watchers.setdefault(_kind(watcher.resource), []).append(watcher)

    def covers(self, res: Resource, namespace: str | None) -> bool:
        """Whether a registered watch covers ``res`` in ``namespace`` (its changes raise events)."""
        return any(w.namespace in (None, namespace) for w in self._watchers.get(_kind(res), ()))

    async def get(self, res: Resource, name: str, namespace: str | None = None) -> Obj:
        """The object (a private copy), from a covering synced cache or a live GET."""
        for watcher in self._watchers.get(_kind(res), ()):
            if watcher.namespace not in (None, namespace) or not watcher.synced.is_set():
                continue
            obj = watcher.store.get(ObjectKey(namespace or "", name))
            self.hits += 1
            if obj is None:
                where = f"{namespace}/{name}" if namespace else name
                raise kerr.NotFound(f"{res.plural} {where} not found (watch cache)", status=404)
            return copy.deepcopy(obj)
        self.misses += 1
        return await self._kube.get(res, name, namespace)


def _kind(res: Resource) -> str:
    return f"{res.group}/{res.plural}"
