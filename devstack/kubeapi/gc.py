"""Garbage collection: ownerReferences (background, foreground, orphan) and namespace teardown.

Runs as one background task woken after deletions, like kube-controller-manager's garbage
collector and namespace controller: dependents whose owners are all gone are deleted,
``foregroundDeletion``/``orphan`` finalizers are cleared once dependents are handled, and
a terminating namespace is emptied before it is removed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from devstack.kubeapi.deletion import (
    FOREGROUND,
    NAMESPACE_FINALIZER,
    ORPHAN,
    begin_delete,
    finish_if_done,
    without_finalizer,
)
from devstack.kubeapi.registry import Registry
from devstack.kubeapi.resources import NAMESPACE_KEY
from devstack.kubeapi.storage import RKey, Store

log = logging.getLogger(__name__)


class GarbageCollector:
    """Sweeps the store until nothing more can be collected, each time it is kicked."""

    def __init__(self, store: Store, registry: Registry) -> None:
        self._store = store
        self._registry = registry
        self._wake = asyncio.Event()

    def kick(self) -> None:
        """Ask for a sweep soon."""
        self._wake.set()

    async def run(self) -> None:
        """Sweep whenever kicked (until cancelled)."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            for _ in range(100):
                try:
                    progressed = self.sweep()
                except Exception:  # a bad object must not stop collection
                    log.exception("garbage collection sweep failed")
                    break
                if not progressed:
                    break
                await asyncio.sleep(0)

    def _all(self) -> list[tuple[RKey, dict[str, Any]]]:
        return [(rk, o) for rk in self._store.resources() for o in self._store.list(rk)]

    def sweep(self) -> bool:
        """One pass; True when anything changed."""
        objects = self._all()
        uids = {o["metadata"].get("uid"): o for _, o in objects}
        dependents: dict[str, list[tuple[RKey, dict[str, Any]]]] = {}
        for rk, o in objects:
            for ref in o["metadata"].get("ownerReferences") or []:
                dependents.setdefault(ref.get("uid", ""), []).append((rk, o))
        progressed = False
        for rk, o in objects:
            meta = o["metadata"]
            refs = meta.get("ownerReferences") or []
            if refs and not meta.get("deletionTimestamp"):
                owners = [uids.get(r.get("uid")) for r in refs]
                if all(ow is None for ow in owners):
                    begin_delete(self._store, rk, o, "Background", lambda: None)
                    progressed = True
                    continue
                for ow in owners:
                    if ow is None or not ow["metadata"].get("deletionTimestamp"):
                        continue
                    fins = ow["metadata"].get("finalizers") or []
                    if FOREGROUND in fins:
                        begin_delete(self._store, rk, o, "Foreground", lambda: None)
                        progressed = True
                        break
                    if ORPHAN in fins:
                        kept = [r for r in refs if r.get("uid") != ow["metadata"].get("uid")]
                        new = {**o, "metadata": {**meta, "ownerReferences": kept}}
                        if not kept:
                            del new["metadata"]["ownerReferences"]
                        self._store.put(rk, new)
                        progressed = True
                        break
        for rk, o in objects:
            meta = o["metadata"]
            if not meta.get("deletionTimestamp"):
                continue
            current = self._store.get(rk, (meta.get("namespace") or "", meta["name"]))
            if current is None or current["metadata"].get("uid") != meta.get("uid"):
                continue
            fins = current["metadata"].get("finalizers") or []
            waiting = [
                d
                for d in dependents.get(meta.get("uid", ""), [])
                if self._store.get(
                    d[0], (d[1]["metadata"].get("namespace") or "", d[1]["metadata"]["name"])
                )
            ]
            for name in (FOREGROUND, ORPHAN):
                if name in fins and not waiting:
                    current = self._store.put(rk, without_finalizer(current, name))
                    progressed = True
            if rk == NAMESPACE_KEY:
                progressed |= self._empty_namespace(meta["name"])
                if not self._has_content(meta["name"]) and (current.get("spec") or {}).get(
                    "finalizers"
                ):
                    spec = dict(current["spec"])
                    spec["finalizers"] = [f for f in spec["finalizers"] if f != NAMESPACE_FINALIZER]
                    current = self._store.put(rk, {**current, "spec": spec})
                    progressed = True
            progressed |= finish_if_done(self._store, rk, current)
        return progressed

    def _has_content(self, namespace: str) -> bool:
        return any(
            self._store.list(rk, namespace) for rk in self._store.resources() if rk != NAMESPACE_KEY
        )

    def _empty_namespace(self, namespace: str) -> bool:
        progressed = False
        for rk in self._store.resources():
            rt = self._registry.by_key(rk)
            if rk == NAMESPACE_KEY or (rt is not None and not rt.namespaced):
                continue
            for o in self._store.list(rk, namespace):
                if not o["metadata"].get("deletionTimestamp"):
                    begin_delete(self._store, rk, o, "Background", lambda: None)
                    progressed = True
        return progressed
