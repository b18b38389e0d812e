"""One informer per (resource, namespace, label selector) for the whole process
(controller-runtime's shared cache): one watch, one store, many handlers.

Each controller registers what it needs on the `InformerCache`: named indexers on a store
(`add_indexer`; the names are the controller's, so two controllers indexing the same kind use
different names) and `Source`s that map the informer's events into its own queue (`watch`). The
cache's `reader` answers GETs from the synced, unfiltered stores. The composition root adds
every informer to the manager (`runnables`) once all controllers are set up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from controller.runtime.cache import CachedReader
from controller.runtime.queue import WorkQueue
from controller.runtime.sources import Mapper, Predicate, Source
from shared.api.keys import ObjectKey
from shared.kube.client import KubeClient
from shared.kube.resources import Resource
from shared.kube.watching import IndexFunc, Store, Watcher, WatchEvent

log = logging.getLogger(__name__)

Handler = Callable[[WatchEvent], None]
Run = Callable[[], Coroutine[Any, Any, None]]
InformerKey = tuple[Resource, str | None, str | None]


class Informer:
    """One watcher and its store, fanning every event out to the registered handlers."""

    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher
        self.handlers: list[Handler] = []

    @property
    def store(self) -> Store:
        """The latest copy of every watched object."""
        return self.watcher.store

    @property
    def synced(self) -> asyncio.Event:
        """Set once the first list is in the store."""
        return self.watcher.synced

    @property
    def name(self) -> str:
        """``plural.group[/namespace][?selector]`` (runnable names, logs)."""
        w = self.watcher
        name = str(w.resource) + (f"/{w.namespace}" if w.namespace else "")
        return name + (f"?{w.label_selector}" if w.label_selector else "")

    async def run(self) -> None:
        """Watch forever; every event goes to every handler (a failing handler is logged)."""
        async for event in self.watcher.events():
            for handler in self.handlers:
                try:
                    handler(event)
                except Exception:
                    log.exception("event handler failed", extra={"kind": self.name})


class InformerCache:
    """The process's informers, created on first use; one `CachedReader` over them."""

    def __init__(self, kube: KubeClient, namespaces: Sequence[str] = ()) -> None:
        self.kube = kube
        self.namespaces: list[str | None] = list(namespaces) or [None]
        """Every informer watches each of these (None: all namespaces)."""
        self.reader = CachedReader(kube)
        self._informers: dict[InformerKey, Informer] = {}
        self._resyncs: list[tuple[str, Run]] = []

    def informers(self, res: Resource, *, label_selector: str | None = None) -> list[Informer]:
        """The informers of ``res`` (one per watched namespace), created on first use."""
        out = []
        for ns in self.namespaces:
            key = (res, ns, label_selector)
            informer = self._informers.get(key)
            if informer is None:
                watcher = Watcher(self.kube, res, namespace=ns, label_selector=label_selector)
                informer = self._informers[key] = Informer(watcher)
                self.reader.register(watcher)
            out.append(informer)
        return out

    def add_indexer(self, res: Resource, name: str, fn: IndexFunc) -> None:
        """Index every object of ``res`` (unfiltered informers) under ``name``."""
        for informer in self.informers(res):
            informer.store.add_indexer(name, fn)

    def index_keys(self, res: Resource, name: str, value: str) -> list[ObjectKey]:
        """Keys of ``res`` objects whose index ``name`` yields ``value``, across namespaces."""
        keys: list[ObjectKey] = []
        for informer in self.informers(res):
            keys += informer.store.index_keys(name, value)
        return sorted(set(keys))

    def enqueue_referencing(self, res: Resource, index: str) -> Mapper:
        """A mapper: an event on a referenced object -> the ``res`` objects whose ``index``
        names it (``namespace/name``)."""

        def mapper(event: WatchEvent) -> list[ObjectKey]:
            key = event.key
            return self.index_keys(res, index, f"{key.namespace}/{key.name}")

        return mapper

    def watch(
        self,
        res: Resource,
        queue: WorkQueue[ObjectKey],
        mappers: Sequence[Mapper],
        *,
        label_selector: str | None = None,
        predicates: Sequence[Predicate] = (),
        resync: float | None = None,
    ) -> None:
        """Map every event of ``res`` into ``queue`` (and re-enqueue every cached object each
        ``resync`` seconds when set)."""
        for informer in self.informers(res, label_selector=label_selector):
            source = Source(informer.watcher, queue, mappers, predicates=predicates, resync=resync)
            informer.handlers.append(source.handle)
            if resync:
                self._resyncs.append(
                    (f"resync-{informer.name}-{len(self._resyncs)}", source.resync_loop)
                )

    def runnables(self) -> list[tuple[str, Run, asyncio.Event | None]]:
        """(name, run, synced) of every informer and resync loop, for `Manager.add_cache`."""
        out: list[tuple[str, Run, asyncio.Event | None]] = [
            (f"informer-{i.name}", i.run, i.synced) for i in self._informers.values()
        ]
        out += [(name, run, None) for name, run in self._resyncs]
        return out

    def watches(self) -> list[str]:
        """The informers' names (one watch each), sorted."""
        return sorted(i.name for i in self._informers.values())
