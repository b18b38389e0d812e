"""Deletion lifecycle: finalizers, deletionTimestamp, and final removal.

An object with finalizers is only marked (deletionTimestamp); it is removed by the write
that empties its finalizers. Propagation policies add the ``foregroundDeletion`` or
``orphan`` finalizer that the garbage collector later clears.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from devstack.kubeapi.storage import RKey, Store, okey

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"
NAMESPACE_FINALIZER = "kubernetes"


def now_rfc3339() -> str:
    """The current time as the apiserver writes timestamps (seconds, ``Z``)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pending(obj: dict[str, Any]) -> bool:
    if obj["metadata"].get("finalizers"):
        return True
    return bool((obj.get("spec") or {}).get("finalizers")) and obj.get("kind") == "Namespace"


def begin_delete(
    store: Store,
    rkey: RKey,
    obj: dict[str, Any],
    policy: str,
    on_removed: Callable[[], None],
) -> tuple[dict[str, Any], bool]:
    """Delete or mark an object; returns (the object after the write, removed?)."""
    meta = dict(obj["metadata"])
    finalizers = list(meta.get("finalizers") or [])
    if policy == "Foreground" and FOREGROUND not in finalizers:
        finalizers.append(FOREGROUND)
    if policy == "Orphan" and ORPHAN not in finalizers:
        finalizers.append(ORPHAN)
    candidate = {**obj, "metadata": {**meta, "finalizers": finalizers}}
    if not _pending(candidate):
        removed = store.remove(rkey, okey(obj))
        on_removed()
        return (removed or obj), True
    if meta.get("deletionTimestamp") and finalizers == list(meta.get("finalizers") or []):
        return obj, False
    meta["finalizers"] = finalizers
    meta.setdefault("deletionTimestamp", now_rfc3339())
    meta.setdefault("deletionGracePeriodSeconds", 0)
    new = {**obj, "metadata": meta}
    if new.get("kind") == "Namespace":
        new["status"] = {**(new.get("status") or {}), "phase": "Terminating"}
    on_removed()
    return store.put(rkey, new), False


def finish_if_done(store: Store, rkey: RKey, obj: dict[str, Any]) -> bool:
    """Remove a marked object whose finalizers are all gone; True when removed."""
    if obj["metadata"].get("deletionTimestamp") and not _pending(obj):
        store.remove(rkey, okey(obj))
        return True
    return False


def without_finalizer(obj: dict[str, Any], name: str) -> dict[str, Any]:
    """A copy of ``obj`` with one finalizer removed."""
    meta = dict(obj["metadata"])
    meta["finalizers"] = [f for f in meta.get("finalizers") or [] if f != name]
    if not meta["finalizers"]:
        del meta["finalizers"]
    return {**obj, "metadata": meta}
