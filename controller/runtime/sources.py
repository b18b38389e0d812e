"""Watches -> predicates -> mappers -> queue (controller-runtime ``source`` + ``handler``).

A `Source` consumes one `Watcher`'s events. Predicates drop events that cannot matter (a
status-only update of our own object); pure mappers turn each remaining event into keys of
the objects to reconcile: the object itself (`enqueue_self`), its owner (`enqueue_owner`),
or the objects that reference it, looked up in a secondary index of another watcher's store
(`enqueue_referencing`). The queue de-duplicates. ``resync`` re-enqueues every cached
object periodically (level-based safety net), bypassing predicates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from controller.runtime.clock import Clock, LoopClock
from controller.runtime.queue import WorkQueue
from shared.api.keys import ObjectKey
from shared.kube.watching import Store, Watcher, WatchEvent

log = logging.getLogger(__name__)

Mapper = Callable[[WatchEvent], list[ObjectKey]]
Predicate = Callable[[WatchEvent], bool]
Obj = dict[str, Any]


def enqueue_self(event: WatchEvent) -> list[ObjectKey]:
    """The object's own key."""
    return [event.key]


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def enqueue_owner(group: str, kind: str, *, controller_only: bool = True) -> Mapper:
    """Keys of the owners of kind ``kind`` in ``group`` (same namespace), by ownerReferences."""

    def mapper(event: WatchEvent) -> list[ObjectKey]:
        meta = event.object.get("metadata") or {}
        ns = str(meta.get("namespace") or "")
        keys = []
        for ref in meta.get("ownerReferences") or []:
            if ref.get("kind") != kind or _group(str(ref.get("apiVersion") or "")) != group:
                continue
            if controller_only and not ref.get("controller"):
                continue
            keys.append(ObjectKey(ns, str(ref.get("name") or "")))
        return keys

    return mapper


def ref_value(namespace: str, name: str) -> str:
    """The index value of a reference: ``namespace/name`` (use it in index functions)."""
    return f"{namespace}/{name}"


def enqueue_referencing(store: Store, index: str) -> Mapper:
    """Keys of the objects in ``store`` whose ``index`` holds this object's ``namespace/name``.

    Example: a Secret event maps to every AgentHarness whose "secrets" index names it. Because
    the index lives in the harness watcher's store, it follows harness edits by itself.
    """

    def mapper(event: WatchEvent) -> list[ObjectKey]:
        key = event.key
        return store.index_keys(index, ref_value(key.namespace, key.name))

    return mapper


_SPEC_META = ("labels", "annotations", "deletionTimestamp", "finalizers")


def ignore_status_only(event: WatchEvent) -> bool:
    """Keep an event unless it is an update that changed only status (or other noise).

    An update matters when ``metadata.generation`` (spec), labels, annotations,
    deletionTimestamp or finalizers changed; adds, deletes and unknown-old updates always do.
    """
    if event.type != "MODIFIED" or event.old is None:
        return True
    new = event.object.get("metadata") or {}
    old = event.old.get("metadata") or {}
    if new.get("generation") != old.get("generation"):
        return True
    return any(new.get(f) != old.get(f) for f in _SPEC_META)


class Source:
    """Feeds one queue from one watcher through predicates and mappers."""

    def __init__(
        self,
        watcher: Watcher,
        queue: WorkQueue[ObjectKey],
        mappers: Sequence[Mapper] = (enqueue_self,),
        *,
        predicates: Sequence[Predicate] = (),
        resync: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.watcher = watcher
        self.queue = queue
        self.mappers = tuple(mappers)
        self.predicates = tuple(predicates)
        self.resync = resync
        """Seconds between re-enqueues of every cached object; None: never."""
        self.clock = clock or LoopClock()

    @property
    def synced(self) -> asyncio.Event:
        """Set once the watcher's first list is in its store."""
        return self.watcher.synced

    def keys_for(self, event: WatchEvent) -> list[ObjectKey]:
        """The keys an event enqueues (empty when a predicate drops it)."""
        if not all(p(event) for p in self.predicates):
            return []
        return _unique(k for m in self.mappers for k in m(event))

    def handle(self, event: WatchEvent) -> None:
        """Enqueue the keys ``event`` maps to (an informer's handler)."""
        for key in self.keys_for(event):
            self.queue.add(key)

    async def run(self) -> None:
        """Consume the watcher's events forever (cancel to stop): a Source that owns its
        watcher. Under an `InformerCache` the informer runs the watch and calls `handle`."""
        resync = asyncio.create_task(self.resync_loop()) if self.resync else None
        try:
            async for event in self.watcher.events():
                self.handle(event)
        finally:
            if resync is not None:
                resync.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await resync

    async def resync_loop(self) -> None:
        """Every ``resync`` seconds once synced, enqueue every cached object (forever)."""
        assert self.resync
        await self.watcher.synced.wait()
        while True:
            await self.clock.sleep(self.resync)
            count = 0
            for obj in self.watcher.store.objects():
                event = WatchEvent("MODIFIED", obj, obj, from_list=True)
                for key in _unique(k for m in self.mappers for k in m(event)):
                    self.queue.add(key)
                    count += 1
            log.debug("resync enqueued %d keys", count, extra={"kind": str(self.watcher.resource)})


def _unique(keys: Iterable[ObjectKey]) -> list[ObjectKey]:
    return list(dict.fromkeys(keys))
